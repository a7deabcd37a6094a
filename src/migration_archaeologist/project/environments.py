"""Every Alembic environment in a work tree, read statically the way Alembic's own config reading does.

An environment is one ``script_location`` Alembic could be pointed at: a section of an ini file
(``alembic -c FILE --name SECTION``), ``[tool.alembic]`` of a pyproject.toml, or a Flask-Migrate
``migrations/`` folder. Nothing from the repository is imported or run; a value Alembic would hand
to ``importlib.resources`` (``package:path``) is looked up as a folder inside the repository.

Mirrored from alembic 1.16+ (``Config.get_alembic_option``, ``get_version_locations_list``,
``_get_file_separator_char``, ``ScriptDirectory.from_config``, ``util.coerce_resource_to_filename``):

* ini options win over ``[tool.alembic]`` of the pyproject.toml beside the ini;
* ``%(here)s`` is the folder of the file the value came from;
* ``version_locations`` is split on ``path_separator``, else ``version_path_separator``, else on
  spaces/commas (``, *| +``); ``recursive_version_locations`` is true only when it reads ``true``;
* a relative, non-absolute value holding a colon is a package resource and is split on *every*
  colon: ``pkg.sub:a:b`` is ``<pkg/sub>/a/b``.

One convention of ours: Alembic reads relative paths against the current directory; we read them
against the ini's folder, or against the work-tree root when only that one holds the script folder.
"""

from __future__ import annotations

import configparser
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from migration_archaeologist.files.untrusted import read_regular_text

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

_SEPARATORS = {"space": " ", "newline": "\n", "os": os.pathsep, ":": ":", ";": ";"}
_LEGACY_SPLIT = re.compile(r", *|(?: +)")  # alembic.config: version_locations without a separator key
_LEGACY_SYS_PATH_SPLIT = re.compile(r", *|(?: +)|\:")  # ... and prepend_sys_path
_PACKAGE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")
_NO_SCRIPT = "no script_location"


@dataclass(frozen=True)
class AlembicConfig:
    """One Alembic environment found in the work tree."""

    path: Path  # the ini or pyproject.toml it came from (a Flask-Migrate folder without an ini: the folder)
    script_location: Path | None  # None when it cannot be named inside the repository: see ``problem``
    versions_dirs: tuple[Path, ...]
    sqlalchemy_url: str | None
    section: str = "alembic"  # the ini section (``alembic --name``); "tool.alembic" for a pyproject.toml
    recursive: bool = False  # recursive_version_locations
    kind: str = "ini"  # "ini", "pyproject" or "flask-migrate"
    problem: str | None = None  # why Alembic could not use it, or not the way it is written here

    def label(self, root: Path | None = None) -> str:
        """``alembic.ini``, ``dev.ini [alembic_base]``, ``migrations/alembic.ini``: for messages."""
        shown = _shown(self.path, root)
        return shown if self.kind != "ini" or self.section == "alembic" else f"{shown} [{self.section}]"


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
    return path.is_file() and (not path.is_symlink() or _inside(root, path.resolve()))


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
        out.append(_environment(root, _Options(toml_path, None, "tool.alembic", toml), "pyproject"))
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
        return (None, f"cannot be read: {_one_line(exc)}") if "tool.alembic" in text else (None, None)
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
    return _environment(root, _Options(path, None, "tool.alembic", section, path), "pyproject")


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
    out = [_environment(root, _Options(path, parser, s, toml, toml_path), "ini") for s in sections]
    if not out and parser.has_section("alembic") and path.name.startswith("alembic"):
        # Maybe Flask-Migrate's (its program sets script_location); find_environments decides.
        out.append(_environment(root, _Options(path, parser, "alembic", toml, toml_path), "ini"))
    return out


def _parse_ini(path: Path, text: str) -> configparser.ConfigParser:
    """As ``Config.file_config``: a plain ConfigParser whose defaults hold ``here``."""
    parser = configparser.ConfigParser(defaults={"here": path.parent.absolute().as_posix()})
    parser.read_string(text, source=str(path))
    return parser


def _unreadable(path: Path, exc: BaseException) -> AlembicConfig:
    return AlembicConfig(path, None, (), None, problem=f"cannot be read: {_one_line(exc)}")


# -- reading options as Alembic does -----------------------------------------------------------------


class _Problem(Exception):
    pass


