"""The versions directory's lock: two ``restore --apply`` runs (or a restore and a synthesize) take turns.

A run holds an advisory lock (``flock``) on ``.migration-archaeologist.lock`` in the versions
directory while it re-checks its plan, writes, updates the manifest and asks Alembic. Another waits
for it (up to ``MA_LOCK_TIMEOUT`` seconds, default 30), then goes on as if it had started after;
past the wait it refuses with exit 3. The lock file is removed when the lock is released; the kernel
releases the lock itself when the process ends in any way (Ctrl-C, kill -9), so a lock file left
behind by a killed run holds nothing and is reused.
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from collections.abc import Iterator

from migration_archaeologist.errors import EnvironmentProblem, UsageError
from migration_archaeologist.files.atomic import cannot_write
from migration_archaeologist.files.untrusted import NotRegularFile, irregular_kind, open_regular
from migration_archaeologist.actions.tool_files import LOCK_NAME, MANIFEST_NAME

try:
    import fcntl
except ImportError:  # Windows: no flock; writes run unlocked, with a warning
    fcntl = None  # type: ignore[assignment]

LOCK_TIMEOUT_ENV = "MA_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT = 30.0


class RestoreBusy(EnvironmentProblem):
    """Another run held the versions directory's lock for longer than we were willing to wait."""


def lock_timeout_setting() -> float:
    """Seconds to wait for another run's lock: ``MA_LOCK_TIMEOUT`` (0 = do not wait), else 30."""
    raw = os.environ.get(LOCK_TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_LOCK_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not math.isfinite(value) or value < 0:
        raise UsageError(f"{LOCK_TIMEOUT_ENV}={raw!r}: expected a number of seconds, 0 or more")
    return value


_held = threading.local()  # the versions directories this thread holds locked, and how deep


@contextmanager
def versions_dir_lock(folder: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold the lock of the versions directory ``folder`` (which must exist); re-entrant per thread.

    Waits up to ``timeout`` seconds (None: :func:`lock_timeout_setting`), then :class:`RestoreBusy`.
    Where the file system or platform has no ``flock``, a warning and no lock."""
    held: dict[str, int] = _held.__dict__.setdefault("dirs", {})
    key = os.path.realpath(folder)
    if key in held:
        held[key] += 1
        try:
            yield
        finally:
            held[key] -= 1
        return
    path = Path(folder) / LOCK_NAME
    fd = _acquire(path, lock_timeout_setting() if timeout is None else timeout)
    try:
        _refuse_irregular_manifest(Path(folder))
    except BaseException:
        _release(path, fd)
        raise
    held[key] = 1
    try:
        yield
    finally:
        del held[key]
        _release(path, fd)


def _acquire(path: Path, timeout: float) -> int | None:
    """The descriptor of ``path``, flock'ed by us and still the file at ``path``; None if unlockable."""
    if fcntl is None:
        tell(
            f"warning: cannot lock {path.parent}: this platform has no flock; a restore running at the same time is not kept out"
        )
        return None
    deadline = time.monotonic() + timeout
    delay = 0.02
    told = False
    fd: int | None = None
    try:
        while True:
            if fd is None:
                try:  # a committed symlink here would have us truncate and write its target
                    fd = open_regular(path, os.O_RDWR | os.O_CREAT, follow=False)
                except NotRegularFile as exc:
                    raise refused(path, exc.kind) from None
                except OSError as exc:
                    raise cannot_write(path.parent, exc) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if not _same_file(fd, path):  # its holder has finished and removed it: take the new one
                    os.close(fd)
                    fd = None
                    continue
                remaining = deadline - time.monotonic()
                holder = _holder(fd)
                if remaining <= 0:
                    pid = f" (pid {holder})" if holder else ""
                    raise RestoreBusy(
                        f"another restore is writing into {path.parent}{pid}; try again when it has finished"
                    ) from None
                if not told and sys.stderr.isatty():  # people get told why nothing happens; logs stay one line
                    tell(
                        f"waiting up to {timeout:g} s for another restore (pid {holder or '?'}) writing into {path.parent}"
                    )
                    told = True
                time.sleep(min(delay, remaining))
                delay = min(delay * 2, 0.2)
                continue
            except OSError as exc:  # NFS without locking, some FUSE and SMB mounts
                tell(
                    f"warning: cannot lock {path} ({exc.strerror or exc}): a restore running at the same time is not kept out"
                )
                _release(path, fd, only_if_empty=True)
                fd = None
                return None
            if not _same_file(fd, path):  # locked a file its holder had just removed: start again
                os.close(fd)
                fd = None
                continue
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            locked, fd = fd, None
            return locked
    finally:
        if fd is not None:
            os.close(fd)


def refused(path: Path, kind: str) -> EnvironmentProblem:
    """The one-line error of a name under the versions directory that is not a regular file."""
    return EnvironmentProblem(f"refusing {path}: it is {kind}, not a regular file; nothing was written (remove it)")


def _refuse_irregular_manifest(folder: Path) -> None:
    """Checked under the lock before anything is written, so no revision file is left without its record."""
    manifest = folder / MANIFEST_NAME
    kind = irregular_kind(manifest)
    if kind is not None:
        raise refused(manifest, kind)


def _release(path: Path, fd: int | None, *, only_if_empty: bool = False) -> None:
    """Remove the lock file (while still holding it, so nobody can be holding that file next) and close."""
    if fd is None:
        return
    try:
        if _same_file(fd, path) and not (only_if_empty and os.fstat(fd).st_size):
            os.unlink(path)
    except OSError:
        pass  # a lock file left behind holds nothing: the next run takes it
    finally:
        os.close(fd)


def _same_file(fd: int, path: Path) -> bool:
    try:
        on_disk = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (mine.st_dev, mine.st_ino) == (on_disk.st_dev, on_disk.st_ino)


def _holder(fd: int) -> str:
    """The pid the lock's holder wrote into it ("" before it has)."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return ""
    return text if text.isdigit() else ""


def tell(line: str) -> None:
    """A line for the person running the command, on stderr, at once (also used by restore)."""
    print(line, file=sys.stderr, flush=True)
