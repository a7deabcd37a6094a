"""Writing an environment plan: each file whole or not at all, never over anything, and each recorded
in the versions directory's manifest with where its bytes came from."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from migration_archaeologist import __version__
from migration_archaeologist.actions.environment_files import EnvironmentFile, EnvironmentPlan
from migration_archaeologist.errors import RestoreConflict
from migration_archaeologist.chain.scan_result import ScanResult


def apply_environment(plan: EnvironmentPlan, result: ScanResult, manifest_dir: Path) -> tuple[Path, ...]:
    """Write the plan's files (never over anything, each whole or not at all) and record each in the
    manifest of ``manifest_dir`` (a versions directory). Called under that directory's lock."""
    from migration_archaeologist.files.atomic import cannot_write, create_file, make_folder
    from migration_archaeologist.actions.manifest import append_manifest
    from migration_archaeologist.chain.versions_directory import inside as _inside

    root = result.repository.work_tree
    assert root is not None
    if plan.conflicts:
        first = plan.conflicts[0]
        raise RestoreConflict(f"nothing written: {first.note}")
    written: list[Path] = []
    try:
        for file in plan.to_write:
            make_folder(file.target.parent)
            if not _inside(root, file.target.parent):  # a folder that is a link out of the work tree
                raise RestoreConflict(f"nothing more written: {file.target.parent} leads outside the repository")
            assert file.data is not None
            try:
                create_file(file.target, file.data, prefix=".ma-restore-")
            except FileExistsError:
                raise RestoreConflict(
                    f"nothing more written: {file.target} appeared meanwhile; it was left as it is"
                ) from None
            written.append(file.target)
    except OSError as exc:
        for path in reversed(written):
            path.unlink(missing_ok=True)
        raise cannot_write(written[-1].parent if written else root, exc) from None
    if written:
        append_manifest(manifest_dir, [_record(f, result) for f in plan.to_write])
    return tuple(written)


def _record(file: EnvironmentFile, result: ScanResult) -> dict:  # type: ignore[type-arg]
    v = file.version
    record = {
        "kind": "environment",
        "role": file.role,
        "file": result.relative(file.target),
        "blob": v.blob if v else None,
        "commit": v.commit if v else None,
        "source": v.source if v else "alembic-template",
        "ref": v.ref if v else None,
        "original_path": v.path if v else None,
        "fidelity": file.fidelity,
        "reason": file.note,
        "restored_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "repository": str(result.repository.display_path),
        "tool": f"migration-archaeologist {__version__}",
    }
    if v is not None and v.submodule is not None:  # the commit is the submodule's
        record["submodule"] = v.submodule
    return record