@dataclass
class _Options:
    """``Config.get_alembic_option`` and friends, over one ini section and ``[tool.alembic]``."""

    path: Path
    parser: configparser.ConfigParser | None
    section: str
    toml: dict[str, Any] | None
    toml_path: Path | None = None
    via_toml: set[str] = field(default_factory=set)

    def main(self, name: str) -> str | None:
        """``get_main_option``: the ini section only."""
        if self.parser is None or not self.parser.has_option(self.section, name):
            return None
        try:
            return self.parser.get(self.section, name)
        except configparser.InterpolationMissingOptionError as exc:
            raise _Problem(
                f"{name} in [{self.section}] refers to %({exc.reference})s, which the file does not define"
            ) from exc
        except configparser.Error as exc:
            raise _Problem(f"{name} in [{self.section}] cannot be read: {_one_line(exc)}") from exc

    def alembic(self, name: str) -> Any:
        """``get_alembic_option``: the ini section first, then ``[tool.alembic]`` with ``%`` formatting."""
        if self.parser is not None and self.parser.has_option(self.section, name):
            return self.main(name)
        if not self.toml or name not in self.toml:
            return None
        self.via_toml.add(name)
        value = self.toml[name]
        here = {"here": (self.toml_path or self.path).parent.absolute().as_posix()}
        try:
            if isinstance(value, str):
                return value % here
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                return [v % here for v in value]
        except (KeyError, ValueError, TypeError) as exc:
            raise _Problem(f"{name} in [tool.alembic] cannot be formatted: {_one_line(exc)}") from exc
        return value

    def boolean(self, name: str) -> bool:
        """``get_alembic_boolean_option``: the ini's exact ``true``, or a TOML boolean."""
        if self.parser is not None and self.parser.has_option(self.section, name):
            return self.main(name) == "true"
        value = (self.toml or {}).get(name, False)
        if not isinstance(value, bool):
            raise _Problem(f"{name} in [tool.alembic] must be true or false (Alembic: boolean value expected)")
        return value

    def separator(self, *names: str) -> str | None:
        """``_get_file_separator_char``: the first key present, checked like Alembic checks it."""
        for name in names:
            value = self.main(name)
            if value is not None:
                if value not in _SEPARATORS:
                    raise _Problem(
                        f"{value!r} is not a valid value for {name}; expected 'space', 'newline', 'os', ':', ';'"
                    )
                return _SEPARATORS[value]
        return None

    def version_locations(self) -> list[str] | None:
        """``get_version_locations_list``."""
        raw = self.main("version_locations")
        if raw:
            sep = self.separator("path_separator", "version_path_separator")
            if sep is None:
                parts = [p for p in _LEGACY_SPLIT.split(raw) if p]
                if any("\n" in p for p in parts):
                    raise _Problem(
                        "version_locations spans several lines but no path_separator = newline is set: "
                        "Alembic would read it as one path"
                    )
                return parts
            return [p.strip() for p in raw.split(sep) if p.strip()]
        value = self.alembic("version_locations")
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _Problem("version_locations in [tool.alembic] must be a list of strings")
        return value

    def sys_paths(self) -> list[str]:
        """``get_prepend_sys_paths_list``, the ini's only: where ``package:path`` may be imported from."""
        raw = self.main("prepend_sys_path")
        if not raw:
            value = self.alembic("prepend_sys_path")
            return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
        sep = self.separator("path_separator")
        parts = _LEGACY_SYS_PATH_SPLIT.split(raw) if sep is None else raw.split(sep)
        return [p.strip() for p in parts if p.strip()]


def _environment(root: Path, options: _Options, kind: str, script_folder: Path | None = None) -> AlembicConfig:
    """Read one environment; what Alembic would refuse becomes ``problem``, never an exception."""
    url: str | None = None
    recursive = False
    try:
        url = _url(options)
        recursive = options.boolean("recursive_version_locations")
        script = script_folder.as_posix() if script_folder is not None else options.alembic("script_location")
        if kind == "ini" and "script_location" in options.via_toml and options.toml_path is not None:
            kind = "pyproject"
        if script is None:
            raise _Problem(_NO_SCRIPT + " (Alembic: No 'script_location' key found in configuration)")
        if not isinstance(script, str):
            raise _Problem("script_location in [tool.alembic] must be a string")
        locations = options.version_locations()
        locate = _Locator(root, options)
        script_path = locate(script, "script_location", first=True)
        dirs = [locate(loc, "version_locations") for loc in locations] if locations else [script_path / "versions"]
    except _Problem as problem:
        return AlembicConfig(options.path, None, (), url, options.section, recursive, kind, str(problem))
    return AlembicConfig(options.path, script_path, tuple(dict.fromkeys(dirs)), url, options.section, recursive, kind)


