"""The commits no ref or reflog reaches, shown by a ``git log`` that runs beside the walk's instead of after it."""

from __future__ import annotations

import io
import subprocess
import threading
from concurrent.futures import Future

from migration_archaeologist.sources.git.raw_log import log_args
from migration_archaeologist.sources.git.repository import Repository
from migration_archaeologist.sources.git.unreachable import ObjectInventory, unreachable_commits


class LogAhead:
    """``git log --no-walk`` of commits the walk will need later, run now and kept in memory.

    The commits no ref or reflog reaches (a clone of a mirror holds its pull requests' commits:
    22,000 in indico's, 45% of the store) were shown by a second git log after the walk, on one
    core while the other waited. Listed from the object inventory and ``rev-list --all --reflog``
    early, they are shown by a git log beside the walk's; the walk reads its output after its own.
    It looks like the ``Popen`` :func:`walk_log` reads.
    """

    def __init__(self, repo: Repository, commits: list[str]) -> None:
        self.commits = commits
        self._proc = repo.popen(*log_args(["--no-walk=unsorted"], True), stdin=subprocess.PIPE)
        self._chunks: list[bytes] = []
        self._error = b""
        self.returncode: int | None = None
        self._done = threading.Event()
        self.stdout = self  # read() below
        self.stderr = io.BytesIO()
        threading.Thread(target=self._feed, daemon=True).start()
        threading.Thread(target=self._collect, daemon=True).start()

    def _feed(self) -> None:
        try:
            self._proc.stdin.write("".join(c + "\n" for c in self.commits).encode("ascii"))  # type: ignore[union-attr]
            self._proc.stdin.close()  # type: ignore[union-attr]
        except (BrokenPipeError, ValueError):
            pass

    def _collect(self) -> None:
        assert self._proc.stdout is not None and self._proc.stderr is not None
        err: list[bytes] = []
        drain = threading.Thread(target=lambda: err.append(self._proc.stderr.read()), daemon=True)  # type: ignore[union-attr]
        drain.start()
        while chunk := self._proc.stdout.read(1 << 20):
            self._chunks.append(chunk)
        self._proc.wait()
        drain.join()
        self._proc.stdout.close()
        self._proc.stderr.close()
        self.stderr = io.BytesIO(b"".join(err))
        self.returncode = self._proc.returncode
        self._chunks.reverse()  # read() pops from the end
        self._done.set()

    def read(self, _size: int) -> bytes:
        self._done.wait()
        return self._chunks.pop() if self._chunks else b""

    def wait(self) -> int | None:
        self._done.wait()
        return self.returncode

    def close(self) -> None:
        """Stop git if the walk will not read what it shows."""
        if not self._done.is_set():
            self._proc.kill()
        self._done.wait()
        self._chunks.clear()


#: Fewer commits than this off every ref are shown after the walk, as before: a second git log
#: beside the walk's is worth its start only when it has real work.
LOG_AHEAD_MIN = 500


def log_ahead(repo: Repository, inventory: Future[ObjectInventory]) -> LogAhead | None:
    """A git log of the commits no ref or reflog reaches, started as soon as the inventory is read."""
    try:
        listed = inventory.result()
    except Exception:  # the walk reports what went wrong
        return None
    if len(listed.commits) < LOG_AHEAD_MIN:
        return None
    reached = repo.popen("rev-list", "--all", "--reflog")
    out, _err = reached.communicate()
    if reached.returncode != 0:
        return None  # a missing commit, say: the walk finds out and tells
    lost = unreachable_commits(listed, set(out.split()))
    return LogAhead(repo, lost) if len(lost) >= LOG_AHEAD_MIN else None
