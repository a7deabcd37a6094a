"""Files appear whole or not at all: a temp file beside the target, flushed to disk, then one link or
rename. Restored revisions, synthesized ones, the manifest and reports all go through here."""

from __future__ import annotations

import os
import signal
import tempfile
from contextlib import contextmanager
from pathlib import Path
from collections.abc import Iterator

from migration_archaeologist.errors import EnvironmentProblem


def create_file(path: Path, data: bytes, *, prefix: str) -> None:
    """Write a new file; never replaces one (FileExistsError, nothing written)."""
    with _staged(path.parent, data, prefix) as tmp:
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise
        except OSError:
            # file systems without hard links: check-then-rename is the best they allow
            if os.path.lexists(path):  # a dangling symlink too: never replaced, never written through
                raise FileExistsError(str(path)) from None
            os.rename(tmp, path)


def replace_file(path: Path, data: bytes, *, prefix: str) -> None:
    """Write a file, replacing any there: a reader sees the old one or the new one, never half."""
    with _staged(path.parent, data, prefix) as tmp:
        os.replace(tmp, path)


def replace_cache_file(path: Path, data: bytes, *, prefix: str) -> None:
    """Replace a cache file atomically, without fsync: a cache lost in a crash is rebuilt, and a torn
    one does not parse (the history and evidence caches under the git dir)."""
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@contextmanager
def _staged(folder: Path, data: bytes, prefix: str) -> Iterator[str]:
    tmp: str | None = None
    try:
        # Ctrl-C between mkstemp creating the file and this frame knowing its name would leave it
        # behind (seen under load in CI): the signal waits until the name is held, inside this try
        with _interrupts_deferred():
            fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=folder)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # as a plain open() would: mkstemp makes it 0600
        yield tmp
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


@contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """SIGINT held back (POSIX) for the few instructions inside; delivered as soon as they are done."""
    mask = getattr(signal, "pthread_sigmask", None)
    if mask is None:  # pragma: no cover - not POSIX
        yield
        return
    previous = mask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        mask(signal.SIG_SETMASK, previous)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def cannot_write(folder: Path, exc: OSError) -> EnvironmentProblem:
    """The one-line error of a write into ``folder`` that failed (no permission, disk full, no folder)."""
    return EnvironmentProblem(f"cannot write into {folder}: {exc.strerror or exc}")


def make_folder(folder: Path) -> None:
    """Create ``folder`` (and its parents) to write into; a dangling link, a file where the folder
    should be or no permission is the one-line ``cannot_write`` error, not a traceback."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise cannot_write(folder, exc) from None
