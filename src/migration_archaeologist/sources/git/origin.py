"""Where each commit lives: HEAD's history (ranked in topological order), a reflog, a stash, or
nowhere (unreachable); worked out from what only reflogs and stashes keep alive.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Collection, Iterable, Mapping

from migration_archaeologist.sources.git.cache import CachedHistory
from migration_archaeologist.sources.git.inventory import closure, topological
from migration_archaeologist.sources.git.records import HistoryScan, ReflogEntry
from migration_archaeologist.sources.git.repository import Repository, first_line
from migration_archaeologist.sources.git.state import RepositoryState


def read_head_order(repo: Repository) -> bytes | None:
    """``rev-list --topo-order HEAD``'s output, ranked later for the commits that matter."""
    return repo.run("rev-list", "--topo-order", repo.head, check=False) if repo.head else None


def _head_history(repo: Repository) -> dict[str, int]:
    """HEAD's ancestry ranked newest first in topological order: clock skew cannot reorder it."""
    order = read_head_order(repo)
    return topo_ranks(order) if order is not None else {}


def topo_ranks(out: bytes, only: Collection[str] | None = None) -> dict[str, int]:
    """Ranks from ``rev-list --topo-order`` output, of ``only`` those commits when given (a
    200,000-commit dict held through the whole scan was 30 MB)."""
    shas = out.decode("ascii").split()
    if only is None:
        return {sha: rank for rank, sha in enumerate(shas)}
    return {sha: rank for rank, sha in enumerate(shas) if sha in only}


def off_ref_parents(repo: Repository, tips: set[str], scan: HistoryScan) -> dict[str, list[str]]:
    """Parents of every commit ``tips`` reach that no ref (but refs/stash) reaches."""
    if not tips:
        return {}
    proc = repo.popen("rev-list", "--parents", "--stdin", "--not", "--exclude=refs/stash", "--all", stdin=-1)
    out, err = proc.communicate("".join(t + "\n" for t in sorted(tips)).encode("ascii"))
    if proc.returncode != 0:
        scan.warnings.append(f"could not tell reflog and stash commits apart from history: {first_line(err)}")
        return {}
    parents: dict[str, list[str]] = {}
    for line in out.decode("ascii").splitlines():
        shas = line.split()
        if shas:
            parents[shas[0]] = shas[1:]
    return parents


def read_stash_tip(repo: Repository) -> tuple[str, ...]:
    """The commit refs/stash names, if any: it is a stash even once its reflog entries expired."""
    out = repo.run("rev-parse", "-q", "--verify", "refs/stash^{commit}", check=False).decode("ascii", "replace")
    return tuple(out.split()[:1])


#: a stash commit's subject: ``WIP on main: 1a2b3c4 subject`` (git stash), ``On main: message`` (-m)
_STASH_SUBJECT = re.compile(r"(WIP on|On) [^\n]*?: ")


def stash_shaped(repo: Repository, commits: Iterable[str], scan: HistoryScan) -> dict[str, list[str]]:
    """Of unreachable ``commits``, the ones shaped like a stash -> their parents: a dropped stash, or
    one whose reflog entry expired (``git stash drop``, ``git reflog expire``), still in the object
    database. The shape git stash gives them: a "WIP on <branch>:" or "On <branch>:" subject, two or
    three parents, the second one's subject "index on <branch>:" (when that commit is at hand too)."""
    shown: dict[str, tuple[list[str], str]] = {}

    def show(wanted: Iterable[str]) -> bool:
        wanted = sorted(set(wanted) - shown.keys())
        if not wanted:
            return True
        proc = repo.popen("log", "--no-walk=unsorted", "--stdin", "--format=%H %P%x00%s", stdin=-1)
        out, err = proc.communicate("".join(c + "\n" for c in wanted).encode("ascii"))
        if proc.returncode != 0:
            scan.warnings.append(f"could not tell dropped stashes among unreachable commits: {first_line(err)}")
            return False
        for line in out.decode("utf-8", "replace").splitlines():
            shas, _, subject = line.partition("\0")
            sha, *parents = shas.split()
            shown[sha] = (parents, subject)
        return True

    if not show(commits):
        return {}
    shaped = {
        sha: parents
        for sha, (parents, subject) in shown.items()
        if _STASH_SUBJECT.match(subject) and len(parents) in (2, 3)
    }
    if not show(parents[1] for parents in shaped.values()):
        return {}
    return {
        sha: parents for sha, parents in shaped.items() if shown.get(parents[1], ([], ""))[1].startswith("index on ")
    }


