"""Where the versions directories are: what ``alembic.ini`` or ``[tool.alembic]`` says, as Alembic reads them."""

from __future__ import annotations

import configparser
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".mypy_cache", "site-packages"}
MAX_DEPTH = 4


@dataclass(frozen=True)
class AlembicConfig:
    """One Alembic configuration found in the work tree."""

    path: Path  # the alembic.ini or pyproject.toml it came from
    script_location: Path | None
    versions_dirs: tuple[Path, ...]
    sqlalchemy_url: str | None


def find_configs(work_tree: Path) -> list[AlembicConfig]:
    """Every alembic.ini / pyproject ``[tool.alembic]`` within a few levels of the work tree root."""
    found: list[AlembicConfig] = []
    for path in _candidate_files(work_tree):
        config = read_config(path)
        if config is not None and config.versions_dirs:
            found.append(config)
    return found


def _candidate_files(root: Path) -> list[Path]:
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        depth = len(Path(dirpath).relative_to(root).parts)
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        if depth >= MAX_DEPTH:
            dirnames[:] = []
        for name in sorted(filenames):
            if name == "alembic.ini" or name.endswith(".ini") and name.startswith("alembic") or name == "pyproject.toml":
                out.append(Path(dirpath) / name)
    return out


def read_config(path: Path) -> AlembicConfig | None:
    """Read one config file; None when it holds no Alembic section or cannot be read."""
    here = path.parent
    if path.name == "pyproject.toml":
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return None
        section = data.get("tool", {}).get("alembic")
        if not isinstance(section, dict):
            return None
        script = section.get("script_location")
        locations = section.get("version_locations")
        if isinstance(locations, str):
            locations = _split_locations(locations, None)
        return _build(path, here, script if isinstance(script, str) else None, locations or None, None)
    parser = configparser.ConfigParser(defaults={"here": str(here)})
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, OSError, UnicodeDecodeError):
        return None
    if not parser.has_section("alembic"):
        return None
    get = lambda key: parser.get("alembic", key, fallback=None)  # noqa: E731
    try:
        script = get("script_location")
        raw_locations = get("version_locations")
        separator = get("version_path_separator")
        url = get("sqlalchemy.url")
    except configparser.Error:
        return None
    locations = _split_locations(raw_locations, separator) if raw_locations else None
    return _build(path, here, script, locations, url)


def _split_locations(raw: str, separator: str | None) -> list[str]:
    seps = {"os": os.pathsep, ":": ":", ";": ";", "space": " ", "newline": "\n", None: None}
    sep = seps.get(separator, None)
    if sep is None:
        return [part for part in re.split(r"[ ,\n]+", raw.strip()) if part]
    return [part.strip() for part in raw.split(sep) if part.strip()]


def _resolve(here: Path, value: str) -> Path | None:
    if ":" in value and not Path(value).is_absolute() and not re.match(r"^[A-Za-z]:[\\/]", value):
        return None  # a package resource like "myapp:migrations"; not a folder we can name
    candidate = Path(value)
    return candidate if candidate.is_absolute() else (here / candidate)


def _build(
    path: Path, here: Path, script: str | None, locations: list[str] | None, url: str | None
) -> AlembicConfig:
    script_path = _resolve(here, script) if script else None
    dirs: list[Path] = []
    if locations:
        dirs = [p for p in (_resolve(here, loc) for loc in locations) if p is not None]
    elif script_path is not None:
        dirs = [script_path / "versions"]
    return AlembicConfig(path, script_path, tuple(_normal(d) for d in dirs), url)


def _normal(path: Path) -> Path:
    return Path(os.path.normpath(path))


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
                return config.sqlalchemy_url, f"sqlalchemy.url in {config.path.relative_to(work_tree)}"
    return None, "none"
