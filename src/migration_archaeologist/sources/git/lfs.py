"""Git LFS pointers: a revision committed through LFS is a small pointer in git and its bytes in
``.git/lfs/objects/<aa>/<bb>/<oid>``.

Only the local LFS store is read: no git-lfs program runs, no filter of the repository runs, nothing
is fetched. An object is trusted only once its sha256 and size match the pointer; a pointer whose
object is not in the store is reported as such (``git lfs fetch`` would bring it).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from migration_archaeologist.files.untrusted import read_regular
from migration_archaeologist.sources.interface import Unreadable

#: Every pointer starts so (the spec: the ``version`` key first, on the first line).
POINTER_PREFIX = b"version https://git-lfs.github.com/spec/v1\n"
#: The spec caps a pointer at 1024 bytes; anything longer is a file that merely starts like one.
MAX_POINTER_SIZE = 1024
#: An LFS object bigger than this is no revision file (the history walk's own cap for a blob).
MAX_OBJECT_SIZE = 8 * 1024 * 1024

_OID = re.compile(rb"^oid sha256:([0-9a-f]{64})$", re.MULTILINE)
_SIZE = re.compile(rb"^size (\d{1,19})$", re.MULTILINE)


@dataclass(frozen=True)
class Pointer:
    """What an LFS pointer names: the object's sha256 and its size in bytes."""

    oid: str
    size: int

    def names(self, data: bytes) -> bool:
        """Whether ``data`` is the object this pointer names: its size and sha256."""
        return len(data) == self.size and hashlib.sha256(data).hexdigest() == self.oid

    def absent(self) -> str:
        """The one line a user reads about a pointer whose object is not in the local store."""
        return (
            f"Git LFS object sha256:{self.oid} ({self.size:,} bytes) not fetched: the tool never goes to the "
            "network; `git lfs fetch` would bring it"
        )


def is_pointer(data: bytes) -> bool:
    """Cheap enough for every blob a scan reads: a prefix and a length."""
    return len(data) <= MAX_POINTER_SIZE and data.startswith(POINTER_PREFIX)


def parse_pointer(data: bytes) -> Pointer | None:
    """The pointer's oid and size; None for anything else (bad input is never an error here)."""
    if not is_pointer(data):
        return None
    oid = _OID.search(data)
    size = _SIZE.search(data)
    if oid is None or size is None:
        return None
    return Pointer(oid.group(1).decode("ascii"), int(size.group(1)))


def object_path(common_dir: Path, oid: str) -> Path:
    """Where git-lfs keeps an object (its default ``lfs.storage``, under the common git dir)."""
    return common_dir / "lfs" / "objects" / oid[:2] / oid[2:4] / oid


@dataclass(frozen=True)
class Resolved:
    """A pointer's object read from the local store, its sha256 and size checked."""

    pointer: Pointer
    data: bytes


def resolve(common_dir: Path, pointer: Pointer) -> Resolved | str:
    """The object's bytes, or why they cannot be trusted or read (one line, for an issue)."""
    if pointer.size > MAX_OBJECT_SIZE:
        return (
            f"Git LFS object sha256:{pointer.oid} is {pointer.size:,} bytes: too large to be a revision "
            f"file (over {MAX_OBJECT_SIZE >> 20} MiB), not read"
        )
    path = object_path(common_dir, pointer.oid)
    try:
        data = read_regular(path, MAX_OBJECT_SIZE, follow=False)
    except FileNotFoundError:
        return pointer.absent()
    except OSError as exc:  # a link, a folder, a FIFO, a file too large, no permission
        return f"Git LFS object sha256:{pointer.oid} not read: {exc}"
    if not pointer.names(data):
        digest = hashlib.sha256(data).hexdigest()
        return (
            f"Git LFS object sha256:{pointer.oid} does not match its pointer (the file holds {len(data):,} "
            f"bytes hashing to sha256:{digest[:16]}…, the pointer says {pointer.size:,} bytes): not trusted"
        )
    return Resolved(pointer, data)


def object_of(common_dir: Path, data: bytes) -> bytes | str | None:
    """For a blob that is an LFS pointer, the object's checked bytes, or why they cannot be had (one
    line); None when ``data`` is no pointer."""
    pointer = parse_pointer(data)
    if pointer is None:
        return None
    resolved = resolve(common_dir, pointer)
    return resolved if isinstance(resolved, str) else resolved.data


_ABSENT = re.compile(r"^Git LFS object sha256:([0-9a-f]{64}) \(.*not fetched")


def fetched_since(common_dir: Path, unreadable: Iterable[Unreadable]) -> bool:
    """Whether an object a stored scan found absent is in the local store now (``git lfs fetch``
    ran since): then the stored scan is not the answer. One ``stat`` per absent object; nothing
    at all for a scan that met no LFS pointer (the store's size never matters)."""
    for item in unreadable:
        found = _ABSENT.match(item.reason)
        if found is not None and object_path(common_dir, found.group(1)).is_file():
            return True
    return False
