"""Walking a damaged object database commit by commit, stepping over each commit git cannot show.

A missing or corrupt object stops ``git log`` for good; this shows the commits one by one instead
and notes which object stopped git, and at which commit.
"""

from __future__ import annotations

import re

from migration_archaeologist.sources.git.cat_file import CatFile
from migration_archaeologist.sources.git.records import HistoryScan, Progress
from migration_archaeologist.sources.git.repository import Repository, first_line
from migration_archaeologist.sources.git.walk import Walk, walk_log
from migration_archaeologist.sources.interface import Unreadable


def walk_each(
    repo: Repository,
    commits: list[str],
    cat: CatFile,
    scan: HistoryScan,
    walk: Walk,
    progress: Progress,
    first_error: str,
) -> str:
    """Show ``commits`` with ``--no-walk``; where git dies, note the commit it died on and go on after it.

    git prints a commit's header before diffing it, so the culprit is either the last commit shown
    (its tree could not be read) or the next one (its object could not be read); showing the last
    one alone again tells which. Where git names the object it could not read (a corrupt loose
    commit or tree, a missing tree: often the parent's, which a healthy child is diffed against),
    that object is the one noted as unreadable, with the commit it stopped git at.
    """
    remaining = [c for c in commits if c.encode() not in walk.commits]
    while remaining:
        walk.last = None
        error = walk_log(repo, ["--no-walk=unsorted"], remaining, cat, scan, walk, progress)
        if error is None:
            break
        last: str | None = walk.last  # set by walk_log
        named_tip = _OBJECT_ID.search(error)
        if last is None and named_tip and named_tip.group() in remaining:
            # git reads every tip before it shows one: a tip whose commit object is corrupt stops it
            # before any output, and is named; the others were not shown, and are tried again
            bad = named_tip.group()
            remaining.remove(bad)
            after = remaining
        else:
            index = remaining.index(last) if last in remaining else -1
            if last is not None and not _shows_alone(repo, last, cat, scan, walk, progress):
                bad = last
            else:
                index += 1
                if index >= len(remaining):
                    break
                bad = remaining[index]
            after = remaining[index + 1 :]
        walk.failed.add(bad)
        reason = (error.split(": ", 1)[-1] if last == bad or last is None else first_error_alone(repo, bad)) or error
        named = _OBJECT_ID.search(reason)
        if named and named.group() != bad:
            # the line is then the same for each commit the object stops: say which one this is
            scan.unreadable.append(Unreadable(named.group(), None, bad, f"{reason} (while showing commit {bad[:10]})"))
        else:
            scan.unreadable.append(Unreadable(bad, None, bad, reason))
        remaining = after
    return f"{first_error.split(': ', 1)[-1]}; scanned commit by commit instead, {len(walk.failed)} commit(s) could not be read"


def _shows_alone(
    repo: Repository, commit: str, cat: CatFile, scan: HistoryScan, walk: Walk, progress: Progress
) -> bool:
    """Show one commit again, dropping whatever its interrupted first showing recorded."""
    for changes in scan.changes.values():
        changes[:] = [c for c in changes if c[0] != commit]
    for pairs in walk.deferred.values():
        pairs[:] = [pair for pair in pairs if pair[1] != commit]
    walk.commits.pop(commit.encode(), None)
    return walk_log(repo, ["--no-walk=unsorted"], [commit], cat, scan, walk, progress) is None


#: An object id in git's error line ("fatal: loose object <sha> (stored in ...) is corrupt",
#: "fatal: unable to read tree <sha>"): the object git could not read.
_OBJECT_ID = re.compile(r"(?<![0-9a-f])(?:[0-9a-f]{64}|[0-9a-f]{40})(?![0-9a-f])")


def first_error_alone(repo: Repository, commit: str) -> str:
    proc = repo.popen("log", "--no-walk", "--raw", "--no-textconv", "--no-ext-diff", "--format=%H", commit)
    _out, err = proc.communicate()
    return first_line(err) if proc.returncode else ""
