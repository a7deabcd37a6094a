"""Every version of every revision file that git still holds: all refs, reflogs, stashes, unreachable commits.

Reads history as bulk streams (git-filter-repo's lesson): one ``git log --raw`` over every tip, one
``git cat-file --batch`` for contents, one ``cat-file --batch-all-objects`` inventory for what no ref reaches, and commit-only
``rev-list`` walks to tell which tip keeps each commit alive. Revision files are recognised by
content, so a file moved to ``archive/old/`` is found like any other.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import threading
import zlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any, NamedTuple
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping

from migration_archaeologist.errors import GitFailed
from migration_archaeologist.sources.git.repository import Repository, first_line, git_env, hexsz, null_id
from migration_archaeologist.parse.revision import RevisionFile, Unparseable, looks_like_revision, parse_revision
from migration_archaeologist.sources.git import cache as history_cache
from migration_archaeologist.sources.git.cat_file import CatFile
from migration_archaeologist.sources.git.unreachable import (
    ObjectInventory,
    dangling_blobs,
    list_objects,
    unreachable_commits,
)
from migration_archaeologist.sources.interface import Sighting, Unreadable, git_blob_id

if TYPE_CHECKING:
    from migration_archaeologist.sources.git.cache import CachedHistory, RepositoryState

#: Paths worth reading. Content decides what is a revision file; this only skips images and docs.
SKIPPED_MODES = {b"120000", b"160000"}  # symlinks and submodules hold no file content

#: (phase, done so far, total when known)
Progress = Callable[[str, int, "int | None"], None]


#: what GitHistory._update returns: the merged scan, its tips, reflog prints and paths left unread
_Update = tuple["HistoryScan", frozenset[str], dict[str, tuple[int, int]], frozenset[str]]


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


class _Change(NamedTuple):
    commit: str
    event: str
    path: str


@dataclass
class HistoryScan:
    """What one pass over the repository's object database found."""

    parsed: dict[str, RevisionFile | Unparseable] = field(default_factory=dict)
    contents: Mapping[str, bytes] = field(default_factory=dict)  # a StoredContents when from the cache
    changes: dict[str, list[_Change]] = field(default_factory=dict)
    commits: dict[str, CommitInfo] = field(default_factory=dict)
    origin: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # commit -> (source, ref)
    head_history: Mapping[str, int] = field(default_factory=dict)  # commit -> rank, 0 = HEAD, topo order
    dangling_blobs: tuple[str, ...] = ()
    unreadable: list[Unreadable] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    commits_walked: int = 0
    blobs_read: int = 0
    skipped_versions: int = 0  # later versions of non-revision files left unread (see _Walk)
    doc_versions: dict[tuple[str, str], str] = field(default_factory=dict)  # (path, blob) -> commit; newest first
    bytecode: dict[str, tuple[str, str]] = field(default_factory=dict)  # .pyc blob -> (rebuilt source id, fidelity)
    fidelity: dict[str, str] = field(default_factory=dict)  # rebuilt source id -> fidelity
    all_commits: CommitIds = field(default_factory=lambda: CommitIds())
    #: commits no ref but refs/stash reaches -> parents, and the unreachable commits: what an update
    #: needs to label reflog, stash and unreachable sightings again without asking git
    off_ref: dict[str, list[str]] = field(default_factory=dict)
    unreachable_commits: tuple[str, ...] = ()
    #: (merge, path) -> the commit that deleted the path, for deletions a merge's first-parent diff
    #: shows but another commit made (see _DeletingCommits); ``changes`` keep what the diffs said
    deleted_by: dict[tuple[str, str], str] = field(default_factory=dict)


