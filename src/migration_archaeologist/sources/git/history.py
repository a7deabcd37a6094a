"""Every version of every revision file that git still holds: all refs, reflogs, stashes, unreachable commits.

The source the catalog reads: a stored scan when nothing changed, an update when history only grew,
else a full scan (:mod:`full_scan`). Revision files are recognised by content, so a file moved to
``archive/old/`` is found like any other.
"""

from __future__ import annotations

from collections.abc import Iterator

from migration_archaeologist.parse.revision import RevisionFile, Unparseable
from migration_archaeologist.sources.git import cache as history_cache
from migration_archaeologist.sources.git.full_scan import full_scan
from migration_archaeologist.sources.git.lfs import fetched_since
from migration_archaeologist.sources.git.records import HistoryScan, Progress
from migration_archaeologist.sources.git.repository import Repository
from migration_archaeologist.sources.git.state import RepositoryState, read_state
from migration_archaeologist.sources.git.update import update_scan
from migration_archaeologist.sources.interface import Sighting


class GitHistory:
    """Source of sightings from a repository's whole object database."""

    def __init__(
        self, repo: Repository, progress: Progress | None = None, *, thorough: bool = False, use_cache: bool = True
    ) -> None:
        self.repo = repo
        self.thorough = thorough
        self.use_cache = use_cache
        #: what the stored scan under the git dir did for this one: unchanged, updated: ..., new, rebuilt, off
        self.cache_status = "off"
        self._rebuild_reason = "the repository changed in a way the stored scan cannot follow"
        self._progress: Progress = progress or (lambda phase, n, total: None)
        self._scan: HistoryScan | None = None
        #: blobs staged in the index (``StagedFiles.blobs``): dangling to the object inventory, but
        #: the index holds them, so they are ``index`` sightings, not unreachable ones
        self.staged: frozenset[str] = frozenset()

    # -- Source protocol -------------------------------------------------------------------
    def iter_sightings(self) -> Iterator[Sighting]:
        scan = self.result()
        deleted_by = scan.deleted_by
        for blob, changes in scan.changes.items():
            if blob not in scan.parsed:
                continue
            for change in changes:
                commit = change.commit
                if deleted_by and change.event == "deleted":
                    # a merge that only carried a deletion in: the commit that made it deleted the file
                    commit = deleted_by.get((commit, change.path), commit)
                    if commit != change.commit and (commit, "deleted", change.path) in changes:
                        continue  # that commit's own diff already shows this content deleted
                source, ref = scan.origin.get(commit, ("history", None))
                info = scan.commits.get(commit)
                yield Sighting(
                    blob=blob,
                    source=source,
                    event=change.event,
                    commit=commit,
                    ref=ref,
                    path=change.path,
                    date=info.date if info else None,
                )
        for blob in scan.dangling_blobs:
            if blob in scan.parsed and blob not in self.staged:
                yield Sighting(blob, "unreachable", "seen", None, None, None, None)

    def content(self, blob: str) -> bytes:
        return self.result().contents[blob]

    def size(self, blob: str) -> int:
        """A revision blob's length, which a stored scan knows without reading the blob."""
        return history_cache.content_size(self.result().contents, blob)

    def fidelity(self, blob: str) -> str:
        """``exact`` for blobs as git holds them; ``bytecode`` for source rebuilt from a committed .pyc."""
        return self.result().fidelity.get(blob, "exact")

    def parsed(self, blob: str) -> RevisionFile | Unparseable:
        return self.result().parsed[blob]

    # -- the scan --------------------------------------------------------------------------
    def result(self) -> HistoryScan:
        if self._scan is None:
            self._scan = self._run()
        return self._scan

    def _run(self) -> HistoryScan:
        """A stored scan when nothing changed, an update when history only grew, else a full scan.

        The state is read before anything else, so whatever changes during the scan is new next time.
        """
        repo = self.repo
        state = read_state(repo) if self.use_cache else None
        stamp = _stamp(repo, self.thorough) if state is not None else None
        kept = _LAST_READ.get(stamp) if stamp is not None else None
        if kept is not None and kept[0] == state and not fetched_since(repo.common_dir, kept[1].unreadable):
            # read by this process already (check: once per environment)
            self.cache_status = "unchanged"
            return kept[1]
        cached = history_cache.load(repo, self.thorough) if state is not None else None
        if cached is not None and cached.state == state and not fetched_since(repo.common_dir, cached.scan.unreadable):
            self.cache_status = "unchanged"
            _remember(stamp, state, cached.scan)
            return cached.scan
        update = (
            update_scan(repo, self.thorough, self._progress, cached, state)
            if cached is not None and state is not None
            else None
        )
        if isinstance(update, str):  # why the stored scan cannot be extended
            self._rebuild_reason = update
            update = None
        if update is not None:
            scan, tips, prints, unread = update
            self.cache_status = f"updated: {scan.commits_walked - cached.scan.commits_walked} new commit(s) read"  # type: ignore[union-attr]
        else:
            scan, tips, prints, unread = full_scan(repo, self.thorough, self._progress, state)
            self.cache_status = (
                f"rebuilt: {self._rebuild_reason}" if cached is not None else ("new" if state is not None else "off")
            )
        if state is not None:
            history_cache.save(repo, self.thorough, history_cache.CachedHistory(state, scan, tips, prints, unread))
            _remember(_stamp(repo, self.thorough), state, scan)
        return scan


#: The last history this process read or wrote, by the cache file it is stored in (path, size,
#: time, inode): ``check`` scans once per environment, and each read the same file again.
_LAST_READ: dict[tuple[object, ...], tuple[RepositoryState, HistoryScan]] = {}


def _stamp(repo: Repository, thorough: bool) -> tuple[object, ...] | None:
    path = history_cache.cache_path(repo)
    try:
        info = path.stat()
    except OSError:
        return None
    return str(path), thorough, info.st_size, info.st_mtime_ns, info.st_ino


def _remember(stamp: tuple[object, ...] | None, state: RepositoryState, scan: HistoryScan) -> None:
    _LAST_READ.clear()
    if stamp is not None:
        _LAST_READ[stamp] = (state, scan)
