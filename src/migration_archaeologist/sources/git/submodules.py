"""Git submodules: each checked-out submodule is a repository of its own, read like the superproject.

A submodule's history, reflogs and unreachable objects live in its own git directory
(``.git/modules/<name>``, named by the ``gitdir:`` line of its ``.git`` file), which the
superproject's walk never enters: the superproject's trees only hold the submodule's commit id.
Each submodule is opened as a :class:`Repository` (its own history cache under its own git dir)
and its sightings' paths are given the submodule's path as seen from the superproject
(``libs/core/migrations/versions/x.py``), so catalog, judging and restore see one tree and a file
restored goes back into the submodule's work tree.

Nothing here trusts the repository: ``.gitmodules`` is read by ``git config --file`` (no include
followed, nothing run), a ``.git`` file or folder that is a link, or a ``gitdir:`` leading outside
the superproject's ``modules`` folder and the submodule's own folder, is refused with a note;
``git submodule`` is never run (it would fetch). Without a ``.gitmodules`` file nothing is started.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from migration_archaeologist.errors import ArchaeologistError
from migration_archaeologist.files.untrusted import read_regular
from migration_archaeologist.parse.revision import RevisionFile, Unparseable
from migration_archaeologist.sources.git.history import GitHistory
from migration_archaeologist.sources.git.records import Progress
from migration_archaeologist.sources.git.repository import (
    GIT_CONFIG_ARGS,
    Repository,
    _HEXSZ,
    execute,
    first_line,
    open_repository,
)
from migration_archaeologist.sources.interface import Sighting, Unreadable

if TYPE_CHECKING:
    from migration_archaeologist.sources.environment_history import FileVersion

#: ``.gitmodules`` and a ``.git`` file bigger than these are not read.
MAX_GITMODULES_BYTES = 1 << 20
MAX_GITFILE_BYTES = 4096
#: Submodules inside submodules are followed this deep, and no more than this many in all.
MAX_DEPTH = 4
MAX_SUBMODULES = 256


#: The note for a submodule never initialised: what a CI checkout without ``submodules: true`` leaves.
NOT_INITIALISED = "not initialised (no .git in it, nothing under .git/modules): nothing to read"


@dataclass(frozen=True)
class Submodule:
    """One checked-out submodule: its path from the superproject's root ('/'-separated) and its repository."""

    path: str
    repository: Repository


def find_submodules(repo: Repository) -> tuple[list[Submodule], list[str]]:
    """The submodules checked out under ``repo``'s work tree (nested ones too), and a one-line note
    for each one that is not read (not initialised, not checked out, refused)."""
    found: list[Submodule] = []
    notes: list[str] = []
    _collect(repo, "", 0, found, notes)
    return found, notes


def _collect(repo: Repository, prefix: str, depth: int, found: list[Submodule], notes: list[str]) -> None:
    root = repo.work_tree
    if root is None or depth >= MAX_DEPTH:
        return
    listed = _listed(root, prefix, notes)
    for name, path in listed:
        if len(found) >= MAX_SUBMODULES:
            notes.append(f"submodules: more than {MAX_SUBMODULES}, the rest are not read")
            return
        shown = prefix + path
        if any(known.path == shown for known in found):
            continue  # named twice in .gitmodules: read once
        sub, why = _open(repo, root, name, path)
        if sub is None:
            notes.append(f"submodule {shown}: {why}")
            continue
        found.append(Submodule(shown, sub))
        _collect(sub, shown + "/", depth + 1, found, notes)


def _listed(root: Path, prefix: str, notes: list[str]) -> list[tuple[str, str]]:
    """(name, path) of each submodule ``.gitmodules`` names; nothing (and no git) when there is none."""
    gitmodules = root / ".gitmodules"
    if not os.path.lexists(gitmodules):
        return []
    try:  # a regular file of sane size, never a link or a FIFO
        read_regular(gitmodules, MAX_GITMODULES_BYTES, follow=False)
    except OSError as exc:
        notes.append(f"submodules: {prefix}.gitmodules not read: {exc}")
        return []
    paths = r"^submodule\..*\.path$"
    status, out, err = execute(
        ["git", *GIT_CONFIG_ARGS, "config", "--file", str(gitmodules), "-z", "--get-regexp", paths]
    )
    if status not in (0, 1):  # 1: no submodule.*.path at all
        notes.append(f"submodules: {prefix}.gitmodules not read: {first_line(err)}")
        return []
    listed: list[tuple[str, str]] = []
    for item in out.decode("utf-8", "surrogateescape").split("\0"):
        key, _, path = item.partition("\n")
        if not key:
            continue
        name = key[len("submodule.") : -len(".path")]
        if not _plain(name) or not _plain(path):
            notes.append(f"submodules: {prefix}.gitmodules names an unsafe name or path ({name!r}, {path!r}): not read")
            continue
        listed.append((name, path.rstrip("/")))
    return listed


def _plain(value: str) -> bool:
    """A relative '/'-separated path with no '..', '.', empty part or backslash (git's own rule for names)."""
    if not value or value.startswith("/") or "\\" in value or any(ord(c) < 32 for c in value):
        return False
    return all(part not in ("", ".", "..") for part in value.rstrip("/").split("/"))


