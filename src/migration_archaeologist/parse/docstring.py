"""The module docstring of a revision file: its message and Alembic's template header lines.

``Revision ID:``, ``Revises:`` and ``Create Date:`` as written (they may disagree with the
variables), and the message on the docstring's first line.
"""

from __future__ import annotations

import ast
import re

__all__ = ["HEADER_RE", "docstring_message", "module_docstring", "parse_header", "split_revises"]

HEADER_RE = re.compile(r"^[ \t]*(Revision ID|Revises|Create Date)[ \t]*:[ \t]*(.*?)[ \t]*$", re.IGNORECASE)
_HEADER_KEYS = {"revision id": "revision", "revises": "revises", "create date": "create_date"}


def module_docstring(statements: list[ast.stmt]) -> str | None:
    if statements:
        first = statements[0]
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
            return first.value.value
    return None


def parse_header(doc: str | None) -> dict[str, str]:
    """First "Revision ID:" / "Revises:" / "Create Date:" lines of Alembic's template header."""
    header: dict[str, str] = {}
    for line in (doc or "").splitlines():
        match = HEADER_RE.match(line)
        if match:
            header.setdefault(_HEADER_KEYS[match.group(1).lower()], match.group(2))
    return header


def split_revises(value: str | None) -> tuple[str, ...] | None:
    """'a, b' -> ('a', 'b'); also takes a tuple repr or 'None', as old templates wrote."""
    if value is None:
        return None
    parts = (part.strip().strip("()[]'\" \t") for part in value.split(","))
    ids = tuple(part for part in parts if part)
    return () if ids == ("None",) else ids


def docstring_message(doc: str | None) -> str | None:
    """Alembic puts the message on the docstring's first line; skip blanks in hand-written ones."""
    for line in (doc or "").splitlines():
        line = line.strip()
        if not line:
            continue
        return None if HEADER_RE.match(line) else line
    return None
