"""Models vs database: the founding report's "zero drift between models and database", checked.

The replay proves that the chain builds the live schema; that is a different question from whether
the application's models (``target_metadata``) describe it: a chain can match the database while
the models have moved on (the next ``alembic revision --autogenerate`` would then hold surprises).
The models are built in a scratch database by a child process (:mod:`models_schema`) and compared
with the live database (read-only) by the same comparison as the replay, marked ``models``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from migration_archaeologist.chain.scan_result import ScanResult
from migration_archaeologist.database.differences import MODELS, Difference
from migration_archaeologist.database.drift import schema_drift
from migration_archaeologist.database.models_schema import ModelsUnavailable, create_models
from migration_archaeologist.database.scratch import ScratchRefused, scratch_database
from migration_archaeologist.project.target_metadata import (
    ModelsSpec,
    NoModels,
    from_env_py,
    import_roots,
    models_option,
)

__all__ = ["ModelsComparison", "compare_models", "models_for", "project_paths"]


@dataclass(frozen=True)
class ModelsComparison:
    """The models (``target_metadata``) against the live database."""

    models: str  # "app.models:Base.metadata"
    origin: str  # "--models", or the env.py that names them
    differences: tuple[Difference, ...]
    tables: int  # the models' tables compared
    skipped: tuple[str, ...]  # tables in another schema: not compared
    note: str | None = None  # why they were not compared (env.py's models, not importable here)

    @property
    def compared(self) -> bool:
        return self.note is None

    @property
    def in_sync(self) -> bool:
        return self.compared and not self.differences


def models_for(result: ScanResult, values: Sequence[str] = (), *, default: bool = True) -> ModelsSpec | NoModels:
    """``--models`` values, else (``default``) what env.py's ``target_metadata`` names; either way with
    the project's import folders, which the replay uses too (finding them walks the work tree: once)."""
    script, paths = _environment(result)
    if values:
        return models_option(values, paths)
    if not default:
        return NoModels("--no-models", tuple(paths))
    env_py = script / "env.py" if script is not None else None
    if env_py is None or not env_py.is_file():
        return NoModels("no env.py names the models: give --models MODULE:ATTR", tuple(paths))
    found = from_env_py(env_py, paths, result.relative(env_py))
    return replace(found, paths=tuple(paths)) if isinstance(found, NoModels) else found


def project_paths(result: ScanResult) -> list[Path]:
    """Where the application is imported from, for the replay's revision files when no models were asked about."""
    return _environment(result)[1]


def _environment(result: ScanResult) -> tuple[Path | None, list[Path]]:
    """The script folder of the environment whose versions directories the scan judged (without one,
    the versions directory's parent: Alembic's ``script_location/versions`` layout), and the folders
    its application is imported from."""
    from migration_archaeologist.chain.versions_directory import environments_of

    root = result.repository.work_tree
    dirs = {d.resolve() for d in result.versions_dirs}
    for env in environments_of(result.repository):  # none without a work tree
        if root is not None and env.script_location is not None and dirs & {d.resolve() for d in env.versions_dirs}:
            return env.script_location, import_roots(root, env.path, env.script_location, env.sys_paths)
    parent = next((d.parent for d in result.versions_dirs if (d.parent / "env.py").is_file()), None)
    return parent, import_roots(root, None, parent) if root is not None else []


def compare_models(
    db_url: str,
    spec: ModelsSpec,
    *,
    python: str | None = None,
    timeout: float = 600.0,
    ignore_tables: Sequence[str] = ("alembic_version",),
    strict: bool = True,
) -> ModelsComparison:
    """Build the models in a scratch database and compare the live database with it.

    Models given with ``--models`` that cannot be built raise (exit 3) when ``strict``; env.py's,
    which nobody asked for by name, become a note: the rest of ``verify`` still stands. ``recover``
    is never strict: its files are written by then, and its report must not be lost to the models.
    """
    try:
        with scratch_database(db_url) as scratch:
            built = create_models(spec.targets, spec.paths, scratch, python=python, timeout=timeout)
            differences = schema_drift(db_url, scratch.url, ignore_tables=ignore_tables, side=MODELS)
    except (ModelsUnavailable, ScratchRefused) as exc:
        if strict and spec.origin == "--models":
            raise
        return ModelsComparison(spec.text, spec.origin, (), 0, (), f"{exc.message} (named by {spec.origin})")
    return ModelsComparison(spec.text, spec.origin, differences, len(built.tables), built.skipped)
