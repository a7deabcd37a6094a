"""A lost revision in the middle of the chain: the live schema with its known descendants undone.

The live database shows the schema at the head, not at the lost revision.  To get the schema at
the lost revision we rebuild the live schema in a scratch database (from a synthesized baseline),
stamp it with the live database's heads, and run the known descendants' ``downgrade()`` back to
the lost revision (a do-nothing placeholder with the lost ID stands in for it, so Alembic can walk
the chain).  The stand-in is then the difference between the known chain at the parent(s) and that
schema, as for a lost head.

This is only as sound as the descendants' downgrades: one that does not undo its upgrade exactly
moves the error into the stand-in.  The notes say so, and :func:`proof.prove` with ``target`` = the
head replays the whole chain, stand-in included, against the live database.
"""

from __future__ import annotations

import datetime as _dt
import tempfile
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa

from migration_archaeologist.database.drift import SCHEMA_TIMEOUT
from migration_archaeologist.database.replay import run_alembic
from migration_archaeologist.database.scratch import scratch_database
from migration_archaeologist.database.stamp import read_only_connection, read_stamp
from migration_archaeologist.database.stand_in.schema import (
    SynthesizedRevision,
    baseline_revision,
    stand_in_ops,
    target_schema,
)
from migration_archaeologist.database.stand_in.render import render_revision
from migration_archaeologist.database.urls import engine

__all__ = ["synthesize_middle"]

SOUNDNESS_NOTE = (
    "the schema at this revision was derived by undoing its known descendants ({}) from the "
    "live schema: it is only as sound as their downgrade() functions"
)
_SNAPSHOT = "ma_live_snapshot"


def synthesize_middle(
    versions_dirs: Sequence[Path],
    live_url: str,
    *,
    revision_id: str,
    down_revision: str | Sequence[str],
    message: str = "synthesized from the database",
    ignore_tables: Sequence[str] = ("alembic_version",),
    python: str | None = None,
    timeout: float = 600.0,
    now: _dt.datetime | None = None,
) -> SynthesizedRevision:
    """A stand-in for ``revision_id``, which known revisions in ``versions_dirs`` descend from.

    The live database is only read (reflected for the snapshot, and its stamp).  Raises
    :class:`replay.ReplayFailed` when a descendant's downgrade fails on the snapshot.
    """
    created = now or _dt.datetime.now(_dt.timezone.utc)
    downs = (down_revision,) if isinstance(down_revision, str) else tuple(down_revision)
    heads = read_stamp(live_url).revisions
    snapshot = baseline_revision(live_url, revision_id=_SNAPSHOT, ignore_tables=ignore_tables, now=created)
    with tempfile.TemporaryDirectory(prefix="ma-middle-") as work:
        own, placeholder_dir = Path(work, "snapshot"), Path(work, "placeholder")
        own.mkdir()
        placeholder_dir.mkdir()
        (own / snapshot.filename).write_bytes(snapshot.source)
        (placeholder_dir / f"{revision_id}.py").write_bytes(
            render_revision(
                revision=revision_id,
                down_revisions=downs,
                message="placeholder",
                upgrade_body="    pass",
                downgrade_body="    pass",
                database=live_url,
                created=created,
                how="a placeholder, never kept.",
            )
        )
        with scratch_database(live_url) as at_revision:
            run_alembic([own], at_revision, "upgrade", _SNAPSHOT, live_url=live_url, python=python, timeout=timeout)
            _restamp(at_revision.url, heads)
            step = run_alembic(
                [*map(Path, versions_dirs), placeholder_dir],
                at_revision,
                "downgrade",
                revision_id,
                live_url=live_url,
                python=python,
                timeout=timeout,
            )
            with read_only_connection(at_revision.url, timeout=SCHEMA_TIMEOUT) as conn:
                target = target_schema(conn, ignore_tables)
            # the placeholder stays in the chain: the known descendants name it as their parent
            up, down, notes = stand_in_ops(
                [*map(Path, versions_dirs), placeholder_dir],
                live_url,
                target,
                downs,
                ignore_tables=ignore_tables,
                scratch_url=None,
                python=python,
                timeout=timeout,
            )
    notes = [SOUNDNESS_NOTE.format(", ".join(step.applied) or "none"), *notes, *snapshot.notes[1:]]
    source = render_revision(
        revision=revision_id,
        down_revisions=downs,
        message=message,
        upgrade_body=up,
        downgrade_body=down,
        database=live_url,
        created=created,
        how=(
            f"the difference between the known chain at {', '.join(downs)} and the live schema with the known "
            f"descendants ({', '.join(step.applied) or 'none'}) downgraded."
        ),
    )
    return SynthesizedRevision(revision_id, downs, message, source, notes=tuple(notes))


def _restamp(scratch_url: str, heads: Sequence[str]) -> None:
    """Make the scratch snapshot claim the live database's heads (a scratch database: writable)."""
    eng = engine(scratch_url, poolclass=sa.pool.NullPool)
    try:
        with eng.begin() as conn:
            table = sa.table("alembic_version", sa.column("version_num"))
            conn.execute(sa.delete(table))
            for head in heads:
                conn.execute(sa.insert(table).values(version_num=head))
    finally:
        eng.dispose()
