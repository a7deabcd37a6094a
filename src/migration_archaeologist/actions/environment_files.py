"""The files besides revisions that Alembic needs to work: the configuration (``alembic.ini``), the
script folder's ``env.py`` and ``script.py.mako``; what is missing now, and what a lost configuration named.

A lost file comes back byte-identical from history (the last version before it was deleted, on
HEAD's history first: :mod:`environment_history`). When no version survives anywhere, Alembic's own
``generic`` template is used, as ``alembic init`` would write it, and the file says so in its first
line and in the manifest (fidelity ``generated``). A generated ``alembic.ini`` holds the database URL
only when the user gave one with ``--db`` and it carries no password.

What is *present* is judged from the work tree alone (``environment_problems``), so ``check`` pays no
history walk for it; what can *come back* needs history (:mod:`environment_plan`), Alembic's own
templates fill what history lost (:mod:`environment_templates`) and :mod:`environment_writes` writes
the plan.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from collections.abc import Sequence

from migration_archaeologist.sources.environment_history import (
    FileVersion,
    deletions_on_head,
    read_blobs,
)
from migration_archaeologist.project.alembic_options import AlembicConfig
from migration_archaeologist.project.environments import (
    find_environments,
    ini_text_environments,
    toml_text_environment,
)
from migration_archaeologist.sources.git.repository import Repository
from migration_archaeologist.chain.problems import Problem
from migration_archaeologist.chain.scan_result import ScanResult

CONFIG, ENV_PY, TEMPLATE, README, PYPROJECT = "alembic.ini", "env.py", "script.py.mako", "README", "pyproject.toml"
#: What each file is for, in messages.
PURPOSE = {
    CONFIG: "Alembic's configuration (script_location, version_locations)",
    ENV_PY: "runs every Alembic command that touches the database",
    TEMPLATE: "the template 'alembic revision' writes new revisions from",
    README: "the script folder's README",
}
PROBLEM_KIND = "environment-missing"


@dataclass(frozen=True)
class EnvironmentFile:
    """One file of the environment: there already, or how it comes back."""

    role: str  # alembic.ini, env.py, script.py.mako, README
    target: Path
    action: str  # present, write, conflict
    fidelity: str | None  # exact (history's bytes) or generated (Alembic's template); None when present
    version: FileVersion | None  # where an exact copy comes from
    data: bytes | None
    note: str

    @property
    def source(self) -> str:
        """'history 1061497 2025-11-03', 'stash refs/stash ...', "Alembic's generic template"."""
        if self.action == "present":
            return "work tree"
        v = self.version
        if v is None:
            return f"Alembic's generic template (alembic {alembic_version()})"
        ref = f" {v.ref}" if v.ref else ""
        submodule = f" in {v.submodule}" if v.submodule else ""  # the commit is the submodule's
        return f"{v.source}{ref} {v.commit[:10]} {v.date[:10]}{submodule}"


@dataclass(frozen=True)
class EnvironmentPlan:
    """The environment after recovery: its files, and the configuration Alembic is to be given."""

    files: tuple[EnvironmentFile, ...]
    config_file: Path | None  # None: Alembic is configured in code (kind "code")
    section: str
    script_location: Path | None
    kind: str  # ini, flask-migrate or code
    notes: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()  # history that could not be read whole
    #: the program brings its own env.py (Flask-Alembic): none belongs in the script folder
    env_by_program: bool = False

    @property
    def to_write(self) -> tuple[EnvironmentFile, ...]:
        return tuple(f for f in self.files if f.action == "write")

    @property
    def conflicts(self) -> tuple[EnvironmentFile, ...]:
        return tuple(f for f in self.files if f.action == "conflict")


def alembic_version() -> str:
    import alembic

    return alembic.__version__


# -- what is missing now (work tree only) ------------------------------------------------------------


def environment_problems(
    result: ScanResult, environments: Sequence[AlembicConfig] | None = None
) -> tuple[Problem, ...]:
    """``environment-missing`` problems for ``check``: Alembic cannot run this environment as it stands.

    The configured script folder lacks ``env.py`` (every command that touches the database runs it)
    or ``script.py.mako`` (``alembic revision`` renders it); or no configuration names the versions
    directory and HEAD's history deleted the ``alembic.ini`` that did (the seed), or a Flask-Migrate
    folder's. Projects that configure Alembic in code (neutron-vpnaas, warehouse: no ini ever) and
    projects that dropped Alembic (no revision present or needed) have nothing missing. History is
    asked only in those two cases, with one ``git log --diff-filter=D`` of HEAD's history.
    """
    root = result.repository.work_tree
    if root is None or not result.versions_dirs:
        return ()
    if not any(e.present for e in result.catalog.entries.values()) and not result.missing:
        return ()
    fix = "bring it back with 'migration-archaeologist recover'"
    env = configured_environment(root, result.versions_dirs, environments)
    if env is None:
        lost = _deleted_config(result)
        if lost is None:
            return ()
        version, target = lost
        shown = ", ".join(result.relative(d) for d in result.versions_dirs)
        return (
            Problem(
                PROBLEM_KIND,
                (),
                f"{result.relative(target)} was deleted in {version.commit[:10]} "
                f"{version.date[:10]} and no Alembic configuration names {shown} now: Alembic stops with "
                f"\"No 'script_location' key found in configuration\"; {fix}",
                path=result.relative(target),
            ),
        )
    problems = []
    script = env.script_location
    assert script is not None
    for role in (ENV_PY, TEMPLATE):
        path = script / role
        if not path.is_file():
            problems.append(
                Problem(
                    PROBLEM_KIND,
                    (),
                    f"{result.relative(path)} is missing ({PURPOSE[role]}); {fix}",
                    path=result.relative(path),
                )
            )
    ini = script / CONFIG
    if (
        env.kind == "flask-migrate"
        and not ini.is_file()
        and deletions_on_head(result.repository, [relative_path(root, ini)])
    ):
        problems.append(
            Problem(
                PROBLEM_KIND,
                (),
                f"{result.relative(ini)} was deleted (Flask-Migrate reads it; its env.py "
                f"configures logging from it); {fix}",
                path=result.relative(ini),
            )
        )
    return tuple(problems)


def _deleted_config(result: ScanResult) -> tuple[FileVersion, Path] | None:
    """The newest ``alembic.ini`` HEAD's history deleted, still absent, that named ``result``'s versions
    directories (or was the Flask-Migrate ini of their script folder)."""
    root = result.repository.work_tree
    assert root is not None
    deleted = [v for v in deletions_on_head(result.repository) if plain_path(v.path) and not (root / v.path).is_file()]
    if not deleted:
        return None
    contents = read_blobs(result.repository, [v.blob for v in deleted])
    for version in deleted:
        target = root / version.path
        if (
            environment_naming(root, target, contents.get(version.blob), result.versions_dirs) is not None
            and added_after(result, version) is None
        ):
            return version, target
    return None


def environment_naming(root: Path, target: Path, data: bytes | None, dirs: Sequence[Path]) -> AlembicConfig | None:
    """The environment an ini holding ``data`` at ``target`` gives for ``dirs``, if it names them."""
    if data is None:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if target.name == PYPROJECT:
        env = toml_text_environment(root, target, text)
        return env if env is not None and env.problem is None and _overlaps(env.versions_dirs, dirs) else None
    for env in ini_text_environments(root, target, text):
        flask = (
            env.problem is not None
            and env.problem.startswith("no script_location")
            and _overlaps([target.parent / "versions"], dirs)
        )
        if flask or (env.problem is None and _overlaps(env.versions_dirs, dirs)):
            return env
    return None


def with_environment_problems(result: ScanResult, environments: Sequence[AlembicConfig] | None = None) -> ScanResult:
    """The scan with its environment's missing files among the chain's problems (``check`` fails on
    them). ``environments``: the work tree's usable ones (``config.find_configs``), when found already."""
    problems = environment_problems(result, environments)
    if not problems:
        return result
    return replace(result, chain=replace(result.chain, problems=result.chain.problems + problems))


