"""The one small protocol every source speaks: a stream of Sightings plus the bytes they point at.

A source never decides what a revision *is*; it only reports where and when a content (named by its
git blob id) was seen. The catalog folds those reports together.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from typing import Protocol
from collections.abc import Iterator

from migration_archaeologist.sources.git.repository import hexsz

#: Where a content was seen. ``worktree`` is a file present on disk now; ``index`` a file staged
#: (``git add``) and never committed.
SOURCES = ("history", "reflog", "stash", "unreachable", "archive", "bytecode", "worktree", "index")
#: The sources whose sightings name a commit and a path in its tree (``git show COMMIT:PATH``).
GIT_SOURCES = ("history", "reflog", "stash", "unreachable")
#: What happened to the path in that place.
EVENTS = ("added", "modified", "deleted", "seen")


@dataclass(frozen=True)
class Sighting:
    """One place and time a version of a revision file was seen."""

    blob: str
    source: str
    event: str
    commit: str | None
    ref: str | None
    path: str | None
    date: str | None  # ISO 8601 with offset, the commit's author date
    #: the submodule's path from the superproject's root when a submodule's git holds it (``commit``
    #: is then the submodule's, ``path`` is seen from the superproject); None for the repository's own
    submodule: str | None = None

    def to_json(self) -> dict[str, str | None]:
        out = {
            "source": self.source,
            "event": self.event,
            "commit": self.commit,
            "ref": self.ref,
            "path": self.path,
            "date": self.date,
        }
        if self.submodule is not None:  # only then: documents without submodules stay as they were
            out["submodule"] = self.submodule
        return out


@dataclass(frozen=True)
class Unreadable:
    """An object a source knew about but could not read (missing from a partial clone, corrupt)."""

    blob: str
    path: str | None
    commit: str | None
    reason: str


class Source(Protocol):
    """Anything that can report sightings of revision files."""

    def iter_sightings(self) -> Iterator[Sighting]:
        """Yield sightings of revision-file contents; contents are then available via ``content``."""

    def content(self, blob: str) -> bytes:
        """The exact bytes of a blob this source yielded a sighting for."""


def git_blob_id(data: bytes) -> str:
    """Git's blob id of ``data``, so one content seen in several sources is one candidate (in the
    object format of the repository read: a SHA-256 repository names its blobs by SHA-256)."""
    digest = hashlib.sha256 if hexsz() == 64 else hashlib.sha1
    return digest(b"blob %d\0" % len(data) + data).hexdigest()


_PYC_SUFFIX = re.compile(r"(\.[A-Za-z]+-\d+)?(\.opt-\d+)?\.pyc$")


@functools.lru_cache(maxsize=1 << 16)
def source_file_name(path: str) -> str:
    """The revision file name a sighting's path stands for.

    ``archive.zip!versions/x.py`` is ``x.py``; ``__pycache__/x.cpython-311.pyc`` is ``x.py``;
    ``old/x.py.bak`` is ``x.py``. Versions of one file share this name wherever they were found.
    """
    name = path.replace("\\", "/").rsplit("!", 1)[-1].rsplit("/", 1)[-1]
    name = _PYC_SUFFIX.sub(".py", name)
    if ".py" in name and not name.endswith(".py"):
        name = name[: name.rindex(".py") + 3]
    return name
