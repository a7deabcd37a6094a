"""Scratch databases and replaying revision chains in them, on real SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import os
import py_compile
import signal
import sys
import textwrap
import time
import uuid
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa

from databases import MYSQL_SERVER, POSTGRES_SERVER, driver_url
from migration_archaeologist.database.replay import ReplayFailed, render_offline_sql, run_alembic
from migration_archaeologist.database.scratch import (
    Scratch,
    ScratchIsLive,
    ScratchRefused,
    same_database,
    scratch_database,
)
from migration_archaeologist.errors import EXIT_ENVIRONMENT, EXIT_FINDINGS, EnvironmentProblem, UsageError

SAMPLE = Path(__file__).resolve().parents[2] / "sample_repos" / "taskman-v2" / "revisions"
CHAIN = ("20251015_baseline", "48b01bf7ee65", "4de471a82333", "add_users_table", "84456d47e6aa", "b22b3b5a376f")
SAMPLE_TABLES = {"tasks", "projects", "sprints", "action_lists", "users", "alembic_version"}


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def write_revision(directory: Path, revision: str, down: str | None, upgrade: str = "pass",
                   downgrade: str = "pass", header: str = "") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{revision}_rev.py"
    path.write_text(
        f'"""{revision}"""\n'
        "from alembic import op\n"
        "import sqlalchemy as sa\n"
        f"{header}\n"
        f"revision = {revision!r}\n"
        f"down_revision = {down!r}\n"
        "branch_labels = None\n"
        "depends_on = None\n\n\n"
        "def upgrade():\n" + textwrap.indent(textwrap.dedent(upgrade).strip() or "pass", "    ") + "\n\n\n"
        "def downgrade():\n" + textwrap.indent(textwrap.dedent(downgrade).strip() or "pass", "    ") + "\n"
    )
    return path


CREATE_ITEMS = """
op.create_table("items", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("name", sa.String(50)))
"""


def scratch_exists(scratch: Scratch) -> bool:
    url = sa.make_url(scratch.url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        return Path(url.database or "").exists() or Path(url.database or "").parent.exists()
    server = POSTGRES_SERVER if backend == "postgresql" else MYSQL_SERVER
    engine = sa.create_engine(driver_url(server))
    try:
        with engine.connect() as conn:
            if backend == "postgresql":
                query = sa.text("SELECT count(*) FROM pg_database WHERE datname = :name")
                return bool(conn.execute(query, {"name": url.database}).scalar())
            return conn.execute(sa.text("SHOW DATABASES LIKE :name"), {"name": url.database}).first() is not None
    finally:
        engine.dispose()


def inspect(url: str) -> tuple[set[str], list[str]]:
    """Tables, and the alembic_version rows, of a database (engine disposed: no lingering sessions)."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names())
            versions = []
            if "alembic_version" in tables:
                versions = sorted(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())
            return tables, versions
    finally:
        engine.dispose()


def check_constraint_sql(url: str, table: str, name: str) -> str:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            checks = {c["name"]: c["sqltext"] for c in sa.inspect(conn).get_check_constraints(table)}
            return str(checks[name])
    finally:
        engine.dispose()


