"""read_stamp / read_only_connection against real SQLite files, PostgreSQL and MariaDB databases."""

from __future__ import annotations

import socket
import time
import uuid
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa

from databases import MYSQL_SERVER, POSTGRES_SERVER, driver_url
from migration_archaeologist.database.stamp import (
    NoVersionTable,
    Stamp,
    StampUnreadable,
    read_only_connection,
    read_stamp,
)
from migration_archaeologist.database.urls import DatabaseUnreachable
from migration_archaeologist.errors import EXIT_ENVIRONMENT, EXIT_FINDINGS

#: what each server says when a read-only connection is asked to write
READ_ONLY_REFUSALS = {
    "postgresql": "read-only transaction",
    "mysql": "READ ONLY transaction",
    "sqlite": "readonly database",
}


def _execute(url: str, *statements: str, params: list[dict[str, str]] | None = None) -> None:
    """Set up test data with an ordinary, writable connection (never through the code under test)."""
    eng = sa.create_engine(driver_url(url))
    try:
        with eng.begin() as conn:
            for statement in statements:
                conn.execute(sa.text(statement), params or {})
    finally:
        eng.dispose()


def _version_table(url: str, name: str = "alembic_version", rows: tuple[str, ...] = (), schema: str | None = None) -> None:
    """A version table shaped like Alembic's, holding ``rows``."""
    table = sa.Table(name, sa.MetaData(), sa.Column("version_num", sa.String(32), primary_key=True), schema=schema)
    eng = sa.create_engine(driver_url(url))
    try:
        with eng.begin() as conn:
            table.create(conn)
            if rows:
                conn.execute(table.insert(), [{"version_num": row} for row in rows])
    finally:
        eng.dispose()


def _tables(url: str) -> set[str]:
    eng = sa.create_engine(driver_url(url))
    try:
        with eng.connect() as conn:
            return set(sa.inspect(conn).get_table_names())
    finally:
        eng.dispose()


def _assert_clean_unreachable(exc: DatabaseUnreachable, *secrets: str) -> None:
    assert exc.exit_code == EXIT_ENVIRONMENT
    assert "\n" not in exc.message and "\r" not in exc.message
    for secret in secrets:
        assert secret not in exc.message


# --- the stamp, on every backend ------------------------------------------------------------------


def test_one_row(database: tuple[str, str]) -> None:
    kind, url = database
    _version_table(url, rows=("ae1027a6acf",))
    stamp = read_stamp(url)
    assert stamp == Stamp(stamp.url, "alembic_version", None, ("ae1027a6acf",))
    assert stamp.url.split("://")[0] in {"sqlite", "postgresql+psycopg", "mysql+pymysql"}


def test_two_rows_are_two_heads(database: tuple[str, str]) -> None:
    _kind, url = database
    _version_table(url, rows=("1975ea83b712", "27c6a30d7c24"))
    assert sorted(read_stamp(url).revisions) == ["1975ea83b712", "27c6a30d7c24"]


def test_empty_table_is_base(database: tuple[str, str]) -> None:
    _kind, url = database
    _version_table(url)
    assert read_stamp(url).revisions == ()


def test_no_version_table(database: tuple[str, str]) -> None:
    _kind, url = database
    _execute(url, "CREATE TABLE app_users (id int)")  # an application database, never stamped
    with pytest.raises(NoVersionTable) as info:
        read_stamp(url)
    assert info.value.exit_code == EXIT_FINDINGS
    assert "has no table alembic_version: the database was never stamped (or use --version-table)" in info.value.message


def test_custom_version_table(database: tuple[str, str]) -> None:
    _kind, url = database
    _version_table(url, name="my_versions", rows=("3adcc9a56557",))
    stamp = read_stamp(url, version_table="my_versions")
    assert (stamp.version_table, stamp.revisions) == ("my_versions", ("3adcc9a56557",))
    with pytest.raises(NoVersionTable):
        read_stamp(url)  # the default name is not there


def test_table_without_version_num_is_unreadable(database: tuple[str, str]) -> None:
    _kind, url = database
    _execute(url, "CREATE TABLE alembic_version (revision VARCHAR(32))")
    with pytest.raises(StampUnreadable) as info:
        read_stamp(url)
    assert info.value.exit_code == EXIT_FINDINGS
    assert "no version_num column" in info.value.message and "revision" in info.value.message


def test_identifiers_are_quoted(database: tuple[str, str]) -> None:
    """A table name that is a reserved word with a space is read, not spliced into SQL."""
    _kind, url = database
    _version_table(url, name="select version", rows=("4b2f9a1c0d3e",))
    assert read_stamp(url, version_table="select version").revisions == ("4b2f9a1c0d3e",)


def test_nothing_is_written(database: tuple[str, str]) -> None:
    _kind, url = database
    _version_table(url, rows=("ae1027a6acf",))
    before = _tables(url)
    read_stamp(url)
    with pytest.raises(NoVersionTable):
        read_stamp(url, version_table="other")
    assert _tables(url) == before


