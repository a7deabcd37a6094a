"""The ``bytecode`` source: ``__pycache__`` folders scanned for ``.pyc`` files of lost revisions.

Each ``.pyc`` is read without blocking (a FIFO named like one would hang the scan), rebuilt
without executing it, and yields a sighting dated by the header's source mtime when it has one.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from collections.abc import Iterator, Sequence

from migration_archaeologist.files.untrusted import BoundedWalk, read_regular
from migration_archaeologist.parse.revision import RevisionFile, Unparseable, parse_revision
from migration_archaeologist.sources.bytecode.header import read_header
from migration_archaeologist.sources.bytecode.rebuild import Rebuilt, rebuild, worth_reporting
from migration_archaeologist.sources.interface import Sighting, git_blob_id

#: a .pyc larger than this is no compiled revision file
PYC_LIMIT = 64 * 1024 * 1024


class BytecodeSource:
    """Source of ``bytecode`` sightings: revision files rebuilt from ``.pyc`` files.

    ``pyc_files`` may name directories (``__pycache__``), which are searched for ``*.pyc``.
    """

    def __init__(self, pyc_files: Sequence[Path], *, root: Path) -> None:
        self.pyc_files = list(pyc_files)
        self.root = root
        self._contents: dict[str, bytes] = {}
        self._parsed: dict[str, RevisionFile | Unparseable] = {}
        self._rebuilt: dict[str, Rebuilt] = {}
        self.issues: list[str] = []

    def files(self) -> Iterator[Path]:
        for path in self.pyc_files:
            if path.is_dir():
                bounded = BoundedWalk()
                for dirpath, dirnames, filenames in bounded.walk(path):
                    dirnames.sort()
                    for name in sorted(filenames):
                        if name.endswith(".pyc"):
                            yield Path(dirpath) / name
                if bounded.cut_short:
                    self.issues.append(bounded.note(_relative(path, self.root)))
            else:
                yield path

    def iter_sightings(self) -> Iterator[Sighting]:
        for path in self.files():
            shown = _relative(path, self.root)
            try:  # regular files only, opened without blocking: a FIFO named *.pyc would hang the scan
                data = read_regular(path, PYC_LIMIT)
                stamp = path.stat().st_mtime
            except OSError as exc:
                self.issues.append(f"{shown}: {exc.strerror}")
                continue
            result = rebuild(data, pyc_name=shown)
            if isinstance(result, Unparseable):
                if worth_reporting(result):
                    self.issues.append(f"{shown}: {result.reason}")
                continue
            parsed = parse_revision(result.source)
            if parsed is None:
                self.issues.append(f"{shown}: rebuilt source is not a revision file")
                continue
            if not result.complete:
                self.issues.append(f"{shown}: rebuilt incompletely: {'; '.join(result.differences)}"[:300])
            blob = git_blob_id(result.source)
            self._contents[blob] = result.source
            self._parsed[blob] = parsed
            self._rebuilt[blob] = result
            header = read_header(data)
            if header is not None and header.source_mtime:
                stamp = header.source_mtime  # when the lost .py was last written
            date = datetime.fromtimestamp(stamp, tz=timezone.utc).isoformat(timespec="seconds")
            yield Sighting(blob, "bytecode", "seen", None, None, shown, date)

    def content(self, blob: str) -> bytes:
        return self._contents[blob]

    def parsed(self, blob: str) -> RevisionFile | Unparseable:
        return self._parsed[blob]

    def rebuilt(self, blob: str) -> Rebuilt:
        return self._rebuilt[blob]

    def fidelity(self, blob: str) -> str:
        """ "bytecode" when the rebuilt file compiles to the same bytecode, else "bytecode-partial"."""
        return self._rebuilt[blob].fidelity


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()
