"""The work tree's documents indexed in a helper process while history is walked.

The evidence table needs every document's index (``docs._index_text``), and a first scan of a
real repository has thousands of them: 1-4 s of one core (neutron's 3,135 documents, most of them
``.py`` comments; quay's 1,249). The history walk leaves the second core half idle while git works
alone, so the documents the evidence cache does not know are handed, in small batches, to a helper
(``_parse_worker document``) from the moment a scan starts. The helper indexes them under no known
ID: that index is the same whatever the catalog turns out to be, except for a document that names a
known ID, which ``docs._replay`` then refuses and the scan reads again (a handful).

When the scan needs the evidence, the batches not yet handed over are indexed in this process as
before, and the helper's last answers are awaited: nothing is ever indexed twice, and a helper that
cannot start or dies costs only speed. The helper only reads the files it is given and works on
their text; nothing in them is run.
"""

from __future__ import annotations

import os
import queue
import stat
import threading
from pathlib import Path
from typing import Any
from collections.abc import Sequence

#: Below this much text to index a helper costs more to start (40 ms) than it saves.
MIN_BYTES = 256 * 1024
#: Documents per batch, and batches a helper holds at once (one in hand, one waiting).
BATCH = 16
QUEUED = 2

#: rel -> (size, mtime_ns, blob id, index or None)
Indexed = dict[str, tuple[int, int, str, Any]]


def index_file(item: tuple[str, str, bytes]) -> tuple[int, int, str, Any] | None:
    """The helper's job: ``(path, rel, salt)`` -> (size, mtime_ns, blob id, index under no known ID),
    the size and time as read (the scan compares them with its own ``stat``); None if unreadable."""
    from migration_archaeologist.files.untrusted import open_regular
    from migration_archaeologist.sources.docs import MAX_BYTES, _blob_sha, _decode, _index_text, _Keys, _Scanner

    path, rel, salt = item
    try:
        with os.fdopen(open_regular(path), "rb") as handle:  # O_NONBLOCK: a FIFO is refused, not waited on
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_BYTES:
                return None
            data = handle.read(MAX_BYTES + 1)
    except OSError:
        return None
    if len(data) != info.st_size:
        return None  # changed while read: the scan reads it again
    scanner = _Scanner((), {}, ())
    text = _decode(data)
    index = None if text is None else _index_text(scanner, text, rel, _Keys(scanner, salt))
    return info.st_size, info.st_mtime_ns, _blob_sha(data), index


class DocumentPrefetch:
    """Feeds ``todo`` (work-tree paths with the size and time the scan saw) to a helper until
    :meth:`take` is called."""

    def __init__(self, root: Path, todo: Sequence[tuple[str, int, int]], salt: bytes) -> None:
        from migration_archaeologist.parse.pool import _Helper

        self._root = root
        self.salt = salt
        self._todo = list(reversed(todo))  # popped from the end: the order the scan reads them in
        self._answers: queue.SimpleQueue[tuple[Any, list[Any], list[Any] | None]] = queue.SimpleQueue()
        self._done: Indexed = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._in_flight = 0
        self._helper = _Helper(self._answers, "document")
        self._feeder = threading.Thread(target=self._feed, daemon=True)
        self._feeder.start()

    def _next_batch(self) -> list[Any] | None:
        with self._lock:
            if self._stop.is_set() or not self._todo:
                return None
            batch = [self._todo.pop() for _ in range(min(BATCH, len(self._todo)))]
            self._in_flight += 1
        return [(rel, (str(self._root / rel), rel, self.salt)) for rel, _size, _mtime in batch]

    def _feed(self) -> None:
        for _ in range(QUEUED):
            batch = self._next_batch()
            if batch is None:
                break
            self._helper.send(batch)
        while True:
            with self._lock:
                if self._in_flight == 0:
                    break
            _helper, batch, results = self._answers.get()
            with self._lock:
                self._in_flight -= 1
                if results is None:  # the helper failed: the scan reads what it did not index
                    self._stop.set()
                else:
                    for (rel, _item), result in zip(batch, results, strict=True):  # one result per item
                        if result is not None:
                            self._done[rel] = result
            if results is not None:
                batch = self._next_batch()
                if batch is not None:
                    self._helper.send(batch)

    def take(self) -> Indexed:
        """What the helper indexed; the rest is the caller's to read. Stops the helper."""
        self._stop.set()
        self._feeder.join()
        self._helper.close()
        return self._done


def worktree_documents(
    root: Path, tracked: Sequence[str], known: Any | None, seen: dict[str, os.stat_result] | None = None
) -> list[tuple[str, int, int]]:
    """The work tree's documents that ``known`` (an EvidenceCache, or None) does not hold, with size
    and mtime; ``seen`` is given every document's ``stat``, in ``tracked``'s order (the scan reads
    the documents from it then, and stats them not again)."""
    from migration_archaeologist.sources.docs import MAX_BYTES, _is_doc

    todo = []
    for rel in tracked:
        if not _is_doc(rel):
            continue
        try:
            info = os.stat(root / rel)
        except OSError:
            continue
        if seen is not None:
            seen[rel] = info
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_BYTES:
            continue
        if known is not None and known.peek_file(rel, info.st_size, info.st_mtime_ns):
            continue
        todo.append((rel, info.st_size, info.st_mtime_ns))
    return todo


def start(
    root: Path, tracked: Sequence[str], known: Any | None, salt: bytes, seen: dict[str, os.stat_result] | None = None
) -> DocumentPrefetch | None:
    """A prefetch of the documents ``known`` lacks, or None when there is too little to gain."""
    todo = worktree_documents(root, tracked, known, seen)
    if sum(size for _rel, size, _mtime in todo) < MIN_BYTES:
        return None
    try:
        return DocumentPrefetch(root, todo, salt)
    except OSError:
        return None