# --- the read-only connection ----------------------------------------------------------------------


def test_read_only_connection_refuses_writes(database: tuple[str, str]) -> None:
    kind, url = database
    _version_table(url, rows=("ae1027a6acf",))
    with read_only_connection(url) as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "ae1027a6acf"
        with pytest.raises(sa.exc.DBAPIError, match=READ_ONLY_REFUSALS[kind]):
            conn.execute(sa.text("CREATE TABLE ma_should_not_exist (id int)"))
        conn.rollback()
        # a fresh transaction on the same connection is still read-only (session-level protection)
        with pytest.raises(sa.exc.DBAPIError, match=READ_ONLY_REFUSALS[kind]):
            conn.execute(sa.text("INSERT INTO alembic_version (version_num) VALUES ('written')"))
    assert "ma_should_not_exist" not in _tables(url)
    assert read_stamp(url).revisions == ("ae1027a6acf",)


def test_postgres_transaction_is_read_only_from_the_start(postgres_database: str) -> None:
    with read_only_connection(postgres_database) as conn:
        assert conn.execute(sa.text("SHOW transaction_read_only")).scalar() == "on"
        assert conn.execute(sa.text("SHOW default_transaction_read_only")).scalar() == "on"


def test_postgres_custom_schema(postgres_database: str) -> None:
    _execute(postgres_database, "CREATE SCHEMA audit")
    _version_table(postgres_database, rows=("5e3f8d2a1b0c",), schema="audit")
    stamp = read_stamp(postgres_database, version_table_schema="audit")
    assert (stamp.version_table_schema, stamp.revisions) == ("audit", ("5e3f8d2a1b0c",))
    with pytest.raises(NoVersionTable, match=r"has no table audit\.nope:"):
        read_stamp(postgres_database, version_table_schema="audit", version_table="nope")
    with pytest.raises(NoVersionTable, match="has no table alembic_version"):
        read_stamp(postgres_database)  # not in public


def test_mysql_version_table_in_another_database(mysql_database: str, tmp_path: Path) -> None:
    """MySQL's "schema" is another database on the same server."""
    from databases import create_database, drop_database

    other = create_database("mysql", tmp_path)
    try:
        _version_table(other, rows=("6a7b8c9d0e1f",))
        other_name = sa.make_url(other).database
        stamp = read_stamp(mysql_database, version_table_schema=other_name)
        assert stamp.revisions == ("6a7b8c9d0e1f",)
    finally:
        drop_database("mysql", other)


@pytest.fixture
def select_only_role(postgres_database: str) -> Iterator[str]:
    """A PostgreSQL login role that may only SELECT from alembic_version; dropped afterwards."""
    role = f"ma_ro_{uuid.uuid4().hex[:10]}"
    name = sa.make_url(postgres_database).database
    _execute(POSTGRES_SERVER, f"CREATE ROLE {role} LOGIN")
    try:
        yield role
    finally:
        _execute(postgres_database, f"DROP OWNED BY {role}")  # grants in the test database
        _execute(POSTGRES_SERVER, f"REVOKE ALL ON DATABASE {name} FROM {role}", f"DROP ROLE {role}")


def test_postgres_select_only_role_is_enough(postgres_database: str, select_only_role: str) -> None:
    role, name = select_only_role, sa.make_url(postgres_database).database
    _version_table(postgres_database, rows=("ae1027a6acf",))
    as_role = sa.make_url(postgres_database).set(username=role).render_as_string(hide_password=False)

    with pytest.raises(DatabaseUnreachable, match="permission denied") as info:
        read_stamp(as_role)  # PUBLIC has CONNECT here but no grant on the table yet
    _assert_clean_unreachable(info.value)
    assert "cannot read alembic_version in" in info.value.message

    _execute(
        postgres_database,
        f"REVOKE ALL ON DATABASE {name} FROM PUBLIC",
        f"GRANT CONNECT ON DATABASE {name} TO {role}",
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT ON alembic_version TO {role}",
    )
    assert read_stamp(as_role).revisions == ("ae1027a6acf",)


# --- failures: one line, exit 3, no password ---------------------------------------------------------


def test_sqlite_missing_file_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "typo.sqlite"
    with pytest.raises(DatabaseUnreachable, match=": database file does not exist$") as info:
        read_stamp(f"sqlite:///{path}")
    _assert_clean_unreachable(info.value)
    with pytest.raises(DatabaseUnreachable):
        with read_only_connection(f"sqlite:///{path}"):
            pass
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []


def test_sqlite_path_with_uri_characters(tmp_path: Path) -> None:
    """?, # and % in a file name are part of the name, not of the read-only URI."""
    url = sa.URL.create("sqlite", database=str(tmp_path / "odd name?mode=rwc#x%20.db")).render_as_string()
    _version_table(url, rows=("7c8d9e0f1a2b",))
    assert read_stamp(url).revisions == ("7c8d9e0f1a2b",)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["odd name?mode=rwc#x%20.db"]


