"""Synthesized revisions: when no copy of a revision survives, write one from the database.

The live schema is the only evidence left, so it is reflected (read-only, see
:func:`stamp.read_only_connection`) into a ``MetaData`` and Alembic's own autogenerate machinery
turns the difference into operations: ``produce_migrations`` against an *empty* scratch database
for a baseline, against the known chain replayed up to the lost revision's parent for a lost head.
The operations are rendered to Python by ``render_python_code``; only the file around them (header,
identifiers) is ours, laid out like Alembic's ``script.py.mako``.

What autogenerate does not compare is added by hand, from the inspectors: CHECK constraints of
tables that exist on both sides, and PostgreSQL enum types (created with their tables, dropped
explicitly on downgrade, since ``drop_table`` leaves them behind).  What no schema comparison can
see -- data a migration moved or rewrote -- is said in the result's notes, never guessed.

A synthesized file is a claim, not a fact: :func:`migration_archaeologist.database.stand_in_proof.prove`
replays it and compares the result with the live database.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import produce_migrations, render_python_code
from alembic.migration import MigrationContext
from alembic.operations import ops

# the proof's own reading and comparison of CHECK constraints, so synthesis and proof agree on them
from migration_archaeologist.database.drift import SCHEMA_TIMEOUT, _normalise_sql, _table_checks
from migration_archaeologist.database.replay import run_alembic, scratch_database
from migration_archaeologist.database.stamp import read_only_connection
from migration_archaeologist.database.urls import engine, mask, parse

__all__ = ["SynthesizedRevision", "baseline_revision", "reflect_live", "render_revision", "synthesize_head"]

FIDELITY = "synthesized"
#: The note every synthesized revision carries: a schema diff cannot see data.
DATA_NOTE = (
    "data changes (UPDATE/INSERT/DELETE of rows) are invisible to a schema comparison: "
    "a lost revision that moved or rewrote data is not reproduced"
)


@dataclass(frozen=True)
class SynthesizedRevision:
    """A revision file written from the database, not recovered from any copy of the original."""

    revision: str
    down_revisions: tuple[str, ...]
    message: str
    source: bytes
    """The file's bytes, ready to be written into a versions directory (and never imported here)."""
    fidelity: str = FIDELITY
    notes: tuple[str, ...] = ()
    """What the file could not express, or what a reader must know before trusting it."""

    @property
    def filename(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "_", self.message.lower()).strip("_")[:40]
        return f"{self.revision}_{slug}.py" if slug else f"{self.revision}.py"


# --- reflecting the live database ----------------------------------------------------------------


def reflect_live(conn: sa.Connection, *, ignore_tables: Sequence[str] = ("alembic_version",)) -> sa.MetaData:
    """The live schema as a MetaData, as Alembic itself would see it when comparing.

    Columns pass through Alembic's ``autogen_column_reflect`` hook (PostgreSQL SERIAL columns lose
    their ``nextval()`` default, as the drift comparison treats them), and every CHECK constraint
    the inspector reports is on its Table (SQLAlchemy reflects most of them; any it left out is
    attached here), so it is rendered inside ``create_table``.
    """
    ignored = frozenset(ignore_tables)
    inspector = sa.inspect(conn)
    meta = sa.MetaData()
    impl = MigrationContext.configure(conn).impl
    sa.event.listen(meta, "column_reflect", impl._compat_autogen_column_reflect(inspector))
    meta.reflect(conn, only=lambda name, _meta: name not in ignored)
    for table in meta.tables.values():
        have = {_squash(str(c.sqltext)) for c in table.constraints if isinstance(c, sa.CheckConstraint)}
        for check in _table_checks(conn, inspector, table.name, None):
            if _squash(check["sqltext"]) not in have:
                table.append_constraint(sa.CheckConstraint(sa.text(check["sqltext"]), name=check.get("name")))
    return meta


def _squash(sql: str) -> str:
    return _normalise_sql(sql)


def _live_enums(conn: sa.Connection) -> list[dict[str, Any]]:
    """PostgreSQL enum types of the default schema (other backends have none)."""
    if conn.dialect.name != "postgresql":
        return []
    return [e for e in sa.inspect(conn).get_enums() if e.get("visible", True)]  # type: ignore[attr-defined]


def _enums_in_tables(meta: sa.MetaData) -> set[str]:
    return {c.type.name for t in meta.tables.values() for c in t.columns if isinstance(c.type, sa.Enum) and c.type.name}


