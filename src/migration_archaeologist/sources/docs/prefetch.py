"""The work tree's documents indexed in a helper process while history is walked.

The evidence table needs every document's index (``index.index_text``), and a first scan of a
real repository has thousands of them: 1-4 s of one core (neutron's 3,135 documents, most of them
``.py`` comments; quay's 1,249). The history walk leaves the second core half idle while git works
alone, so the documents the evidence cache does not know are handed, in small batches, to a helper
(:mod:`.index_worker`) from the moment a scan starts. The helper indexes them under no known
ID: that index is the same whatever the catalog turns out to be, except for a document that names a
known ID, which ``index.replay`` then refuses and the scan reads again (a handful).

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

from migration_archaeologist.parse.pool import Helper
from migration_archaeologist.sources.docs.documents import MAX_BYTES, is_doc

#: Below this much text to index a helper costs more to start (40 ms) than it saves.
MIN_BYTES = 256 * 1024
#: Documents per batch, and batches a helper holds at once (one in hand, one waiting).
BATCH = 16
QUEUED = 2

#: The module the helper runs (``python -m``): it indexes each document it is given.
INDEX_WORKER = "migration_archaeologist.sources.docs.index_worker"

#: rel -> (size, mtime_ns, blob id, index or None)
Indexed = dict[str, tuple[int, int, str, Any]]


class DocumentPrefetch:
    """Feeds ``todo`` (work-tree paths with the size and time the scan saw) to a helper until
    :meth:`take` is called."""

    def __init__(self, root: Path, todo: Sequence[tuple[str, int, int]], salt: bytes) -> None:
        self._root = root
        self.salt = salt
        self._todo = list(reversed(todo))  # popped from the end: the order the scan reads them in
        self._answers: queue.SimpleQueue[tuple[Any, list[Any], list[Any] | None]] = queue.SimpleQueue()
        self._done: Indexed = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._in_flight = 0
        self._helper = Helper(self._answers, INDEX_WORKER)
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
    todo = []
    for rel in tracked:
        if not is_doc(rel):
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
