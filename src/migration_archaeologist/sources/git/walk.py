"""The history walk: one ``git log --raw`` stream over every tip, parsed as it arrives.

Every add, change and deletion of a ``.py``-ish path is recorded and its blob handed to ``cat-file``
(the reader beside the walk); documents are kept as evidence; every commit and blob any diff names is
noted, to tell later which objects no walk reaches.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from migration_archaeologist.sources.git.cat_file import CatFile
from migration_archaeologist.sources.git.log_ahead import LogAhead
from migration_archaeologist.sources.git.raw_log import SKIPPED_MODES, fed_log, log_args
from migration_archaeologist.sources.git.records import HistoryScan, Progress
from migration_archaeologist.sources.git.repository import Repository, first_line, hexsz, null_id


@dataclass
class Walk:
    """What the log streams have shown so far: every commit and every blob any diff named.

    Reading every version of every .py file costs more than walking the history itself (in a
    20,000-commit repository, 185 MB of application code against 600 revision blobs). A revision
    file is born a revision file: ``alembic revision`` writes it whole. So every *added* blob is
    read, and so is every version at a path that looks like migrations (alembic, migrat, versions,
    revision, archive, backup, old); a later version of any other path is read only if an earlier
    read showed that path holds a revision file. ``thorough`` reads everything.
    """

    thorough: bool = False
    #: every commit shown -> its parents as git printed them (b"p1 p2", b"" for a root): the graph
    #: on which a deletion a merge only carried in is traced to its commit (see DeletingCommits).
    #: The parents cost about 16 MB on 200,000 commits over a set of the ids alone.
    commits: dict[bytes, bytes] = field(default_factory=dict)
    blobs: set[bytes] = field(default_factory=set)
    info: dict[str, tuple[bytes, bytes, bytes]] = field(default_factory=dict)  # raw date, author, subject
    deferred: dict[str, list[tuple[bytes, str]]] = field(default_factory=dict)  # path -> [(blob id, commit)] unread
    failed: set[str] = field(default_factory=set)  # commits git could not show (missing tree, corrupt object)
    docs: dict[bytes, tuple[bytes, bytes]] = field(default_factory=dict)  # document path -> (newest blob, its commit)
    old_docs: dict[tuple[bytes, bytes], bytes] = field(default_factory=dict)  # (path, older blob) -> commit
    last: str | None = None  # the last commit a log stream showed
    expected: int | None = None  # commits the object database holds, once the inventory says (for progress)


#: Never revision source: Alembic's own templates and bytecode (bytecode is a source of its own).
_NOT_SOURCE = (b".mako", b".jinja", b".jinja2", b".pyo", b".pyi")  # .pyc is read: bytecode is rebuilt
_DOC_SUFFIXES = (
    b".md",
    b".markdown",
    b".rst",
    b".txt",
    b".ini",
    b".cfg",
    b".toml",
    b".yaml",
    b".yml",
    b".json",
    b".sql",
    b".log",
    b".MD",
    b".TXT",
)
_MIGRATIONS_LIKE = re.compile(r"alembic|migrat|version|revision|archive|backup|old|legacy", re.IGNORECASE)


def walk_log(
    repo: Repository,
    tips: list[str],
    stdin_tips: list[str] | None,
    cat: CatFile,
    scan: HistoryScan,
    walk: Walk,
    progress: Progress,
    ahead: LogAhead | None = None,
) -> str | None:
    """Stream ``git log --raw`` and record every add / modify / delete of a .py-ish path; ``ahead``:
    a log already run (:class:`LogAhead`), read instead of starting one.

    No pathspec: git filters paths more slowly than this loop does, and every blob named by any
    diff must be known anyway to tell which blobs are dangling.
    """
    proc, stderr, drain = _start_log(repo, tips, stdin_tips, ahead)
    assert proc.stdout is not None
    reader = _DiffReader(scan, walk, cat, progress)
    for records in _record_batches(proc.stdout):
        reader.read(records)
    proc.wait()
    drain.join()
    for pipe in (proc.stdout, proc.stderr):  # not left to the collector (PYTHONWARNINGS=error)
        if pipe is not None:
            pipe.close()
    if proc.returncode != 0:
        return f"git log stopped early, results may be incomplete: {first_line(b''.join(stderr))}"
    return None


def _start_log(
    repo: Repository, tips: list[str], stdin_tips: list[str] | None, ahead: LogAhead | None
) -> tuple[Any, list[bytes], threading.Thread]:
    """The log stream to read, the list its stderr lands in and the thread draining it: ``ahead``
    when given, else a ``git log`` started now."""
    proc: Any
    if ahead is not None:
        proc, stderr, drain = (
            ahead,
            [],
            threading.Thread(target=lambda: stderr.append(ahead.stderr.read()), daemon=True),
        )
        drain.start()
    else:
        proc, stderr, drain = fed_log(repo, log_args(tips, stdin_tips is not None), stdin_tips)
    return proc, stderr, drain


def _record_batches(stdout: Any) -> Iterator[list[bytes]]:
    """The log's commit records (each begins with \\x01), a megabyte of output at a time; the last
    batch once the stream ends."""
    buffer = b""
    while True:
        chunk = stdout.read(1 << 20)
        if chunk:
            buffer += chunk
            cut = buffer.rfind(b"\x01")
            if cut <= 0:
                continue
            records, buffer = buffer[:cut], buffer[cut:]
        else:
            records, buffer = buffer, b""
        yield records.split(b"\x01")
        if not chunk:
            break


class _DiffReader:
    """What :func:`walk_log` records of each commit record: the commit, and each change of its raw diff."""

    def __init__(self, scan: HistoryScan, walk: Walk, cat: CatFile, progress: Progress) -> None:
        self.changes = scan.changes
        self.walk = walk
        self.request = cat.request
        self.progress = progress
        #: path bytes -> (kind, path): most paths change many times, so each is classified once
        self.kinds: dict[bytes, tuple[int, str]] = {}
        # meta's fields have fixed widths from its end, by the object format: h hex digits an id
        h = hexsz()
        self.null, self.shortest, self.new_at, self.old_at, self.old_end, self.modes_end = (
            null_id(),
            2 * h + 17,
            -(h + 2),
            -(2 * h + 3),
            -(h + 3),
            -(2 * h + 4),
        )

    def read(self, records: list[bytes]) -> None:
        seen_commits = self.walk.commits
        last: bytes | None = None
        for record in records:
            tokens = record.split(b"\x00")
            n = len(tokens)
            if n < 5:
                continue
            sha = tokens[0]
            if sha in seen_commits:
                continue
            seen_commits[sha] = tokens[1]  # its parents
            last = sha
            if len(seen_commits) % 2000 == 0:
                self.progress("walking history", len(seen_commits), self.walk.expected)
            self._diff(sha, tokens, n)
        if last is not None:
            self.walk.last = last.decode("ascii")

    def _diff(self, sha: bytes, tokens: list[bytes], n: int) -> None:
        """One commit's raw diff: after its header, ``tokens`` are (meta, path) pairs."""
        intern = sys.intern
        seen_blob = self.walk.blobs.add
        kinds = self.kinds
        shortest, new_at = self.shortest, self.new_at
        commit: str | None = None
        for i in range(5, n - 1, 2):
            meta = tokens[i]
            # meta is b"[\n]:oldmode newmode oldsha newsha S"; fixed widths from the end
            if len(meta) < shortest:
                continue
            new_sha = meta[new_at:-2]
            # Every blob of a walked tree is new in some walked commit's diff (the root's diff
            # names them all), so the new ids alone tell which blobs are dangling.
            seen_blob(new_sha)
            path_bytes = tokens[i + 1]
            kind = kinds.get(path_bytes)
            if kind is None:
                kind = kinds[path_bytes] = _path_kind(path_bytes, intern)
            if kind[0] == _OTHER:
                continue
            status = meta[-1:]
            if kind[0] == _DOCUMENT:
                self._document(status, path_bytes, new_sha, sha)
                continue
            if commit is None:
                commit = sha.decode("ascii")
            self._change(meta, status, new_sha, kind, commit, tokens)

    def _document(self, status: bytes, path_bytes: bytes, new_sha: bytes, sha: bytes) -> None:
        walk = self.walk
        if status != b"D":
            # documents are evidence: each path's newest version (--thorough: every version)
            if path_bytes not in walk.docs:
                walk.docs[path_bytes] = (new_sha, sha)
            elif walk.thorough:
                walk.old_docs.setdefault((path_bytes, new_sha), sha)

    def _change(
        self, meta: bytes, status: bytes, new_sha: bytes, kind: tuple[int, str], commit: str, tokens: list[bytes]
    ) -> None:
        modes = meta[-self.shortest : self.modes_end]
        path = kind[1]
        if status == b"D":
            if modes[:6] in SKIPPED_MODES:
                return
            blob = meta[self.old_at : self.old_end].decode("ascii")
            event = "deleted"
        else:
            if modes[7:] in SKIPPED_MODES or new_sha == self.null:
                return
            if status == b"M" and kind[0] == _SOURCE and not self.walk.thorough:
                # most of a big history, so kept small: the id's bytes (shared with
                # seen_blobs), read only if the path proves to hold revision files
                self.walk.deferred.setdefault(path, []).append((new_sha, commit))
                return
            blob = new_sha.decode("ascii")
            event = "added" if status == b"A" else "modified"
        info = self.walk.info
        if commit not in info:
            info[commit] = (tokens[2], tokens[3], tokens[4])
        self.changes.setdefault(blob, []).append((commit, event, path))  # type: ignore[arg-type]
        self.request(blob)


_OTHER, _DOCUMENT, _SOURCE, _MIGRATIONS = 0, 1, 2, 3


def _path_kind(path: bytes, intern: Callable[[str], str]) -> tuple[int, str]:
    """What a changed path is to the walk: ignored, a document (evidence), or source worth reading,
    eagerly when it looks like a migrations folder. ``.py``, ``.py.bak`` and ``.py~`` are source:
    the content decides the rest."""
    if b".py" not in path or path.endswith(_NOT_SOURCE):
        return (_DOCUMENT, "") if path.endswith(_DOC_SUFFIXES) else (_OTHER, "")
    text = intern(path.decode("utf-8", "surrogateescape"))
    return (_MIGRATIONS if _MIGRATIONS_LIKE.search(text) else _SOURCE), text
