"""Every Alembic environment in a work tree: the ini files, ``[tool.alembic]`` tables and Flask-Migrate
folders within ``MAX_DEPTH`` folders of the root, each read as Alembic reads it (:mod:`alembic_options`).

An environment is one ``script_location`` Alembic could be pointed at: a section of an ini file
(``alembic -c FILE --name SECTION``), ``[tool.alembic]`` of a pyproject.toml, or a Flask-Migrate
``migrations/`` folder. The text of an ini or pyproject.toml that history holds is read the same way
(``ini_text_environments``, ``toml_text_environment``): what that version would give Alembic back.
"""

from __future__ import annotations

import configparser
import os
import sys
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from migration_archaeologist.files.untrusted import read_regular_text
from migration_archaeologist.project.alembic_options import (
    NO_SCRIPT,
    AlembicConfig,
    Options,
    inside,
    one_line,
    read_environment,
)

SKIP_DIRS = {
    ".git",
    ".venv",
    "venv",
    "env",
    "node_modules",
    "bower_components",
    "__pycache__",
    ".tox",
    ".nox",
    ".mypy_cache",
    "site-packages",
    "build",
    "dist",
}
MAX_DEPTH = 6  # ckan: ckanext/activity/migration/activity/alembic.ini sits 4 folders down


def find_environments(work_tree: Path) -> list[AlembicConfig]:
    """Every environment within ``MAX_DEPTH`` folders of the root, usable or not (see ``problem``)."""
    root = Path(os.path.abspath(work_tree))
    folders = _walk(root)
    found: list[AlembicConfig] = []
    for folder, (files, _dirs) in folders.items():
        found.extend(_folder_environments(root, folder, files))
    claimed = {env.script_location for env in found if env.script_location is not None}
    for folder, (files, dirs) in folders.items():
        flask = _flask_migrate(root, folder, files, dirs, found)
        if flask is not None and folder not in claimed:
            found = [env for env in found if env.path != flask.path]  # its ini, reported without script_location
            found.append(flask)
    # An ini without script_location inside another environment's script folder belongs to that one.
    found = [env for env in found if not (_lacks_script(env) and env.path.parent in claimed)]
    return sorted(found, key=lambda env: (env.path.parts, env.section != "alembic", env.section))


# -- walking -------------------------------------------------------------------------------------


