"""Synthesized revisions: when no copy of a revision survives, write one from the database.

The live schema is the only evidence left, so it is reflected (read-only, see
:func:`stamp.read_only_connection`) into a ``MetaData`` and Alembic's own autogenerate machinery
turns the difference into operations: ``produce_migrations`` against an *empty* scratch database
for a baseline, against the known chain replayed up to the lost revision's parent for a lost head.
The operations are rendered to Python by ``render_python_code``; only the file around them (header,
identifiers) is ours, laid out like Alembic's ``script.py.mako`` (:mod:`render`).

What autogenerate does not compare is added by hand (see :mod:`by_hand`): CHECK
constraints of tables that exist on both sides, and PostgreSQL enum types (created with their
tables, dropped explicitly on downgrade, since ``drop_table`` leaves them behind).  What no schema
comparison can see -- data a migration moved or rewrote -- is said in the result's notes, never
guessed.

A synthesized file is a claim, not a fact: :func:`migration_archaeologist.database.stand_in.proof.prove`
replays it and compares the result with the live database.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import produce_migrations
from alembic.migration import MigrationContext
from alembic.operations import ops

# the proof's own reading and comparison of CHECK constraints, so synthesis and proof agree on them
from migration_archaeologist.database.drift import SCHEMA_TIMEOUT, table_checks
from migration_archaeologist.database.replay import run_alembic
from migration_archaeologist.database.scratch import scratch_database
from migration_archaeologist.database.stamp import read_only_connection
from migration_archaeologist.database.stand_in.by_hand import (
    check_changes,
    checks_by_table,
    create_enum_sql,
    drop_enum_sql,
    enum_changes,
    enums_in_tables,
    live_enums,
    squash,
)
from migration_archaeologist.database.stand_in.render import render_body, render_revision
from migration_archaeologist.database.urls import engine, parse

__all__ = ["SynthesizedRevision", "baseline_revision", "reflect_live", "synthesize_head"]

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
        have = {squash(str(c.sqltext)) for c in table.constraints if isinstance(c, sa.CheckConstraint)}
        for check in table_checks(conn, inspector, table.name, None):
            if squash(check["sqltext"]) not in have:
                table.append_constraint(sa.CheckConstraint(sa.text(check["sqltext"]), name=check.get("name")))
    return meta


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
        enums = live_enums(live)
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
                in_tables = enums_in_tables(meta)
                unused = [e for e in enums if e["name"] not in in_tables]
                upgrade_ops.ops[0:0] = [ops.ExecuteSQLOp(create_enum_sql(e, dialect)) for e in unused]
                downgrade_ops.ops.extend(ops.ExecuteSQLOp(drop_enum_sql(e["name"], dialect)) for e in enums)
                up, down = render_body(upgrade_ops, context, batch), render_body(downgrade_ops, context, batch)
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
        meta, checks_by_table(conn, meta), {e["name"]: tuple(e["labels"]) for e in live_enums(conn)}, conn.dialect
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
                enums = enum_changes(conn, meta, target.enums, ignored)
                script = produce_migrations(context, meta)
                upgrade_ops = script.upgrade_ops
                assert upgrade_ops is not None
                check_ops, check_notes = check_changes(checks_by_table(conn, meta), target.checks)
                notes += check_notes + enums.notes
                upgrade_ops.ops.extend(check_ops)
                downgrade_ops = upgrade_ops.reverse()
                upgrade_ops.ops[0:0] = enums.before_upgrade
                upgrade_ops.ops.extend(enums.after_upgrade)
                downgrade_ops.ops[0:0] = enums.before_downgrade
                downgrade_ops.ops.extend(enums.after_downgrade)
                batch = dialect.name == "sqlite"
                up, down = render_body(upgrade_ops, context, batch), render_body(downgrade_ops, context, batch)
        finally:
            eng.dispose()
    if up.strip() == "pass":
        notes.append(
            "the target schema equals the parent's: the lost revision changed no schema "
            "(it may have changed data only, which cannot be recovered from the schema)"
        )
    return up, down, notes
