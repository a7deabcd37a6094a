"""What the versions directories hold now: the revisions in them and where each is, read again under
the lock (another run may have written meanwhile), and every folder of them Alembic is to be handed.
"""

from __future__ import annotations

import os
from pathlib import Path
from collections.abc import Mapping, Sequence

from migration_archaeologist.parse.revision import RevisionFile, Unparseable
from migration_archaeologist.chain.scan_result import ScanResult
from migration_archaeologist.sources.worktree import WorkTree, outermost


def present_now(
    result: ScanResult, versions_dir: Path
) -> tuple[list[Path], dict[str, RevisionFile], dict[str, tuple[str, str]]]:
    """The versions directories as they are now (``versions_dir`` and the scan's), the revisions in
    them and where each is: read again under the lock, since another run may have written meanwhile."""
    dirs = sorted({versions_dir, *(d for d in result.versions_dirs if d.is_dir())})
    known = {c.blob: c.revision for e in result.catalog.entries.values() for c in e.candidates}
    revisions, where = revisions_in(result.repository.work_tree or versions_dir, dirs, known)
    return dirs, revisions, where


def revisions_in(
    root: Path, dirs: list[Path], known: Mapping[str, RevisionFile | Unparseable]
) -> tuple[dict[str, RevisionFile], dict[str, tuple[str, str]]]:
    """The revisions in ``dirs`` now (what Alembic would load), and for each its (path, blob)."""
    present = WorkTree(root, dirs, known=known)
    revisions: dict[str, RevisionFile] = {}
    where: dict[str, tuple[str, str]] = {}
    for sighting in present.iter_sightings():
        parsed = present.parsed(sighting.blob)
        if isinstance(parsed, RevisionFile):
            revisions[parsed.revision] = parsed
            where[parsed.revision] = (sighting.path or "", sighting.blob)
    return revisions, where


def version_locations(dirs: Sequence[Path]) -> list[Path]:
    """Every folder under ``dirs`` holding ``.py`` files, as a project's own CLI hands them to Alembic
    (keystone's and neutron's ``versions/<release>/{expand,contract}``): Alembic reads each folder
    alone, so the nested ones are named."""
    found: list[Path] = []
    for directory in outermost(dirs):
        for dirpath, dirnames, filenames in os.walk(directory):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__" and not d.startswith("."))
            if dirpath == str(directory) or any(n.endswith(".py") for n in filenames):
                found.append(Path(dirpath))
    return found
