"""Child process of :mod:`models_schema`: import the application's models and create them in a scratch database.

Run as ``python _models_child.py WORKDIR SYS_PATHS TARGET [TARGET...]`` where SYS_PATHS is a JSON list
of folders put first on ``sys.path`` and each TARGET is ``module:attribute`` (``app.models:Base``,
``app.db:metadata``, ``app:db.metadata``). The scratch database's URL is read from the
``MA_MODELS_URL`` environment variable (never argv) and removed before any application code runs.

The models are application code: they are imported here, in a child process under the user's
interpreter (``--python``), never in the tool. Nothing of the application crosses back but JSON
events; its ``MetaData`` crosses as the schema ``create_all`` builds in the scratch database, which
the parent then reflects and compares with the live database. Only the standard library and
SQLAlchemy are imported besides the application.

Events, one JSON object per line on the original stdout (whatever the application prints goes to
stderr)::

    {"event": "import_failed", "target": "app.models:Base", "missing": "flask", "error": "..."}
    {"event": "not_found", "target": "app.models:Base", "error": "..."}
    {"event": "not_metadata", "target": "app.models:Base", "found": "int"}
    {"event": "error", "kind": "connect" | "create" | "environment", "error": "..."}
    {"event": "finished", "tables": ["projects", ...], "skipped": ["audit.log", ...]}
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from typing import Any

_HERE = os.path.dirname(os.path.realpath(__file__))
# Events and one_line are the replay child's: load that file by path (importing it removes our
# folder from sys.path, so the package's modules never become importable names for the application).
_spec = importlib.util.spec_from_file_location("_ma_replay_child", os.path.join(_HERE, "_replay_child.py"))
assert _spec is not None and _spec.loader is not None
_replay_child = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_replay_child)
if sys.path and sys.path[0] and os.path.realpath(sys.path[0]) == _HERE:
    del sys.path[0]

URL_VARIABLE = "MA_MODELS_URL"


def _metadatas(obj: Any, seen: int = 0) -> list[Any] | None:
    """The MetaData(s) an object stands for, as Alembic's ``target_metadata`` takes them: a MetaData,
    anything with one as ``.metadata`` (a declarative Base, Flask-SQLAlchemy's ``db``), or a list of those."""
    import sqlalchemy as sa

    if isinstance(obj, sa.MetaData):
        return [obj]
    inner = getattr(obj, "metadata", None)
    if isinstance(inner, sa.MetaData):
        return [inner]
    if isinstance(obj, (list, tuple)) and obj and seen < 2:
        found = [_metadatas(item, seen + 1) for item in obj]
        return None if any(f is None for f in found) else [m for f in found if f for m in f]
    return None


def _attribute(obj: Any, name: str) -> Any:
    """``getattr``, or a submodule of a package not imported yet (``import app.models`` in env.py,
    then ``app.models.Base``: the target is ``app:models.Base``)."""
    try:
        return getattr(obj, name)
    except AttributeError:
        if not isinstance(obj, type(sys)) or not hasattr(obj, "__path__"):
            raise  # a module that is no package has no submodules to import
        try:
            return importlib.import_module(f"{obj.__name__}.{name}")  # scratch-db: the models, built only there
        except ModuleNotFoundError as exc:
            if exc.name != f"{obj.__name__}.{name}":
                raise
            raise AttributeError(f"module '{obj.__name__}' has no attribute '{name}'") from None


def _resolve(events: Any, target: str) -> list[Any] | None:
    module_name, _, attribute = target.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)  # scratch-db: application models, in this child only
    except BaseException as exc:  # noqa: BLE001 - SystemExit and all: application code, reported as one line
        missing = getattr(exc, "name", None) if isinstance(exc, ModuleNotFoundError) else None
        events.emit("import_failed", target=target, missing=missing, error=_replay_child.one_line(exc))
        return None
    for part in [p for p in attribute.split(".") if p]:
        try:
            obj = _attribute(obj, part)
        except BaseException as exc:  # noqa: BLE001 - a property of the application's may raise anything
            events.emit("not_found", target=target, error=_replay_child.one_line(exc))
            return None
    found = _metadatas(obj)
    if found is None:
        events.emit("not_metadata", target=target, found=type(obj).__name__)
    return found


def create(events: Any, url: str, paths: list[str], targets: list[str]) -> int:
    sys.path[:0] = paths
    metadatas: list[Any] = []
    for target in targets:
        found = _resolve(events, target)
        if found is None:
            return 1
        metadatas.extend(m for m in found if all(m is not known for known in metadatas))
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        backend = engine.dialect.name
    except Exception as exc:  # noqa: BLE001
        events.emit("error", kind="connect", error=_replay_child.one_line(exc))
        return 1
    # only PostgreSQL has schemas we may create in a scratch database; elsewhere a schema is another database
    keep = [[t for t in m.sorted_tables if t.schema is None or backend == "postgresql"] for m in metadatas]
    skipped = sorted({t.fullname for m in metadatas for t in m.sorted_tables} - {t.fullname for k in keep for t in k})
    try:
        with engine.begin() as conn:
            for schema in sorted({t.schema for tables in keep for t in tables if t.schema}):
                quoted = conn.dialect.identifier_preparer.quote_schema(schema)
                conn.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {quoted}"))
            for index, metadata in enumerate(metadatas):  # zip(strict=) is 3.10+: the user's Python may be older
                metadata.create_all(conn, tables=keep[index])
    except Exception as exc:  # noqa: BLE001 - the models' own DDL failed: said in one line
        events.emit("error", kind="create", error=_replay_child.one_line(exc))
        return 1
    finally:
        engine.dispose()
    events.emit("finished", tables=sorted(t.fullname for tables in keep for t in tables), skipped=skipped)
    return 0


def main(argv: list[str]) -> int:
    events = _replay_child.Events()
    url = os.environ.pop(URL_VARIABLE, None)
    try:
        paths = json.loads(argv[1]) if len(argv) > 2 else None
    except ValueError:
        paths = None
    if url is None or not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        events.emit("error", kind="environment", error="usage: _models_child.py WORKDIR SYS_PATHS TARGET...")
        return 2
    try:
        return create(events, url, paths, argv[2:])
    except BaseException as exc:  # last resort: still answer in JSON
        events.emit("error", kind="create", error=f"models child failed: {_replay_child.one_line(exc)}")
        return 1


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stderr.flush()
    os._exit(code)  # the application may have started non-daemon threads; do not wait for them