def server_engine(server: str) -> sa.Engine:
    return sa.create_engine(driver_url(server), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


# --------------------------------------------------------------------------
# the sample chain, on every backend
# --------------------------------------------------------------------------


def test_sample_chain_replays_in_a_scratch_database(database: tuple[str, str]) -> None:
    kind, live = database
    with scratch_database(live) as scratch:
        assert scratch.created
        assert not same_database(scratch.url, live)
        assert inspect(scratch.url) == (set(), [])

        up = run_alembic([SAMPLE], scratch, "upgrade", "b22b3b5a376f", live_url=live)
        assert (up.command, up.target, up.applied) == ("upgrade", "b22b3b5a376f", CHAIN)
        assert up.seconds > 0
        assert inspect(scratch.url) == (SAMPLE_TABLES, ["b22b3b5a376f"])
        assert "in_progress" in check_constraint_sql(scratch.url, "action_lists", "ck_action_lists_status")

        if kind == "mysql":
            # MariaDB finding: InnoDB made idx_tasks_project_id serve the tasks.project_id foreign
            # key, so 4de471a82333's downgrade cannot drop it (error 1553).
            with pytest.raises(ReplayFailed) as failed:
                run_alembic([SAMPLE], scratch, "downgrade", "base", live_url=live)
            assert failed.value.revision == "4de471a82333"
            assert failed.value.message.startswith("4de471a82333: downgrade() failed: (pymysql.err.OperationalError)")
            assert "1553" in failed.value.message and "idx_tasks_project_id" in failed.value.message
            assert inspect(scratch.url)[1] == ["4de471a82333"]  # the two downgrades before it committed
        else:
            down = run_alembic([SAMPLE], scratch, "downgrade", "base", live_url=live)
            assert down.applied == tuple(reversed(CHAIN))
            assert inspect(scratch.url) == ({"alembic_version"}, [])
    assert not scratch_exists(scratch)
    # the live database was only used to find the server
    if kind != "sqlite":
        assert inspect(live) == (set(), [])


def test_own_chain_round_trip_on_mariadb(mysql_database: str, tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    write_revision(versions, "m1", None, CREATE_ITEMS, 'op.drop_table("items")')
    write_revision(versions, "m2", "m1",
                   'op.add_column("items", sa.Column("done", sa.Boolean(), server_default=sa.false(), nullable=False))\n'
                   'op.create_index("ix_items_name", "items", ["name"])',
                   'op.drop_index("ix_items_name", table_name="items")\nop.drop_column("items", "done")')
    write_revision(versions, "m3", "m2",
                   'op.create_table("tags", sa.Column("id", sa.Integer(), primary_key=True),'
                   ' sa.Column("item_id", sa.Integer(), sa.ForeignKey("items.id")))',
                   'op.drop_table("tags")')
    with scratch_database(mysql_database) as scratch:
        assert run_alembic([versions], scratch, "upgrade", "heads", live_url=mysql_database).applied == ("m1", "m2", "m3")
        assert inspect(scratch.url) == ({"items", "tags", "alembic_version"}, ["m3"])
        assert run_alembic([versions], scratch, "downgrade", "base", live_url=mysql_database).applied == ("m3", "m2", "m1")
        assert inspect(scratch.url) == ({"alembic_version"}, [])
    assert not scratch_exists(scratch)


def test_several_heads_and_no_bytecode_in_the_versions_dir(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    write_revision(versions, "root", None, CREATE_ITEMS, 'op.drop_table("items")')
    write_revision(versions, "left", "root", 'op.create_table("l", sa.Column("id", sa.Integer(), primary_key=True))',
                   'op.drop_table("l")')
    write_revision(versions, "right", "root", 'op.create_table("r", sa.Column("id", sa.Integer(), primary_key=True))',
                   'op.drop_table("r")')
    live = f"sqlite:///{tmp_path / 'live.sqlite'}"
    with scratch_database(live) as scratch:
        up = run_alembic([versions], scratch, "upgrade", "heads", live_url=live)
        assert up.applied[0] == "root" and sorted(up.applied[1:]) == ["left", "right"]
        assert inspect(scratch.url) == ({"items", "l", "r", "alembic_version"}, ["left", "right"])
        down = run_alembic([versions], scratch, "downgrade", "base", live_url=live)
        assert sorted(down.applied) == ["left", "right", "root"] and down.applied[-1] == "root"
    assert not (versions / "__pycache__").exists()
    assert sorted(p.name for p in versions.iterdir()) == ["left_rev.py", "right_rev.py", "root_rev.py"]


def test_unknown_target_is_a_replay_failure(tmp_path: Path) -> None:
    write_revision(tmp_path / "versions", "r1", None)
    live = f"sqlite:///{tmp_path / 'live.sqlite'}"
    with scratch_database(live) as scratch:
        with pytest.raises(ReplayFailed, match="Can't locate revision identified by 'nope'"):
            run_alembic([tmp_path / "versions"], scratch, "upgrade", "nope", live_url=live)


# --------------------------------------------------------------------------
# failures
# --------------------------------------------------------------------------


def test_failing_upgrade_names_the_revision(database: tuple[str, str], tmp_path: Path) -> None:
    kind, live = database
    versions = tmp_path / "versions"
    write_revision(versions, "aaa111", None, CREATE_ITEMS)
    write_revision(versions, "bbb222", "aaa111", 'op.execute("SELECT * FROM no_such_table")')
    with scratch_database(live) as scratch:
        with pytest.raises(ReplayFailed) as failed:
            run_alembic([versions], scratch, "upgrade", "heads", live_url=live)
        assert failed.value.revision == "bbb222"
        assert failed.value.exit_code == EXIT_FINDINGS
        assert failed.value.message.startswith("bbb222: upgrade() failed: (")
        assert "no_such_table" in failed.value.message
        assert "\n" not in failed.value.message
        # one transaction per revision: the first one stayed applied
        assert inspect(scratch.url) == ({"items", "alembic_version"}, ["aaa111"])
    assert not scratch_exists(scratch)


def test_unimportable_revision_names_module_revision_and_python(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    write_revision(versions, "base1", None, CREATE_ITEMS)
    write_revision(versions, "c0ffee", "base1", header="from myapp.types import GUID")
    live = f"sqlite:///{tmp_path / 'live.sqlite'}"
    with scratch_database(live) as scratch:
        with pytest.raises(ReplayFailed) as failed:
            run_alembic([versions], scratch, "upgrade", "heads", live_url=live)
        message = failed.value.message
        assert failed.value.revision == "c0ffee"
        assert message.startswith("revision c0ffee (versions/c0ffee_rev.py) imports 'myapp.types', "
                                  f"which is not importable by {sys.executable}")
        assert "--python" in message
        # nothing ran: a chain with an unimportable file is not replayed with stand-ins
        assert inspect(scratch.url) == (set(), [])
    assert not (versions / "__pycache__").exists()


def test_revision_that_hangs_is_killed(database: tuple[str, str], tmp_path: Path) -> None:
    kind, live = database
    versions = tmp_path / "versions"
    pid_file = tmp_path / "child.pid"
    write_revision(versions, "ok1", None, CREATE_ITEMS)
    write_revision(versions, "slow2", "ok1", f"""
        op.execute("INSERT INTO items (id, name) VALUES (1, 'held in an open transaction')")
        import os, time
        with open({str(pid_file)!r}, "w") as fh:
            fh.write(str(os.getpid()))
        time.sleep(60)
    """)
    with scratch_database(live) as scratch:
        started = time.monotonic()
        with pytest.raises(ReplayFailed) as failed:
            run_alembic([versions], scratch, "upgrade", "heads", live_url=live, timeout=5)
        assert time.monotonic() - started < 30
        assert "timed out after 5 s during slow2 upgrade()" in failed.value.message
        assert failed.value.revision == "slow2"
        pid = int(pid_file.read_text())
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert not scratch_exists(scratch)


def test_missing_interpreter_is_an_environment_problem(tmp_path: Path) -> None:
    write_revision(tmp_path / "versions", "r1", None)
    live = f"sqlite:///{tmp_path / 'live.sqlite'}"
    with scratch_database(live) as scratch:
        with pytest.raises(EnvironmentProblem, match="could not run /nonexistent/python"):
            run_alembic([tmp_path / "versions"], scratch, "upgrade", "heads", live_url=live,
                        python="/nonexistent/python")


# --------------------------------------------------------------------------
# which database is which
# --------------------------------------------------------------------------


def test_scratch_url_equal_to_live_url_is_refused(postgres_database: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    name = sa.make_url(postgres_database).database
    for same in (postgres_database,
                 f"postgresql+psycopg://postgres@localhost:5432/{name}",
                 f"postgres://postgres:whatever@127.0.0.1/{name}"):
        with pytest.raises(ScratchIsLive, match="the scratch database must not be the live database"):
            with scratch_database(postgres_database, scratch_url=same):
                pass  # pragma: no cover
    assert isinstance(ScratchIsLive("x"), UsageError)

    # run_alembic checks again, before anything runs
    live_as_scratch = Scratch(url=postgres_database, display=postgres_database, created=False)
    with pytest.raises(ScratchIsLive):
        run_alembic([SAMPLE], live_as_scratch, "upgrade", "heads", live_url=postgres_database)
    assert inspect(postgres_database) == (set(), [])

    monkeypatch.chdir(tmp_path)
    with pytest.raises(ScratchIsLive):
        with scratch_database(f"sqlite:///{tmp_path / 'live.sqlite'}", scratch_url="sqlite:///./live.sqlite"):
            pass  # pragma: no cover
    assert not same_database(postgres_database, POSTGRES_SERVER)
    assert not same_database(f"postgresql://postgres@127.0.0.1:5433/{name}", postgres_database)


def test_given_scratch_url_must_be_empty_and_is_kept(database: tuple[str, str], tmp_path: Path) -> None:
    kind, given = database
    live = {"sqlite": f"sqlite:///{tmp_path / 'live.sqlite'}", "postgresql": POSTGRES_SERVER,
            "mysql": MYSQL_SERVER}[kind]
    with scratch_database(live, scratch_url=given) as scratch:
        assert not scratch.created
        run_alembic([SAMPLE], scratch, "upgrade", "heads", live_url=live)
    # --scratch-url: not dropped, and the replayed schema stays for the user to look at
    assert inspect(driver_url(given).render_as_string(hide_password=False)) == (SAMPLE_TABLES, ["b22b3b5a376f"])

    with pytest.raises(UsageError, match=r"is not empty \(6 tables or views: action_lists, alembic_version"):
        with scratch_database(live, scratch_url=given):
            pass  # pragma: no cover


def test_in_memory_sqlite_cannot_be_the_scratch(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="in-memory"):
        with scratch_database(f"sqlite:///{tmp_path / 'live.sqlite'}", scratch_url="sqlite://"):
            pass  # pragma: no cover


# --------------------------------------------------------------------------
# dropping, refusing
# --------------------------------------------------------------------------


def test_ctrl_c_inside_the_block_drops_the_scratch(database: tuple[str, str]) -> None:
    kind, live = database
    with pytest.raises(KeyboardInterrupt):
        with scratch_database(live) as scratch:
            assert scratch_exists(scratch)
            run_alembic([SAMPLE], scratch, "upgrade", "84456d47e6aa", live_url=live)
            raise KeyboardInterrupt
    assert not scratch_exists(scratch)


@pytest.fixture
def nocreatedb_role(postgres_database: str) -> Iterator[str]:
    role = f"ma_nocreate_{uuid.uuid4().hex[:8]}"
    engine = server_engine(POSTGRES_SERVER)
    with engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN NOCREATEDB")
    try:
        yield role
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")
        engine.dispose()


def test_no_permission_to_create_a_database(nocreatedb_role: str, postgres_database: str) -> None:
    live = sa.make_url(postgres_database).set(username=nocreatedb_role).render_as_string(hide_password=False)
    with pytest.raises(ScratchRefused) as refused:
        with scratch_database(live):
            pass  # pragma: no cover
    assert refused.value.exit_code == EXIT_ENVIRONMENT
    assert "permission denied to create database" in refused.value.message
    assert "--scratch-url" in refused.value.message


# --------------------------------------------------------------------------
# offline SQL
# --------------------------------------------------------------------------


def test_offline_sql_for_postgresql_connects_nowhere() -> None:
    started = time.monotonic()
    # a host that would hang any connection attempt (TEST-NET-1), with a password to drop
    sql = render_offline_sql([SAMPLE], "postgresql://someone:pw@192.0.2.1:1/nowhere", "b22b3b5a376f", timeout=60)
    assert time.monotonic() - started < 30
    assert "CREATE TABLE tasks (" in sql
    assert "CREATE TABLE alembic_version" in sql
    assert "ALTER TABLE action_lists DROP CONSTRAINT ck_action_lists_status;" in sql
    assert ("ALTER TABLE action_lists ADD CONSTRAINT ck_action_lists_status CHECK "
            "(status IN ('active', 'in_progress', 'blocked', 'completed', 'archived'));") in sql
    assert "UPDATE alembic_version SET version_num='b22b3b5a376f'" in sql


def test_offline_sql_cannot_render_sqlite_batch_migrations() -> None:
    with pytest.raises(ReplayFailed, match="48b01bf7ee65: upgrade\\(\\) failed: .*requires a live database"):
        render_offline_sql([SAMPLE], "sqlite://", "heads")


# --------------------------------------------------------------------------
# passwords
# --------------------------------------------------------------------------


@pytest.fixture
def mysql_users_with_password(mysql_database: str) -> Iterator[tuple[str, str]]:
    """(live URL of a user who may create ma_scratch_* databases, of one who may not), both with
    the password 'replay-secret'."""
    tag = uuid.uuid4().hex[:8]
    users = (f"ma_replay_{tag}", f"ma_replay_{tag}_nogrant")
    hosts = ("%", "localhost", "127.0.0.1")
    engine = server_engine(MYSQL_SERVER)
    with engine.connect() as conn:
        for user in users:
            for host in hosts:
                conn.execute(sa.text(f"CREATE USER '{user}'@'{host}' IDENTIFIED BY 'replay-secret'"))
                if user == users[0]:
                    conn.execute(sa.text(f"GRANT ALL ON `ma\\_scratch\\_%`.* TO '{user}'@'{host}'"))
    try:
        url = sa.make_url(mysql_database).set(password="replay-secret")
        yield tuple(url.set(username=user).render_as_string(hide_password=False) for user in users)  # type: ignore[misc]
    finally:
        with engine.connect() as conn:
            for user in users:
                for host in hosts:
                    conn.execute(sa.text(f"DROP USER IF EXISTS '{user}'@'{host}'"))
        engine.dispose()


def test_passwords_appear_in_no_message(mysql_users_with_password: tuple[str, str], tmp_path: Path) -> None:
    live, live_without_grants = mysql_users_with_password
    versions = tmp_path / "versions"
    seen = tmp_path / "seen-by-revision.txt"
    write_revision(versions, "p1", None, f"""
        import os
        with open("/proc/self/cmdline", "rb") as fh:
            cmdline = fh.read().decode()
        with open({str(seen)!r}, "w") as out:
            out.write(cmdline + "\\n" + repr(dict(os.environ)))
        op.execute("SELECT * FROM no_such_table")
    """)
    write_revision(versions, "p2", None, """
        url = op.get_bind().engine.url.render_as_string(hide_password=False)
        raise RuntimeError("driver quoted its DSN: " + url)
    """)

    with scratch_database(live) as scratch:
        assert "replay-secret" in scratch.url and "replay-secret" not in scratch.display
        with pytest.raises(ReplayFailed) as failed:
            run_alembic([versions], scratch, "upgrade", "p1", live_url=live)
        assert failed.value.revision == "p1" and "no_such_table" in failed.value.message
        with pytest.raises(ReplayFailed) as quoted:
            run_alembic([versions], scratch, "upgrade", "p2", live_url=live)
        assert quoted.value.revision == "p2" and ":***@" in quoted.value.message
    assert not scratch_exists(scratch)

    with pytest.raises(ScratchRefused) as refused:
        with scratch_database(live_without_grants):
            pass  # pragma: no cover
    assert "Access denied" in refused.value.message

    for exc in (failed.value, quoted.value, refused.value):
        assert "replay-secret" not in exc.message and "replay-secret" not in str(exc)
    # the URL reached the child through its environment, and revision code no longer sees it
    assert "replay-secret" not in seen.read_text()
    assert "MA_REPLAY_URL" not in seen.read_text()


def test_ctrl_c_during_the_replay_kills_the_child_and_drops_the_scratch(database: tuple[str, str],
                                                                        tmp_path: Path) -> None:
    kind, live = database
    versions = tmp_path / "versions"
    pid_file = tmp_path / "child.pid"
    write_revision(versions, "ok1", None, CREATE_ITEMS)
    write_revision(versions, "hang2", "ok1", f"""
        op.execute("INSERT INTO items (id, name) VALUES (1, 'held in an open transaction')")
        import os, time
        with open({str(pid_file)!r}, "w") as fh:
            fh.write(str(os.getpid()))
        time.sleep(60)
    """)

    def ctrl_c(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, ctrl_c)
    try:
        with pytest.raises(KeyboardInterrupt):
            with scratch_database(live) as scratch:
                signal.alarm(3)
                run_alembic([versions], scratch, "upgrade", "heads", live_url=live)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)
    assert not scratch_exists(scratch)


def test_stale_bytecode_next_to_a_revision_is_not_replayed(tmp_path: Path) -> None:
    """Recovered files sit next to old __pycache__ entries; an unchecked hash-based .pyc would be
    trusted blindly by Python, so the replay must compile the source."""
    versions = tmp_path / "versions"
    source = write_revision(versions, "r1", None, 'op.create_table("from_pyc", sa.Column("id", sa.Integer(), primary_key=True))')
    cached = versions / "__pycache__" / f"r1_rev.{sys.implementation.cache_tag}.pyc"
    py_compile.compile(str(source), cfile=str(cached), doraise=True,
                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    write_revision(versions, "r1", None, 'op.create_table("from_source", sa.Column("id", sa.Integer(), primary_key=True))')
    before = cached.read_bytes()
    live = f"sqlite:///{tmp_path / 'live.sqlite'}"
    with scratch_database(live) as scratch:
        run_alembic([versions], scratch, "upgrade", "heads", live_url=live)
        assert inspect(scratch.url) == ({"from_source", "alembic_version"}, ["r1"])
    assert cached.read_bytes() == before
    assert sorted(p.name for p in (versions / "__pycache__").iterdir()) == [cached.name]
