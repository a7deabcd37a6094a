"""One call from a repository path to a catalog and its chain: what ``scan`` and ``check`` show."""

from __future__ import annotations

import gc
import os
import threading
from collections import Counter
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from collections.abc import Callable, Iterator, Mapping, Sequence

from migration_archaeologist.chain.catalog import Catalog, build_catalog
from migration_archaeologist.project.selection import find_configs
from migration_archaeologist.errors import UsageError
from migration_archaeologist.sources.git.repository import Repository, open_repository
from migration_archaeologist.parse.revision import RevisionFile
from migration_archaeologist.sources.git.history import GitHistory
from migration_archaeologist.sources.git.records import CommitInfo
from migration_archaeologist.sources.interface import GIT_SOURCES, Sighting, Unreadable
from migration_archaeologist.sources.worktree import WorkTree

if TYPE_CHECKING:
    from migration_archaeologist.project.alembic_options import AlembicConfig
    from migration_archaeologist.chain.graph import ChainGraph, Problem
    from migration_archaeologist.chain.retired import Retirement
    from migration_archaeologist.sources.archive.source import ArchiveSource

_T = TypeVar("_T")
#: Problems added to a scan's chain from outside the catalog: the database's stamp, the work tree's
#: environment files (``verify.with_stamp_problems``, ``environment_files.with_environment_problems``).
_ADDED_KINDS = ("stamped-but-missing", "environment-missing")


