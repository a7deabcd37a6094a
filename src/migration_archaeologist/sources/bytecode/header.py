"""The fixed-size header of a ``.pyc``: magic numbers and which Python wrote it.

Read by hand, never by importing: it is what tells a blob or archive member it is bytecode at
all, which Python wrote it, and so whether its body can be read (CPython 3.8-3.13, by
``marshal_reader``) or only this header (any other version).
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from datetime import datetime, timezone

from migration_archaeologist.sources.bytecode.opcode_tables import hand_kept_ranges, release_magics

#: magic number -> "3.X": each release's final magic number, asked of its own interpreter
#: (``importlib.util.MAGIC_NUMBER``) by ``tools/generate_opcode_tables.py``; a pre-release magic
#: number of those releases is "unknown".
_RELEASE_MAGICS: dict[int, str] = release_magics()
#: (first, last, "3.X") ranges for releases no interpreter was asked for (3.0-3.5, 3.14, 3.15),
#: kept by hand in that script (Lib/importlib/_bootstrap_external.py): the header only.
_MAGIC_RANGES: tuple[tuple[int, int, str], ...] = hand_kept_ranges()
CURRENT_MAGIC = int.from_bytes(importlib.util.MAGIC_NUMBER[:2], "little")
CURRENT_PYTHON = "{}.{}".format(*sys.version_info[:2])
HEADER_SIZE = 16  # 3.7+ (PEP 552); 3.3-3.6 used 12 bytes


@dataclass(frozen=True)
class PycHeader:
    """The fixed-size header of a ``.pyc``: which Python wrote it and how it names its source."""

    magic: int
    python: str | None  # "3.11"; None for a plausible but unknown magic number
    flags: int  # PEP 552: bit 0 hash-based, bit 1 check_source
    source_hash: bytes | None  # SipHash of the .py, for hash-based pycs
    source_mtime: int | None  # the .py's mtime when it was compiled (timestamp pycs)
    source_size: int | None  # the .py's size in bytes (timestamp pycs), modulo 2**32


def _python_of(magic: int) -> str | None:
    if magic == CURRENT_MAGIC:
        return CURRENT_PYTHON
    if magic in _RELEASE_MAGICS:
        return _RELEASE_MAGICS[magic]
    for first, last, version in _MAGIC_RANGES:
        if first <= magic <= last:
            return version
    return None


def magic_of(data: bytes) -> int | None:
    """The magic number if ``data`` starts like a CPython 3 pyc, else None."""
    if len(data) < 4 or data[2:4] != b"\r\n":
        return None
    magic = int.from_bytes(data[:2], "little")
    return magic if 3000 <= magic < 4000 else None


def read_header(data: bytes) -> PycHeader | None:
    """Parse the header; None when ``data`` is not a CPython 3 pyc (too short, bad magic)."""
    magic = magic_of(data)
    if magic is None:
        return None
    python = _python_of(magic)
    if magic < 3390:  # before PEP 552: magic, mtime, size (size only from 3.3)
        if len(data) < 12:
            return None
        return PycHeader(
            magic,
            python,
            0,
            None,
            int.from_bytes(data[4:8], "little"),
            int.from_bytes(data[8:12], "little"),
        )
    if len(data) < HEADER_SIZE:
        return None
    flags = int.from_bytes(data[4:8], "little")
    if flags & 1:
        return PycHeader(magic, python, flags, bytes(data[8:16]), None, None)
    return PycHeader(
        magic,
        python,
        flags,
        None,
        int.from_bytes(data[8:12], "little"),
        int.from_bytes(data[12:16], "little"),
    )


def header_summary(header: PycHeader) -> str:
    if header.source_hash is not None:
        checked = "checked" if header.flags & 2 else "unchecked"
        return f"{checked} hash-based, source hash {header.source_hash.hex()}"
    when = datetime.fromtimestamp(header.source_mtime or 0, tz=timezone.utc).isoformat(timespec="seconds")
    return f"source mtime {when}, source size {header.source_size} bytes"
