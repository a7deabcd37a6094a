"""What one scan found: the catalog, its chain and the lost revisions, with the views ``scan`` and
``check`` read off them (the chain ``check`` gates on, the findings, the retired revisions)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from collections.abc import Mapping

from migration_archaeologist.chain.catalog import Catalog
from migration_archaeologist.sources.git.repository import Repository
from migration_archaeologist.sources.git.records import CommitInfo
from migration_archaeologist.sources.interface import Sighting, Unreadable

if TYPE_CHECKING:
    from migration_archaeologist.chain.graph import ChainGraph
    from migration_archaeologist.chain.problems import Problem
    from migration_archaeologist.chain.retired import Retirement

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
    #: (path from the root, repository) of each submodule whose history was read
    submodules: tuple[tuple[str, Repository], ...] = ()

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
