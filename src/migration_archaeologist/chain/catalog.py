"""Fold sightings into one entry per revision ID: every distinct content, the chosen one, and why.

The choice follows what a person doing the recovery by hand would do: the file as it last stood in
HEAD's history before it was deleted; else the newest copy on any ref, reflog entry or stash; else
an unreachable object; and among those, a version whose ``down_revision`` fits the chain beats one
that points nowhere.
"""

from __future__ import annotations

from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol
from collections.abc import Iterable, Iterator, Mapping

from migration_archaeologist.errors import UsageError
from migration_archaeologist.parse.revision import RevisionFile, Unparseable
from migration_archaeologist.sources.interface import Sighting


class ParsingSource(Protocol):
    """A source whose blobs have been parsed already (every source reads content to recognise it)."""

    def iter_sightings(self) -> Iterator[Sighting]: ...

    def content(self, blob: str) -> bytes: ...

    def parsed(self, blob: str) -> RevisionFile | Unparseable: ...


#: Ranks of where a candidate was seen, best first.
TIER_HEAD, TIER_REFS, TIER_UNREACHABLE, TIER_OTHER = range(4)


@dataclass(frozen=True)
class Candidate:
    """One distinct content of a revision ID, with every place it was seen."""

    blob: str
    size: int
    fidelity: str
    revision: RevisionFile
    sightings: tuple[Sighting, ...]

    @cached_property
    def present_paths(self) -> tuple[str, ...]:
        return tuple(s.path for s in self.sightings if s.source == "worktree" and s.path)

    @cached_property
    def last_date(self) -> str:
        return max((s.date for s in self.sightings if s.date), default="")


