"""Where each lost environment file comes back from: history's last version of it (HEAD's history
first), else Alembic's own template; and which configuration Alembic is to be given.

A configuration deleted before revisions that are present were added was retired, not lost (Alembic is
configured in code from then on), and is not brought back; neither is an env.py in a script folder
that holds the revision files itself (the program provides the environment).
"""

from __future__ import annotations

import os
from dataclasses import replace
from itertools import pairwise
from pathlib import Path
from collections.abc import Sequence

from migration_archaeologist.sources.environment_history import (
    EnvironmentHistory,
    FileVersion,
    environment_history,
    read_blobs,
)
from migration_archaeologist.actions.environment_files import (
    CONFIG,
    ENV_PY,
    PYPROJECT,
    README,
    TEMPLATE,
    EnvironmentFile,
    EnvironmentPlan,
    added_after,
    configured_environment,
    environment_naming,
    plain_path,
    relative_path,
)
from migration_archaeologist.actions.environment_templates import generated_config, generated_script_file
from migration_archaeologist.project.alembic_options import AlembicConfig
from migration_archaeologist.errors import UsageError
from migration_archaeologist.sources.git.repository import Repository
from migration_archaeologist.files.untrusted import read_regular_text
from migration_archaeologist.chain.scan_result import ScanResult

_IN_CODE = (
    "no configuration file names the versions directory and none was lost: the project configures Alembic "
    "in code; Alembic is asked with a temporary configuration naming the script folder and versions directories"
)


_LIBRARY_ENV = (
    "{folder} holds the revision files itself and history never had an env.py there: the program provides"
    " the environment (as Flask-Alembic and Invenio's host do), so no env.py (Alembic would load it as a"
    " revision) and no template from Alembic's own is written"
)


def _script_files(
    held: _Held,
    script: Path,
    dirs: tuple[Path, ...],
    db_url: str | None,
    files: list[EnvironmentFile],
    notes: list[str],
) -> None:
    """The script folder's env.py, script.py.mako and README: present, or how each comes back."""
    for role in (ENV_PY, TEMPLATE, README):
        target = script / role
        if target.is_file():
            files.append(EnvironmentFile(role, target, "present", None, None, None, "in the work tree"))
        elif role in (ENV_PY, TEMPLATE) and _library_env(held, script, dirs) and held.version_at(target) is None:
            notes.append(_LIBRARY_ENV.format(folder=script))
        elif role != README or _lost_with_the_rest(held.version_at(target), files):
            files.append(_from_history_or_template(held, target, role, dirs, script, db_url, notes))


def _library_env(held: _Held, script: Path, dirs: tuple[Path, ...]) -> bool:
    """Revision files directly in the script folder, which never held an env.py (flaskbb: Flask-Alembic
    sets script_location and version_locations to that folder and runs its own env.py). A generated
    env.py there would be loaded by Alembic as one more revision file."""
    flat = any(os.path.normpath(script) == os.path.normpath(d) for d in dirs)
    return flat and held.version_at(script / ENV_PY) is None


