"""Revision files staged in the index but never committed: ``git add`` of a new revision, then the
file deleted from the work tree (or changed again) before any commit.

One ``git diff-index --cached`` lists what the index holds that HEAD's tree does not (git reads its
own index; the work tree, its filters and hooks are never touched), then one ``cat-file --batch``
reads those blobs. One without an index file (bare, or nothing ever staged) costs nothing.

The index changes without any object or ref changing (``git rm --cached``, ``git reset``), so the
history cache cannot tell: the listing is kept apart, in ``staged.json`` beside it, under the index
file's identity (size, times, inode) and HEAD. A rescan whose index and HEAD are as they were runs
no git process for it (a 60,000-file index costs git 20 ms to read); a listing is stored only when
the index is more than two seconds old, so a write within the same clock tick is never mistaken
for none (git's own "racy index" rule).
"""

from __future__ import annotations

import json
import os
import stat
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from migration_archaeologist import __version__
from migration_archaeologist.files.atomic import replace_cache_file
from migration_archaeologist.files.untrusted import read_regular

from migration_archaeologist.parse.revision import RevisionFile, Unparseable, looks_like_revision, parse_revision
from migration_archaeologist.sources.git.cache import CACHE_DIR
from migration_archaeologist.sources.git.cat_file import CatFile
from migration_archaeologist.sources.git.lfs import is_pointer, object_of
from migration_archaeologist.sources.git.repository import Repository, execute, first_line, hexsz, null_id
from migration_archaeologist.sources.interface import Sighting, Unreadable, git_blob_id

#: git's empty tree, which it knows without holding it: what an unborn HEAD's index is compared with
_EMPTY_TREE = {
    40: "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
    64: "6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321",
}
#: regular files; links (120000) and submodules (160000) hold no revision source
_FILE_MODES = (b"100644", b"100755")
#: paths staged in one index that are read at most (a generated tree staged whole is not read whole)
MAX_STAGED = 10_000


class StagedFiles:
    """Source of ``index`` sightings: revision-file contents staged and not in HEAD's tree."""

    def __init__(self, repo: Repository, *, use_cache: bool = True) -> None:
        self.repo = repo
        self.use_cache = use_cache
        self.unreadable: list[Unreadable] = []
        self.warnings: list[str] = []
        self._sightings: list[Sighting] | None = None
        self._contents: dict[str, bytes] = {}
        self._parsed: dict[str, RevisionFile | Unparseable] = {}
        self._staged: set[str] = set()
        self._lock = threading.Lock()
        self._unsaved: tuple[list[object], dict[str, list[str]]] | None = None

    @property
    def blobs(self) -> frozenset[str]:
        """The staged contents (git's blob ids, and an LFS pointer's too): the history scan's dangling
        blobs among them are staged, not unreachable (git fsck does not call them dangling either)."""
        self.read()
        return frozenset(self._staged)

    def read(self) -> None:
        """List and read the staged files once; a scan calls it in a thread while history is walked."""
        with self._lock:
            if self._sightings is not None:
                return
            sightings: list[Sighting] = []
            staged = self._list()
            if staged:
                date = _index_date(self.repo)
                for sha, data in self._cat(staged):
                    sightings.extend(self._sightings_of(sha, data, staged[sha], date))
            self._sightings = sightings

    def _list(self) -> dict[str, list[str]]:
        """Staged blob -> its paths, for ``.py`` paths whose staged content HEAD's tree does not hold;
        the stored listing when the index and HEAD are unchanged."""
        repo = self.repo
        if repo.work_tree is None:
            return {}
        key = _index_key(repo)
        if key is None:
            return {}
        kept = _load(repo, key) if self.use_cache else None
        if kept is not None:
            return kept
        staged = self._diff_index()
        if self.use_cache and not self.warnings:
            self._unsaved = (key, staged)
        return staged

    def keep(self) -> None:
        """Store a listing read anew, once the scan it is part of succeeded (a scan that fails, as
        on a repository git cannot read, leaves the git dir as it found it)."""
        self.read()
        if self._unsaved is not None:
            _save(self.repo, *self._unsaved)
            self._unsaved = None

    def _diff_index(self) -> dict[str, list[str]]:
        repo = self.repo
        base = repo.head or _EMPTY_TREE[hexsz()]
        status, out, err = execute(
            repo.command("diff-index", "--cached", "--no-renames", "--ignore-submodules", "-z", base, "--")
        )
        if status != 0:  # a corrupt index, or a HEAD git cannot read (the history scan says so)
            self.warnings.append(f"the index could not be read, staged files are not looked at: {first_line(err)}")
            return {}
        tokens = out.split(b"\0")
        staged: dict[str, list[str]] = {}
        null = null_id()
        listed = 0
        for i in range(0, len(tokens) - 1, 2):
            meta, raw_path = tokens[i].split(), tokens[i + 1]
            # b":100644 100644 <old> <new> M"
            if len(meta) != 5 or meta[1] not in _FILE_MODES or meta[3] == null or meta[4][:1] not in b"AMT":
                continue
            if not raw_path.endswith(b".py"):
                continue
            listed += 1
            if listed > MAX_STAGED:
                self.warnings.append(f"more than {MAX_STAGED:,} .py files staged: the rest of the index was not read")
                break
            path = raw_path.decode("utf-8", "surrogateescape")
            staged.setdefault(meta[3].decode("ascii"), []).append(path)
        return staged

    def _cat(self, staged: dict[str, list[str]]) -> Iterator[tuple[str, bytes]]:
        cat = CatFile(self.repo, set())
        for sha in staged:
            cat.request(sha)
        cat.close_requests()
        for sha, data in cat.answers():
            if data is None:
                reason = cat.reasons.get(sha) or "object missing from the repository or unreadable"
                self.unreadable.append(Unreadable(sha, staged[sha][0], None, f"staged in the index: {reason}"))
                continue
            yield sha, data

    def _sightings_of(self, sha: str, data: bytes, paths: list[str], date: str | None) -> Iterator[Sighting]:
        blob = sha
        if is_pointer(data):
            found = object_of(self.repo.common_dir, data)
            if isinstance(found, str):
                self.unreadable.append(Unreadable(sha, paths[0], None, f"staged in the index: {found}"))
            if not isinstance(found, bytes):
                return
            data, blob = found, git_blob_id(found)
        if not looks_like_revision(data):
            return
        parsed = parse_revision(data)
        if parsed is None:
            return
        self._staged.add(sha)
        self._staged.add(blob)
        self._parsed[blob] = parsed
        self._contents[blob] = data
        for path in paths:
            yield Sighting(blob, "index", "seen", None, None, path, date)

    # -- Source protocol -------------------------------------------------------------------
    def iter_sightings(self) -> Iterator[Sighting]:
        self.read()
        assert self._sightings is not None
        yield from self._sightings

    def content(self, blob: str) -> bytes:
        return self._contents[blob]

    def parsed(self, blob: str) -> RevisionFile | Unparseable:
        return self._parsed[blob]


