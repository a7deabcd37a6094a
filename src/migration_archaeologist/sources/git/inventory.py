"""What the object database gained since a stored scan: objects in new packs, their types, new
commits' parents, and the graph questions an update asks of them (closure, topological order, what
no ref reaches any more).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet

from migration_archaeologist.sources.git.repository import Repository, git_env


def pack_objects(repo: Repository, packs: Iterable[str]) -> set[str] | None:
    """Object ids in new pack files (``git show-index`` reads the .idx); None if one cannot be read."""
    found: set[str] = set()
    for pack in sorted(packs):
        index = repo.common_dir / "objects" / "pack" / (pack[: -len(".pack")] + ".idx")
        try:
            data = index.read_bytes()
        except OSError:
            return None
        proc = subprocess.run(["git", "show-index"], input=data, capture_output=True, env=git_env())
        if proc.returncode != 0:
            return None
        found.update(line.split()[1].decode("ascii") for line in proc.stdout.splitlines() if line.strip())
    return found


def object_types(repo: Repository, objects: AbstractSet[str]) -> tuple[set[str], set[str]]:
    """Which of ``objects`` are commits and which are blobs (one ``cat-file --batch-check``)."""
    if not objects:
        return set(), set()
    out = repo.run(
        "cat-file",
        "--batch-check=%(objecttype) %(objectname)",
        input="".join(o + "\n" for o in sorted(objects)).encode("ascii"),
        check=False,
    )
    commits: set[str] = set()
    blobs: set[str] = set()
    for line in out.decode("ascii", "replace").splitlines():
        kind, _, sha = line.partition(" ")
        if kind == "commit":
            commits.add(sha)
        elif kind == "blob":
            blobs.add(sha)
    return commits, blobs


def commit_parents(repo: Repository, commits: set[str]) -> dict[str, tuple[str, ...]] | None:
    """Each commit's parents (one ``rev-list --no-walk --parents``); None if git could not say."""
    if not commits:
        return {}
    proc = repo.popen("rev-list", "--no-walk=unsorted", "--parents", "--stdin", stdin=subprocess.PIPE)
    out, _err = proc.communicate("".join(c + "\n" for c in sorted(commits)).encode("ascii"))
    if proc.returncode != 0:
        return None
    found: dict[str, tuple[str, ...]] = {}
    for line in out.decode("ascii").splitlines():
        shas = line.split()
        if shas:
            found[shas[0]] = tuple(shas[1:])
    return found


def closure(start: set[str], parents: Mapping[str, tuple[str, ...]], within: set[str]) -> set[str]:
    """``start`` and their ancestors, following parents only inside ``within``."""
    found = set(start)
    stack = list(start)
    while stack:
        for parent in parents.get(stack.pop(), ()):
            if parent in within and parent not in found:
                found.add(parent)
                stack.append(parent)
    return found


def topological(commits: set[str], parents: Mapping[str, tuple[str, ...]]) -> list[str]:
    """Children before parents (as ``rev-list --topo-order``), for a handful of new commits."""
    order: list[str] = []
    done: set[str] = set()
    for root in sorted(commits):
        stack = [(root, False)]
        while stack:
            sha, expanded = stack.pop()
            if expanded:
                order.append(sha)
                continue
            if sha in done:
                continue
            done.add(sha)
            stack.append((sha, True))
            stack.extend((p, False) for p in parents.get(sha, ()) if p in commits and p not in done)
    return order[::-1]


def not_reachable(repo: Repository, commits: list[str]) -> list[str] | None:
    """Of ``commits`` and their ancestry, what no ref and no reflog reaches (None if git could not tell)."""
    if not commits:
        return []
    proc = repo.popen("rev-list", "--stdin", "--not", "--all", "--reflog", stdin=subprocess.PIPE)
    out, _err = proc.communicate("".join(c + "\n" for c in commits).encode("ascii"))
    if proc.returncode != 0:
        return None
    return out.decode("ascii").split()
