"""Objects no ref reaches: dangling commits and blobs, as ``git fsck --unreachable --no-reflogs`` lists them.

``--connectivity-only`` keeps fsck from hashing every blob: we only need the reachability answer,
and that walk costs about what ``git rev-list --all --objects`` costs.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from migration_archaeologist.gitrepo import Repository, first_line


@dataclass(frozen=True)
class FsckReport:
    """What fsck saw that no ref reaches (reflog-only objects included: ``--no-reflogs``)."""

    commits: tuple[str, ...]
    blobs: tuple[str, ...]
    missing: tuple[str, ...]  # objects something points at but the repository does not hold
    error: str | None  # fsck's complaint, when it exited non-zero


def run_fsck(repo: Repository) -> FsckReport:
    """One fsck process; its non-zero exit (corruption) is reported, never raised: the scan goes on."""
    proc = repo.popen("fsck", "--connectivity-only", "--unreachable", "--no-reflogs", "--no-progress")
    stderr_chunks: list[bytes] = []
    drain = threading.Thread(target=lambda: stderr_chunks.append(proc.stderr.read()), daemon=True)  # type: ignore[union-attr]
    drain.start()
    commits: list[str] = []
    blobs: list[str] = []
    missing: list[str] = []
    assert proc.stdout is not None
    for raw in proc.stdout:
        parts = raw.decode("ascii", "replace").split()
        if len(parts) < 3:
            continue
        state, kind, sha = parts[0], parts[1], parts[2]
        if state in ("unreachable", "dangling"):
            if kind == "commit":
                commits.append(sha)
            elif kind == "blob":
                blobs.append(sha)
        elif state == "missing":
            missing.append(sha)
    proc.wait()
    drain.join()
    error = None
    if proc.returncode not in (0, None) and (missing or stderr_chunks and stderr_chunks[0].strip()):
        error = f"git fsck reported problems: {first_line(b''.join(stderr_chunks))}"
    return FsckReport(tuple(commits), tuple(blobs), tuple(missing), error)
