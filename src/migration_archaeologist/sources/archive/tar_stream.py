"""The decompressed tar stream, read forward only and stopped past the size or ratio limit.

The codec is picked from the magic bytes, and the compressed bytes pulled are counted so the
compression ratio can be checked while decompressing instead of after filling memory.
"""

from __future__ import annotations

from typing import Protocol

from migration_archaeologist.sources.archive.limits import RATIO_FLOOR, Budget, Limits, Refused
from migration_archaeologist.sources.archive.names import ZSTD_MAGIC

_CHUNK = 1 << 20


class Reader(Protocol):
    """What the tar stream is read through: forward only, never seeked."""

    def read(self, size: int = -1, /) -> bytes: ...


class Prefixed:
    """A forward-only stream whose first bytes were read already (to sniff them) and are given back first."""

    def __init__(self, head: bytes, inner: Reader) -> None:
        self.head = head
        self.inner = inner

    def read(self, size: int = -1) -> bytes:
        if self.head:
            if size is None or size < 0:
                data, self.head = self.head + self.inner.read(), b""
                return data
            data, self.head = self.head[:size], self.head[size:]
            return data
        return self.inner.read(size)

    def readable(self) -> bool:
        return True


class Counting:
    """Counts the compressed bytes the decompressor pulled, for the tar ratio guard."""

    def __init__(self, inner: Reader) -> None:
        self.inner = inner
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self.inner.read(size if size is not None and size >= 0 else _CHUNK)
        self.count += len(data)
        return data

    def readable(self) -> bool:
        return True


class Guarded:
    """Decompressed tar stream that stops past the total-size or ratio limit instead of filling memory."""

    def __init__(self, inner: Reader, raw: Counting, budget: Budget, limits: Limits, *, nested: bool = False) -> None:
        self.inner = inner
        self.raw = raw
        self.budget = budget
        self.limits = limits
        self.nested = nested  # its raw bytes were charged by the archive it lies in: charge what decompressing adds
        self.out = 0
        self.charged = 0

    def read(self, size: int = -1) -> bytes:
        data = self.inner.read(size if size is not None and size >= 0 else _CHUNK)
        self.out += len(data)
        owed = self.out - self.raw.count if self.nested else self.out  # an image's plain layers cost once, not twice
        if owed > self.charged:
            self.budget.charge_bytes(owed - self.charged)
            self.charged = owed
        if self.out > RATIO_FLOOR:
            ratio = self.out // max(self.raw.count, 1)
            if ratio > self.limits.max_ratio:
                raise Refused(
                    f"zip bomb guard: compression ratio 1:{ratio} over the 1:{self.limits.max_ratio} limit: rest of the archive not read"
                )
        return data


def decompressor(raw: Counting, head: bytes) -> Reader:
    """Pick the codec from the magic bytes (``head``, the stream's first bytes), not the name: a
    ``.tgz`` is sometimes plain tar, an image layer has no name at all. Never seeks: a layer is read
    straight from its image's tar stream."""
    import bz2
    import gzip
    import lzma

    if head.startswith(ZSTD_MAGIC):
        raise Refused("zstd-compressed: this Python cannot decompress zstd, so it is not read")
    if head.startswith(b"\x1f\x8b"):
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[call-overload,no-any-return]  # reads only; the stub wants seek too
    if head.startswith(b"BZh"):
        return bz2.BZ2File(raw)  # type: ignore[call-overload,no-any-return]  # reads only; the stub wants seek too
    if head.startswith(b"\xfd7zXZ\x00"):
        return lzma.LZMAFile(raw)  # type: ignore[arg-type]  # reads only; the stub wants seek too
    return raw