def plan_environment(
    result: ScanResult, *, db_url: str | None = None, history: EnvironmentHistory | None = None
) -> EnvironmentPlan:
    """Every file the environment of ``result.versions_dirs`` needs, present or how it comes back."""
    root = result.repository.work_tree
    if root is None:
        raise UsageError(
            f"{result.repository.display_path} is a bare repository: there is no work tree to recover into"
        )
    if not result.versions_dirs:
        raise UsageError("no versions directory known (no alembic.ini, none in history): pass --versions DIR")
    dirs = tuple(result.versions_dirs)
    env = configured_environment(root, dirs)
    owners: dict[str, Repository] = {}
    if history is None and (env is None or _lacks_files(env)):
        unreachable = {
            s.commit
            for e in result.catalog.entries.values()
            for c in e.candidates
            for s in c.sightings
            if s.source == "unreachable" and s.commit
        }
        history = environment_history(result.repository, unreachable)
        if result.submodules:  # what a submodule's history holds comes back too
            from migration_archaeologist.sources.git.submodules import environment_histories

            versions, errors, owners = environment_histories(result.submodules, unreachable)
            history = EnvironmentHistory(history.versions + tuple(versions), history.errors + tuple(errors))
    held = _Held(result.repository, root, history or EnvironmentHistory((), ()), owners)
    files: list[EnvironmentFile] = []
    notes: list[str] = []
    config_file: Path | None  # None: Alembic is configured in code, no file to write
    if env is not None:
        script = env.script_location
        assert script is not None
        config_file = env.path if env.path.is_file() else script / CONFIG
        kind = "flask-migrate" if env.kind == "flask-migrate" else "ini"
        section = env.section if env.kind == "ini" else "alembic"
        if config_file.is_file():
            files.append(
                EnvironmentFile(
                    CONFIG if config_file.suffix == ".ini" else config_file.name,
                    config_file,
                    "present",
                    None,
                    None,
                    None,
                    "in the work tree",
                )
            )
        elif _lost(result, held.version_at(config_file)) or _flask(held, script):
            # a Flask-Migrate folder that lost its alembic.ini (its env.py configures logging from it)
            files.append(_from_history_or_template(held, config_file, CONFIG, dirs, script, db_url, notes))
        else:  # warehouse: a migrations/ folder its program configures, never an ini
            config_file, kind = None, "code"
            notes.append(_IN_CODE)
    else:
        restored = _lost_config(held, result, dirs)
        if restored is not None:
            ini_file, found = restored
            config_file, script, section = ini_file.target, found.script_location, found.section
            kind = "flask-migrate" if found.problem else "pyproject" if ini_file.role == PYPROJECT else "ini"
            if ini_file.role == CONFIG and found.kind == "pyproject":
                section = "alembic"  # the ini written from the table
            if script is None:
                script = config_file.parent
            files.append(ini_file)
        else:
            script, section = _script_folder(held, dirs), "alembic"
            # neutron-vpnaas: revisions added after its ini was deleted; warehouse: its env.py takes its
            # options from the program (get_section). Alembic is configured in code: no file to write.
            in_code = held.retired or (not result.missing and any(e.present for e in result.catalog.entries.values()))
            if in_code or _library_env(held, script, dirs) or not _reads_a_config_file(held, script):
                config_file, kind = None, "code"
                for version, rev in held.retired[:1]:
                    notes.append(
                        f"{version.path} was deleted in {version.commit[:10]} {version.date[:10]} and revisions "
                        f"were added after it ({rev}): it was retired, not lost, and is not brought back"
                    )
                notes.append(_IN_CODE)
            else:
                kind = "flask-migrate" if _flask(held, script) else "ini"
                config_file = (script if kind == "flask-migrate" else script.parent) / CONFIG
                files.append(_from_history_or_template(held, config_file, CONFIG, dirs, script, db_url, notes))
    _script_files(held, script, dirs, db_url, files, notes)
    return EnvironmentPlan(
        tuple(files),
        config_file,
        section,
        script,
        kind,
        tuple(dict.fromkeys(notes)),
        held.history.errors,
        env_by_program=not (script / ENV_PY).is_file() and _library_env(held, script, dirs),
    )


def _lacks_files(env: AlembicConfig) -> bool:
    script = env.script_location
    assert script is not None
    return not all((script / role).is_file() for role in (ENV_PY, TEMPLATE)) or not (
        env.path.is_file() or (script / CONFIG).is_file()
    )