class GitHistory:
    """Source of sightings from a repository's whole object database."""

    def __init__(
        self, repo: Repository, progress: Progress | None = None, *, thorough: bool = False, use_cache: bool = True
    ) -> None:
        self.repo = repo
        self.thorough = thorough
        self.use_cache = use_cache
        #: what the stored scan under the git dir did for this one: unchanged, updated: ..., new, rebuilt, off
        self.cache_status = "off"
        self._rebuild_reason = "the repository changed in a way the stored scan cannot follow"
        self._progress: Progress = progress or (lambda phase, n, total: None)
        self._scan: HistoryScan | None = None

    # -- Source protocol -------------------------------------------------------------------
    def iter_sightings(self) -> Iterator[Sighting]:
        scan = self.result()
        deleted_by = scan.deleted_by
        for blob, changes in scan.changes.items():
            if blob not in scan.parsed:
                continue
            for change in changes:
                commit = change.commit
                if deleted_by and change.event == "deleted":
                    # a merge that only carried a deletion in: the commit that made it deleted the file
                    commit = deleted_by.get((commit, change.path), commit)
                    if commit != change.commit and (commit, "deleted", change.path) in changes:
                        continue  # that commit's own diff already shows this content deleted
                source, ref = scan.origin.get(commit, ("history", None))
                info = scan.commits.get(commit)
                yield Sighting(
                    blob=blob,
                    source=source,
                    event=change.event,
                    commit=commit,
                    ref=ref,
                    path=change.path,
                    date=info.date if info else None,
                )
        for blob in scan.dangling_blobs:
            if blob in scan.parsed:
                yield Sighting(blob, "unreachable", "seen", None, None, None, None)

    def content(self, blob: str) -> bytes:
        return self.result().contents[blob]

    def size(self, blob: str) -> int:
        """A revision blob's length, which a stored scan knows without reading the blob."""
        return history_cache.content_size(self.result().contents, blob)

    def fidelity(self, blob: str) -> str:
        """``exact`` for blobs as git holds them; ``bytecode`` for source rebuilt from a committed .pyc."""
        return self.result().fidelity.get(blob, "exact")

    def parsed(self, blob: str) -> RevisionFile | Unparseable:
        return self.result().parsed[blob]

    # -- the scan --------------------------------------------------------------------------
    def result(self) -> HistoryScan:
        if self._scan is None:
            self._scan = self._run()
        return self._scan

    def _run(self) -> HistoryScan:
        """A stored scan when nothing changed, an update when history only grew, else a full scan.

        The state is read before anything else, so whatever changes during the scan is new next time.
        """
        repo = self.repo
        state = history_cache.read_state(repo) if self.use_cache else None
        stamp = _stamp(repo, self.thorough) if state is not None else None
        kept = _LAST_READ.get(stamp) if stamp is not None else None
        if kept is not None and kept[0] == state:  # read by this process already (check: once per environment)
            self.cache_status = "unchanged"
            return kept[1]
        cached = history_cache.load(repo, self.thorough) if state is not None else None
        if cached is not None and cached.state == state:
            self.cache_status = "unchanged"
            _remember(stamp, state, cached.scan)
            return cached.scan
        update = self._update(cached, state) if cached is not None and state is not None else None
        if update is not None:
            scan, tips, prints, unread = update
            self.cache_status = f"updated: {scan.commits_walked - cached.scan.commits_walked} new commit(s) read"  # type: ignore[union-attr]
        else:
            scan, tips, prints, unread = self._full(state)
            self.cache_status = (
                f"rebuilt: {self._rebuild_reason}" if cached is not None else ("new" if state is not None else "off")
            )
        if state is not None:
            history_cache.save(repo, self.thorough, history_cache.CachedHistory(state, scan, tips, prints, unread))
            _remember(_stamp(repo, self.thorough), state, scan)
        return scan

    def _full(
        self, state: RepositoryState | None
    ) -> tuple[HistoryScan, frozenset[str], dict[str, tuple[int, int]], frozenset[str]]:
        scan = HistoryScan()
        repo = self.repo
        if repo.shallow:
            scan.warnings.append(
                "shallow clone: history is truncated, revisions older than the shallow boundary may be missing "
                "(run 'git fetch --unshallow' for a full scan)"
            )
        walk = _Walk(thorough=self.thorough)
        requested: set[str] = set()
        with ThreadPoolExecutor(max_workers=4) as pool:
            inventory_future = pool.submit(list_objects, repo)
            inventory_future.add_done_callback(lambda done: _expect(walk, done))
            reflog_future = pool.submit(_read_reflogs, repo)
            head_future = pool.submit(_head_order, repo)
            # what only reflogs and stashes keep alive, worked out while history is walked
            stash_future = pool.submit(_stash_tip, repo)
            off_ref_future = pool.submit(
                lambda: _off_ref_parents(
                    repo, {e.commit for e in reflog_future.result()[0]} | set(stash_future.result()), scan
                )
            )
            # the commits no ref reaches are shown beside the walk, once the inventory lists them
            ahead_future = pool.submit(_log_ahead, repo, inventory_future) if not repo.partial else None
            # A partial clone would fetch each missing blob from its remote: ask only for blobs it holds.
            present = inventory_future.result().blobs if repo.partial else None
            first = self._session(repo, requested, present, scan)
            log_error = _walk_log(repo, ["--all", "--reflog"], None, first[0], scan, walk, self._progress)
            inventory = inventory_future.result()
            if log_error:
                # A missing or corrupt object stops git log for good: show every commit the object
                # database holds one by one instead, stepping over each commit git cannot show.
                if repo.head and repo.head.encode("ascii") not in inventory.commits:
                    # HEAD's own commit object is too damaged for even its type to be read
                    walk.failed.add(repo.head)
                    scan.unreadable.append(
                        Unreadable(
                            repo.head,
                            None,
                            repo.head,
                            _first_error_alone(repo, repo.head) or "HEAD's commit object could not be read",
                        )
                    )
                log_error = _walk_each(
                    repo, sorted(c.decode() for c in inventory.commits), first[0], scan, walk, self._progress, log_error
                )
            lost_commits = unreachable_commits(inventory, walk.commits.keys())
            lost_commits = [c for c in lost_commits if c not in walk.failed]
            ahead = ahead_future.result() if ahead_future is not None else None
            if ahead is not None:
                if lost_commits and not log_error:
                    # shown already, in the same order; an error there is met again below
                    _walk_log(repo, [], None, first[0], scan, walk, self._progress, ahead=ahead)
                ahead.close()
            left = [c for c in lost_commits if c.encode("ascii") not in walk.commits]
            if left:
                # every unreachable commit is listed, not only tips: show each once, without walking again
                extra_error = _walk_log(repo, ["--no-walk=unsorted"], left, first[0], scan, walk, self._progress)
                log_error = log_error or extra_error
            self._finish(first)
            # Second pass: later versions of files that turned out to hold revisions, and dangling blobs.
            second = self._session(repo, requested, present, scan, "reading later versions and dangling blobs")
            revision_paths = self._read_deferred(scan, walk, second[0], set())
            scan.dangling_blobs = tuple(dangling_blobs(inventory, walk.blobs))
            for blob in scan.dangling_blobs:
                second[0].request(blob)
            self._finish(second)
            reflog, reflog_files = reflog_future.result()
            head_order = head_future.result()
        scan.skipped_versions = sum(len(b) for p, b in walk.deferred.items() if p not in revision_paths)
        if log_error and not walk.commits:
            # not one commit could be shown: a scan of the work tree alone would pass for a verdict
            # on the history; the machine's trouble instead (exit 3), with git's words and the cure
            raise GitFailed(
                f"git could not read any commit of this repository: {log_error.split('; scanned')[0]}"
                " ('git fsck' lists what is damaged)"
            )
        if log_error:
            scan.warnings.append(log_error)
        for cat in (first[0], second[0]):
            for sha in cat.not_present:
                _note_unreadable(scan, sha, "object missing from the repository (partial clone)")
        scan.off_ref = off_ref_future.result()
        scan.unreachable_commits = tuple(lost_commits)
        # only a merge can be a stash: the walk knows every unreachable commit's parents
        merges = [c for c in lost_commits if b" " in walk.commits.get(c.encode("ascii"), b" ")]
        scan.origin = _paint(
            reflog, scan.off_ref, lost_commits, stash_future.result(), _stash_shaped(repo, merges, scan)
        )
        _settle(repo, scan, walk, head_order)
        # every commit was shown, parents and all: the graph is at hand
        targets = _merge_deletions(scan.changes, lambda sha: b" " in walk.commits.get(sha.encode("ascii"), b""))
        if targets:
            scan.deleted_by = _DeletingCommits(walk.commits, scan.changes, targets).credited()
        # where the next update starts from; the refs are the ones the cache's state listed
        tips = set(lost_commits) | {e.commit for e in reflog}
        if state is not None:
            tips |= set(state.refs.values()) | ({state.head} if state.head else set())
        unread = frozenset(p for p in walk.deferred if p not in revision_paths)
        return scan, frozenset(tips), _reflog_prints(reflog_files), unread

    def _update(  # noqa: C901  complexity 21: split with the module split (issue 20)
        self, cached: CachedHistory, state: RepositoryState
    ) -> _Update | None:
        """Read only what the repository gained since ``cached``; None when it changed in a way this cannot follow.

        Followed: new commits, refs, reflog lines and stash entries; refs moved or deleted; new
        loose objects and packs. Not followed: reflogs rewritten or expired, packs or loose objects
        removed (gc, prune), a changed shallow boundary, grafts or alternates, partial clones.
        """

        repo = self.repo
        old = cached.state
        if repo.partial:
            return self._cannot("a partial clone")
        if old.boundary != state.boundary:
            return self._cannot("the shallow boundary, grafts, alternates or a worktree changed")
        if old.packs - state.packs:
            return self._cannot("pack files were removed (gc or repack)")
        packed = _pack_objects(repo, state.packs - old.packs)
        if packed is None:
            return self._cannot("a new pack's index could not be read")
        if old.loose - state.loose - packed:
            return self._cannot("loose objects were removed (gc or prune)")
        reflog, files = _read_reflogs(repo)
        for name, (size, crc) in cached.reflog_prints.items():
            data = files.get(name)
            if data is None or len(data) < size or zlib.crc32(data[:size]) != crc:
                # rewritten or expired: entries may have gone, and with them whole branches
                return self._cannot(f"the reflog of {name} was rewritten or expired")
        base = cached.scan
        new_objects = (state.loose - old.loose) | packed
        new_commits, new_blobs = _object_types(repo, new_objects)
        parents = _parents(repo, new_commits)
        if parents is None:
            return self._cannot("git could not list the new commits' parents")
        now_tips = set(state.refs.values()) | {e.commit for e in reflog} | ({state.head} if state.head else set())
        vanished = {sha for name, sha in old.refs.items() if state.refs.get(name) != sha} - now_tips

        # Every commit the stored scan's repository held was read then (walked, or shown as
        # unreachable), so what is left is exactly the new commit objects: each is shown once, with
        # no walk and no negated tips (git would parse all 10,000 of them to rule them out).
        # a new commit is reachable only through new commits: whatever reaches it is younger
        reachable = _closure(now_tips & new_commits, parents, new_commits)
        lost = sorted(new_commits - reachable)
        scan = HistoryScan()
        walk = _Walk(thorough=self.thorough, expected=len(new_commits))
        requested: set[str] = set()
        first = self._session(repo, requested, None, scan)
        # in the order a full scan meets them (git log's, then unreachable ones), so that versions
        # of equal date keep their order: walk the new reachable commits down to the old ones
        walks = []
        if reachable:
            # shown one by one, children first as git log would: a walk down to the old parents
            # cost 0.5 s on a history with clock skew (git keeps going until dates settle)
            walks.append((["--no-walk=unsorted"], _topological(reachable, parents)))
        if lost:
            walks.append((["--no-walk=unsorted"], lost))
        for walk_tips, stdin in walks:
            log_error = _walk_log(repo, walk_tips, stdin, first[0], scan, walk, self._progress)
            if log_error:
                self._finish(first)
                return self._cannot(log_error)
        self._finish(first)
        if vanished:
            # what a moved or deleted ref held that nothing else reaches is unreachable now
            gone = _not_reachable(repo, sorted(vanished))
            if gone is None:
                return self._cannot("git could not tell what a deleted ref left unreachable")
            lost += gone
        second = self._session(repo, requested, None, scan, "reading later versions and dangling blobs")
        old_paths = {c.path for changes in base.changes.values() for c in changes}
        revision_paths = self._read_deferred(scan, walk, second[0], old_paths)
        unread = history_cache.load_deferred_paths(repo, len(cached.tips))
        if unread is None or revision_paths & unread:
            self._finish(second)
            return self._cannot("a revision file appeared at a path whose older versions were left unread")
        named = {b.decode() for b in walk.blobs}
        known = set(base.changes) | set(base.dangling_blobs)
        dangling = sorted(new_blobs - named - known)
        for blob in dangling:
            second[0].request(blob)
        self._finish(second)
        for cat in (first[0], second[0]):
            for sha in cat.not_present:
                _note_unreadable(scan, sha, "object missing from the repository (partial clone)")
        scan.dangling_blobs = tuple(dangling)
        scan.skipped_versions = sum(len(b) for p, b in walk.deferred.items() if p not in revision_paths)
        _settle(repo, scan, walk)
        # origins are worked out again for everything: a new ref may reach what only a reflog held
        off_ref, unreachable = self._off_ref_after(cached, state, reflog, parents, new_commits, vanished, lost, scan)
        stash_tip = tuple(sha for name, sha in state.refs.items() if name == "refs/stash")
        origin = _paint(reflog, off_ref, unreachable, stash_tip, _stash_shaped(repo, unreachable, scan))
        head_history = self._head_history_after(old.head, state.head, base.head_history, parents, new_commits)
        merged = _merge(base, scan, named, origin, head_history, self.thorough)
        merged.off_ref, merged.unreachable_commits = off_ref, tuple(unreachable)
        # a new merge's deletions, followed down history the stored scan read (no merge it knew changes)
        targets = _merge_deletions(scan.changes, lambda sha: len(parents.get(sha, ())) > 1)
        if targets:
            graph = _ancestry(repo, sorted({merge for merge, _path in targets}))
            if graph is None:
                return self._cannot("git could not list the history of the new merges")
            merged.deleted_by.update(_DeletingCommits(graph, merged.changes, targets).credited())
        tips = cached.tips | now_tips | set(lost)
        unread |= {p for p in walk.deferred if p not in revision_paths}
        prints = {
            name: cached.reflog_prints[name]
            if state.reflogs.get(name) == old.reflogs.get(name) and name in cached.reflog_prints
            else (len(data), zlib.crc32(data))
            for name, data in files.items()
        }
        return merged, frozenset(tips), prints, unread

    def _off_ref_after(
        self,
        cached: CachedHistory,
        state: RepositoryState,
        reflog: list[ReflogEntry],
        parents: Mapping[str, tuple[str, ...]],
        new_commits: set[str],
        vanished: set[str],
        lost: list[str],
        scan: HistoryScan,
    ) -> tuple[dict[str, list[str]], list[str]]:
        """What no ref (but refs/stash) reaches now, with parents, and what nothing reaches.

        When refs only moved onto new commits and no new commit builds on off-ref work (a commit,
        a fetch, a stash), the stored answer plus the new commits is the answer: asking git again
        cost 0.6 s with 12,000 refs. Otherwise git is asked again.
        """
        base = cached.scan
        old_refs = cached.state.refs
        moved = {sha for name, sha in state.refs.items() if old_refs.get(name) != sha}
        if state.head != cached.state.head and state.head:
            moved.add(state.head)
        known_off = base.off_ref.keys() | set(base.unreachable_commits)
        on_refs = {sha for name, sha in state.refs.items() if name != "refs/stash"} | (
            {state.head} if state.head else set()
        )
        reached = _closure(on_refs & new_commits, parents, new_commits)
        below = {p for c in reached for p in parents.get(c, ())} | on_refs
        # where a ref (or HEAD) was before must still be reached through the new commits: after an
        # amend or a reset, the old tip lives on in the reflog only
        left = {sha for name, sha in old_refs.items() if name != "refs/stash" and state.refs.get(name) != sha}
        if cached.state.head and cached.state.head != state.head:
            left.add(cached.state.head)
        simple = (
            not vanished
            and moved <= new_commits
            and left <= below
            and not any(p in known_off for c in new_commits for p in parents.get(c, ()))
        )
        if simple:
            off_ref = dict(base.off_ref)
            off_ref.update((c, list(parents.get(c, ()))) for c in new_commits - reached)
            return off_ref, list(base.unreachable_commits) + lost
        candidates = (cached.tips - set(state.refs.values()) - {state.head}) | set(lost)
        stash_tip = {sha for name, sha in state.refs.items() if name == "refs/stash"}
        off_ref = _off_ref_parents(repo=self.repo, tips={e.commit for e in reflog} | candidates | stash_tip, scan=scan)
        return off_ref, [c for c in list(base.unreachable_commits) + lost if c in off_ref]

    def _cannot(self, why: str) -> _Update | None:
        """Note why the stored scan cannot be extended; the caller then scans in full."""
        self._rebuild_reason = why
        return None

    def _head_history_after(
        self,
        old_head: str | None,
        new_head: str | None,
        ranks: Mapping[str, int],
        parents: Mapping[str, tuple[str, ...]],
        new_commits: set[str],
    ) -> dict[str, int]:
        """HEAD's ranks: unchanged; or, when HEAD only moved forward over new commits, those on top
        in topological order; else asked of git again (a checkout, a reset, a merge of old work)."""
        if new_head == old_head:
            return dict(ranks)
        if old_head and new_head in new_commits:
            fresh = _closure({new_head}, parents, new_commits)
            below = {p for c in fresh for p in parents.get(c, ()) if p not in new_commits}
            if below == {old_head}:
                order = _topological(fresh, parents)
                shifted = {sha: i for i, sha in enumerate(order)}
                shifted.update((sha, rank + len(order)) for sha, rank in ranks.items())
                return shifted
        return _head_history(self.repo)

    def _read_deferred(self, scan: HistoryScan, walk: _Walk, cat: CatFile, known_paths: set[str]) -> set[str]:
        """Request the versions left unread at paths that turned out to hold revision files, and
        record their changes (the walk kept them apart, as (blob, commit) pairs, to save memory)."""
        parsed = scan.parsed
        revision_paths = {c[2] for blob in parsed for c in scan.changes.get(blob, ())} | known_paths
        # a version read elsewhere (added at another path) that proved a revision makes its path one too
        parsed_ids = {blob.encode("ascii") for blob in parsed}
        revision_paths |= {path for path, pairs in walk.deferred.items() if any(b in parsed_ids for b, _ in pairs)}
        for path in revision_paths & walk.deferred.keys():
            for raw, commit in walk.deferred[path]:
                blob = raw.decode("ascii")
                scan.changes.setdefault(blob, []).append((commit, "modified", path))  # type: ignore[arg-type]
                cat.request(blob)
        return revision_paths

    def _session(
        self,
        repo: Repository,
        requested: set[str],
        present: AbstractSet[bytes] | None,
        scan: HistoryScan,
        phase: str = "reading blobs",
    ) -> tuple[CatFile, threading.Thread]:
        cat = CatFile(repo, requested, present)
        cat.phase = phase
        reader = threading.Thread(target=self._read_blobs, args=(cat, scan), daemon=True)
        reader.start()
        return cat, reader

    @staticmethod
    def _finish(session: tuple[CatFile, threading.Thread]) -> None:
        session[0].close_requests()
        session[1].join()

    def _read_blobs(self, cat: CatFile, scan: HistoryScan) -> None:
        # what cat-file was asked for so far: most of it is revision source when it is a lot
        from migration_archaeologist.parse.pool import parse_many  # not needed by a scan the cache answers

        for sha, data, parsed in parse_many(self._revision_like(cat, scan), expected=lambda: cat.asked):
            if parsed is not None:
                scan.parsed[sha] = parsed
                scan.contents[sha] = data  # type: ignore[index]  # a fresh scan's contents are a dict

    def _revision_like(self, cat: CatFile, scan: HistoryScan) -> Iterator[tuple[str, bytes]]:
        """The blobs worth parsing as revision source; a committed .pyc is rebuilt on the way."""
        read = 0
        for sha, data in cat.answers():
            scan.blobs_read += 1
            read += 1
            if read % 500 == 0:
                self._progress(cat.phase, read, cat.asked)
            if data is None:
                _note_unreadable(scan, sha, cat.reasons.get(sha) or "object missing from the repository or unreadable")
                continue
            if not looks_like_revision(data):
                continue
            if _bytecode_header(data):
                self._read_bytecode(sha, data, scan)
                continue
            yield sha, data

    @staticmethod
    def _read_bytecode(sha: str, data: bytes, scan: HistoryScan) -> None:
        """A committed .pyc (someone committed __pycache__): rebuild it, never run it."""
        changes = scan.changes.get(sha) or []
        name = changes[0][2] if changes else sha
        from migration_archaeologist.sources.bytecode.rebuild import rebuild, worth_reporting

        result = rebuild(data, pyc_name=name)
        if isinstance(result, Unparseable):
            if worth_reporting(result):
                scan.warnings.append(f"{name} ({sha[:10]}): {result.reason}")
            return
        parsed = parse_revision(result.source)
        if parsed is None or isinstance(parsed, Unparseable):
            return
        scan.parsed[sha] = parsed
        scan.contents[sha] = result.source  # type: ignore[index]  # a walk's own scan: a dict (StoredContents only after merging)
        scan.bytecode[sha] = (git_blob_id(result.source), result.fidelity)