def paint_origins(
    reflog: list[ReflogEntry],
    parents: Mapping[str, list[str]],
    unreachable: Iterable[str],
    stash_tip: Iterable[str] = (),
    dropped: Mapping[str, list[str]] | None = None,
) -> dict[str, tuple[str, str | None]]:
    """commit -> (source, ref) for what no ref (but refs/stash) reaches: reflog entries, stash entries,
    ``refs/stash`` itself once its reflog expired, dropped stashes (source stash, no ref), the rest
    unreachable."""
    origin: dict[str, tuple[str, str | None]] = {}

    def paint(start: str, label: tuple[str, str | None]) -> None:
        queue = deque([start])
        while queue:
            sha = queue.popleft()
            if sha not in parents or sha in origin:
                continue
            origin[sha] = label
            queue.extend(parents[sha])

    # A stash never moves HEAD, so reflog first: the commit a stash was made on keeps its own story.
    for entry in reflog:
        if not entry.is_stash:
            paint(entry.commit, ("reflog", entry.selector))
    for entry in reflog:
        if entry.is_stash:
            paint(entry.commit, ("stash", entry.selector))
    for sha in stash_tip:  # refs/stash whose reflog no longer lists it
        paint(sha, ("stash", "refs/stash"))
    lost = set(unreachable)
    for sha, its_parents in (dropped or {}).items():
        # the stash commit, its index commit and its untracked-files commit (git stash -u)
        for commit in [sha, *its_parents[1:]]:
            if commit in lost or commit in parents:
                origin.setdefault(commit, ("stash", None))
    for sha in parents:
        origin.setdefault(sha, ("unreachable", None))
    # every unreachable commit is listed, and none is reachable from a reflog entry
    for sha in unreachable:
        origin.setdefault(sha, ("unreachable", None))
    return origin


def off_ref_after(
    repo: Repository,
    cached: CachedHistory,
    state: RepositoryState,
    reflog: list[ReflogEntry],
    parents: Mapping[str, tuple[str, ...]],
    new_commits: set[str],
    vanished: set[str],
    lost: list[str],
    scan: HistoryScan,
) -> tuple[dict[str, list[str]], list[str]]:
    """What no ref (but refs/stash) reaches now, with parents, and what nothing reaches.

    When refs only moved onto new commits and no new commit builds on off-ref work (a commit,
    a fetch, a stash), the stored answer plus the new commits is the answer: asking git again
    cost 0.6 s with 12,000 refs. Otherwise git is asked again.
    """
    base = cached.scan
    old_refs = cached.state.refs
    moved = {sha for name, sha in state.refs.items() if old_refs.get(name) != sha}
    if state.head != cached.state.head and state.head:
        moved.add(state.head)
    known_off = base.off_ref.keys() | set(base.unreachable_commits)
    on_refs = {sha for name, sha in state.refs.items() if name != "refs/stash"} | (
        {state.head} if state.head else set()
    )
    reached = closure(on_refs & new_commits, parents, new_commits)
    below = {p for c in reached for p in parents.get(c, ())} | on_refs
    # where a ref (or HEAD) was before must still be reached through the new commits: after an
    # amend or a reset, the old tip lives on in the reflog only
    left = {sha for name, sha in old_refs.items() if name != "refs/stash" and state.refs.get(name) != sha}
    if cached.state.head and cached.state.head != state.head:
        left.add(cached.state.head)
    simple = (
        not vanished
        and moved <= new_commits
        and left <= below
        and not any(p in known_off for c in new_commits for p in parents.get(c, ()))
    )
    if simple:
        off_ref = dict(base.off_ref)
        off_ref.update((c, list(parents.get(c, ()))) for c in new_commits - reached)
        return off_ref, list(base.unreachable_commits) + lost
    candidates = (cached.tips - set(state.refs.values()) - {state.head}) | set(lost)
    stash_tip = {sha for name, sha in state.refs.items() if name == "refs/stash"}
    off_ref = off_ref_parents(repo=repo, tips={e.commit for e in reflog} | candidates | stash_tip, scan=scan)
    return off_ref, [c for c in list(base.unreachable_commits) + lost if c in off_ref]


def head_history_after(
    repo: Repository,
    old_head: str | None,
    new_head: str | None,
    ranks: Mapping[str, int],
    parents: Mapping[str, tuple[str, ...]],
    new_commits: set[str],
) -> dict[str, int]:
    """HEAD's ranks: unchanged; or, when HEAD only moved forward over new commits, those on top
    in topological order; else asked of git again (a checkout, a reset, a merge of old work)."""
    if new_head == old_head:
        return dict(ranks)
    if old_head and new_head in new_commits:
        fresh = closure({new_head}, parents, new_commits)
        below = {p for c in fresh for p in parents.get(c, ()) if p not in new_commits}
        if below == {old_head}:
            order = topological(fresh, parents)
            shifted = {sha: i for i, sha in enumerate(order)}
            shifted.update((sha, rank + len(order)) for sha, rank in ranks.items())
            return shifted
    return _head_history(repo)
