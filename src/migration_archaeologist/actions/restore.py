"""Write chosen revisions back into a versions directory: byte-identical, atomic, never over anything.

A plan is computed first and shown (dry-run); ``apply`` writes nothing at all if any file in the
plan would collide with a different file. After writing, Alembic itself loads the directory in a
subprocess and must see the same heads as our graph.

Two ``restore --apply`` runs on one versions directory take turns (:mod:`versions_lock`): ``apply``
re-checks the plan against what is there once it holds the lock, so the result is as if they had run
one after the other. Dry runs take no lock.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from collections.abc import Mapping, Sequence

from migration_archaeologist.project.alembic_check import AlembicView, alembic_view
from migration_archaeologist.chain.catalog import RevisionEntry
from migration_archaeologist.parse.constants import MAX_MODULE_BYTES
from migration_archaeologist.errors import RestoreConflict, RestoreRefused, RevisionNotFound, UsageError
from migration_archaeologist.files.atomic import cannot_write, create_file, make_folder
from migration_archaeologist.actions.manifest import append_manifest, revision_record
from migration_archaeologist.chain.graph import build_graph
from migration_archaeologist.actions.interrupted import repair_interrupted
from migration_archaeologist.files.untrusted import read_regular
from migration_archaeologist.parse.revision import RevisionFile
from migration_archaeologist.chain.scan_result import ScanResult
from migration_archaeologist.sources.git.lfs import parse_pointer
from migration_archaeologist.sources.interface import GIT_SOURCES, Sighting, git_blob_id, source_file_name
from migration_archaeologist.actions.versions_lock import tell, versions_dir_lock
from migration_archaeologist.actions.versions_now import present_now, version_locations

#: A file name restore may write: no folder separator, and no control character but tab. A newline
#: ends the name for Alembic's file pattern (the file would never load); the other control
#: characters are no name anyone meant, and rewrite the terminal that prints them.
_SAFE_NAME = re.compile(r"[^/\\\x00-\x08\x0a-\x1f\x7f-\x9f]+\.py\Z")


@dataclass(frozen=True)
class PlannedFile:
    revision: str
    blob: str
    target: Path
    sighting: Sighting | None  # where the content and its file name come from
    fidelity: str
    action: str  # "write", "unchanged" (identical file already there), "conflict"
    note: str

    @property
    def origin(self) -> str:
        """Where the bytes come from, for a plan's table: 'stash stash@{1} 9fc9ab2a0c 2025-10-31'."""
        s = self.sighting
        if s is None:
            return ""
        ref = f" {s.ref}" if s.ref else ""
        commit = f" {s.commit[:10]}" if s.commit else ""
        submodule = f" in {s.submodule}" if s.submodule else ""  # the commit is the submodule's
        return f"{s.source}{ref}{commit} {(s.date or '')[:10]}".strip() + submodule


@dataclass(frozen=True)
class RestorePlan:
    versions_dir: Path
    files: tuple[PlannedFile, ...]
    requested: tuple[str, ...]
    already_present: tuple[str, ...]
    unrecoverable: tuple[str, ...]  # ancestors no source holds
    allow_new_head: bool = False  # --allow-new-head: checked again under the lock, against what is there then

    @property
    def conflicts(self) -> tuple[PlannedFile, ...]:
        return tuple(f for f in self.files if f.action == "conflict")

    @property
    def to_write(self) -> tuple[PlannedFile, ...]:
        return tuple(f for f in self.files if f.action == "write")


@dataclass(frozen=True)
class RestoreOutcome:
    plan: RestorePlan
    written: tuple[Path, ...]
    manifest: Path | None
    our_heads: tuple[str, ...]
    alembic: AlembicView | None

    @property
    def heads_agree(self) -> bool | None:
        """None when Alembic could not give a conclusive answer: the restore is then not proven (exit 1)."""
        if self.alembic is None or not self.alembic.conclusive:
            return None
        return tuple(sorted(self.alembic.heads)) == tuple(sorted(self.our_heads))