#: The last history this process read or wrote, by the cache file it is stored in (path, size,
#: time, inode): ``check`` scans once per environment, and each read the same file again.
_LAST_READ: dict[tuple[object, ...], tuple[RepositoryState, HistoryScan]] = {}


def _stamp(repo: Repository, thorough: bool) -> tuple[object, ...] | None:
    path = history_cache.cache_path(repo)
    try:
        info = path.stat()
    except OSError:
        return None
    return str(path), thorough, info.st_size, info.st_mtime_ns, info.st_ino


def _remember(stamp: tuple[object, ...] | None, state: RepositoryState, scan: HistoryScan) -> None:
    _LAST_READ.clear()
    if stamp is not None:
        _LAST_READ[stamp] = (state, scan)


def _bytecode_header(data: bytes) -> bool:
    from migration_archaeologist.sources.bytecode.header import read_header  # only where a blob may be bytecode

    return read_header(data) is not None


def _expect(walk: _Walk, done: Future[ObjectInventory]) -> None:
    """The walk's total for progress bars, from the object inventory (every commit git holds)."""
    if not done.cancelled() and done.exception() is None:
        walk.expected = len(done.result().commits)


def _settle(repo: Repository, scan: HistoryScan, walk: _Walk, head_order: bytes | None = None) -> None:
    """Keep only what the catalog will look at: changes of revision blobs, their commits, HEAD's ranks of them.

    (The walk stores plain tuples: building named tuples for every .py change costs 70 ms.)
    """
    scan.changes = {b: [_Change._make(c) for c in cs] for b, cs in scan.changes.items() if b in scan.parsed}
    # A rebuilt .pyc is known by its rebuilt source, like bytecode found anywhere else.
    for pyc, (source_id, fidelity) in scan.bytecode.items():
        if pyc not in scan.parsed:
            continue
        scan.changes.setdefault(source_id, []).extend(scan.changes.pop(pyc, []))
        scan.parsed[source_id] = scan.parsed.pop(pyc)
        scan.contents[source_id] = scan.contents.pop(pyc)  # type: ignore[index,attr-defined]  # a walk's own scan: a dict
        scan.fidelity[source_id] = fidelity
    used = {change.commit for changes in scan.changes.values() for change in changes}
    missing = used - walk.info.keys()  # commits whose only .py changes were left unread at first
    if missing:
        walk.info.update(_commit_info(repo, sorted(missing)))
    scan.commits = {
        sha: CommitInfo(_utc(raw[0]), raw[1].decode("utf-8", "replace"), raw[2].decode("utf-8", "replace"))
        for sha, raw in walk.info.items()
        if sha in used
    }
    scan.head_history = _ranks(head_order, used) if head_order is not None else {}
    scan.origin = {sha: label for sha, label in scan.origin.items() if sha in used}
    scan.commits_walked = len(walk.commits)
    scan.doc_versions = {
        (path.decode("utf-8", "surrogateescape"), blob.decode("ascii")): commit.decode("ascii")
        for path, (blob, commit) in walk.docs.items()
    }
    for (path, blob), commit in walk.old_docs.items():
        key = (path.decode("utf-8", "surrogateescape"), blob.decode("ascii"))
        scan.doc_versions.setdefault(key, commit.decode("ascii"))
    scan.all_commits = CommitIds.of(c.decode("ascii") for c in walk.commits)