def _create_enum_sql(enum: dict[str, Any], dialect: sa.Dialect) -> str:
    from sqlalchemy.dialects.postgresql import ENUM, CreateEnumType

    return str(CreateEnumType(ENUM(*enum["labels"], name=enum["name"])).compile(dialect=dialect))


def _drop_enum_sql(name: str, dialect: sa.Dialect) -> str:
    return f"DROP TYPE IF EXISTS {dialect.identifier_preparer.quote(name)}"


# --- rendering -----------------------------------------------------------------------------------

_DIALECT_MODULES = ("postgresql", "mysql", "sqlite", "mssql", "oracle")


def _body(operations: ops.UpgradeOps | ops.DowngradeOps, context: MigrationContext, batch: bool) -> str:
    code = render_python_code(operations, render_as_batch=batch, migration_context=context)
    lines = [
        line
        for line in code.splitlines()
        if "### commands auto generated" not in line and "### end Alembic commands" not in line
    ]
    text = "\n".join(lines).rstrip()
    return text if text.strip() else "    pass"


def _imports(*bodies: str) -> list[str]:
    """``from sqlalchemy.dialects import X`` for every dialect module the rendered code names."""
    used = sorted({m for m in _DIALECT_MODULES for b in bodies if re.search(rf"(?<![\w.]){m}\.", b)})
    return [f"from sqlalchemy.dialects import {m}" for m in used]


def render_revision(
    *,
    revision: str,
    down_revisions: Sequence[str],
    message: str,
    upgrade_body: str,
    downgrade_body: str,
    database: str,
    created: _dt.datetime,
    how: str,
) -> bytes:
    """The file around the rendered operations, laid out like Alembic's ``script.py.mako``."""
    downs = tuple(down_revisions)
    down_repr = repr(None if not downs else downs[0] if len(downs) == 1 else downs)
    revises = ", ".join(downs)
    imports = "".join(line + "\n" for line in _imports(upgrade_body, downgrade_body))
    doc_message = message.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return f'''"""{doc_message}

Revision ID: {revision}
Revises: {revises}
Create Date: {created.strftime("%Y-%m-%d %H:%M:%S.%f")}

Synthesized by migration-archaeologist from the database {mask(database)}
on {created.strftime("%Y-%m-%d %H:%M:%S %Z").strip()}: {how}
No copy of the original revision file was found; this one reproduces its schema changes only.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
{imports}

# revision identifiers, used by Alembic.
revision: str = {revision!r}
down_revision: Union[str, Sequence[str], None] = {down_repr}
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
{upgrade_body}


def downgrade() -> None:
{downgrade_body}
'''.encode()


# --- baseline ------------------------------------------------------------------------------------


def baseline_revision(
    live_url: str,
    *,
    revision_id: str,
    message: str = "baseline synthesized from the database",
    down_revision: str | Sequence[str] | None = None,
    ignore_tables: Sequence[str] = ("alembic_version",),
    scratch_url: str | None = None,
    now: _dt.datetime | None = None,
) -> SynthesizedRevision:
    """One revision that creates the live schema from nothing; ``downgrade()`` removes it again.

    The live database is reflected read-only; ``produce_migrations`` compares that MetaData with an
    empty scratch database on the same server (same dialect, so types render as the backend has
    them), which yields ``create_table`` (columns, server defaults, primary/unique/foreign-key/CHECK
    constraints) and ``create_index`` operations in foreign-key dependency order.  PostgreSQL enum
    types are created by the first table that uses them; unused ones by ``CREATE TYPE``, and all of
    them are dropped after the tables on downgrade.
    """
    created = now or _dt.datetime.now(_dt.timezone.utc)
    downs = _downs(down_revision)
    with read_only_connection(live_url, timeout=SCHEMA_TIMEOUT) as live:
        meta = reflect_live(live, ignore_tables=ignore_tables)
        enums = _live_enums(live)
        dialect = live.dialect
    with scratch_database(live_url, scratch_url=scratch_url) as scratch:
        eng = engine(parse(scratch.url), poolclass=sa.pool.NullPool)
        try:
            with eng.connect() as conn:
                context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
                script = produce_migrations(context, meta)
                batch = dialect.name == "sqlite"
                upgrade_ops = script.upgrade_ops
                assert upgrade_ops is not None
                downgrade_ops = _tables_take_their_indexes(upgrade_ops.reverse())
                in_tables = _enums_in_tables(meta)
                unused = [e for e in enums if e["name"] not in in_tables]
                upgrade_ops.ops[0:0] = [ops.ExecuteSQLOp(_create_enum_sql(e, dialect)) for e in unused]
                downgrade_ops.ops.extend(ops.ExecuteSQLOp(_drop_enum_sql(e["name"], dialect)) for e in enums)
                up, down = _body(upgrade_ops, context, batch), _body(downgrade_ops, context, batch)
        finally:
            eng.dispose()
    notes = [DATA_NOTE] if meta.tables else ["the live database has no tables: the baseline is empty"]
    notes += _unexpressed(dialect)
    source = render_revision(
        revision=revision_id,
        down_revisions=downs,
        message=message,
        upgrade_body=up,
        downgrade_body=down,
        database=live_url,
        created=created,
        how="creates the live schema from nothing (a baseline).",
    )
    return SynthesizedRevision(revision_id, downs, message, source, notes=tuple(notes))


