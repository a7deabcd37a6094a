"""The manifest: one JSON file per versions directory, a provenance record for every file the tool
wrote there (restored, synthesized, brought back for the environment), so that a person can tell
later where each one came from. Read with a size cap and never through a link; written atomically,
under the versions directory's lock."""

from __future__ import annotations

import json
import os
from pathlib import Path
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from migration_archaeologist import __version__
from migration_archaeologist.files.atomic import replace_file
from migration_archaeologist.files.untrusted import MANIFEST_LIMIT, FileTooLarge, NotRegularFile, read_regular
from migration_archaeologist.actions.tool_files import MANIFEST_NAME
from migration_archaeologist.actions.versions_lock import refused, tell, versions_dir_lock

if TYPE_CHECKING:
    from migration_archaeologist.sources.interface import Sighting


def revision_record(
    revision: str,
    file: str,
    blob: str,
    sighting: Sighting | None,
    fidelity: str | None,
    reason: str | None,
    restored_at: str | None,
    repository: Path,
) -> dict[str, Any]:
    """The provenance record of a revision file written from ``sighting`` (where its bytes came from)."""
    s = sighting
    record = {
        "revision": revision,
        "file": file,
        "blob": blob,
        "commit": s.commit if s else None,
        "source": s.source if s else None,
        "ref": s.ref if s else None,
        "original_path": s.path if s else None,
        "fidelity": fidelity,
        "reason": reason,
        "restored_at": restored_at,
        "repository": str(repository),
        "tool": f"migration-archaeologist {__version__}",
    }
    if s is not None and s.submodule is not None:  # the commit is the submodule's: git -C SUBMODULE show
        record["submodule"] = s.submodule
    return record


def append_manifest(versions_dir: Path, records: Sequence[dict]) -> Path:  # type: ignore[type-arg]
    """Add provenance records to the versions directory's manifest (replaced atomically; an unreadable
    one is kept aside, never lost)."""
    path = versions_dir / MANIFEST_NAME
    with versions_dir_lock(versions_dir):  # read, add, replace: one run at a time, or a record is lost
        doc: dict[str, Any] = {"schema": "migration-archaeologist/manifest/1", "restored": []}
        if os.path.lexists(path):
            try:  # never through a symlink, never a FIFO or device, never unbounded
                loaded = json.loads(read_regular(path, MANIFEST_LIMIT, follow=False).decode("utf-8"))
                if isinstance(loaded, dict) and isinstance(loaded.get("restored"), list):
                    doc = loaded
            except NotRegularFile as exc:
                raise refused(path, exc.kind) from None
            except (OSError, ValueError):
                path.rename(path.with_suffix(f".unreadable-{os.getpid()}.json"))  # keep it; never lose a record
        doc["restored"].extend(records)
        replace_file(path, (json.dumps(doc, indent=2) + "\n").encode("utf-8"), prefix=".ma-manifest-")
    return path


def read_manifest(versions_dirs: Sequence[Path]) -> dict[tuple[str, str], dict]:  # type: ignore[type-arg]
    """(revision, blob) -> the latest provenance record of the manifests in ``versions_dirs``."""
    found: dict[tuple[str, str], dict] = {}  # type: ignore[type-arg]
    for folder in versions_dirs:
        path = folder / MANIFEST_NAME
        try:
            doc = json.loads(read_regular(path, MANIFEST_LIMIT, follow=False).decode("utf-8"))
        except (NotRegularFile, FileTooLarge) as exc:
            tell(f"warning: {path} not read ({exc.strerror}): its provenance records are not shown")
            continue
        except (OSError, ValueError):
            continue
        records = doc.get("restored") if isinstance(doc, dict) else None
        for record in records if isinstance(records, list) else ():
            if (
                isinstance(record, dict)
                and isinstance(record.get("revision"), str)
                and isinstance(record.get("blob"), str)
            ):
                found[(record["revision"], record["blob"])] = record
    return found
