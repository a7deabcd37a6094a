"""What documents said, kept under the git dir, so that a rescan reads only the documents that changed.

``<common git dir>/migration-archaeologist/evidence.json`` (beside the history cache) holds, for
every document the evidence table looked at, what ``index.index_text`` drew from it: the lines
that can name a revision and where each word that could be a revision ID stands. The mentions, and
the evidence rows built from them (status now, claims checked against recovered versions), are
worked out again from that on every scan, with the catalog of the day; so a rescan shows what a
scan without the cache shows.

* a work-tree file is known by its path, size and modification time (nanoseconds), for one work
  tree (a linked worktree of the same repository reads its own files again); one modified in the
  last tenth of a second (two seconds where time stamps are whole seconds) is not stored, as it
  could change again within the same time stamp;
* a committed document version is known by its blob id;
* no document's words are stored, only their hashes keyed with a random salt kept in the file, and
  the lines that name a revision, with database URLs' passwords masked as in every report;
* the file records its format and this tool's version; one from another version, or one that does
  not read back cleanly, is ignored and replaced. It is JSON, never pickle: reading it runs no code,
  and every entry is checked before use (a bad one is a document to read again).

``--no-cache`` neither reads nor writes it. Deleting it is always safe.
"""

from __future__ import annotations

import json
import os
import time
from functools import cached_property
from pathlib import Path
from typing import Any

from migration_archaeologist import __version__
from migration_archaeologist.files.atomic import replace_cache_file

CACHE_FILE = "evidence.json"
#: 2: lines quoting a URL with ?password= are masked before they are stored (a cache of format 1 may hold them)
FORMAT = 2
#: a file modified this recently may change again without its time stamp moving: two seconds where
#: time stamps are whole seconds (FAT keeps two), a tenth of one where they have nanoseconds (the
#: kernel's clock for them ticks every 1-10 ms). With two seconds everywhere, a scan right after a
#: clone or checkout stored nothing, and the next scan indexed every document again.
RACY_NS = 2_000_000_000
FINE_RACY_NS = 100_000_000


