"""Child process of :mod:`replay`: run ``alembic upgrade``/``downgrade`` with our own environment.

Run as ``python _replay_child.py WORKDIR MODE COMMAND TARGET DIR [DIR...]`` where MODE is ``online``
or ``offline``.  The database URL is read from the ``MA_REPLAY_URL`` environment variable (never
argv, which ``ps`` shows) and removed from the environment before any revision file runs.

It is executed by file path, possibly under the user's project interpreter (``--python``), so it
imports only the standard library, alembic and sqlalchemy.  It never uses the project's
``env.py``: that usually imports application code that may no longer exist.  Instead it writes a
minimal ``env.py`` into ``WORKDIR/script`` (online mode, ``target_metadata=None``,
``transaction_per_migration=True``) and points ``version_locations`` at the given directories.
Revision files are compiled from source: a ``__pycache__`` next to them is neither read nor written.

Unlike ``_alembic_probe.py`` there are no stand-in modules here: a revision that cannot be
imported cannot be replayed, and saying so is the finding.

Progress goes to the original stdout as JSON lines, one object per line, flushed at once, so the
parent knows which revision was running even if it has to kill this process::

    {"event": "loaded", "revisions": N}
    {"event": "running", "command": "upgrade", "revision": "abc"}
    {"event": "applied", "command": "upgrade", "revision": "abc"}
    {"event": "import_failed", "revision": "abc", "file": "versions/abc_x.py",
     "missing": "myapp", "imported": "myapp.types", "error": "..."}
    {"event": "failed", "command": "upgrade", "revision": "abc", "error": "..."}
    {"event": "error", "kind": "environment" | "driver" | "connect" | "alembic", "error": "..."}
    {"event": "finished", "applied": [...], "sql": "..." (offline only)}

Anything revision files print goes to stderr.
"""

from __future__ import annotations

import sys

# Running a script by path puts its directory first on sys.path; our package's sibling modules
# must not become importable top-level names for revision files.
if sys.path and sys.path[0]:
    try:
        import os as _os

        if _os.path.realpath(sys.path[0]) == _os.path.dirname(_os.path.realpath(__file__)):
            del sys.path[0]
    except Exception:  # pragma: no cover - defensive
        pass

sys.dont_write_bytecode = True  # never write __pycache__ into versions dirs

import ast  # noqa: E402
import contextlib  # noqa: E402
import functools  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import traceback  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from typing import Any  # noqa: E402

URL_VARIABLE = "MA_REPLAY_URL"
PATHS_VARIABLE = "MA_REPLAY_SYS_PATH"
_MAX_ERROR = 500

ENV_PY = '''"""Minimal Alembic environment of migration-archaeologist's replay.

Written by _replay_child.py; it never imports application code (target_metadata is None) and
connects to the URL the replay child was given, committing after every revision.
"""
from alembic import context

hooks = context.config.attributes["migration_archaeologist"]

if context.is_offline_mode():
    context.configure(
        url=hooks.url,
        target_metadata=None,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        transaction_per_migration=True,
        output_buffer=hooks.buffer,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    with hooks.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=None,
            transaction_per_migration=True,
            on_version_apply=hooks.on_version_apply,
        )
        with context.begin_transaction():
            context.run_migrations()
'''


class Reported(Exception):
    """Raised after the failure has already been sent to the parent as an event."""


def one_line(exc: BaseException) -> str:
    """First meaningful line; SQLAlchemy errors already start with ``(driver.ErrorClass)``."""
    text = str(exc).strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("(Background")]
    first = lines[0] if lines else ""
    if not (type(exc).__module__.startswith("sqlalchemy") and first.startswith("(")):
        first = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return first if len(first) <= _MAX_ERROR else first[: _MAX_ERROR - 1] + "…"


class Events:
    """JSON lines on a private duplicate of the original stdout."""

    def __init__(self) -> None:
        self._out = os.fdopen(os.dup(1), "w", encoding="utf-8")
        sys.stdout.flush()
        os.dup2(2, 1)  # even C-level prints of revision files land on stderr
        sys.stdout = sys.stderr

    def emit(self, event: str, **fields: Any) -> None:
        self._out.write(json.dumps({"event": event, **fields}) + "\n")
        self._out.flush()


# --------------------------------------------------------------------------
# Import failures of revision files
# --------------------------------------------------------------------------


def static_revision(path: str) -> str | None:
    """The literal ``revision = '...'`` of a file that failed to execute."""
    try:
        with open(path, "rb") as fh:
            tree = ast.parse(fh.read(), filename=path)
    except Exception:
        return None
    for node in tree.body:
        if isinstance(node, ast.Assign):
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names = [node.target.id]
        else:
            continue
        if "revision" in names and node.value is not None:
            try:
                value = ast.literal_eval(node.value)
            except Exception:
                return None
            return value if isinstance(value, str) else None
    return None


