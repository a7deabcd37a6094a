"""The sources a scan reads besides git's history: the work tree's untracked files and archives, the
bytecode a cleanup left in the versions directories, the documents that name revisions; and history
without what other environments' versions directories saw."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING
from collections.abc import Sequence

from migration_archaeologist.sources.git.repository import Repository

if TYPE_CHECKING:
    from migration_archaeologist.sources.archive.source import ArchiveSource

#: Untracked or ignored files bigger than this are not opened unless named with --archive.
UNTRACKED_ARCHIVE_LIMIT = 64 * 1024 * 1024
_ARCHIVE_NAMES: tuple[str, ...] = (".zip", ".bundle", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
_ARCHIVE_NAMES += (".whl", ".egg", ".pyz", ".jar")  # deployed artefacts: zips by another name


def list_untracked(root: Path) -> list[Path]:
    from migration_archaeologist.sources.archive.untracked import untracked_files

    return untracked_files(root)


def find_archive_source(
    repo: Repository, archives: Sequence[Path | str] | None, untracked: list[Path] | None = None
) -> ArchiveSource | None:
    """--archive paths as given, else the work tree's untracked and ignored files (``untracked``
    when they were listed already)."""
    from migration_archaeologist.sources.archive.findings import ArchiveIssue
    from migration_archaeologist.sources.archive.source import ArchiveSource

    root = repo.work_tree
    if archives:
        return ArchiveSource([Path(a).resolve() for a in archives], root=root, objects=repo.common_dir / "objects")
    if root is None:
        return None
    # Ignored files include build output and data dumps: big archives there are read only on request.
    loose: list[Path] = []
    skipped: list[tuple[Path, int]] = []
    for path in untracked if untracked is not None else list_untracked(root):
        size = 0
        if path.name.lower().endswith(_ARCHIVE_NAMES):
            try:
                size = path.stat().st_size
            except OSError:
                continue
        if size > UNTRACKED_ARCHIVE_LIMIT:
            skipped.append((path, size // (1024 * 1024)))
        else:
            loose.append(path)
    if not loose and not skipped:
        return None
    # by name only: an untracked log is no archive
    source = ArchiveSource(loose, root=root, named=False, objects=repo.common_dir / "objects")
    for path, size in skipped:
        source.issues.append(
            ArchiveIssue(
                str(path.relative_to(root)),
                None,
                f"untracked file of {size} MiB not read by default: pass --archive to read it",
            )
        )
    return source


def find_bytecode_source(repo: Repository, dirs: Sequence[Path]):  # type: ignore[no-untyped-def]
    """``__pycache__`` and sourceless ``.pyc`` files in the versions directories: what a cleanup left behind."""
    if repo.work_tree is None:
        return None
    from migration_archaeologist.files.untrusted import BoundedWalk

    pycs: list[Path] = []
    notes: list[str] = []
    for folder in dirs:
        if not folder.is_dir():
            continue
        bounded = BoundedWalk()  # ``--versions /`` would otherwise walk the whole disk
        found = [
            Path(dirpath) / name
            for dirpath, _dirs, names in bounded.walk(folder)
            for name in names
            if name.endswith(".pyc")
        ]
        pycs.extend(sorted(found))
        if bounded.cut_short:
            notes.append(bounded.note(folder))
    if not pycs and not notes:
        return None
    from migration_archaeologist.sources.bytecode.source import BytecodeSource

    source = BytecodeSource(pycs, root=repo.work_tree)
    source.issues.extend(notes)
    return source


class OutsideOf:
    """A history source without what it saw in other environments' versions directories: a sibling
    chain (``versions/sqlite`` beside ``versions/postgresql``) is neither lost from this one nor
    restored into it."""

    def __init__(self, source, folders: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
        self._source = source
        self._folders = folders

    def iter_sightings(self):  # type: ignore[no-untyped-def]
        folders = self._folders
        for sighting in self._source.iter_sightings():
            if sighting.path and sighting.path.startswith(folders):
                continue
            yield sighting

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self._source, name)


def prefetch_documents(repo: Repository, cache: bool):  # type: ignore[no-untyped-def]
    """The evidence cache (in memory only without ``cache``), the work tree's files, a helper
    indexing the documents the cache does not know (None when they are few), and the documents' ``stat``."""
    from migration_archaeologist.sources.docs import prefetch as doc_prefetch
    from migration_archaeologist.sources.docs.cache import CACHE_FILE, EvidenceCache
    from migration_archaeologist.sources.docs.documents import worktree_files as _worktree_files
    from migration_archaeologist.sources.git.cache import cache_path

    assert repo.work_tree is not None
    store = EvidenceCache(cache_path(repo).with_name(CACHE_FILE) if cache else None, repo.work_tree)
    tracked = _worktree_files(repo.work_tree, repo.git_dir)
    if tracked is None:  # not a work tree git lists: find_mentions walks the folder itself
        return store, None, None, None
    seen: dict[str, os.stat_result] = {}
    return store, tracked, doc_prefetch.start(repo.work_tree, tracked, store, store.salt, seen), seen
