"""Line numbers to point a reader at in a revision file: for CI annotations on the line to edit.

Parsed, never executed; a file that does not parse gives no line (or, for :func:`syntax_error_line`,
the line ``ast`` stops at).
"""

from __future__ import annotations

import ast
import re
import warnings

from migration_archaeologist.parse.docstring import HEADER_RE, module_docstring
from migration_archaeologist.parse.id_variables import ID_VARS
from migration_archaeologist.parse.python2 import python2_statements
from migration_archaeologist.parse.source import PARSE_LOCK, Unparseable, ast_parse, decode

__all__ = ["assignment_lines", "syntax_error_line"]


def assignment_lines(data: bytes) -> dict[str, int]:
    """1-based lines to point a reader at: each ID variable's first module-level assignment
    (``revision``, ``down_revision``, ``branch_labels``, ``depends_on``) and the docstring's
    header lines (``Revision ID``, ``Revises``, ``Create Date``, as the template spells them).

    For CI annotations on the line to edit; parsed, never executed. Empty when the file does not parse.
    """
    decoded = decode(bytes(data))
    if isinstance(decoded, Unparseable):
        return {}
    text, _encoding = decoded
    tree = ast_parse(text)
    if isinstance(tree, Unparseable):
        older = python2_statements(text, tree.reason)  # a Python 2 file: its module-level lines
        if older is None:
            return {}
        tree = ast.Module(body=older, type_ignores=[])
    lines: dict[str, int] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign):
            targets = stmt.targets
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            targets = [stmt.target]
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name) and target.id in ID_VARS:
                lines.setdefault(target.id, stmt.lineno)
    doc = tree.body[0] if tree.body and module_docstring(tree.body) is not None else None
    if doc is not None and doc.end_lineno is not None:
        source = re.split(r"\r\n|\r|\n", text)
        for number in range(doc.lineno, doc.end_lineno + 1):
            match = HEADER_RE.match(source[number - 1].lstrip("\"'"))
            if match:
                lines.setdefault(_HEADER_NAMES[match.group(1).lower()], number)
    return lines


_HEADER_NAMES = {"revision id": "Revision ID", "revises": "Revises", "create date": "Create Date"}


def syntax_error_line(data: bytes) -> int | None:
    """The line ``ast`` stops at, for an unparseable file; None when it parses or has no line."""
    decoded = decode(bytes(data))
    if isinstance(decoded, Unparseable):
        return None
    try:
        with PARSE_LOCK, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(decoded[0])
    except SyntaxError as exc:
        return exc.lineno or None
    except (ValueError, TypeError, RecursionError, MemoryError):
        return None
    return None