def imported_module(exc: BaseException, path: str) -> str | None:
    """The module named by the revision file's import statement that raised, e.g. ``myapp.types``
    when ``from myapp.types import GUID`` fails with "No module named 'myapp'"."""
    lineno = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if os.path.realpath(frame.filename) == os.path.realpath(path):
            lineno = frame.lineno
    if lineno is None:
        return None
    try:
        with open(path, "rb") as fh:
            tree = ast.parse(fh.read(), filename=path)
    except Exception:
        return None
    for node in ast.walk(tree):
        first = getattr(node, "lineno", None)
        if first is None:
            continue
        if not first <= lineno <= (getattr(node, "end_lineno", None) or first):
            continue
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            return node.module
        if isinstance(node, ast.Import):
            missing = getattr(exc, "name", None) or ""
            for alias in node.names:
                if alias.name == missing or alias.name.startswith(missing + "."):
                    return alias.name
            return node.names[0].name
    return None


class Loader:
    """Wraps Alembic's per-file loader: a file that fails to import is reported (all of them, not
    only the first) and skipped, and the replay then stops before touching the database."""

    def __init__(self, dirs: list[str], no_cache: str) -> None:
        self.dirs = dirs
        self.no_cache = no_cache
        self.failures: list[dict[str, Any]] = []

    @contextlib.contextmanager
    def source_only(self) -> Iterator[None]:
        """Compile revision files from their source, never from ``__pycache__``: a stale .pyc
        (an unchecked hash-based one is trusted blindly) would replay code that is not in the
        file.  Python looks for caches under ``sys.pycache_prefix``, here an empty directory."""
        previous = getattr(sys, "pycache_prefix", None)
        sys.pycache_prefix = self.no_cache
        try:
            yield
        finally:
            sys.pycache_prefix = previous

    def display(self, path: str) -> str:
        real = os.path.realpath(path)
        for d in self.dirs:
            root = os.path.realpath(d)
            if real.startswith(os.path.join(root, "")):
                return os.path.join(os.path.basename(root) or root, os.path.relpath(real, root))
        return path

    def install(self) -> None:
        from alembic.script import base as script_base

        script_cls = script_base.Script
        loader = self
        for attr in ("_from_path", "_from_filename"):  # 1.14+ / older alembic
            original = script_cls.__dict__.get(attr)
            if original is None:
                continue

            def wrapped(cls: type, scriptdir: Any, *args: Any, _orig: Callable[..., Any] = original.__func__) -> Any:
                path = os.fspath(args[0]) if len(args) == 1 else os.path.join(os.fspath(args[0]), os.fspath(args[1]))
                try:
                    with loader.source_only():
                        return _orig(cls, scriptdir, *args)
                except (Exception, SystemExit) as exc:
                    loader.failed(path, exc)
                    return None

            setattr(script_cls, attr, classmethod(wrapped))

    def failed(self, path: str, exc: BaseException) -> None:
        missing = getattr(exc, "name", None) if isinstance(exc, ModuleNotFoundError) else None
        self.failures.append(
            {
                "revision": static_revision(path) or os.path.splitext(os.path.basename(path))[0],
                "file": self.display(path),
                "missing": missing,
                "imported": imported_module(exc, path) if missing else None,
                "error": one_line(exc),
            }
        )


# --------------------------------------------------------------------------
# Hooks used by env.py
# --------------------------------------------------------------------------


