"""``git cat-file --batch`` sessions that read each distinct blob of a scan once.

Requests are queued by the thread that discovers them and written by a thread of their own (so the
history walk never waits for cat-file), while answers are read by another: git walks history and
hands out contents at the same time.
"""

from __future__ import annotations

import queue
import subprocess
import threading
from typing import AbstractSet, BinaryIO, Iterator, Sequence

from migration_archaeologist.gitrepo import Repository

#: A revision file is source text; anything bigger than this is not one and is not read whole.
MAX_BLOB_SIZE = 8 * 1024 * 1024
_BATCH = 64


class CatFile:
    """One cat-file process: ``request`` from one thread, ``answers`` in another.

    ``requested`` may be shared between sessions so a blob is never read twice in one scan;
    ``present`` (the object inventory) keeps a partial clone from fetching what it lacks.
    """

    def __init__(
        self, repo: Repository, requested: set[str], present: AbstractSet[bytes] | None = None
    ) -> None:
        self._proc: subprocess.Popen[bytes] = repo.popen("cat-file", "--batch", "--buffer", stdin=subprocess.PIPE)
        self._lock = threading.Lock()
        self._requested = requested
        self._present = present
        #: blobs not asked for because the object database does not hold them (partial clones)
        self.not_present: list[str] = []
        #: requests written so far, and what they are for: a progress bar's total and label
        self.asked = 0
        self.phase = "reading blobs"
        self._pending: list[bytes] = []
        self._queue: queue.SimpleQueue[list[bytes] | None] = queue.SimpleQueue()
        self._stderr: list[bytes] = []
        self._threads = [
            threading.Thread(target=self._write_requests, daemon=True),
            threading.Thread(target=self._drain_stderr, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _write_requests(self) -> None:
        stdin = self._proc.stdin
        assert stdin is not None
        try:
            while (batch := self._queue.get()) is not None:
                stdin.write(b"".join(batch))
                stdin.flush()
            stdin.close()
        except (BrokenPipeError, ValueError):
            pass

    def _drain_stderr(self) -> None:
        assert self._proc.stderr is not None
        self._stderr.append(self._proc.stderr.read())

    def request(self, sha: str) -> bool:
        """Ask for ``sha`` unless this scan asked for it before; False if it was a repeat."""
        with self._lock:
            if sha in self._requested:
                return False
            self._requested.add(sha)
            encoded = sha.encode("ascii")
            if self._present is not None and encoded not in self._present:
                self.not_present.append(sha)
                return False
            self._pending.append(encoded + b"\n")
            self.asked += 1
            if len(self._pending) >= _BATCH:
                self._queue.put(self._pending)
                self._pending = []
        return True

    def close_requests(self) -> None:
        with self._lock:
            if self._pending:
                self._queue.put(self._pending)
                self._pending = []
            self._queue.put(None)

    def answers(self) -> Iterator[tuple[str, bytes | None]]:
        """Yield (sha, bytes) per request in order; None for a missing, non-blob or oversize object."""
        out = self._proc.stdout
        assert out is not None
        while True:
            header = out.readline()
            if not header:
                break
            parts = header.split()
            sha = parts[0].decode("ascii", "replace")
            if len(parts) < 3 or parts[1] != b"blob":
                # "<sha> missing" / "<sha> ambiguous", or a non-blob (nothing to read then but its body)
                if len(parts) == 3:
                    _skip(out, int(parts[2]) + 1)
                yield sha, None
                continue
            size = int(parts[2])
            if size > MAX_BLOB_SIZE:
                _skip(out, size + 1)
                yield sha, None
                continue
            data = out.read(size)
            out.read(1)  # the newline after each object
            yield sha, data
        self._proc.wait()
        for thread in self._threads:
            thread.join()
        out.close()  # not left to the collector: PYTHONWARNINGS=error makes that a ResourceWarning
        self._proc.stderr.close()  # type: ignore[union-attr]


def _skip(stream: BinaryIO, count: int) -> None:
    while count > 0:
        chunk = stream.read(min(count, 1 << 20))
        if not chunk:
            break
        count -= len(chunk)


def batch_contents(output: bytes, blobs: Sequence[str]) -> dict[str, bytes]:
    """The contents in ``git cat-file --batch`` output for the ``blobs`` asked, in that order; a blob
    git answers ``missing`` for (a partial clone's) or that is no blob is left out."""
    found: dict[str, bytes] = {}
    pos = 0
    for blob in blobs:
        end = output.find(b"\n", pos)
        if end < 0:
            break
        header = output[pos:end].split()
        pos = end + 1
        if len(header) != 3:
            continue  # "<sha> missing"
        size = int(header[2])
        if header[1] == b"blob":
            found[blob] = output[pos : pos + size]
        pos += size + 1
    return found
