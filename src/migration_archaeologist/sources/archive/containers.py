"""Zip and tar archives read in memory, members within limits, archives inside them one level deep.

Nothing is extracted, no member path is ever joined to a directory, links are never followed;
anything refused or unreadable becomes an :class:`ArchiveIssue` and bad input never raises.
"""

from __future__ import annotations

import io
import stat
from datetime import datetime, timezone
from typing import TYPE_CHECKING, BinaryIO

from migration_archaeologist.parse.revision import looks_like_revision
from migration_archaeologist.sources.archive.findings import ArchiveIssue, Context, Found, iso_date, one_line
from migration_archaeologist.sources.archive.limits import Limits, Refused, size_refusal
from migration_archaeologist.sources.archive.image import META_LIMIT, ImageParts, order_layers
from migration_archaeologist.sources.archive.names import (
    SEPARATOR,
    SNIFF_BYTES,
    archive_kind,
    is_candidate,
    is_sniffable,
    sniff_kind,
    unsafe_name,
)
from migration_archaeologist.sources.archive.tar_stream import Counting, Guarded, Prefixed, Reader, decompressor

if TYPE_CHECKING:
    import tarfile


def read_archive(kind: str, handle: BinaryIO | Reader, ctx: Context, limits: Limits, given: str) -> list[Found]:
    """Everything readable in one archive; a corrupt or refused archive adds one issue.

    A zip must be seekable (a file, or bytes in memory); a tar is read forward only, so a layer is
    read straight from its image's stream.
    """
    import lzma
    import tarfile
    import zipfile  # here, not at the top: zipfile and tarfile cost 30-50 ms of a scan that reads no archive

    found: list[Found] = []
    try:
        if kind == "zip":
            _read_zip(handle, ctx, limits, given, found)  # type: ignore[arg-type]  # zips come seekable
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


def _read_tar(handle: Reader, ctx: Context, limits: Limits, given: str, found: list[Found]) -> None:
    import tarfile

    head = handle.read(SNIFF_BYTES)
    raw = Counting(Prefixed(head, handle))
    stream = Guarded(decompressor(raw, head), raw, ctx.budget, limits, nested=ctx.depth >= 1)
    image = ImageParts() if ctx.depth == 0 else None  # an image's layers are one level down
    try:
        with tarfile.open(fileobj=stream, mode="r|") as archive:  # type: ignore[call-overload]  # stream mode: never seeks, never looks back
            for member in archive:
                ctx.budget.charge_entries(1)
                _tar_member(archive, member, ctx, limits, given, found, image)
    finally:  # what was read before a refusal keeps its layer order
        if image is not None:
            order_layers(found, image)


def _tar_member(
    archive: tarfile.TarFile,
    member: tarfile.TarInfo,
    ctx: Context,
    limits: Limits,
    given: str,
    found: list[Found],
    image: ImageParts | None,
) -> None:
    """One tar member: a candidate, an archive (by name, or by content for an image blob), or image metadata."""
    name = member.name
    nested = archive_kind(name)
    sniff = nested is None and ctx.depth == 0 and is_sniffable(name)
    meta = image is not None and image.wants(name, member.size)
    if member.isdir() or not (is_candidate(name) or nested or sniff or meta):
        return
    reason = _tar_refusal(member)
    if reason is not None:
        ctx.issues.append(ArchiveIssue(given, name, reason))
        return
    extracted = archive.extractfile(member)
    if extracted is None:
        return
    head = extracted.read(SNIFF_BYTES) if sniff or meta else b""
    reader = Prefixed(head, extracted)
    if sniff:
        nested = sniff_kind(head)
    if nested is None and (sniff or meta):
        if image is not None and (meta or head.lstrip().startswith(b"{")) and member.size <= META_LIMIT:
            image.keep(name, reader.read(member.size))
        return
    path = f"{ctx.display}{SEPARATOR}{name}"
    # a tar is streamed, not held in memory: a layer may be bigger than any member limit; the budget bounds it
    if nested == "tar":
        if ctx.depth >= 1:
            ctx.issues.append(ArchiveIssue(given, name, "archive nested more than one level deep: not opened"))
            return
        start = len(found)
        inner = Context(path, ctx.budget, ctx.depth + 1, ctx.issues)
        found.extend(read_archive("tar", reader, inner, limits, f"{given}{SEPARATOR}{name}"))
        if image is not None:
            image.layer(name, range(start, len(found)))
        return
    if member.size > limits.max_member_bytes:
        ctx.issues.append(
            ArchiveIssue(
                given, name, f"member of {member.size} bytes over the {limits.max_member_bytes} byte limit: not read"
            )
        )
        return
    data = reader.read(member.size)
    mtime = iso_date(member.mtime) if member.mtime else None
    _member(data, name, mtime, nested, ctx, limits, given, found)


def _tar_refusal(member: tarfile.TarInfo) -> str | None:
    name = member.name
    reason = unsafe_name(name)
    if reason is None and member.issym():
        reason = f"symlink member {name!r} -> {member.linkname!r}: not followed"
    elif reason is None and member.islnk():
        reason = f"hardlink member {name!r} -> {member.linkname!r}: not followed"
    elif reason is None and not member.isreg():
        reason = f"device or special member {name!r}: not read"
    return reason


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
