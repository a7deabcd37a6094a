"""``git cat-file --batch`` sessions that read each distinct blob of a scan once.

Requests are queued by the thread that discovers them and written by a thread of their own (so the
history walk never waits for cat-file), while answers are read by another: git walks history and
hands out contents at the same time.

One corrupt object in a pack makes cat-file print its header and die: the session then names that
object (``corrupt``) and starts a new cat-file for the requests after it, so one bad blob costs
one blob, never the rest of the scan.
"""

from __future__ import annotations

import collections
import queue
import subprocess
import threading
import time
from collections.abc import Set as AbstractSet
from typing import IO, BinaryIO
from collections.abc import Callable, Iterator, Sequence

from migration_archaeologist.sources.git.repository import Repository, first_line

#: A revision file is source text; anything bigger than this is not one and is not read whole.
MAX_BLOB_SIZE = 8 * 1024 * 1024
_BATCH = 64


def too_large(size: int) -> str:
    """Why a blob was not read: a user sees it next to the path, not a "missing" object."""
    return f"too large to be a revision file ({size:,} bytes; files over {MAX_BLOB_SIZE >> 20} MiB are not read)"


#: cat-file deaths in a row, without one answer between, after which git is taken to read nothing
_MAX_RESTARTS = 20


class CatFile:
    """One cat-file process: ``request`` from one thread, ``answers`` in another.

    ``requested`` may be shared between sessions so a blob is never read twice in one scan;
    ``present`` (the object inventory) keeps a partial clone from fetching what it lacks.
    """

    def __init__(self, repo: Repository, requested: set[str], present: AbstractSet[bytes] | None = None) -> None:
        self._repo = repo
        self._lock = threading.Lock()
        self._requested = requested
        self._present = present
        #: blobs not asked for because the object database does not hold them (partial clones)
        self.not_present: list[str] = []
        #: why a request was answered None: git's words for an object cat-file died on (a corrupt
        #: packed object), or the size of one too large to be a revision file
        self.reasons: dict[str, str] = {}
        #: requests written so far, and what they are for: a progress bar's total and label
        self.asked = 0
        self.phase = "reading blobs"
        self._pending: list[bytes] = []
        self._queue: queue.SimpleQueue[list[bytes] | None] = queue.SimpleQueue()
        #: requests written to the running cat-file and not answered yet, oldest first
        self._inflight: collections.deque[bytes] = collections.deque()
        self._write_lock = threading.Lock()  # a restart and a write never interleave
        self._closed = False  # every request written and stdin closed
        self._resent = threading.Event()  # set once a restarted cat-file was sent what the dead one left
        self._resent.set()
        self._start()
        self._writer = threading.Thread(target=self._write_requests, daemon=True)
        self._writer.start()

    def _start(self) -> None:
        self._proc: subprocess.Popen[bytes] = self._repo.popen("cat-file", "--batch", "--buffer", stdin=subprocess.PIPE)
        self._stderr: list[bytes] = []
        self._stderr_thread = threading.Thread(target=self._drain_stderr, args=(self._proc, self._stderr), daemon=True)
        self._stderr_thread.start()

    def _write_requests(self) -> None:
        while (batch := self._queue.get()) is not None:
            with self._write_lock:
                self._resent.wait()
                self._inflight.extend(batch)
                self._send(b"".join(batch))
        with self._write_lock:
            self._resent.wait()
            self._close_stdin()
            self._closed = True

    def _send(self, data: bytes) -> None:
        """Write to the running cat-file; a dead one's requests are sent again when it restarts."""
        stdin = self._proc.stdin
        assert stdin is not None
        try:
            stdin.write(data)
            stdin.flush()
        except (BrokenPipeError, ValueError, OSError):
            pass

    def _close_stdin(self) -> None:
        try:
            self._proc.stdin.close()  # type: ignore[union-attr]
        except (BrokenPipeError, ValueError, OSError):
            pass

    @staticmethod
    def _drain_stderr(proc: subprocess.Popen[bytes], into: list[bytes]) -> None:
        assert proc.stderr is not None
        into.append(proc.stderr.read())

    def _restart(self, bad: bytes | None) -> str:
        """The cat-file died (on ``bad``, when known): its reason, and a new one for what it left."""
        self._proc.wait()
        self._stderr_thread.join()
        self._resent.wait()  # a resend to the dead one ends at once (a broken pipe)
        reason = first_line(b"".join(self._stderr))
        self._close_pipes()
        with self._write_lock:
            self._close_stdin()
            if bad is None and self._inflight:
                bad = self._inflight.popleft()
            resend = list(self._inflight)
            if resend or not self._closed:
                self._start()
                # sent by a thread of its own: its answers can outgrow the pipes before it is all
                # written, and they are read here (the writer waits for it, keeping the order)
                self._resent.clear()
                args = (self._proc.stdin, b"".join(resend), self._closed)
                threading.Thread(target=self._resend, args=args, daemon=True).start()
        return reason.removeprefix("fatal: ")

    def _resend(self, stdin: BinaryIO, data: bytes, then_close: bool) -> None:
        try:
            stdin.write(data)
            stdin.flush()
            if then_close:
                stdin.close()
        except (BrokenPipeError, ValueError, OSError):
            pass
        finally:
            self._resent.set()

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
        """Yield (sha, bytes) per request in order; None for a missing, non-blob, oversize or
        corrupt object (an oversize or corrupt one is also in ``reasons``, saying why)."""
        deaths = 0  # cat-file deaths since the last answer
        while True:
            out = self._proc.stdout
            assert out is not None
            header = out.readline()
            if not header.endswith(b"\n"):
                # cat-file is gone: done, or dead on the oldest request it had not answered
                with self._write_lock:
                    finished = self._closed and not self._inflight
                if finished:
                    break
                bad = self._inflight[0] if self._inflight else None
                deaths += 1
                if deaths > _MAX_RESTARTS:  # git cannot read anything any more: every request left fails
                    yield from self._give_up()
                    break
                reason = self._restart(None)
                if bad is not None:
                    yield self._dead(bad, reason)
                continue
            deaths = 0
            if self._inflight:
                self._inflight.popleft()
            parts = header.split()
            sha = parts[0].decode("ascii", "replace")
            whole = True
            data: bytes | None = None
            if len(parts) != 3 or not parts[2].isdigit() or parts[1] != b"blob":
                # "<sha> missing" / "<sha> ambiguous", or a non-blob (nothing to read then but its body)
                if len(parts) == 3 and parts[2].isdigit():
                    whole = _skip(out, int(parts[2]) + 1)
            elif int(parts[2]) > MAX_BLOB_SIZE:
                whole = _skip(out, int(parts[2]) + 1)
                self.reasons[sha] = too_large(int(parts[2]))
            else:
                size = int(parts[2])
                data = out.read(size)
                whole = len(data) == size and out.read(1) == b"\n"  # the newline after each object
            if not whole:  # it printed the header, then could not read the object
                yield self._dead(parts[0] + b"\n", self._restart(parts[0] + b"\n"))
                deaths = 1
                continue
            yield sha, data
        self._proc.wait()
        self._writer.join()
        self._stderr_thread.join()
        self._close_pipes()

    def _close_pipes(self) -> None:
        """Not left to the collector: PYTHONWARNINGS=error makes that a ResourceWarning."""
        for pipe in (self._proc.stdout, self._proc.stderr):
            if pipe is not None:
                pipe.close()

    def _give_up(self) -> Iterator[tuple[str, None]]:
        """Every request not answered yet, as unreadable, until the last one is written."""
        self._proc.wait()
        self._stderr_thread.join()
        reason = first_line(b"".join(self._stderr)).removeprefix("fatal: ")
        self._close_pipes()
        while True:
            with self._write_lock:
                left, done = list(self._inflight), self._closed
                self._inflight.clear()
            for request in left:
                yield self._dead(request, reason)
            if done:
                break
            time.sleep(0.01)

    def _dead(self, request: bytes, reason: str) -> tuple[str, None]:
        sha = request.strip().decode("ascii", "replace")
        self.reasons[sha] = reason or "git cat-file stopped on it"
        return sha, None


