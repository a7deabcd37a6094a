"""A helper process of :mod:`migration_archaeologist.parse.pool`: parses batches of revision files.

Reads frames from stdin (8-byte big-endian length, then a pickled list of bytes) and answers each
with a frame holding the pickled list of :func:`parse_revision` results (or, given ``ops``, of
:func:`~migration_archaeologist.parse.ops.read_ops` results), in order. It only parses:
nothing it reads is imported or run. Ends at end of input. The frames come from and go to the
process that started it, never from a repository, so pickle is safe here. Another helper (the
documents' index, :mod:`migration_archaeologist.sources.docs.index_worker`) answers frames with
:func:`serve` and its own job.
"""

from __future__ import annotations

import pickle
import struct
import sys
from typing import IO, Any
from collections.abc import Callable

from migration_archaeologist.parse.revision import parse_revision

_LENGTH = struct.Struct(">Q")


def read_frame(stream: IO[bytes]) -> bytes | None:
    """One frame's payload, or None at a clean or torn end of input."""
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None
    (size,) = _LENGTH.unpack(head)
    payload = stream.read(size)
    return payload if len(payload) == size else None


def write_frame(stream: IO[bytes], payload: bytes) -> None:
    stream.write(_LENGTH.pack(len(payload)))
    stream.write(payload)
    stream.flush()


def job(name: str) -> Callable[[bytes], object]:
    """What a helper does to each item: ``revision`` (parse_revision) or ``ops`` (read_ops, for the
    timeline)."""
    if name == "ops":
        from migration_archaeologist.parse.ops import read_ops

        return read_ops
    return parse_revision


def main(work: Callable[[Any], object]) -> None:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while (payload := read_frame(stdin)) is not None:
        batch: list[Any] = pickle.loads(payload)
        write_frame(stdout, pickle.dumps([work(data) for data in batch], pickle.HIGHEST_PROTOCOL))


def serve(work: Callable[[Any], object]) -> None:
    """A helper process's life: ``work`` on every item of every frame until end of input."""
    import gc

    gc.disable()  # every result is dropped after it is sent: nothing for the cycle collector to do
    try:
        main(work)
    except (KeyboardInterrupt, BrokenPipeError):
        pass


if __name__ == "__main__":
    serve(job(sys.argv[1] if len(sys.argv) > 1 else "revision"))