def _merge(
    base: HistoryScan,
    delta: HistoryScan,
    named: set[str],
    origin: dict[str, tuple[str, str | None]],
    head_history: dict[str, int],
    thorough: bool,
) -> HistoryScan:
    """A stored scan plus what an update read: as if the whole history had been walked at once."""
    # newest first, as a full walk lists them: what the update read, then what the stored scan had
    changes: dict[str, list[_Change]] = {}
    for blob, cs in delta.changes.items():
        older = base.changes.get(blob, [])
        fresh = set(cs)
        changes[blob] = list(cs) + [c for c in older if c not in fresh]
    for blob, cs in base.changes.items():
        changes.setdefault(blob, list(cs))
    used = {c.commit for cs in changes.values() for c in cs}
    # a blob once dangling that a new commit now holds is history, no longer an orphan
    dangling = tuple(b for b in base.dangling_blobs if b not in named) + delta.dangling_blobs
    docs = dict(delta.doc_versions)  # newer commits: each path's newest version comes first
    new_paths = {path for path, _ in delta.doc_versions}
    for key, commit in base.doc_versions.items():
        if thorough or key[0] not in new_paths:  # without --thorough, only each path's newest version
            docs.setdefault(key, commit)
    return HistoryScan(
        parsed={**base.parsed, **delta.parsed},
        contents=history_cache.merge_contents(base.contents, delta.contents),
        changes=changes,
        commits={**base.commits, **delta.commits},
        origin={sha: label for sha, label in origin.items() if sha in used},
        head_history={sha: rank for sha, rank in head_history.items() if sha in used},
        dangling_blobs=dangling,
        unreadable=base.unreadable + delta.unreadable,
        warnings=base.warnings + [w for w in delta.warnings if w not in base.warnings],
        commits_walked=base.commits_walked + delta.commits_walked,
        blobs_read=base.blobs_read + delta.blobs_read,
        skipped_versions=base.skipped_versions + delta.skipped_versions,
        doc_versions=docs,
        bytecode={**base.bytecode, **delta.bytecode},
        fidelity={**base.fidelity, **delta.fidelity},
        all_commits=base.all_commits.union(delta.all_commits),
        deleted_by=dict(base.deleted_by),
    )


def _merge_deletions(
    changes: Mapping[str, Iterable[_Change]], is_merge: Callable[[str], bool]
) -> list[tuple[str, str]]:
    """(merge, path) for each deletion of a revision file that a merge's first-parent diff shows."""
    deleting = {(c.commit, c.path) for cs in changes.values() for c in cs if c.event == "deleted"}
    merges = {commit for commit in {commit for commit, _path in deleting} if is_merge(commit)}
    return sorted(pair for pair in deleting if pair[0] in merges)


