"""Scratch databases: an empty database to replay a recovered chain into, never the live one.

A recovered chain is only proven when Alembic can run it: ``upgrade`` to the head and ``downgrade``
back to base in a database nobody else uses.  :func:`scratch_database` makes that database on the
live database's server (or a temp SQLite file) and always drops it again, also on Ctrl-C;
:func:`refuse_live` makes sure no replay ever runs in the live database itself.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import urllib.parse
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from migration_archaeologist.database.urls import DatabaseUnreachable, engine, mask, one_line, parse

# _scrub, as the messages below always called it: tests/cli/test_exit_code_doc.py reads a message through scrub()/_scrub()
from migration_archaeologist.database.urls import scrub_encoded as _scrub
from migration_archaeologist.errors import EnvironmentProblem, UsageError

__all__ = [
    "Scratch",
    "ScratchIsLive",
    "ScratchLeftBehind",
    "ScratchRefused",
    "refuse_live",
    "same_database",
    "scratch_database",
]

_DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306}
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}
_CONNECT_TIMEOUT = 10
_SCRATCH_HINT = "give an empty database to replay into with --scratch-url"


class ScratchRefused(EnvironmentProblem):
    """The server would not let us CREATE DATABASE (exit 3); ``--scratch-url`` is the way out."""


class ScratchIsLive(UsageError):
    """The scratch database is the live database: replaying there would alter production data."""


class ScratchLeftBehind(UserWarning):
    """Dropping a scratch database failed while another error was already on its way out."""


@dataclass(frozen=True)
class Scratch:
    """A database to replay into."""

    url: str
    """Full URL, password included, driver filled in: for connecting only, never for messages."""
    display: str
    """The URL with its password masked."""
    created: bool
    """True when :func:`scratch_database` created it and will drop it; False for ``--scratch-url``."""


# --------------------------------------------------------------------------
# Which database is which
# --------------------------------------------------------------------------


def _family(url: sa.URL) -> str:
    backend = url.get_backend_name()
    return {"mariadb": "mysql", "postgres": "postgresql"}.get(backend, backend)


def _identity(url: str | sa.URL) -> tuple[object, ...]:
    """Backend, host, port and database, normalised the way the server would resolve them."""
    parsed = parse(url) if isinstance(url, str) else url
    family = _family(parsed)
    if family == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or parsed.query.get("mode") == "memory":
            return ("sqlite-memory", id(parsed))  # every in-memory database is a different one
        if database.startswith("file:"):
            database = urllib.parse.urlsplit(database).path
        return ("sqlite", os.path.realpath(os.path.expanduser(database)))
    host = parsed.host or str(parsed.query.get("host") or parsed.query.get("unix_socket") or "localhost")
    host = host.lower()
    if host in _LOCAL_HOSTS:
        host = "localhost"
    port = parsed.port or _DEFAULT_PORTS.get(family)
    name = parsed.database
    if family == "postgresql" and not name:
        name = parsed.username  # libpq's default database is the user's name
    return (family, host, port, name)


def same_database(a: str | sa.URL, b: str | sa.URL) -> bool:
    """True when both URLs name the same database (same host+port+database, or the same file)."""
    return _identity(a) == _identity(b)


def refuse_live(scratch_url: str | sa.URL, live_url: str | sa.URL) -> None:
    if same_database(scratch_url, live_url):
        raise ScratchIsLive(f"the scratch database must not be the live database ({mask(live_url)})")


# --------------------------------------------------------------------------
# Scratch databases
# --------------------------------------------------------------------------


class _Server:
    """The live database's server, reached through a maintenance database in autocommit mode
    (CREATE/DROP DATABASE cannot run in a transaction, nor inside the database they drop)."""

    def __init__(self, live: sa.URL) -> None:
        self.live = live
        self.family = _family(live)
        if self.family == "postgresql":
            candidates = [live.set(database="postgres")]
            if live.database and live.database != "postgres":
                candidates.append(live)  # 'postgres' may be closed to this user; any database will do
        else:
            candidates = [live._replace(database=None)]  # URL.set() treats None as "unchanged"
        self.candidates = candidates

    def _connect(self) -> sa.Connection:
        error: Exception | None = None
        for url in self.candidates:
            eng = engine(
                url,
                isolation_level="AUTOCOMMIT",
                poolclass=sa.pool.NullPool,
                connect_args={"connect_timeout": _CONNECT_TIMEOUT},
            )
            try:
                return eng.connect()
            except sa.exc.SQLAlchemyError as exc:
                error = exc
                eng.dispose()
        assert error is not None
        raise DatabaseUnreachable(
            _scrub(f"cannot connect to the server of {mask(self.live)}: {one_line(error)}", self.live)
        ) from None

    def create(self, name: str) -> None:
        conn = self._connect()
        try:
            conn.exec_driver_sql(f"CREATE DATABASE {self._quote(conn, name)}")
        except sa.exc.SQLAlchemyError as exc:
            raise ScratchRefused(
                _scrub(
                    f"cannot create a scratch database on the server of {mask(self.live)}: {one_line(exc)}; "
                    + _SCRATCH_HINT,
                    self.live,
                )
            ) from None
        finally:
            conn.close()

    def drop(self, name: str) -> None:
        try:
            conn = self._connect()
        except DatabaseUnreachable as exc:
            raise EnvironmentProblem(
                f"could not drop the scratch database {name}: {exc.message}; drop it by hand"
            ) from None
        try:
            quoted = self._quote(conn, name)
            if self.family == "postgresql":
                if (conn.dialect.server_version_info or (0,)) >= (13,):
                    conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
                else:  # pragma: no cover - PostgreSQL 12 and older
                    conn.execute(
                        sa.text(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = :name AND pid <> pg_backend_pid()"
                        ),
                        {"name": name},
                    )
                    conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {quoted}")
            else:
                self._kill_mysql_sessions(conn, name)
                conn.exec_driver_sql("SET SESSION lock_wait_timeout = 60")
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {quoted}")
        except sa.exc.SQLAlchemyError as exc:
            raise EnvironmentProblem(
                _scrub(
                    f"could not drop the scratch database {name} on the server of {mask(self.live)}: "
                    f"{one_line(exc)}; drop it by hand",
                    self.live,
                )
            ) from None
        finally:
            conn.close()

    @staticmethod
    def _kill_mysql_sessions(conn: sa.Connection, name: str) -> None:
        """A killed replay child's session could hold metadata locks that block DROP DATABASE."""
        try:
            ids = (
                conn.execute(
                    sa.text("SELECT id FROM information_schema.processlist WHERE db = :name AND id <> CONNECTION_ID()"),
                    {"name": name},
                )
                .scalars()
                .all()
            )
        except sa.exc.SQLAlchemyError:
            return
        for session in ids:
            try:
                conn.exec_driver_sql(f"KILL {int(session)}")
            except sa.exc.SQLAlchemyError:
                pass

    @staticmethod
    def _quote(conn: sa.Connection, name: str) -> str:
        return conn.dialect.identifier_preparer.quote(name)


