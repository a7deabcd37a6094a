"""Lost or retired: why a revision that history holds is not in the versions directory.

A revision absent from the versions directory is *lost* only when something still needs it: a
present revision stands on it (down_revision or depends_on), the database is stamped with it, or the
user names it. Otherwise it was *retired*: reverted, deleted on purpose, squashed into a new baseline,
or never on HEAD's history at all (another branch, a stash, an unreachable commit). Retired revisions
are listed, never restored unasked, and never fail ``check``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from collections.abc import Mapping

from migration_archaeologist.chain.catalog import Catalog, RevisionEntry
from migration_archaeologist.sources.git.records import CommitInfo
from migration_archaeologist.sources.interface import Sighting

if TYPE_CHECKING:
    from migration_archaeologist.chain.graph import ChainGraph

#: How the sources of a revision never in HEAD's history read in a report.
_PLACES = {
    "history": "another branch or tag",
    "reflog": "the reflog",
    "stash": "a stash",
    "unreachable": "unreachable objects",
    "archive": "an archive",
    "bytecode": "bytecode",
    "index": "the index (staged, never committed)",
}
#: How a revision was retired.
REVERTED, SQUASHED, DELETED, ELSEWHERE = "reverted", "squashed", "deleted", "elsewhere"


@dataclass(frozen=True)
class Retirement:
    """How one revision left the chain, for a report line."""

    revision: str
    how: str  # one of REVERTED, SQUASHED, DELETED, ELSEWHERE
    commit: str | None  # the commit that removed it from HEAD's history
    subject: str | None
    baseline: str | None = None  # for SQUASHED: the present base revision added by the same commit
    sources: tuple[str, ...] = ()  # for ELSEWHERE: where it is seen

    @property
    def on_purpose(self) -> bool:
        """Removed from HEAD's history by a commit (reverted, squashed, deleted), not just never merged."""
        return self.how != ELSEWHERE

    def describe(self) -> str:
        commit = (self.commit or "")[:10]
        subject = f' "{self.subject}"' if self.subject else ""
        if self.how == REVERTED:
            return f"reverted in {commit}{subject}"
        if self.how == SQUASHED:
            return f"squashed into {self.baseline} in {commit}{subject}"
        if self.how == DELETED:
            return f"deleted in {commit}{subject}"
        places = [_PLACES.get(source, source) for source in self.sources]
        return f"never in HEAD's history: only in {', '.join(dict.fromkeys(places)) or 'other sources'}"

    def to_json(self) -> dict[str, object]:
        return {
            "how": self.how,
            "commit": self.commit,
            "subject": self.subject,
            "baseline": self.baseline,
            "description": self.describe(),
        }


def is_revert(subject: str | None) -> bool:
    """``git revert``'s own subject ('Revert "..."'), as most teams leave it, or 'Revert <what>' /
    'revert <what>' written by hand; not 'Reverted', 'reverting' or 'revertible'."""
    words = (subject or "").split(None, 1)
    return bool(words) and words[0] in ("Revert", "revert") or (subject or "").startswith('Revert"')


def retirements(
    catalog: Catalog, lost: set[str] | tuple[str, ...], commits: Mapping[str, CommitInfo]
) -> dict[str, Retirement]:
    """Every absent revision that is not lost, with how it was retired."""
    lost = set(lost)
    baselines = _baselines_added(catalog, lost)
    found: dict[str, Retirement] = {}
    for rev, entry in catalog.entries.items():
        if entry.present or rev in lost:
            continue
        found[rev] = _retirement(entry, catalog.head_history, commits, baselines)
    return found


def last_deletion(entry: RevisionEntry, head_history: Mapping[str, int]) -> Sighting | None:
    """The newest deletion of the revision's source file in HEAD's history (by HEAD's order, not by
    date); deleting committed bytecode is none: the source never was on HEAD's history."""
    deletions = [
        s
        for c in entry.candidates
        for s in c.sightings
        if s.event == "deleted" and s.source == "history" and s.commit in head_history and not _bytecode(s.path)
    ]
    return min(deletions, key=lambda s: head_history[s.commit]) if deletions else None  # type: ignore[index]


