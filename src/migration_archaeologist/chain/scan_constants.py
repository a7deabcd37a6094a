"""Constants a revision names but does not hold (``branch_labels = (cli.EXPAND_BRANCH,)``), read from
the modules they name as each version saw them, so the catalog's revisions are complete before the chain
is built."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from migration_archaeologist.chain.catalog import Catalog
from migration_archaeologist.sources.git.repository import Repository
from migration_archaeologist.sources.interface import GIT_SOURCES


def resolve_constants(
    catalog: Catalog, repo: Repository, *, keep: bool = False, submodules: Mapping[str, Repository] | None = None
) -> Catalog:
    """Fill in what revisions name but do not hold (``branch_labels = (cli.EXPAND_BRANCH,)``) from the
    module they name, as it stood where each version was seen: the work tree for a present file, the
    commit for one in history. One ``cat-file --batch`` serves every commit; nothing is imported.
    ``keep``: what a commit's modules gave is kept under the git dir (``constants.ResolvedInHistory``).
    ``submodules``: each submodule's repository by its path: a version a submodule's history holds is
    resolved there, at its path in the submodule."""
    todo = [e for e in catalog.entries.values() if any(c.revision.unresolved for c in e.candidates)]
    if not todo:
        return catalog
    from migration_archaeologist.chain.catalog import RevisionEntry
    from migration_archaeologist.parse.constants import GitModules, ResolvedInHistory, resolve_revision, worktree_reader
    from migration_archaeologist.sources.git.cache import cache_path

    kept = ResolvedInHistory(cache_path(repo).with_name("constants.json") if keep else None)
    modules = GitModules(repo)
    in_submodule = {path: GitModules(sub) for path, sub in (submodules or {}).items()}
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
                                git, path = modules, s.path
                                if s.submodule is not None and s.submodule in in_submodule:
                                    git, path = in_submodule[s.submodule], s.path[len(s.submodule) + 1 :]
                                known = resolve_revision(revision, git.reader(s.commit), path=path)
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
        for git in (modules, *in_submodule.values()):
            git.close()
    kept.save()
    return replace(catalog, entries=entries)