def _lost_config(held: _Held, result: ScanResult, dirs: Sequence[Path]) -> tuple[EnvironmentFile, AlembicConfig] | None:
    """The newest ``alembic.ini`` history holds, gone from the work tree, that names ``dirs`` (or,
    without script_location, is a Flask-Migrate folder's holding them), and was lost: one deleted
    before revisions that are present were added was retired (``held.retired``), as neutron-vpnaas's
    was in 2015 when it moved its configuration into code."""
    root, history = held.root, held.history
    paths = {v.path for v in history.versions if v.name in (CONFIG, PYPROJECT)}
    candidates: list[tuple[FileVersion, FileVersion, Path]] = []  # (version to read, its removal, where)
    for path in paths:
        target = root / path
        # a file there is read as a configuration, not history's; but a pyproject.toml that lost its
        # [tool.alembic] table is not (it is never overwritten: an alembic.ini is written from the table)
        if (target.is_file() and target.name != PYPROJECT) or not plain_path(path):
            continue
        if target.name == PYPROJECT and target.is_file():
            found = _last_table(held, path, dirs)  # the table went, the file stayed
            if found is not None:
                candidates.append(found + (target,))
            continue
        version = history.last_kept(path)
        if version is not None:
            candidates.append((version, version, target))
    contents = held.contents([v for v, _r, _t in candidates])
    best: tuple[tuple[int, str], EnvironmentFile, AlembicConfig] | None = None
    for version, removal, target in candidates:
        data = contents.get(version.blob)
        env = environment_naming(root, target, data, dirs)
        if env is None:
            continue
        later = added_after(result, removal)
        if later is not None:
            held.retired.append((version, later))
            continue
        rank = (1 if version.source == "history" else 0, version.date)
        if best is None or rank > best[0]:
            file = EnvironmentFile(
                target.name,
                target,
                "write",
                "exact",
                version,
                data,
                f"deleted in {version.commit[:10]}" if version.event == "deleted" else "not in the work tree",
            )
            if target.name == PYPROJECT and target.is_file():
                file = _from_table(target, env, removal, dirs)
            elif os.path.lexists(target):
                file = replace(
                    file,
                    action="conflict",
                    note=f"{target} exists but is not a regular file Alembic can read; it is never replaced",
                )
            best = (rank, file, env)
    return (best[1], best[2]) if best is not None else None


def _last_table(held: _Held, path: str, dirs: Sequence[Path]) -> tuple[FileVersion, FileVersion] | None:
    """For a pyproject.toml there now: the newest version on HEAD's history whose ``[tool.alembic]``
    names ``dirs``, and the change after it that removed the table; None when the table is still
    there (find_environments reads it) or never named them."""
    versions = [v for v in held.history.of(path) if v.source == "history" and v.event != "deleted"]  # newest first
    if not versions:
        return None
    contents = held.contents(versions)
    target = held.root / path
    for newer, version in pairwise(versions):
        if environment_naming(held.root, target, contents.get(newer.blob), dirs) is not None:
            return None  # the newest versions still have it
        if environment_naming(held.root, target, contents.get(version.blob), dirs) is not None:
            return version, replace(newer, event="deleted")  # the table's removal, for the retirement rule
    return None


def _from_table(pyproject: Path, env: AlembicConfig, version: FileVersion, dirs: Sequence[Path]) -> EnvironmentFile:
    """An ``alembic.ini`` beside a pyproject.toml that lost its ``[tool.alembic]`` table, holding what
    the table said (pyproject.toml itself is the user's, and never rewritten)."""
    target = pyproject.with_name(CONFIG)
    assert env.script_location is not None
    data, _note = generated_config(target, env.script_location, env.versions_dirs or dirs, None)
    note = (
        f"[tool.alembic] of {pyproject.name} was removed in {version.commit[:10]}; written from that table "
        "(pyproject.toml is never rewritten)"
    )
    if os.path.lexists(target):
        return EnvironmentFile(CONFIG, target, "conflict", None, None, None, f"{target} exists; it is never replaced")
    return EnvironmentFile(CONFIG, target, "write", "generated", version, data, note)


def _lost_with_the_rest(version: FileVersion | None, files: Sequence[EnvironmentFile]) -> bool:
    """A README comes back only when the commit that deleted it also took a file being brought
    back: one deleted on its own was removed on purpose (CTFd's migrations/README)."""
    if version is None or version.event != "deleted":
        return False
    return any(f.version is not None and f.version.commit == version.commit for f in files if f.action == "write")


def _lost(result: ScanResult, version: FileVersion | None) -> bool:
    return version is not None and added_after(result, version) is None


