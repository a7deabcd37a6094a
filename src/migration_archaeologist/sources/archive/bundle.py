"""Revision files inside a git bundle, read through a temporary bare repository of our own."""

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


def read_bundle(path: Path, ctx: Context, limits: Limits, given: str) -> list[Found]:
    """Every candidate blob of every commit in a bundle, via a temporary bare repository of our own.

    The user's repository is never touched: the bundle is fetched into a fresh ``git init --bare``
    under a temp dir that is deleted before any sighting is yielded.
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
        for args in (
            ("init", "-q", "--bare", repo),
            ("--git-dir", repo, "-c", "protocol.file.allow=always", "fetch", "-q", "--no-tags", bundle, *refspecs),
        ):
            result = run_git(tmp, *args)
            if isinstance(result, str):
                ctx.issues.append(ArchiveIssue(given, None, f"not an archive git or Python can read: {result}"))
                return found
        listing = run_git(tmp, "--git-dir", repo, "rev-list", "--all", "--objects")
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
