"""Read which revisions a database is stamped with, without any chance of changing it.

The live database is the ground truth we check a recovery against, and it is usually someone's
production database: every connection made here is read-only *on the server's side* (or, for
SQLite, opened read-only by the library), so even a bug in this tool cannot write to it.
"""

from __future__ import annotations

import math
import re
import urllib.parse
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from migration_archaeologist.database.urls import DatabaseUnreachable, engine, mask, one_line, parse, scrub
from migration_archaeologist.errors import EXIT_FINDINGS, ArchaeologistError

__all__ = [
    "STAMP_TIMEOUT",
    "NoVersionTable",
    "Stamp",
    "StampUnreadable",
    "bound_waits",
    "read_only_connection",
    "read_stamp",
    "reason",
    "stamp_timeout",
    "timeout_connect_args",
]

#: seconds reading the stamp may wait for the server: connecting, each statement, each lock (a
#: version table locked by a migration in progress, a slow ``alembic_version`` view); ``--timeout``
#: lowers it where a command has that option
STAMP_TIMEOUT = 10.0


def stamp_timeout(timeout: float | None) -> float:
    """The wait for reading the stamp: a command's ``--timeout`` (meant for replays, 600 s by
    default) when shorter than :data:`STAMP_TIMEOUT`, else STAMP_TIMEOUT."""
    return STAMP_TIMEOUT if timeout is None or timeout <= 0 else min(timeout, STAMP_TIMEOUT)


@dataclass(frozen=True)
class Stamp:
    """What ``alembic current`` would report, as read from the version table."""

    url: str  #: masked URL (password replaced by ***)
    version_table: str
    version_table_schema: str | None
    #: every row's version_num, in table order; several rows = several heads, none = "base"
    revisions: tuple[str, ...]

    @property
    def qualified_table(self) -> str:
        return _qualified(self.version_table, self.version_table_schema)


def _qualified(table: str, schema: str | None) -> str:
    return f"{schema}.{table}" if schema else table


class NoVersionTable(ArchaeologistError):
    """The database was never stamped (or the version table has another name): a finding, exit 1."""

    exit_code = EXIT_FINDINGS


class StampUnreadable(ArchaeologistError):
    """The version table exists but is not shaped like Alembic's: a finding, exit 1."""

    exit_code = EXIT_FINDINGS


#: per driver, the connect() arguments that bound how long we wait for a server that does not answer
#: (PyMySQL needs read_timeout too: connect_timeout only covers the TCP connect, not the handshake)
_TIMEOUT_ARGS = {
    "psycopg": ("connect_timeout",),
    "psycopg2": ("connect_timeout",),
    "pymysql": ("connect_timeout", "read_timeout", "write_timeout"),
    "mysqldb": ("connect_timeout", "read_timeout", "write_timeout"),
}
#: libpq drivers also get every transaction of the session read-only from the server's start-up options
_LIBPQ_DRIVERS = ("psycopg", "psycopg2")
_READ_ONLY_OPTION = "-c default_transaction_read_only=on"


def read_stamp(
    url: str,
    *,
    version_table: str = "alembic_version",
    version_table_schema: str | None = None,
    timeout: float = STAMP_TIMEOUT,
) -> Stamp:
    """The revisions ``url`` is stamped with, read through :func:`read_only_connection`.

    Raises DatabaseUnreachable (exit 3) when the database cannot be reached or read, NoVersionTable
    when there is no version table, StampUnreadable when it has no ``version_num`` column.
    """
    shown = mask(parse(url))
    qualified = _qualified(version_table, version_table_schema)
    with read_only_connection(url, timeout=timeout) as conn:
        try:
            inspector = sa.inspect(conn)
            if not inspector.has_table(version_table, schema=version_table_schema):
                raise NoVersionTable(
                    f"{shown} has no table {qualified}: the database was never stamped (or use --version-table)"
                )
            columns = [c["name"] for c in inspector.get_columns(version_table, schema=version_table_schema)]
            if "version_num" not in columns:
                raise StampUnreadable(
                    f"{shown}: table {qualified} has no version_num column (it has {', '.join(columns) or 'none'}),"
                    " so it is not an Alembic version table"
                )
            # sa.table/sa.column quote the names as the dialect requires; no string formatting of identifiers
            table = sa.table(version_table, sa.column("version_num"), schema=version_table_schema)
            rows = conn.execute(sa.select(table.c.version_num)).scalars().all()
        except sa.exc.DBAPIError as exc:  # permission denied, connection lost, not a database file...
            raise DatabaseUnreachable(f"cannot read {qualified} in {shown}: {reason(exc, url, timeout)}") from None
    if any(row is None for row in rows):
        raise StampUnreadable(f"{shown}: table {qualified} has a row without a version_num")
    return Stamp(shown, version_table, version_table_schema, tuple(str(row) for row in rows))


