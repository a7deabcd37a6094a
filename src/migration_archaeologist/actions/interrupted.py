"""What a write killed mid-way (``kill -9``, a power cut, an OOM kill) leaves in a versions directory,
and its repair by the next write there.

A file appears as a temp file beside its target, then one link; its manifest record follows. A run
killed in between leaves a ``.ma-restore-*.tmp`` (or ``.ma-manifest-*.tmp``) behind, or a written
revision file without its record. The next run that writes there, holding the same lock, removes the
first and records the second, and says so: nothing of the interrupted run is lost or left unexplained.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from collections.abc import Mapping, Sequence

from migration_archaeologist.actions.manifest import append_manifest, read_manifest, revision_record
from migration_archaeologist.chain.scan_result import ScanResult
from migration_archaeologist.sources.interface import GIT_SOURCES, Sighting
from migration_archaeologist.actions.versions_lock import tell

#: the temp names ``files.create_file``/``replace_file`` give (``tempfile.mkstemp``: 8 characters)
TEMP_NAME = re.compile(r"\.ma-(?:restore|manifest)-[a-z0-9_]{8}\.tmp\Z")

#: how a late record says what is known, and no more: the tool cannot tell its own interrupted write
#: from a person's ``git show … > file``, only that the file is untracked and history's exact bytes
LATE_REASON = (
    "recorded by a later run: untracked and byte-identical to this version in git history "
    "(written by an interrupted restore, or brought back by hand)"
)


@dataclass(frozen=True)
class Repair:
    removed: tuple[Path, ...]  # temp files of an interrupted run
    recorded: tuple[Path, ...]  # files that got their manifest record late


def repair_interrupted(result: ScanResult, dirs: Sequence[Path], where: Mapping[str, tuple[str, str]]) -> Repair:
    """Remove our stale temp files under ``dirs`` and record the unrecorded files an interrupted run
    wrote. ``where``: revision -> (path, blob) of what is in ``dirs`` now (``versions_now.revisions_in``).
    Call under the versions directory's lock, so no temp file found is a live run's."""
    removed = tuple(_remove_stale_temp_files(dirs))
    recorded = tuple(_record_late(result, dirs, where))
    return Repair(removed, recorded)


def _remove_stale_temp_files(dirs: Sequence[Path]) -> list[Path]:
    removed: list[Path] = []
    for folder in dirs:
        for path in _temp_files(folder):
            try:
                path.unlink()
            except OSError:
                continue
            tell(f"note: removed {path}: a temp file left by an interrupted run")
            removed.append(path)
    return removed


def _temp_files(folder: Path, depth: int = 3) -> list[Path]:
    """Our temp names directly in ``folder`` or in its subfolders (release folders), regular files only."""
    found: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return found
    for entry in entries:
        try:
            mode = entry.stat(follow_symlinks=False).st_mode
        except OSError:
            continue
        if stat.S_ISREG(mode) and TEMP_NAME.match(entry.name):
            found.append(Path(entry.path))
        elif stat.S_ISDIR(mode) and depth > 1 and entry.name != "__pycache__" and not entry.name.startswith("."):
            found.extend(_temp_files(Path(entry.path), depth - 1))
    return found


def _record_late(result: ScanResult, dirs: Sequence[Path], where: Mapping[str, tuple[str, str]]) -> list[Path]:
    """Manifest records for files in ``dirs`` that git does not track, whose bytes are a version
    history holds, and that no manifest records: what a run killed before its record wrote."""
    recorded = read_manifest(dirs)
    root = result.repository.work_tree or (dirs[0] if dirs else Path("."))
    waiting: dict[Path, tuple[str, str, Sighting]] = {}
    for revision, (path, blob) in where.items():
        if (revision, blob) in recorded:
            continue
        sighting = _git_sighting(result, revision, blob)
        if sighting is not None:
            waiting[Path(os.path.normpath(root / path))] = (revision, blob, sighting)
    if not waiting:
        return []
    tracked = _tracked(result, waiting)
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    by_folder: dict[Path, list[dict]] = {}  # type: ignore[type-arg]
    done: list[Path] = []
    for file, (revision, blob, s) in sorted(waiting.items()):
        home = _home(file, dirs)
        if file in tracked or home is None:
            continue
        record = revision_record(
            revision, file.name, blob, s, "exact", LATE_REASON, _mtime(file), result.repository.display_path
        )
        by_folder.setdefault(home, []).append({**record, "recorded_at": now})
        done.append(file)
    for home, records in by_folder.items():
        append_manifest(home, records)
    for file in done:
        tell(f"note: recorded {file} in the manifest: {LATE_REASON}")
    return done


def _git_sighting(result: ScanResult, revision: str, blob: str) -> Sighting | None:
    """Where git holds exactly these bytes of ``revision`` (HEAD's history first), if it does."""
    entry = result.catalog.entries.get(revision)
    candidate = next((c for c in entry.candidates if c.blob == blob), None) if entry else None
    if candidate is None:
        return None
    in_git = [s for s in candidate.sightings if s.source in GIT_SOURCES]
    in_git.sort(key=lambda s: GIT_SOURCES.index(s.source))
    return in_git[0] if in_git else None


def _tracked(result: ScanResult, files: Mapping[Path, object]) -> set[Path]:
    """Which of ``files`` git tracks (in the index): the repository's own, never a restore's."""
    work_tree = result.repository.work_tree
    if work_tree is None:
        return set()
    inside = [str(f.relative_to(work_tree)) for f in files if f.is_relative_to(work_tree)]
    if not inside:
        return set()
    # --recurse-submodules: a versions directory in a submodule is tracked by the submodule's index
    out = result.repository.run(
        "--literal-pathspecs", "ls-files", "--recurse-submodules", "-z", "--cached", "--", *inside, check=False
    )
    return {
        Path(os.path.normpath(work_tree / name)) for name in out.decode("utf-8", "surrogateescape").split("\0") if name
    }


def _home(file: Path, dirs: Sequence[Path]) -> Path | None:
    """The versions directory (of ``dirs``) whose manifest speaks for ``file``: the innermost holding it."""
    holding = [d for d in dirs if file.is_relative_to(d)]
    return max(holding, key=lambda d: len(d.parts)) if holding else None


def _mtime(file: Path) -> str | None:
    try:
        return datetime.fromtimestamp(file.lstat().st_mtime, tz=timezone.utc).isoformat(timespec="seconds")
    except OSError:
        return None