class _DeletingCommits:
    """Which commit deleted a revision file that a merge's first-parent diff shows deleted.

    ``git log --diff-merges=first-parent`` shows a merge that brings in a branch on which a file
    was deleted as deleting it, against its first parent. Git's own answer (``git log
    --diff-filter=D --no-merges``) is the commit on that branch which removed the file, and the walk
    has read that commit's own diff too. So each other parent of the merge is followed down its
    first parents to the nearest commit whose diff touched the path: if it deleted the path and is
    not in the first parent's history as well, it is the deleting commit (a merge found there is
    followed the same way). If it added or changed the path, the file was there on that side and the
    merge itself removed it (a conflict resolved by deleting the file); so it is if no commit on
    that side touched the path: the merge stays the deleting commit.

    ``parents`` is each commit's parents as git prints them (``b"p1 p2"``), the walk's own record
    or ``_ancestry``'s. Generation numbers (a commit is one more than its highest parent) bound
    every walk: a commit lower than the lowest one that touched the path cannot lead to it, and one
    lower than a candidate cannot reach it.
    """

    def __init__(
        self, parents: Mapping[bytes, bytes], changes: Mapping[str, Iterable[_Change]], targets: list[tuple[str, str]]
    ) -> None:
        self.parents = parents
        self.targets = targets
        paths = {path for _merge, path in targets}
        self.events = {
            (c.commit.encode("ascii"), c.path): c.event for cs in changes.values() for c in cs if c.path in paths
        }
        self.generation = _generations(parents)
        self._below: tuple[bytes, int, set[bytes]] | None = None  # see _reaches
        self.lowest: dict[str, int] = {}  # path -> the lowest generation of a commit that touched it
        for commit, path in self.events:
            number = self.generation.get(commit)
            if number is not None and number < self.lowest.get(path, number + 1):
                self.lowest[path] = number

    def credited(self) -> dict[tuple[str, str], str]:
        """(merge, path) -> deleting commit, for the deletions some other commit made."""
        found: dict[tuple[str, str], str] = {}
        for merge, path in self.targets:
            deleter = self.deleter(merge.encode("ascii"), path)
            if deleter != merge.encode("ascii"):
                found[(merge, path)] = deleter.decode("ascii")
        return found

    def deleter(self, merge: bytes, path: str) -> bytes:
        seen = {merge}
        current = merge
        while True:
            found = self._on_a_side(current, path)
            if found is None:
                return current
            if b" " not in self.parents.get(found, b"") or found in seen:
                return found
            seen.add(found)  # a merge on that branch carried it in from further away: follow it there
            current = found

    def _on_a_side(self, merge: bytes, path: str) -> bytes | None:
        """The commit on a branch ``merge`` brings in whose diff deleted ``path``; None if the merge did.

        A commit found in the first parent's history too is from before the branches parted: that
        side holds the path as it was then. (With two parents only a deletion needs asking: either
        way, a file that is there says the merge removed it.)
        """
        first, *others = self.parents.get(merge, b"").split() or [b""]
        for side in others:
            touched = self._nearest_change(side, path)
            if touched is None:
                continue
            commit, event = touched
            if event == "deleted":
                if not self._reaches(first, commit):
                    return commit
            elif len(others) == 1 or not self._reaches(first, commit):
                return None  # the file was there on that side: the merge removed it
        return None

    def _nearest_change(self, start: bytes, path: str) -> tuple[bytes, str] | None:
        """The first commit down ``start``'s first parents whose diff touched ``path``, with what it did."""
        lowest = self.lowest.get(path)
        if lowest is None:
            return None
        events, parents, generation = self.events, self.parents, self.generation
        commit: bytes | None = start
        while commit is not None and generation.get(commit, -1) >= lowest:
            event = events.get((commit, path))
            if event is not None:
                return commit, event
            line = parents.get(commit)
            commit = line.split(b" ", 1)[0] if line else None
        return None

    def _reaches(self, start: bytes, target: bytes) -> bool:
        """Whether ``target`` is ``start`` or one of its ancestors.

        What ``start`` reaches down to a generation is kept for the next question: the paths of
        one merge come one after another, and ask about the same first parent.
        """
        generation = self.generation
        floor = generation.get(target, -1)
        if floor < 0:
            return False
        if self._below is None or self._below[0] != start or self._below[1] > floor:
            seen = {start}
            stack = [start]
            while stack:
                for parent in self.parents.get(stack.pop(), b"").split():
                    if parent not in seen and generation.get(parent, -1) >= floor:
                        seen.add(parent)
                        stack.append(parent)
            self._below = (start, floor, seen)
        return target in self._below[2]


def _generations(parents: Mapping[bytes, bytes]) -> dict[bytes, int]:
    """Each commit's generation: 1 + its highest parent's, a parent outside ``parents`` counting 0.

    git lists children before parents but for clock skew, so commits are taken oldest first; one
    whose parent is not settled yet waits on it, and is taken again once it is (no recursion: a
    history is deeper than Python's limit). Each commit is settled once. A cycle (only grafts or
    replace refs can make one) leaves its commits waiting: they count their unsettled parents as 0.
    """
    generation: dict[bytes, int] = {}
    waiting: dict[bytes, list[bytes]] = {}
    settled = generation.get
    for sha in reversed(list(parents)):
        line = parents[sha]
        below = settled(line) if line and b" " not in line else None
        if below is not None:  # most commits: one parent, settled already
            generation[sha] = below + 1
            if sha not in waiting:
                continue
            ready = waiting.pop(sha)
        else:
            ready = [sha]
        while ready:
            node = ready.pop()
            highest = 0
            for parent in parents[node].split():
                below = settled(parent)
                if below is None:
                    if parent in parents:
                        waiting.setdefault(parent, []).append(node)
                        break
                    below = 0
                if below > highest:
                    highest = below
            else:
                generation[node] = highest + 1
                ready.extend(waiting.pop(node, ()))
    for stuck in waiting.values():
        for node in stuck:
            if node not in generation:
                generation[node] = 1 + max((generation.get(p, 0) for p in parents[node].split()), default=0)
    return generation


def _ancestry(repo: Repository, commits: list[str]) -> dict[bytes, bytes] | None:
    """Parents of ``commits`` and of everything they reach, as the walk records them (one
    ``rev-list --parents``); None if git could not say."""
    proc = repo.popen("rev-list", "--parents", "--stdin", stdin=subprocess.PIPE)
    out, _err = proc.communicate("".join(c + "\n" for c in commits).encode("ascii"))
    if proc.returncode != 0:
        return None
    found: dict[bytes, bytes] = {}
    for line in out.splitlines():
        sha, _, above = line.strip().partition(b" ")
        if sha:
            found[sha] = above
    return found


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


def _commit_info(repo: Repository, commits: list[str]) -> dict[str, tuple[bytes, bytes, bytes]]:
    """(author time, author, subject) of ``commits``, in one ``git log --no-walk``."""
    proc = repo.popen(
        "log", "--no-walk=unsorted", "--stdin", "--format=%H%x00%at%x00%an%x00%s%x00", stdin=subprocess.PIPE
    )
    out, _err = proc.communicate("".join(c + "\n" for c in commits).encode("ascii"))
    tokens = out.split(b"\x00")
    found: dict[str, tuple[bytes, bytes, bytes]] = {}
    for i in range(0, len(tokens) - 4, 4):
        found[tokens[i].strip().decode("ascii")] = (tokens[i + 1], tokens[i + 2], tokens[i + 3])
    return found


def _reflog_prints(files: Mapping[str, bytes]) -> dict[str, tuple[int, int]]:
    """(size, crc32) of each reflog as read: a later update checks the file only grew."""
    return {name: (len(data), zlib.crc32(data)) for name, data in files.items()}


def _pack_objects(repo: Repository, packs: Iterable[str]) -> set[str] | None:
    """Object ids in new pack files (``git show-index`` reads the .idx); None if one cannot be read."""
    found: set[str] = set()
    for pack in sorted(packs):
        index = repo.common_dir / "objects" / "pack" / (pack[: -len(".pack")] + ".idx")
        try:
            data = index.read_bytes()
        except OSError:
            return None
        proc = subprocess.run(["git", "show-index"], input=data, capture_output=True, env=git_env())
        if proc.returncode != 0:
            return None
        found.update(line.split()[1].decode("ascii") for line in proc.stdout.splitlines() if line.strip())
    return found


def _object_types(repo: Repository, objects: AbstractSet[str]) -> tuple[set[str], set[str]]:
    """Which of ``objects`` are commits and which are blobs (one ``cat-file --batch-check``)."""
    if not objects:
        return set(), set()
    out = repo.run(
        "cat-file",
        "--batch-check=%(objecttype) %(objectname)",
        input="".join(o + "\n" for o in sorted(objects)).encode("ascii"),
        check=False,
    )
    commits: set[str] = set()
    blobs: set[str] = set()
    for line in out.decode("ascii", "replace").splitlines():
        kind, _, sha = line.partition(" ")
        if kind == "commit":
            commits.add(sha)
        elif kind == "blob":
            blobs.add(sha)
    return commits, blobs


def _parents(repo: Repository, commits: set[str]) -> dict[str, tuple[str, ...]] | None:
    """Each commit's parents (one ``rev-list --no-walk --parents``); None if git could not say."""
    if not commits:
        return {}
    proc = repo.popen("rev-list", "--no-walk=unsorted", "--parents", "--stdin", stdin=subprocess.PIPE)
    out, _err = proc.communicate("".join(c + "\n" for c in sorted(commits)).encode("ascii"))
    if proc.returncode != 0:
        return None
    found: dict[str, tuple[str, ...]] = {}
    for line in out.decode("ascii").splitlines():
        shas = line.split()
        if shas:
            found[shas[0]] = tuple(shas[1:])
    return found


def _closure(start: set[str], parents: Mapping[str, tuple[str, ...]], within: set[str]) -> set[str]:
    """``start`` and their ancestors, following parents only inside ``within``."""
    found = set(start)
    stack = list(start)
    while stack:
        for parent in parents.get(stack.pop(), ()):
            if parent in within and parent not in found:
                found.add(parent)
                stack.append(parent)
    return found


def _topological(commits: set[str], parents: Mapping[str, tuple[str, ...]]) -> list[str]:
    """Children before parents (as ``rev-list --topo-order``), for a handful of new commits."""
    order: list[str] = []
    done: set[str] = set()
    for root in sorted(commits):
        stack = [(root, False)]
        while stack:
            sha, expanded = stack.pop()
            if expanded:
                order.append(sha)
                continue
            if sha in done:
                continue
            done.add(sha)
            stack.append((sha, True))
            stack.extend((p, False) for p in parents.get(sha, ()) if p in commits and p not in done)
    return order[::-1]


