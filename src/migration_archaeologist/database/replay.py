"""Scratch databases, and replaying a recovered revision chain in them.

A recovered chain is only proven when Alembic can run it: ``upgrade`` to the head and ``downgrade``
back to base in a database nobody else uses.  :func:`scratch_database` makes that database on the
live database's server (or a temp SQLite file) and always drops it again, also on Ctrl-C.
:func:`run_alembic` runs Alembic in a child process (``_replay_child.py``) with our own minimal
``env.py``: revision files are arbitrary code, the project's ``env.py`` imports an application that
may be gone, and a hung migration must be killable.  URLs reach the child through its environment,
never argv, and every message is scrubbed of passwords.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from migration_archaeologist.database.urls import DatabaseUnreachable, engine, mask, one_line, parse, scrub
from migration_archaeologist.errors import (
    EXIT_FINDINGS,
    ArchaeologistError,
    EnvironmentProblem,
    UsageError,
)

__all__ = [
    "CHILD_PATH",
    "ReplayFailed",
    "Scratch",
    "ScratchIsLive",
    "ScratchLeftBehind",
    "ScratchRefused",
    "StepResult",
    "render_offline_sql",
    "run_alembic",
    "same_database",
    "scratch_database",
]

#: The child script; run by path so any interpreter with alembic + sqlalchemy can run it.
CHILD_PATH: Path = Path(__file__).with_name("_replay_child.py")
#: Environment variable carrying the URL to the child (argv is visible in ``ps``).
URL_VARIABLE = "MA_REPLAY_URL"

_DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306}
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}
_CONNECT_TIMEOUT = 10
_SCRATCH_HINT = "give an empty database to replay into with --scratch-url"


class ScratchRefused(EnvironmentProblem):
    """The server would not let us CREATE DATABASE (exit 3); ``--scratch-url`` is the way out."""


class ScratchIsLive(UsageError):
    """The scratch database is the live database: replaying there would alter production data."""


class ReplayFailed(ArchaeologistError):
    """A revision's upgrade()/downgrade() raised, its file could not be imported, or the replay
    timed out: a finding about the chain (exit 1), not about the environment."""

    exit_code = EXIT_FINDINGS

    def __init__(self, message: str, revision: str | None = None) -> None:
        super().__init__(message)
        self.revision = revision


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


@dataclass(frozen=True)
class StepResult:
    """One ``alembic upgrade``/``downgrade`` that ran to completion."""

    command: str
    target: str
    applied: tuple[str, ...]
    """Revisions whose upgrade()/downgrade() ran and were committed, in order."""
    seconds: float


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


def _refuse_live(scratch_url: str | sa.URL, live_url: str | sa.URL) -> None:
    if same_database(scratch_url, live_url):
        raise ScratchIsLive(f"the scratch database must not be the live database ({mask(live_url)})")


def _scrub(message: str, *urls: str | sa.URL) -> str:
    """:func:`urls.scrub`, plus the percent-encoded forms a URL string carries."""
    message = scrub(message, *urls)
    for url in urls:
        try:
            password = (url if isinstance(url, sa.URL) else sa.make_url(url)).password
        except Exception:  # noqa: BLE001 - scrubbing must never fail
            continue
        if password:
            for form in {urllib.parse.quote(str(password), safe=""), urllib.parse.quote_plus(str(password))}:
                message = message.replace(form, "***")
    return message


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
    _refuse_live(scratch, live)
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


# --------------------------------------------------------------------------
# The child process
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _ChildRun:
    events: tuple[dict[str, Any], ...]
    returncode: int | None
    stderr: str
    timed_out: bool
    seconds: float


def _kill(proc: subprocess.Popen[bytes]) -> tuple[bytes, bytes]:
    """Kill the child and anything a revision file started (it leads its own process group);
    returns what it wrote before it died."""
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # pragma: no cover
            proc.kill()
    except OSError:
        pass
    try:
        return proc.communicate(timeout=5)  # output read before the kill is kept
    except (subprocess.TimeoutExpired, OSError, ValueError):  # a grandchild left the group, holding a pipe
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        proc.wait()
        return b"", b""


def _dirs(versions_dirs: Sequence[Path] | Path) -> list[str]:
    if isinstance(versions_dirs, (str, os.PathLike)):
        versions_dirs = [Path(versions_dirs)]
    dirs = [str(Path(d).expanduser().resolve()) for d in versions_dirs]
    if not dirs:
        raise UsageError("no versions directories given")
    missing = [d for d in dirs if not Path(d).is_dir()]
    if missing:
        raise UsageError("versions directory does not exist: " + ", ".join(missing))
    return dirs


def _clean(value: Any, urls: Sequence[str]) -> Any:
    if isinstance(value, str):
        return _scrub(value, *urls)
    if isinstance(value, list):
        return [_clean(v, urls) for v in value]
    if isinstance(value, dict):
        return {k: _clean(v, urls) for k, v in value.items()}
    return value


def _run_child(
    mode: str,
    command: str,
    target: str,
    dirs: list[str],
    url: str,
    python: str | None,
    timeout: float,
    also_scrub: Sequence[str] = (),
) -> _ChildRun:
    """Run the child and collect its JSON events, every string in them scrubbed of the passwords
    of ``url`` and ``also_scrub`` (a driver error may quote its DSN)."""
    interpreter = python or sys.executable
    env = dict(os.environ)
    env.update({URL_VARIABLE: url, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONIOENCODING": "utf-8", "PYTHONSAFEPATH": "1"})
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ma-replay-") as workdir:
        try:
            proc = subprocess.Popen(
                [interpreter, str(CHILD_PATH), workdir, mode, command, target, *dirs],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=workdir,
                env=env,
                start_new_session=(os.name == "posix"),
            )
        except OSError as exc:
            raise EnvironmentProblem(f"could not run {interpreter}: {exc.strerror or exc}") from None
        timed_out = False
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            stdout, stderr = _kill(proc)
        except BaseException:  # Ctrl-C: the child must not outlive us (nor keep the scratch busy)
            _kill(proc)
            raise
    events = []
    for line in stdout.decode("utf-8", errors="replace").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and isinstance(event.get("event"), str):
            events.append(_clean(event, [url, *also_scrub]))
    text = _scrub(stderr.decode("utf-8", errors="replace"), url, *also_scrub)
    return _ChildRun(tuple(events), proc.returncode, text, timed_out, time.monotonic() - started)


def _import_failure(event: dict[str, Any], interpreter: str) -> str:
    where = f"revision {event.get('revision')} ({event.get('file')})"
    missing, imported, error = event.get("missing"), event.get("imported"), event.get("error")
    if not missing:
        return f"{where} failed to load: {error}"
    module = imported if imported and (imported == missing or imported.startswith(missing + ".")) else None
    shown = module or imported or missing
    detail = "" if module else f" ({error})"
    return (
        f"{where} imports '{shown}', which is not importable by {interpreter}{detail}: "
        f"run with --python /path/to/your/project/venv/bin/python, or install it"
    )


def _outcome(
    run: _ChildRun, command: str, target: str, display: str, interpreter: str, timeout: float
) -> dict[str, Any]:
    """The child's ``finished`` event, or the right exception for how it ended."""
    running: str | None = None
    applied: list[str | None] = []
    loaded = False
    imports = []
    for event in run.events:
        kind = event["event"]
        if kind == "loaded":
            loaded = True
        elif kind == "running":
            running = event.get("revision")
        elif kind == "applied":
            applied.append(event.get("revision"))
        elif kind == "import_failed":
            imports.append(event)
        elif kind == "finished":
            return event
        elif kind == "failed":
            rev = event.get("revision")
            raise ReplayFailed(f"{rev}: {event.get('command', command)}() failed: {event.get('error')}", rev)
        elif kind == "error":
            error = str(event.get("error"))
            if event.get("kind") == "connect":
                raise DatabaseUnreachable(f"cannot connect to the scratch database {display}: {error}")
            if event.get("kind") in ("environment", "driver"):
                raise EnvironmentProblem(error)
            raise ReplayFailed(f"alembic {command} {target} failed: {error}", running)
    if imports:
        raise ReplayFailed("; ".join(_import_failure(e, interpreter) for e in imports), imports[0].get("revision"))
    if run.timed_out:
        if running is not None and running not in applied:
            where = f"during {running} {command}()"
        elif loaded:
            where = f"after {len(applied)} revisions ran" if applied else "before any revision ran (connecting?)"
        else:
            where = "while loading the revision files"
        raise ReplayFailed(
            f"{command} {target} timed out after {timeout:g} s {where}", running if running not in applied else None
        )
    lines = [ln.strip() for ln in run.stderr.splitlines() if ln.strip()]
    last = f": {lines[-1]}" if lines else ""
    raise ReplayFailed(
        f"the replay process ended without a result (exit code {run.returncode}){last}",
        running if running not in applied else None,
    )


