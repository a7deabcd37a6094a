"""The schema evolution timeline: every revision in chain order with its story and its fate.

One model feeds every view (markdown, JSON, the HTML report, the drawn chain, mermaid, dot): what a
revision did to the schema (read statically from ``upgrade()``), when it was written and first
committed, who deleted it and when, where it can still be recovered from, and, given a database
stamp, whether the database is at or past it. Renderers only format this; they decide nothing.
This module holds the model; ``chain.story`` builds it from a scan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from migration_archaeologist.chain.problems import Problem

#: present: a file in a versions directory now; recoverable: some source holds it and the chain needs it
#: back; retired: some source holds it and nothing present needs it (reverted, squashed, another
#: branch: what scan calls retired); lost: only its ID
#: is known (a down_revision, depends_on or database stamp names it).
STATUSES = ("present", "recoverable", "retired", "lost")
#: stamped: the database's alembic_version holds it; applied: a stamped revision descends from it;
#: not-applied: neither. None when no database was given.
STAMP_STATES = ("stamped", "applied", "not-applied")
_DAY = re.compile(r"^(\d{4}-\d{2}-\d{2})")


@dataclass(frozen=True)
class CommitEvent:
    """A commit that touched a revision file: when, by whom, and through which part of git it was seen."""

    commit: str | None
    date: str | None
    author: str | None
    source: str  # history, reflog, stash, unreachable, archive, bytecode
    ref: str | None
    path: str | None


@dataclass(frozen=True)
class Place:
    """Where the chosen content can be restored from."""

    source: str
    label: str  # "history", "HEAD@{13}", "stash@{1}", "unreachable commit 1a2b3c4d5e", "archive old.zip"
    commit: str | None
    path: str | None


@dataclass(frozen=True)
class Edge:
    """``revision`` needs ``target`` (its down_revision or depends_on), as Alembic resolves it."""

    revision: str
    target: str
    kind: str  # "down_revision" or "depends_on"


@dataclass(frozen=True)
class TimelineEntry:
    revision: str
    file_name: str | None
    message: str | None
    create_date: str | None  # the header's "Create Date:" as written
    down_revisions: tuple[str, ...]
    depends_on: tuple[str, ...]
    branch_labels: tuple[str, ...]
    status: str  # one of STATUSES
    needed: bool  # missing, and the versions directory's chain needs it back
    fidelity: str | None  # exact, bytecode, bytecode-partial; None when lost or present
    versions: int  # distinct contents seen for this ID
    first_seen: CommitEvent | None
    deleted: CommitEvent | None  # the latest deletion, when the file is gone
    recoverable_from: tuple[Place, ...]
    operations: tuple[str, ...]  # "create table tasks (64 columns)", ...
    stamp: str | None  # one of STAMP_STATES, or None without a database
    head: bool
    base: bool
    merge_point: bool
    branch_point: bool
    children: tuple[str, ...]
    #: for a present file this tool wrote (its manifest says so): "history", "stash", ...,
    #: "synthesized"; and when. None for files nobody restored.
    restored_from: str | None = None
    restored_at: str | None = None
    #: a synthesized stand-in's own Create Date is when it was synthesized: it is placed on the day
    #: of its neighbours in the chain instead
    placed_on: str | None = None
    #: the command that brings it back: restore for a recoverable revision, synthesize for a lost
    #: one the database is at or past; None when there is nothing to do or nothing that would work
    next_step: str | None = None

    @property
    def next_step_label(self) -> str:
        """How a report introduces ``next_step``: what running it does."""
        if self.status == "lost":
            return "Write a stand-in from the database with"
        if self.needed or self.stamp in ("stamped", "applied"):
            return "Restore with"
        return "Retired; to bring it back anyway"

    @property
    def day(self) -> str | None:
        """The date the revision belongs to: its header's Create Date, else its first commit."""
        if self.placed_on:
            return self.placed_on
        for value in (self.create_date, self.first_seen.date if self.first_seen else None):
            match = _DAY.match(value or "")
            if match:
                return match.group(1)
        return None


@dataclass(frozen=True)
class Phase:
    """Revisions next to each other in chain order that share a day, as the seed report's "Schema
    Evolution Timeline" groups them."""

    day: str | None  # None: revisions with no date at all (known only by reference)
    entries: tuple[TimelineEntry, ...]

    @property
    def title(self) -> str:
        if len(self.entries) == 1:
            only = self.entries[0]
            return only.message or only.revision
        return f"{len(self.entries)} revisions"


@dataclass(frozen=True)
class Timeline:
    repository: str
    name: str  # the repository folder's name, for titles
    head: str | None
    versions_dirs: tuple[str, ...]
    entries: tuple[TimelineEntry, ...]  # chain order: bases first, a revision after everything it needs
    edges: tuple[Edge, ...]
    problems: tuple[Problem, ...]
    evidence: tuple[Any, ...] = ()  # sources.docs.Evidence rows
    database: str | None = None  # masked URL
    stamped: tuple[str, ...] = ()

    @property
    def heads(self) -> tuple[str, ...]:
        return tuple(e.revision for e in self.entries if e.head)

    @property
    def to_fix(self) -> tuple[TimelineEntry, ...]:
        """Missing revisions with a way back that the chain or the database needs: as much a
        problem as any in ``problems`` (Alembic cannot run without them), each with its command."""
        return tuple(
            e
            for e in self.entries
            if e.next_step and (e.status == "recoverable" and e.needed or e.stamp in ("stamped", "applied"))
        )

    def entry(self, revision: str) -> TimelineEntry:
        for e in self.entries:
            if e.revision == revision:
                return e
        raise KeyError(revision)

    def counts(self) -> dict[str, int]:
        counts = {status: 0 for status in STATUSES}
        for e in self.entries:
            counts[e.status] += 1
        return counts

    def phases(self) -> tuple[Phase, ...]:
        """The entries in chain order, cut where the day changes: a revision never comes before
        what it needs, whatever its date says.

        Dates only break ties in the chain order (``build_timeline``), so on a history whose dates
        agree with the chain the days come in calendar order. Where they do not (a Create Date that
        was not read and a commit's date stood in, clock skew, a cherry-pick), a child dated before
        its parent still comes after it, in a phase of its own, and a day can then have more than
        one phase.
        """
        phases: list[Phase] = []
        run: list[TimelineEntry] = []
        for e in self.entries:
            if run and e.day != run[0].day:
                phases.append(Phase(run[0].day, tuple(run)))
                run = []
            run.append(e)
        if run:
            phases.append(Phase(run[0].day, tuple(run)))
        return tuple(phases)