@dataclass(frozen=True)
class RevisionEntry:
    """Everything known about one revision ID."""

    revision: str
    candidates: tuple[Candidate, ...]
    chosen: Candidate
    reason: str
    present: bool

    @property
    def parsed(self) -> RevisionFile:
        return self.chosen.revision

    def deletion(self) -> Sighting | None:
        """The latest deletion of this revision in history, if it is gone from HEAD's tree."""
        deletions = [s for c in self.candidates for s in c.sightings if s.event == "deleted"]
        return max(deletions, key=lambda s: s.date or "", default=None)

    def sources(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for candidate in self.candidates:
            for sighting in candidate.sightings:
                seen.setdefault(sighting.source, None)
        return tuple(seen)


@dataclass(frozen=True)
class UnparseableFile:
    """A blob that looks like a revision file but cannot be read as one."""

    blob: str
    reason: str
    revision_hint: str | None
    sightings: tuple[Sighting, ...]


@dataclass(frozen=True)
class Catalog:
    entries: Mapping[str, RevisionEntry]
    unparseable: tuple[UnparseableFile, ...]
    head_history: Mapping[str, int] = field(default_factory=dict, repr=False)
    contents: Mapping[str, bytes] = field(default_factory=dict, repr=False)

    def content(self, blob: str) -> bytes:
        return self.contents[blob]


def build_catalog(
    sources: Iterable[ParsingSource],
    *,
    head_history: Mapping[str, int] | None = None,
    picks: Mapping[str, str] | None = None,
) -> Catalog:
    """Group sightings by content, then by revision ID, then choose a candidate per revision."""
    by_blob: dict[str, list[Sighting]] = {}
    parsed: dict[str, RevisionFile | Unparseable] = {}
    contents = _Contents()
    sizes: dict[str, int] = {}
    fidelities: dict[str, str] = {}
    for source in sources:
        fidelity_of = getattr(source, "fidelity", None)  # sources that rebuild content say how faithfully
        size_of = getattr(source, "size", None)  # sources that know a size without reading the content
        for sighting in source.iter_sightings():
            by_blob.setdefault(sighting.blob, []).append(sighting)
            if sighting.blob not in parsed:
                parsed[sighting.blob] = source.parsed(sighting.blob)
                contents.owners[sighting.blob] = source
                sizes[sighting.blob] = size_of(sighting.blob) if size_of else len(source.content(sighting.blob))
                fidelities[sighting.blob] = fidelity_of(sighting.blob) if fidelity_of else "exact"

    by_revision: dict[str, list[Candidate]] = {}
    broken: list[UnparseableFile] = []
    for blob, sightings in by_blob.items():
        result = parsed[blob]
        ordered = tuple(sorted(sightings, key=_sighting_order))
        if isinstance(result, Unparseable):
            broken.append(UnparseableFile(blob, result.reason, result.revision_hint, ordered))
            continue
        candidate = Candidate(blob, sizes[blob], fidelities[blob], result, ordered)
        by_revision.setdefault(result.revision, []).append(candidate)

    head_history = head_history or {}
    picks = dict(picks or {})
    unknown = sorted(set(picks) - set(by_revision))
    if unknown:
        raise UsageError(f"--pick names revision {unknown[0]}, which no source holds")
    known_ids = frozenset(by_revision)
    entries: dict[str, RevisionEntry] = {}
    for rev_id in sorted(by_revision):
        found = by_revision[rev_id]
        candidates = tuple(found) if len(found) == 1 else tuple(sorted(found, key=_newest_first, reverse=True))
        chosen, reason = _choose(rev_id, candidates, known_ids, head_history, picks.get(rev_id))
        present = any(c.present_paths for c in candidates)
        entries[rev_id] = RevisionEntry(rev_id, candidates, chosen, reason, present)
    broken.sort(key=lambda u: (u.revision_hint or "", u.blob))
    return Catalog(entries, tuple(broken), head_history, contents)


class _Contents(MappingABC[str, bytes]):
    """Each blob's content, asked of the source that first held it only when a command needs it:
    a stored history scan reads its blobs back from git then, and ``check`` never does."""

    def __init__(self) -> None:
        self.owners: dict[str, ParsingSource] = {}

    def __getitem__(self, blob: str) -> bytes:
        return self.owners[blob].content(blob)

    def __iter__(self) -> Iterator[str]:
        return iter(self.owners)

    def __len__(self) -> int:
        return len(self.owners)


def _sighting_order(s: Sighting) -> tuple[str, int]:
    return (s.date or "", ("added", "modified", "seen", "deleted").index(s.event))


def _reflog_index(s: Sighting) -> int:
    """3 for HEAD@{3}; big for anything not a reflog or stash entry (older than any entry)."""
    if s.ref and s.ref.endswith("}") and "@{" in s.ref:
        number = s.ref.rsplit("@{", 1)[1][:-1]
        if number.isdigit():
            return int(number)
    return 1 << 30


def _recency(c: Candidate) -> int:
    """Among versions of the same date (an amended commit keeps its author date), the one a newer
    reflog entry holds is the newer version."""
    return -min((_reflog_index(s) for s in c.sightings), default=1 << 30)


def _newest_first(c: Candidate) -> tuple[str, int, str]:
    return (c.last_date, _recency(c), c.blob)


def _tier(candidate: Candidate, head_history: Mapping[str, int]) -> int:
    # a dropped stash (source stash, no ref) is as loose as any unreachable commit: gc prunes it
    sources = {"unreachable" if s.source == "stash" and not s.ref else s.source for s in candidate.sightings}
    if any(s.source == "history" and s.commit in head_history for s in candidate.sightings):
        return TIER_HEAD
    if sources & {"history", "reflog", "stash"}:
        return TIER_REFS
    if "unreachable" in sources or "index" in sources:  # staged, never committed: as loose, and newer
        return TIER_UNREACHABLE
    return TIER_OTHER


def _fits(revision: RevisionFile, known_ids: frozenset[str]) -> bool:
    parents = revision.down_revisions + revision.depends_on
    return revision.revision not in parents and all(p in known_ids for p in parents)


def _choose(
    rev_id: str,
    candidates: tuple[Candidate, ...],
    known_ids: frozenset[str],
    head_history: Mapping[str, int],
    pick: str | None,
) -> tuple[Candidate, str]:
    if pick is not None:
        matches = [c for c in candidates if c.blob.startswith(pick.lower())]
        if len(matches) != 1:
            choices = ", ".join(c.blob[:12] for c in candidates)
            what = "no" if not matches else "more than one"
            raise UsageError(f"--pick {rev_id}={pick}: {what} candidate matches (candidates: {choices})")
        return matches[0], f"picked with --pick {rev_id}={pick}"

    present = [c for c in candidates if c.present_paths]
    if present:
        # by path, not by the order sightings came in (which follows file dates)
        chosen = min(present, key=lambda c: min(c.present_paths))
        return chosen, f"present in the versions directory as {min(chosen.present_paths)}"

    def in_head(s: Sighting) -> bool:
        return s.source == "history" and s.commit in head_history

    def key(c: Candidate) -> tuple[bool, bool, int, int, str, int, str]:
        tier = _tier(c, head_history)
        exact = c.fidelity == "exact"  # the bytes as they were beat any rebuild, wherever they were found
        if tier == TIER_HEAD:
            # newest in HEAD's topological order: "the last version before it was deleted", even with clock skew
            newest = min(head_history[s.commit] for s in c.sightings if in_head(s))  # type: ignore[index]
            return (_fits(c.revision, known_ids), exact, -tier, -newest, "", 0, c.blob)
        latest = max((s.date or "" for s in c.sightings), default="")
        return (_fits(c.revision, known_ids), exact, -tier, 0, latest, _recency(c), c.blob)

    ranked = sorted(candidates, key=key, reverse=True)
    chosen = ranked[0]
    tier = _tier(chosen, head_history)
    reason = _reason(chosen, tier, in_head, head_history)
    if chosen.fidelity != "exact":
        reason += f"; no exact copy survives, so this is a {chosen.fidelity} rebuild"
    if len(candidates) > 1:
        by_place = sorted(candidates, key=lambda c: key(c)[1:], reverse=True)
        if by_place[0] is not chosen:
            reason += "; preferred because its down_revision fits the chain, the newer version's does not"
        else:
            reason += f" (newest of {len(candidates)} versions)"
    return chosen, reason


def _reason(chosen: Candidate, tier: int, in_head, head_history: Mapping[str, int]) -> str:  # type: ignore[no-untyped-def]
    if tier == TIER_HEAD:
        head_sightings = [s for s in chosen.sightings if in_head(s)]
        last = min(head_sightings, key=lambda s: (head_history[s.commit], -_sighting_order(s)[1], s.path or ""))  # type: ignore[index]  # in_head(s): s has a commit
        if last.event == "deleted":
            return f"last version in HEAD's history, deleted in {last.commit[:10]} on {_day(last.date)}"  # type: ignore[index]
        return f"last version in HEAD's history, {last.event} in {last.commit[:10]} at {last.path}"  # type: ignore[index]
    if tier == TIER_REFS:
        refs = [s for s in chosen.sightings if s.source in ("history", "reflog") or (s.source == "stash" and s.ref)]
        last = max(refs, key=_sighting_order)
        where = {
            "history": "on a branch or tag outside HEAD's history",
            "reflog": "in the reflog",
            "stash": "in a stash",
        }[last.source]
        ref = f" ({last.ref})" if last.ref else ""
        return f"newest version {where}{ref}, commit {last.commit[:10]}"  # type: ignore[index]
    if tier == TIER_UNREACHABLE:
        staged = [s for s in chosen.sightings if s.source == "index"]
        if staged:
            return f"staged in the index as {staged[-1].path}, never committed"
        commits = [s for s in chosen.sightings if s.commit]
        if commits:
            what = "a dropped stash" if commits[-1].source == "stash" else "an unreachable commit"
            return f"found only in {what} {commits[-1].commit[:10]}"  # type: ignore[index]
        return "found only as an unreachable (dangling) blob"
    last = chosen.sightings[-1]
    if last.source == "bytecode":
        return f"rebuilt from bytecode {last.path}"
    return f"found only in {last.source} {last.path}" if last.path else f"found only in {last.source}"


def _day(date: str | None) -> str:
    return (date or "?")[:10]
