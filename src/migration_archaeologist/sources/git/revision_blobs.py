"""Reading blobs beside the walk: one ``cat-file --batch`` session per pass, each blob that looks
like revision source parsed (a committed ``.pyc`` rebuilt first), and the later versions the walk
left unread at paths that proved to hold revision files.
"""

from __future__ import annotations

import threading
from pathlib import Path
from collections.abc import Iterator
from collections.abc import Set as AbstractSet

from migration_archaeologist.parse.revision import Unparseable, looks_like_revision, parse_revision
from migration_archaeologist.sources.git.cat_file import CatFile
from migration_archaeologist.sources.git.lfs import is_pointer, object_of
from migration_archaeologist.sources.git.records import HistoryScan, Progress, note_unreadable
from migration_archaeologist.sources.git.repository import Repository
from migration_archaeologist.sources.git.walk import Walk
from migration_archaeologist.sources.interface import git_blob_id

#: a cat-file session: the process and the thread parsing what it answers
Session = tuple[CatFile, threading.Thread]


def start_session(
    repo: Repository,
    requested: set[str],
    present: AbstractSet[bytes] | None,
    scan: HistoryScan,
    progress: Progress,
    phase: str = "reading blobs",
) -> Session:
    """A ``cat-file --batch`` for what the walk requests, and a thread parsing its answers into ``scan``."""
    cat = CatFile(repo, requested, present)
    cat.phase = phase
    reader = threading.Thread(target=_read_blobs, args=(cat, scan, progress, repo.common_dir), daemon=True)
    reader.start()
    return cat, reader


def finish_session(session: Session) -> None:
    """Ask for nothing more, and wait until every answer is parsed."""
    session[0].close_requests()
    session[1].join()


def _read_blobs(cat: CatFile, scan: HistoryScan, progress: Progress, common_dir: Path) -> None:
    # what cat-file was asked for so far: most of it is revision source when it is a lot
    from migration_archaeologist.parse.pool import parse_many  # not needed by a scan the cache answers

    for sha, data, parsed in parse_many(_revision_like(cat, scan, progress, common_dir), expected=lambda: cat.asked):
        if parsed is not None:
            scan.parsed[sha] = parsed
            scan.contents[sha] = data  # type: ignore[index]  # a fresh scan's contents are a dict


def _revision_like(
    cat: CatFile, scan: HistoryScan, progress: Progress, common_dir: Path
) -> Iterator[tuple[str, bytes]]:
    """The blobs worth parsing as revision source; a committed .pyc is rebuilt on the way, and a
    Git LFS pointer is read from the local LFS store."""
    read = 0
    for sha, data in cat.answers():
        scan.blobs_read += 1
        read += 1
        if read % 500 == 0:
            progress(cat.phase, read, cat.asked)
        if data is None:
            note_unreadable(scan, sha, cat.reasons.get(sha) or "object missing from the repository or unreadable")
            continue
        if is_pointer(data):
            data = _lfs_object(sha, data, scan, common_dir)
            if data is None:
                continue
        if not looks_like_revision(data):
            continue
        if _bytecode_header(data):
            _read_bytecode(sha, data, scan)
            continue
        yield sha, data


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


def _lfs_object(sha: str, data: bytes, scan: HistoryScan, common_dir: Path) -> bytes | None:
    """The bytes an LFS pointer stands for, from the local store, sha256 and size checked; else None
    and, when its object is absent or does not match, an unreadable entry saying so. The pointer's
    changes are moved to the object's own blob id when ``settle`` meets it in ``scan.bytecode``."""
    found = object_of(common_dir, data)
    if isinstance(found, str):
        note_unreadable(scan, sha, found)
        return None
    if found is not None and looks_like_revision(found) and not _bytecode_header(found):
        scan.bytecode[sha] = (git_blob_id(found), "exact")
    return found


def _bytecode_header(data: bytes) -> bool:
    from migration_archaeologist.sources.bytecode.header import read_header  # only where a blob may be bytecode

    return read_header(data) is not None


def read_deferred(scan: HistoryScan, walk: Walk, cat: CatFile, known_paths: set[str]) -> set[str]:
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