def _retirement(
    entry: RevisionEntry,
    head_history: Mapping[str, int],
    commits: Mapping[str, CommitInfo],
    baselines: Mapping[str, str],
) -> Retirement:
    last = last_deletion(entry, head_history)
    if last is None:
        sources = tuple(
            dict.fromkeys("bytecode" if _bytecode(s.path) else s.source for c in entry.candidates for s in c.sightings)
        )
        return Retirement(entry.revision, ELSEWHERE, None, None, sources=sources)
    commit = last.commit
    info = commits.get(commit or "")
    subject = info.subject if info else None
    if is_revert(subject):
        return Retirement(entry.revision, REVERTED, commit, subject)
    if commit is not None and commit in baselines:
        return Retirement(entry.revision, SQUASHED, commit, subject, baseline=baselines[commit])
    return Retirement(entry.revision, DELETED, commit, subject)


def _bytecode(path: str | None) -> bool:
    return bool(path) and path.endswith(".pyc")  # type: ignore[union-attr]


def _baselines_added(catalog: Catalog, needed: set[str]) -> dict[str, str]:
    """commit -> a base revision (no down_revision) of today's chain, present or needed back, that the
    commit added: a squash commit deletes the old chain and adds its new baseline at once. Needed
    counts too: a versions folder emptied after a squash still owes its baseline to the squash."""
    found: dict[str, str] = {}
    for rev, entry in catalog.entries.items():
        if not (entry.present or rev in needed) or entry.parsed.down_revisions:
            continue
        for candidate in entry.candidates:
            for s in candidate.sightings:
                if s.source == "history" and s.event == "added" and s.commit:
                    found.setdefault(s.commit, rev)
    return found


def lost_when_none_present(
    catalog: Catalog, absent: list[str], commits: Mapping[str, CommitInfo], chain: ChainGraph | None = None
) -> list[str]:
    """With no revision left in the versions directory (the seed: the whole folder emptied), what was
    there just before is what is needed: the revisions the last deleting commit of HEAD's history
    took, everything they stand on, and local work built on them that never reached HEAD's history
    (a stash, the reflog, bytecode, an archive: the seed's b22b3b5a376f, in a stash).

    Revisions retired before that commit (a squash, a revert, an old chain: CTFd's and redash's
    histories hold dozens) are not needed, nor are other branches' revisions. Without a deletion on
    HEAD's history to go by, every absent revision but those reverted on purpose."""
    head = catalog.head_history
    last = {rev: last_deletion(catalog.entries[rev], head) for rev in absent}
    deleting = [s.commit for s in last.values() if s is not None and s.commit in head]
    if not deleting or chain is None:
        out: list[str] = []
        for rev in absent:
            entry = catalog.entries[rev]
            retirement = _retirement(entry, head, commits, {})
            if retirement.how == REVERTED and not _kept_aside(entry):
                continue
            out.append(rev)
        return out
    emptied = min(deleting, key=lambda c: head[c])  # type: ignore[index]
    wanted = {rev for rev, s in last.items() if s is not None and s.commit == emptied}
    wanted |= {rev for rev in chain.needed_by(wanted) if rev in catalog.entries}
    parents = {d for rev in wanted for d in catalog.entries[rev].parsed.down_revisions}
    for rev in chain.order:  # base to head: local work on local work follows
        if rev in wanted or rev not in last or last[rev] is not None:
            continue
        entry = catalog.entries[rev]
        sightings = [s for c in entry.candidates for s in c.sightings]
        local = all(s.source in _LOCAL for s in sightings)
        # work that its own branch deleted again was given up there (CTFd's rebased pull requests)
        given_up = max(sightings, key=lambda s: s.date or "").event == "deleted"
        downs = set(entry.parsed.down_revisions)
        # only on a head of what is wanted: a second child of a revision would be a second head
        if local and not given_up and downs and downs <= wanted and not downs & parents:
            wanted.add(rev)
            parents |= downs
    return [rev for rev in absent if rev in wanted]


#: Where someone's own unfinished work lies: not another branch or tag of the repository, and not
#: unreachable objects either: those are mostly history rewritten (rebased or amended commits,
#: pull requests a mirror fetched), whose revisions went on under other IDs (redash's e4d9a0b448cb).
#: An unreachable revision is brought back when something needs it (the seed's add_users_table).
_LOCAL = frozenset({"reflog", "stash", "bytecode", "archive", "worktree", "index"})


def _kept_aside(entry: RevisionEntry) -> bool:
    """Whether someone kept a reverted revision in a stash or the reflog: then it may be wanted (a
    stash that was dropped was not kept)."""
    return any(s.source == "reflog" or (s.source == "stash" and s.ref) for c in entry.candidates for s in c.sightings)