def _not_reachable(repo: Repository, commits: list[str]) -> list[str] | None:
    """Of ``commits`` and their ancestry, what no ref and no reflog reaches (None if git could not tell)."""
    if not commits:
        return []
    proc = repo.popen("rev-list", "--stdin", "--not", "--all", "--reflog", stdin=subprocess.PIPE)
    out, _err = proc.communicate("".join(c + "\n" for c in commits).encode("ascii"))
    if proc.returncode != 0:
        return None
    return out.decode("ascii").split()


def _note_unreadable(scan: HistoryScan, sha: str, reason: str) -> None:
    """Record a blob git could not hand out, with a place it was seen so a person can look."""
    changes = scan.changes.get(sha) or []
    where = _Change._make(changes[0]) if changes else None
    scan.unreadable.append(Unreadable(sha, where.path if where else None, where.commit if where else None, reason))


@dataclass
class _Walk:
    """What the log streams have shown so far: every commit and every blob any diff named.

    Reading every version of every .py file costs more than walking the history itself (in a
    20,000-commit repository, 185 MB of application code against 600 revision blobs). A revision
    file is born a revision file: ``alembic revision`` writes it whole. So every *added* blob is
    read, and so is every version at a path that looks like migrations (alembic, migrat, versions,
    revision, archive, backup, old); a later version of any other path is read only if an earlier
    read showed that path holds a revision file. ``thorough`` reads everything.
    """

    thorough: bool = False
    #: every commit shown -> its parents as git printed them (b"p1 p2", b"" for a root): the graph
    #: on which a deletion a merge only carried in is traced to its commit (see _DeletingCommits).
    #: The parents cost about 16 MB on 200,000 commits over a set of the ids alone.
    commits: dict[bytes, bytes] = field(default_factory=dict)
    blobs: set[bytes] = field(default_factory=set)
    info: dict[str, tuple[bytes, bytes, bytes]] = field(default_factory=dict)  # raw date, author, subject
    deferred: dict[str, list[tuple[bytes, str]]] = field(default_factory=dict)  # path -> [(blob id, commit)] unread
    failed: set[str] = field(default_factory=set)  # commits git could not show (missing tree, corrupt object)
    docs: dict[bytes, tuple[bytes, bytes]] = field(default_factory=dict)  # document path -> (newest blob, its commit)
    old_docs: dict[tuple[bytes, bytes], bytes] = field(default_factory=dict)  # (path, older blob) -> commit
    last: str | None = None  # the last commit a log stream showed
    expected: int | None = None  # commits the object database holds, once the inventory says (for progress)


#: Never revision source: Alembic's own templates and bytecode (bytecode is a source of its own).
_NOT_SOURCE = (b".mako", b".jinja", b".jinja2", b".pyo", b".pyi")  # .pyc is read: bytecode is rebuilt
_DOC_SUFFIXES = (
    b".md",
    b".markdown",
    b".rst",
    b".txt",
    b".ini",
    b".cfg",
    b".toml",
    b".yaml",
    b".yml",
    b".json",
    b".sql",
    b".log",
    b".MD",
    b".TXT",
)
_MIGRATIONS_LIKE = re.compile(r"alembic|migrat|version|revision|archive|backup|old|legacy", re.IGNORECASE)


#: each commit's header in the walk: id, parents, author date, author, subject
_WALK_FORMAT = "%x01%H%x00%P%x00%at%x00%an%x00%s"


def log_args(tips: list[str], stdin: bool, fmt: str = _WALK_FORMAT) -> list[str]:
    """``git log`` of every change as raw diff lines: no rename pairing, full ids, NUL-separated,
    merges against their first parent, nothing run for content (textconv, external diff)."""
    return [
        "log",
        *tips,
        "--raw",
        "--no-renames",
        "--no-abbrev",
        "-z",
        "--root",
        "--diff-merges=first-parent",
        "--no-textconv",
        "--no-ext-diff",
        f"--format={fmt}",
        *(["--stdin"] if stdin else []),
    ]


class _LogAhead:
    """``git log --no-walk`` of commits the walk will need later, run now and kept in memory.

    The commits no ref or reflog reaches (a clone of a mirror holds its pull requests' commits:
    22,000 in indico's, 45% of the store) were shown by a second git log after the walk, on one
    core while the other waited. Listed from the object inventory and ``rev-list --all --reflog``
    early, they are shown by a git log beside the walk's; the walk reads its output after its own.
    It looks like the ``Popen`` :func:`_walk_log` reads.
    """

    def __init__(self, repo: Repository, commits: list[str]) -> None:
        self.commits = commits
        self._proc = repo.popen(*log_args(["--no-walk=unsorted"], True), stdin=subprocess.PIPE)
        self._chunks: list[bytes] = []
        self._error = b""
        self.returncode: int | None = None
        self._done = threading.Event()
        self.stdout = self  # read() below
        self.stderr = io.BytesIO()
        threading.Thread(target=self._feed, daemon=True).start()
        threading.Thread(target=self._collect, daemon=True).start()

    def _feed(self) -> None:
        try:
            self._proc.stdin.write("".join(c + "\n" for c in self.commits).encode("ascii"))  # type: ignore[union-attr]
            self._proc.stdin.close()  # type: ignore[union-attr]
        except (BrokenPipeError, ValueError):
            pass

    def _collect(self) -> None:
        assert self._proc.stdout is not None and self._proc.stderr is not None
        err: list[bytes] = []
        drain = threading.Thread(target=lambda: err.append(self._proc.stderr.read()), daemon=True)  # type: ignore[union-attr]
        drain.start()
        while chunk := self._proc.stdout.read(1 << 20):
            self._chunks.append(chunk)
        self._proc.wait()
        drain.join()
        self._proc.stdout.close()
        self._proc.stderr.close()
        self.stderr = io.BytesIO(b"".join(err))
        self.returncode = self._proc.returncode
        self._chunks.reverse()  # read() pops from the end
        self._done.set()

    def read(self, _size: int) -> bytes:
        self._done.wait()
        return self._chunks.pop() if self._chunks else b""

    def wait(self) -> int | None:
        self._done.wait()
        return self.returncode

    def close(self) -> None:
        """Stop git if the walk will not read what it shows."""
        if not self._done.is_set():
            self._proc.kill()
        self._done.wait()
        self._chunks.clear()


#: Fewer commits than this off every ref are shown after the walk, as before: a second git log
#: beside the walk's is worth its start only when it has real work.
LOG_AHEAD_MIN = 500


def _log_ahead(repo: Repository, inventory: Future[ObjectInventory]) -> _LogAhead | None:
    """A git log of the commits no ref or reflog reaches, started as soon as the inventory is read."""
    try:
        listed = inventory.result()
    except Exception:  # the walk reports what went wrong
        return None
    if len(listed.commits) < LOG_AHEAD_MIN:
        return None
    reached = repo.popen("rev-list", "--all", "--reflog")
    out, _err = reached.communicate()
    if reached.returncode != 0:
        return None  # a missing commit, say: the walk finds out and tells
    lost = unreachable_commits(listed, set(out.split()))
    return _LogAhead(repo, lost) if len(lost) >= LOG_AHEAD_MIN else None


