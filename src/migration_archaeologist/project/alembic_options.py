"""One Alembic environment read from its options, the way Alembic's own config reading does.

An environment is one ``script_location`` Alembic could be pointed at, with its versions directories.
Nothing from the repository is imported or run; a value Alembic would hand to ``importlib.resources``
(``package:path``) is looked up as a folder inside the repository.

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_SEPARATORS = {"space": " ", "newline": "\n", "os": os.pathsep, ":": ":", ";": ";"}
_LEGACY_SPLIT = re.compile(r", *|(?: +)")  # alembic.config: version_locations without a separator key
_LEGACY_SYS_PATH_SPLIT = re.compile(r", *|(?: +)|\:")  # ... and prepend_sys_path
_PACKAGE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")
#: How the problem of a configuration without script_location starts (Flask-Migrate's, maybe).
NO_SCRIPT = "no script_location"


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
    sys_paths: tuple[str, ...] = ()  # prepend_sys_path, as Alembic lists it (relative to the file's folder)

    def label(self, root: Path | None = None) -> str:
        """``alembic.ini``, ``dev.ini [alembic_base]``, ``migrations/alembic.ini``: for messages."""
        shown = _shown(self.path, root)
        return shown if self.kind != "ini" or self.section == "alembic" else f"{shown} [{self.section}]"


# -- reading options as Alembic does -----------------------------------------------------------------


class _Problem(Exception):
    pass


@dataclass
class Options:
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
            raise _Problem(f"{name} in [{self.section}] cannot be read: {one_line(exc)}") from exc

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
            raise _Problem(f"{name} in [tool.alembic] cannot be formatted: {one_line(exc)}") from exc
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


def read_environment(root: Path, options: Options, kind: str, script_folder: Path | None = None) -> AlembicConfig:
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
            raise _Problem(NO_SCRIPT + " (Alembic: No 'script_location' key found in configuration)")
        if not isinstance(script, str):
            raise _Problem("script_location in [tool.alembic] must be a string")
        locations = options.version_locations()
        locate = _Locator(root, options)
        script_path = locate(script, "script_location", first=True)
        dirs = [locate(loc, "version_locations") for loc in locations] if locations else [script_path / "versions"]
        sys_paths = tuple(options.sys_paths())
    except _Problem as problem:
        return AlembicConfig(options.path, None, (), url, options.section, recursive, kind, str(problem))
    return AlembicConfig(
        options.path, script_path, tuple(dict.fromkeys(dirs)), url, options.section, recursive, kind, None, sys_paths
    )


def _url(options: Options) -> str | None:
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

    def __init__(self, root: Path, options: Options) -> None:
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
        if not inside(self.root, path):
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
            if (folder / "__init__.py").is_file() and inside(self.root, folder) and folder not in candidates:
                candidates.append(folder)
        targets = [_normal(folder.joinpath(*rest)) for folder in candidates]
        if any(not inside(self.root, t) for t in targets):
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
        while inside(self.root, folder):
            places.append(folder)
            if folder == self.root:
                break
            folder = folder.parent
        return places


# -- small helpers --------------------------------------------------------------------------------


def _is_file_option(path: Path) -> bool:
    """The options came from a file (an ini or pyproject.toml, there or only in history), not from a
    Flask-Migrate folder."""
    return path.is_file() or (path.suffix in (".ini", ".toml") and not path.is_dir())


def _normal(path: Path) -> Path:
    return Path(os.path.normpath(path))


def inside(root: Path, path: Path) -> bool:
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


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