def _given_scratch(live: sa.URL, scratch_url: str) -> Scratch:
    """``--scratch-url``: must not be the live database and must be empty, so nothing is lost."""
    scratch = parse(scratch_url)
    refuse_live(scratch, live)
    if _identity(scratch)[0] == "sqlite-memory":
        raise UsageError(
            "an in-memory SQLite database cannot be the scratch database "
            "(the replay runs in another process): give a file path"
        )
    eng = engine(scratch, poolclass=sa.pool.NullPool)
    try:
        with eng.connect() as conn:
            inspector = sa.inspect(conn)
            names = sorted(inspector.get_table_names()) + sorted(inspector.get_view_names())
    except sa.exc.SQLAlchemyError as exc:
        raise DatabaseUnreachable(
            _scrub(f"cannot connect to the scratch database {mask(scratch)}: {one_line(exc)}", scratch, live)
        ) from None
    finally:
        eng.dispose()
    if names:
        shown = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
        raise UsageError(
            f"the scratch database {mask(scratch)} is not empty ({len(names)} tables or views: "
            f"{shown}): give an empty database"
        )
    return Scratch(url=scratch.render_as_string(hide_password=False), display=mask(scratch), created=False)


@contextmanager
def scratch_database(live_url: str, *, scratch_url: str | None = None) -> Iterator[Scratch]:
    """A fresh, empty database to replay into, dropped on exit, also on exception or Ctrl-C.

    PostgreSQL and MySQL/MariaDB: ``CREATE DATABASE ma_scratch_<random>`` on the live database's
    server (connected through ``postgres`` / no database), so the replay sees the same server
    version and settings as production; PostgreSQL drops it ``WITH (FORCE)``.  SQLite: a file in
    a fresh temp directory.  Anything else needs ``scratch_url``.

    With ``scratch_url`` (``--scratch-url``) that database is used as given: it must not be the
    live database and must be empty (otherwise :class:`UsageError`).  It is never dropped, and
    the schema the replay leaves behind stays there for the user to inspect.
    """
    live = parse(live_url)
    if scratch_url is not None:
        yield _given_scratch(live, scratch_url)
        return
    family = _family(live)
    if family == "sqlite":
        directory = tempfile.mkdtemp(prefix="ma-scratch-")
        try:
            url = sa.URL.create("sqlite", database=str(Path(directory) / "scratch.sqlite"))
            yield Scratch(url=url.render_as_string(hide_password=False), display=mask(url), created=True)
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        return
    if family not in ("postgresql", "mysql"):
        raise UsageError(f"cannot create a scratch database for {family}: {_SCRATCH_HINT}")

    server = _Server(live)
    name = f"ma_scratch_{secrets.token_hex(6)}"
    try:
        server.create(name)
    except Exception:
        raise  # nothing was created
    except BaseException:
        _drop_quietly(server, name)  # Ctrl-C may have arrived after the server created it
        raise
    url = live.set(database=name)
    try:
        yield Scratch(url=url.render_as_string(hide_password=False), display=mask(url), created=True)
    except BaseException:
        _drop_quietly(server, name)
        raise
    server.drop(name)


def _drop_quietly(server: _Server, name: str) -> None:
    """Drop while another exception propagates: that one is the news; a failed drop is a warning."""
    try:
        server.drop(name)
    except Exception as exc:  # noqa: BLE001
        warnings.warn(str(exc), ScratchLeftBehind, stacklevel=3)
