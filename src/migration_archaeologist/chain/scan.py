"""One call from a repository path to a catalog and its chain: what ``scan`` and ``check`` show.

The sources are run together (git's history walked while the work tree, archives and documents are
read), then folded: sources -> catalog -> chain -> the lost revisions."""

from __future__ import annotations

import gc
import threading
from concurrent.futures import Future
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from collections.abc import Callable, Iterator, Mapping, Sequence

from migration_archaeologist.chain.catalog import build_catalog
from migration_archaeologist.chain.scan_constants import resolve_constants
from migration_archaeologist.chain.missing import needed_missing
from migration_archaeologist.chain.scan_result import ScanResult
from migration_archaeologist.chain.scan_submodules import SubmoduleScan
from migration_archaeologist.chain.scan_sources import (
    OutsideOf,
    find_archive_source,
    find_bytecode_source,
    list_untracked,
    prefetch_documents,
)
from migration_archaeologist.chain.versions_directory import choose_versions_dirs, environments_of, other_environments
from migration_archaeologist.sources.git.repository import Repository, open_repository
from migration_archaeologist.sources.git.history import GitHistory
from migration_archaeologist.sources.git.index import StagedFiles
from migration_archaeologist.sources.worktree import WorkTree

if TYPE_CHECKING:
    from migration_archaeologist.project.alembic_options import AlembicConfig