def _open(repo: Repository, root: Path, name: str, path: str) -> tuple[Repository | None, str]:
    """The submodule's repository, or None and why it is not read."""
    folder = root / path
    if not _no_links(root, path):
        return None, "its folder is a symbolic link (or lies behind one): not read"
    if not folder.is_dir():
        return None, "its folder is missing: not read"
    gitdir, why = _git_dir(repo, folder, name)
    if gitdir is None:
        return None, why
    width = _HEXSZ[0]
    try:
        sub = open_repository(folder)
    except ArchaeologistError as exc:
        return None, f"not read: {exc}"
    finally:
        hexsz, _HEXSZ[0] = _HEXSZ[0], width
    if hexsz != width:
        return None, "uses another object format than the superproject: not read"
    if sub.work_tree is None or _real(sub.work_tree) != _real(folder) or _real(sub.git_dir) != gitdir:
        return None, "git names another git directory or work tree for it (core.worktree?): not read"
    return sub, ""


def _git_dir(repo: Repository, folder: Path, name: str) -> tuple[Path | None, str]:
    """The submodule's git directory, resolved and checked: its own ``.git`` folder, or the one its
    ``.git`` file names, which must lie in the superproject's ``modules`` folder or in its own folder."""
    dotgit = folder / ".git"
    # git keeps them under the git dir: a linked worktree's own (.git/worktrees/W/modules), else the common one
    modules = repo.git_dir / "modules"
    if dotgit.is_symlink():
        return None, ".git is a symbolic link: not read"
    if dotgit.is_dir():
        return _real(dotgit), ""
    if not dotgit.exists():
        if (modules / name).is_dir():
            return None, f"not checked out (its history in {modules / name} is not read)"
        return None, NOT_INITIALISED
    try:
        text = read_regular(dotgit, MAX_GITFILE_BYTES, follow=False).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, f".git cannot be read ({exc}): not read"
    if not text.startswith("gitdir:") or len(text.splitlines()) != 1:
        return None, ".git is not a 'gitdir:' file: not read"
    target = Path(text[len("gitdir:") :].strip())
    resolved = _real(target if target.is_absolute() else folder / target)
    if not (_within(_real(modules), resolved) or _within(_real(folder), resolved)):
        return None, f".git points outside .git/modules and its own folder ({target}): not read"
    return resolved, ""


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def _within(top: Path, path: Path) -> bool:
    return path == top or top in path.parents


def _no_links(root: Path, path: str) -> bool:
    """No part of ``root/path`` below ``root`` is a symbolic link."""
    here = root
    for part in path.split("/"):
        here = here / part
        if here.is_symlink():
            return False
    return True


class SubmoduleHistory:
    """A submodule's :class:`GitHistory` as seen from the superproject: each path starts with the
    submodule's path, and each sighting names the submodule (``Sighting.submodule``)."""

    def __init__(self, submodule: Submodule, progress: Progress | None, *, thorough: bool, use_cache: bool) -> None:
        self.submodule = submodule
        self.history = GitHistory(submodule.repository, progress, thorough=thorough, use_cache=use_cache)

    def iter_sightings(self) -> Iterator[Sighting]:
        prefix = self.submodule.path + "/"
        for sighting in self.history.iter_sightings():
            path = prefix + sighting.path if sighting.path else None
            yield replace(sighting, path=path, submodule=self.submodule.path)

    def content(self, blob: str) -> bytes:
        return self.history.content(blob)

    def size(self, blob: str) -> int:
        return self.history.size(blob)

    def fidelity(self, blob: str) -> str:
        return self.history.fidelity(blob)

    def parsed(self, blob: str) -> RevisionFile | Unparseable:
        return self.history.parsed(blob)

    def unreadable(self) -> list[Unreadable]:
        """What git could not hand out, with paths as seen from the superproject."""
        prefix = self.submodule.path + "/"
        return [
            replace(item, path=prefix + item.path if item.path else None) for item in self.history.result().unreadable
        ]

    def warnings(self) -> list[str]:
        return [f"submodule {self.submodule.path}: {warning}" for warning in self.history.result().warnings]


def environment_histories(
    submodules: Sequence[tuple[str, Repository]], unreachable: Iterable[str]
) -> tuple[list[FileVersion], list[str], dict[str, Repository]]:
    """The environment files' versions each submodule's history holds, at their paths from the
    superproject; why a stream stopped; and which submodule holds each blob (to read it from)."""
    from migration_archaeologist.sources.environment_history import environment_history

    versions: list[FileVersion] = []
    errors: list[str] = []
    owners: dict[str, Repository] = {}
    for path, sub in submodules:
        found = environment_history(sub, unreachable)
        versions.extend(replace(v, path=f"{path}/{v.path}", submodule=path) for v in found.versions)
        errors.extend(f"submodule {path}: {error}" for error in found.errors)
        owners.update((v.blob, sub) for v in found.versions)
    return versions, errors, owners