@dataclass(frozen=True)
class ScanResult:
    repository: Repository
    versions_dirs: tuple[Path, ...]  # absolute
    versions_origin: str  # "option", "config <path>", "history", or "none"
    catalog: Catalog
    chain: ChainGraph
    missing: tuple[str, ...]  # revisions not present that the versions directory needs, in chain order
    commits: Mapping[str, CommitInfo]
    unreadable: tuple[Unreadable, ...]
    warnings: tuple[str, ...]
    commits_walked: int
    blobs_read: int
    skipped_versions: int
    evidence: tuple[Any, ...] = ()  # sources.docs.Evidence rows: revisions named in documents, with claims checked
    archive_issues: tuple[Any, ...] = ()  # sources.archive.ArchiveIssue: members refused (bombs, escapes, links)
    cache: str = "off"  # what the stored history scan did: off, new, unchanged, updated: N new commit(s) read, rebuilt
    #: entry-point groups through which the repository hands its revisions to a host (Invenio's
    #: ``invenio_db.alembic``): a revision named but never held is then another package's
    plugin_groups: tuple[str, ...] = ()

    @cached_property
    def gate_chain(self) -> ChainGraph:
        """The chain of what the versions directory holds and needs (present + missing): what
        ``check`` gates on. Revisions only on other branches, in stashes or in a squashed-away old
        chain are history to ``scan`` but no reason to fail a merge. Built on first use: only the
        commands that gate pay for a second analysis."""
        working = {rev for rev, entry in self.catalog.entries.items() if entry.present} | set(self.missing)
        if not working or working == set(self.catalog.entries):
            return self.chain
        from migration_archaeologist.chain.graph import analyse_catalog

        chain = analyse_catalog(self.catalog, only=working, plugin_groups=self.plugin_groups)
        # stamp problems come from the database (verify.with_stamp_problems), not from the catalog
        stamped = tuple(p for p in self.chain.problems if p.kind in _ADDED_KINDS)
        return replace(chain, problems=chain.problems + stamped) if stamped else chain

    @cached_property
    def retired(self) -> Mapping[str, Retirement]:
        """Revisions history holds that nothing needs, with how each left the chain."""
        from migration_archaeologist.chain.retired import retirements

        return retirements(self.catalog, self.missing, self.commits)

    @cached_property
    def findings(self) -> tuple[Problem, ...]:
        """What ``scan`` reports: the gate chain's problems, then those only history's chain has (a
        retired revision's second head, a broken draft), as warnings: worth seeing, nothing to fix."""
        gate = self.gate_chain.problems
        if self.gate_chain is self.chain:
            return gate
        seen = {(p.kind, p.revisions) for p in gate}
        extra = tuple(
            self._history_only(p)
            for p in self.chain.problems
            if (p.kind, p.revisions) not in seen and p.kind not in _ADDED_KINDS
        )
        return gate + extra

    @cached_property
    def external(self) -> frozenset[str]:
        """Revisions this plugin repository names that belong to another package (``external-revision``):
        never held here, so neither lost nor restorable."""
        return frozenset(p.revisions[-1] for p in self.chain.problems if p.kind == "external-revision")

    def deletion(self, revision: str) -> Sighting | None:
        """The deletion a person is shown for a revision gone from the versions directory: the last
        one on HEAD's history (the commit that took it away), else the newest anywhere (another
        branch, a stash, an unreachable commit). The newest by date alone named a later deletion on
        an abandoned branch while HEAD's own history said otherwise."""
        from migration_archaeologist.chain.retired import last_deletion

        entry = self.catalog.entries[revision]
        if entry.present:
            return None
        return last_deletion(entry, self.catalog.head_history) or entry.deletion()

    def _history_only(self, problem: Problem) -> Problem:
        """A problem only history's chain has, as a warning; history's extra heads are named for what
        they are: Alembic at HEAD never meets them, so 'alembic upgrade head' does not refuse."""
        if problem.kind != "multiple-heads":
            return problem if problem.warning else replace(problem, warning=True)
        mine = set(self.gate_chain.heads)
        others = [h for h in problem.revisions if h not in mine]
        message = (
            f"History holds {len(others)} more head(s) than the versions directory's chain: {', '.join(others)}"
            f" (not on disk: retired, or on other branches); Alembic at HEAD sees"
            f" {', '.join(self.gate_chain.heads) or 'no head'}"
        )
        return replace(problem, warning=True, message=message)

    @property
    def has_findings(self) -> bool:
        """Exit code 1 for scan: a problem that breaks Alembic or the database, or a lost revision."""
        return bool(self.missing or any(not p.warning for p in self.gate_chain.problems))

    def relative(self, path: Path) -> str:
        root = self.repository.work_tree
        if root is None:
            return path.as_posix()
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            return path.as_posix()


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
    untracked = _soon(partial(_untracked_files, repo.work_tree)) if not archives and repo.work_tree else None
    history = GitHistory(repo, progress, thorough=thorough, use_cache=cache)
    # the work tree's documents are indexed by a helper while history is walked (sources.doc_prefetch)
    documents = _soon(partial(_prefetch_documents, repo, cache)) if evidence and repo.work_tree else None
    # Folders named by the user or alembic.ini are read while git is walked; guessing them needs history.
    choice = (Path(config_file) if config_file is not None else None, name)
    if configs is None:  # the tree walked once: for the versions dirs and the other environments'
        configs = environments_of(repo)
    early = _versions_dirs(repo, versions, None, versions_origin, choice, configs)
    worktree: WorkTree | None = None
    if early is not None and repo.work_tree is not None:
        worktree = WorkTree(repo.work_tree, list(early[0]))
        threading.Thread(target=worktree.read, daemon=True).start()  # iter_sightings waits for it
    found = history.result()
    warnings = list(found.warnings)
    dirs, origin = early or _versions_dirs(repo, versions, found, versions_origin, choice, configs)  # type: ignore[misc]
    elsewhere = _other_environments(repo, dirs, configs)
    sources: list[Any] = [_OutsideOf(history, elsewhere) if elsewhere else history]
    if repo.work_tree is not None:
        if worktree is None:
            worktree = WorkTree(repo.work_tree, list(dirs))
        worktree.known = found.parsed
        sources.append(worktree)
    elif versions:
        warnings.append("bare repository: there is no working tree, so no revision is present")
    archive_source = _archive_source(repo, archives, untracked() if untracked is not None else None)
    if archive_source is not None:
        sources.append(archive_source)
    bytecode_source = _bytecode_source(repo, dirs)
    if bytecode_source is not None:
        sources.append(bytecode_source)
    for directory in dirs:
        if repo.work_tree is not None and not directory.is_dir():
            warnings.append(f"versions directory {directory} does not exist")
    if repo.head is not None and repo.head_ref is None:
        warnings.append(f"HEAD is detached at {repo.head[:10]}; 'HEAD's history' means that commit's ancestry")
    catalog = resolve_constants(build_catalog(sources, head_history=found.head_history, picks=picks), repo, keep=cache)
    if worktree is not None:
        warnings.extend(f"could not read {item}" for item in worktree.unreadable)
    if bytecode_source is not None:
        warnings.extend(f"bytecode {issue}" for issue in bytecode_source.issues)
    from migration_archaeologist.chain.graph import analyse_catalog

    from migration_archaeologist.project.entry_points import alembic_entry_point_groups

    plugin_groups = alembic_entry_point_groups(repo.work_tree)
    chain = analyse_catalog(catalog, plugin_groups=plugin_groups)
    missing = _needed_missing(catalog, chain, found.commits)
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
        commits=found.commits,
        unreadable=tuple(found.unreadable),
        warnings=tuple(warnings),
        commits_walked=found.commits_walked,
        blobs_read=found.blobs_read,
        skipped_versions=found.skipped_versions,
        evidence=rows,
        archive_issues=tuple(archive_source.issues) if archive_source is not None else (),
        cache=history.cache_status,
        plugin_groups=plugin_groups,
    )


