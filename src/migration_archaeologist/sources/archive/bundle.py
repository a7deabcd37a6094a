"""Revision files inside a git bundle, read through a temporary bare repository of our own.

An incremental bundle (``git bundle create x.bundle main~3..main``) holds only the commits after its
prerequisites: it is read against the repository scanned, whose object directory the temporary
repository borrows as an alternate (git only ever reads an alternate: the user's repository is
never written to). A prerequisite the repository lacks is named, and the bundle is not read.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from collections.abc import Iterator

from migration_archaeologist.parse.revision import looks_like_revision
from migration_archaeologist.sources.archive.findings import ArchiveIssue, Context, Found, iso_date
from migration_archaeologist.sources.archive.git_command import run_git
from migration_archaeologist.sources.archive.limits import Limits, Refused
from migration_archaeologist.sources.archive.names import SEPARATOR, is_candidate


def read_bundle(path: Path, ctx: Context, limits: Limits, given: str, objects: Path | None = None) -> list[Found]:
    """Every candidate blob of every commit in a bundle, via a temporary bare repository of our own.

    The user's repository is never touched: the bundle is fetched into a fresh ``git init --bare``
    under a temp dir that is deleted before any sighting is yielded. ``objects``: the scanned
    repository's object directory, which an incremental bundle's prerequisites are looked up in.
    """
    found: list[Found] = []
    bundle = str(path.resolve())
    tmp = tempfile.mkdtemp(prefix="archaeologist-bundle-")
    try:
        heads = run_git(tmp, "bundle", "list-heads", bundle)
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
        needs = prerequisites(path)
        why = _fetch(tmp, repo, bundle, refspecs, needs, objects)
        if why is not None:
            ctx.issues.append(ArchiveIssue(given, None, why))
            return found
        # only what the bundle brings: its prerequisites' history is the repository's own, scanned anyway
        listing = run_git(tmp, "--git-dir", repo, "rev-list", "--all", "--objects", *(f"^{sha}" for sha in needs))
        if isinstance(listing, str):
            ctx.issues.append(ArchiveIssue(given, None, f"bundle history not readable: {listing}"))
            return found
        paths: dict[str, str] = {}
        for line in listing.decode("utf-8", "surrogateescape").splitlines():
            sha, _, name = line.partition(" ")
            if name and is_candidate(name.rsplit("/", 1)[-1]):
                paths.setdefault(sha, name)
        if not paths:
            return found
        date = iso_date(path.stat().st_mtime)
        for sha, data in _cat_blobs(tmp, repo, list(paths), ctx, limits, given, paths):
            if looks_like_revision(data):
                found.append(Found(data, f"{ctx.display}{SEPARATOR}{paths[sha]}", date, given, paths[sha]))
    except Refused as exc:
        ctx.issues.append(ArchiveIssue(given, None, str(exc)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return found


#: A bundle's header is a few lines per ref; one bigger than this is not a bundle git wrote.
_MAX_HEADER = 1 << 20
_HEX = frozenset(b"0123456789abcdef")


def prerequisites(path: Path) -> list[str]:
    """The commits an incremental bundle needs (its header's ``-<id>`` lines); [] for a full bundle.

    Read from the header directly: ``git bundle verify`` would need a repository holding them."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(_MAX_HEADER)
    except OSError:
        return []
    end = head.find(b"\n\n")
    lines = head[: end if end >= 0 else len(head)].split(b"\n")
    needs = []
    for line in lines[1:]:
        if line.startswith(b"-"):
            sha = line[1:].split(b" ", 1)[0]
            if len(sha) in (40, 64) and set(sha) <= _HEX:
                needs.append(sha.decode("ascii"))
    return needs


def _fetch(tmp: str, repo: str, bundle: str, refspecs: list[str], needs: list[str], objects: Path | None) -> str | None:
    """The bundle fetched into a new bare ``repo`` of our own (against ``objects`` when it is
    incremental); else why not, as an issue's line."""
    result = run_git(tmp, "init", "-q", "--bare", repo)
    if isinstance(result, str):
        return f"not an archive git or Python can read: {result}"
    if needs:
        why = _borrow(tmp, repo, needs, objects)
        if why is not None:
            return why
    fetch = ("-c", "protocol.file.allow=always", "fetch", "-q", "--no-tags", bundle, *refspecs)
    result = run_git(tmp, "--git-dir", repo, *fetch)
    return f"not an archive git or Python can read: {result}" if isinstance(result, str) else None


def _borrow(cwd: str, repo: str, needs: list[str], objects: Path | None) -> str | None:
    """Make the scanned repository's objects readable from ``repo`` (an alternate, read-only to git)
    and check it holds every prerequisite; else why the bundle cannot be read."""
    if objects is None or not objects.is_dir():
        return (
            f"incremental bundle: it needs {len(needs)} commit(s) it does not hold (the first {needs[0][:12]}) "
            "and is read only against the repository it was made from: not read"
        )
    alternates = Path(repo) / "objects" / "info" / "alternates"
    alternates.parent.mkdir(parents=True, exist_ok=True)
    alternates.write_text(str(objects.resolve()) + "\n")
    checked = run_git(cwd, "--git-dir", repo, "cat-file", "--batch-check", input="\n".join(needs).encode() + b"\n")
    if isinstance(checked, str):
        return f"bundle prerequisites not readable: {checked}"
    missing = [line.split()[0] for line in checked.decode("ascii", "replace").splitlines() if line.endswith(" missing")]
    if missing:
        return (
            f"incremental bundle: it needs commit {missing[0]} ({len(missing)} of its {len(needs)} prerequisite(s) "
            "missing), which this repository does not hold: not read (fetch that history first)"
        )
    return None


def _cat_blobs(
    cwd: str, repo: str, shas: list[str], ctx: Context, limits: Limits, given: str, paths: dict[str, str]
) -> Iterator[tuple[str, bytes]]:
    """Sizes first (one ``--batch-check``), then the contents within limits (one ``--batch``)."""
    checked = run_git(cwd, "--git-dir", repo, "cat-file", "--batch-check", input="\n".join(shas).encode() + b"\n")
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
    out = run_git(cwd, "--git-dir", repo, "cat-file", "--batch", input="\n".join(wanted).encode() + b"\n")
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
