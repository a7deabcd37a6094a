"""Which names inside folders and archives are worth reading, and which are refused.

Candidates are revision files and their backup spellings, archives are recognised by suffix,
and a member name that would land outside a destination if extracted is refused even though
nothing is ever extracted.
"""

from __future__ import annotations

import re

#: Joins an archive's path and a member's path in ``Sighting.path`` (jar-URL style).
SEPARATOR = "!"

#: Zips by another name: wheels, eggs, zipapps, Java-style archives a Python app may be shipped in.
_ZIP_SUFFIXES = (".zip", ".whl", ".egg", ".pyz", ".jar", ".war", ".ear")
_TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
_BUNDLE_SUFFIXES = (".bundle",)
BYTECODE_SUFFIXES = (".pyc", ".pyo", ".pyd")


def archive_kind(name: str) -> str | None:
    lower = name.lower()
    if lower.endswith(_ZIP_SUFFIXES):
        return "zip"
    if lower.endswith(_TAR_SUFFIXES):
        return "tar"
    if lower.endswith(_BUNDLE_SUFFIXES):
        return "bundle"
    return None


ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
#: How much of a file's start :func:`sniff_kind` looks at (a tar header is 512 bytes).
SNIFF_BYTES = 512


def sniff_kind(head: bytes) -> str | None:
    """An archive recognised by its first bytes, whatever it is named (image layers have no suffix).

    A compressed stream is taken for a tarball: that is what gzip, bzip2 and xz hold in images and sdists.
    """
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if head.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00")):
        return "tar"
    if head[257:262] == b"ustar" or head.startswith(ZSTD_MAGIC):  # zstd: refused with a note when read
        return "tar"
    return None


def is_sniffable(name: str) -> bool:
    """Members whose content is looked at: no suffix, under ``blobs/`` (OCI image blobs are named by digest).

    Other members are judged by name only, so an archive of many files is not opened member by member.
    """
    parts = name.replace("\\", "/").split("/")
    return "." not in parts[-1] and "blobs" in parts[:-1]


def is_candidate(name: str) -> bool:
    """``*.py``, its backup spellings (``x.py.bak``, ``x.py~``) and ``.pyc`` (rebuilt, never run)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    lower = base.lower()
    return ".py" in base and (lower.endswith(".pyc") or not lower.endswith(BYTECODE_SUFFIXES))


_DRIVE_RE = re.compile(r"^[A-Za-z]:")


def unsafe_name(name: str) -> str | None:
    """Names that would land outside a destination if extracted: refused even though we never extract."""
    if name.startswith(("/", "\\")) or _DRIVE_RE.match(name):
        return f"member {name!r} has an absolute path: not read"
    if ".." in re.split(r"[/\\]", name):
        return f"member {name!r} escapes the archive: not read"
    return None