@contextmanager
def read_only_connection(url: str, *, timeout: float = 10.0) -> Iterator[sa.Connection]:
    """A connection on which the server itself refuses every write; closed and disposed afterwards.

    - PostgreSQL: ``SET TRANSACTION READ ONLY`` is the first statement of the transaction; libpq
      drivers also connect with ``default_transaction_read_only=on``, so a transaction begun after
      a commit or rollback is read-only as well.
    - MySQL/MariaDB: ``SET SESSION TRANSACTION READ ONLY`` (every later transaction of the session),
      then ``START TRANSACTION READ ONLY``.
    - SQLite: the file is opened as ``file:PATH?mode=ro`` (and ``PRAGMA query_only``); a missing file
      is reported, never created.

    The connection is yielded inside its read-only transaction (do not call ``begin()``); whatever
    it did is rolled back on exit. Failing to connect is DatabaseUnreachable with a one-line,
    password-free message; errors raised by the caller's own statements pass through unchanged.
    ``timeout`` bounds connecting, and on the server each statement and each lock wait (a table
    locked by another session, a slow view): the server cancels the statement itself, so nothing
    keeps running there after we give up. For MySQL it also bounds each wait for a reply (a little
    longer, so the server's own timeout is the one reported).
    """
    parsed = parse(url)
    shown = mask(parsed)
    backend = parsed.get_backend_name()
    connect_args: dict[str, object] = {}
    target = parsed
    if backend == "sqlite":
        target = _sqlite_read_only(parsed)
        connect_args.update(timeout_connect_args(parsed, timeout))
    elif backend in ("postgresql", "mysql", "mariadb"):
        driver = parsed.get_driver_name()
        connect_args.update(timeout_connect_args(parsed, timeout))
        if driver in _LIBPQ_DRIVERS:
            given = parsed.query.get("options")  # connect_args would replace the URL's own options
            given = " ".join(given) if isinstance(given, tuple) else given
            connect_args["options"] = f"{given} {_READ_ONLY_OPTION}" if given else _READ_ONLY_OPTION
    else:
        raise DatabaseUnreachable(
            f"cannot open {shown} read-only: only SQLite, PostgreSQL and MySQL/MariaDB databases are supported"
        )
    try:
        eng = engine(target, poolclass=NullPool, connect_args=connect_args)  # NullPool: closed for real at the end
    except sa.exc.ArgumentError as exc:  # e.g. an unknown driver name
        raise DatabaseUnreachable(f"cannot connect to {shown}: {scrub(one_line(exc), parsed, url)}") from None
    try:
        try:
            conn = eng.connect()
        except sa.exc.SQLAlchemyError as exc:
            raise DatabaseUnreachable(f"cannot connect to {shown}: {reason(exc, url, timeout)}") from None
        except TypeError as exc:  # a query parameter the driver has no argument for (?sslpassword= to PyMySQL)
            unknown = re.search(r"keyword argument '([^']+)'", str(exc))
            name = unknown.group(1) if unknown else "?"
            raise DatabaseUnreachable(
                f"cannot connect to {shown}: the driver {parsed.get_driver_name()} takes no query parameter {name!r}"
            ) from None
        with conn:  # closing rolls back whatever is still open
            try:
                _begin_read_only(conn, backend)
                bound_waits(conn, backend, timeout)
            except sa.exc.SQLAlchemyError as exc:
                raise DatabaseUnreachable(f"cannot connect to {shown}: {reason(exc, url, timeout)}") from None
            try:
                yield conn
            finally:
                if conn.in_transaction():
                    conn.rollback()
    finally:
        eng.dispose()


def _begin_read_only(conn: sa.Connection, backend: str) -> None:
    """Make the server (or SQLite) refuse writes before the caller runs anything."""
    if backend == "postgresql":
        # the driver's implicit BEGIN comes first, so this is the transaction's first statement
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")
    elif backend in ("mysql", "mariadb"):
        conn.exec_driver_sql("SET SESSION TRANSACTION READ ONLY")
        conn.exec_driver_sql("START TRANSACTION READ ONLY")
    else:
        conn.exec_driver_sql("PRAGMA query_only = ON")
        # SQLite opens files lazily: touch the schema now so "file is not a database" is a connect error
        conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar()


