"""Project defaults from ``[tool.migration-archaeologist]`` in the scanned repository's pyproject.toml.

A CI job or a pre-commit hook then runs a bare ``migration-archaeologist check``, and the team's
choices (where the versions live, which findings only warn) are versioned with the code.
Command-line options always win over the file; a key we do not know is an error, not a silent typo.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Mapping

from migration_archaeologist.errors import UsageError
from migration_archaeologist.files.untrusted import FileTooLarge, NotRegularFile, read_regular_text

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TABLE = "migration-archaeologist"
#: Output formats of ``check``.
CHECK_FORMATS = ("text", "json", "github")
#: What ``ignore`` may name besides the problem kinds: needed revisions missing from the versions directory.
MISSING = "missing"


@dataclass(frozen=True)
class Settings:
    """The table's values, paths made absolute; the defaults when there is no table."""

    source: Path | None = None  # the pyproject.toml read; None when it holds no table
    versions: tuple[Path, ...] = ()
    archive: tuple[Path, ...] = ()
    thorough: bool = False
    cache: bool = True
    pick: Mapping[str, str] = field(default_factory=dict)
    format: str = "text"
    ignore: tuple[str, ...] = ()
    version_table: str = "alembic_version"
    version_table_schema: str | None = None


def ignorable_kinds() -> tuple[str, ...]:
    """Problem kinds plus ``missing``; graph (and networkx) is imported only when someone asks."""
    from migration_archaeologist.chain.problems import PROBLEM_KINDS

    return (*PROBLEM_KINDS, MISSING)


def check_ignore(kinds: list[str] | tuple[str, ...], where: str) -> tuple[str, ...]:
    """The kinds as given, or a UsageError naming the first unknown one and ``where`` it came from."""
    known = ignorable_kinds()
    for kind in kinds:
        if kind not in known:
            raise UsageError(f"{where}: {kind!r} is not a problem kind (one of: {', '.join(known)})")
    return tuple(dict.fromkeys(kinds))


def load_settings(work_tree: Path | None) -> Settings:
    """Read ``<work tree>/pyproject.toml``; defaults for a bare repository or a file without the table."""
    if work_tree is None:
        return Settings()
    path = work_tree / "pyproject.toml"
    try:
        text = read_regular_text(path)
    except (NotRegularFile, FileTooLarge) as exc:  # a FIFO or /dev/zero would hang or fill memory
        print(
            f"warning: {path} not read ({exc.strerror}): tool.{TABLE} settings are not applied",
            file=sys.stderr,
            flush=True,
        )
        return Settings()
    except (OSError, UnicodeDecodeError):
        return Settings()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        if TABLE not in text:
            return Settings()  # someone else's broken file: not ours to refuse a scan over
        raise UsageError(f"{path}: not valid TOML ({exc}), so tool.{TABLE} cannot be read") from None
    table = data.get("tool", {}).get(TABLE) if isinstance(data.get("tool"), dict) else None
    if table is None:
        return Settings()
    if not isinstance(table, dict):
        raise UsageError(f"{path}: tool.{TABLE} must be a table")
    return _parse(table, path)


_KEYS = (
    "versions",
    "archive",
    "thorough",
    "cache",
    "pick",
    "format",
    "ignore",
    "version-table",
    "version-table-schema",
)


def _parse(table: dict[str, Any], path: Path) -> Settings:
    unknown = [key for key in table if key not in _KEYS]
    if unknown:
        raise UsageError(f"{path}: unknown key {unknown[0]!r} in tool.{TABLE} (known: {', '.join(_KEYS)})")
    here = path.parent

    def where(key: str) -> str:
        return f"{path}: tool.{TABLE}.{key}"  # no brackets: the error line is printed with Rich markup

    def paths(key: str) -> tuple[Path, ...]:
        return tuple(Path(os.path.normpath(here / p)) for p in _strings(table.get(key, []), where(key)))

    format_ = _string(table.get("format", "text"), where("format"))
    if format_ not in CHECK_FORMATS:
        raise UsageError(f"{where('format')} must be one of {', '.join(CHECK_FORMATS)}, not {format_!r}")
    thorough = table.get("thorough", False)
    if not isinstance(thorough, bool):
        raise UsageError(f"{where('thorough')} must be true or false, not {_type(thorough)}")
    cache = table.get("cache", True)
    if not isinstance(cache, bool):
        raise UsageError(f"{where('cache')} must be true or false, not {_type(cache)}")
    pick = table.get("pick", {})
    if not isinstance(pick, dict) or not all(isinstance(v, str) and v for v in pick.values()):
        raise UsageError(
            f'{where("pick")} must be a table of revision = "blob id", e.g. pick = {{ 84456d47e6aa = "3f2a9c1" }}'
        )
    schema = table.get("version-table-schema")
    return Settings(
        source=path,
        versions=paths("versions"),
        archive=paths("archive"),
        thorough=thorough,
        cache=cache,
        pick={str(rev): blob for rev, blob in pick.items()},
        format=format_,
        ignore=check_ignore(_strings(table.get("ignore", []), where("ignore")), where("ignore")),
        version_table=_string(table.get("version-table", "alembic_version"), where("version-table")),
        version_table_schema=None if schema is None else _string(schema, where("version-table-schema")),
    )


def _strings(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise UsageError(f"{where} must be a list of non-empty strings, not {_type(value)}")
    return value


def _string(value: object, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise UsageError(f"{where} must be a non-empty string, not {_type(value)}")
    return value


def _type(value: object) -> str:
    """How a wrong value reads in the error: 'a string', 'a list holding an integer', 'an empty string'."""
    if isinstance(value, list):
        bad = [v for v in value if not (isinstance(v, str) and v)]
        return f"a list holding {_type(bad[0])}" if bad else "a list"
    if isinstance(value, str) and not value:
        return "an empty string"
    names = {bool: "a boolean", str: "a string", int: "an integer", float: "a number", dict: "a table"}
    return names.get(type(value), type(value).__name__)