def plan_restore(
    result: ScanResult, revisions: Sequence[str], versions_dir: Path | None = None, *, allow_new_head: bool = False
) -> RestorePlan:
    """REV and every ancestor of it (down_revision and depends_on) that is not in the versions directory.

    Refused (:class:`RestoreRefused`) unless ``allow_new_head``: a retired revision (reverted, removed on
    purpose: nothing needs it) and a plan that gives Alembic more heads than it has now. Each file goes
    back into the folder where it lived when that folder is inside a versions directory (a release
    subfolder is recreated); otherwise into ``versions_dir``.
    """
    target_dir = choose_versions_dir(result, versions_dir)
    entries = result.catalog.entries
    wanted: list[str] = []
    for name in revisions:
        rev = _resolve(result, name)
        wanted.append(rev)
    needed: set[str] = set()
    unrecoverable: set[str] = set()
    for rev in wanted:
        for node in {rev} | result.chain.ancestors(rev):
            if node in entries:
                needed.add(node)
            elif node not in result.external:  # another package's: the host brings it
                unrecoverable.add(node)
    present = sorted(r for r in needed if entries[r].present)
    order = [r for r in result.chain.order if r in needed and not entries[r].present]
    if not allow_new_head:
        _refuse_worse_chain(result, order)
    files: list[PlannedFile] = []
    names_taken: dict[Path, str] = {}
    homes = result.versions_dirs if versions_dir is None else ()  # a folder the user names is where files go
    for rev in order:
        data = result.catalog.content(entries[rev].chosen.blob)
        planned = _plan_file(
            entries[rev], target_dir, data, homes, result.repository.work_tree, result.catalog.head_history
        )
        if planned.action != "conflict" and planned.target in names_taken:
            planned = PlannedFile(
                rev,
                planned.blob,
                planned.target,
                planned.sighting,
                planned.fidelity,
                "conflict",
                f"{planned.target.name} is also the file name of {names_taken[planned.target]} in this plan",
            )
        names_taken.setdefault(planned.target, rev)
        files.append(planned)
    return RestorePlan(
        target_dir, tuple(files), tuple(wanted), tuple(present), tuple(sorted(unrecoverable)), allow_new_head
    )


def _resolve(result: ScanResult, name: str) -> str:
    entries = result.catalog.entries
    if name in entries:
        return name
    if name in result.chain.branch_labels:
        return result.chain.branch_labels[name]
    prefixed = [rev for rev in entries if rev.startswith(name)] if len(name) >= 4 else []
    if len(prefixed) == 1:
        return prefixed[0]
    if len(prefixed) > 1:
        raise UsageError(f"'{name}' is ambiguous: {', '.join(sorted(prefixed))}")
    unread = len(result.unreadable)
    # an object git could not hand out (corrupt, too large, absent from a partial clone) may be it
    also = f"; {unread} object(s) could not be read: 'scan' lists them" if unread else ""
    raise RevisionNotFound(
        f"Can't locate revision identified by '{name}' in git history, reflogs, stashes or unreachable objects{also}"
    )


def choose_versions_dir(result: ScanResult, versions_dir: Path | None) -> Path:
    """--versions when given, else the one versions directory; several need choosing."""
    if versions_dir is not None:
        return versions_dir
    if len(result.versions_dirs) == 1:
        return result.versions_dirs[0]
    if not result.versions_dirs and result.repository.work_tree is None:
        raise UsageError(
            f"{result.repository.display_path} is a bare repository: it has no working tree to restore into;"
            " pass --versions DIR"
        )
    if not result.versions_dirs:
        raise UsageError("no versions directory known (no alembic.ini, none in history): pass --versions DIR")
    names = ", ".join(str(d) for d in result.versions_dirs)
    raise UsageError(f"several versions directories ({names}): choose one with --versions DIR")


def _refuse_worse_chain(result: ScanResult, order: Sequence[str]) -> None:
    """Raise RestoreRefused when writing ``order`` restores a retired revision or adds a head."""
    entries = result.catalog.entries
    retired = [r for r in order if r in result.retired]
    for rev in retired:
        retirement = result.retired[rev]
        if retirement.on_purpose:
            raise RestoreRefused(
                f"nothing written: {rev} was {retirement.describe()}, and nothing present needs it;"
                " restoring it would bring back what was removed on purpose: pass --allow-new-head to restore it anyway"
            )
        # named by the user, never removed from HEAD's history: someone's other work, restored as asked
        tell(f"warning: nothing present needs {rev}: it was {retirement.describe()}; restoring it as asked")
    present = {r: e.parsed for r, e in entries.items() if e.present}
    _refuse_new_head(present, {r: entries[r].parsed for r in order})


def _refuse_new_head(present: dict[str, RevisionFile], adding: dict[str, RevisionFile]) -> None:
    """Raise RestoreRefused when ``adding`` to ``present`` gives Alembic more heads than it has."""
    if not present or not adding:
        return
    before = build_graph(present).heads
    after = build_graph({**present, **adding}).heads
    if len(after) > max(len(before), 1):
        added = ", ".join(h for h in after if h not in before)
        raise RestoreRefused(
            f"nothing written: restoring {', '.join(adding)} gives Alembic another head ({added}; heads now:"
            f" {', '.join(before)}): pass --allow-new-head to restore it anyway"
        )


