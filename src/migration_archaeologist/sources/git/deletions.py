"""Which commit deleted a revision file that a merge's first-parent diff shows deleted.

``git log --diff-merges=first-parent`` credits a merge with deletions its branch made; git's own
answer is the commit on that branch, traced here on the commit graph with generation numbers.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterable, Mapping

from migration_archaeologist.sources.git.records import Change
from migration_archaeologist.sources.git.repository import Repository


def merge_deletions(changes: Mapping[str, Iterable[Change]], is_merge: Callable[[str], bool]) -> list[tuple[str, str]]:
    """(merge, path) for each deletion of a revision file that a merge's first-parent diff shows."""
    deleting = {(c.commit, c.path) for cs in changes.values() for c in cs if c.event == "deleted"}
    merges = {commit for commit in {commit for commit, _path in deleting} if is_merge(commit)}
    return sorted(pair for pair in deleting if pair[0] in merges)


class DeletingCommits:
    """Which commit deleted a revision file that a merge's first-parent diff shows deleted.

    ``git log --diff-merges=first-parent`` shows a merge that brings in a branch on which a file
    was deleted as deleting it, against its first parent. Git's own answer (``git log
    --diff-filter=D --no-merges``) is the commit on that branch which removed the file, and the walk
    has read that commit's own diff too. So each other parent of the merge is followed down its
    first parents to the nearest commit whose diff touched the path: if it deleted the path and is
    not in the first parent's history as well, it is the deleting commit (a merge found there is
    followed the same way). If it added or changed the path, the file was there on that side and the
    merge itself removed it (a conflict resolved by deleting the file); so it is if no commit on
    that side touched the path: the merge stays the deleting commit.

    ``parents`` is each commit's parents as git prints them (``b"p1 p2"``), the walk's own record
    or ``ancestry``'s. Generation numbers (a commit is one more than its highest parent) bound
    every walk: a commit lower than the lowest one that touched the path cannot lead to it, and one
    lower than a candidate cannot reach it.
    """

    def __init__(
        self, parents: Mapping[bytes, bytes], changes: Mapping[str, Iterable[Change]], targets: list[tuple[str, str]]
    ) -> None:
        self.parents = parents
        self.targets = targets
        paths = {path for _merge, path in targets}
        self.events = {
            (c.commit.encode("ascii"), c.path): c.event for cs in changes.values() for c in cs if c.path in paths
        }
        self.generation = _generations(parents)
        self._below: tuple[bytes, int, set[bytes]] | None = None  # see _reaches
        self.lowest: dict[str, int] = {}  # path -> the lowest generation of a commit that touched it
        for commit, path in self.events:
            number = self.generation.get(commit)
            if number is not None and number < self.lowest.get(path, number + 1):
                self.lowest[path] = number

    def credited(self) -> dict[tuple[str, str], str]:
        """(merge, path) -> deleting commit, for the deletions some other commit made."""
        found: dict[tuple[str, str], str] = {}
        for merge, path in self.targets:
            deleter = self.deleter(merge.encode("ascii"), path)
            if deleter != merge.encode("ascii"):
                found[(merge, path)] = deleter.decode("ascii")
        return found

    def deleter(self, merge: bytes, path: str) -> bytes:
        seen = {merge}
        current = merge
        while True:
            found = self._on_a_side(current, path)
            if found is None:
                return current
            if b" " not in self.parents.get(found, b"") or found in seen:
                return found
            seen.add(found)  # a merge on that branch carried it in from further away: follow it there
            current = found

    def _on_a_side(self, merge: bytes, path: str) -> bytes | None:
        """The commit on a branch ``merge`` brings in whose diff deleted ``path``; None if the merge did.

        A commit found in the first parent's history too is from before the branches parted: that
        side holds the path as it was then. (With two parents only a deletion needs asking: either
        way, a file that is there says the merge removed it.)
        """
        first, *others = self.parents.get(merge, b"").split() or [b""]
        for side in others:
            touched = self._nearest_change(side, path)
            if touched is None:
                continue
            commit, event = touched
            if event == "deleted":
                if not self._reaches(first, commit):
                    return commit
            elif len(others) == 1 or not self._reaches(first, commit):
                return None  # the file was there on that side: the merge removed it
        return None

    def _nearest_change(self, start: bytes, path: str) -> tuple[bytes, str] | None:
        """The first commit down ``start``'s first parents whose diff touched ``path``, with what it did."""
        lowest = self.lowest.get(path)
        if lowest is None:
            return None
        events, parents, generation = self.events, self.parents, self.generation
        commit: bytes | None = start
        while commit is not None and generation.get(commit, -1) >= lowest:
            event = events.get((commit, path))
            if event is not None:
                return commit, event
            line = parents.get(commit)
            commit = line.split(b" ", 1)[0] if line else None
        return None

    def _reaches(self, start: bytes, target: bytes) -> bool:
        """Whether ``target`` is ``start`` or one of its ancestors.

        What ``start`` reaches down to a generation is kept for the next question: the paths of
        one merge come one after another, and ask about the same first parent.
        """
        generation = self.generation
        floor = generation.get(target, -1)
        if floor < 0:
            return False
        if self._below is None or self._below[0] != start or self._below[1] > floor:
            seen = {start}
            stack = [start]
            while stack:
                for parent in self.parents.get(stack.pop(), b"").split():
                    if parent not in seen and generation.get(parent, -1) >= floor:
                        seen.add(parent)
                        stack.append(parent)
            self._below = (start, floor, seen)
        return target in self._below[2]


def _generations(parents: Mapping[bytes, bytes]) -> dict[bytes, int]:
    """Each commit's generation: 1 + its highest parent's, a parent outside ``parents`` counting 0.

    git lists children before parents but for clock skew, so commits are taken oldest first; one
    whose parent is not settled yet waits on it, and is taken again once it is (no recursion: a
    history is deeper than Python's limit). Each commit is settled once. A cycle (only grafts or
    replace refs can make one) leaves its commits waiting: they count their unsettled parents as 0.
    """
    generation: dict[bytes, int] = {}
    waiting: dict[bytes, list[bytes]] = {}
    settled = generation.get
    for sha in reversed(list(parents)):
        line = parents[sha]
        below = settled(line) if line and b" " not in line else None
        if below is not None:  # most commits: one parent, settled already
            generation[sha] = below + 1
            if sha not in waiting:
                continue
            ready = waiting.pop(sha)
        else:
            ready = [sha]
        while ready:
            node = ready.pop()
            highest = 0
            for parent in parents[node].split():
                below = settled(parent)
                if below is None:
                    if parent in parents:
                        waiting.setdefault(parent, []).append(node)
                        break
                    below = 0
                if below > highest:
                    highest = below
            else:
                generation[node] = highest + 1
                ready.extend(waiting.pop(node, ()))
    for stuck in waiting.values():
        for node in stuck:
            if node not in generation:
                generation[node] = 1 + max((generation.get(p, 0) for p in parents[node].split()), default=0)
    return generation


def ancestry(repo: Repository, commits: list[str]) -> dict[bytes, bytes] | None:
    """Parents of ``commits`` and of everything they reach, as the walk records them (one
    ``rev-list --parents``); None if git could not say."""
    proc = repo.popen("rev-list", "--parents", "--stdin", stdin=subprocess.PIPE)
    out, _err = proc.communicate("".join(c + "\n" for c in commits).encode("ascii"))
    if proc.returncode != 0:
        return None
    found: dict[bytes, bytes] = {}
    for line in out.splitlines():
        sha, _, above = line.strip().partition(b" ")
        if sha:
            found[sha] = above
    return found
