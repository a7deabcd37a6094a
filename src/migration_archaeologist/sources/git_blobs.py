"""One ``git cat-file --batch`` process for every blob a scan reads, each distinct blob once.

Requests are written from the thread that discovers them while another thread reads answers, so
git walks history and hands out contents at the same time.
"""

from __future__ import annotations

import subprocess
import threading
from typing import Iterator

from migration_archaeologist.gitrepo import Repository

#: A revision file is source text; anything bigger than this is not one and is not read whole.
MAX_BLOB_SIZE = 8 * 1024 * 1024


class CatFile:
    """A ``git cat-file --batch`` session: ``request`` from one thread, ``answers`` in another."""

    def __init__(self, repo: Repository) -> None:
        self._proc: subprocess.Popen[bytes] = repo.popen("cat-file", "--batch", stdin=subprocess.PIPE)
        self._lock = threading.Lock()
        self._requested: set[str] = set()
        self._stderr: list[bytes] = []
        self._drain = threading.Thread(target=self._drain_stderr, daemon=True)
        self._drain.start()

    def _drain_stderr(self) -> None:
        assert self._proc.stderr is not None
        self._stderr.append(self._proc.stderr.read())

    def request(self, sha: str) -> bool:
        """Ask for ``sha`` unless it was asked for before; False if it was a repeat."""
        with self._lock:
            if sha in self._requested:
                return False
            self._requested.add(sha)
            assert self._proc.stdin is not None
            self._proc.stdin.write(sha.encode("ascii") + b"\n")
            self._proc.stdin.flush()
        return True

    def close_requests(self) -> None:
        with self._lock:
            assert self._proc.stdin is not None
            if not self._proc.stdin.closed:
                self._proc.stdin.close()

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
                    size = int(parts[2])
                    _skip(out, size + 1)
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
        self._drain.join()


def _skip(stream, count: int) -> None:  # type: ignore[no-untyped-def]
    while count > 0:
        chunk = stream.read(min(count, 1 << 20))
        if not chunk:
            break
        count -= len(chunk)
