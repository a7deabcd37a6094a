"""What a scan saw of the repository (refs, reflog files, packs, loose objects, the shallow boundary),
read cheaply: a rescan compares it with the stored one to tell "unchanged" from "grown" from "rewritten".
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migration_archaeologist.sources.git.repository import Repository


@dataclass(frozen=True)
class RepositoryState:
    """What a scan saw of the repository: enough to tell "unchanged" from "grown" from "rewritten"."""

    head: str | None
    refs: Mapping[str, str]  # refname -> object id, as for-each-ref lists them
    reflogs: Mapping[str, tuple[int, int]]  # reflog (git's name for it) -> (size, mtime_ns)
    packs: frozenset[str]  # pack file names: content-addressed, a name never changes meaning
    loose: frozenset[str]  # loose object ids
    boundary: str  # shallow, grafts, alternates and worktree HEADs, as one checksum

    def to_json(self) -> dict[str, Any]:
        return {
            "head": self.head,
            "refs": self.refs,
            "reflogs": self.reflogs,  # tuples are written as lists
            "packs": sorted(self.packs),
            "loose": sorted(self.loose),
            "boundary": self.boundary,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> RepositoryState:
        return cls(
            head=doc["head"],
            refs={str(k): str(v) for k, v in doc["refs"].items()},
            reflogs={str(k): (int(v[0]), int(v[1])) for k, v in doc["reflogs"].items()},
            packs=frozenset(map(str, doc["packs"])),
            loose=frozenset(map(str, doc["loose"])),
            boundary=str(doc["boundary"]),
        )


def read_state(repo: Repository) -> RepositoryState | None:
    """The repository's state, read cheaply (one for-each-ref, directory listings); None if it cannot be followed.

    The reftable ref backend keeps reflogs in binary tables this module does not read: no cache there.
    """
    common = repo.common_dir
    if (common / "reftable").exists():
        return None
    out = repo.run("for-each-ref", "--format=%(objectname) %(refname)", check=False)
    refs: dict[str, str] = {}
    for line in out.decode("utf-8", "surrogateescape").splitlines():
        sha, _, name = line.partition(" ")
        if name:
            refs[name] = sha
    return RepositoryState(
        head=repo.head,
        refs=refs,
        reflogs=_reflog_stats(common),
        packs=_packs(common / "objects"),
        loose=_loose(common / "objects"),
        boundary=_boundary(repo),
    )


def reflog_files(common: Path) -> list[tuple[str, str]]:
    """Every reflog file of git's files backend, named as git names its ref (HEAD, worktrees/<n>/HEAD, refs/...).

    Plain strings and os.walk: a clone with 10,000 remote branches has 10,000 reflogs, and pathlib
    objects for each cost more than reading them.
    """
    base = str(common)
    head_logs = [("HEAD", os.path.join(base, "logs", "HEAD"))]
    worktrees = os.path.join(base, "worktrees")
    if os.path.isdir(worktrees):
        head_logs += [
            (f"worktrees/{w}/HEAD", os.path.join(worktrees, w, "logs", "HEAD")) for w in sorted(os.listdir(worktrees))
        ]
    files = [(name, path) for name, path in head_logs if os.path.isfile(path)]
    logs_refs = os.path.join(base, "logs", "refs")
    cut = len(logs_refs) + 1
    for dirpath, _dirs, names in os.walk(logs_refs):
        prefix = "refs/" + dirpath[cut:].replace(os.sep, "/") + "/" if len(dirpath) > len(logs_refs) else "refs/"
        for name in names:
            files.append((prefix + name, os.path.join(dirpath, name)))
    return files


def _reflog_stats(common: Path) -> dict[str, tuple[int, int]]:
    stats: dict[str, tuple[int, int]] = {}
    for ref, path in reflog_files(common):
        try:
            st = os.stat(path)
        except OSError:
            continue
        stats[ref] = (st.st_size, st.st_mtime_ns)
    return stats


def _packs(objects: Path) -> frozenset[str]:
    try:
        return frozenset(n for n in os.listdir(objects / "pack") if n.endswith(".pack"))
    except OSError:
        return frozenset()


def _loose(objects: Path) -> frozenset[str]:
    found: set[str] = set()
    try:
        folders = [n for n in os.listdir(objects) if len(n) == 2]
    except OSError:
        return frozenset()
    for folder in folders:
        try:
            found.update(folder + name for name in os.listdir(objects / folder) if len(name) >= 38)
        except OSError:
            continue
    return frozenset(found)


def _boundary(repo: Repository) -> str:
    """Files that change what history means without touching refs: shallow, grafts, alternates, worktree HEADs."""
    common = repo.common_dir
    parts = [common / "shallow", common / "info" / "grafts", common / "objects" / "info" / "alternates"]
    worktrees = common / "worktrees"
    if worktrees.is_dir():
        parts += sorted(w / "HEAD" for w in worktrees.iterdir())
    crc = 0
    for path in parts:
        try:
            crc = zlib.crc32(str(path).encode() + b"\0" + path.read_bytes(), crc)
        except OSError:
            crc = zlib.crc32(str(path).encode() + b"\0-", crc)
    return f"{crc:08x}"
