"""The schema evolution timeline: every revision in chain order with its story and its fate.

One model feeds every view (markdown, JSON, the HTML report, the drawn chain, mermaid, dot): what a
revision did to the schema (read statically from ``upgrade()``), when it was written and first
committed, who deleted it and when, where it can still be recovered from, and, given a database
stamp, whether the database is at or past it. Renderers only format this; they decide nothing.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from collections.abc import Iterable, Mapping, Sequence

import networkx as nx

from migration_archaeologist.parse.ops import OpCall, RevisionOps
from migration_archaeologist.parse.pool import parse_many
from migration_archaeologist.sources.interface import GIT_SOURCES, Sighting, source_file_name

if TYPE_CHECKING:
    from migration_archaeologist.chain.catalog import RevisionEntry
    from migration_archaeologist.database.stamp import Stamp
    from migration_archaeologist.chain.graph import ChainGraph, Problem
    from migration_archaeologist.chain.scan import ScanResult

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


def build_timeline(
    result: ScanResult,
    stamp: Stamp | None = None,
    *,
    title: str | None = None,
    operations: bool = True,
    repo_arg: str = ".",
    database: str | None = None,
    archives: Sequence[str] = (),
) -> Timeline:
    """The timeline of a scan; with ``stamp`` (read with database.stamp.read_stamp), stamp states too.

    ``title`` names the project in headings; by default, the repository folder's name. Without
    ``operations`` the entries carry no schema operations: reading them parses every revision's
    ``upgrade()`` (5.5 s for 10,000 revisions), which the chain drawn alone never shows.
    ``repo_arg`` and ``database`` (the masked URL as the user wrote it; default the stamp's) go
    into the commands each missing revision's ``next_step`` names, and so do ``archives`` (the
    --archive options given) for a revision only an archive holds.
    """
    chain = result.chain
    graph = chain.graph
    entries = result.catalog.entries
    stamped = tuple(stamp.revisions) if stamp is not None else ()
    unknown_stamps = [rev for rev in stamped if rev not in graph]

    applied: set[str] = set()
    for rev in stamped:
        if rev in graph:
            applied |= nx.descendants(graph, rev)
    missing_needed = set(result.missing)

    def state(rev: str) -> str | None:
        if stamp is None:
            return None
        if rev in stamped:
            return "stamped"
        return "applied" if rev in applied else "not-applied"

    children: dict[str, list[str]] = {n: [] for n in graph.nodes}
    edges: list[Edge] = []
    kind: str | None  # the edge attribute set in graph.py: "down" or "depends"
    for rev, target, kind in graph.edges(data="kind"):
        edges.append(Edge(rev, target, "down_revision" if kind == "down" else "depends_on"))
        if kind == "down":
            children[target].append(rev)
    # heads and bases as check judges them: the versions directory's chain (present and needed); a
    # retired revision or a fork's pull request is history, not a head 'alembic upgrade head' meets
    gate = result.gate_chain
    heads, bases = set(gate.heads), set(gate.bases)
    merges, branch_points = set(chain.merge_points), set(chain.branch_points)

    from migration_archaeologist.actions.manifest import read_manifest

    manifest = read_manifest(result.versions_dirs)
    order = _order(chain, graph, entries, unknown_stamps)
    ops: dict[str, RevisionOps] = {}
    if operations:  # every upgrade() parsed whole: on every core when there are many (10,000: 5.5 s in one)
        blobs = sorted({entries[rev].chosen.blob for rev in order if rev in entries})
        contents = ((b, result.catalog.content(b)) for b in blobs)
        ops = {blob: read for blob, _data, read in parse_many(contents, job="ops", expected=len(blobs))}
    built: list[TimelineEntry] = []
    for rev in order:
        entry = entries.get(rev)
        if entry is None:
            built.append(_lost(rev, state(rev), tuple(sorted(children.get(rev, ())))))
            continue
        built.append(
            _entry(
                entry,
                result,
                needed=rev in missing_needed,
                stamp_state=state(rev),
                children=tuple(sorted(children.get(rev, ()))),
                flags=(rev in heads, rev in bases, rev in merges, rev in branch_points),
                record=manifest.get((rev, entry.chosen.blob)) if entry.present else None,
                ops=ops.get(entry.chosen.blob),
            )
        )
    built = _place_stand_ins(built)
    shown_url = database or (stamp.url if stamp is not None else None)
    built = [replace(e, next_step=_next_step(e, result, repo_arg, shown_url, archives)) for e in built]
    position = {e.revision: i for i, e in enumerate(built)}
    repo = result.repository
    return Timeline(
        repository=str(repo.display_path),
        name=title or Path(repo.display_path).name or str(repo.display_path),
        head=repo.head,
        versions_dirs=tuple(result.relative(d) for d in result.versions_dirs),
        entries=tuple(built),
        edges=tuple(sorted(edges, key=lambda e: (position[e.revision], e.kind, position[e.target]))),
        problems=tuple(result.findings),  # check's problems; history-only ones as warnings, as in scan
        evidence=tuple(result.evidence),
        database=stamp.url if stamp is not None else None,
        stamped=stamped,
    )


def _order(
    chain: ChainGraph, graph: nx.DiGraph[str], entries: Mapping[str, RevisionEntry], extra: Sequence[str]
) -> list[str]:
    """The chain's own order (``ChainGraph.order``: parents before children, ties broken by Create
    Date, then ID), with each ID known only by reference just before the first revision that names it.

    A cycle orders only its own members by date: the rest of the chain keeps its shape (the cycle
    is a Problem of its own). ``ChainGraph.order`` sorts the whole chain by date then, so that case
    alone is ordered here.
    """
    if any(p.kind == "cycle" for p in chain.problems):
        order = _order_around_cycles(graph, entries)
    else:
        position = {rev: i for i, rev in enumerate(chain.order)}
        before: dict[str, list[str]] = {}
        for missing in chain.missing_targets:  # sorted: several before one revision go by ID
            # whatever names it, as a down_revision or a depends_on
            child = min(graph.predecessors(missing), key=position.__getitem__)
            before.setdefault(child, []).append(missing)
        order = [node for rev in chain.order for node in (*before.get(rev, ()), rev)]
    return order + [rev for rev in extra if rev not in graph]


def _order_around_cycles(graph: nx.DiGraph[str], entries: Mapping[str, RevisionEntry]) -> list[str]:
    """Parents before children, ties broken by Create Date, each cycle's members together by date.

    An ID known only by reference takes its earliest child's date, so it sits just before what
    names it.
    """
    dates: dict[str, str] = {}
    for rev in graph.nodes:
        entry = entries.get(rev)
        if entry is not None:
            dates[rev] = entry.parsed.create_date or ""
    for rev in graph.nodes:
        if rev not in dates:
            named_by = [dates.get(child, "") for child, _ in graph.in_edges(rev)]
            dates[rev] = min(named_by, default="")

    def key(rev: str) -> str:
        return f"{dates[rev]}\0{rev}"

    forward = graph.reverse(copy=False)  # parents -> children
    components = nx.condensation(forward)
    members = components.graph["mapping"]
    groups: dict[int, list[str]] = {}
    for rev, component in members.items():
        groups.setdefault(component, []).append(rev)
    group_key = {c: min(key(rev) for rev in revs) for c, revs in groups.items()}
    return [
        rev
        for component in nx.lexicographical_topological_sort(components, key=group_key.__getitem__)
        for rev in sorted(groups[component], key=key)
    ]


def _lost(rev: str, stamp_state: str | None, children: tuple[str, ...]) -> TimelineEntry:
    return TimelineEntry(
        revision=rev,
        file_name=None,
        message=None,
        create_date=None,
        down_revisions=(),
        depends_on=(),
        branch_labels=(),
        status="lost",
        needed=True,
        fidelity=None,
        versions=0,
        first_seen=None,
        deleted=None,
        recoverable_from=(),
        operations=(),
        stamp=stamp_state,
        head=False,
        base=False,
        merge_point=False,
        branch_point=len(children) > 1,
        children=children,
    )


def _entry(
    entry: RevisionEntry,
    result: ScanResult,
    *,
    needed: bool,
    stamp_state: str | None,
    children: tuple[str, ...],
    flags: tuple[bool, bool, bool, bool],
    record: Mapping[str, object] | None = None,
    ops: RevisionOps | None = None,
) -> TimelineEntry:
    parsed = entry.parsed
    chosen = entry.chosen
    every = [s for c in entry.candidates for s in c.sightings]
    names = [source_file_name(s.path) for s in chosen.sightings if s.path]
    deletion = result.deletion(entry.revision)
    head, base, merge, branch = flags
    return TimelineEntry(
        revision=entry.revision,
        file_name=_most_common(names),
        message=parsed.message,
        create_date=parsed.create_date,
        down_revisions=parsed.down_revisions,
        depends_on=parsed.depends_on,
        branch_labels=parsed.branch_labels,
        # as scan says: what the chain needs back is recoverable; what history holds and nothing needs
        # (reverted, squashed, on another branch) is retired, not one more thing to restore
        status="present" if entry.present else "recoverable" if needed else "retired",
        needed=needed,
        fidelity=_recorded(record, "fidelity") if entry.present else chosen.fidelity,
        versions=len(entry.candidates),
        first_seen=_first_seen(every, result),
        deleted=_event(deletion, result) if deletion is not None else None,
        recoverable_from=() if entry.present else _places(chosen.sightings),
        operations=summarize_operations(ops.upgrade) if ops is not None else (),
        stamp=stamp_state,
        head=head,
        base=base,
        merge_point=merge,
        branch_point=branch,
        children=children,
        restored_from=_recorded(record, "source"),
        restored_at=_recorded(record, "restored_at"),
    )


def _next_step(
    entry: TimelineEntry, result: ScanResult, repo_arg: str, database: str | None, archives: Sequence[str] = ()
) -> str | None:
    """restore for what a source holds (``--allow-new-head`` where restore asks for it: a retired
    revision; the --archive options given when only an archive holds it); synthesize for a lost
    one the database has applied, the only way forward left."""
    from migration_archaeologist.chain.check import held_only_by_archives, restore_command
    from migration_archaeologist.actions.verify import synthesize_command

    if entry.status in ("recoverable", "retired"):
        allow = " --allow-new-head" if entry.revision in result.retired else ""
        sources = archives if held_only_by_archives(result.catalog.entries[entry.revision]) else ()
        return restore_command(entry.revision, repo_arg, sources) + allow
    if entry.status == "lost" and database is not None and entry.stamp in ("stamped", "applied"):
        return synthesize_command(entry.revision, database, repo_arg)
    return None


def _place_stand_ins(entries: list[TimelineEntry]) -> list[TimelineEntry]:
    """A synthesized revision goes on its earliest child's day (it came before), else its parent's."""
    days = {e.revision: e.day for e in entries if e.fidelity != "synthesized"}
    out = []
    for e in entries:
        if e.fidelity == "synthesized":
            after = sorted(d for d in (days.get(c) for c in e.children) if d)
            before = sorted(d for d in (days.get(p) for p in e.down_revisions) if d)
            e = replace(e, placed_on=(after[0] if after else before[-1] if before else None))
        out.append(e)
    return out


def _recorded(record: Mapping[str, object] | None, key: str) -> str | None:
    value = record.get(key) if record is not None else None
    return value if isinstance(value, str) else None


def _most_common(names: Sequence[str]) -> str | None:
    if not names:
        return None
    return max(dict.fromkeys(names), key=names.count)


def _first_seen(sightings: Iterable[Sighting], result: ScanResult) -> CommitEvent | None:
    """The earliest commit that holds the file; without any commit, the earliest dated sighting.

    An uncommitted file in the versions directory is also read as an untracked file: that is the
    file itself, not an earlier sighting of it."""
    sightings = list(sightings)
    here = {s.path for s in sightings if s.source == "worktree"}
    dated = [
        s for s in sightings if s.date and s.source != "worktree" and not (s.source == "archive" and s.path in here)
    ]
    in_git = [s for s in dated if s.commit and s.source in GIT_SOURCES]
    pool = in_git or dated
    if not pool:
        return None
    return _event(min(pool, key=lambda s: (s.date or "", s.event != "added")), result)


def _event(sighting: Sighting, result: ScanResult) -> CommitEvent:
    info = result.commits.get(sighting.commit) if sighting.commit else None
    return CommitEvent(
        commit=sighting.commit,
        date=info.date if info is not None else sighting.date,
        author=info.author if info is not None else None,
        source=sighting.source,
        ref=sighting.ref,
        path=sighting.path,
    )


def _places(sightings: Iterable[Sighting]) -> tuple[Place, ...]:
    """Distinct places, best first: the same order restore prefers (history before the fringes)."""
    rank = {source: i for i, source in enumerate(("history", "reflog", "stash", "archive", "bytecode", "unreachable"))}
    seen: dict[str, Place] = {}
    for s in sorted(sightings, key=lambda s: (rank.get(s.source, 99), s.date or "")):
        if s.source == "worktree" or s.event == "deleted":
            continue
        if s.source in ("reflog", "stash") and s.ref:
            label = s.ref
        elif s.source == "stash":
            label = f"dropped stash {s.commit[:10]}" if s.commit else "dropped stash"
        elif s.source == "unreachable":
            label = f"unreachable commit {s.commit[:10]}" if s.commit else "unreachable blob"
        elif s.source in ("archive", "bytecode"):
            label = f"{s.source} {s.path}" if s.path else s.source
        else:
            label = s.source
        seen.setdefault(label, Place(s.source, label, s.commit, s.path))
    return tuple(seen.values())


# --------------------------------------------------------------------------- schema operations


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