def _walk_log(  # noqa: C901  complexity 28: split with the module split (issue 20)
    repo: Repository,
    tips: list[str],
    stdin_tips: list[str] | None,
    cat: CatFile,
    scan: HistoryScan,
    walk: _Walk,
    progress: Progress,
    ahead: _LogAhead | None = None,
) -> str | None:
    """Stream ``git log --raw`` and record every add / modify / delete of a .py-ish path; ``ahead``:
    a log already run (:class:`_LogAhead`), read instead of starting one.

    No pathspec: git filters paths more slowly than this loop does, and every blob named by any
    diff must be known anyway to tell which blobs are dangling.
    """
    proc: Any
    if ahead is not None:
        proc, stderr, drain = (
            ahead,
            [],
            threading.Thread(target=lambda: stderr.append(ahead.stderr.read()), daemon=True),
        )
        drain.start()
    else:
        proc, stderr, drain = fed_log(repo, log_args(tips, stdin_tips is not None), stdin_tips)
    assert proc.stdout is not None
    buffer = b""
    intern = sys.intern
    changes = scan.changes
    seen_commits = walk.commits
    seen_blobs = walk.blobs
    request = cat.request
    deferred = walk.deferred
    thorough = walk.thorough
    info = walk.info
    docs = walk.docs
    old_docs = walk.old_docs
    seen_blob = seen_blobs.add
    #: path bytes -> (kind, path): most paths change many times, so each is classified once
    kinds: dict[bytes, tuple[int, str]] = {}
    last: bytes | None = None
    # meta's fields have fixed widths from its end, by the object format: h hex digits an id
    h = hexsz()
    null, shortest, new_at, old_at, old_end, modes_end = (
        null_id(),
        2 * h + 17,
        -(h + 2),
        -(2 * h + 3),
        -(h + 3),
        -(2 * h + 4),
    )
    while True:
        chunk = proc.stdout.read(1 << 20)
        if chunk:
            buffer += chunk
            cut = buffer.rfind(b"\x01")
            if cut <= 0:
                continue
            records, buffer = buffer[:cut], buffer[cut:]
        else:
            records, buffer = buffer, b""
        for record in records.split(b"\x01"):
            tokens = record.split(b"\x00")
            n = len(tokens)
            if n < 5:
                continue
            sha = tokens[0]
            if sha in seen_commits:
                continue
            seen_commits[sha] = tokens[1]  # its parents
            last = sha
            if len(seen_commits) % 2000 == 0:
                progress("walking history", len(seen_commits), walk.expected)
            commit: str | None = None
            for i in range(5, n - 1, 2):
                meta = tokens[i]
                # meta is b"[\n]:oldmode newmode oldsha newsha S"; fixed widths from the end
                if len(meta) < shortest:
                    continue
                new_sha = meta[new_at:-2]
                # Every blob of a walked tree is new in some walked commit's diff (the root's diff
                # names them all), so the new ids alone tell which blobs are dangling.
                seen_blob(new_sha)
                path_bytes = tokens[i + 1]
                kind = kinds.get(path_bytes)
                if kind is None:
                    kind = kinds[path_bytes] = _path_kind(path_bytes, intern)
                if kind[0] == _OTHER:
                    continue
                status = meta[-1:]
                if kind[0] == _DOCUMENT:
                    if status != b"D":
                        # documents are evidence: each path's newest version (--thorough: every version)
                        if path_bytes not in docs:
                            docs[path_bytes] = (new_sha, sha)
                        elif thorough:
                            old_docs.setdefault((path_bytes, new_sha), sha)
                    continue
                modes = meta[-shortest:modes_end]
                if commit is None:
                    commit = sha.decode("ascii")
                path = kind[1]
                if status == b"D":
                    if modes[:6] in SKIPPED_MODES:
                        continue
                    blob = meta[old_at:old_end].decode("ascii")
                    event = "deleted"
                else:
                    if modes[7:] in SKIPPED_MODES or new_sha == null:
                        continue
                    if status == b"M" and kind[0] == _SOURCE and not thorough:
                        # most of a big history, so kept small: the id's bytes (shared with
                        # seen_blobs), read only if the path proves to hold revision files
                        deferred.setdefault(path, []).append((new_sha, commit))
                        continue
                    blob = new_sha.decode("ascii")
                    event = "added" if status == b"A" else "modified"
                if commit not in info:
                    info[commit] = (tokens[2], tokens[3], tokens[4])
                changes.setdefault(blob, []).append((commit, event, path))  # type: ignore[arg-type]
                request(blob)
        if last is not None:
            walk.last = last.decode("ascii")
        if not chunk:
            break
    proc.wait()
    drain.join()
    for pipe in (proc.stdout, proc.stderr):  # not left to the collector (PYTHONWARNINGS=error)
        if pipe is not None:
            pipe.close()
    if proc.returncode != 0:
        return f"git log stopped early, results may be incomplete: {first_line(b''.join(stderr))}"
    return None


def fed_log(
    repo: Repository, args: list[str], feed: list[str] | None
) -> tuple[subprocess.Popen[bytes], list[bytes], threading.Thread]:
    """A streaming git command (``log ... --stdin``), ``feed`` written to its stdin by a thread and
    its stderr drained by another (either pipe filling up would stall git): the process, the list
    stderr lands in, and the draining thread to join once stdout is read."""
    proc = repo.popen(*args, stdin=subprocess.PIPE if feed is not None else None)
    stderr: list[bytes] = []
    drain = threading.Thread(target=lambda: stderr.append(proc.stderr.read()), daemon=True)  # type: ignore[union-attr]
    drain.start()
    if feed is not None:

        def write() -> None:
            try:
                proc.stdin.write("".join(t + "\n" for t in feed).encode("ascii"))  # type: ignore[union-attr]
                proc.stdin.close()  # type: ignore[union-attr]
            except BrokenPipeError:
                pass

        threading.Thread(target=write, daemon=True).start()
    return proc, stderr, drain


_OTHER, _DOCUMENT, _SOURCE, _MIGRATIONS = 0, 1, 2, 3


def _path_kind(path: bytes, intern: Callable[[str], str]) -> tuple[int, str]:
    """What a changed path is to the walk: ignored, a document (evidence), or source worth reading,
    eagerly when it looks like a migrations folder. ``.py``, ``.py.bak`` and ``.py~`` are source:
    the content decides the rest."""
    if b".py" not in path or path.endswith(_NOT_SOURCE):
        return (_DOCUMENT, "") if path.endswith(_DOC_SUFFIXES) else (_OTHER, "")
    text = intern(path.decode("utf-8", "surrogateescape"))
    return (_MIGRATIONS if _MIGRATIONS_LIKE.search(text) else _SOURCE), text


def _utc(stamp: bytes) -> str:
    """Author dates in UTC: sightings from people in different time zones must sort as strings."""
    try:
        return datetime.fromtimestamp(int(stamp), tz=timezone.utc).isoformat()
    except (ValueError, OverflowError, OSError):
        return ""


def _walk_each(
    repo: Repository,
    commits: list[str],
    cat: CatFile,
    scan: HistoryScan,
    walk: _Walk,
    progress: Progress,
    first_error: str,
) -> str:
    """Show ``commits`` with ``--no-walk``; where git dies, note the commit it died on and go on after it.

    git prints a commit's header before diffing it, so the culprit is either the last commit shown
    (its tree could not be read) or the next one (its object could not be read); showing the last
    one alone again tells which. Where git names the object it could not read (a corrupt loose
    commit or tree, a missing tree: often the parent's, which a healthy child is diffed against),
    that object is the one noted as unreadable, with the commit it stopped git at.
    """
    remaining = [c for c in commits if c.encode() not in walk.commits]
    while remaining:
        walk.last = None
        error = _walk_log(repo, ["--no-walk=unsorted"], remaining, cat, scan, walk, progress)
        if error is None:
            break
        last: str | None = walk.last  # set by _walk_log
        named_tip = _OBJECT_ID.search(error)
        if last is None and named_tip and named_tip.group() in remaining:
            # git reads every tip before it shows one: a tip whose commit object is corrupt stops it
            # before any output, and is named; the others were not shown, and are tried again
            bad = named_tip.group()
            remaining.remove(bad)
            after = remaining
        else:
            index = remaining.index(last) if last in remaining else -1
            if last is not None and not _shows_alone(repo, last, cat, scan, walk, progress):
                bad = last
            else:
                index += 1
                if index >= len(remaining):
                    break
                bad = remaining[index]
            after = remaining[index + 1 :]
        walk.failed.add(bad)
        reason = (error.split(": ", 1)[-1] if last == bad or last is None else _first_error_alone(repo, bad)) or error
        named = _OBJECT_ID.search(reason)
        if named and named.group() != bad:
            # the line is then the same for each commit the object stops: say which one this is
            scan.unreadable.append(Unreadable(named.group(), None, bad, f"{reason} (while showing commit {bad[:10]})"))
        else:
            scan.unreadable.append(Unreadable(bad, None, bad, reason))
        remaining = after
    return f"{first_error.split(': ', 1)[-1]}; scanned commit by commit instead, {len(walk.failed)} commit(s) could not be read"


def _shows_alone(
    repo: Repository, commit: str, cat: CatFile, scan: HistoryScan, walk: _Walk, progress: Progress
) -> bool:
    """Show one commit again, dropping whatever its interrupted first showing recorded."""
    for changes in scan.changes.values():
        changes[:] = [c for c in changes if c[0] != commit]
    for pairs in walk.deferred.values():
        pairs[:] = [pair for pair in pairs if pair[1] != commit]
    walk.commits.pop(commit.encode(), None)
    return _walk_log(repo, ["--no-walk=unsorted"], [commit], cat, scan, walk, progress) is None


