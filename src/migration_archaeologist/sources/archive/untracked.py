"""Untracked and ignored files of a work tree: where hand-made backups and stray archives live."""

from __future__ import annotations

import os
from pathlib import Path

from migration_archaeologist.sources.archive.git_command import run_git
from migration_archaeologist.sources.archive.names import BYTECODE_SUFFIXES

#: Directories :func:`untracked_files` never reports: tooling, dependencies, and bytecode (another source's job).
_UNTRACKED_SKIP = frozenset({".git", ".venv", "venv", "node_modules", "__pycache__", "site-packages"})


def untracked_files(repo_root: Path) -> list[Path]:
    """Untracked and ignored files of a work tree: where hand-made backups and stray archives live.

    Dependency and tooling trees (.git, virtualenvs, node_modules, site-packages) and bytecode are
    left out. Returns ``[]`` when ``repo_root`` is not a git work tree.
    """
    root = Path(repo_root).resolve()
    result: set[Path] = set()
    for extra in ((), ("--ignored",)):
        out = run_git(str(root), "ls-files", "--others", *extra, "--exclude-standard", "-z")
        if isinstance(out, str):
            return []
        for raw in out.split(b"\0"):
            if not raw:
                continue
            rel = os.fsdecode(raw)
            parts = rel.split("/")
            if _UNTRACKED_SKIP.intersection(parts) or parts[-1].endswith(BYTECODE_SUFFIXES):
                continue
            result.add(root / rel)
    return sorted(result)
