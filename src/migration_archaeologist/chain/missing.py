"""The lost revisions: not in the versions directory, and needed by what is there. A revision
deleted on purpose (a retired head) is history, not a loss."""

from __future__ import annotations

from typing import TYPE_CHECKING
from collections.abc import Mapping

from migration_archaeologist.chain.catalog import Catalog

if TYPE_CHECKING:
    from migration_archaeologist.chain.graph import ChainGraph
    from migration_archaeologist.sources.git.records import CommitInfo


def needed_missing(catalog: Catalog, chain: ChainGraph, commits: Mapping[str, CommitInfo]) -> tuple[str, ...]:
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
