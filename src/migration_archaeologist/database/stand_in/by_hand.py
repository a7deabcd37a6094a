"""What autogenerate does not compare, added to a stand-in revision by hand: CHECK constraints and enums.

``produce_migrations`` compares neither CHECK constraints nor PostgreSQL enum types.  They are read
here from the inspectors of both sides (CHECKs through the drift comparison's own reading, so the
stand-in and its proof agree on them) and turned into explicit operations: drop/create of the
CHECKs that differ, ``CREATE TYPE``/``DROP TYPE``/``ALTER TYPE ... ADD VALUE`` for enums.  What
no operation can express (unnamed CHECKs, removed enum labels) is said in notes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from alembic.operations import ops

from migration_archaeologist.database.drift import table_checks
from migration_archaeologist.database.sql_text import normalise_sql

__all__ = [
    "check_changes",
    "checks_by_table",
    "create_enum_sql",
    "drop_enum_sql",
    "enum_changes",
    "enums_in_tables",
    "live_enums",
    "squash",
]


def squash(sql: str) -> str:
    return normalise_sql(sql)


def live_enums(conn: sa.Connection) -> list[dict[str, Any]]:
    """PostgreSQL enum types of the default schema (other backends have none)."""
    if conn.dialect.name != "postgresql":
        return []
    return [e for e in sa.inspect(conn).get_enums() if e.get("visible", True)]  # type: ignore[attr-defined]


def enums_in_tables(meta: sa.MetaData) -> set[str]:
    return {c.type.name for t in meta.tables.values() for c in t.columns if isinstance(c.type, sa.Enum) and c.type.name}


def create_enum_sql(enum: dict[str, Any], dialect: sa.Dialect) -> str:
    from sqlalchemy.dialects.postgresql import ENUM, CreateEnumType

    return str(CreateEnumType(ENUM(*enum["labels"], name=enum["name"])).compile(dialect=dialect))


def drop_enum_sql(name: str, dialect: sa.Dialect) -> str:
    return f"DROP TYPE IF EXISTS {dialect.identifier_preparer.quote(name)}"


def checks_by_table(conn: sa.Connection, meta: sa.MetaData) -> dict[str, dict[str | None, str]]:
    """Table -> CHECK name -> SQL text, for the tables of ``meta`` that exist on ``conn``."""
    inspector = sa.inspect(conn)
    present = set(inspector.get_table_names())
    return {
        name: {c.get("name"): c["sqltext"] for c in table_checks(conn, inspector, name, None)}
        for name in meta.tables
        if name in present
    }


def check_changes(
    before: dict[str, dict[str | None, str]], after: dict[str, dict[str | None, str]]
) -> tuple[list[ops.ModifyTableOps], list[str]]:
    """Explicit drop/create operations for CHECK constraints that differ on tables both sides have.

    Each drop carries the old condition, so ``reverse()`` recreates it on downgrade.  Unnamed
    constraints cannot be dropped by name: they are reported, not guessed.
    """
    out: list[ops.ModifyTableOps] = []
    notes: list[str] = []
    for table in sorted(before.keys() & after.keys()):
        old, new = before[table], after[table]
        changes: list[ops.MigrateOperation] = []
        for name in sorted({n for n in old.keys() | new.keys() if n is not None}, key=str):
            if name in old and name in new and squash(old[name]) == squash(new[name]):
                continue
            if name in old:
                changes.append(_DropCheck(name, table, old[name]))
            if name in new:
                changes.append(ops.CreateCheckConstraintOp(name, table, sa.text(new[name])))
        if (None in old or None in new) and squash(old.get(None) or "") != squash(new.get(None) or ""):
            notes.append(
                f"{table}: unnamed CHECK constraints differ; they cannot be dropped or created by "
                "name, so the synthesized revision leaves them alone"
            )
        if changes:
            out.append(ops.ModifyTableOps(table, changes))
    return out, notes


class _DropCheck(ops.DropConstraintOp):
    """``drop_constraint(type_='check')`` whose reverse re-creates the old condition."""

    def __init__(self, name: str, table: str, condition: str) -> None:
        super().__init__(name, table, type_="check")
        self._condition = condition

    def reverse(self) -> ops.CreateCheckConstraintOp:
        return ops.CreateCheckConstraintOp(
            self.constraint_name, self.table_name, sa.text(self._condition), schema=self.schema
        )


@dataclass(frozen=True)
class _EnumOps:
    before_upgrade: list[ops.MigrateOperation]
    after_upgrade: list[ops.MigrateOperation]
    before_downgrade: list[ops.MigrateOperation]
    after_downgrade: list[ops.MigrateOperation]
    notes: list[str]


def enum_changes(
    scratch: sa.Connection, meta: sa.MetaData, live: dict[str, tuple[str, ...]], ignored: frozenset[str]
) -> _EnumOps:
    """PostgreSQL enum types, which autogenerate does not compare, as explicit SQL operations.

    New types are created before anything else and dropped after everything on downgrade, so the
    columns of ``meta`` are switched to ``create_type=False`` (a type that already exists would
    make ``create_table`` fail).  Added labels become ``ALTER TYPE ... ADD VALUE`` at their
    position; PostgreSQL cannot remove labels, so a downgrade leaves them (said in the notes), and
    removed or reordered labels are not expressed at all (the proof will show them).
    """
    out = _EnumOps([], [], [], [], [])
    if scratch.dialect.name != "postgresql":
        return out
    dialect = scratch.dialect
    for table in meta.tables.values():
        for column in table.columns:
            if isinstance(column.type, sa.Enum) and hasattr(column.type, "create_type"):
                column.type.create_type = False
    inspector = sa.inspect(scratch)
    old = {e["name"]: tuple(e["labels"]) for e in live_enums(scratch)}
    quote = dialect.identifier_preparer.quote
    for name in sorted(live.keys() - old.keys()):
        out.before_upgrade.append(ops.ExecuteSQLOp(create_enum_sql({"name": name, "labels": live[name]}, dialect)))
        out.after_downgrade.append(ops.ExecuteSQLOp(drop_enum_sql(name, dialect)))
    dropped_tables = set(inspector.get_table_names()) - set(meta.tables) - ignored
    used_by_dropped = {
        c["type"].name for t in dropped_tables for c in inspector.get_columns(t) if isinstance(c["type"], sa.Enum)
    }
    for name in sorted(old.keys() - live.keys()):
        out.after_upgrade.append(ops.ExecuteSQLOp(drop_enum_sql(name, dialect)))
        if name not in used_by_dropped:  # otherwise re-creating its table re-creates it
            out.before_downgrade.append(ops.ExecuteSQLOp(create_enum_sql({"name": name, "labels": old[name]}, dialect)))
    for name in sorted(old.keys() & live.keys()):
        before, after = old[name], live[name]
        if before == after:
            continue
        if [label for label in after if label in before] != list(before):
            out.notes.append(
                f"enum {name}: labels were removed or reordered ({', '.join(before)} -> "
                f"{', '.join(after)}); PostgreSQL cannot ALTER that, so it is not expressed"
            )
            continue
        for i, label in enumerate(after):
            if label in before:
                continue
            where = (
                f" AFTER {_literal(after[i - 1])}" if i else f" BEFORE {_literal(after[1])}" if len(after) > 1 else ""
            )
            out.before_upgrade.append(ops.ExecuteSQLOp(f"ALTER TYPE {quote(name)} ADD VALUE {_literal(label)}{where}"))
        out.notes.append(
            f"enum {name}: labels added by the upgrade ({', '.join(a for a in after if a not in before)}) "
            "stay after a downgrade, PostgreSQL cannot remove enum labels"
        )
    return out


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
