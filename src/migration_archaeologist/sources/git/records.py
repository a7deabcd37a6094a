"""What one scan of the object database found: the result types the walk fills and the history cache stores.

They sit below both, so that the cache reads and writes a scan without importing the walk that makes it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from migration_archaeologist.parse.revision import RevisionFile, Unparseable
from migration_archaeologist.sources.git.repository import hexsz
from migration_archaeologist.sources.interface import Unreadable

#: (phase, done so far, total when known)
Progress = Callable[[str, int, "int | None"], None]


#: what a full scan or an update returns: the scan, its tips, reflog prints and paths left unread
ScanOutcome = tuple["HistoryScan", frozenset[str], dict[str, tuple[int, int]], frozenset[str]]


@dataclass(frozen=True)
class CommitInfo:
    date: str  # ISO 8601, UTC
    author: str
    subject: str


@dataclass(frozen=True)
class ReflogEntry:
    commit: str
    selector: str  # e.g. HEAD@{3}, stash@{1}
    full_selector: str  # e.g. refs/stash@{1}

    @property
    def is_stash(self) -> bool:
        return self.full_selector.startswith("refs/stash@{")


class Change(NamedTuple):
    commit: str
    event: str
    path: str


@dataclass
class HistoryScan:
    """What one pass over the repository's object database found."""

    parsed: dict[str, RevisionFile | Unparseable] = field(default_factory=dict)
    contents: Mapping[str, bytes] = field(default_factory=dict)  # a StoredContents when from the cache
    changes: dict[str, list[Change]] = field(default_factory=dict)
    commits: dict[str, CommitInfo] = field(default_factory=dict)
    origin: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # commit -> (source, ref)
    head_history: Mapping[str, int] = field(default_factory=dict)  # commit -> rank, 0 = HEAD, topo order
    dangling_blobs: tuple[str, ...] = ()
    unreadable: list[Unreadable] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    commits_walked: int = 0
    blobs_read: int = 0
    skipped_versions: int = 0  # later versions of non-revision files left unread (see Walk)
    doc_versions: dict[tuple[str, str], str] = field(default_factory=dict)  # (path, blob) -> commit; newest first
    bytecode: dict[str, tuple[str, str]] = field(default_factory=dict)  # .pyc / LFS pointer -> (source id, fidelity)
    fidelity: dict[str, str] = field(default_factory=dict)  # rebuilt source id -> fidelity
    all_commits: CommitIds = field(default_factory=lambda: CommitIds())
    #: commits no ref but refs/stash reaches -> parents, and the unreachable commits: what an update
    #: needs to label reflog, stash and unreachable sightings again without asking git
    off_ref: dict[str, list[str]] = field(default_factory=dict)
    unreachable_commits: tuple[str, ...] = ()
    #: (merge, path) -> the commit that deleted the path, for deletions a merge's first-parent diff
    #: shows but another commit made (see DeletingCommits); ``changes`` keep what the diffs said
    deleted_by: dict[tuple[str, str], str] = field(default_factory=dict)


class CommitIds(Collection[str]):
    """Every commit a scan walked, as one string of ids (40 hex each; 64 in a SHA-256 repository).

    A cached scan leaves the ids it already had in a file of their own and reads them only if
    something asks (a document naming a 12-hex token that might be a commit): 200,000 ids are 8 MB
    that an unchanged rescan should not load. ``stored`` ids come from ``loader``; ``fresh`` ones
    were walked by this scan and are what the cache appends.
    """

    def __init__(self, fresh: str = "", *, loader: Callable[[], str] | None = None, stored: int = 0) -> None:
        self.fresh = fresh
        self.stored = stored if loader is not None else 0
        self._loader = loader
        self._joined: str | None = None if loader is not None else fresh
        self._set: frozenset[str] | None = None
        self.width = hexsz()

    @classmethod
    def of(cls, ids: Iterable[str]) -> CommitIds:
        return cls("".join(ids))

    def joined(self) -> str:
        if self._joined is None:
            assert self._loader is not None
            self._joined = self._loader()[: self.stored * self.width] + self.fresh
        return self._joined

    def union(self, other: CommitIds) -> CommitIds:
        """Ids of both; ``other`` holds commits new since this was made, so nothing is looked up."""
        if self._loader is None:
            return CommitIds(self.fresh + other.joined())
        return CommitIds(self.fresh + other.joined(), loader=self._loader, stored=self.stored)

    def __iter__(self) -> Iterator[str]:
        joined = self.joined()
        width = self.width
        return (joined[i : i + width] for i in range(0, len(joined), width))

    def __len__(self) -> int:
        return self.stored + len(self.fresh) // self.width

    def __contains__(self, sha: object) -> bool:
        if self._set is None:
            self._set = frozenset(self)
        return sha in self._set


def note_unreadable(scan: HistoryScan, sha: str, reason: str) -> None:
    """Record a blob git could not hand out, with a place it was seen so a person can look."""
    changes = scan.changes.get(sha) or []
    where = Change._make(changes[0]) if changes else None
    scan.unreadable.append(Unreadable(sha, where.path if where else None, where.commit if where else None, reason))
