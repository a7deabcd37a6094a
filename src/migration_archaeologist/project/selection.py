"""Which Alembic environment to use: the usable ones (``find_configs``), ``-c FILE`` / ``--name SECTION``
(``select_config``), and the database URL. Discovery and reading live in ``environments``."""

from __future__ import annotations

import os
from pathlib import Path

from migration_archaeologist.project.alembic_options import AlembicConfig
from migration_archaeologist.project.environments import MAX_DEPTH, SKIP_DIRS, find_environments
from migration_archaeologist.errors import EnvironmentProblem, UsageError

__all__ = ["MAX_DEPTH", "SKIP_DIRS", "AlembicConfig", "find_configs", "find_environments", "select_config"]


def find_configs(work_tree: Path) -> list[AlembicConfig]:
    """The environments that can be used as written: no ``problem``, at least one versions directory."""
    return [env for env in find_environments(work_tree) if env.problem is None and env.versions_dirs]


def select_config(
    configs: list[AlembicConfig],
    config_file: Path | None = None,
    name: str | None = None,
    work_tree: Path | None = None,
) -> AlembicConfig:
    """The one environment ``-c FILE`` / ``--name SECTION`` choose among ``configs`` (from ``find_environments``).

    As Alembic: ``-c FILE`` alone means its ``[alembic]`` section; ``--name`` alone picks that section in
    whichever file holds it. Without either, there must be exactly one environment. A relative FILE is
    read against ``work_tree`` first, then the current directory. Nothing, or more than one, matching is
    a UsageError; the one chosen having a ``problem`` is an EnvironmentProblem.
    """
    root = Path(os.path.abspath(work_tree)) if work_tree is not None else None
    pool = list(configs)
    if config_file is not None:
        wanted = _wanted_paths(config_file, root)
        pool = [c for c in pool if _named_by(c, wanted)]
        if not pool:
            shown = ", ".join(_labels(configs, root)) or "none"
            raise UsageError(f"no Alembic environment in {config_file} (found: {shown})")
    if name is not None:
        named = [c for c in pool if c.section == name]
        if not named:
            where = str(config_file) if config_file is not None else "any configuration"
            sections = ", ".join(sorted({c.section for c in pool if c.kind != "pyproject"})) or "none"
            raise UsageError(f"no section [{name}] with script_location in {where} (sections: {sections})")
        pool = named
    elif config_file is not None and len(pool) > 1:
        main = [c for c in pool if c.section in ("alembic", "tool.alembic")]
        if len(main) != 1:
            sections = ", ".join(c.section for c in pool)
            raise UsageError(f"{config_file} holds several environments ({sections}): choose one with --name SECTION")
        pool = main
    if len(pool) > 1:
        shown = ", ".join(_labels(pool, root))
        raise UsageError(f"several Alembic environments found ({shown}): choose one with -c FILE and --name SECTION")
    if not pool:
        raise UsageError("no Alembic environment found (no alembic.ini, [tool.alembic] or Flask-Migrate folder)")
    chosen = pool[0]
    if chosen.problem is not None:
        raise EnvironmentProblem(f"{chosen.label(root)}: {chosen.problem}")
    return chosen


def _wanted_paths(config_file: Path, root: Path | None) -> list[Path]:
    paths = [Path(config_file)] if Path(config_file).is_absolute() else [Path(config_file).absolute()]
    if root is not None and not Path(config_file).is_absolute():
        paths.insert(0, Path(root) / config_file)
    return [Path(os.path.normpath(p)) for p in paths]


def _named_by(config: AlembicConfig, wanted: list[Path]) -> bool:
    """Its file; for Flask-Migrate also its folder (Flask-Migrate's ``--directory``)."""
    if _same(config.path, wanted):
        return True
    return (
        config.kind == "flask-migrate" and config.script_location is not None and _same(config.script_location, wanted)
    )


def _same(path: Path, wanted: list[Path]) -> bool:
    return any(path == w or (path.exists() and w.exists() and path.samefile(w)) for w in wanted)


def _labels(configs: list[AlembicConfig], root: Path | None) -> list[str]:
    return [c.label(root) + (" (unusable)" if c.problem else "") for c in configs]


def resolve_database_url(explicit: str | None, work_tree: Path | None) -> tuple[str | None, str]:
    """``--db``, else ``DATABASE_URL``, else ``sqlalchemy.url`` from alembic.ini; and where it came from."""
    if explicit:
        return explicit, "--db"
    env = os.environ.get("DATABASE_URL")
    if env:
        return env, "DATABASE_URL"
    if work_tree is not None:
        for config in find_configs(work_tree):
            if config.sqlalchemy_url and "%(" not in config.sqlalchemy_url and "driver://" not in config.sqlalchemy_url:
                return config.sqlalchemy_url, f"sqlalchemy.url in {config.label(Path(os.path.abspath(work_tree)))}"
    return None, "none"
