"""Revision files kept outside git: backup folders, zip/tar archives, archives inside those, git bundles.

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

import io
import os
import re
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO, Protocol
from collections.abc import Iterator, Sequence

from migration_archaeologist.sources.git.repository import first_line, git_env
from migration_archaeologist.files.untrusted import BoundedWalk, NotRegularFile, kind_of, open_regular
from migration_archaeologist.parse.revision import RevisionFile, Unparseable, looks_like_revision, parse_revision
from migration_archaeologist.sources.interface import Sighting, git_blob_id

__all__ = ["ArchiveIssue", "ArchiveSource", "Limits", "SEPARATOR", "untracked_files"]

#: Joins an archive's path and a member's path in ``Sighting.path`` (jar-URL style).
SEPARATOR = "!"

_ZIP_SUFFIXES = (".zip",)
_TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
_BUNDLE_SUFFIXES = (".bundle",)
_BYTECODE_SUFFIXES = (".pyc", ".pyo", ".pyd")
#: Below this many uncompressed bytes a high ratio cannot hurt (a short, repetitive file compresses
#: well past 1:200); the per-member and total limits still apply.
_RATIO_FLOOR = 1024 * 1024
_CHUNK = 1 << 20
#: Directories :func:`untracked_files` never reports: tooling, dependencies, and bytecode (another source's job).
_UNTRACKED_SKIP = frozenset({".git", ".venv", "venv", "node_modules", "__pycache__", "site-packages"})
_WALK_SKIP = frozenset({".git", "__pycache__"})


@dataclass(frozen=True)
class Limits:
    """Bounds on what one top-level archive (with whatever is nested in it) may cost to read."""

    max_entries: int = 100_000
    max_total_bytes: int = 2 * 1024**3  # uncompressed, per top-level archive
    max_member_bytes: int = 64 * 1024**2
    max_ratio: int = 200  # uncompressed/compressed per member (zip) or per archive (tar.*)


@dataclass(frozen=True)
class ArchiveIssue:
    """Something that might have held a revision file and was refused or could not be read."""

    archive: str  # the archive path as given ("outer.tar.gz!inner.zip" for a nested one)
    member: str | None  # member path inside it
    reason: str  # one line


class _Refused(Exception):
    """A guard tripped while streaming: the rest of the archive is not read."""


@dataclass
class _Budget:
    """Entries and uncompressed bytes charged so far to one top-level archive."""

    limits: Limits
    entries: int = 0
    total: int = 0

    def charge_entries(self, count: int) -> None:
        self.entries += count
        if self.entries > self.limits.max_entries:
            raise _Refused(f"entry count over the {self.limits.max_entries} limit: rest of the archive not read")

    def charge_bytes(self, count: int) -> None:
        self.total += count
        if self.total > self.limits.max_total_bytes:
            raise _Refused(
                f"total uncompressed size over the {self.limits.max_total_bytes} byte limit: rest of the archive not read"
            )


@dataclass(frozen=True)
class _Found:
    data: bytes
    path: str  # where it was seen, as sightings show it
    date: str | None
    archive: str = ""  # what a note about it names: the file or archive as given,
    member: str | None = None  # and the member inside it (None: the file itself)
    given: bool = False  # the file was given itself, not found in a folder or an archive


@dataclass
class _Context:
    """Where we are: the display chain of archives and how deep in nesting."""

    display: str
    budget: _Budget
    depth: int = 0
    issues: list[ArchiveIssue] = field(default_factory=list)


class ArchiveSource:
    """Source of ``archive`` sightings for revision files inside folders, archives and git bundles."""

    def __init__(self, paths: Sequence[Path], *, root: Path | None = None, limits: Limits = Limits()) -> None:
        self.paths = list(paths)
        self.root = root
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
                yield Sighting(blob, "archive", "seen", None, None, found.path, found.date)

    def _source_of(self, found: _Found) -> tuple[bytes | None, str]:
        """A member's revision source: its bytes, or for a .pyc the source rebuilt from it."""
        from migration_archaeologist.sources.bytecode import read_header, rebuild, worth_reporting  # when read

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

    def _scan_top(self, path: Path) -> Iterator[_Found]:
        """One given path; any failure becomes an issue and the next path is scanned."""
        try:
            if path.is_symlink() and not path.exists():
                self._issue(str(path), None, "dangling symlink: not read")
            elif path.is_dir():
                yield from self._walk(path)
            elif path.is_file():
                yield from self._file(path, str(path), top=True)
            elif not path.exists():
                self._issue(str(path), None, "no such file or directory")
            else:  # a FIFO would hang the scan, a device never end
                self._issue(str(path), None, f"it is {_kind(path)}, not a regular file: not read")
        except Exception as exc:  # contract: bad input never raises
            self._issue(str(path), None, _one_line(f"not read: {type(exc).__name__}: {exc}"))

    def _walk(self, folder: Path) -> Iterator[_Found]:
        """Walk a plain folder without following links; archives found in it are opened."""
        bounded = BoundedWalk()  # an archive folder of a whole disk would otherwise run for hours
        for dirpath, dirnames, filenames in bounded.walk(
            folder, onerror=lambda e: self._issue(str(folder), None, _one_line(f"not read: {e}"))
        ):
            dirnames[:] = sorted(d for d in dirnames if d not in _WALK_SKIP)
            for name in sorted(filenames):
                if not (_is_candidate(name) or _archive_kind(name)):
                    continue
                file = Path(dirpath) / name
                if file.is_symlink():
                    self._issue(str(folder), _relative(file, folder), f"symlink -> {os.readlink(file)!r}: not followed")
                    continue
                try:
                    yield from self._file(file, str(file))
                except Exception as exc:
                    self._issue(str(file), None, _one_line(f"not read: {type(exc).__name__}: {exc}"))
        if bounded.cut_short:
            self._issue(
                str(folder),
                None,
                f"more than {bounded.limit:,} entries, so the walk was cut short: the rest is not read",
            )

    def _file(self, path: Path, given: str, *, top: bool = False) -> Iterator[_Found]:
        kind = _archive_kind(path.name)
        display = self._display(path)
        if kind is None and not _is_candidate(path.name):
            return
        try:  # regular files only, opened without blocking: a FIFO named *.py or *.zip would hang the scan
            fd = open_regular(path)
        except NotRegularFile as exc:
            self._issue(given, None, f"{exc.strerror}: not read")
            return
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(fd)
            if kind is None:
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
                    yield _Found(data, display, _iso(info.st_mtime), given, None, top)
                return
            ctx = _Context(display, _Budget(self.limits))
            if kind == "bundle":
                found = _read_bundle(path, ctx, self.limits, given)
            else:
                found = _read_archive(kind, handle, ctx, self.limits, given)
        self.issues.extend(ctx.issues)
        yield from found

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


