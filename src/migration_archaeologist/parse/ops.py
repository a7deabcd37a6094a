"""What a revision file's upgrade() and downgrade() do, summarised statically for a timeline.

Kept apart from :mod:`migration_archaeologist.parse.revision`: rebuilding a chain needs only a file's
header (its IDs), which reads in a fraction of the time a walk of every function body takes, so
only the commands that show operations (``timeline``) pay for this. Parsed with :mod:`ast`, never
executed; a file that does not parse has no operations.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from collections.abc import Iterator

from migration_archaeologist.parse.op_arguments import (
    alter_changes,
    bound_arg,
    arg_str,
    bulk_rows,
    bulk_table,
    column_count,
    column_name,
    condition_columns,
    first_str,
    sql_detail,
    str_list,
)
from migration_archaeologist.parse.source import Unparseable, ast_parse, decode

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
                    inner[item.optional_vars.id] = arg_str(call, 0, "table_name")
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
        changes = alter_changes(call)
        return OpCall(found.name, found.table, found.detail, changes=changes) if changes else found
    if found is None or found.name not in _COLUMN_ARGS:
        return found
    batch = _op_method(call, op_names) is None
    pos, keyword = _COLUMN_ARGS[found.name]
    node = bound_arg(call, pos - 1 if batch else pos, keyword)
    if found.name == "create_check_constraint":
        columns = condition_columns(node)
    else:
        columns = str_list(node)
    return OpCall(found.name, found.table, found.detail, columns) if columns else found


def _plain_op_call(call: ast.Call, op_names: frozenset[str], batches: dict[str, str | None]) -> OpCall | None:
    name = _op_method(call, op_names)
    if name is not None:
        if name in _HELPERS:
            return None
        if name == "execute":
            return OpCall(name, None, sql_detail(call))
        if name == "bulk_insert":
            return OpCall(name, bulk_table(call), bulk_rows(call))
        if name == "create_table":
            return OpCall(name, arg_str(call, 0, "table_name"), column_count(call))
        if name == "add_column":
            return OpCall(name, arg_str(call, 0, "table_name"), column_name(call, 1))
        table_pos, table_kw, detail_pos, detail_kw = _OP_ARGS.get(name, (None, None, None, None))
        table = arg_str(call, table_pos, table_kw) if table_pos is not None or table_kw is not None else first_str(call)
        detail = arg_str(call, detail_pos, detail_kw) if detail_pos is not None else None
        return OpCall(name, table, detail)

    found = _receiver_method(call)
    if found is None or found[0] not in batches:
        return None
    receiver, name = found
    if name in _HELPERS:
        return None
    table = batches[receiver]
    if name == "execute":
        return OpCall(name, table, sql_detail(call))
    if name == "add_column":
        return OpCall(name, table, column_name(call, 0))
    detail_spec = _BATCH_DETAIL.get(name)
    detail = arg_str(call, *detail_spec) if detail_spec else None
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
