"""Objects no ref or reflog reaches: dangling and unreachable commits and blobs.

``git fsck --unreachable --no-reflogs`` answers this by walking every object again, which costs as
much as the history walk itself. The history walk already knows every commit it showed and every
blob any of their diffs named (every blob in a walked tree enters through some diff), so the
unreachable ones are simply the rest of the object inventory: one ``cat-file --batch-all-objects``,
which reads pack indexes, not objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Set as AbstractSet

from migration_archaeologist.sources.git.repository import Repository


@dataclass(frozen=True)
class ObjectInventory:
    """Every commit and blob the object database holds (loose, packed, alternates)."""

    commits: AbstractSet[bytes]  # never changed once listed
    blobs: AbstractSet[bytes]


def list_objects(repo: Repository) -> ObjectInventory:
    """Read as a stream, keeping only commits and blobs: a 200,000-commit history holds 1.6 million
    objects, mostly trees, and their whole listing split at once peaked at 280 MB."""
    proc = repo.popen("cat-file", "--batch-all-objects", "--unordered", "--batch-check=%(objecttype) %(objectname)")
    assert proc.stdout is not None
    commits: set[bytes] = set()
    blobs: set[bytes] = set()
    rest = b""
    while True:
        chunk = proc.stdout.read(1 << 22)
        data = rest + chunk
        cut = data.rfind(b"\n") + 1 if chunk else len(data)
        lines = data[:cut].split(b"\n")
        rest = data[cut:]
        # comprehensions, not a loop: this runs beside the history walk and competes for the GIL
        commits.update(line[7:] for line in lines if line[:7] == b"commit ")
        blobs.update(line[5:] for line in lines if line[:5] == b"blob ")
        if not chunk:
            break
    proc.stdout.close()
    if proc.stderr is not None:
        proc.stderr.read()
        proc.stderr.close()
    proc.wait()
    return ObjectInventory(commits, blobs)  # not copied into frozensets: that doubled the peak


def unreachable_commits(inventory: ObjectInventory, walked: AbstractSet[bytes]) -> list[str]:
    """Commits the walk over all refs and reflogs never showed (fsck's unreachable, minus reflog-only)."""
    return sorted(sha.decode("ascii") for sha in inventory.commits - walked)


def dangling_blobs(inventory: ObjectInventory, seen: set[bytes]) -> list[str]:
    """Blobs no walked diff named: staged-then-dropped files, blobs of dangling trees, hash-object writes."""
    return sorted(sha.decode("ascii") for sha in inventory.blobs - seen)
