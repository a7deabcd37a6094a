"""Writing a rendered report to a file: all of it or nothing, so a reader never sees half a report."""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path

from migration_archaeologist.errors import ArchaeologistError, EnvironmentProblem, UsageError
from migration_archaeologist.files.atomic import replace_file
from migration_archaeologist.files.untrusted import kind_of


def write_report(path: Path, data: bytes) -> None:
    """Reports are ours to replace; revision files never go through here (restore links them in and
    refuses to overwrite).

    A regular file (or none) is replaced atomically. A character device or FIFO (``/dev/null``, a
    pipe a reader waits on), or a symlink to one (``/dev/stdout``), is written through, as a shell's
    ``>`` does: replacing it would put a regular file where the device node was. A symlink to anything
    else is refused, never replaced and never followed: a committed link could point at anyone's file."""
    if path.is_dir():
        raise UsageError(f"cannot write {path}: it is a directory")
    try:
        here = os.lstat(path).st_mode
    except FileNotFoundError:
        here = None
    except OSError as exc:
        raise _cannot(path, exc) from None
    own = _own_descriptor(path) if here is not None and stat.S_ISLNK(here) else None
    if own is not None:  # /dev/stdout, /dev/fd/3: what the shell gave us, written as standard output is
        _write_all(own, data, path)
        return
    if here is not None and not stat.S_ISREG(here):
        _write_through(path, data, linked=stat.S_ISLNK(here))
        return
    try:
        replace_file(path, data, prefix=f".{path.name}.")
    except OSError as exc:
        raise _cannot(path, exc) from None


def _write_through(path: Path, data: bytes, *, linked: bool) -> None:
    """Write into the character device or FIFO at ``path`` (or a link's); refuse anything else."""
    try:
        target = os.stat(path).st_mode
    except OSError:
        target = None
    if target is None or not (stat.S_ISCHR(target) or stat.S_ISFIFO(target)):
        kind = "nothing" if target is None else ("a regular file" if stat.S_ISREG(target) else kind_of(target))
        if linked:
            raise UsageError(
                f"cannot write {path}: it is a symbolic link to {kind}, which is never written through: name the file itself"
            )
        raise UsageError(f"cannot write {path}: it is {kind}, not a regular file, a character device or a FIFO")
    try:
        # no O_TRUNC and no O_CREAT: what is opened must still be a device or FIFO, checked on the descriptor
        fd = os.open(path, os.O_WRONLY | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise _cannot(path, exc) from None
    try:
        opened = os.fstat(fd).st_mode
        if not (stat.S_ISCHR(opened) or stat.S_ISFIFO(opened)):
            raise UsageError(f"cannot write {path}: it changed while being opened; nothing was written")
        _write_all(fd, data, path)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes, path: Path) -> None:
    view = memoryview(data)
    try:
        while view:
            view = view[os.write(fd, view) :]
    except OSError as exc:
        raise _cannot(path, exc) from None


_OWN_FD = re.compile(r"^/(?:proc/self|dev)/fd/(\d+)$")


def _own_descriptor(path: Path) -> int | None:
    """N when the symlink ``path`` leads (link by link) to ``/proc/self/fd/N`` or ``/dev/fd/N``, as
    ``/dev/stdout`` does: one of our own open descriptors."""
    current = str(path)
    for _ in range(8):
        try:
            target = os.readlink(current)
        except OSError:
            return None
        current = os.path.normpath(os.path.join(os.path.dirname(current), target))
        found = _OWN_FD.match(current)
        if found:
            return int(found.group(1))
    return None


#: A disk that is full, over quota, failing or read-only: the machine's trouble (exit 3), not a path
#: the user got wrong (exit 2).
_MACHINE = {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS}


def _cannot(path: Path, exc: OSError) -> ArchaeologistError:
    """The one-line error of a report that could not be written."""
    message = f"cannot write {path}: {exc.strerror or exc}"
    return EnvironmentProblem(message) if exc.errno in _MACHINE else UsageError(message)
