"""Writing a rendered report to a file: all of it or nothing, so a reader never sees half a report."""

from __future__ import annotations

from pathlib import Path

from migration_archaeologist.errors import UsageError
from migration_archaeologist.files import replace_file


def write_report(path: Path, data: bytes) -> None:
    """Reports are ours to replace; revision files never go through here (restore links them in and
    refuses to overwrite)."""
    if path.is_dir():
        raise UsageError(f"cannot write {path}: it is a directory")
    try:
        replace_file(path, data, prefix=f".{path.name}.")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
