"""The history scan kept under the repository's git dir, so that a rescan reads only what is new.

``<common git dir>/migration-archaeologist/history.json`` holds what a scan of the object database
found (revision blobs, their changes, commits, origins, which commit deleted what a merge carried
in) and the state of the repository it saw: every ref, every reflog file's size and checksum, the
pack files and the loose objects. A rescan compares that state with the repository's:

* the same: the stored scan is the answer; git log never starts;
* only grown (new commits, refs, reflog lines, stash entries, objects, a ref moved or deleted):
  only the new commits and objects are read (``GitHistory`` does that) and the file is rewritten;
* anything else (a reflog rewritten or expired, a pack or loose object gone after gc or prune, a
  shallow boundary, graft or alternate changed, another version of this tool, ``--thorough``
  differing): a full scan, as if there were no cache.

It is JSON, never pickle: a repository may be hostile, and reading this file must not run code.
Deleting the folder is always safe; a file that does not read back cleanly is ignored. It keeps what
rebuilding the chain needs (each revision blob's header fields and size), not the blobs: git holds
them, and one ``cat-file --batch`` reads them all back if a command needs contents (restore,
timeline); only sources rebuilt from committed bytecode, which git does not hold, are stored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from collections.abc import Iterator, Mapping
from collections.abc import Mapping as MappingABC

from migration_archaeologist import __version__
from migration_archaeologist.errors import GitFailed
from migration_archaeologist.files.atomic import replace_cache_file
from migration_archaeologist.sources.git.repository import Repository, hexsz
from migration_archaeologist.parse.revision import RevisionFile, Unparseable
from migration_archaeologist.sources.git.cat_file import CatFile
from migration_archaeologist.sources.git.records import Change, CommitIds, CommitInfo, HistoryScan
from migration_archaeologist.sources.git.state import RepositoryState
from migration_archaeologist.sources.interface import Unreadable

CACHE_DIR = "migration-archaeologist"
CACHE_FILE = "history.json"
#: Paths whose later versions a scan left unread (see ``Walk``); only an update needs them, so apart.
DEFERRED_FILE = "deferred-paths.json"
#: Every commit id walked, 40 hex each (64 in a SHA-256 repository), no separator: appended to by updates, read only on demand.
COMMITS_FILE = "commits"
#: 5: a revision's ``unresolved`` references and ``python2`` flag are stored.
#: 6: ``deleted_by``, the commit that deleted what a merge only carried in (a scan stored before
#: named the merge)
#: 7: a stash refs/stash still names after its reflog expired, and a dropped stash among the
#: unreachable commits, are labelled stash (a scan stored before called them history / unreachable)
#: 8: committed ``.pyc`` of Python 3.8-3.13 are rebuilt whatever Python runs (a scan stored before kept
#: only their header), and Git LFS pointers stand for the revision file in the local LFS store
FORMAT = 8


def cache_path(repo: Repository) -> Path:
    return repo.common_dir / CACHE_DIR / CACHE_FILE


# --------------------------------------------------------------------------- the stored scan


@dataclass(frozen=True)
class CachedHistory:
    """A stored scan and what it takes to extend it."""

    state: RepositoryState
    scan: HistoryScan
    tips: frozenset[str]  # every commit the scan started from: refs, HEAD, reflog entries, unreachable commits
    reflog_prints: Mapping[str, tuple[int, int]]  # reflog -> (size, crc32) of the content read
    deferred_paths: frozenset[str] | None = None  # written beside; read only by an update (load_deferred_paths)


def load(repo: Repository, thorough: bool) -> CachedHistory | None:
    """The stored scan, or None when there is none, it is from another version, or it does not read back."""
    try:
        raw = cache_path(repo).read_bytes()
        doc = json.loads(raw)
        if doc.get("format") != FORMAT or doc.get("tool") != __version__ or doc.get("thorough") != thorough:
            return None
        return CachedHistory(
            state=RepositoryState.from_json(doc["state"]),
            scan=_scan_from_json(repo, doc["scan"], _stored_commits(repo, int(doc["commits"]))),
            tips=frozenset(_split_ids(doc["tips"])),
            reflog_prints={str(k): (int(v[0]), int(v[1])) for k, v in doc["reflog_prints"].items()},
        )
    except Exception:  # missing, truncated, hand-edited, from an older format: a full scan replaces it
        return None


def save(repo: Repository, thorough: bool, cached: CachedHistory) -> bool:
    """Write the cache atomically (temp file + rename); False if the git dir is not writable. Never raises."""
    path = cache_path(repo)
    ids = cached.scan.all_commits
    doc = {
        "format": FORMAT,
        "tool": __version__,
        "thorough": thorough,
        "state": cached.state.to_json(),
        "tips": "".join(sorted(cached.tips)),
        "reflog_prints": cached.reflog_prints,
        "commits": len(ids),
        "scan": _scan_to_json(cached.scan),
    }
    try:
        path.parent.mkdir(exist_ok=True)
        commits = path.with_name(COMMITS_FILE)
        if ids.stored and commits.is_file():
            # the ids already stored stay; the new ones go after them (a history.json that still
            # counts the old number reads only those)
            with open(commits, "r+b") as handle:
                handle.seek(ids.stored * ids.width)
                handle.write(ids.fresh.encode("ascii"))
                handle.truncate()
        else:
            _write_bytes(commits, ids.joined().encode("ascii"))
        if cached.deferred_paths is not None:
            # first, so that a history.json never stands beside an older list of paths
            deferred = {"tool": __version__, "paths": sorted(cached.deferred_paths), "tips": len(cached.tips)}
            _write(path.with_name(DEFERRED_FILE), deferred)
        _write(path, doc)
    except (OSError, ValueError):
        return False
    return True


def _stored_commits(repo: Repository, count: int) -> CommitIds:
    path = cache_path(repo).with_name(COMMITS_FILE)
    width = hexsz()
    if path.stat().st_size < count * width:
        raise ValueError("the commits file is shorter than history.json says")

    def read() -> str:
        return path.read_bytes()[: count * width].decode("ascii")

    return CommitIds(loader=read, stored=count)


def load_deferred_paths(repo: Repository, tips: int) -> frozenset[str] | None:
    """The paths a stored scan left later versions unread at; None if missing or not from that scan."""
    try:
        doc = json.loads(cache_path(repo).with_name(DEFERRED_FILE).read_bytes())
        if doc.get("tool") != __version__ or doc.get("tips") != tips:
            return None
        return frozenset(map(str, doc["paths"]))
    except Exception:
        return None


def _write(path: Path, doc: Mapping[str, Any]) -> None:
    _write_bytes(path, json.dumps(doc, separators=(",", ":")).encode("utf-8"))


def _write_bytes(path: Path, data: bytes) -> None:
    replace_cache_file(path, data, prefix=".history-")


def _split_ids(joined: str) -> Iterator[str]:
    width = hexsz()
    for start in range(0, len(joined), width):
        yield joined[start : start + width]


def _scan_to_json(scan: HistoryScan) -> dict[str, Any]:
    return {
        "parsed": {blob: _parsed_to_json(p) for blob, p in scan.parsed.items()},
        "sizes": {blob: content_size(scan.contents, blob) for blob in scan.parsed},
        # sources rebuilt from bytecode exist nowhere else; git holds every other content
        "contents": {blob: scan.contents[blob].decode("latin-1") for blob in scan.fidelity if blob in scan.parsed},
        "changes": {blob: [list(c) for c in cs] for blob, cs in scan.changes.items()},
        "commits": {sha: [i.date, i.author, i.subject] for sha, i in scan.commits.items()},
        "origin": {sha: list(o) for sha, o in scan.origin.items()},
        "head_history": dict(scan.head_history),
        "dangling_blobs": list(scan.dangling_blobs),
        "unreadable": [[u.blob, u.path, u.commit, u.reason] for u in scan.unreadable],
        "warnings": list(scan.warnings),
        "counts": [scan.commits_walked, scan.blobs_read, scan.skipped_versions],
        "doc_versions": [[path, blob, commit] for (path, blob), commit in scan.doc_versions.items()],
        "bytecode": {pyc: list(v) for pyc, v in scan.bytecode.items()},
        "fidelity": dict(scan.fidelity),
        "off_ref": scan.off_ref,
        "unreachable_commits": list(scan.unreachable_commits),
        "deleted_by": [[merge, path, commit] for (merge, path), commit in scan.deleted_by.items()],
    }


def _scan_from_json(repo: Repository, doc: Mapping[str, Any], all_commits: CommitIds) -> HistoryScan:
    commits_walked, blobs_read, skipped = (int(n) for n in doc["counts"])
    return HistoryScan(
        parsed={blob: _parsed_from_json(p) for blob, p in doc["parsed"].items()},
        contents=StoredContents(
            repo,
            {blob: int(n) for blob, n in doc["sizes"].items()},
            {blob: text.encode("latin-1") for blob, text in doc["contents"].items()},
        ),
        changes={blob: [Change(*c) for c in cs] for blob, cs in doc["changes"].items()},
        commits={sha: CommitInfo(*info) for sha, info in doc["commits"].items()},
        origin={sha: (o[0], o[1]) for sha, o in doc["origin"].items()},
        head_history={sha: int(rank) for sha, rank in doc["head_history"].items()},
        dangling_blobs=tuple(doc["dangling_blobs"]),
        unreadable=[Unreadable(*u) for u in doc["unreadable"]],
        warnings=list(doc["warnings"]),
        commits_walked=commits_walked,
        blobs_read=blobs_read,
        skipped_versions=skipped,
        doc_versions={(path, blob): commit for path, blob, commit in doc["doc_versions"]},
        bytecode={pyc: (v[0], v[1]) for pyc, v in doc["bytecode"].items()},
        fidelity=dict(doc["fidelity"]),
        all_commits=all_commits,
        off_ref={str(k): list(v) for k, v in doc["off_ref"].items()},
        unreachable_commits=tuple(doc["unreachable_commits"]),
        deleted_by={(str(merge), str(path)): str(commit) for merge, path, commit in doc["deleted_by"]},
    )


class StoredContents(MappingABC[str, bytes]):
    """The contents of a stored scan's revision blobs, read from git on first use, all at once.

    ``check`` and ``graph`` never ask (sizes are stored); a restore or a timeline asks for some,
    and one ``cat-file --batch`` for every blob costs less than a process per blob.
    """

    def __init__(self, repo: Repository, sizes: Mapping[str, int], known: Mapping[str, bytes]) -> None:
        self._repo = repo
        self._sizes = dict(sizes)
        self._known = dict(known)

    def __getitem__(self, blob: str) -> bytes:
        if blob not in self._sizes:
            raise KeyError(blob)
        if blob not in self._known:
            self._read_all()
        return self._known[blob]

    def __iter__(self) -> Iterator[str]:
        return iter(self._sizes)

    def __len__(self) -> int:
        return len(self._sizes)

    def size(self, blob: str) -> int:
        return self._sizes[blob]

    def merged(self, newer: Mapping[str, bytes]) -> StoredContents:
        """These contents and a later scan's (an update), without reading either."""
        return StoredContents(
            self._repo, {**self._sizes, **{b: content_size(newer, b) for b in newer}}, {**self._known, **newer}
        )

    def _read_all(self) -> None:
        missing = [blob for blob in self._sizes if blob not in self._known]
        cat = CatFile(self._repo, set())
        for blob in missing:
            cat.request(blob)
        cat.close_requests()
        for blob, data in cat.answers():
            if data is not None:
                self._known[blob] = data
        lost = [blob for blob in missing if blob not in self._known]
        if lost:
            raise GitFailed(
                f"git no longer holds blob {lost[0]}, which the history cache names; "
                "rerun with --no-cache (and delete .git/migration-archaeologist)"
            )


