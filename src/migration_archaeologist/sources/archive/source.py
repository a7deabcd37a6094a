"""The ``archive`` source: revision files in backup folders, zip/tar archives (and archives inside those), git bundles.

Lost migrations often survive as a ``backup/`` copy, a release tarball or a bundle someone mailed.
Archives are untrusted input, so they are read **in memory only**: nothing is extracted, no member
path is ever joined to a directory, links are never followed, and sizes and compression ratios are
checked before (zip) or while (tar) decompressing. Anything refused becomes an :class:`ArchiveIssue`;
bad input never raises.

Sighting paths name the archive (relative to ``root`` when under it) and the member, joined by
``!`` as in a jar URL: ``backups/old.zip!versions/abc_add.py``; one level of nesting adds one more
``!``: ``outer.tar.gz!inner.zip!versions/x.py``. Plain files found by walking a folder are just
their path relative to ``root``.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from collections.abc import Iterator, Sequence
from typing import BinaryIO

from migration_archaeologist.files.untrusted import BoundedWalk, NotRegularFile, kind_of, open_regular
from migration_archaeologist.parse.revision import RevisionFile, Unparseable, looks_like_revision, parse_revision
from migration_archaeologist.sources.archive.bundle import read_bundle
from migration_archaeologist.sources.archive.containers import read_archive
from migration_archaeologist.sources.archive.findings import ArchiveIssue, Context, Found, iso_date, one_line
from migration_archaeologist.sources.archive.limits import Budget, Limits
from migration_archaeologist.sources.archive.image import is_layout_folder, order_layout_folder
from migration_archaeologist.sources.archive.installed import dist_info_owners, sourceless
from migration_archaeologist.sources.archive.names import (
    SNIFF_BYTES,
    archive_kind,
    is_candidate,
    is_sniffable,
    sniff_kind,
)
from migration_archaeologist.sources.interface import Sighting, git_blob_id

_WALK_SKIP = frozenset({".git"})


class ArchiveSource:
    """Source of ``archive`` sightings for revision files inside folders, archives and git bundles."""

    def __init__(
        self,
        paths: Sequence[Path],
        *,
        root: Path | None = None,
        limits: Limits = Limits(),  # noqa: B008 - Limits is a frozen dataclass
        named: bool = True,
        objects: Path | None = None,
    ) -> None:
        """``objects``: the scanned repository's object directory, which incremental bundles need."""
        self.paths = list(paths)
        self.objects = objects
        self.root = root
        self.named = named  # the user named these paths: one of no known suffix is opened by content, else noted
        self.limits = limits
        self.issues: list[ArchiveIssue] = []
        self._contents: dict[str, bytes] = {}
        self._parsed: dict[str, RevisionFile | Unparseable] = {}
        self._not_revisions: set[str] = set()
        self._fidelity: dict[str, str] = {}

    # ------------------------------------------------------------------ Source protocol

    def iter_sightings(self) -> Iterator[Sighting]:
        for path in self.paths:
            for found in self._scan_top(Path(path)):
                data, fidelity = self._source_of(found)
                if data is None:
                    continue
                blob = git_blob_id(data)
                if blob in self._not_revisions:
                    continue
                if blob not in self._parsed:
                    parsed = parse_revision(data)
                    if parsed is None:
                        self._not_revisions.add(blob)
                        continue
                    self._parsed[blob] = parsed
                    self._contents[blob] = data
                    self._fidelity[blob] = fidelity
                yield Sighting(blob, "archive", "seen", None, found.ref, found.path, found.date)

    def _source_of(self, found: Found) -> tuple[bytes | None, str]:
        """A member's revision source: its bytes, or for a .pyc the source rebuilt from it."""
        from migration_archaeologist.sources.bytecode.header import read_header  # when read
        from migration_archaeologist.sources.bytecode.rebuild import rebuild, worth_reporting

        if read_header(found.data) is None:
            if not found.path.lower().endswith(".pyc"):
                return found.data, "exact"
            if not found.given:
                return None, ""  # in a folder or an archive, named like bytecode but not bytecode: passed over
            # given itself: rebuild() says why it is no bytecode (bad magic number, truncated header),
            # as for the same file in __pycache__
        result = rebuild(found.data, pyc_name=found.path)
        if isinstance(result, Unparseable):
            if worth_reporting(result):
                self.issues.append(ArchiveIssue(found.archive or found.path, found.member, result.reason))
            return None, ""
        return result.source, result.fidelity

    def fidelity(self, blob: str) -> str:
        return self._fidelity.get(blob, "exact")

    def content(self, blob: str) -> bytes:
        return self._contents[blob]

    def parsed(self, blob: str) -> RevisionFile | Unparseable:
        return self._parsed[blob]

    # ------------------------------------------------------------------ top level

    def _scan_top(self, path: Path) -> Iterator[Found]:
        """One given path; any failure becomes an issue and the next path is scanned."""
        try:
            if path.is_symlink() and not path.exists():
                self._issue(str(path), None, "dangling symlink: not read")
            elif path.is_dir() and is_layout_folder(path):  # found all first: the layer order is applied at the end
                found = list(self._walk(path))
                order_layout_folder(path, found)
                yield from found
            elif path.is_dir():
                yield from self._walk(path)
            elif path.is_file():
                yield from self._file(path, str(path), top=True)
            elif not path.exists():
                self._issue(str(path), None, "no such file or directory")
            else:  # a FIFO would hang the scan, a device never end
                self._issue(str(path), None, f"it is {_kind(path)}, not a regular file: not read")
        except Exception as exc:  # contract: bad input never raises
            self._issue(str(path), None, one_line(f"not read: {type(exc).__name__}: {exc}"))

    def _walk(self, folder: Path) -> Iterator[Found]:
        """Walk a plain folder without following links; archives found in it are opened.

        In an installed app (a ``site-packages`` folder) files a ``*.dist-info/RECORD`` lists are
        named after their distribution, and ``__pycache__`` bytecode is read when its source is gone.
        """
        bounded = BoundedWalk()  # an archive folder of a whole disk would otherwise run for hours
        owners: dict[str, str] = {}
        for dirpath, dirnames, filenames in bounded.walk(
            folder, onerror=lambda e: self._issue(str(folder), None, one_line(f"not read: {e}"))
        ):
            dirnames[:] = sorted(d for d in dirnames if d not in _WALK_SKIP)
            dist_infos = [d for d in dirnames if d.endswith(".dist-info")]
            if dist_infos:
                owners.update(dist_info_owners(Path(dirpath), dist_infos))
            in_cache = os.path.basename(dirpath) == "__pycache__"
            for name in sorted(filenames):
                file = Path(dirpath) / name
                if in_cache and not sourceless(dirpath, name):
                    continue  # the source beside it is the better copy; bytecode is the bytecode source's job
                if not (is_candidate(name) or archive_kind(name) or is_sniffable(_relative(file, folder))):
                    continue
                if file.is_symlink():
                    self._issue(str(folder), _relative(file, folder), f"symlink -> {os.readlink(file)!r}: not followed")
                    continue
                owner = owners.get(os.path.normpath(file.as_posix()))
                try:
                    for found in self._file(file, str(file)):
                        yield replace(found, ref=owner) if owner else found
                except Exception as exc:
                    self._issue(str(file), None, one_line(f"not read: {type(exc).__name__}: {exc}"))
        if bounded.cut_short:
            self._issue(
                str(folder),
                None,
                f"more than {bounded.limit:,} entries, so the walk was cut short: the rest is not read",
            )

    def _file(self, path: Path, given: str, *, top: bool = False) -> Iterator[Found]:
        kind = archive_kind(path.name)
        display = self._display(path)
        sniff = kind is None and not is_candidate(path.name)
        named = top and self.named
        if sniff and not (named or is_sniffable(display)):
            return
        try:  # regular files only, opened without blocking: a FIFO named *.py or *.zip would hang the scan
            fd = open_regular(path)
        except NotRegularFile as exc:
            self._issue(given, None, f"{exc.strerror}: not read")
            return
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(fd)
            if sniff:  # given itself with no known suffix, or an image blob: the content says what it is
                kind = sniff_kind(handle.read(SNIFF_BYTES))
                handle.seek(0)
                if kind is None:
                    if named:  # restore could not name the file it wrote from one that is not named like one
                        self._issue(given, None, "neither an archive (by name or content) nor named *.py: not read")
                    return
            if kind is None:
                yield from self._plain(handle, info, path, display, given, top=top)
                return
            ctx = Context(display, Budget(self.limits))
            if kind == "bundle":
                found = read_bundle(path, ctx, self.limits, given, self.objects)
            else:
                found = read_archive(kind, handle, ctx, self.limits, given)
        self.issues.extend(ctx.issues)
        yield from found

    def _plain(
        self, handle: BinaryIO, info: os.stat_result, path: Path, display: str, given: str, *, top: bool
    ) -> Iterator[Found]:
        """A file named like a revision file or its bytecode."""
        if info.st_size > self.limits.max_member_bytes:
            self._issue(
                given,
                None,
                f"file of {info.st_size} bytes over the {self.limits.max_member_bytes} byte limit: not read",
            )
            return
        data = handle.read(self.limits.max_member_bytes + 1)[: self.limits.max_member_bytes]
        # a .pyc given itself is always looked at: if it is no bytecode of a revision, the note says why
        if looks_like_revision(data) or (top and path.name.lower().endswith(".pyc")):
            yield Found(data, display, iso_date(info.st_mtime), given, None, top)

    # ------------------------------------------------------------------ helpers

    def _display(self, path: Path) -> str:
        if self.root is None:
            return path.as_posix()
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return path.as_posix()

    def _issue(self, archive: str, member: str | None, reason: str) -> None:
        self.issues.append(ArchiveIssue(archive, member, reason))


def _kind(path: Path) -> str:
    try:
        return kind_of(os.stat(path).st_mode)
    except OSError:
        return "an unusual file"


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()
