"""Every version of every revision file that git still holds: all refs, reflogs, stashes, unreachable commits.

Reads history as bulk streams (git-filter-repo's lesson): one ``git log --raw`` over every tip, one
``git cat-file --batch`` for contents, one ``git fsck`` for what no ref reaches, and commit-only
``rev-list`` walks to tell which tip keeps each commit alive. Revision files are recognised by
content, so a file moved to ``archive/old/`` is found like any other.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Iterator

from migration_archaeologist.gitrepo import Repository, first_line
from migration_archaeologist.revision import RevisionFile, Unparseable, looks_like_revision, parse_revision
from migration_archaeologist.sources.git_blobs import CatFile
from migration_archaeologist.sources.git_unreachable import FsckReport, run_fsck
from migration_archaeologist.sources.interface import Sighting, Unreadable

#: Paths worth reading. Content decides what is a revision file; this only skips images and docs.
PATHSPEC = (":(glob)**/*.py", ":(glob)**/*.py.*", ":(glob)**/*.py~")
NULL_SHA = "0" * 40
SKIPPED_MODES = {"120000", "160000"}  # symlinks and submodules hold no file content

Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class CommitInfo:
    date: str
    author: str
    subject: str


@dataclass(frozen=True)
class ReflogEntry:
    commit: str
    selector: str  # e.g. HEAD@{3}, stash@{1}
    full_selector: str  # e.g. refs/stash@{1}

    @property
    def is_stash(self) -> bool:
        return self.full_selector.startswith("refs/stash@{")


@dataclass
class _Change:
    commit: str
    event: str
    path: str


@dataclass
class HistoryScan:
    """What one pass over the repository's object database found."""

    parsed: dict[str, RevisionFile | Unparseable] = field(default_factory=dict)
    contents: dict[str, bytes] = field(default_factory=dict)
    changes: dict[str, list[_Change]] = field(default_factory=dict)
    commits: dict[str, CommitInfo] = field(default_factory=dict)
    origin: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # commit -> (source, ref)
    head_history: frozenset[str] = frozenset()
    dangling_blobs: tuple[str, ...] = ()
    unreadable: list[Unreadable] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    commits_walked: int = 0
    blobs_read: int = 0


class GitHistory:
    """Source of sightings from a repository's whole object database."""

    def __init__(self, repo: Repository, progress: Progress | None = None) -> None:
        self.repo = repo
        self._progress = progress or (lambda phase, n: None)
        self._scan: HistoryScan | None = None

    # -- Source protocol -------------------------------------------------------------------
    def iter_sightings(self) -> Iterator[Sighting]:
        scan = self.result()
        for blob, changes in scan.changes.items():
            if blob not in scan.parsed:
                continue
            for change in changes:
                source, ref = scan.origin.get(change.commit, ("history", None))
                info = scan.commits.get(change.commit)
                yield Sighting(
                    blob=blob,
                    source=source,
                    event=change.event,
                    commit=change.commit,
                    ref=ref,
                    path=change.path,
                    date=info.date if info else None,
                )
        for blob in scan.dangling_blobs:
            if blob in scan.parsed:
                yield Sighting(blob, "unreachable", "seen", None, None, None, None)

    def content(self, blob: str) -> bytes:
        return self.result().contents[blob]

    def parsed(self, blob: str) -> RevisionFile | Unparseable:
        return self.result().parsed[blob]

    # -- the scan --------------------------------------------------------------------------
    def result(self) -> HistoryScan:
        if self._scan is None:
            self._scan = self._run()
        return self._scan

    def _run(self) -> HistoryScan:
        scan = HistoryScan()
        repo = self.repo
        if repo.shallow:
            scan.warnings.append(
                "shallow clone: history is truncated, revisions older than the shallow boundary may be missing "
                "(run 'git fetch --unshallow' for a full scan)"
            )
        with ThreadPoolExecutor(max_workers=3) as pool:
            fsck_future = pool.submit(run_fsck, repo)
            reflog_future = pool.submit(_reflog_entries, repo)
            head_future = pool.submit(_head_history, repo)
            cat = CatFile(repo)
            reader = threading.Thread(target=self._read_blobs, args=(cat, scan), daemon=True)
            reader.start()
            log_error = _walk_log(repo, ["--all", "--reflog"], None, cat, scan, self._progress)
            fsck: FsckReport = fsck_future.result()
            # fsck lists every unreachable commit, not only tips: show each once, without walking again.
            extra = [c for c in fsck.commits if c not in scan.commits]
            if extra:
                extra_error = _walk_log(repo, ["--no-walk=unsorted"], extra, cat, scan, self._progress)
                log_error = log_error or extra_error
            seen_blobs = set(scan.changes)
            scan.dangling_blobs = tuple(b for b in fsck.blobs if b not in seen_blobs)
            for blob in scan.dangling_blobs:
                cat.request(blob)
            cat.close_requests()
            reflog = reflog_future.result()
            scan.head_history = head_future.result()
            reader.join()
        if log_error:
            scan.warnings.append(log_error)
        if fsck.error:
            scan.warnings.append(fsck.error)
        for sha in fsck.missing:
            scan.unreadable.append(Unreadable(sha, None, None, "object missing from the repository (fsck)"))
        scan.origin = _classify(repo, reflog, fsck.commits, scan)
        # Keep only what the catalog will look at: changes of revision blobs, and their commits.
        scan.changes = {b: c for b, c in scan.changes.items() if b in scan.parsed}
        used = {change.commit for changes in scan.changes.values() for change in changes}
        scan.commits = {sha: info for sha, info in scan.commits.items() if sha in used}
        return scan

    def _read_blobs(self, cat: CatFile, scan: HistoryScan) -> None:
        for sha, data in cat.answers():
            scan.blobs_read += 1
            if scan.blobs_read % 500 == 0:
                self._progress("reading blobs", scan.blobs_read)
            if data is None:
                changes = scan.changes.get(sha) or []
                where = changes[0] if changes else None
                scan.unreadable.append(
                    Unreadable(
                        sha,
                        where.path if where else None,
                        where.commit if where else None,
                        "object missing from the repository or unreadable",
                    )
                )
                continue
            if not looks_like_revision(data):
                continue
            parsed = parse_revision(data)
            if parsed is None:
                continue
            scan.parsed[sha] = parsed
            scan.contents[sha] = data


