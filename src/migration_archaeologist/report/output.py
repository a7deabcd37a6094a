"""Writing a rendered report to a file: all of it or nothing, so a reader never sees half a report."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from migration_archaeologist.errors import UsageError


def write_report(path: Path, data: bytes) -> None:
    """Temp file beside ``path``, fsync, rename over it. Reports are ours to replace; revision files
    never go through here (restore links them in and refuses to overwrite)."""
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise UsageError(f"cannot write {path}: it is a directory")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        current = os.umask(0)
        os.umask(current)
        os.chmod(tmp, 0o666 & ~current)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