# ---------------------------------------------------------------------- archives


def _read_archive(kind: str, handle: BinaryIO, ctx: _Context, limits: Limits, given: str) -> list[_Found]:
    """Everything readable in one archive; a corrupt or refused archive adds one issue."""
    import lzma
    import tarfile
    import zipfile  # here, not at the top: zipfile and tarfile cost 30-50 ms of a scan that reads no archive

    found: list[_Found] = []
    try:
        if kind == "zip":
            _read_zip(handle, ctx, limits, given, found)
        else:
            _read_tar(handle, ctx, limits, given, found)
    except _Refused as exc:
        ctx.issues.append(ArchiveIssue(given, None, str(exc)))
    except (
        zipfile.BadZipFile,
        tarfile.TarError,
        OSError,
        EOFError,
        lzma.LZMAError,
        ValueError,
        zipfile.LargeZipFile,
        NotImplementedError,
    ) as exc:
        ctx.issues.append(
            ArchiveIssue(given, None, _one_line(f"not an archive git or Python can read: {exc or type(exc).__name__}"))
        )
    except Exception as exc:  # contract: bad input never raises
        ctx.issues.append(ArchiveIssue(given, None, _one_line(f"not read: {type(exc).__name__}: {exc}")))
    return found


def _read_zip(handle: BinaryIO, ctx: _Context, limits: Limits, given: str, found: list[_Found]) -> None:
    import lzma
    import zipfile

    with zipfile.ZipFile(handle) as archive:
        infos = archive.infolist()
        ctx.budget.charge_entries(len(infos))
        for info in infos:
            name = info.filename
            if info.is_dir():
                continue
            nested = _archive_kind(name)
            if not (_is_candidate(name) or nested):
                continue
            mode = info.external_attr >> 16
            reason = _unsafe_name(name)
            if reason is None and stat.S_ISLNK(mode):
                reason = f"symlink member {name!r}: not followed"
            elif reason is None and stat.S_IFMT(mode) and not stat.S_ISREG(mode):  # type bits are optional in zips
                reason = f"special member {name!r} (mode {oct(mode)}): not read"
            elif reason is None and info.flag_bits & 0x1:
                reason = f"encrypted member {name!r}: not read"
            elif reason is None:
                reason = _size_refusal(info.file_size, info.compress_size, limits)
            if reason is not None:
                ctx.issues.append(ArchiveIssue(given, name, reason))
                continue
            ctx.budget.charge_bytes(info.file_size)
            try:
                with archive.open(info) as member:
                    data = member.read(info.file_size + 1)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, lzma.LZMAError) as exc:
                ctx.issues.append(ArchiveIssue(given, name, _one_line(f"member not readable: {exc}")))
                continue
            if len(data) > info.file_size:
                ctx.issues.append(ArchiveIssue(given, name, "member larger than its declared size: not read"))
                continue
            _member(data, name, _zip_date(info.date_time), nested, ctx, limits, given, found)