def _tables_take_their_indexes(downgrade: ops.DowngradeOps) -> ops.DowngradeOps:
    """Leave out ``drop_index`` for tables the same downgrade drops: ``drop_table`` takes its
    indexes along, and MySQL refuses to drop an index a foreign key still needs."""
    dropped = {op.table_name for op in downgrade.ops if isinstance(op, ops.DropTableOp)}

    def index_drops_of_dropped(op: ops.MigrateOperation) -> bool:
        if isinstance(op, ops.DropIndexOp):
            return op.table_name in dropped
        return (
            isinstance(op, ops.ModifyTableOps)
            and op.table_name in dropped
            and all(isinstance(inner, ops.DropIndexOp) for inner in op.ops)
        )

    return ops.DowngradeOps([op for op in downgrade.ops if not index_drops_of_dropped(op)])


def _downs(down_revision: str | Sequence[str] | None) -> tuple[str, ...]:
    if down_revision is None:
        return ()
    return (down_revision,) if isinstance(down_revision, str) else tuple(down_revision)


def _unexpressed(dialect: sa.Dialect) -> list[str]:
    """Things reflection sees that rendering is known to lose (checked again by the proof)."""
    notes = []
    if dialect.name != "sqlite":
        notes.append("views, triggers, functions, sequences of their own and grants are not reflected")
    else:
        notes.append("views and triggers are not reflected")
    return notes


# --- a lost head ---------------------------------------------------------------------------------


def synthesize_head(
    versions_dirs: Sequence[Path] | Path,
    live_url: str,
    *,
    revision_id: str,
    down_revision: str | Sequence[str],
    message: str = "synthesized from the database",
    ignore_tables: Sequence[str] = ("alembic_version",),
    scratch_url: str | None = None,
    python: str | None = None,
    timeout: float = 600.0,
    now: _dt.datetime | None = None,
) -> SynthesizedRevision:
    """A stand-in for a lost head revision: what the live schema has beyond its parent(s).

    The known chain is replayed up to ``down_revision`` in a scratch database (in a child process,
    as always); ``produce_migrations`` compares that database with the reflected live schema, and
    the operations are rendered (SQLite as batch operations).  CHECK constraints, which
    autogenerate does not compare, are added as explicit drop/create operations for every table
    both sides have.  Data changes cannot be seen by any of this: the notes say so.
    """
    created = now or _dt.datetime.now(_dt.timezone.utc)
    downs = _downs(down_revision)
    with read_only_connection(live_url, timeout=SCHEMA_TIMEOUT) as live:
        target = target_schema(live, ignore_tables)
    up, down, notes = stand_in_ops(
        versions_dirs,
        live_url,
        target,
        downs,
        ignore_tables=ignore_tables,
        scratch_url=scratch_url,
        python=python,
        timeout=timeout,
    )
    source = render_revision(
        revision=revision_id,
        down_revisions=downs,
        message=message,
        upgrade_body=up,
        downgrade_body=down,
        database=live_url,
        created=created,
        how=f"the difference between the known chain at {', '.join(downs)} and the live schema.",
    )
    return SynthesizedRevision(revision_id, downs, message, source, notes=tuple(notes))


@dataclass(frozen=True)
class TargetSchema:
    """The schema a stand-in must produce, reflected once (live database, or a scratch one)."""

    meta: sa.MetaData
    checks: dict[str, dict[str | None, str]]
    enums: dict[str, tuple[str, ...]]
    dialect: sa.Dialect


