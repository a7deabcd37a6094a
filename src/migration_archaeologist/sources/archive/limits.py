"""Bounds on what reading one archive may cost, and the budget they are charged to.

Entry count, total and per-member uncompressed bytes and the compression ratio are checked
before (zip) or while (tar) decompressing, so an archive bomb is refused, not inflated.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Below this many uncompressed bytes a high ratio cannot hurt (a short, repetitive file compresses
#: well past 1:200); the per-member and total limits still apply.
RATIO_FLOOR = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Bounds on what one top-level archive (with whatever is nested in it) may cost to read."""

    max_entries: int = 100_000
    max_total_bytes: int = 2 * 1024**3  # uncompressed, per top-level archive
    max_member_bytes: int = 64 * 1024**2
    max_ratio: int = 200  # uncompressed/compressed per member (zip) or per archive (tar.*)


class Refused(Exception):
    """A guard tripped while streaming: the rest of the archive is not read."""


@dataclass
class Budget:
    """Entries and uncompressed bytes charged so far to one top-level archive."""

    limits: Limits
    entries: int = 0
    total: int = 0

    def charge_entries(self, count: int) -> None:
        self.entries += count
        if self.entries > self.limits.max_entries:
            raise Refused(f"entry count over the {self.limits.max_entries} limit: rest of the archive not read")

    def charge_bytes(self, count: int) -> None:
        self.total += count
        if self.total > self.limits.max_total_bytes:
            raise Refused(
                f"total uncompressed size over the {self.limits.max_total_bytes} byte limit: rest of the archive not read"
            )


def size_refusal(size: int, compressed: int, limits: Limits) -> str | None:
    if size > limits.max_member_bytes:
        return f"member of {size} bytes over the {limits.max_member_bytes} byte limit: not read"
    if size > RATIO_FLOOR:
        ratio = size // max(compressed, 1)
        if ratio > limits.max_ratio:
            return f"zip bomb guard: compression ratio 1:{ratio} over the 1:{limits.max_ratio} limit: not read"
    return None