def _prefetch_documents(repo: Repository, cache: bool):  # type: ignore[no-untyped-def]
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


def resolve_constants(catalog: Catalog, repo: Repository, *, keep: bool = False) -> Catalog:
    """Fill in what revisions name but do not hold (``branch_labels = (cli.EXPAND_BRANCH,)``) from the
    module they name, as it stood where each version was seen: the work tree for a present file, the
    commit for one in history. One ``cat-file --batch`` serves every commit; nothing is imported.
    ``keep``: what a commit's modules gave is kept under the git dir (``constants.ResolvedInHistory``)."""
    todo = [e for e in catalog.entries.values() if any(c.revision.unresolved for c in e.candidates)]
    if not todo:
        return catalog
    from migration_archaeologist.chain.catalog import RevisionEntry
    from migration_archaeologist.parse.constants import GitModules, ResolvedInHistory, resolve_revision, worktree_reader
    from migration_archaeologist.sources.git.cache import cache_path

    kept = ResolvedInHistory(cache_path(repo).with_name("constants.json") if keep else None)
    modules = GitModules(repo)
    work = worktree_reader(repo.work_tree) if repo.work_tree is not None else None
    entries = dict(catalog.entries)
    try:
        for entry in todo:
            candidates = []
            for candidate in entry.candidates:
                revision = candidate.revision
                if revision.unresolved:
                    for s in candidate.sightings:
                        if s.source == "worktree" and work is not None and s.path:
                            revision = resolve_revision(revision, work, path=s.path)
                        elif s.commit and s.path and s.source in GIT_SOURCES:
                            key = kept.key(revision, candidate.blob, s.commit, s.path)
                            known = kept.get(revision, key)
                            if known is None:
                                known = resolve_revision(revision, modules.reader(s.commit), path=s.path)
                                kept.put(key, known)
                            revision = known
                        if not revision.unresolved:
                            break
                candidates.append(
                    candidate if revision is candidate.revision else replace(candidate, revision=revision)
                )
            chosen = candidates[entry.candidates.index(entry.chosen)]
            entries[entry.revision] = RevisionEntry(
                entry.revision, tuple(candidates), chosen, entry.reason, entry.present
            )
    finally:
        modules.close()
    kept.save()
    return replace(catalog, entries=entries)