def target_schema(conn: sa.Connection, ignore_tables: Sequence[str] = ("alembic_version",)) -> TargetSchema:
    meta = reflect_live(conn, ignore_tables=ignore_tables)
    return TargetSchema(
        meta, _checks_by_table(conn, meta), {e["name"]: tuple(e["labels"]) for e in _live_enums(conn)}, conn.dialect
    )


def stand_in_ops(
    versions_dirs: Sequence[Path] | Path,
    live_url: str,
    target: TargetSchema,
    downs: Sequence[str],
    *,
    ignore_tables: Sequence[str],
    scratch_url: str | None,
    python: str | None,
    timeout: float,
) -> tuple[str, str, list[str]]:
    """Rendered upgrade and downgrade bodies (and notes) that take the known chain at ``downs`` to
    ``target``: replay in a scratch database, then autogenerate plus explicit CHECK/enum operations."""
    notes = [DATA_NOTE]
    meta, dialect = target.meta, target.dialect
    with scratch_database(live_url, scratch_url=scratch_url) as scratch:
        for parent in downs:
            run_alembic(versions_dirs, scratch, "upgrade", parent, live_url=live_url, python=python, timeout=timeout)
        eng = engine(parse(scratch.url), poolclass=sa.pool.NullPool)
        try:
            with eng.connect() as conn:
                ignored = frozenset(ignore_tables)
                context = MigrationContext.configure(
                    conn,
                    opts={
                        "compare_type": True,
                        "compare_server_default": True,
                        "include_name": lambda name, type_, _p: not (type_ == "table" and name in ignored),
                    },
                )
                enums = _enum_changes(conn, meta, target.enums, ignored)
                script = produce_migrations(context, meta)
                upgrade_ops = script.upgrade_ops
                assert upgrade_ops is not None
                check_ops, check_notes = _check_changes(_checks_by_table(conn, meta), target.checks)
                notes += check_notes + enums.notes
                upgrade_ops.ops.extend(check_ops)
                downgrade_ops = upgrade_ops.reverse()
                upgrade_ops.ops[0:0] = enums.before_upgrade
                upgrade_ops.ops.extend(enums.after_upgrade)
                downgrade_ops.ops[0:0] = enums.before_downgrade
                downgrade_ops.ops.extend(enums.after_downgrade)
                batch = dialect.name == "sqlite"
                up, down = _body(upgrade_ops, context, batch), _body(downgrade_ops, context, batch)
        finally:
            eng.dispose()
    if up.strip() == "pass":
        notes.append(
            "the target schema equals the parent's: the lost revision changed no schema "
            "(it may have changed data only, which cannot be recovered from the schema)"
        )
    return up, down, notes


def _checks_by_table(conn: sa.Connection, meta: sa.MetaData) -> dict[str, dict[str | None, str]]:
    """Table -> CHECK name -> SQL text, for the tables of ``meta`` that exist on ``conn``."""
    inspector = sa.inspect(conn)
    present = set(inspector.get_table_names())
    return {
        name: {c.get("name"): c["sqltext"] for c in _table_checks(conn, inspector, name, None)}
        for name in meta.tables
        if name in present
    }


def _check_changes(
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
            if name in old and name in new and _squash(old[name]) == _squash(new[name]):
                continue
            if name in old:
                changes.append(_DropCheck(name, table, old[name]))
            if name in new:
                changes.append(ops.CreateCheckConstraintOp(name, table, sa.text(new[name])))
        if (None in old or None in new) and _squash(old.get(None) or "") != _squash(new.get(None) or ""):
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


def _enum_changes(
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
    old = {e["name"]: tuple(e["labels"]) for e in _live_enums(scratch)}
    quote = dialect.identifier_preparer.quote
    for name in sorted(live.keys() - old.keys()):
        out.before_upgrade.append(ops.ExecuteSQLOp(_create_enum_sql({"name": name, "labels": live[name]}, dialect)))
        out.after_downgrade.append(ops.ExecuteSQLOp(_drop_enum_sql(name, dialect)))
    dropped_tables = set(inspector.get_table_names()) - set(meta.tables) - ignored
    used_by_dropped = {
        c["type"].name for t in dropped_tables for c in inspector.get_columns(t) if isinstance(c["type"], sa.Enum)
    }
    for name in sorted(old.keys() - live.keys()):
        out.after_upgrade.append(ops.ExecuteSQLOp(_drop_enum_sql(name, dialect)))
        if name not in used_by_dropped:  # otherwise re-creating its table re-creates it
            out.before_downgrade.append(
                ops.ExecuteSQLOp(_create_enum_sql({"name": name, "labels": old[name]}, dialect))
            )
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