class _Held:
    """What history holds of the environment files, with contents read once, in one batch per ask."""

    def __init__(
        self, repo: Repository, root: Path, history: EnvironmentHistory, owners: dict[str, Repository] | None = None
    ) -> None:
        self.repo, self.root, self.history = repo, root, history
        self.owners = owners or {}  # blob -> the submodule holding it
        self._contents: dict[str, bytes] = {}
        #: configurations deleted on purpose: (the deletion, a present revision added after it)
        self.retired: list[tuple[FileVersion, str]] = []

    def version_at(self, target: Path) -> FileVersion | None:
        try:
            return self.history.last_kept(relative_path(self.root, target))
        except ValueError:  # outside the work tree
            return None

    def contents(self, versions: Sequence[FileVersion]) -> dict[str, bytes]:
        todo = [v.blob for v in versions if v.blob not in self._contents]
        for repo in dict.fromkeys(self.owners.get(blob, self.repo) for blob in todo):
            self._contents.update(read_blobs(repo, [b for b in todo if self.owners.get(b, self.repo) == repo]))
        return {v.blob: self._contents[v.blob] for v in versions if v.blob in self._contents}


def _script_folder(held: _Held, dirs: Sequence[Path]) -> Path:
    """Where env.py lives (on disk or in history) above the versions directory; else the versions
    directory's parent (``alembic/versions`` -> ``alembic``)."""
    first = Path(os.path.normpath(dirs[0]))
    root = held.root
    env_paths = {v.path for v in held.history.versions if v.name == ENV_PY}
    for folder in [first, *first.parents]:
        if folder == root.parent or root not in [folder, *folder.parents]:
            break
        if (folder / ENV_PY).is_file() or relative_path(root, folder / ENV_PY) in env_paths:
            return folder
    return first.parent if first.name == "versions" and first.parent != root.parent else first


def _env_py_text(held: _Held, script: Path) -> str | None:
    """The script folder's env.py: the work tree's, else the last version history holds."""
    env_py = script / ENV_PY
    try:
        return read_regular_text(env_py, errors="replace")
    except OSError:
        pass
    version = held.version_at(env_py)
    data = held.contents([version]).get(version.blob) if version else None
    return data.decode("utf-8", "replace") if data is not None else None


def _reads_a_config_file(held: _Held, script: Path) -> bool:
    """Whether the environment's env.py needs a configuration file: it reads ``sqlalchemy.url`` with
    ``get_main_option`` or configures logging from ``config_file_name`` (Alembic's templates,
    Flask-Migrate's), or there is no env.py and Alembic's generic one, which does both, comes back."""
    text = _env_py_text(held, script)
    return text is None or "get_main_option(" in text or "config_file_name" in text


def _flask(held: _Held, script: Path) -> bool:
    env_py = script / ENV_PY
    try:
        return "flask" in read_regular_text(env_py, errors="replace").lower()
    except OSError:
        pass
    version = held.version_at(env_py)
    data = held.contents([version]).get(version.blob, b"") if version else b""
    return b"flask" in data.lower()


def _from_history_or_template(
    held: _Held, target: Path, role: str, dirs: Sequence[Path], script: Path, db_url: str | None, notes: list[str]
) -> EnvironmentFile:
    root = held.root
    if os.path.lexists(target):
        return EnvironmentFile(
            role,
            target,
            "conflict",
            None,
            None,
            None,
            f"{target} exists but is not a regular file Alembic can read; it is never replaced",
        )
    version = held.version_at(target)
    if version is not None:
        data = held.contents([version]).get(version.blob)
        if data is not None:
            how = f"deleted in {version.commit[:10]}" if version.event == "deleted" else "not in the work tree"
            return EnvironmentFile(role, target, "write", "exact", version, data, how)
        notes.append(
            f"{relative_path(root, target)}: git cannot read blob {version.blob[:10]} (a partial clone?); "
            "Alembic's template is used instead"
        )
    if role == CONFIG:
        data, note = generated_config(target, script, dirs, db_url)
        notes.append(note)
    else:
        data = generated_script_file(role)
        if role == ENV_PY:
            notes.append(
                f"{relative_path(root, target)} is Alembic's generic env.py: set target_metadata to your models' "
                "MetaData before running 'alembic revision --autogenerate'"
            )
    return EnvironmentFile(role, target, "write", "generated", None, data, "no version survives anywhere")