_T = TypeVar("_T")


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """No cyclic garbage collection while a scan runs: parsing thousands of revision files keeps
    millions of small objects alive, and the collector rescanned them all again and again (5.7 s
    against 3.4 s for 10,000 files). What a scan drops is collected when it ends.

    Every object made meanwhile sits in the youngest generation, which the first collection after
    would walk whole (0.6 s after 10,000 files); freeze + unfreeze moves them to the oldest one,
    which only a full collection visits, as if they had survived the collections they skipped."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.unfreeze()
            gc.enable()


@_no_cyclic_gc()
def scan_repository(
    path: Path | str | Repository,
    *,
    versions: Sequence[Path | str] = (),
    versions_origin: str = "option",
    picks: Mapping[str, str] | None = None,
    progress: Callable[[str, int, int | None], None] | None = None,
    thorough: bool = False,
    archives: Sequence[Path | str] | None = None,
    evidence: bool = True,
    cache: bool = True,
    config_file: Path | str | None = None,
    name: str | None = None,
    configs: Sequence[AlembicConfig] | None = None,
) -> ScanResult:
    """Scan everything git holds plus the versions directories on disk.

    ``thorough`` reads every version of every .py blob instead of skipping later versions of
    files that were not revision files when added (see ``GitHistory``). ``archives`` are folders
    and archives to read too; without them, the work tree's untracked and ignored files are read
    (a revision file lying in ``backup/`` is found). ``evidence`` reads documents that name revisions.
    ``cache`` keeps the history scan under the git dir and reads only what is new on the next scan
    (``sources.history_cache``).
    ``path`` may be a Repository already opened (to read its settings first); ``versions_origin``
    says where ``versions`` came from, for the report. ``config_file`` / ``name`` choose one of the
    repository's Alembic environments as ``alembic -c FILE --name SECTION`` does; history seen in
    another environment's versions directories is that environment's, not this one's. ``configs``:
    the repository's environments (``environments_of``) when the caller found them already.
    """
    repo = path if isinstance(path, Repository) else open_repository(path)
    # git lists untracked files while history is walked (what is left after the walk is one core's work)
    untracked = _soon(partial(list_untracked, repo.work_tree)) if not archives and repo.work_tree else None
    history = GitHistory(repo, progress, thorough=thorough, use_cache=cache)
    # one short git process (none without an index file, none in a bare repository), while history is walked
    staged = StagedFiles(repo, use_cache=cache)
    threading.Thread(target=staged.read, daemon=True).start()
    submodules = SubmoduleScan(repo, thorough=thorough, cache=cache)  # their histories, read meanwhile
    # the work tree's documents are indexed by a helper while history is walked (sources.doc_prefetch)
    documents = _soon(partial(prefetch_documents, repo, cache)) if evidence and repo.work_tree else None
    # Folders named by the user or alembic.ini are read while git is walked; guessing them needs history.
    choice = (Path(config_file) if config_file is not None else None, name)
    if configs is None:  # the tree walked once: for the versions dirs and the other environments'
        configs = environments_of(repo)
    early = choose_versions_dirs(repo, versions, None, versions_origin, choice, configs)
    worktree: WorkTree | None = None
    if early is not None and repo.work_tree is not None:
        worktree = WorkTree(repo.work_tree, list(early[0]))
        threading.Thread(target=worktree.read, daemon=True).start()  # iter_sightings waits for it
    found = history.result()
    warnings = list(found.warnings)
    dirs, origin = early or choose_versions_dirs(  # type: ignore[misc]
        repo, versions, submodules.for_folders(found), versions_origin, choice, configs
    )
    elsewhere = other_environments(repo, dirs, configs)
    sources: list[Any] = [OutsideOf(s, elsewhere) if elsewhere else s for s in (history, *submodules.sources)]
    head_history, commits = submodules.head_history(found.head_history), submodules.commits(found.commits)
    warnings.extend(submodules.warnings())
    walked, read, skipped = submodules.counts()
    if repo.work_tree is not None:
        if worktree is None:
            worktree = WorkTree(repo.work_tree, list(dirs))
        worktree.known = found.parsed
        sources.append(worktree)
    elif versions:
        warnings.append("bare repository: there is no working tree, so no revision is present")
    history.staged = staged.blobs  # waits for the thread's read
    staged.keep()
    sources.append(OutsideOf(staged, elsewhere) if elsewhere else staged)
    warnings.extend(staged.warnings)
    archive_source = find_archive_source(repo, archives, untracked() if untracked is not None else None)
    if archive_source is not None:
        sources.append(archive_source)
    bytecode_source = find_bytecode_source(repo, dirs)
    if bytecode_source is not None:
        sources.append(bytecode_source)
    for directory in dirs:
        if repo.work_tree is not None and not directory.is_dir():
            warnings.append(f"versions directory {directory} does not exist")
    if repo.head is not None and repo.head_ref is None:
        warnings.append(f"HEAD is detached at {repo.head[:10]}; 'HEAD's history' means that commit's ancestry")
    in_submodules = {s.submodule.path: s.submodule.repository for s in submodules.sources}
    catalog = build_catalog(sources, head_history=head_history, picks=picks)
    catalog = resolve_constants(catalog, repo, keep=cache, submodules=in_submodules)
    if worktree is not None:
        warnings.extend(f"could not read {item}" for item in worktree.unreadable)
    if bytecode_source is not None:
        warnings.extend(f"bytecode {issue}" for issue in bytecode_source.issues)
    from migration_archaeologist.chain.graph import analyse_catalog

    from migration_archaeologist.project.entry_points import alembic_entry_point_groups

    plugin_groups = alembic_entry_point_groups(repo.work_tree)
    chain = analyse_catalog(catalog, plugin_groups=plugin_groups)
    missing = needed_missing(catalog, chain, commits)
    rows: tuple[Any, ...] = ()
    if documents is not None and repo.work_tree is not None:
        from migration_archaeologist.sources.docs.evidence import collect_evidence

        store, tracked, prefetch, seen = documents()
        rows = tuple(
            collect_evidence(
                repo.work_tree,
                catalog,
                git_dir=repo.git_dir,
                history=(found.doc_versions, found.all_commits),
                cache=store,
                tracked=tracked,
                prefetch=prefetch,
                progress=progress,
                stats=seen,
            )
        )
    return ScanResult(
        repository=repo,
        versions_dirs=dirs,
        versions_origin=origin,
        catalog=catalog,
        chain=chain,
        missing=missing,
        commits=commits,
        unreadable=(*found.unreadable, *staged.unreadable, *submodules.unreadable()),
        warnings=tuple(warnings),
        commits_walked=found.commits_walked + walked,
        blobs_read=found.blobs_read + read,
        skipped_versions=found.skipped_versions + skipped,
        evidence=rows,
        archive_issues=tuple(archive_source.issues) if archive_source is not None else (),
        cache=history.cache_status,
        plugin_groups=plugin_groups,
        submodules=tuple(in_submodules.items()),
    )


def _soon(work: Callable[[], _T]) -> Callable[[], _T]:
    """Start ``work`` in a thread now; the call returned waits for its answer (or raises its error)."""
    future: Future[_T] = Future()

    def run() -> None:
        try:
            future.set_result(work())
        except BaseException as exc:  # handed to whoever asks for the answer
            future.set_exception(exc)

    threading.Thread(target=run, daemon=True).start()
    return future.result