#: Untracked or ignored files bigger than this are not opened unless named with --archive.
UNTRACKED_ARCHIVE_LIMIT = 64 * 1024 * 1024
_ARCHIVE_NAMES = (".zip", ".bundle", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")


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


def _untracked_files(root: Path) -> list[Path]:
    from migration_archaeologist.sources.archive.untracked import untracked_files

    return untracked_files(root)


def _archive_source(
    repo: Repository, archives: Sequence[Path | str] | None, untracked: list[Path] | None = None
) -> ArchiveSource | None:
    """--archive paths as given, else the work tree's untracked and ignored files (``untracked``
    when they were listed already)."""
    from migration_archaeologist.sources.archive.findings import ArchiveIssue
    from migration_archaeologist.sources.archive.source import ArchiveSource

    root = repo.work_tree
    if archives:
        return ArchiveSource([Path(a).resolve() for a in archives], root=root)
    if root is None:
        return None
    # Ignored files include build output and data dumps: big archives there are read only on request.
    loose: list[Path] = []
    skipped: list[tuple[Path, int]] = []
    for path in untracked if untracked is not None else _untracked_files(root):
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
    source = ArchiveSource(loose, root=root)
    for path, size in skipped:
        source.issues.append(
            ArchiveIssue(
                str(path.relative_to(root)),
                None,
                f"untracked file of {size} MiB not read by default: pass --archive to read it",
            )
        )
    return source


def _bytecode_source(repo: Repository, dirs: Sequence[Path]):  # type: ignore[no-untyped-def]
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


class _OutsideOf:
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


def _other_environments(repo: Repository, dirs: Sequence[Path], configs: Sequence) -> tuple[str, ...]:  # type: ignore[type-arg]
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


def _versions_dirs(  # type: ignore[no-untyped-def]
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
            if _plain_relative(folder):
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
            f for rank, f in deleted_on_head if rank == newest and _plain_relative(f) and _inside(root, root / f)
        )
        if emptied:
            folders = emptied
    versions_named = [f for f in folders if f.rsplit("/", 1)[-1] == "versions"]
    pool = [f for f in versions_named or list(folders) if _inside(root, root / f)]
    if not pool:
        return (), "none"
    # a folder that still exists beats one used more often: a moved versions folder (indico's
    # migrations/ became indico/migrations/) left more history in its old place
    best = max(pool, key=lambda f: ((root / f).is_dir(), folders[f], f))
    return (Path(os.path.normpath(root / best)),), "history"


def _plain_relative(folder: str) -> bool:
    """A history path's folder with no '..', '.', empty or absolute part: '' (the top) or 'a/b'."""
    if not folder:
        return True
    parts = folder.replace("\\", "/").split("/")
    return not folder.startswith("/") and all(part not in ("", ".", "..") for part in parts)


def _inside(root: Path, path: Path) -> bool:
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


def _needed_missing(catalog: Catalog, chain: ChainGraph, commits: Mapping[str, CommitInfo]) -> tuple[str, ...]:
    """The lost revisions: not present, and needed by what is (down_revision and depends_on,
    transitively), in chain order.

    A deleted head that nothing stands on was retired (reverted, removed on purpose): restoring it
    would give Alembic a second head. With no revision present at all (the whole folder emptied),
    every revision history holds is needed but those reverted on purpose (``retired``).
    """
    present = {rev for rev, entry in catalog.entries.items() if entry.present}
    absent = [rev for rev in chain.order if rev in catalog.entries and rev not in present]
    if not absent:
        return ()
    if not present:
        from migration_archaeologist.chain.retired import lost_when_none_present

        return tuple(lost_when_none_present(catalog, absent, commits, chain))
    lost = {rev for rev in chain.needed_by(present) if rev in catalog.entries and rev not in present}
    # A commit that deleted something still needed, or something put back since where it was, was a
    # loss, not a decision: what else it deleted goes with it (a cleanup that emptied the folder,
    # then one revision written back by hand).
    deleted_in = _deleting_commits(catalog, absent)
    undone = _deletions_undone(catalog, present)
    while True:
        losing = {deleted_in[rev] for rev in lost if rev in deleted_in} | undone
        more = {rev for rev in absent if rev not in lost and deleted_in.get(rev) in losing}
        if not more:
            break
        lost |= more
        lost |= {rev for rev in chain.needed_by(more) if rev in catalog.entries and rev not in present}
    return tuple(rev for rev in absent if rev in lost)


def _deletions_undone(catalog: Catalog, present: set[str]) -> set[str]:
    """Commits that deleted from HEAD's tree a revision file that is back in the work tree at the same
    path, not committed yet: someone is undoing that deletion by hand. (A file deleted and committed
    again later, or moved to another folder, is not: CTFd's subtree merges, keystone's release folders.)"""
    head = catalog.head_history
    found: set[str] = set()
    for rev in present:
        entry = catalog.entries[rev]
        here = {p for c in entry.candidates for p in c.present_paths}
        events = [s for c in entry.candidates for s in c.sightings if s.path in here and s.commit in head]
        if events:
            last = min(events, key=lambda s: (head[s.commit], s.event != "deleted"))  # type: ignore[index]
            if last.event == "deleted":
                found.add(last.commit)  # type: ignore[arg-type]
    return found


def _deleting_commits(catalog: Catalog, revisions: list[str]) -> dict[str, str]:
    """revision -> the commit of HEAD's history that last deleted it."""
    from migration_archaeologist.chain.retired import last_deletion

    found: dict[str, str] = {}
    for rev in revisions:
        last = last_deletion(catalog.entries[rev], catalog.head_history)
        if last is not None and last.commit:
            found[rev] = last.commit
    return found
