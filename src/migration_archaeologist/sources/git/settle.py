"""From what the walk saw to the scan the catalog reads: the changes of revision blobs, their
commits and HEAD's ranks; and a stored scan merged with what an update read.
"""

from __future__ import annotations

import subprocess

from migration_archaeologist.sources.git.cache import merge_contents
from migration_archaeologist.sources.git.origin import topo_ranks
from migration_archaeologist.sources.git.raw_log import utc
from migration_archaeologist.sources.git.records import Change, CommitIds, CommitInfo, HistoryScan
from migration_archaeologist.sources.git.repository import Repository
from migration_archaeologist.sources.git.walk import Walk


def settle(repo: Repository, scan: HistoryScan, walk: Walk, head_order: bytes | None = None) -> None:
    """Keep only what the catalog will look at: changes of revision blobs, their commits, HEAD's ranks of them.

    (The walk stores plain tuples: building named tuples for every .py change costs 70 ms.)
    """
    scan.changes = {b: [Change._make(c) for c in cs] for b, cs in scan.changes.items() if b in scan.parsed}
    # A rebuilt .pyc is known by its rebuilt source, like bytecode found anywhere else; an LFS
    # pointer by the object it stands for.
    for pyc, (source_id, fidelity) in scan.bytecode.items():
        if pyc not in scan.parsed:
            continue
        scan.changes.setdefault(source_id, []).extend(scan.changes.pop(pyc, []))
        scan.parsed[source_id] = scan.parsed.pop(pyc)
        scan.contents[source_id] = scan.contents.pop(pyc)  # type: ignore[index,attr-defined]  # a walk's own scan: a dict
        scan.fidelity[source_id] = fidelity
    if scan.bytecode:  # a dangling .pyc or LFS pointer is seen as the source it stands for
        scan.dangling_blobs = tuple(
            scan.bytecode[b][0] if b in scan.bytecode and b not in scan.parsed else b for b in scan.dangling_blobs
        )
    used = {change.commit for changes in scan.changes.values() for change in changes}
    missing = used - walk.info.keys()  # commits whose only .py changes were left unread at first
    if missing:
        walk.info.update(_commit_info(repo, sorted(missing)))
    scan.commits = {
        sha: CommitInfo(utc(raw[0]), raw[1].decode("utf-8", "replace"), raw[2].decode("utf-8", "replace"))
        for sha, raw in walk.info.items()
        if sha in used
    }
    scan.head_history = topo_ranks(head_order, used) if head_order is not None else {}
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


def merge_scans(
    base: HistoryScan,
    delta: HistoryScan,
    named: set[str],
    origin: dict[str, tuple[str, str | None]],
    head_history: dict[str, int],
    thorough: bool,
) -> HistoryScan:
    """A stored scan plus what an update read: as if the whole history had been walked at once."""
    # newest first, as a full walk lists them: what the update read, then what the stored scan had
    changes: dict[str, list[Change]] = {}
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
        contents=merge_contents(base.contents, delta.contents),
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