def _read_tar(handle: BinaryIO, ctx: _Context, limits: Limits, given: str, found: list[_Found]) -> None:
    import tarfile

    raw = _Counting(handle)
    stream = _Guarded(_decompressor(raw), raw, ctx.budget, limits)
    with tarfile.open(fileobj=stream, mode="r|") as archive:  # type: ignore[call-overload]  # stream mode: never seeks, never looks back
        for member in archive:
            ctx.budget.charge_entries(1)
            name = member.name
            nested = _archive_kind(name)
            if member.isdir() or not (_is_candidate(name) or nested):
                continue
            reason = _unsafe_name(name)
            if reason is None and member.issym():
                reason = f"symlink member {name!r} -> {member.linkname!r}: not followed"
            elif reason is None and member.islnk():
                reason = f"hardlink member {name!r} -> {member.linkname!r}: not followed"
            elif reason is None and not member.isreg():
                reason = f"device or special member {name!r}: not read"
            elif reason is None and member.size > limits.max_member_bytes:
                reason = f"member of {member.size} bytes over the {limits.max_member_bytes} byte limit: not read"
            if reason is not None:
                ctx.issues.append(ArchiveIssue(given, name, reason))
                continue
            extracted = archive.extractfile(member)
            if extracted is None:
                continue
            data = extracted.read(member.size)
            mtime = _iso(member.mtime) if member.mtime else None
            _member(data, name, mtime, nested, ctx, limits, given, found)


def _member(
    data: bytes,
    name: str,
    date: str | None,
    nested: str | None,
    ctx: _Context,
    limits: Limits,
    given: str,
    found: list[_Found],
) -> None:
    """A member's bytes: a candidate revision file, or an archive opened from memory one level down."""
    path = f"{ctx.display}{SEPARATOR}{name}"
    if nested is None:
        if looks_like_revision(data):
            found.append(_Found(data, path, date, given, name))
        return
    if ctx.depth >= 1:
        ctx.issues.append(ArchiveIssue(given, name, "archive nested more than one level deep: not opened"))
        return
    if nested == "bundle":
        ctx.issues.append(ArchiveIssue(given, name, "git bundle inside an archive: not read (extract it first)"))
        return
    inner = _Context(path, ctx.budget, ctx.depth + 1, ctx.issues)
    found.extend(_read_archive(nested, io.BytesIO(data), inner, limits, f"{given}{SEPARATOR}{name}"))


def _size_refusal(size: int, compressed: int, limits: Limits) -> str | None:
    if size > limits.max_member_bytes:
        return f"member of {size} bytes over the {limits.max_member_bytes} byte limit: not read"
    if size > _RATIO_FLOOR:
        ratio = size // max(compressed, 1)
        if ratio > limits.max_ratio:
            return f"zip bomb guard: compression ratio 1:{ratio} over the 1:{limits.max_ratio} limit: not read"
    return None


class _Reader(Protocol):
    """What the tar stream is read through: forward only, never seeked."""

    def read(self, size: int = -1, /) -> bytes: ...


class _Counting:
    """Counts the compressed bytes the decompressor pulled, for the tar ratio guard."""

    def __init__(self, inner: BinaryIO) -> None:
        self.inner = inner
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self.inner.read(size if size is not None and size >= 0 else _CHUNK)
        self.count += len(data)
        return data

    def readable(self) -> bool:
        return True


