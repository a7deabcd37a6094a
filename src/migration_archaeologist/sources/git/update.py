"""Extending a stored scan with only what the repository gained since: new commits, refs, reflog
lines, stash entries and objects; or saying why it cannot be extended (the caller then scans in full).
"""

from __future__ import annotations

import zlib

from migration_archaeologist.sources.git.cache import CachedHistory, load_deferred_paths
from migration_archaeologist.sources.git.deletions import DeletingCommits, ancestry, merge_deletions
from migration_archaeologist.sources.git.inventory import (
    closure,
    commit_parents,
    not_reachable,
    object_types,
    pack_objects,
    topological,
)
from migration_archaeologist.sources.git.lfs import fetched_since
from migration_archaeologist.sources.git.origin import head_history_after, off_ref_after, paint_origins, stash_shaped
from migration_archaeologist.sources.git.records import HistoryScan, Progress, ReflogEntry, ScanOutcome, note_unreadable
from migration_archaeologist.sources.git.reflog import read_reflogs
from migration_archaeologist.sources.git.repository import Repository
from migration_archaeologist.sources.git.revision_blobs import finish_session, read_deferred, start_session
from migration_archaeologist.sources.git.settle import merge_scans, settle
from migration_archaeologist.sources.git.state import RepositoryState
from migration_archaeologist.sources.git.walk import Walk, walk_log


