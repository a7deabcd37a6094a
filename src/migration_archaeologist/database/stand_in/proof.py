"""Prove a synthesized revision: replay the chain with it and compare with the live database.

A synthesized file is only as good as this proof.  It is written into a versions directory of its
own (a temp directory, next to the known ones), the chain is upgraded to ``target`` in a scratch
database by the replay child, and :func:`drift.schema_drift` compares that with the live database.
Zero differences and a clean downgrade: proven.  Anything else is returned as it is -- a failed
proof is never turned into a success.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from migration_archaeologist.database.differences import Difference
from migration_archaeologist.database.drift import schema_drift
from migration_archaeologist.database.replay import ReplayFailed, StepResult, run_alembic
from migration_archaeologist.database.scratch import scratch_database
from migration_archaeologist.database.stand_in.schema import SynthesizedRevision
from migration_archaeologist.database.urls import engine

__all__ = ["Proof", "prove"]


@dataclass(frozen=True)
class Proof:
    """What replaying a synthesized revision showed."""

    revision: str
    scratch: str | None
    """Masked URL of the scratch database the chain was replayed into."""
    steps: tuple[StepResult, ...]
    differences: tuple[Difference, ...]
    """Live vs replayed schema after the upgrade: what the synthesized file could not express."""
    error: str | None
    """Why the replay stopped (the synthesized file or the chain failed to run)."""
    left_after_downgrade: tuple[str, ...] | None
    """Tables (and PostgreSQL enum types) a downgrade to base left behind (only checked for a baseline; None when not checked)."""
    downgrade_differences: tuple[Difference, ...] | None = None
    """For a revision with parents: the schema after its downgrade vs the known chain replayed to
    the parents (``expected`` = after the downgrade); None when not checked."""

    @property
    def upgrade_proven(self) -> bool:
        """The chain with the synthesized file replays to exactly the live schema."""
        return self.error is None and not self.differences

    @property
    def proven(self) -> bool:
        """Upgrade proven, and its downgrade returns to where it started."""
        return self.upgrade_proven and not self.left_after_downgrade and not self.downgrade_differences

    @property
    def summary(self) -> str:
        if self.error:
            return f"{self.revision}: not proven, the replay failed: {self.error}"
        if self.differences:
            return (
                f"{self.revision}: not proven, {len(self.differences)} difference(s) from the live database: "
                + "; ".join(d.message for d in self.differences)
            )
        if self.left_after_downgrade:
            return f"{self.revision}: upgrade proven, but downgrade left {', '.join(self.left_after_downgrade)}"
        if self.downgrade_differences:
            return (
                f"{self.revision}: upgrade proven, but its downgrade does not return to its parent's schema: "
                + "; ".join(d.message for d in self.downgrade_differences)
            )
        return f"{self.revision}: proven, the chain with it replays to the live schema"


def prove(
    synthesized: SynthesizedRevision,
    live_url: str,
    *,
    versions_dirs: Sequence[Path] = (),
    target: str | None = None,
    ignore_tables: Sequence[str] = ("alembic_version",),
    scratch_url: str | None = None,
    python: str | None = None,
    timeout: float = 600.0,
    check_downgrade: bool = True,
) -> Proof:
    """Replay ``versions_dirs`` plus the synthesized file up to ``target`` (default: the synthesized
    revision) in a scratch database and compare with ``live_url`` (only ever read).

    The downgrade is checked too (``check_downgrade``): for a baseline (no parents) the downgrade
    to base must leave no table or enum type behind; otherwise the schema after downgrading to the
    parents is compared with the known chain replayed to them in a second scratch database.
    """
    target = target or synthesized.revision
    steps: list[StepResult] = []
    with tempfile.TemporaryDirectory(prefix="ma-synthesized-") as own:
        (Path(own) / synthesized.filename).write_bytes(synthesized.source)
        dirs = [*map(Path, versions_dirs), Path(own)]
        with scratch_database(live_url, scratch_url=scratch_url) as scratch:
            try:
                steps.append(
                    run_alembic(dirs, scratch, "upgrade", target, live_url=live_url, python=python, timeout=timeout)
                )
            except ReplayFailed as exc:
                return Proof(synthesized.revision, scratch.display, tuple(steps), (), exc.message, None)
            differences = schema_drift(live_url, scratch.url, ignore_tables=ignore_tables)
            left: tuple[str, ...] | None = None
            back: tuple[Difference, ...] | None = None
            parents = synthesized.down_revisions
            if check_downgrade and target == synthesized.revision:
                try:  # one step back: to the parent (a merge's downgrade un-merges into all its parents), or base
                    steps.append(
                        run_alembic(
                            dirs,
                            scratch,
                            "downgrade",
                            parents[0] if parents else "base",
                            live_url=live_url,
                            python=python,
                            timeout=timeout,
                        )
                    )
                    if parents:
                        back = _against_parents(
                            versions_dirs,
                            parents,
                            scratch.url,
                            live_url,
                            ignore_tables,
                            steps,
                            python=python,
                            timeout=timeout,
                        )
                except ReplayFailed as exc:
                    return Proof(synthesized.revision, scratch.display, tuple(steps), differences, exc.message, None)
                if not parents:
                    left = _leftovers(scratch.url, ignore_tables)
    return Proof(synthesized.revision, scratch.display, tuple(steps), differences, None, left, back)


def _against_parents(
    versions_dirs: Sequence[Path],
    parents: Sequence[str],
    downgraded_url: str,
    live_url: str,
    ignore_tables: Sequence[str],
    steps: list[StepResult],
    *,
    python: str | None,
    timeout: float,
) -> tuple[Difference, ...]:
    """The downgraded scratch database vs the known chain replayed to ``parents`` in another one
    (both scratch databases; the live one is only the server they are made on)."""
    with scratch_database(live_url) as parent_db:
        for parent in parents:
            steps.append(
                run_alembic(
                    list(map(Path, versions_dirs)),
                    parent_db,
                    "upgrade",
                    parent,
                    live_url=live_url,
                    python=python,
                    timeout=timeout,
                )
            )
        return schema_drift(parent_db.url, downgraded_url, ignore_tables=ignore_tables)


def _leftovers(scratch_url: str, ignore_tables: Sequence[str]) -> tuple[str, ...]:
    """Tables and PostgreSQL enum types in the scratch database (never the live one: not read-only)."""
    eng = engine(scratch_url, poolclass=sa.pool.NullPool)
    try:
        with eng.connect() as conn:
            inspector = sa.inspect(conn)
            left = [t for t in sorted(inspector.get_table_names()) if t not in ignore_tables]
            if conn.dialect.name == "postgresql":
                left += [f"type {e['name']}" for e in inspector.get_enums()]  # type: ignore[attr-defined]
    finally:
        eng.dispose()
    return tuple(left)
