"""The scan's submodules: each one's history read beside the superproject's, then folded into what the
superproject's history gives the catalog (HEAD's history, commits, counts), so a revision deleted in a
submodule is judged as one deleted in the superproject would be."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from migration_archaeologist.sources.git.records import CommitInfo, HistoryScan
from migration_archaeologist.sources.git.repository import Repository
from migration_archaeologist.sources.interface import Unreadable

if TYPE_CHECKING:
    from migration_archaeologist.sources.git.submodules import SubmoduleHistory


class SubmoduleScan:
    """Every checked-out submodule's history, read in a helper thread from the moment it is made.

    With no ``.gitmodules`` in the work tree (or no work tree), nothing is started at all."""

    def __init__(self, repo: Repository, *, thorough: bool, cache: bool) -> None:
        self._sources: list[SubmoduleHistory] = []
        self.notes: list[str] = []
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        if repo.work_tree is None or not (repo.work_tree / ".gitmodules").exists():
            return
        from migration_archaeologist.sources.git.submodules import SubmoduleHistory, find_submodules

        found, self.notes = find_submodules(repo)  # here, not in the thread: opening sets the object format
        self._sources = [SubmoduleHistory(sub, None, thorough=thorough, use_cache=cache) for sub in found]
        if self._sources:
            self._thread = threading.Thread(target=self._read, daemon=True)
            self._thread.start()

    def _read(self) -> None:
        from migration_archaeologist.errors import ArchaeologistError

        try:
            for source in list(self._sources):
                try:
                    source.history.result()
                except ArchaeologistError as exc:  # a damaged submodule is a note, the scan goes on
                    self.notes.append(f"submodule {source.submodule.path}: not read: {exc}")
                    self._sources.remove(source)
        except BaseException as exc:  # raised again where the scan waits for it
            self._error = exc

    @property
    def sources(self) -> list[SubmoduleHistory]:
        """The submodules whose history could be read (waiting for them)."""
        self.results()
        return self._sources

    def results(self) -> list[HistoryScan]:
        """Each submodule's history scan (waiting for them)."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            raise self._error
        return [source.history.result() for source in self._sources]

    def head_history(self, own: Mapping[str, int]) -> Mapping[str, int]:
        """The superproject's HEAD history and each submodule's (the commits its checked-out HEAD reaches)."""
        return self._merged(own, "head_history")

    def for_folders(self, own: HistoryScan) -> Any:
        """What guessing the versions directory from history reads (``changes``, ``parsed``,
        ``head_history``), the submodules' changes at their paths from the superproject included:
        with no configuration anywhere, a submodule's revision files still say where they live."""
        if not self.sources:
            return own
        changes = dict(own.changes)
        parsed = dict(own.parsed)
        for source in self.sources:
            scan, prefix = source.history.result(), source.submodule.path + "/"
            for blob, seen in scan.changes.items():
                changes[blob] = [*changes.get(blob, ()), *(c._replace(path=prefix + c.path) for c in seen)]
            for blob, result in scan.parsed.items():
                parsed.setdefault(blob, result)
        return SimpleNamespace(changes=changes, parsed=parsed, head_history=self.head_history(own.head_history))

    def commits(self, own: Mapping[str, CommitInfo]) -> Mapping[str, CommitInfo]:
        return self._merged(own, "commits")

    def _merged(self, own: Mapping[str, Any], field: str) -> Mapping[str, Any]:
        """``own`` with each submodule scan's ``field`` (keyed by commit) added; the superproject's wins."""
        scans = self.results()
        if not scans:
            return own
        merged = dict(own)
        for scan in scans:
            for commit, value in getattr(scan, field).items():
                merged.setdefault(commit, value)
        return merged

    def unreadable(self) -> list[Unreadable]:
        return [item for source in self.sources for item in source.unreadable()]

    def warnings(self) -> list[str]:
        return [*self.notes, *(w for source in self.sources for w in source.warnings())]

    def counts(self) -> tuple[int, int, int]:
        """Commits walked, blobs read and versions skipped in the submodules."""
        scans = self.results()
        return (
            sum(s.commits_walked for s in scans),
            sum(s.blobs_read for s in scans),
            sum(s.skipped_versions for s in scans),
        )