def run_alembic(
    versions_dirs: Sequence[Path] | Path,
    scratch: Scratch,
    command: str,
    target: str,
    *,
    live_url: str,
    python: str | None = None,
    timeout: float = 600.0,
) -> StepResult:
    """``alembic upgrade|downgrade TARGET`` against ``scratch`` in a child process.

    The child (``_replay_child.py``, run under ``python`` or ``sys.executable``) uses our own
    ``env.py``, never the project's, with ``version_locations = versions_dirs`` and one
    transaction per revision.  It is killed with its whole process group after ``timeout``
    seconds.  Raises :class:`ScratchIsLive` before anything runs if the scratch database is the
    live one, :class:`ReplayFailed` naming the revision that failed, could not be imported or
    hung; messages never carry a password.
    """
    if command not in ("upgrade", "downgrade"):
        raise UsageError(f"unknown alembic command {command!r}: expected upgrade or downgrade")
    _refuse_live(scratch.url, live_url)
    dirs = _dirs(versions_dirs)
    interpreter = python or sys.executable
    url = parse(scratch.url).render_as_string(hide_password=False)
    run = _run_child("online", command, target, dirs, url, python, timeout, also_scrub=(scratch.url, live_url))
    finished = _outcome(run, command, target, scratch.display, interpreter, timeout)
    applied = tuple(str(r) for r in finished.get("applied") or ())
    return StepResult(command=command, target=target, applied=applied, seconds=run.seconds)