class EvidenceCache:
    """The stored indexes, what a scan used of them, and counts of what it had to read."""

    def __init__(self, path: Path | None, work_tree: Path | None = None) -> None:
        self.path = path
        self.work_tree = str(work_tree) if work_tree is not None else None
        self.worktree: dict[str, list[Any]] = {}  # path -> [size, mtime_ns, blob id, index or None]
        self.blobs: dict[str, Any] = {}  # blob id -> index or None (binary, too big)
        self.documents_read = 0  # work-tree files read this scan
        self.versions_read = 0  # committed document versions read this scan
        self._used_worktree: dict[str, list[Any]] = {}
        self._used_blobs: dict[str, Any] = {}
        self._changed = False
        self._foreign: dict[str, list[Any]] = {}
        self._checked: dict[str, bool] = {}  # work-tree entries whose shape was checked
        self._mentions: list[Any] = [None, None]  # [key, rows]: the last scan's mentions and what they came from
        self._mentions_changed = False
        self.salt = os.urandom(16)  # keys the hashes of documents' words; kept with them
        self._started = time.time_ns()
        if path is not None:
            self._load(path)

    def _load(self, path: Path) -> None:
        try:
            doc = json.loads(path.read_bytes())
            if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("tool") != __version__:
                return
            worktree, blobs, salt = doc["worktree"], doc["blobs"], bytes.fromhex(doc["salt"])
            if isinstance(worktree, dict) and isinstance(blobs, dict) and len(salt) == 16:
                self.salt = salt
                self.worktree, self.blobs = worktree, blobs
                mentions = doc.get("mentions")
                if isinstance(mentions, list) and len(mentions) == 2 and isinstance(mentions[0], str):
                    self._mentions = mentions
                if doc.get("work_tree") != self.work_tree:
                    # another linked worktree of the same repository: its files are not these
                    self._foreign = worktree
                    self.worktree = {}
        except Exception:  # missing, truncated, hand-edited: every document is read again
            return

    # ------------------------------------------------------------------ work tree

    def file(self, rel: str, size: int, mtime_ns: int) -> tuple[str, Any] | None:
        """(blob id, index) stored for this version of a work-tree file."""
        entry = self.peek_file(rel, size, mtime_ns)
        if entry is not None:
            self._used_worktree[rel] = entry
            return entry[2], entry[3]
        return None

    def peek_file(self, rel: str, size: int, mtime_ns: int) -> list[Any] | None:
        """The stored entry for this version of a work-tree file, without counting it as used."""
        entry = self.worktree.get(rel)
        if not (isinstance(entry, list) and len(entry) == 4 and entry[0] == size and entry[1] == mtime_ns):
            return None
        valid = self._checked.get(rel)
        if valid is None:  # checked once, however often asked
            valid = self._checked[rel] = isinstance(entry[2], str) and (entry[3] is None or valid_index(entry[3]))
        return entry if valid else None

    def store_file(self, rel: str, size: int, mtime_ns: int, blob: str, index: Any) -> None:
        self.documents_read += 1
        self._changed = True
        if mtime_ns < self._started - (RACY_NS if mtime_ns % 1_000_000_000 == 0 else FINE_RACY_NS):
            self._used_worktree[rel] = [size, mtime_ns, blob, index]
        else:
            self._used_worktree.pop(rel, None)

    # ------------------------------------------------------------------ history

    def version(self, blob: str) -> tuple[bool, Any]:
        """(known, index) stored for a committed document version."""
        if blob in self.blobs:
            index = self.blobs[blob]
        else:
            # a work-tree file as it was at the last scan, committed and then edited (an index does
            # not depend on the path, except for a .py file's, which history never asks for)
            index = self._worktree_blobs.get(blob, False)
            if index is False:
                return False, None
        if index is None or valid_index(index):
            self._used_blobs[blob] = index
            return True, index
        return False, None

    @cached_property
    def _worktree_blobs(self) -> dict[str, Any]:
        return {
            entry[2]: entry[3]
            for rel, entry in (*self._foreign.items(), *self.worktree.items())
            if not rel.endswith(".py") and isinstance(entry, list) and len(entry) == 4 and isinstance(entry[2], str)
        }

    def store_version(self, blob: str, index: Any) -> None:
        self.versions_read += 1
        self._changed = True
        self._used_blobs[blob] = index

    # ------------------------------------------------------------------ the mentions themselves

    def remembered(self, key: str) -> Any:
        """The mentions (as ``mentions`` wrote them) of the last scan whose documents and catalog gave ``key``."""
        return self._mentions[1] if self._mentions[0] == key else None

    def remember(self, key: str, rows: list[Any]) -> None:
        if self._mentions != [key, rows]:
            self._mentions = [key, rows]
            self._mentions_changed = True

    def save(self) -> bool:
        """Keep only what this scan used; written (atomically) only if something differs. Never raises."""
        if self.path is None:
            return False
        if (
            not self._changed
            and not self._mentions_changed
            and not self._foreign
            and (self._used_worktree.keys() == self.worktree.keys() and self._used_blobs.keys() == self.blobs.keys())
        ):
            return False
        doc = {
            "format": FORMAT,
            "tool": __version__,
            "work_tree": self.work_tree,
            "salt": self.salt.hex(),
            "worktree": self._used_worktree,
            "blobs": self._used_blobs,
            "mentions": self._mentions,
        }
        try:
            self.path.parent.mkdir(exist_ok=True)
            _write_bytes(self.path, json.dumps(doc, separators=(",", ":")).encode("utf-8"))
        except (OSError, ValueError):
            return False
        return True


def _ints(value: Any) -> bool:
    return isinstance(value, list) and all(type(v) is int for v in value)


def valid_index(index: Any) -> bool:
    """The shape ``index.index_text`` writes (the word hashes ``t`` only need to be hashable: a
    number or a string that is not one never equals a known ID's)."""
    if not isinstance(index, dict) or not _ints(index.get("b")) or not isinstance(index.get("t"), list):
        return False
    hits, others, comments, lines = index.get("h"), index.get("o"), index.get("c"), index.get("l")
    for positions in (hits, others):
        if not isinstance(positions, dict) or not all(_ints(v) for v in positions.values()):
            return False
    if comments is not None and not _ints(comments):
        return False
    if not isinstance(lines, list):
        return False
    for entry in lines:
        if not (
            isinstance(entry, list)
            and len(entry) == 4
            and type(entry[0]) is int
            and isinstance(entry[1], str)
            and type(entry[2]) is bool
            and (entry[3] is None or (isinstance(entry[3], list) and all(isinstance(c, str) for c in entry[3])))
        ):
            return False
    return True


def _write_bytes(path: Path, data: bytes) -> None:
    replace_cache_file(path, data, prefix=".evidence-")
