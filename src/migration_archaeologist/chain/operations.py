"""What a revision's ``upgrade()`` does to the schema, in words, for the timeline: one line a change,
in the order it is made (a constraint dropped and re-created is one change)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from migration_archaeologist.parse.ops import OpCall


def summarize_operations(ops: Sequence[OpCall]) -> tuple[str, ...]:
    """What ``upgrade()`` does to the schema, in words, in the order it does it.

    A drop and re-create of one constraint is the way a CHECK (or a key) is changed, so it is said
    as one change; many add_column calls on one table are said as one line naming every column.
    """
    lines: list[str] = []
    created = {(op.table, op.detail) for op in ops if op.name.startswith("create_") and op.name != "create_table"}
    dropped = {(op.table, op.detail) for op in ops if op.name == "drop_constraint"}
    added: dict[str | None, list[str]] = OrderedDict()
    add_at: dict[str | None, int] = {}
    for op in ops:
        if op.name == "add_column":
            if op.table not in added:
                add_at[op.table] = len(lines)
                lines.append("")  # placeholder, filled once every column of this table is known
                added[op.table] = []
            added[op.table].append(op.detail or "?")
            continue
        if op.name == "drop_constraint" and (op.table, op.detail) in created:
            continue  # said with its re-creation
        line = _describe(op, changed=(op.table, op.detail) in dropped)
        if line:
            lines.append(line)
    for table, columns in added.items():
        where = table or "?"
        lines[add_at[table]] = (
            f"add column {where}.{columns[0]}"
            if len(columns) == 1
            else f"add {len(columns)} columns to {where}: {', '.join(columns)}"
        )
    return tuple(dict.fromkeys(line for line in lines if line))


_CONSTRAINTS = {
    "create_check_constraint": "CHECK constraint",
    "create_unique_constraint": "unique constraint",
    "create_primary_key": "primary key",
    "create_foreign_key": "foreign key",
    "create_exclude_constraint": "exclusion constraint",
}


def _describe(op: OpCall, *, changed: bool) -> str | None:
    table = op.table or "?"
    name = op.name
    if name == "batch_alter_table":
        return None  # its inner operations are listed with the table
    if name == "create_table":
        return f"create table {table}" + (f" ({op.detail})" if op.detail else "")
    if name == "drop_table":
        return f"drop table {table}"
    if name == "rename_table":
        return f"rename table {table} to {op.detail or '?'}"
    if name in ("alter_column", "drop_column"):
        verb = "alter" if name == "alter_column" else "drop"
        changes = f": {', '.join(op.changes)}" if op.changes else ""
        return f"{verb} column {table}.{op.detail or '?'}{changes}"
    if name in ("create_index", "drop_index"):
        verb = "create" if name == "create_index" else "drop"
        cols = f" ({', '.join(op.columns)})" if op.columns else ""
        return f"{verb} index {op.detail or '?'} on {table}{cols}"
    if name in _CONSTRAINTS:
        what = _CONSTRAINTS[name]
        if name == "create_check_constraint":
            # a condition built by code has no columns to read: name the constraint instead of guessing
            on = f"{table}.{', '.join(op.columns)}" if op.columns else f"{table} ({op.detail or 'unnamed'})"
        else:
            on = f"{table} ({', '.join(op.columns)})" if op.columns else table
        return f"{what} on {on} changed" if changed else f"add {what} on {on}"
    if name == "drop_constraint":
        return f"drop constraint {op.detail or '?'} on {table}"
    if name == "execute":
        return f"run SQL: {op.detail}" if op.detail else "run SQL"
    if name == "bulk_insert":
        return f"insert {op.detail or 'rows'} into {table}"
    if name in ("create_table_comment", "drop_table_comment"):
        return f"{'set' if name.startswith('create') else 'drop'} comment on table {table}"
    return f"{name} on {table}" if op.table else name
