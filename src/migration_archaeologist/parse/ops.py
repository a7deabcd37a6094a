"""What a revision file's upgrade() and downgrade() do, summarised statically for a timeline.

Kept apart from :mod:`migration_archaeologist.parse.revision`: rebuilding a chain needs only a file's
header (its IDs), which reads in a fraction of the time a walk of every function body takes, so
only the commands that show operations (``timeline``) pay for this. Parsed with :mod:`ast`, never
executed; a file that does not parse has no operations.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from collections.abc import Iterator

from migration_archaeologist.parse.revision import Unparseable, ast_parse, decode

__all__ = ["OpCall", "RevisionOps", "read_ops"]


@dataclass(frozen=True)
class OpCall:
    """One op.* call in upgrade()/downgrade(), e.g. op.add_column('projects', ...)."""

    name: str  # op method, or the batch_op method inside ``with op.batch_alter_table(...)``
    table: str | None  # table name literal (or the batch's table), else None
    detail: str | None  # "5 columns", a column/index/constraint name, SQL prefix; None if not plain
    #: columns the op touches, when written as literals: an index's or key's columns, the columns a
    #: CHECK condition names; lets a timeline say "CHECK constraint on action_lists.status changed"
    columns: tuple[str, ...] = ()
    #: what an alter_column changes, read from its keywords: "String(80) → String(200)",
    #: "NULL → NOT NULL", "server default → '0'", "rename to title"; empty when it says nothing plain
    changes: tuple[str, ...] = ()


@dataclass(frozen=True)
class RevisionOps:
    """The op.* calls of one revision file, in source order."""

    upgrade: tuple[OpCall, ...]
    downgrade: tuple[OpCall, ...]


_NONE = RevisionOps((), ())


def read_ops(data: bytes) -> RevisionOps:
    """The op calls in ``upgrade()`` and ``downgrade()``; none when the file does not decode or parse.

    Never raises, like :func:`~migration_archaeologist.parse.revision.parse_revision`: it is fed the same
    recovered blobs.
    """
    try:
        decoded = decode(bytes(data))
        if isinstance(decoded, Unparseable):
            return _NONE
        tree = ast_parse(decoded[0])
        if isinstance(tree, Unparseable):
            return _NONE
        upgrade, downgrade = _collect_ops(tree)
        return RevisionOps(upgrade, downgrade)
    except Exception:  # the contract is "never raises"
        return _NONE


#: ``op`` attributes that build arguments or reach the connection rather than change the schema.
_HELPERS = frozenset({"f", "inline_literal", "get_bind", "get_context"})

#: name -> (table positional index, table keyword, detail positional index, detail keyword) for
#: ``op.<name>(...)``, after Alembic's signatures (create_index's first argument is the index, not
#: the table). Ops not listed (custom ones too) take a leading string literal as the table; a few
#: with no plain table or a computed detail are special-cased in ``_op_call``.
_OP_ARGS: dict[str, tuple[int | None, str | None, int | None, str | None]] = {
    "alter_column": (0, "table_name", 1, "column_name"),
    "drop_column": (0, "table_name", 1, "column_name"),
    "create_index": (1, "table_name", 0, "index_name"),
    "drop_index": (1, "table_name", 0, "index_name"),
    "create_check_constraint": (1, "table_name", 0, "constraint_name"),
    "create_unique_constraint": (1, "table_name", 0, "constraint_name"),
    "create_primary_key": (1, "table_name", 0, "constraint_name"),
    "create_foreign_key": (1, "source_table", 0, "constraint_name"),
    "create_exclude_constraint": (1, "table_name", 0, "constraint_name"),
    "drop_constraint": (1, "table_name", 0, "constraint_name"),
    "rename_table": (0, "old_table_name", 1, "new_table_name"),
    "drop_table": (0, "table_name", None, None),
    "batch_alter_table": (0, "table_name", None, None),
    "create_table_comment": (0, "table_name", None, None),
    "drop_table_comment": (0, "table_name", None, None),
}

#: Same for ``batch_op.<name>(...)``: the table comes from the ``with``, so only the detail is read.
_BATCH_DETAIL: dict[str, tuple[int, str]] = {
    "alter_column": (0, "column_name"),
    "drop_column": (0, "column_name"),
    "create_index": (0, "index_name"),
    "drop_index": (0, "index_name"),
    "create_check_constraint": (0, "constraint_name"),
    "create_unique_constraint": (0, "constraint_name"),
    "create_primary_key": (0, "constraint_name"),
    "create_foreign_key": (0, "constraint_name"),
    "create_exclude_constraint": (0, "constraint_name"),
    "drop_constraint": (0, "constraint_name"),
}


def _collect_ops(tree: ast.Module) -> tuple[tuple[OpCall, ...], tuple[OpCall, ...]]:
    op_names = _op_aliases(tree)
    funcs: dict[str, ast.FunctionDef] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.FunctionDef) and stmt.name in ("upgrade", "downgrade"):
            funcs[stmt.name] = stmt  # a redefinition wins, as it would on import
    return (
        tuple(_ops_in(funcs["upgrade"], op_names)) if "upgrade" in funcs else (),
        tuple(_ops_in(funcs["downgrade"], op_names)) if "downgrade" in funcs else (),
    )


def _op_aliases(tree: ast.Module) -> frozenset[str]:
    """Names ``alembic.op`` is bound to; almost always just ``op``."""
    names = {"op"}
    for stmt in tree.body:
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "alembic":
            names.update(a.asname for a in stmt.names if a.name == "op" and a.asname)
        elif isinstance(stmt, ast.Import):
            names.update(a.asname for a in stmt.names if a.name == "alembic.op" and a.asname)
    return frozenset(names)


def _ops_in(func: ast.FunctionDef, op_names: frozenset[str]) -> Iterator[OpCall]:
    """Pre-order, source-ordered walk (iterative, so hostile nesting cannot blow the stack)."""
    # Each entry: a node and the batch aliases (``as batch_op`` name -> table) in scope there.
    stack: list[tuple[ast.AST, dict[str, str | None]]] = [(stmt, {}) for stmt in reversed(func.body)]
    while stack:
        node, batches = stack.pop()
        children: list[tuple[ast.AST, dict[str, str | None]]]
        if isinstance(node, (ast.With, ast.AsyncWith)):
            inner = dict(batches)
            for item in node.items:
                call = item.context_expr
                if (
                    isinstance(call, ast.Call)
                    and _op_method(call, op_names) == "batch_alter_table"
                    and isinstance(item.optional_vars, ast.Name)
                ):
                    inner[item.optional_vars.id] = _arg_str(call, 0, "table_name")
            children = [(item, batches) for item in node.items]
            children += [(stmt, inner) for stmt in node.body]
        else:
            if isinstance(node, ast.Call):
                found = _op_call(node, op_names, batches)
                if found is not None:
                    yield found
                    # an op's own arguments (columns, constraints, op.f names) hold no further ops;
                    # not walking them halves the cost of reading a 64-column create_table
                    continue
            children = [(child, batches) for child in ast.iter_child_nodes(node)]
        stack.extend(reversed(children))


def _receiver_method(call: ast.Call) -> tuple[str, str] | None:
    """``x.name(...)`` -> ("x", "name"); anything else is not an op call we can name."""
    func = call.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return func.value.id, func.attr
    return None


def _op_method(call: ast.Call, op_names: frozenset[str]) -> str | None:
    found = _receiver_method(call)
    return found[1] if found is not None and found[0] in op_names else None


def _op_call(call: ast.Call, op_names: frozenset[str], batches: dict[str, str | None]) -> OpCall | None:
    found = _plain_op_call(call, op_names, batches)
    if found is not None and found.name == "alter_column":
        changes = _alter_changes(call)
        return OpCall(found.name, found.table, found.detail, changes=changes) if changes else found
    if found is None or found.name not in _COLUMN_ARGS:
        return found
    batch = _op_method(call, op_names) is None
    pos, keyword = _COLUMN_ARGS[found.name]
    node = _arg(call, pos - 1 if batch else pos, keyword)
    if found.name == "create_check_constraint":
        columns = _condition_columns(node)
    else:
        columns = _str_list(node)
    return OpCall(found.name, found.table, found.detail, columns) if columns else found


def _plain_op_call(call: ast.Call, op_names: frozenset[str], batches: dict[str, str | None]) -> OpCall | None:
    name = _op_method(call, op_names)
    if name is not None:
        if name in _HELPERS:
            return None
        if name == "execute":
            return OpCall(name, None, _sql_detail(call))
        if name == "bulk_insert":
            return OpCall(name, _bulk_table(call), _bulk_rows(call))
        if name == "create_table":
            return OpCall(name, _arg_str(call, 0, "table_name"), _column_count(call))
        if name == "add_column":
            return OpCall(name, _arg_str(call, 0, "table_name"), _column_name(call, 1))
        table_pos, table_kw, detail_pos, detail_kw = _OP_ARGS.get(name, (None, None, None, None))
        table = (
            _arg_str(call, table_pos, table_kw) if table_pos is not None or table_kw is not None else _first_str(call)
        )
        detail = _arg_str(call, detail_pos, detail_kw) if detail_pos is not None else None
        return OpCall(name, table, detail)

    found = _receiver_method(call)
    if found is None or found[0] not in batches:
        return None
    receiver, name = found
    if name in _HELPERS:
        return None
    table = batches[receiver]
    if name == "execute":
        return OpCall(name, table, _sql_detail(call))
    if name == "add_column":
        return OpCall(name, table, _column_name(call, 0))
    detail_spec = _BATCH_DETAIL.get(name)
    detail = _arg_str(call, *detail_spec) if detail_spec else None
    return OpCall(name, table, detail)


#: op name -> (positional index in ``op.<name>``, keyword) of its column list or CHECK condition;
#: ``batch_op.<name>`` takes no table argument, so its index is one less.
_COLUMN_ARGS: dict[str, tuple[int, str]] = {
    "create_index": (2, "columns"),
    "create_unique_constraint": (2, "columns"),
    "create_primary_key": (2, "columns"),
    "create_foreign_key": (3, "local_cols"),
    "create_check_constraint": (2, "condition"),
}
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


def _str_list(node: ast.expr | None) -> tuple[str, ...]:
    if isinstance(node, (ast.List, ast.Tuple)):
        names = tuple(_str_of(e) for e in node.elts)
        if all(names):
            return names  # type: ignore[return-value]
    return ()


def _condition_columns(node: ast.expr | None) -> tuple[str, ...]:
    """Column names a CHECK condition written as SQL text mentions: not keywords, functions or literals."""
    if isinstance(node, ast.Call) and _callee_name(node) == "text":
        node = _arg(node, 0, "text")
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


def _arg(call: ast.Call, pos: int | None, keyword: str | None) -> ast.expr | None:
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


def _arg_str(call: ast.Call, pos: int | None, keyword: str | None) -> str | None:
    return _str_of(_arg(call, pos, keyword))


def _first_str(call: ast.Call) -> str | None:
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


def _alter_changes(call: ast.Call) -> tuple[str, ...]:
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


def _column_count(call: ast.Call) -> str | None:
    if any(isinstance(a, ast.Starred) for a in call.args):
        return None  # columns built elsewhere: no plain count to give
    count = sum(1 for a in call.args[1:] if _callee_name(a) == "Column")
    return f"{count} column" if count == 1 else f"{count} columns"


def _column_name(call: ast.Call, pos: int) -> str | None:
    column = _arg(call, pos, "column")
    if isinstance(column, ast.Call) and _callee_name(column) == "Column":
        return _arg_str(column, 0, "name")
    return None


def _sql_detail(call: ast.Call) -> str | None:
    sql = _arg(call, 0, "sqltext")
    if isinstance(sql, ast.Call) and _callee_name(sql) == "text":
        sql = _arg(sql, 0, "text")
    if isinstance(sql, ast.Constant) and isinstance(sql.value, str):
        flat = " ".join(sql.value.split())
        return flat[:60].rstrip() or None
    return None


def _bulk_table(call: ast.Call) -> str | None:
    table = _arg(call, 0, "table")
    if isinstance(table, ast.Call) and _callee_name(table) in ("table", "Table"):
        return _arg_str(table, 0, "name")
    return None


def _bulk_rows(call: ast.Call) -> str | None:
    rows = _arg(call, 1, "rows")
    if isinstance(rows, (ast.List, ast.Tuple)) and not any(isinstance(e, ast.Starred) for e in rows.elts):
        return f"{len(rows.elts)} row" if len(rows.elts) == 1 else f"{len(rows.elts)} rows"
    return None
