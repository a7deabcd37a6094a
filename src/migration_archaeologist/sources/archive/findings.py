"""What reading archives finds: candidate files, refusals, and where in the nesting we are."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from migration_archaeologist.sources.archive.limits import Budget


@dataclass(frozen=True)
class ArchiveIssue:
    """Something that might have held a revision file and was refused or could not be read."""

    archive: str  # the archive path as given ("outer.tar.gz!inner.zip" for a nested one)
    member: str | None  # member path inside it
    reason: str  # one line


@dataclass(frozen=True)
class Found:
    data: bytes
    path: str  # where it was seen, as sightings show it
    date: str | None
    archive: str = ""  # what a note about it names: the file or archive as given,
    member: str | None = None  # and the member inside it (None: the file itself)
    given: bool = False  # the file was given itself, not found in a folder or an archive
    ref: str | None = None  # an image layer (``layer@{n}``, n below the top) or an installed distribution


@dataclass
class Context:
    """Where we are: the display chain of archives and how deep in nesting."""

    display: str
    budget: Budget
    depth: int = 0
    issues: list[ArchiveIssue] = field(default_factory=list)


def iso_date(stamp: float) -> str | None:
    try:
        return datetime.fromtimestamp(stamp, tz=timezone.utc).isoformat(timespec="seconds")
    except (ValueError, OverflowError, OSError):
        return None


def one_line(text: str) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= 300 else line[:297] + "..."