def _walk(root: Path) -> dict[Path, tuple[set[str], set[str]]]:
    """Folders holding an .ini, a pyproject.toml or an env.py: their file and sub-folder names."""
    out: dict[Path, tuple[set[str], set[str]]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        depth = len(here.relative_to(root).parts)
        if "pyvenv.cfg" in filenames and depth:  # a virtualenv under any name
            dirnames[:] = []
            continue
        dirnames[:] = sorted(
            d for d in dirnames if d not in SKIP_DIRS and not d.startswith(".") and not d.endswith(".egg-info")
        )
        names = set(filenames)
        if names & {"pyproject.toml", "env.py"} or any(n.endswith(".ini") for n in names):
            out[here] = (names, set(dirnames))
        if depth >= MAX_DEPTH:
            dirnames[:] = []
    return out


def _readable(root: Path, path: Path) -> bool:
    """A regular file, and not a link leading out of the repository."""
    return path.is_file() and (not path.is_symlink() or inside(root, path.resolve()))


# -- one folder: its ini files and pyproject.toml ------------------------------------------------------


def _folder_environments(root: Path, folder: Path, files: set[str]) -> list[AlembicConfig]:
    toml_path = folder / "pyproject.toml"
    toml, toml_problem = (
        _read_toml(toml_path) if "pyproject.toml" in files and _readable(root, toml_path) else (None, None)
    )
    out: list[AlembicConfig] = []
    for name in sorted(n for n in files if n.endswith(".ini")):
        path = folder / name
        if _readable(root, path):
            out.extend(_ini_environments(root, path, toml))
    has_default_ini = any(env.path.name == "alembic.ini" and env.section == "alembic" for env in out)
    if toml_problem is not None:
        out.append(AlembicConfig(toml_path, None, (), None, "tool.alembic", kind="pyproject", problem=toml_problem))
    elif toml is not None and not has_default_ini:
        # with an alembic.ini [alembic] beside it, Alembic reads both as one: see _ini_environments
        out.append(read_environment(root, Options(toml_path, None, "tool.alembic", toml), "pyproject"))
    return out


def _read_toml(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    """``[tool.alembic]`` and, when a file that mentions it cannot be read, why."""
    try:
        text = read_regular_text(path)
    except (OSError, UnicodeDecodeError):
        return None, None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return (None, f"cannot be read: {one_line(exc)}") if "tool.alembic" in text else (None, None)
    tool = data.get("tool")
    section = tool.get("alembic") if isinstance(tool, dict) else None
    if section is None:
        return None, None
    if not isinstance(section, dict):
        return None, "[tool.alembic] is not a table (Alembic: Incorrect TOML format)"
    return section, None


def toml_text_environment(root: Path, path: Path, text: str) -> AlembicConfig | None:
    """The environment ``[tool.alembic]`` of a pyproject.toml holding ``text`` at ``path`` gives,
    whether or not the file is there now; None when it has no such table."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None
    tool = data.get("tool")
    section = tool.get("alembic") if isinstance(tool, dict) else None
    if not isinstance(section, dict):
        return None
    return read_environment(root, Options(path, None, "tool.alembic", section, path), "pyproject")


def _ini_environments(root: Path, path: Path, toml: dict[str, Any] | None) -> list[AlembicConfig]:
    try:
        text = read_regular_text(path)
    except (OSError, UnicodeDecodeError) as exc:
        return [_unreadable(path, exc)] if path.name.startswith("alembic") else []
    return ini_text_environments(root, path, text, toml)


def ini_text_environments(root: Path, path: Path, text: str, toml: dict[str, Any] | None = None) -> list[AlembicConfig]:
    """The environments an ini holding ``text`` at ``path`` gives, whether or not the file is there
    now: what a version of ``alembic.ini`` that history holds would give Alembic back."""
    if not path.name.startswith("alembic") and "script_location" not in text:
        return []  # tox.ini, setup.cfg-like files: not Alembic's
    try:
        parser = _parse_ini(path, text)
    except configparser.Error as exc:
        return [_unreadable(path, exc)]
    defaults = parser.defaults()
    sections = [
        s
        for s in parser.sections()
        if parser.has_option(s, "script_location") and ("script_location" not in defaults or s == "alembic")
    ]
    toml_path = path.parent / "pyproject.toml"
    if "alembic" not in sections and parser.has_section("alembic") and toml and "script_location" in toml:
        sections.insert(0, "alembic")  # script_location from [tool.alembic], the rest from the ini first
    out = [read_environment(root, Options(path, parser, s, toml, toml_path), "ini") for s in sections]
    if not out and parser.has_section("alembic") and path.name.startswith("alembic"):
        # Maybe Flask-Migrate's (its program sets script_location); find_environments decides.
        out.append(read_environment(root, Options(path, parser, "alembic", toml, toml_path), "ini"))
    return out


def _parse_ini(path: Path, text: str) -> configparser.ConfigParser:
    """As ``Config.file_config``: a plain ConfigParser whose defaults hold ``here``."""
    parser = configparser.ConfigParser(defaults={"here": path.parent.absolute().as_posix()})
    parser.read_string(text, source=str(path))
    return parser


def _unreadable(path: Path, exc: BaseException) -> AlembicConfig:
    return AlembicConfig(path, None, (), None, problem=f"cannot be read: {one_line(exc)}")


# -- Flask-Migrate ------------------------------------------------------------------------------


def _flask_migrate(
    root: Path, folder: Path, files: set[str], dirs: set[str], found: list[AlembicConfig]
) -> AlembicConfig | None:
    """Flask-Migrate's folder: env.py beside an alembic.ini without script_location (the program
    sets it to the folder), or ``migrations/`` with env.py and versions/ and no ini at all."""
    if "env.py" not in files:
        return None
    ini = folder / "alembic.ini"
    if "alembic.ini" in files:
        mine = [env for env in found if env.path == ini]
        if mine and (len(mine) > 1 or not _lacks_script(mine[0])):
            return None  # it names its own script_location, or cannot be read
        try:
            parser = _parse_ini(ini, read_regular_text(ini))
        except (OSError, UnicodeDecodeError, configparser.Error):
            return None
        return read_environment(root, Options(ini, parser, "alembic", None), "flask-migrate", script_folder=folder)
    if "versions" not in dirs or not (folder.name == "migrations" or _mentions_flask(folder / "env.py")):
        return None
    return read_environment(root, Options(folder, None, "alembic", None), "flask-migrate", script_folder=folder)


def _lacks_script(env: AlembicConfig) -> bool:
    return env.problem is not None and env.problem.startswith(NO_SCRIPT)


def _mentions_flask(env_py: Path) -> bool:
    try:
        text = read_regular_text(env_py, errors="replace")
    except OSError:
        return False
    return "flask" in text.lower()