class Hooks:
    """What env.py needs: the URL, the connection, the offline buffer and progress callbacks."""

    def __init__(self, events: Events, url: str, command: str) -> None:
        self.events = events
        self.url = url
        self.command = command
        self.buffer = io.StringIO()
        self.running: str | None = None
        self.applied: list[str | None] = []
        self.reported = False

    @contextlib.contextmanager
    def connect(self) -> Iterator[Any]:
        import sqlalchemy as sa

        try:
            engine = sa.create_engine(self.url, poolclass=sa.pool.NullPool)
        except ModuleNotFoundError as exc:
            self.report_error("driver", f"{sys.executable} has no driver for this database: {one_line(exc)}")
            raise Reported from None
        try:
            try:
                connection = engine.connect()
            except Exception as exc:
                self.report_error("connect", one_line(exc))
                raise Reported from None
            with connection:
                yield connection
        finally:
            engine.dispose()

    def on_version_apply(self, *, ctx: Any, step: Any, heads: Any, run_args: Any) -> None:
        revision = getattr(step, "up_revision_id", None) or self.running
        self.applied.append(revision)
        self.events.emit("applied", command=self.command, revision=revision)

    def wrap(self, revision: str, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            self.running = revision
            self.events.emit("running", command=name, revision=revision)
            try:
                return fn(*args, **kwargs)
            except BaseException as exc:
                self.report_failed(revision, name, exc)
                raise

        return run

    def report_failed(self, revision: str | None, name: str, exc: BaseException) -> None:
        if not self.reported:
            self.reported = True
            self.events.emit("failed", command=name, revision=revision, error=one_line(exc))

    def report_error(self, kind: str, error: str) -> None:
        if not self.reported:
            self.reported = True
            self.events.emit("error", kind=kind, error=error)


def instrument(script: Any, hooks: Hooks) -> int:
    """Wrap every revision's upgrade()/downgrade() so each announces itself before it runs."""
    count = 0
    for sc in script.walk_revisions():
        count += 1
        module = sc.module
        for name in ("upgrade", "downgrade"):
            fn = getattr(module, name, None)
            if callable(fn):
                setattr(module, name, hooks.wrap(sc.revision, name, fn))
    return count


def project_paths() -> list[str]:
    """The project's folders the parent sent, to go first on sys.path as Alembic's prepend_sys_path puts them."""
    try:
        paths = json.loads(os.environ.pop(PATHS_VARIABLE, "[]"))
    except ValueError:
        return []
    return [p for p in paths if isinstance(p, str)] if isinstance(paths, list) else []


def replay(events: Events, workdir: str, mode: str, command: str, target: str, dirs: list[str]) -> int:
    try:
        from alembic.config import Config
        from alembic.runtime.environment import EnvironmentContext
        from alembic.script import ScriptDirectory
        import sqlalchemy  # noqa: F401
    except Exception as exc:
        events.emit(
            "error", kind="environment", error=f"alembic is not importable by {sys.executable}: {one_line(exc)}"
        )
        return 2
    url = os.environ.pop(URL_VARIABLE, None)  # revision code must not see it
    if not url:
        events.emit("error", kind="environment", error=f"{URL_VARIABLE} is not set")
        return 2
    missing = [d for d in dirs if not os.path.isdir(d)]
    if missing:
        events.emit("error", kind="environment", error="versions directory does not exist: " + ", ".join(missing))
        return 2
    sys.path[:0] = project_paths()

    location = os.path.join(workdir, "script")
    os.makedirs(location, exist_ok=True)
    with open(os.path.join(location, "env.py"), "w", encoding="utf-8") as fh:
        fh.write(ENV_PY)

    no_cache = os.path.join(workdir, "no-pycache")
    os.makedirs(no_cache, exist_ok=True)
    hooks = Hooks(events, url, command)
    loader = Loader(dirs, no_cache)
    loader.install()
    script = ScriptDirectory(location, version_locations=[os.path.abspath(d) for d in dirs])
    try:
        script.get_heads()  # loads every revision file now, not in the middle of the replay
        count = instrument(script, hooks)
    except Exception as exc:
        if not loader.failures:
            events.emit("error", kind="alembic", error=one_line(exc))
            return 1
        count = 0
    if loader.failures:
        for failure in loader.failures:
            events.emit("import_failed", **failure)
        return 1
    events.emit("loaded", revisions=count)

    starting_rev = None
    if mode == "offline" and ":" in target:
        starting_rev, target = target.split(":", 1)

    def steps(rev: Any, context: Any) -> Any:
        if command == "upgrade":
            return script._upgrade_revs(target, rev)
        return script._downgrade_revs(target, rev)

    config = Config()
    config.attributes["migration_archaeologist"] = hooks
    try:
        with EnvironmentContext(
            config, script, fn=steps, as_sql=(mode == "offline"), starting_rev=starting_rev, destination_rev=target
        ):
            script.run_env()
    except Reported:
        return 1
    except Exception as exc:
        if hooks.running is not None and hooks.running not in hooks.applied:
            hooks.report_failed(hooks.running, command, exc)  # e.g. failed at COMMIT
        else:
            hooks.report_error("alembic", one_line(exc))
        return 1
    finished: dict[str, Any] = {"applied": hooks.applied}
    if mode == "offline":
        finished["sql"] = hooks.buffer.getvalue()
    events.emit("finished", **finished)
    return 0


def main(argv: list[str]) -> int:
    events = Events()
    if len(argv) < 5 or argv[1] not in ("online", "offline") or argv[2] not in ("upgrade", "downgrade"):
        events.emit(
            "error",
            kind="environment",
            error="usage: _replay_child.py WORKDIR online|offline upgrade|downgrade TARGET DIR...",
        )
        return 2
    workdir, mode, command, target, *dirs = argv
    try:
        return replay(events, workdir, mode, command, target, dirs)
    except BaseException as exc:  # last resort: still answer in JSON
        events.emit("error", kind="alembic", error=f"replay child failed: {one_line(exc)}")
        return 1


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stderr.flush()
    os._exit(code)  # revision files may have started non-daemon threads; do not wait for them