def configured_environment(
    root: Path, dirs: Sequence[Path], environments: Sequence[AlembicConfig] | None = None
) -> AlembicConfig | None:
    """The usable environment whose versions directories are (or hold, or lie in) ``dirs``."""
    for env in find_environments(root) if environments is None else environments:
        if env.problem is None and env.script_location is not None and _overlaps(env.versions_dirs, dirs):
            return env
    return None


def _overlaps(ours: Sequence[Path], theirs: Sequence[Path]) -> bool:
    norm = [Path(os.path.normpath(p)) for p in ours]
    return any(
        a == b or a in b.parents or b in a.parents for a in norm for b in map(Path, map(os.path.normpath, theirs))
    )


# -- shared with the plan: paths in the work tree, and retirement ------------------------------------


def relative_path(root: Path, path: Path) -> str:
    return Path(os.path.normpath(path)).relative_to(Path(os.path.normpath(root))).as_posix()


def plain_path(path: str) -> bool:
    parts = path.split("/")
    return not path.startswith("/") and all(p not in ("", ".", "..") for p in parts) and "\\" not in path


def added_after(result: ScanResult, version: FileVersion) -> str | None:
    """A revision of the chain (present, or lost and needed) added to history after ``version``
    deleted its configuration: the project went on without that file (Alembic configured in code),
    so it was retired, not lost."""
    if version.event != "deleted":
        return None
    missing = set(result.missing)
    for rev, entry in result.catalog.entries.items():
        if not entry.present and rev not in missing:  # the chain's, now or after recovery
            continue
        for candidate in entry.candidates:
            for s in candidate.sightings:
                if s.source == "history" and s.event == "added" and (s.date or "") > version.date:
                    return rev
    return None


# -- a configuration gone from the work tree -----------------------------------------------------------


def lost_config_dirs(repo: Repository, config_file: Path, section: str | None = None) -> tuple[Path, ...] | None:
    """The versions directories a configuration that is gone from the work tree named, in the last
    version HEAD's history holds (``recover -c migrations/alembic.ini`` after the cleanup took it);
    None when history has no such file or it named none."""
    root = repo.work_tree
    if root is None:
        return None
    target = config_file if config_file.is_absolute() else root / config_file
    try:
        rel = relative_path(root, target)
    except ValueError:
        return None
    version = next(iter(deletions_on_head(repo, [rel])), None)
    data = read_blobs(repo, [version.blob]).get(version.blob) if version is not None else None
    if data is None:
        return None
    text = data.decode("utf-8", "replace")
    if target.name == PYPROJECT:
        env = toml_text_environment(root, target, text)
        return env.versions_dirs if env is not None and env.problem is None else None
    envs = ini_text_environments(root, target, text)
    for env in envs:
        if env.section == (section or "alembic"):
            if env.problem is None:
                return env.versions_dirs
            if env.problem.startswith("no script_location"):  # Flask-Migrate's: its folder is the script folder
                return (target.parent / "versions",)
    return None
