"""Which files are documents the evidence table reads, and how they are listed and read.

The work tree's documents (listed by git, else walked), every document version ever committed
(from one ``git log --raw``), and those versions' bytes (one ``cat-file --batch``). Package
managers' lock files, map data and our own manifest are no documents.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from collections.abc import Sequence

from migration_archaeologist.sources.git.cat_file import read_batch
from migration_archaeologist.sources.git.repository import GIT_CONFIG_ARGS, git_env

#: Text files worth reading; ``.py`` files contribute their comments only.
DOC_SUFFIXES = frozenset(
    {".md", ".markdown", ".rst", ".txt", ".ini", ".cfg", ".toml", ".yaml", ".yml", ".json", ".sql", ".log"}
)
#: Extension-less files that are prose by convention.
DOC_STEMS = ("readme", "changelog", "changes", "history", "notes", "news")
MAX_BYTES = 2 * 1024 * 1024


#: our own provenance record after a restore: it names revisions, but it is not evidence of them
_OWN_FILES = ("migration-archaeologist-manifest.json",)


#: written by package managers, not people: package names, versions and integrity hashes, never a
#: revision (on the real repositories measured, a third of what evidence read on quay and CTFd)
_LOCK_FILES = frozenset({"package-lock.json", "npm-shrinkwrap.json", "pnpm-lock.yaml"})
#: map data (coordinates): redash's 19 GeoJSON files were 9.3 of the 15.9 MB evidence read there
_DATA_SUFFIXES = (".geo.json", ".topo.json")


def is_doc(path: str, *, python: bool = True) -> bool:
    """Whether ``path`` is a document the evidence table reads (``python``: a ``.py`` file's comments too).
    Asked of every tracked file and every committed document version: the common answers come first."""
    name = path.rsplit("/", 1)[-1].lower()
    if name.endswith(".py"):
        return python
    if name in _OWN_FILES or (name.startswith("migration-archaeologist-manifest.") and name.endswith(".json")):
        return False
    if name in _LOCK_FILES or name.endswith(_DATA_SUFFIXES):
        return False
    suffix = os.path.splitext(name)[1]
    if suffix in DOC_SUFFIXES:
        return True
    return suffix == "" and name.startswith(DOC_STEMS)


def decode_text(data: bytes) -> str | None:
    if len(data) > MAX_BYTES or b"\0" in data[:8192]:
        return None
    return data.decode("utf-8", errors="replace")


def _git(git_dir: Path | None, root: Path, *args: str) -> list[str]:
    base = ["git"] + (["--git-dir", str(git_dir), "--work-tree", str(root)] if git_dir else ["-C", str(root)])
    return base + list(GIT_CONFIG_ARGS) + list(args)


def blob_sha(data: bytes) -> str:
    from migration_archaeologist.sources.interface import git_blob_id  # the repository's object format

    return git_blob_id(data)


def worktree_files(root: Path, git_dir: Path | None) -> list[str] | None:
    proc = subprocess.run(
        _git(git_dir, root, "ls-files", "-z", "--cached", "--others", "--exclude-standard"),
        capture_output=True,
        env=git_env(),
    )
    if proc.returncode != 0:
        return None
    return sorted({p for p in proc.stdout.decode("utf-8", "surrogateescape").split("\0") if p})


def walk_tree(root: Path) -> list[str]:
    skip = {".git", ".venv", "venv", "node_modules", "__pycache__", ".tox"}
    found = []
    for here, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in skip]
        for name in files:
            found.append((Path(here) / name).relative_to(root).as_posix())
    return sorted(found)


def document_history(root: Path, git_dir: Path | None) -> tuple[dict[tuple[str, str], str], set[str]]:
    """Every (path, blob) of a document ever committed on any ref or reflog entry, with its newest commit."""
    proc = subprocess.run(
        _git(
            git_dir,
            root,
            "log",
            "--all",
            "--reflog",
            "--diff-merges=first-parent",
            "--no-renames",
            "--raw",
            "--no-abbrev",
            "--no-textconv",
            "--no-ext-diff",
            "--format=%x01%H",
        ),
        capture_output=True,
        env=git_env(),
    )
    versions: dict[tuple[str, str], str] = {}
    commits: set[str] = set()
    if proc.returncode != 0:
        return versions, commits
    commit = ""
    for line in proc.stdout.decode("utf-8", "surrogateescape").splitlines():
        if line.startswith("\x01"):
            commit = line[1:].strip()
            commits.add(commit)
        elif line.startswith(":") and "\t" in line:
            meta, path = line.split("\t", 1)
            fields = meta.split()
            if len(fields) < 5 or fields[4].startswith("D") or path.startswith('"'):
                continue
            if is_doc(path, python=False):
                versions.setdefault((path, fields[3]), commit)
    return versions, commits


def read_blobs(root: Path, git_dir: Path | None, blobs: Sequence[str]) -> dict[str, bytes]:
    if not blobs:
        return {}
    return read_batch(
        lambda asked: (
            subprocess.run(
                _git(git_dir, root, "cat-file", "--batch"),
                input=("\n".join(asked) + "\n").encode(),
                capture_output=True,
                env=git_env(),
            ).stdout
        ),
        blobs,
    )
