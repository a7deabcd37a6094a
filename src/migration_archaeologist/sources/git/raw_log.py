"""The ``git log --raw`` stream both history readers run (the revision walk, the environment files'):
its arguments, its process fed and drained, and what its lines say (modes without file content, dates).
"""

from __future__ import annotations

import subprocess
import threading
from datetime import datetime, timezone

from migration_archaeologist.sources.git.repository import Repository

#: Paths worth reading. Content decides what is a revision file; this only skips images and docs.
SKIPPED_MODES = {b"120000", b"160000"}  # symlinks and submodules hold no file content


#: each commit's header in the walk: id, parents, author date, author, subject
_WALK_FORMAT = "%x01%H%x00%P%x00%at%x00%an%x00%s"


def log_args(tips: list[str], stdin: bool, fmt: str = _WALK_FORMAT) -> list[str]:
    """``git log`` of every change as raw diff lines: no rename pairing, full ids, NUL-separated,
    merges against their first parent, nothing run for content (textconv, external diff)."""
    return [
        "log",
        *tips,
        "--raw",
        "--no-renames",
        "--no-abbrev",
        "-z",
        "--root",
        "--diff-merges=first-parent",
        "--no-textconv",
        "--no-ext-diff",
        f"--format={fmt}",
        *(["--stdin"] if stdin else []),
    ]


def fed_log(
    repo: Repository, args: list[str], feed: list[str] | None
) -> tuple[subprocess.Popen[bytes], list[bytes], threading.Thread]:
    """A streaming git command (``log ... --stdin``), ``feed`` written to its stdin by a thread and
    its stderr drained by another (either pipe filling up would stall git): the process, the list
    stderr lands in, and the draining thread to join once stdout is read."""
    proc = repo.popen(*args, stdin=subprocess.PIPE if feed is not None else None)
    stderr: list[bytes] = []
    drain = threading.Thread(target=lambda: stderr.append(proc.stderr.read()), daemon=True)  # type: ignore[union-attr]
    drain.start()
    if feed is not None:

        def write() -> None:
            try:
                proc.stdin.write("".join(t + "\n" for t in feed).encode("ascii"))  # type: ignore[union-attr]
                proc.stdin.close()  # type: ignore[union-attr]
            except BrokenPipeError:
                pass

        threading.Thread(target=write, daemon=True).start()
    return proc, stderr, drain


def utc(stamp: bytes) -> str:
    """Author dates in UTC: sightings from people in different time zones must sort as strings."""
    try:
        return datetime.fromtimestamp(int(stamp), tz=timezone.utc).isoformat()
    except (ValueError, OverflowError, OSError):
        return ""
