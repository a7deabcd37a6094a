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

from migration_archaeologist.database.drift import Difference, schema_drift
from migration_archaeologist.database.replay import ReplayFailed, StepResult, run_alembic, scratch_database
from migration_archaeologist.database.synthesize import SynthesizedRevision
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

    @property
    def proven(self) -> bool:
        return self.error is None and not self.differences and not self.left_after_downgrade

    @property
    def summary(self) -> str:
        if self.error:
            return f"{self.revision}: not proven, the replay failed: {self.error}"
        if self.differences:
            return (f"{self.revision}: not proven, {len(self.differences)} difference(s) from the live database: "
                    + "; ".join(d.message for d in self.differences))
        if self.left_after_downgrade:
            return f"{self.revision}: upgrade proven, but downgrade left {', '.join(self.left_after_downgrade)}"
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
) -> Proof:
    """Replay ``versions_dirs`` plus the synthesized file up to ``target`` (default: the synthesized
    revision) in a scratch database and compare with ``live_url`` (only ever read).

    For a baseline (a revision without parents), the downgrade to base is run as well and must
    leave no table behind.
    """
    target = target or synthesized.revision
    steps: list[StepResult] = []
    with tempfile.TemporaryDirectory(prefix="ma-synthesized-") as own:
        (Path(own) / synthesized.filename).write_bytes(synthesized.source)
        dirs = [*map(Path, versions_dirs), Path(own)]
        with scratch_database(live_url, scratch_url=scratch_url) as scratch:
            try:
                steps.append(run_alembic(dirs, scratch, "upgrade", target, live_url=live_url,
                                         python=python, timeout=timeout))
            except ReplayFailed as exc:
                return Proof(synthesized.revision, scratch.display, tuple(steps), (), exc.message, None)
            differences = schema_drift(live_url, scratch.url, ignore_tables=ignore_tables)
            left = None
            if not synthesized.down_revisions:
                try:
                    steps.append(run_alembic(dirs, scratch, "downgrade", "base", live_url=live_url,
                                             python=python, timeout=timeout))
                except ReplayFailed as exc:
                    return Proof(synthesized.revision, scratch.display, tuple(steps), differences, exc.message, None)
                left = _leftovers(scratch.url, ignore_tables)
    return Proof(synthesized.revision, scratch.display, tuple(steps), differences, None, left)


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
