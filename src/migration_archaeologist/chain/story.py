"""Each revision's story, told from a scan: the chain order with IDs known only by reference in
place, when a revision was first committed and who deleted it, where it can still be recovered from,
its fate (present, recoverable, retired, lost), its stamp state given a database, and the command that
brings it back. What it did to the schema is said by ``chain.operations``."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING
from collections.abc import Iterable, Mapping, Sequence

import networkx as nx

from migration_archaeologist.chain.operations import summarize_operations
from migration_archaeologist.chain.timeline import CommitEvent, Edge, Place, Timeline, TimelineEntry
from migration_archaeologist.parse.ops import RevisionOps
from migration_archaeologist.parse.pool import parse_many
from migration_archaeologist.sources.interface import GIT_SOURCES, Sighting, source_file_name

if TYPE_CHECKING:
    from migration_archaeologist.chain.catalog import RevisionEntry
    from migration_archaeologist.database.stamp import Stamp
    from migration_archaeologist.chain.graph import ChainGraph
    from migration_archaeologist.chain.scan_result import ScanResult


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
    rank = {
        source: i
        for i, source in enumerate(("history", "reflog", "stash", "index", "archive", "bytecode", "unreachable"))
    }
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
        elif s.source in ("archive", "bytecode", "index"):
            label = f"{s.source} {s.path}" if s.path else s.source
        else:
            label = s.source
        seen.setdefault(label, Place(s.source, label, s.commit, s.path))
    return tuple(seen.values())
