"""Revision files present in the versions directories now: what Alembic would load today."""

from __future__ import annotations

import os
import threading
from datetime import datetime, timezone
from pathlib import Path
from stat import S_ISLNK, S_ISREG
from collections.abc import Callable, Iterable, Iterator, Mapping

from migration_archaeologist.files.untrusted import BoundedWalk, FileTooLarge, NotRegularFile, kind_of
from migration_archaeologist.parse.revision import RevisionFile, Unparseable
from migration_archaeologist.sources.git.lfs import parse_pointer
from migration_archaeologist.sources.interface import Sighting, git_blob_id


_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
#: a file in a versions directory larger than this is no revision file anyone wrote
READ_LIMIT = 64 * 1024 * 1024


class WorkTree:
    """Source of ``worktree`` sightings for every ``*.py`` in the given versions directories."""

    def __init__(
        self, root: Path, versions_dirs: list[Path], known: Mapping[str, RevisionFile | Unparseable] | None = None
    ) -> None:
        """``known``: blobs already parsed (the history scan's), so a file committed as it is is not parsed twice."""
        self.root = root
        self.versions_dirs = outermost(versions_dirs)
        self.known: Mapping[str, RevisionFile | Unparseable] = known or {}
        self._contents: dict[str, bytes] = {}
        self._parsed: dict[str, RevisionFile | Unparseable] = {}
        self._files: list[tuple[str, str, str, str, str]] | None = None  # (folder, name, blob, date, where)
        self._read_lock = threading.Lock()
        self._count = 0  # files in the folders, once listed
        self.unreadable: list[str] = []

    def files(self) -> Iterator[Path]:
        for dirpath, name in self._walk():
            yield Path(dirpath) / name

    def _walk(self) -> Iterator[tuple[str, str]]:
        """(folder, name) of each ``*.py``, folders and names sorted, as the plain strings os.walk gives."""
        for directory in self.versions_dirs:
            if not directory.is_dir():
                continue
            bounded = BoundedWalk()
            for dirpath, dirnames, filenames in bounded.walk(directory):
                dirnames[:] = sorted(d for d in dirnames if d != "__pycache__" and not d.startswith("."))
                for name in sorted(filenames):
                    if name.endswith(".py") and not name.startswith("."):
                        yield dirpath, name
            if bounded.cut_short:
                self.unreadable.append(bounded.note(directory))

    def read(self) -> None:
        """Read and hash every file once. A scan calls this in a thread while git is walked: it needs
        only the folders, not the history, and on 10,000 files it is 0.25 s of a first ``check``."""
        for _ in self._reading():
            pass

    def _reading(self) -> Iterator[tuple[str, bytes]]:
        """Read and hash each file, yielding (blob, content) as it goes; nothing if read before.

        Plain strings and os calls throughout: pathlib objects per file (construction, relative_to,
        is_symlink, stat, read_bytes) were 0.75 s of a warm check on 10,000 revision files.
        """
        with self._read_lock:
            if self._files is not None:
                return
            entries = list(self._walk())
            self._count = len(entries)
            root = str(self.root.resolve())
            # folder -> it and its resolved self, ending in a separator: each folder resolved once, not
            # each file twice (0.4 s for 10,000), and a file's paths joined by concatenation
            folders: dict[str, tuple[str, str]] = {}
            files: list[tuple[str, str, str, str, str]] = []
            for dirpath, name in entries:
                folder = folders.get(dirpath)
                if folder is None:
                    folder = folders[dirpath] = (_with_sep(dirpath), _with_sep(os.path.realpath(dirpath)))
                path = folder[0] + name
                try:
                    data, stamp, linked = _read(path)
                except OSError as exc:
                    self.unreadable.append(f"{Path(dirpath) / name}: {exc.strerror}")
                    continue
                blob = git_blob_id(data)
                # where and when it is seen, worked out here: a scan reads while git is walked
                date = datetime.fromtimestamp(stamp, tz=timezone.utc).isoformat(timespec="seconds")
                resolved = os.path.realpath(path) if linked else folder[1] + name  # a link: where it points
                where = _relative(resolved, root)
                if where is None:
                    where = (Path(dirpath) / name).as_posix()
                files.append((dirpath, name, blob, date, where))
                self._contents[blob] = data
                yield blob, data
            self._files = files

    def _unknown(self) -> Iterator[tuple[str, bytes]]:
        """Contents no history scan has parsed (uncommitted or changed files), each once: read now,
        and parsed as they are read, unless a scan read the folders already."""
        known = self.known
        seen: set[str] = set()
        streamed = False
        for blob, data in self._reading():
            streamed = True
            if blob not in known and blob not in seen:
                seen.add(blob)
                yield blob, data
        if not streamed:
            assert self._files is not None
            for _d, _n, blob, _t, _w in self._files:
                if blob not in known and blob not in seen:
                    seen.add(blob)
                    yield blob, self._contents[blob]

    def iter_sightings(self) -> Iterator[Sighting]:
        # parsed on every core when there are many: how many is known exactly once the folders are
        # read, and is the number of files while they are read if no history scan parsed any
        unknown: Iterable[tuple[str, bytes]] = self._unknown()
        expected: Callable[[], int] | int | None = None
        if self._files is not None:
            unknown = list(unknown)
            expected = len(unknown)
        elif not self.known:
            expected = lambda: self._count  # noqa: E731
        from migration_archaeologist.parse.pool import parse_many  # a rescan the cache answers parses nothing

        for blob, _data, parsed in parse_many(unknown, expected=expected):
            if parsed is not None:
                self._parsed[blob] = parsed
        assert self._files is not None
        known = self.known
        for _dirpath, name, blob, date, where in self._files:
            parsed = known.get(blob) or self._parsed.get(blob)
            if parsed is None:
                if not _alembic_loads(name):
                    continue
                # Alembic imports every such file and stops at one without a revision
                parsed = _not_a_revision(name, self._contents[blob])
            self._parsed[blob] = parsed
            yield Sighting(blob, "worktree", "seen", None, None, where, date)

    def content(self, blob: str) -> bytes:
        return self._contents[blob]

    def parsed(self, blob: str) -> RevisionFile | Unparseable:
        return self._parsed[blob]