#: An object id in git's error line ("fatal: loose object <sha> (stored in ...) is corrupt",
#: "fatal: unable to read tree <sha>"): the object git could not read.
_OBJECT_ID = re.compile(r"(?<![0-9a-f])(?:[0-9a-f]{64}|[0-9a-f]{40})(?![0-9a-f])")


def _first_error_alone(repo: Repository, commit: str) -> str:
    proc = repo.popen("log", "--no-walk", "--raw", "--no-textconv", "--no-ext-diff", "--format=%H", commit)
    _out, err = proc.communicate()
    return first_line(err) if proc.returncode else ""


def _reflog_entries(repo: Repository) -> list[ReflogEntry]:
    return _read_reflogs(repo)[0]


def _read_reflogs(repo: Repository) -> tuple[list[ReflogEntry], dict[str, bytes]]:
    """Every reflog entry, HEAD's first, newest first within each reflog; and each reflog file's bytes.

    ``git log --walk-reflogs --all`` costs about 0.1 ms per ref: 0.27 s for 10,000 remote
    branches, more than the whole history walk. With git's files backend the reflogs are plain
    text under ``logs/``; they are read directly, and ``git log -g --all`` stays the fallback for
    other backends (reftable). The bytes let a later update check that a reflog only grew.
    """
    from migration_archaeologist.sources.git.cache import reflog_files

    common = repo.common_dir
    if (common / "reftable").exists() or not (common / "logs").is_dir():
        return _reflog_entries_from_git(repo), {}
    entries: list[ReflogEntry] = []
    contents: dict[str, bytes] = {}
    width, null = hexsz(), null_id().decode()
    for ref, path in reflog_files(common):
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError:
            continue
        contents[ref] = data
        short = _short_ref(ref)
        for index, line in enumerate(reversed(data.splitlines())):
            sha = line[width + 1 : 2 * width + 1].decode("ascii", "replace")
            if len(sha) == width and sha != null:
                entries.append(ReflogEntry(sha, f"{short}@{{{index}}}", f"{ref}@{{{index}}}"))
    return entries, contents


def _short_ref(ref: str) -> str:
    for prefix in ("refs/heads/", "refs/remotes/", "refs/tags/", "refs/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


def _reflog_entries_from_git(repo: Repository) -> list[ReflogEntry]:
    out = repo.run("log", "--walk-reflogs", "--all", "--format=%H %gd %gD", check=False)
    entries = []
    for line in out.decode("utf-8", "replace").splitlines():
        parts = line.split(" ")
        if len(parts) >= 3 and len(parts[0]) >= 40:
            entries.append(ReflogEntry(parts[0], parts[1], parts[2]))
    return entries


def _head_order(repo: Repository) -> bytes | None:
    """``rev-list --topo-order HEAD``'s output, ranked later for the commits that matter."""
    return repo.run("rev-list", "--topo-order", repo.head, check=False) if repo.head else None


def _head_history(repo: Repository) -> dict[str, int]:
    """HEAD's ancestry ranked newest first in topological order: clock skew cannot reorder it."""
    order = _head_order(repo)
    return _ranks(order) if order is not None else {}


def _ranks(out: bytes, only: Collection[str] | None = None) -> dict[str, int]:
    """Ranks from ``rev-list --topo-order`` output, of ``only`` those commits when given (a
    200,000-commit dict held through the whole scan was 30 MB)."""
    shas = out.decode("ascii").split()
    if only is None:
        return {sha: rank for rank, sha in enumerate(shas)}
    return {sha: rank for rank, sha in enumerate(shas) if sha in only}


def _off_ref_parents(repo: Repository, tips: set[str], scan: HistoryScan) -> dict[str, list[str]]:
    """Parents of every commit ``tips`` reach that no ref (but refs/stash) reaches."""
    if not tips:
        return {}
    proc = repo.popen("rev-list", "--parents", "--stdin", "--not", "--exclude=refs/stash", "--all", stdin=-1)
    out, err = proc.communicate("".join(t + "\n" for t in sorted(tips)).encode("ascii"))
    if proc.returncode != 0:
        scan.warnings.append(f"could not tell reflog and stash commits apart from history: {first_line(err)}")
        return {}
    parents: dict[str, list[str]] = {}
    for line in out.decode("ascii").splitlines():
        shas = line.split()
        if shas:
            parents[shas[0]] = shas[1:]
    return parents


def _stash_tip(repo: Repository) -> tuple[str, ...]:
    """The commit refs/stash names, if any: it is a stash even once its reflog entries expired."""
    out = repo.run("rev-parse", "-q", "--verify", "refs/stash^{commit}", check=False).decode("ascii", "replace")
    return tuple(out.split()[:1])


#: a stash commit's subject: ``WIP on main: 1a2b3c4 subject`` (git stash), ``On main: message`` (-m)
_STASH_SUBJECT = re.compile(r"(WIP on|On) [^\n]*?: ")


def _stash_shaped(repo: Repository, commits: Iterable[str], scan: HistoryScan) -> dict[str, list[str]]:
    """Of unreachable ``commits``, the ones shaped like a stash -> their parents: a dropped stash, or
    one whose reflog entry expired (``git stash drop``, ``git reflog expire``), still in the object
    database. The shape git stash gives them: a "WIP on <branch>:" or "On <branch>:" subject, two or
    three parents, the second one's subject "index on <branch>:" (when that commit is at hand too)."""
    shown: dict[str, tuple[list[str], str]] = {}

    def show(wanted: Iterable[str]) -> bool:
        wanted = sorted(set(wanted) - shown.keys())
        if not wanted:
            return True
        proc = repo.popen("log", "--no-walk=unsorted", "--stdin", "--format=%H %P%x00%s", stdin=-1)
        out, err = proc.communicate("".join(c + "\n" for c in wanted).encode("ascii"))
        if proc.returncode != 0:
            scan.warnings.append(f"could not tell dropped stashes among unreachable commits: {first_line(err)}")
            return False
        for line in out.decode("utf-8", "replace").splitlines():
            shas, _, subject = line.partition("\0")
            sha, *parents = shas.split()
            shown[sha] = (parents, subject)
        return True

    if not show(commits):
        return {}
    shaped = {
        sha: parents
        for sha, (parents, subject) in shown.items()
        if _STASH_SUBJECT.match(subject) and len(parents) in (2, 3)
    }
    if not show(parents[1] for parents in shaped.values()):
        return {}
    return {
        sha: parents for sha, parents in shaped.items() if shown.get(parents[1], ([], ""))[1].startswith("index on ")
    }


def _paint(
    reflog: list[ReflogEntry],
    parents: Mapping[str, list[str]],
    unreachable: Iterable[str],
    stash_tip: Iterable[str] = (),
    dropped: Mapping[str, list[str]] | None = None,
) -> dict[str, tuple[str, str | None]]:
    """commit -> (source, ref) for what no ref (but refs/stash) reaches: reflog entries, stash entries,
    ``refs/stash`` itself once its reflog expired, dropped stashes (source stash, no ref), the rest
    unreachable."""
    origin: dict[str, tuple[str, str | None]] = {}

    def paint(start: str, label: tuple[str, str | None]) -> None:
        queue = deque([start])
        while queue:
            sha = queue.popleft()
            if sha not in parents or sha in origin:
                continue
            origin[sha] = label
            queue.extend(parents[sha])

    # A stash never moves HEAD, so reflog first: the commit a stash was made on keeps its own story.
    for entry in reflog:
        if not entry.is_stash:
            paint(entry.commit, ("reflog", entry.selector))
    for entry in reflog:
        if entry.is_stash:
            paint(entry.commit, ("stash", entry.selector))
    for sha in stash_tip:  # refs/stash whose reflog no longer lists it
        paint(sha, ("stash", "refs/stash"))
    lost = set(unreachable)
    for sha, its_parents in (dropped or {}).items():
        # the stash commit, its index commit and its untracked-files commit (git stash -u)
        for commit in [sha, *its_parents[1:]]:
            if commit in lost or commit in parents:
                origin.setdefault(commit, ("stash", None))
    for sha in parents:
        origin.setdefault(sha, ("unreachable", None))
    # every unreachable commit is listed, and none is reachable from a reflog entry
    for sha in unreachable:
        origin.setdefault(sha, ("unreachable", None))
    return origin
