"""What an op call's arguments say, read from the AST: strings, column lists, SQL names, short renderings.

The readers :mod:`.ops` builds each operation's summary from: an argument bound to a parameter
(positional or keyword, never through ``*args``), the columns a CHECK condition's SQL names, a
column count, an ``op.execute``'s SQL shown short. Nothing is evaluated.
"""

from __future__ import annotations

import ast
import re

__all__ = [
    "alter_changes",
    "bound_arg",
    "arg_str",
    "bulk_rows",
    "bulk_table",
    "column_count",
    "column_name",
    "condition_columns",
    "first_str",
    "sql_detail",
    "str_list",
]


_SQL_WORDS = frozenset(
    [
        "and",
        "or",
        "not",
        "in",
        "is",
        "null",
        "like",
        "ilike",
        "between",
        "true",
        "false",
        "any",
        "all",
        "some",
        "array",
        "exists",
        "case",
        "when",
        "then",
        "else",
        "end",
        "similar",
        "to",
        "escape",
        "cast",
        "as",
        "collate",
    ]
)
_SQL_STRING_RE = re.compile(r"'(?:[^']|'')*'")
_SQL_NAME_RE = re.compile(r'"([^"]+)"|`([^`]+)`|\b([A-Za-z_][A-Za-z0-9_$]*)\b(\s*\()?')


def str_list(node: ast.expr | None) -> tuple[str, ...]:
    if isinstance(node, (ast.List, ast.Tuple)):
        names = tuple(_str_of(e) for e in node.elts)
        if all(names):
            return names  # type: ignore[return-value]
    return ()


def condition_columns(node: ast.expr | None) -> tuple[str, ...]:
    """Column names a CHECK condition written as SQL text mentions: not keywords, functions or literals."""
    if isinstance(node, ast.Call) and _callee_name(node) == "text":
        node = bound_arg(node, 0, "text")
    if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        return ()
    names: dict[str, None] = {}
    for match in _SQL_NAME_RE.finditer(_SQL_STRING_RE.sub("''", node.value)):
        quoted = match.group(1) or match.group(2)
        word = match.group(3)
        if quoted:
            names.setdefault(quoted, None)
        elif word and not match.group(4) and word.lower() not in _SQL_WORDS and not word[0].isdigit():
            names.setdefault(word, None)
    return tuple(names)


def bound_arg(call: ast.Call, pos: int | None, keyword: str | None) -> ast.expr | None:
    """The argument bound to a parameter, if it can be told without evaluating ``*args``."""
    if pos is not None:
        for index, arg in enumerate(call.args):
            if isinstance(arg, ast.Starred):
                break
            if index == pos:
                return arg
    if keyword is not None:
        for kw in call.keywords:
            if kw.arg == keyword:
                return kw.value
    return None


def _str_of(node: ast.expr | None) -> str | None:
    """A plain string literal, seeing through ``op.f('name')`` naming-convention wrappers."""
    if isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "f":
            node = node.args[0]
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def arg_str(call: ast.Call, pos: int | None, keyword: str | None) -> str | None:
    return _str_of(bound_arg(call, pos, keyword))


def first_str(call: ast.Call) -> str | None:
    return _str_of(call.args[0]) if call.args else None


def _callee_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Name):
            return node.func.id
        if isinstance(node.func, ast.Attribute):
            return node.func.attr
    return None


#: an expression shown in a change longer than this is cut: a timeline line is a summary
_SHOWN_EXPRESSION = 48
_MODULE_PREFIX_RE = re.compile(r"\b[A-Za-z_]\w*\.(?=[A-Za-z_][\w.]*\()")


def _shown(node: ast.expr) -> str:
    """An argument as written, without module prefixes: ``sa.String(length=200)`` -> ``String(length=200)``."""
    if isinstance(node, ast.Constant) and node.value is None:
        return "none"
    text = " ".join(ast.unparse(node).split())
    while True:
        shorter = _MODULE_PREFIX_RE.sub("", text)
        if shorter == text:
            break
        text = shorter
    return text if len(text) <= _SHOWN_EXPRESSION else text[: _SHOWN_EXPRESSION - 1] + "…"


def alter_changes(call: ast.Call) -> tuple[str, ...]:
    """What ``alter_column`` changes, from its keywords (Alembic takes them by keyword only): the new
    type, nullability, server default and comment against their ``existing_*`` values, and a rename."""
    given = {kw.arg: kw.value for kw in call.keywords if kw.arg is not None}
    changes: list[str] = []
    if "type_" in given:
        old = given.get("existing_type")
        changes.append(f"{_shown(old) if old is not None else 'type'} → {_shown(given['type_'])}")
    nullable = given.get("nullable")
    if nullable is not None and not (isinstance(nullable, ast.Constant) and nullable.value is None):
        old_null = given.get("existing_nullable")
        if isinstance(nullable, ast.Constant) and isinstance(nullable.value, bool):
            was = old_null.value if isinstance(old_null, ast.Constant) and isinstance(old_null.value, bool) else None
            if was is not nullable.value:
                changes.append("NOT NULL → NULL" if nullable.value else "NULL → NOT NULL")
        else:
            changes.append(f"nullable → {_shown(nullable)}")
    for key, what in (("server_default", "server default"), ("comment", "comment")):
        if key in given:
            old = given.get(f"existing_{key}")
            before = f" {_shown(old)}" if old is not None else ""
            changes.append(f"{what}{before} → {_shown(given[key])}")
    if "new_column_name" in given:
        changes.append(f"rename to {_shown(given['new_column_name']).strip(chr(39) + chr(34))}")
    return tuple(changes)


def column_count(call: ast.Call) -> str | None:
    if any(isinstance(a, ast.Starred) for a in call.args):
        return None  # columns built elsewhere: no plain count to give
    count = sum(1 for a in call.args[1:] if _callee_name(a) == "Column")
    return f"{count} column" if count == 1 else f"{count} columns"


def column_name(call: ast.Call, pos: int) -> str | None:
    column = bound_arg(call, pos, "column")
    if isinstance(column, ast.Call) and _callee_name(column) == "Column":
        return arg_str(column, 0, "name")
    return None


def sql_detail(call: ast.Call) -> str | None:
    sql = bound_arg(call, 0, "sqltext")
    if isinstance(sql, ast.Call) and _callee_name(sql) == "text":
        sql = bound_arg(sql, 0, "text")
    if isinstance(sql, ast.Constant) and isinstance(sql.value, str):
        flat = " ".join(sql.value.split())
        return flat[:60].rstrip() or None
    return None


def bulk_table(call: ast.Call) -> str | None:
    table = bound_arg(call, 0, "table")
    if isinstance(table, ast.Call) and _callee_name(table) in ("table", "Table"):
        return arg_str(table, 0, "name")
    return None


def bulk_rows(call: ast.Call) -> str | None:
    rows = bound_arg(call, 1, "rows")
    if isinstance(rows, (ast.List, ast.Tuple)) and not any(isinstance(e, ast.Starred) for e in rows.elts):
        return f"{len(rows.elts)} row" if len(rows.elts) == 1 else f"{len(rows.elts)} rows"
    return None