def outermost(dirs: Iterable[Path]) -> list[Path]:
    """The folders without those inside another one (or repeated): each is walked whole, so a folder
    and its subfolder given together would count every file of the subfolder twice."""
    kept: list[Path] = []
    resolved: list[Path] = []
    for directory in dirs:
        real = Path(os.path.realpath(directory))
        if any(real == r or r in real.parents for r in resolved):
            continue
        inner = [i for i, r in enumerate(resolved) if real in r.parents]
        for i in reversed(inner):
            del kept[i], resolved[i]
        kept.append(directory)
        resolved.append(real)
    return kept


def _not_a_revision(name: str, data: bytes) -> Unparseable:
    """Why Alembic cannot load the versions directory because of this file; a Git LFS pointer says so
    (a clone without git-lfs: the revision is not present, whatever git's tree holds)."""
    pointer = parse_pointer(data)
    if pointer is not None:
        return Unparseable(
            f"a Git LFS pointer (sha256:{pointer.oid}), not the revision file: git-lfs's smudge never ran here, "
            f"so Alembic cannot load the versions directory; 'git lfs checkout' writes the real file "
            f"(this tool never overwrites it)",
            None,
        )
    return Unparseable(
        "not a revision file (no module-level revision), so Alembic cannot load the versions "
        f"directory: Could not determine revision id from filename {name}",
        None,
    )


def _alembic_loads(name: str) -> bool:
    """Alembic's own filter for revision source files (alembic.script.base._only_source_rev_file)."""
    return name.endswith(".py") and not name.startswith((".#", "__init__"))


def _read(path: str) -> tuple[bytes, float, bool]:
    """Content, modification time (of the target, for a link) and whether ``path`` is a symbolic link:
    one lstat tells both for a plain file; only a link is stat'ed again."""
    # O_NONBLOCK and fstat first: a FIFO named *.py would hang the scan, a link to /dev/zero fill memory
    fd = os.open(path, os.O_RDONLY | _NONBLOCK)
    with open(fd, "rb", buffering=0) as file:  # one read of the whole file, no buffer layer
        target = os.fstat(fd)  # of the target, for a link
        if not S_ISREG(target.st_mode):
            raise NotRegularFile(path, kind_of(target.st_mode))
        if target.st_size > READ_LIMIT:
            raise FileTooLarge(path, READ_LIMIT)
        data = file.read(READ_LIMIT + 1)
        while len(data) <= READ_LIMIT and (more := file.read(READ_LIMIT + 1 - len(data))):
            data += more
    if len(data) > READ_LIMIT:
        raise FileTooLarge(path, READ_LIMIT)
    linked = S_ISLNK(os.lstat(path).st_mode)
    return data, target.st_mtime, linked


def _with_sep(folder: str) -> str:
    return folder if folder.endswith(os.sep) else folder + os.sep


def _relative(resolved: str, root: str) -> str | None:
    """``resolved`` below ``root`` (both resolved) as a posix path, as ``PurePath.relative_to`` gives it;
    None when it lies elsewhere."""
    if resolved == root:
        return "."
    prefix = _with_sep(root)
    if not resolved.startswith(prefix):
        return None
    return resolved[len(prefix) :].replace(os.sep, "/")