def _skip(stream: IO[bytes], count: int) -> bool:
    """Read past ``count`` bytes; False if the stream ended first."""
    while count > 0:
        chunk = stream.read(min(count, 1 << 20))
        if not chunk:
            return False
        count -= len(chunk)
    return True


def batch_contents(output: bytes, blobs: Sequence[str]) -> dict[str, bytes]:
    """The contents in ``git cat-file --batch`` output for the ``blobs`` asked, in that order; a blob
    git answers ``missing`` for (a partial clone's) or that is no blob is left out."""
    return _answered(output, blobs)[0]


def read_batch(run: Callable[[Sequence[str]], bytes], blobs: Sequence[str]) -> dict[str, bytes]:
    """``batch_contents`` of ``run(blobs)`` (one ``cat-file --batch``); where cat-file died on a
    corrupt object, the blobs after it are asked again, so one bad object costs only itself."""
    found: dict[str, bytes] = {}
    remaining = list(blobs)
    for _attempt in range(_MAX_RESTARTS + 1):
        if not remaining:
            break
        contents, answered = _answered(run(remaining), remaining)
        found.update(contents)
        remaining = remaining[answered + 1 :]  # the one it died on is left out
    return found


def _answered(output: bytes, blobs: Sequence[str]) -> tuple[dict[str, bytes], int]:
    """Contents, and how many requests were answered whole (fewer than asked: git died on the next)."""
    found: dict[str, bytes] = {}
    pos = 0
    for answered, blob in enumerate(blobs):
        end = output.find(b"\n", pos)
        if end < 0:
            return found, answered
        header = output[pos:end].split()
        pos = end + 1
        if len(header) != 3 or not header[2].isdigit():
            continue  # "<sha> missing"
        size = int(header[2])
        if pos + size + 1 > len(output):  # every content is followed by a newline
            return found, answered  # the header, then death: never a cut-off content
        if header[1] == b"blob":
            found[blob] = output[pos : pos + size]
        pos += size + 1
    return found, len(blobs)
