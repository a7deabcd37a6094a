"""The helper process of :mod:`migration_archaeologist.sources.docs.prefetch`: indexes work-tree documents.

Started as ``python -m migration_archaeologist.sources.docs.index_worker``; answers frames as
:mod:`migration_archaeologist.parse.worker` does, each item a ``(path, rel, salt)`` and each answer
what :func:`index_file` makes of it. It only reads the files it is given and works on their text;
nothing in them is run.
"""

from __future__ import annotations

import os
import stat
from typing import Any

from migration_archaeologist.files.untrusted import open_regular
from migration_archaeologist.parse.worker import serve
from migration_archaeologist.sources.docs.documents import MAX_BYTES, blob_sha, decode_text
from migration_archaeologist.sources.docs.index import Keys, index_text
from migration_archaeologist.sources.docs.scanner import Scanner


def index_file(item: tuple[str, str, bytes]) -> tuple[int, int, str, Any] | None:
    """The helper's job: ``(path, rel, salt)`` -> (size, mtime_ns, blob id, index under no known ID),
    the size and time as read (the scan compares them with its own ``stat``); None if unreadable."""
    path, rel, salt = item
    try:
        with os.fdopen(open_regular(path), "rb") as handle:  # O_NONBLOCK: a FIFO is refused, not waited on
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_BYTES:
                return None
            data = handle.read(MAX_BYTES + 1)
    except OSError:
        return None
    if len(data) != info.st_size:
        return None  # changed while read: the scan reads it again
    scanner = Scanner((), {}, ())
    text = decode_text(data)
    index = None if text is None else index_text(scanner, text, rel, Keys(scanner, salt))
    return info.st_size, info.st_mtime_ns, blob_sha(data), index


if __name__ == "__main__":
    serve(index_file)