def timeout_connect_args(parsed: sa.URL, timeout: float) -> dict[str, object]:
    """The driver's connect() arguments bounding how long we wait for a server that does not answer
    (SQLite: for another connection's lock)."""
    if parsed.get_backend_name() == "sqlite":
        return {"timeout": timeout}
    return {
        name: max(1, math.ceil(timeout)) + (3 if name == "read_timeout" else 0)
        for name in _TIMEOUT_ARGS.get(parsed.get_driver_name(), ())
    }


def bound_waits(conn: sa.Connection, backend: str, timeout: float) -> None:
    """Have the server cancel any statement, or wait for a lock, longer than ``timeout`` seconds
    (SQLite: its busy timeout, given when connecting). The statement timeout is a little longer, so
    a statement blocked by a lock is reported as the lock wait it is."""
    statement = timeout + max(0.1, timeout / 20)
    if backend == "postgresql":  # SET LOCAL: only this read-only transaction
        conn.exec_driver_sql(f"SET LOCAL statement_timeout = {max(1, math.ceil(statement * 1000))}")
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = {max(1, math.ceil(timeout * 1000))}")
    elif backend in ("mysql", "mariadb"):
        seconds = max(1, math.ceil(timeout))  # the lock waits take whole seconds
        statement = max(statement, seconds + 0.1)
        if getattr(conn.dialect, "is_mariadb", False):
            conn.exec_driver_sql(f"SET SESSION max_statement_time = {statement:.3f}")
        else:  # MySQL: SELECT statements only, in milliseconds
            conn.exec_driver_sql(f"SET SESSION max_execution_time = {math.ceil(statement * 1000)}")
        conn.exec_driver_sql(f"SET SESSION lock_wait_timeout = {seconds}")  # metadata locks (LOCK TABLES, ALTER)
        conn.exec_driver_sql(f"SET SESSION innodb_lock_wait_timeout = {seconds}")  # row locks


#: what the server says when it cancels a statement, per kind of wait (PostgreSQL, MariaDB, MySQL)
_STATEMENT_TIMEOUT = (
    "canceling statement due to statement timeout",
    "max_statement_time exceeded",
    "maximum statement execution time exceeded",
)
_LOCK_TIMEOUT = ("canceling statement due to lock timeout", "lock wait timeout exceeded")


def _sqlite_read_only(url: sa.URL) -> sa.URL:
    """The same database as a ``mode=ro`` URI; DatabaseUnreachable if the file does not exist.

    ``mode=ro`` makes SQLite refuse writes and refuse to create the file; without it, connecting
    to a mistyped path would silently create an empty database there.
    """
    database = url.database or ""
    query = dict(url.query)
    if str(query.get("uri", "")).lower() in ("true", "1"):  # already a SQLite URI filename
        uri = database
        path = urllib.parse.unquote(urllib.parse.urlsplit(database).path)
        memory = path == ":memory:" or query.get("mode") == "memory"
        if memory:
            uri = "file::memory:"
    elif database in ("", ":memory:"):
        uri, path, memory = "file::memory:", "", True  # empty and read-only: there is nothing to read
    else:
        path = str(Path(database).absolute())
        uri, memory = "file:" + urllib.parse.quote(path), False
    if not memory and not Path(path).exists():
        raise DatabaseUnreachable(f"cannot open {mask(url)}: database file does not exist")
    return url.set(database=uri, query={**query, "mode": "ro", "uri": "true"})


def reason(exc: BaseException, url: str, timeout: float) -> str:
    """A driver error as a short, one-line, password-free reason."""
    orig = getattr(exc, "orig", None) or exc
    args: tuple[object, ...] = getattr(orig, "args", ())
    if len(args) == 2 and isinstance(args[0], int) and isinstance(args[1], str):
        text = args[1].strip().splitlines()[0] if args[1].strip() else one_line(exc)  # MySQL: (errno, message)
    else:
        text = one_line(exc)
    text = re.sub(r"^connection failed: (connection to server at .*?, port \d+ failed: )?", "", text)
    text = re.sub(r"^(FATAL|ERROR):\s+", "", text)
    lowered = text.lower()
    if any(words in lowered for words in _STATEMENT_TIMEOUT):
        text = f"statement timeout: the server cancelled a statement that ran longer than {timeout:g} s"
    elif any(words in lowered for words in _LOCK_TIMEOUT) or "database is locked" in lowered:
        text = f"lock timeout: waited {timeout:g} s for a lock another session holds"
    elif "connection refused" in lowered:
        text = "connection refused"
    elif "timeout expired" in lowered or "timed out" in lowered:
        text = f"no answer within {timeout:g} s"
    return " ".join(scrub(text, url, parse(url)).split())
