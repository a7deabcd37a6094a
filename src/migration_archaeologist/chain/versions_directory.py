"""Which versions directories a scan reads, and where that choice came from: ``--versions``, the
Alembic environment chosen (``-c FILE --name SECTION``) or the only one, else the folder history
kept its revision files in; and the other environments' folders, whose history is theirs."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any
from collections.abc import Sequence

from migration_archaeologist.project.selection import find_configs
from migration_archaeologist.errors import UsageError
from migration_archaeologist.sources.git.repository import Repository
from migration_archaeologist.parse.revision import RevisionFile


def other_environments(repo: Repository, dirs: Sequence[Path], configs: Sequence) -> tuple[str, ...]:  # type: ignore[type-arg]
    """'<folder>/' of every other environment's versions directories (of ``configs``), relative to the
    root, that neither holds nor lies in one of ``dirs``."""
    root = repo.work_tree
    if root is None or not dirs:
        return ()
    mine = [Path(os.path.normpath(d)) for d in dirs]
    found: list[str] = []
    for config in configs:
        for folder in config.versions_dirs:
            folder = Path(os.path.normpath(folder))
            if any(folder == d or d in folder.parents or folder in d.parents for d in mine):
                continue
            try:
                found.append(folder.relative_to(root).as_posix() + "/")
            except ValueError:
                continue
    return tuple(dict.fromkeys(found))


def environments_of(repo: Repository) -> list:  # type: ignore[type-arg]
    """The repository's usable Alembic environments (``config.find_configs``), for ``check`` to judge
    each on its own."""
    return find_configs(repo.work_tree) if repo.work_tree is not None else []


def choose_versions_dirs(  # type: ignore[no-untyped-def]
    repo: Repository,
    versions: Sequence[Path | str],
    found,
    origin: str = "option",
    choice: tuple[Path | None, str | None] = (None, None),
    configs: Sequence = (),  # type: ignore[type-arg]
) -> tuple[tuple[Path, ...], str] | None:
    """The versions directories and where they came from; None when only history can tell and
    ``found`` (the history scan) is not given yet. ``configs``: the repository's environments."""
    root = repo.work_tree
    if versions:
        return tuple(_versions_option(root, Path(v)) for v in versions), origin
    if root is None:
        return (), "none"
    if choice != (None, None):
        from migration_archaeologist.project.selection import select_config
        from migration_archaeologist.project.environments import find_environments

        chosen = select_config(find_environments(root), choice[0], choice[1], work_tree=root)
        return chosen.versions_dirs, f"config {chosen.label(root)}"
    if len(configs) > 1:
        names = ", ".join(c.label(root) for c in configs)
        raise UsageError(
            f"several Alembic environments found ({names}): choose one with -c FILE [--name SECTION] or --versions DIR"
        )
    if configs:
        return configs[0].versions_dirs, f"config {configs[0].label(root)}"
    if found is None:
        return None
    return _history_folder(found, root)


def _history_folder(found: Any, root: Path) -> tuple[tuple[Path, ...], str]:
    """No configuration left (the seed lost alembic.ini too): where do revision files live, or where
    did they live in history? Only folders inside the work tree: a tree entry named '..' (git takes one
    from mktree) or a symlinked folder must not make restore write outside the repository."""
    folders: Counter[str] = Counter()
    holding: Counter[str] = Counter()  # folders whose revision files are in the work tree now
    head = found.head_history
    deleted_on_head: list[tuple[int, str]] = []  # (rank in HEAD's history, folder) of each revision file deleted
    for sha, changes in found.changes.items():
        revision = isinstance(found.parsed.get(sha), RevisionFile)
        for change in changes:
            folder = change.path.rsplit("/", 1)[0] if "/" in change.path else ""
            if revision and change.event == "deleted" and change.commit in head:
                deleted_on_head.append((head[change.commit], folder))
            if plain_relative(folder):
                folders[folder] += 1
                if revision and change.event != "deleted" and (root / change.path).is_file():
                    holding[folder] += 1
    # A folder holding revision files now is what Alembic loads, whatever code configures it (flaskbb
    # sets script_location = flaskbb/migrations in a config dict; its history also had a
    # migrations/versions): history's folders only when none holds one any more (the seed's cleanup)
    if holding:
        folders = holding
    elif deleted_on_head:
        # emptied (the seed's cleanup): where the revision files were just before, i.e. the folders
        # the newest deleting commit on HEAD's history took them from (flaskbb's history also has an
        # older migrations/versions, which a "versions" name or a count would prefer)
        newest = min(rank for rank, _ in deleted_on_head)
        emptied = Counter(
            f for rank, f in deleted_on_head if rank == newest and plain_relative(f) and inside(root, root / f)
        )
        if emptied:
            folders = emptied
    versions_named = [f for f in folders if f.rsplit("/", 1)[-1] == "versions"]
    pool = [f for f in versions_named or list(folders) if inside(root, root / f)]
    if not pool:
        return (), "none"
    # a folder that still exists beats one used more often: a moved versions folder (indico's
    # migrations/ became indico/migrations/) left more history in its old place
    best = max(pool, key=lambda f: ((root / f).is_dir(), folders[f], f))
    return (Path(os.path.normpath(root / best)),), "history"


def plain_relative(folder: str) -> bool:
    """A history path's folder with no '..', '.', empty or absolute part: '' (the top) or 'a/b'."""
    if not folder:
        return True
    parts = folder.replace("\\", "/").split("/")
    return not folder.startswith("/") and all(part not in ("", ".", "..") for part in parts)


def inside(root: Path, path: Path) -> bool:
    """``path`` is ``root`` or under it, lexically and once symlinks are followed."""

    def within(top: Path, candidate: Path) -> bool:
        return candidate == top or top in candidate.parents

    return within(Path(os.path.normpath(root)), Path(os.path.normpath(path))) and within(
        Path(os.path.realpath(root)), Path(os.path.realpath(path))
    )


def _versions_option(root: Path | None, value: Path) -> Path:
    """A relative --versions is read against the repository first, then against the current directory."""
    if value.is_absolute():
        return Path(os.path.normpath(value))
    if root is not None and ((root / value).exists() or not value.exists()):
        return Path(os.path.normpath(root / value))
    return Path(os.path.normpath(Path.cwd() / value))