def _home_folder(sighting: Sighting | None, root: Path | None, homes: Sequence[Path], target_dir: Path) -> Path:
    """Where the file lived, when that is inside a versions directory (``versions/2024.1/expand``);
    else ``target_dir``. Only plain relative folders inside the repository: never '..' or a link out."""
    if sighting is None or not sighting.path or root is None or sighting.source not in GIT_SOURCES:
        return target_dir
    from migration_archaeologist.chain.versions_directory import inside as _inside, plain_relative as _plain_relative

    # git's paths are '/'-separated; a backslash is part of a name ('C:\\abs.py' is a file in versions/)
    folder = sighting.path.rsplit("/", 1)[0] if "/" in sighting.path else ""
    if not folder or not _plain_relative(folder):
        return target_dir
    candidate = Path(os.path.normpath(root / folder))
    for home in homes:
        if (candidate == home or home in candidate.parents) and _inside(home, candidate):
            return candidate
    return target_dir


def _plan_file(
    entry: RevisionEntry,
    target_dir: Path,
    data: bytes,
    homes: Sequence[Path] = (),
    root: Path | None = None,
    head_history: Mapping[str, int] | None = None,
) -> PlannedFile:
    chosen = entry.chosen
    # A commit that holds the content (not the one deleting it), so `git show COMMIT:PATH` gives these bytes.
    named = [s for s in chosen.sightings if s.path and s.event != "deleted" and s.source != "worktree"]
    named = named or [s for s in chosen.sightings if s.path]
    # The name it had on HEAD's history, where the project lost it: a rebased pull request's copy of
    # the same bytes under another date prefix is newer but never was the project's (indico's 56a26a721717).
    on_head = [s for s in named if head_history and s.commit in head_history]
    named = on_head or named
    sighting = max(named, key=lambda s: s.date or "") if named else (chosen.sightings[-1] if chosen.sightings else None)
    try:
        name = _file_name(entry, sighting)
    except ValueError as exc:
        return PlannedFile(entry.revision, chosen.blob, target_dir, sighting, chosen.fidelity, "conflict", str(exc))
    target = _home_folder(sighting, root, homes, target_dir) / name
    if target.is_symlink() or target.exists():
        try:  # a FIFO or a link to /dev/zero at the name must not hang or fill memory
            existing = read_regular(target, MAX_MODULE_BYTES)
        except OSError as exc:
            return PlannedFile(
                entry.revision, chosen.blob, target, sighting, chosen.fidelity, "conflict", f"cannot read it: {exc}"
            )
        if existing == data:
            return PlannedFile(entry.revision, chosen.blob, target, sighting, chosen.fidelity, "unchanged", "identical")
        if _lfs_pointer_of(existing, data):
            note = (
                f"{target} is the Git LFS pointer of this very file (git-lfs's smudge never ran there); it is never"
                f" overwritten: 'git lfs checkout' writes the real file, or move the pointer aside and restore again"
            )
            return PlannedFile(entry.revision, chosen.blob, target, sighting, chosen.fidelity, "conflict", note)
        return PlannedFile(
            entry.revision,
            chosen.blob,
            target,
            sighting,
            chosen.fidelity,
            "conflict",
            f"{target} already exists with different content (blob {git_blob_id(existing)[:10]},"
            f" recovered blob {chosen.blob[:10]}); it is never overwritten: move it aside or use --versions",
        )
    return PlannedFile(entry.revision, chosen.blob, target, sighting, chosen.fidelity, "write", entry.reason)


def _lfs_pointer_of(existing: bytes, data: bytes) -> bool:
    """Whether ``existing`` is an LFS pointer naming exactly ``data`` (by sha256 and size)."""
    pointer = parse_pointer(existing)
    return pointer is not None and pointer.names(data)


def _file_name(entry: RevisionEntry, sighting: Sighting | None) -> str:
    """The historic file's own name, and nothing from its directories."""
    if sighting is None or not sighting.path:
        slug = re.sub(r"[^a-z0-9]+", "_", (entry.parsed.message or "").lower()).strip("_")[:40]
        return f"{entry.revision}_{slug}.py" if slug else f"{entry.revision}.py"
    raw = sighting.path.replace("\\", "/")
    name = source_file_name(raw)  # x.py.bak, x.cpython-311.pyc and zip!x.py all come back as x.py
    if name in ("", ".", "..") or name.startswith(".") or not _SAFE_NAME.match(name) or ".." in name:
        raise ValueError(f"historic file name {raw!r} is not safe to write into a versions directory")
    return name