def _walk_log(
    repo: Repository,
    tips: list[str],
    stdin_tips: list[str] | None,
    cat: CatFile,
    scan: HistoryScan,
    progress: Progress,
) -> str | None:
    """Stream ``git log --raw`` and record every add / modify / delete of a .py-ish path."""
    args = [
        "log",
        *tips,
        "--raw",
        "--no-renames",
        "--no-abbrev",
        "-z",
        "--root",
        "--full-history",
        "--diff-merges=first-parent",
        "--no-textconv",
        "--no-ext-diff",
        "--format=%x01%H%x00%aI%x00%an%x00%s",
    ]
    if stdin_tips is not None:
        args.append("--stdin")
    args += ["--", *PATHSPEC]
    proc = repo.popen(*args, stdin=subprocess.PIPE if stdin_tips is not None else None)
    stderr: list[bytes] = []
    drain = threading.Thread(target=lambda: stderr.append(proc.stderr.read()), daemon=True)  # type: ignore[union-attr]
    drain.start()
    if stdin_tips is not None:
        assert proc.stdin is not None

        def feed() -> None:
            try:
                proc.stdin.write("".join(t + "\n" for t in stdin_tips).encode("ascii"))  # type: ignore[union-attr]
                proc.stdin.close()  # type: ignore[union-attr]
            except BrokenPipeError:
                pass

        threading.Thread(target=feed, daemon=True).start()
    assert proc.stdout is not None
    buffer = b""
    intern = sys.intern
    changes = scan.changes
    while True:
        chunk = proc.stdout.read(1 << 20)
        if chunk:
            buffer += chunk
            cut = buffer.rfind(b"\x01")
            if cut <= 0:
                continue
            records, buffer = buffer[:cut], buffer[cut:]
        else:
            records, buffer = buffer, b""
        for record in records.split(b"\x01"):
            if not record:
                continue
            tokens = record.split(b"\x00")
            if len(tokens) < 4:
                continue
            commit = tokens[0].decode("ascii")
            if commit in scan.commits:
                continue
            scan.commits[commit] = CommitInfo(
                tokens[1].decode("ascii"),
                tokens[2].decode("utf-8", "replace"),
                tokens[3].decode("utf-8", "replace"),
            )
            scan.commits_walked += 1
            if scan.commits_walked % 1000 == 0:
                progress("walking history", scan.commits_walked)
            i = 4
            n = len(tokens)
            while i < n:
                meta = tokens[i].lstrip(b"\n")
                if not meta.startswith(b":") or i + 1 >= n:
                    i += 1
                    continue
                path = intern(tokens[i + 1].decode("utf-8", "surrogateescape"))
                i += 2
                fields = meta[1:].split(b" ")
                if len(fields) < 5:
                    continue
                old_mode, new_mode = fields[0].decode(), fields[1].decode()
                old_sha, new_sha = fields[2].decode("ascii"), fields[3].decode("ascii")
                status = fields[4][:1]
                if status == b"D":
                    if old_mode in SKIPPED_MODES:
                        continue
                    changes.setdefault(old_sha, []).append(_Change(commit, "deleted", path))
                    cat.request(old_sha)
                elif status in (b"A", b"M", b"T", b"C", b"R"):
                    if new_mode in SKIPPED_MODES or new_sha == NULL_SHA:
                        continue
                    event = "added" if status == b"A" or old_sha == NULL_SHA else "modified"
                    changes.setdefault(new_sha, []).append(_Change(commit, event, path))
                    cat.request(new_sha)
        if not chunk:
            break
    proc.wait()
    drain.join()
    if proc.returncode != 0:
        return f"git log stopped early, results may be incomplete: {first_line(b''.join(stderr))}"
    return None


def _reflog_entries(repo: Repository) -> list[ReflogEntry]:
    out = repo.run("log", "--walk-reflogs", "--all", "--format=%H %gd %gD", check=False)
    entries = []
    for line in out.decode("utf-8", "replace").splitlines():
        parts = line.split(" ")
        if len(parts) >= 3 and len(parts[0]) >= 40:
            entries.append(ReflogEntry(parts[0], parts[1], parts[2]))
    return entries


def _head_history(repo: Repository) -> frozenset[str]:
    if repo.head is None:
        return frozenset()
    out = repo.run("rev-list", repo.head, check=False)
    return frozenset(out.decode("ascii").split())


def _classify(
    repo: Repository, reflog: list[ReflogEntry], unreachable: tuple[str, ...], scan: HistoryScan
) -> dict[str, tuple[str, str | None]]:
    """Which tip keeps each commit alive: a ref (history), a reflog entry, a stash entry, or nothing."""
    tips = {e.commit for e in reflog} | set(unreachable)
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
    for sha in parents:
        if sha not in origin:
            origin[sha] = ("unreachable", None)
    return origin