def update_scan(
    repo: Repository, thorough: bool, progress: Progress, cached: CachedHistory, state: RepositoryState
) -> ScanOutcome | str:
    """Read only what the repository gained since ``cached``; why not, when it changed in a way this cannot follow.

    Followed: new commits, refs, reflog lines and stash entries; refs moved or deleted; new
    loose objects and packs. Not followed: reflogs rewritten or expired, packs or loose objects
    removed (gc, prune), a changed shallow boundary, grafts or alternates, partial clones.
    """
    grown = _growth(repo, cached, state)
    if isinstance(grown, str):
        return grown
    packed, reflog, files = grown
    old = cached.state
    base = cached.scan
    new_objects = (state.loose - old.loose) | packed
    new_commits, new_blobs = object_types(repo, new_objects)
    parents = commit_parents(repo, new_commits)
    if parents is None:
        return "git could not list the new commits' parents"
    now_tips = set(state.refs.values()) | {e.commit for e in reflog} | ({state.head} if state.head else set())
    vanished = {sha for name, sha in old.refs.items() if state.refs.get(name) != sha} - now_tips

    # Every commit the stored scan's repository held was read then (walked, or shown as
    # unreachable), so what is left is exactly the new commit objects: each is shown once, with
    # no walk and no negated tips (git would parse all 10,000 of them to rule them out).
    # a new commit is reachable only through new commits: whatever reaches it is younger
    reachable = closure(now_tips & new_commits, parents, new_commits)
    lost = sorted(new_commits - reachable)
    scan = HistoryScan()
    walk = Walk(thorough=thorough, expected=len(new_commits))
    requested: set[str] = set()
    first = start_session(repo, requested, None, scan, progress)
    # in the order a full scan meets them (git log's, then unreachable ones), so that versions
    # of equal date keep their order: walk the new reachable commits down to the old ones
    walks = []
    if reachable:
        # shown one by one, children first as git log would: a walk down to the old parents
        # cost 0.5 s on a history with clock skew (git keeps going until dates settle)
        walks.append((["--no-walk=unsorted"], topological(reachable, parents)))
    if lost:
        walks.append((["--no-walk=unsorted"], lost))
    for walk_tips, stdin in walks:
        log_error = walk_log(repo, walk_tips, stdin, first[0], scan, walk, progress)
        if log_error:
            finish_session(first)
            return log_error
    finish_session(first)
    if vanished:
        # what a moved or deleted ref held that nothing else reaches is unreachable now
        gone = not_reachable(repo, sorted(vanished))
        if gone is None:
            return "git could not tell what a deleted ref left unreachable"
        lost += gone
    second = start_session(repo, requested, None, scan, progress, "reading later versions and dangling blobs")
    old_paths = {c.path for changes in base.changes.values() for c in changes}
    revision_paths = read_deferred(scan, walk, second[0], old_paths)
    unread = load_deferred_paths(repo, len(cached.tips))
    if unread is None or revision_paths & unread:
        finish_session(second)
        return "a revision file appeared at a path whose older versions were left unread"
    named = {b.decode() for b in walk.blobs}
    known = set(base.changes) | set(base.dangling_blobs)
    dangling = sorted(new_blobs - named - known)
    for blob in dangling:
        second[0].request(blob)
    finish_session(second)
    for cat in (first[0], second[0]):
        for sha in cat.not_present:
            note_unreadable(scan, sha, "object missing from the repository (partial clone)")
    scan.dangling_blobs = tuple(dangling)
    scan.skipped_versions = sum(len(b) for p, b in walk.deferred.items() if p not in revision_paths)
    settle(repo, scan, walk)
    # origins are worked out again for everything: a new ref may reach what only a reflog held
    off_ref, unreachable = off_ref_after(repo, cached, state, reflog, parents, new_commits, vanished, lost, scan)
    stash_tip = tuple(sha for name, sha in state.refs.items() if name == "refs/stash")
    origin = paint_origins(reflog, off_ref, unreachable, stash_tip, stash_shaped(repo, unreachable, scan))
    head_history = head_history_after(repo, old.head, state.head, base.head_history, parents, new_commits)
    merged = merge_scans(base, scan, named, origin, head_history, thorough)
    merged.off_ref, merged.unreachable_commits = off_ref, tuple(unreachable)
    # a new merge's deletions, followed down history the stored scan read (no merge it knew changes)
    targets = merge_deletions(scan.changes, lambda sha: len(parents.get(sha, ())) > 1)
    if targets:
        graph = ancestry(repo, sorted({merge for merge, _path in targets}))
        if graph is None:
            return "git could not list the history of the new merges"
        merged.deleted_by.update(DeletingCommits(graph, merged.changes, targets).credited())
    tips = cached.tips | now_tips | set(lost)
    unread |= {p for p in walk.deferred if p not in revision_paths}
    prints = {
        name: cached.reflog_prints[name]
        if state.reflogs.get(name) == old.reflogs.get(name) and name in cached.reflog_prints
        else (len(data), zlib.crc32(data))
        for name, data in files.items()
    }
    return merged, frozenset(tips), prints, unread


def _growth(
    repo: Repository, cached: CachedHistory, state: RepositoryState
) -> tuple[set[str], list[ReflogEntry], dict[str, bytes]] | str:
    """The objects new packs hold, the reflog entries and each reflog's bytes, if the repository only
    grew since ``cached``; else why not."""
    old = cached.state
    if repo.partial:
        return "a partial clone"
    if old.boundary != state.boundary:
        return "the shallow boundary, grafts, alternates or a worktree changed"
    if fetched_since(repo.common_dir, cached.scan.unreadable):
        # a pointer read before as "not fetched" has its object now: read every pointer again
        return "Git LFS objects were fetched"
    if old.packs - state.packs:
        return "pack files were removed (gc or repack)"
    packed = pack_objects(repo, state.packs - old.packs)
    if packed is None:
        return "a new pack's index could not be read"
    if old.loose - state.loose - packed:
        return "loose objects were removed (gc or prune)"
    reflog, files = read_reflogs(repo)
    for name, (size, crc) in cached.reflog_prints.items():
        data = files.get(name)
        if data is None or len(data) < size or zlib.crc32(data[:size]) != crc:
            # rewritten or expired: entries may have gone, and with them whole branches
            return f"the reflog of {name} was rewritten or expired"
    return packed, reflog, files