def apply_restore(
    plan: RestorePlan, result: ScanResult, *, check_with_alembic: bool = True, lock_timeout: float | None = None
) -> RestoreOutcome:
    """Write the plan; refuse everything if any file would be overwritten.

    Under the versions directory's lock the plan is checked again against the directory as it is now,
    so a run that waited for another one skips what that one wrote (as a run started after it would)
    and the manifest is read and rewritten by one run at a time. ``lock_timeout``: seconds to wait for
    the lock (default: ``MA_LOCK_TIMEOUT``, else 30); past it, :class:`RestoreBusy`. The returned
    outcome carries the plan as re-checked."""
    if plan.conflicts:
        raise _conflict(plan)
    make_folder(plan.versions_dir)
    with versions_dir_lock(plan.versions_dir, lock_timeout):
        dirs, revisions, where = present_now(result, plan.versions_dir)
        repair_interrupted(result, dirs, where)  # what a killed run left: its temp files, its unrecorded files
        plan = _recheck(plan, result, where)
        if plan.conflicts:
            raise _conflict(plan)
        if not plan.allow_new_head:  # another run may have written a head while this one waited
            _refuse_new_head(revisions, {f.revision: result.catalog.entries[f.revision].parsed for f in plan.to_write})
        written, manifest = _write_all(plan, result)
        for planned in plan.to_write:
            revisions[planned.revision] = result.catalog.entries[planned.revision].chosen.revision
        our_heads = build_graph(revisions).heads
        view = alembic_view(version_locations(dirs)) if check_with_alembic else None
    return RestoreOutcome(plan, tuple(written), manifest, our_heads, view)


def _write_all(plan: RestorePlan, result: ScanResult) -> tuple[list[Path], Path | None]:
    """Every planned file and its manifest records, or nothing.

    A write that fails (disk full, quota, permissions) removes the files this run wrote before it,
    so no restored file is left without its provenance record; Ctrl-C keeps the whole files
    written so far and records them before the interrupt goes on.
    """
    written: list[Path] = []
    manifest: Path | None = None
    try:
        for planned in plan.to_write:
            if planned.target.parent != plan.versions_dir:
                make_folder(planned.target.parent)  # a release subfolder it lived in, recreated
            write_new_file(planned.target, result.catalog.content(planned.blob))
            written.append(planned.target)
        manifest = _update_manifest(plan, result, written) if written else None
    except KeyboardInterrupt:
        if written and manifest is None:  # also when the last file was written and its record was not
            try:
                _update_manifest(plan, result, written)
            except OSError:
                pass  # recorded or not, the interrupt must go on; the files are whole
        raise
    except OSError as exc:
        for path in reversed(written):  # ours, written a moment ago under the lock
            path.unlink(missing_ok=True)
        raise cannot_write(plan.versions_dir, exc) from None
    return written, manifest


def _conflict(plan: RestorePlan) -> RestoreConflict:
    first = plan.conflicts[0]
    more = f" (and {len(plan.conflicts) - 1} more)" if len(plan.conflicts) > 1 else ""
    return RestoreConflict(f"nothing written: {first.revision}: {first.note}{more}")


def _recheck(plan: RestorePlan, result: ScanResult, where: dict[str, tuple[str, str]]) -> RestorePlan:
    """The plan again for files to write, against the directory as it is under the lock: a revision
    that is there now (another run wrote it while this one waited) is not written again, and a name
    taken meanwhile is a conflict, as a run started later would have planned."""
    files: list[PlannedFile] = []
    changed = False
    for planned in plan.files:
        if planned.action != "write":
            files.append(planned)
            continue
        if planned.revision in where:
            path, blob = where[planned.revision]
            same = "the same content" if blob == planned.blob else f"blob {blob[:10]}, not {planned.blob[:10]}"
            note = f"appeared meanwhile as {path} ({same}), not written again"
            tell(f"note: {planned.revision}: {note}")
            planned = replace(planned, action="unchanged", note=note)
        else:
            entry = result.catalog.entries[planned.revision]
            again = _plan_file(entry, planned.target.parent, result.catalog.content(entry.chosen.blob))
            if again.action != "write":
                planned = again
        changed = changed or planned.action != "write"
        files.append(planned)
    return replace(plan, files=tuple(files)) if changed else plan


def write_new_file(target: Path, data: bytes) -> None:
    """The name appears complete or not at all, and never replaces a file (restored or synthesized)."""
    try:
        create_file(target, data, prefix=".ma-restore-")
    except FileExistsError:
        raise RestoreConflict(
            f"nothing more written: {target} appeared while restoring; it was left as it is"
        ) from None


def _update_manifest(plan: RestorePlan, result: ScanResult, written: list[Path]) -> Path:
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    records = []
    done = set(written)
    for planned in plan.to_write:
        if planned.target not in done:
            continue
        records.append(
            revision_record(
                planned.revision,
                planned.target.name,
                planned.blob,
                planned.sighting,
                planned.fidelity,
                planned.note,
                now,
                result.repository.display_path,
            )
        )
    return append_manifest(plan.versions_dir, records)
