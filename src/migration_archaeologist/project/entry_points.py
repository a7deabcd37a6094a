"""Entry-point groups through which a package hands its Alembic revisions to another package.

Plugin-style modules (Invenio's ``invenio_db.alembic = invenio_accounts = invenio_accounts:alembic``)
keep their revisions in their own folder and let the host load them beside every other installed
package's: a ``depends_on`` or ``down_revision`` there may name a revision of another package, which
this repository never held. Read as text (``configparser``, ``tomllib``, ``ast`` for ``setup.py``),
never imported or run.
"""

from __future__ import annotations

import ast
import configparser
import sys
from pathlib import Path

from migration_archaeologist.files.untrusted import CONFIG_LIMIT, read_regular

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - 3.10
    import tomli as tomllib


def alembic_entry_point_groups(work_tree: Path | None) -> tuple[str, ...]:
    """The entry-point groups named like ``*alembic*`` that ``setup.cfg``, ``pyproject.toml`` or
    ``setup.py`` at the root of ``work_tree`` declare, sorted; empty when there are none."""
    if work_tree is None:
        return ()
    groups: set[str] = set()
    groups |= _setup_cfg(work_tree / "setup.cfg")
    groups |= _pyproject(work_tree / "pyproject.toml")
    groups |= _setup_py(work_tree / "setup.py")
    return tuple(sorted(g for g in groups if "alembic" in g.lower()))


def _text(path: Path) -> str | None:
    try:
        return read_regular(path, CONFIG_LIMIT).decode("utf-8", "replace")
    except (OSError, ValueError):
        return None


def _setup_cfg(path: Path) -> set[str]:
    text = _text(path)
    if text is None:
        return set()
    parser = configparser.RawConfigParser(strict=False)
    try:
        parser.read_string(text)
    except configparser.Error:
        return set()
    return set(parser.options("options.entry_points")) if parser.has_section("options.entry_points") else set()


def _pyproject(path: Path) -> set[str]:
    text = _text(path)
    if text is None:
        return set()
    try:
        doc = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError):
        return set()
    project = doc.get("project")
    found = project.get("entry-points") if isinstance(project, dict) else None
    poetry = doc.get("tool", {}).get("poetry", {}) if isinstance(doc.get("tool"), dict) else {}
    plugins = poetry.get("plugins") if isinstance(poetry, dict) else None
    return {str(k) for table in (found, plugins) if isinstance(table, dict) for k in table}


def _setup_py(path: Path) -> set[str]:
    """Keys of a literal ``entry_points={...}`` passed to any call in ``setup.py`` (Invenio's older
    modules), found with ``ast``."""
    text = _text(path)
    if text is None:
        return set()
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return set()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "entry_points" and isinstance(node.value, ast.Dict):
            found |= {k.value for k in node.value.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
    return found
