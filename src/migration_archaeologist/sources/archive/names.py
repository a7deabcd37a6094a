"""Which names inside folders and archives are worth reading, and which are refused.

Candidates are revision files and their backup spellings, archives are recognised by suffix,
and a member name that would land outside a destination if extracted is refused even though
nothing is ever extracted.
"""

from __future__ import annotations

import re

#: Joins an archive's path and a member's path in ``Sighting.path`` (jar-URL style).
SEPARATOR = "!"

_ZIP_SUFFIXES = (".zip",)
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