class _Guarded:
    """Decompressed tar stream that stops past the total-size or ratio limit instead of filling memory."""

    def __init__(self, inner: _Reader, raw: _Counting, budget: _Budget, limits: Limits) -> None:
        self.inner = inner
        self.raw = raw
        self.budget = budget
        self.limits = limits
        self.out = 0

    def read(self, size: int = -1) -> bytes:
        data = self.inner.read(size if size is not None and size >= 0 else _CHUNK)
        self.out += len(data)
        self.budget.charge_bytes(len(data))
        if self.out > _RATIO_FLOOR:
            ratio = self.out // max(self.raw.count, 1)
            if ratio > self.limits.max_ratio:
                raise _Refused(
                    f"zip bomb guard: compression ratio 1:{ratio} over the 1:{self.limits.max_ratio} limit: rest of the archive not read"
                )
        return data


def _decompressor(raw: _Counting) -> _Reader:
    """Pick the codec from the magic bytes, not the name: a ``.tgz`` is sometimes plain tar."""
    import bz2
    import gzip
    import lzma

    head = raw.inner.read(6)
    raw.inner.seek(-len(head), io.SEEK_CUR)
    if head.startswith(b"\x1f\x8b"):
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[call-overload,no-any-return]  # reads only; the stub wants seek too
    if head.startswith(b"BZh"):
        return bz2.BZ2File(raw)  # type: ignore[call-overload,no-any-return]  # reads only; the stub wants seek too
    if head.startswith(b"\xfd7zXZ\x00"):
        return lzma.LZMAFile(raw)  # type: ignore[arg-type]  # reads only; the stub wants seek too
    return raw


# ---------------------------------------------------------------------- git bundles