def dialect_name(dialect_url: str) -> str:
    """``postgresql`` for a URL or a bare dialect name; a usage error (exit 2) for neither."""
    try:
        return sa.make_url(dialect_url if "://" in dialect_url else dialect_url + "://").get_backend_name()
    except (sa.exc.ArgumentError, ValueError):  # ValueError: a port that is not a number (an unescaped password)
        raise UsageError(f"not a database URL or dialect name: {mask(dialect_url)}") from None


def render_offline_sql(
    versions_dirs: Sequence[Path] | Path,
    dialect_url: str,
    target: str,
    *,
    python: str | None = None,
    timeout: float = 600.0,
) -> str:
    """The SQL of ``alembic upgrade base:TARGET --sql`` for ``dialect_url``'s dialect.

    Only the dialect name reaches the child (host, user and password are dropped), so no
    connection can be made.  SQLite batch migrations cannot render offline (they need to reflect
    the table) and fail with :class:`ReplayFailed`.
    """
    dirs = _dirs(versions_dirs)
    dialect = dialect_name(dialect_url)
    span = target if ":" in target else f"base:{target}"
    run = _run_child("offline", "upgrade", span, dirs, f"{dialect}://", python, timeout)
    finished = _outcome(run, "upgrade", span, f"{dialect}://", python or sys.executable, timeout)
    return str(finished.get("sql") or "")