def test_sqlite_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("this is not a database\n" * 100)
    with pytest.raises(DatabaseUnreachable, match="file is not a database") as info:
        read_stamp(f"sqlite:///{path}")
    _assert_clean_unreachable(info.value)


@pytest.mark.parametrize(
    "url",
    ["postgresql://postgres:topsecret@127.0.0.1:5999/x", "mysql+pymysql://root:topsecret@127.0.0.1:3999/x"],
)
def test_connection_refused(url: str) -> None:
    started = time.monotonic()
    with pytest.raises(DatabaseUnreachable) as info:
        read_stamp(url)
    assert time.monotonic() - started < 15
    _assert_clean_unreachable(info.value, "topsecret")
    assert info.value.message.startswith("cannot connect to ")
    assert ":***@127.0.0.1:" in info.value.message
    assert info.value.message.endswith(": connection refused")


@pytest.mark.parametrize("scheme", ["postgresql", "mysql"])
def test_silent_server_times_out(scheme: str) -> None:
    """A port that accepts connections but never answers: the timeout, not a hang."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        port = server.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(DatabaseUnreachable, match="no answer within 2 s") as info:
            read_stamp(f"{scheme}://u:topsecret@127.0.0.1:{port}/x", timeout=2)
        assert time.monotonic() - started < 10
    _assert_clean_unreachable(info.value, "topsecret")


def test_postgres_database_missing() -> None:
    name = f"ma_missing_{uuid.uuid4().hex[:8]}"
    url = sa.make_url(POSTGRES_SERVER).set(database=name).render_as_string(hide_password=False)
    _require_server(POSTGRES_SERVER)
    with pytest.raises(DatabaseUnreachable) as info:
        read_stamp(url)
    _assert_clean_unreachable(info.value)
    assert f'database "{name}" does not exist' in info.value.message


def test_mysql_database_missing() -> None:
    name = f"ma_missing_{uuid.uuid4().hex[:8]}"
    url = sa.make_url(MYSQL_SERVER).set(database=name).render_as_string(hide_password=False)
    _require_server(MYSQL_SERVER)
    with pytest.raises(DatabaseUnreachable) as info:
        read_stamp(url)
    _assert_clean_unreachable(info.value)
    assert f"Unknown database '{name}'" in info.value.message


def test_mysql_wrong_password(mysql_database: str) -> None:
    """PostgreSQL here trusts 127.0.0.1 (any password works), so the wrong password is tried on MariaDB."""
    user = f"ma_pw_{uuid.uuid4().hex[:8]}"
    name = sa.make_url(mysql_database).database
    _execute(
        MYSQL_SERVER,
        f"CREATE USER '{user}'@'%' IDENTIFIED BY 'right-secret'",
        f"CREATE USER '{user}'@'localhost' IDENTIFIED BY 'right-secret'",
        f"GRANT SELECT ON {name}.* TO '{user}'@'%'",
        f"GRANT SELECT ON {name}.* TO '{user}'@'localhost'",
    )
    try:
        _version_table(mysql_database, rows=("ae1027a6acf",))
        right = sa.make_url(mysql_database).set(username=user, password="right-secret")
        assert read_stamp(right.render_as_string(hide_password=False)).revisions == ("ae1027a6acf",)
        wrong = right.set(password="wrong-secret").render_as_string(hide_password=False)
        with pytest.raises(DatabaseUnreachable, match="Access denied") as info:
            read_stamp(wrong)
        _assert_clean_unreachable(info.value, "right-secret", "wrong-secret")
        assert f"{user}:***@" in info.value.message
    finally:
        _execute(MYSQL_SERVER, f"DROP USER IF EXISTS '{user}'@'%'", f"DROP USER IF EXISTS '{user}'@'localhost'")


def test_driver_missing() -> None:
    with pytest.raises(DatabaseUnreachable, match="is not installed") as info:
        read_stamp("postgresql+psycopg2://u:topsecret@127.0.0.1/x")
    _assert_clean_unreachable(info.value, "topsecret")
    with pytest.raises(DatabaseUnreachable, match="cannot connect to") as info:
        read_stamp("postgresql+nosuchdriver://u:topsecret@127.0.0.1/x")
    _assert_clean_unreachable(info.value, "topsecret")


def test_unsupported_backend() -> None:
    with pytest.raises(DatabaseUnreachable, match="only SQLite, PostgreSQL and MySQL/MariaDB") as info:
        read_stamp("mssql+pyodbc://u:topsecret@host/x")
    _assert_clean_unreachable(info.value, "topsecret")


def _require_server(server: str) -> None:
    """Skip (or, with MA_REQUIRE_DBS=1, fail) like the database fixtures when the server is down."""
    from databases import _unavailable

    eng = sa.create_engine(driver_url(server))
    try:
        with eng.connect():
            pass
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server
        _unavailable(sa.make_url(server).get_backend_name(), exc)
    finally:
        eng.dispose()