def _read_bundle(path: Path, ctx: _Context, limits: Limits, given: str) -> list[_Found]:
    """Every candidate blob of every commit in a bundle, via a temporary bare repository of our own.

    The user's repository is never touched: the bundle is fetched into a fresh ``git init --bare``
    under a temp dir that is deleted before any sighting is yielded.
    """
    found: list[_Found] = []
    bundle = str(path.resolve())
    tmp = tempfile.mkdtemp(prefix="archaeologist-bundle-")
    try:
        heads = _git(tmp, "bundle", "list-heads", bundle)
        if isinstance(heads, str):
            ctx.issues.append(ArchiveIssue(given, None, f"not an archive git or Python can read: {heads}"))
            return found
        refspecs = []
        for index, line in enumerate(heads.decode("utf-8", "replace").splitlines()):
            ref = line.partition(" ")[2].strip()
            if ref.startswith("refs/"):
                refspecs.append(f"+{ref}:{ref}")
            elif ref:
                refspecs.append(f"+{ref}:refs/bundle-heads/{index}")
        repo = os.path.join(tmp, "repo.git")
        for args in (
            ("init", "-q", "--bare", repo),
            ("--git-dir", repo, "-c", "protocol.file.allow=always", "fetch", "-q", "--no-tags", bundle, *refspecs),
        ):
            result = _git(tmp, *args)
            if isinstance(result, str):
                ctx.issues.append(ArchiveIssue(given, None, f"not an archive git or Python can read: {result}"))
                return found
        listing = _git(tmp, "--git-dir", repo, "rev-list", "--all", "--objects")
        if isinstance(listing, str):
            ctx.issues.append(ArchiveIssue(given, None, f"bundle history not readable: {listing}"))
            return found
        paths: dict[str, str] = {}
        for line in listing.decode("utf-8", "surrogateescape").splitlines():
            sha, _, name = line.partition(" ")
            if name and _is_candidate(name.rsplit("/", 1)[-1]):
                paths.setdefault(sha, name)
        if not paths:
            return found
        date = _iso(path.stat().st_mtime)
        for sha, data in _cat_blobs(tmp, repo, list(paths), ctx, limits, given, paths):
            if looks_like_revision(data):
                found.append(_Found(data, f"{ctx.display}{SEPARATOR}{paths[sha]}", date, given, paths[sha]))
    except _Refused as exc:
        ctx.issues.append(ArchiveIssue(given, None, str(exc)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return found


def _cat_blobs(
    cwd: str, repo: str, shas: list[str], ctx: _Context, limits: Limits, given: str, paths: dict[str, str]
) -> Iterator[tuple[str, bytes]]:
    """Sizes first (one ``--batch-check``), then the contents within limits (one ``--batch``)."""
    checked = _git(cwd, "--git-dir", repo, "cat-file", "--batch-check", input="\n".join(shas).encode() + b"\n")
    if isinstance(checked, str):
        ctx.issues.append(ArchiveIssue(given, None, f"bundle objects not readable: {checked}"))
        return
    wanted: list[str] = []
    for line in checked.decode("ascii", "replace").splitlines():
        parts = line.split()
        if len(parts) != 3 or parts[1] != "blob":
            continue
        size = int(parts[2])
        if size > limits.max_member_bytes:
            ctx.issues.append(
                ArchiveIssue(
                    given,
                    paths.get(parts[0]),
                    f"blob of {size} bytes over the {limits.max_member_bytes} byte limit: not read",
                )
            )
            continue
        ctx.budget.charge_bytes(size)
        wanted.append(parts[0])
    if not wanted:
        return
    out = _git(cwd, "--git-dir", repo, "cat-file", "--batch", input="\n".join(wanted).encode() + b"\n")
    if isinstance(out, str):
        ctx.issues.append(ArchiveIssue(given, None, f"bundle objects not readable: {out}"))
        return
    pos = 0
    while pos < len(out):
        end = out.index(b"\n", pos)
        header = out[pos:end].split()
        pos = end + 1
        if len(header) != 3:
            continue
        size = int(header[2])
        yield header[0].decode("ascii"), out[pos : pos + size]
        pos += size + 1


def _git(cwd: str, *args: str, input: bytes | None = None) -> bytes | str:
    """stdout, or the error line as a str (bundles are bad input: failures are issues, not exceptions)."""
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, input=input, capture_output=True, env=git_env(), check=False)
    except OSError as exc:
        return f"git not runnable: {exc}"
    if proc.returncode != 0:
        return first_line(proc.stderr)
    return proc.stdout


# ---------------------------------------------------------------------- untracked files


def untracked_files(repo_root: Path) -> list[Path]:
    """Untracked and ignored files of a work tree: where hand-made backups and stray archives live.

    Dependency and tooling trees (.git, virtualenvs, node_modules, site-packages) and bytecode are
    left out. Returns ``[]`` when ``repo_root`` is not a git work tree.
    """
    root = Path(repo_root).resolve()
    result: set[Path] = set()
    for extra in ((), ("--ignored",)):
        out = _git(str(root), "ls-files", "--others", *extra, "--exclude-standard", "-z")
        if isinstance(out, str):
            return []
        for raw in out.split(b"\0"):
            if not raw:
                continue
            rel = os.fsdecode(raw)
            parts = rel.split("/")
            if _UNTRACKED_SKIP.intersection(parts) or parts[-1].endswith(_BYTECODE_SUFFIXES):
                continue
            result.add(root / rel)
    return sorted(result)


# ---------------------------------------------------------------------- small helpers


def _kind(path: Path) -> str:
    try:
        return kind_of(os.stat(path).st_mode)
    except OSError:
        return "an unusual file"


def _archive_kind(name: str) -> str | None:
    lower = name.lower()
    if lower.endswith(_ZIP_SUFFIXES):
        return "zip"
    if lower.endswith(_TAR_SUFFIXES):
        return "tar"
    if lower.endswith(_BUNDLE_SUFFIXES):
        return "bundle"
    return None


def _is_candidate(name: str) -> bool:
    """``*.py``, its backup spellings (``x.py.bak``, ``x.py~``) and ``.pyc`` (rebuilt, never run)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    lower = base.lower()
    return ".py" in base and (lower.endswith(".pyc") or not lower.endswith(_BYTECODE_SUFFIXES))


_DRIVE_RE = re.compile(r"^[A-Za-z]:")


def _unsafe_name(name: str) -> str | None:
    """Names that would land outside a destination if extracted: refused even though we never extract."""
    if name.startswith(("/", "\\")) or _DRIVE_RE.match(name):
        return f"member {name!r} has an absolute path: not read"
    if ".." in re.split(r"[/\\]", name):
        return f"member {name!r} escapes the archive: not read"
    return None


def _zip_date(date_time: tuple[int, int, int, int, int, int]) -> str | None:
    """Zip stores local time without a zone; it is reported as UTC, the only honest guess."""
    try:
        return datetime(*date_time, tzinfo=timezone.utc).isoformat(timespec="seconds")
    except (ValueError, TypeError):
        return None


def _iso(stamp: float) -> str | None:
    try:
        return datetime.fromtimestamp(stamp, tz=timezone.utc).isoformat(timespec="seconds")
    except (ValueError, OverflowError, OSError):
        return None


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _one_line(text: str) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= 300 else line[:297] + "..."
