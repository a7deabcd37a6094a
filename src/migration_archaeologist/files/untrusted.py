"""Opening files we did not write: regular files only, opened without blocking, read with a size cap.

A repository is input like any other: a committed symlink from the lock or manifest name to a file
elsewhere would have us write through it, and a FIFO, a device or a link to ``/dev/zero`` where a
configuration file or the manifest should be would hang a scan or fill memory. ``O_NONBLOCK`` makes
the open of a FIFO return at once, and ``fstat`` on the descriptor (not the name, which can change
in between) decides before a byte is read.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from collections.abc import Iterator
from typing import Any

#: alembic.ini, pyproject.toml, env.py: real ones are a few kB
CONFIG_LIMIT = 8 * 1024 * 1024
#: the provenance manifest: about 500 bytes a record, so some 100,000 restored files
MANIFEST_LIMIT = 64 * 1024 * 1024

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


class NotRegularFile(OSError):
    """The name is a symlink (where none is followed), FIFO, device, socket or folder."""

    def __init__(self, path: Path | str, kind: str) -> None:
        super().__init__(errno.EINVAL, f"it is {kind}, not a regular file", str(path))
        self.kind = kind


class FileTooLarge(OSError):
    """A regular file larger than anything of its kind we would write or read."""

    def __init__(self, path: Path | str, limit: int) -> None:
        super().__init__(errno.EFBIG, f"it is larger than {limit // (1024 * 1024)} MiB", str(path))


def kind_of(mode: int) -> str:
    """What a non-regular file is, in words for a one-line message."""
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "an unusual file"


def open_regular(path: Path | str, flags: int = os.O_RDONLY, *, follow: bool = True, mode: int = 0o666) -> int:
    """A descriptor of the regular file at ``path``, else :class:`NotRegularFile` (nothing opened).

    ``follow=False``: a symlink at ``path`` itself is refused, never followed (files we write)."""
    try:
        fd = os.open(path, flags | _NONBLOCK | _CLOEXEC | (0 if follow else _NOFOLLOW), mode)
    except OSError as exc:
        # ELOOP on Linux, EMLINK on FreeBSD; ENXIO: a FIFO opened for writing with no reader
        if not follow and exc.errno in (errno.ELOOP, errno.EMLINK) and os.path.islink(path):
            raise NotRegularFile(path, "a symbolic link") from None
        if exc.errno == errno.ENXIO:
            raise NotRegularFile(path, _lkind(path)) from None
        raise
    try:
        mode_now = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode_now):
            raise NotRegularFile(path, kind_of(mode_now))
        if _NONBLOCK:
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_regular(path: Path | str, limit: int, *, follow: bool = True) -> bytes:
    """The bytes of the regular file at ``path``, at most ``limit`` (else :class:`FileTooLarge`)."""
    fd = open_regular(path, follow=follow)
    with os.fdopen(fd, "rb") as handle:
        if os.fstat(fd).st_size > limit:
            raise FileTooLarge(path, limit)
        data = handle.read(limit + 1)  # the size can grow after fstat
    if len(data) > limit:
        raise FileTooLarge(path, limit)
    return data


def read_regular_text(
    path: Path | str, limit: int = CONFIG_LIMIT, *, follow: bool = True, errors: str = "strict"
) -> str:
    """:func:`read_regular` decoded as UTF-8 (a UnicodeDecodeError as ``Path.read_text`` gives)."""
    return read_regular(path, limit, follow=follow).decode("utf-8", errors)


def irregular_kind(path: Path | str) -> str | None:
    """What is at ``path`` when it is there and not a regular file (a symlink is not followed)."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return None
    return None if stat.S_ISREG(mode) else kind_of(mode)


def _lkind(path: Path | str) -> str:
    try:
        return kind_of(os.stat(path).st_mode)
    except OSError:
        return "an unusual file"


#: entries (files and folders) one walk of a folder we were pointed at visits before it stops:
#: ``--versions /`` or an archive folder of a whole disk would otherwise run for hours
WALK_LIMIT = 200_000


class BoundedWalk:
    """``os.walk`` that stops after ``limit`` entries; ``cut_short`` says whether it did, for a warning."""

    def __init__(self, limit: int = WALK_LIMIT) -> None:
        self.limit = limit
        self.visited = 0
        self.cut_short = False

    def walk(self, top: Path | str, **kwargs: Any) -> Iterator[tuple[str, list[str], list[str]]]:
        for dirpath, dirnames, filenames in os.walk(top, **kwargs):
            self.visited += len(dirnames) + len(filenames)
            if self.visited > self.limit:
                self.cut_short = True
                return
            yield dirpath, dirnames, filenames

    def note(self, folder: Path | str) -> str:
        """The warning of a walk cut short, naming where."""
        return f"{folder}: more than {self.limit:,} entries, so the walk was cut short: the rest is not read"