def _url(options: _Options) -> str | None:
    """``sqlalchemy.url``; left raw (``%(...)s`` and all) when only the running program can fill it in."""
    try:
        return options.main("sqlalchemy.url")
    except _Problem:
        assert options.parser is not None
        return options.parser.get(options.section, "sqlalchemy.url", raw=True)


# -- where a value points -------------------------------------------------------------------------


def is_package_location(value: str) -> bool:
    """Whether Alembic reads a location as ``package:path`` (importing the package to find it): a
    relative value holding a colon that is not a Windows drive."""
    return not _WINDOWS_DRIVE.match(value) and not os.path.isabs(value) and ":" in value


class _Locator:
    """``coerce_resource_to_filename`` without importing: a path, or a package folder in the repository."""

    def __init__(self, root: Path, options: _Options) -> None:
        self.root = root
        self.options = options
        self.base = options.path.parent if _is_file_option(options.path) else options.path

    def __call__(self, value: str, key: str, first: bool = False) -> Path:
        if _WINDOWS_DRIVE.match(value):
            raise _Problem(f"{key} {value!r} is a Windows path; Alembic reads it as a package resource here")
        if is_package_location(value):
            return self._package(value, key)
        path = Path(value)
        if not path.is_absolute():
            if first and not (self.base / path).is_dir() and (self.root / path).is_dir():
                self.base = self.root  # run from the root: the only reading that names an existing folder
            path = self.base / path
        path = _normal(path)
        if not _inside(self.root, path):
            raise _Problem(f"{key} {value!r} is outside the repository")
        return path

    def _package(self, value: str, key: str) -> Path:
        package, *rest = value.split(":")  # every colon, as Alembic splits it
        if not _PACKAGE.match(package):
            raise _Problem(f"{key} {value!r}: {package!r} is not a package name")
        relative = Path(*package.split("."))
        candidates: list[Path] = []
        for place in self._search_path():
            folder = _normal(place / relative)
            if (folder / "__init__.py").is_file() and _inside(self.root, folder) and folder not in candidates:
                candidates.append(folder)
        targets = [_normal(folder.joinpath(*rest)) for folder in candidates]
        if any(not _inside(self.root, t) for t in targets):
            raise _Problem(f"{key} {value!r} is outside the repository")
        if not targets:
            raise _Problem(
                f"{key} {value!r}: package {package!r} is not in the repository "
                f"(no {relative.as_posix()}/__init__.py; Alembic would import it)"
            )
        if len(targets) > 1:
            existing = [t for t in targets if t.exists()]
            if len(existing) != 1:
                shown = ", ".join(_shown(c, self.root) for c in candidates)
                raise _Problem(f"{key} {value!r}: package {package!r} is in several places ({shown})")
            targets = existing
        return targets[0]

    def _search_path(self) -> list[Path]:
        """prepend_sys_path, the root, ``src/``, then the config's folder and each parent up to the root."""
        places = [self.base / p for p in self.options.sys_paths()] + [self.root, self.root / "src"]
        folder = self.options.path.parent if _is_file_option(self.options.path) else self.options.path
        while _inside(self.root, folder):
            places.append(folder)
            if folder == self.root:
                break
            folder = folder.parent
        return places


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
        return _environment(root, _Options(ini, parser, "alembic", None), "flask-migrate", script_folder=folder)
    if "versions" not in dirs or not (folder.name == "migrations" or _mentions_flask(folder / "env.py")):
        return None
    return _environment(root, _Options(folder, None, "alembic", None), "flask-migrate", script_folder=folder)


def _lacks_script(env: AlembicConfig) -> bool:
    return env.problem is not None and env.problem.startswith(_NO_SCRIPT)


def _mentions_flask(env_py: Path) -> bool:
    try:
        text = read_regular_text(env_py, errors="replace")
    except OSError:
        return False
    return "flask" in text.lower()


# -- small helpers --------------------------------------------------------------------------------


def _is_file_option(path: Path) -> bool:
    """The options came from a file (an ini or pyproject.toml, there or only in history), not from a
    Flask-Migrate folder."""
    return path.is_file() or (path.suffix in (".ini", ".toml") and not path.is_dir())


def _normal(path: Path) -> Path:
    return Path(os.path.normpath(path))


def _inside(root: Path, path: Path) -> bool:
    try:
        _normal(path).relative_to(_normal(root))
    except ValueError:
        return False
    return True


def _shown(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return path.relative_to(root).as_posix() or "."
        except ValueError:
            pass
    return str(path)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