def content_size(contents: Mapping[str, bytes], blob: str) -> int:
    """A content's length, without reading a stored one from git."""
    if isinstance(contents, StoredContents):
        return contents.size(blob)
    return len(contents[blob])


def merge_contents(older: Mapping[str, bytes], newer: Mapping[str, bytes]) -> Mapping[str, bytes]:
    if isinstance(older, StoredContents):
        return older.merged(newer)
    return {**older, **newer}


def _parsed_to_json(parsed: RevisionFile | Unparseable) -> list[Any]:
    if isinstance(parsed, Unparseable):
        return ["U", parsed.reason, parsed.revision_hint]
    return [
        "R",
        parsed.revision,
        list(parsed.down_revisions),
        list(parsed.branch_labels),
        list(parsed.depends_on),
        parsed.message,
        parsed.create_date,
        parsed.header_revision,
        None if parsed.header_revises is None else list(parsed.header_revises),
        parsed.encoding,
        [list(pair) for pair in parsed.unresolved],
        parsed.python2,
    ]


def _parsed_from_json(doc: list[Any]) -> RevisionFile | Unparseable:
    if doc[0] == "U":
        return Unparseable(doc[1], doc[2])
    (
        _,
        revision,
        down,
        labels,
        depends,
        message,
        create_date,
        header_revision,
        header_revises,
        encoding,
        unresolved,
        python2,
    ) = doc
    return RevisionFile(
        revision=revision,
        down_revisions=tuple(down),
        branch_labels=tuple(labels),
        depends_on=tuple(depends),
        message=message,
        create_date=create_date,
        header_revision=header_revision,
        header_revises=None if header_revises is None else tuple(header_revises),
        encoding=encoding,
        unresolved=tuple((str(var), str(ref)) for var, ref in unresolved),
        python2=python2 is True,
    )
