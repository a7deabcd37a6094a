"""Zip and tar archives read in memory, members within limits, archives inside them one level deep.

Nothing is extracted, no member path is ever joined to a directory, links are never followed;
anything refused or unreadable becomes an :class:`ArchiveIssue` and bad input never raises.
"""

from __future__ import annotations

import io
import stat
from datetime import datetime, timezone
from typing import BinaryIO

from migration_archaeologist.parse.revision import looks_like_revision
from migration_archaeologist.sources.archive.findings import ArchiveIssue, Context, Found, iso_date, one_line
from migration_archaeologist.sources.archive.limits import Limits, Refused, size_refusal
from migration_archaeologist.sources.archive.names import SEPARATOR, archive_kind, is_candidate, unsafe_name
from migration_archaeologist.sources.archive.tar_stream import Counting, Guarded, decompressor


def read_archive(kind: str, handle: BinaryIO, ctx: Context, limits: Limits, given: str) -> list[Found]:
    """Everything readable in one archive; a corrupt or refused archive adds one issue."""
    import lzma
    import tarfile
    import zipfile  # here, not at the top: zipfile and tarfile cost 30-50 ms of a scan that reads no archive

    found: list[Found] = []
    try:
        if kind == "zip":
            _read_zip(handle, ctx, limits, given, found)
        else:
            _read_tar(handle, ctx, limits, given, found)
    except Refused as exc:
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
            ArchiveIssue(given, None, one_line(f"not an archive git or Python can read: {exc or type(exc).__name__}"))
        )
    except Exception as exc:  # contract: bad input never raises
        ctx.issues.append(ArchiveIssue(given, None, one_line(f"not read: {type(exc).__name__}: {exc}")))
    return found


def _read_zip(handle: BinaryIO, ctx: Context, limits: Limits, given: str, found: list[Found]) -> None:
    import lzma
    import zipfile

    with zipfile.ZipFile(handle) as archive:
        infos = archive.infolist()
        ctx.budget.charge_entries(len(infos))
        for info in infos:
            name = info.filename
            if info.is_dir():
                continue
            nested = archive_kind(name)
            if not (is_candidate(name) or nested):
                continue
            mode = info.external_attr >> 16
            reason = unsafe_name(name)
            if reason is None and stat.S_ISLNK(mode):
                reason = f"symlink member {name!r}: not followed"
            elif reason is None and stat.S_IFMT(mode) and not stat.S_ISREG(mode):  # type bits are optional in zips
                reason = f"special member {name!r} (mode {oct(mode)}): not read"
            elif reason is None and info.flag_bits & 0x1:
                reason = f"encrypted member {name!r}: not read"
            elif reason is None:
                reason = size_refusal(info.file_size, info.compress_size, limits)
            if reason is not None:
                ctx.issues.append(ArchiveIssue(given, name, reason))
                continue
            ctx.budget.charge_bytes(info.file_size)
            try:
                with archive.open(info) as member:
                    data = member.read(info.file_size + 1)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, lzma.LZMAError) as exc:
                ctx.issues.append(ArchiveIssue(given, name, one_line(f"member not readable: {exc}")))
                continue
            if len(data) > info.file_size:
                ctx.issues.append(ArchiveIssue(given, name, "member larger than its declared size: not read"))
                continue
            _member(data, name, _zip_date(info.date_time), nested, ctx, limits, given, found)


def _read_tar(handle: BinaryIO, ctx: Context, limits: Limits, given: str, found: list[Found]) -> None:
    import tarfile

    raw = Counting(handle)
    stream = Guarded(decompressor(raw), raw, ctx.budget, limits)
    with tarfile.open(fileobj=stream, mode="r|") as archive:  # type: ignore[call-overload]  # stream mode: never seeks, never looks back
        for member in archive:
            ctx.budget.charge_entries(1)
            name = member.name
            nested = archive_kind(name)
            if member.isdir() or not (is_candidate(name) or nested):
                continue
            reason = unsafe_name(name)
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
            mtime = iso_date(member.mtime) if member.mtime else None
            _member(data, name, mtime, nested, ctx, limits, given, found)


def _member(
    data: bytes,
    name: str,
    date: str | None,
    nested: str | None,
    ctx: Context,
    limits: Limits,
    given: str,
    found: list[Found],
) -> None:
    """A member's bytes: a candidate revision file, or an archive opened from memory one level down."""
    path = f"{ctx.display}{SEPARATOR}{name}"
    if nested is None:
        if looks_like_revision(data):
            found.append(Found(data, path, date, given, name))
        return
    if ctx.depth >= 1:
        ctx.issues.append(ArchiveIssue(given, name, "archive nested more than one level deep: not opened"))
        return
    if nested == "bundle":
        ctx.issues.append(ArchiveIssue(given, name, "git bundle inside an archive: not read (extract it first)"))
        return
    inner = Context(path, ctx.budget, ctx.depth + 1, ctx.issues)
    found.extend(read_archive(nested, io.BytesIO(data), inner, limits, f"{given}{SEPARATOR}{name}"))


def _zip_date(date_time: tuple[int, int, int, int, int, int]) -> str | None:
    """Zip stores local time without a zone; it is reported as UTC, the only honest guess."""
    try:
        return datetime(*date_time, tzinfo=timezone.utc).isoformat(timespec="seconds")
    except (ValueError, TypeError):
        return None
