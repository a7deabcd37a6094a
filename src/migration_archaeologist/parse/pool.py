"""Parse many revision files on every core: for a big versions directory the parse is the scan's cost.

A helper process costs about 40 ms to start, so the first few hundred files of a stream are parsed
here, unless the caller says more are coming. After that, batches go to ``cores - 1`` helper
processes (:mod:`.worker`) while one has room (a batch in hand and two waiting), and are parsed
here when none has: this process never waits while there is work, and the helpers never sit idle.
Helpers only parse (``ast`` and ``compile``; nothing is imported or run). One that cannot start or
dies costs only speed: its batch is parsed here.
"""

from __future__ import annotations

import os
import pickle
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Generic, TypeVar
from collections.abc import Callable, Iterable, Iterator

from migration_archaeologist.parse.worker import job as _job, read_frame, write_frame
from migration_archaeologist.parse.revision import RevisionFile, Unparseable

__all__ = ["WORKER", "Helper", "Parsed", "parse_many"]

K = TypeVar("K")
Parsed = RevisionFile | Unparseable | None

#: The module a revision-parsing helper runs (``python -m``), with its job's name as argument.
WORKER = "migration_archaeologist.parse.worker"
#: Files parsed here before any helper starts: below this, starting one costs more than it saves.
INLINE_FIRST = 300
BATCH = 64
#: Batches a helper may hold at once: one to parse and two waiting. Its answer is only collected, and
#: its next batch only handed over, between the batches this process parses itself (64 files, 16 ms);
#: with one waiting, a helper sat idle for 0.1-0.15 s of a 10,000-file parse.
QUEUED = 3


def parse_many(
    items: Iterable[tuple[K, bytes]],
    *,
    helpers: int | None = None,
    inline_first: int = INLINE_FIRST,
    job: str = "revision",
    expected: Callable[[], int] | int | None = None,
) -> Iterator[tuple[K, bytes, Any]]:
    """``(key, data, parse_revision(data))`` for every item, in no particular order; with
    ``job="ops"``, ``read_ops(data)`` instead (the timeline's op summaries).

    ``items`` is consumed as it comes (a cat-file stream, say), so parsing overlaps reading.
    ``helpers`` defaults to the cores this process may use, minus one. ``expected``: how many items
    there are, or are known so far (a callable is asked again): when that is more than
    ``inline_first``, helpers start at once instead of after ``inline_first`` items parsed here.
    """
    work = _job(job)
    count = _helper_count() if helpers is None else helpers
    pool: _Pool[K] | None = None
    batch: list[tuple[K, bytes]] = []

    def many() -> bool:
        known = expected() if callable(expected) else expected
        return known is not None and known > inline_first

    try:
        for seen, (key, data) in enumerate(items):
            if count <= 0 or (pool is None and seen < inline_first and not many()):
                yield key, data, work(data)
                continue
            if pool is None:
                pool = _Pool(count, job)
            batch.append((key, data))
            if len(batch) >= BATCH:
                yield from pool.dispatch(batch)
                batch = []
        if pool is None:
            for key, data in batch:
                yield key, data, work(data)
            return
        if batch:
            yield from pool.dispatch(batch)
        yield from pool.drain()
    finally:
        if pool is not None:
            pool.close()


def _helper_count() -> int:
    """Cores this process may use, minus one, at most 8; ``MA_PARSE_HELPERS=N`` sets it (0: none)."""
    setting = os.environ.get("MA_PARSE_HELPERS", "").strip()
    if setting.isdigit():
        return min(int(setting), 8)
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(0, min(cores - 1, 8))


class Helper:
    """One helper process (``python -m module *args``, answering frames as :mod:`.worker` does) and
    the thread that waits for its answers."""

    def __init__(
        self, answers: queue.SimpleQueue[tuple[Helper, list[Any], list[Any] | None]], module: str, *args: str
    ) -> None:
        package_root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self.queued = 0  # batches handed over and not answered yet (the main thread's count)
        self.alive = True
        self._failed = False
        self._answers = answers
        self._outbox: queue.SimpleQueue[list[Any] | None] = queue.SimpleQueue()
        self._sent: queue.SimpleQueue[list[Any] | None] = queue.SimpleQueue()
        # a thread writes, so that handing over a batch never waits for the helper to read one
        threading.Thread(target=self._write, daemon=True).start()
        threading.Thread(target=self._receive, daemon=True).start()

    def send(self, batch: list[Any]) -> None:
        self.queued += 1
        self._outbox.put(batch)

    def _write(self) -> None:
        assert self.proc.stdin is not None
        while (batch := self._outbox.get()) is not None:
            if not self._failed:
                try:
                    write_frame(self.proc.stdin, pickle.dumps([data for _, data in batch], pickle.HIGHEST_PROTOCOL))
                    self._sent.put(batch)
                    continue
                except (OSError, ValueError):
                    self._failed = True
            self._answers.put((self, batch, None))
        self._sent.put(None)
        try:
            self.proc.stdin.close()
        except OSError:
            pass

    def _receive(self) -> None:
        """Answers in the order batches were written; after a failure every batch is answered
        with None (parse it yourself), so the main thread never waits for one that will not come."""
        assert self.proc.stdout is not None
        while (batch := self._sent.get()) is not None:
            results = None
            if not self._failed:
                try:
                    payload = read_frame(self.proc.stdout)
                    if payload is not None:
                        results = pickle.loads(payload)
                        if len(results) != len(batch):
                            results = None
                except Exception:  # a torn or odd answer: the batch is parsed in the main process
                    results = None
                self._failed = results is None
            self._answers.put((self, batch, results))

    def close(self) -> None:
        self._outbox.put(None)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class _Pool(Generic[K]):
    def __init__(self, count: int, job: str = "revision") -> None:
        self._answers: queue.SimpleQueue[tuple[Helper, list[Any], list[Any] | None]] = queue.SimpleQueue()
        self._helpers: list[Helper] = []
        self._work: Callable[[bytes], Any] = _job(job)  # what the helpers do, for batches parsed here
        for _ in range(count):
            try:
                self._helpers.append(Helper(self._answers, WORKER, job))
            except OSError:
                break
        self._outstanding = 0

    def dispatch(self, batch: list[tuple[K, bytes]]) -> Iterator[tuple[K, bytes, Parsed]]:
        """Give the batch to a free helper, else parse it here; then yield whatever answers arrived."""
        yield from self._collect(block=False)
        helper = min((h for h in self._helpers if h.alive and h.queued < QUEUED), key=lambda h: h.queued, default=None)
        if helper is not None:
            helper.send(batch)
            self._outstanding += 1
        else:
            for key, data in batch:
                yield key, data, self._work(data)
        yield from self._collect(block=False)

    def drain(self) -> Iterator[tuple[K, bytes, Parsed]]:
        while self._outstanding:
            yield from self._collect(block=True)

    def _collect(self, block: bool) -> Iterator[tuple[K, bytes, Parsed]]:
        while self._outstanding:
            try:
                helper, batch, results = self._answers.get(block=block)
            except queue.Empty:
                return
            block = False
            self._outstanding -= 1
            helper.queued -= 1
            if results is None:
                helper.alive = False
                results = [self._work(data) for _, data in batch]
            for (key, data), result in zip(batch, results, strict=True):  # one result per item
                yield key, data, result

    def close(self) -> None:
        for helper in self._helpers:
            helper.close()