def index_path(repo: Repository) -> Path:
    """The index file of the work tree this repository handle reads (a linked worktree has its own)."""
    return repo.git_dir / "index"


def _index_date(repo: Repository) -> str | None:
    """When the index was last written: what is staged was staged then or before, and is newer than
    any dangling blob an earlier ``git add`` of the same file left (as a work-tree file's mtime)."""
    try:
        stamp = os.stat(index_path(repo)).st_mtime
    except OSError:
        return None
    return datetime.fromtimestamp(stamp, tz=timezone.utc).isoformat(timespec="seconds")


STAGED_FILE = "staged.json"
_FORMAT = 1
#: an index written less than this long ago may be written again within the same clock tick
_RACY_NS = 2_000_000_000


def _index_key(repo: Repository) -> list[object] | None:
    """What identifies the index's content and what it is compared with; None without an index."""
    try:
        info = os.stat(index_path(repo))
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    return [str(repo.git_dir), repo.head, info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino]


def _store(repo: Repository) -> Path:
    return repo.common_dir / CACHE_DIR / STAGED_FILE


def _load(repo: Repository, key: list[object]) -> dict[str, list[str]] | None:
    """The listing stored for exactly this index and HEAD; None otherwise (or unreadable: rebuilt)."""
    try:
        doc = json.loads(read_regular(_store(repo), 16 << 20, follow=False))
        entry = doc["entries"][str(repo.git_dir)]
        if doc.get("format") != _FORMAT or doc.get("tool") != __version__ or entry["key"] != key:
            return None
        return {str(blob): [str(p) for p in paths] for blob, paths in entry["staged"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _save(repo: Repository, key: list[object], staged: dict[str, list[str]]) -> None:
    """Store the listing unless the index is too fresh to tell from its next write; never raises."""
    if time.time_ns() - int(key[3]) < _RACY_NS:  # type: ignore[call-overload]  # key[3]: the index's mtime_ns
        return
    path = _store(repo)
    try:
        try:
            doc = json.loads(read_regular(path, 16 << 20, follow=False))
            entries = doc["entries"] if doc.get("format") == _FORMAT and doc.get("tool") == __version__ else {}
            entries = dict(entries) if isinstance(entries, dict) else {}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            entries = {}
        entries[str(repo.git_dir)] = {"key": key, "staged": staged}  # one per worktree
        data = json.dumps({"format": _FORMAT, "tool": __version__, "entries": entries}).encode()
        path.parent.mkdir(exist_ok=True)
        replace_cache_file(path, data, prefix=".staged-")
    except OSError:
        pass
