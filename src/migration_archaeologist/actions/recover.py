"""The whole journey in one call: from "Can't locate revision" to "Alembic works again".

Plan (a dry run writes nothing): the environment files (:mod:`environment_files`), every revision the
chain or the database's stamp needs that a source holds (:mod:`restore`: exact, else rebuilt from
bytecode), and a synthesized stand-in for a stamped revision nothing holds when a database is given
(:mod:`synthesis`, proven by replay before it is written). Apply: everything written under the
versions directory's lock, never over anything; then Alembic itself, in a child process, loads the
recovered configuration and resolves the stamp (``heads``, ``history``, ``current``), and with a
database the chain is replayed and compared with it (:mod:`verify`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable, Sequence

from migration_archaeologist.project.alembic_check import AlembicRun, alembic_commands
from migration_archaeologist.database.stamp import Stamp
from migration_archaeologist.actions.environment_files import EnvironmentPlan
from migration_archaeologist.actions.environment_plan import plan_environment
from migration_archaeologist.actions.environment_writes import apply_environment
from migration_archaeologist.errors import RestoreRefused
from migration_archaeologist.actions.interrupted import repair_interrupted
from migration_archaeologist.actions.restore import (
    RestoreOutcome,
    RestorePlan,
    apply_restore,
    choose_versions_dir,
    plan_restore,
)
from migration_archaeologist.chain.scan_result import ScanResult
from migration_archaeologist.actions.versions_lock import versions_dir_lock
from migration_archaeologist.actions.versions_now import present_now

SCHEMA = "migration-archaeologist/recover/1"


@dataclass(frozen=True)
class Action:
    """One line of the plan: a file to bring back (or there already), and from where."""

    kind: str  # environment, revision, synthesize
    subject: str  # alembic.ini / env.py / ... or a revision ID
    target: Path | None
    source: str  # history 1061497 2025-11-03, bytecode, Alembic's generic template, the database
    fidelity: str | None  # exact, bytecode, generated, synthesized; None for present files
    action: str  # write, present, conflict, refused, unrecoverable
    note: str


@dataclass(frozen=True)
class RecoveryPlan:
    versions_dir: Path
    environment: EnvironmentPlan
    restore: RestorePlan | None
    synthesize: tuple[str, ...]  # stamped revisions nothing holds: a stand-in from the database
    unrecoverable: tuple[str, ...]  # needed, nothing holds them, and no database to synthesize from
    refused: str | None  # why the revisions' restore would make the chain worse
    stamp: Stamp | None
    actions: tuple[Action, ...]
    external: frozenset[str] = frozenset()  # another package's revisions a plugin names (the host brings them)

    @property
    def blocked(self) -> tuple[Action, ...]:
        """What keeps the plan from bringing Alembic back: conflicts, refusals, nothing to restore from."""
        return tuple(a for a in self.actions if a.action in ("conflict", "refused", "unrecoverable"))

    @property
    def to_write(self) -> tuple[Action, ...]:
        return tuple(a for a in self.actions if a.action == "write")


@dataclass(frozen=True)
class RecoveryOutcome:
    plan: RecoveryPlan
    written: tuple[Path, ...]
    restore: RestoreOutcome | None
    synthesized: tuple[Path, ...]
    alembic: AlembicRun | None
    verification: object | None  # verify.Verification, with a database
    failures: tuple[str, ...]  # what stopped short of "Alembic works again"

    @property
    def works(self) -> bool:
        v = self.verification
        return (
            not self.failures
            and self.alembic is not None
            and self.alembic.works
            and (v is None or getattr(v, "chain_verdict", None) == "verified")
        )


def plan_recovery(result: ScanResult, *, stamp: Stamp | None = None, db_url: str | None = None) -> RecoveryPlan:
    """Everything that must come back for Alembic to work on this repository (and this database's stamp)."""
    versions_dir = choose_versions_dir(result, None)
    environment = plan_environment(result, db_url=db_url)
    entries = result.catalog.entries
    needed = list(result.missing)
    synthesize: list[str] = []
    unrecoverable: list[str] = []
    for rev in stamp.revisions if stamp is not None else ():
        if rev in entries:
            if not entries[rev].present and rev not in needed:
                needed.append(rev)
        elif db_url is not None:
            synthesize.append(rev)
        else:
            unrecoverable.append(rev)
    restore: RestorePlan | None = None
    refused: str | None = None
    if needed:
        try:
            restore = plan_restore(result, needed)
        except RestoreRefused as exc:
            refused = exc.message
    if restore is not None:
        unrecoverable.extend(r for r in restore.unrecoverable if r not in unrecoverable and r not in synthesize)
    actions = _actions(environment, restore, synthesize, unrecoverable, refused, needed, result)
    return RecoveryPlan(
        versions_dir,
        environment,
        restore,
        tuple(synthesize),
        tuple(unrecoverable),
        refused,
        stamp,
        actions,
        external=result.external,
    )


def _actions(
    environment: EnvironmentPlan,
    restore: RestorePlan | None,
    synthesize: list[str],
    unrecoverable: list[str],
    refused: str | None,
    needed: list[str],
    result: ScanResult,
) -> tuple[Action, ...]:
    out = [Action("environment", f.role, f.target, f.source, f.fidelity, f.action, f.note) for f in environment.files]
    if refused is not None:
        out.extend(Action("revision", rev, None, "", None, "refused", refused) for rev in needed)
    for planned in restore.files if restore is not None else ():
        action = "present" if planned.action == "unchanged" else planned.action
        out.append(
            Action("revision", planned.revision, planned.target, planned.origin, planned.fidelity, action, planned.note)
        )
    for rev in synthesize:
        out.append(
            Action(
                "synthesize",
                rev,
                None,
                "the database's schema",
                "synthesized",
                "write",
                "stamped, and no source holds it: a stand-in written only once a replay proves it",
            )
        )
    for rev in unrecoverable:
        out.append(
            Action(
                "revision",
                rev,
                None,
                "",
                None,
                "unrecoverable",
                "no source holds it: give --db to synthesize a stand-in from the database's schema",
            )
        )
    return tuple(out)


def apply_recovery(
    plan: RecoveryPlan,
    result: ScanResult,
    rescan: Callable[[], ScanResult],
    *,
    db_url: str | None = None,
    python: str | None = None,
    timeout: float = 600.0,
    version_table: str = "alembic_version",
    version_table_schema: str | None = None,
    models: Sequence[str] = (),
    models_default: bool = True,
) -> RecoveryOutcome:
    """Write the plan under the versions directory's lock, then ask Alembic and (with ``db_url``) the database.

    ``rescan``: the scan again, after writing (cheap: the history scan is kept), for what follows to
    judge the repository as it now is. ``models``: --models; else (``models_default``) what the
    recovered env.py names, compared with the database for the three-way verdict."""
    from migration_archaeologist.files.atomic import make_folder

    failures: list[str] = []
    make_folder(plan.versions_dir)
    synthesized: list[Path] = []
    restored: RestoreOutcome | None = None
    with versions_dir_lock(plan.versions_dir):
        written = list(apply_environment(plan.environment, result, plan.versions_dir))
        if plan.restore is not None and plan.restore.to_write:
            restored = apply_restore(plan.restore, result, check_with_alembic=False)
            written.extend(restored.written)
        else:  # nothing to write: what a killed run left is repaired all the same
            repair_interrupted(result, *present_now(result, plan.versions_dir)[::2])
        after = rescan() if written or plan.synthesize else result
        for rev in plan.synthesize:
            path, failure = _synthesize(after, rev, plan.stamp, db_url, python, timeout)
            if path is not None:
                synthesized.append(path)
            if failure:
                failures.append(failure)
        if synthesized:
            after = rescan()
    failures.extend(f"{rev}: no source holds it" for rev in plan.unrecoverable)
    run = ask_alembic(plan, after, python=python)
    verification = None
    if db_url is not None and not failures:
        from migration_archaeologist.actions.models_drift import models_for
        from migration_archaeologist.actions.verify import verify

        verification = verify(
            after,
            db_url,
            version_table=version_table,
            version_table_schema=version_table_schema,
            python=python,
            timeout=timeout,
            models=models_for(after, models, default=models_default) if models or models_default else None,
            models_strict=False,
        )
    return RecoveryOutcome(plan, tuple(written), restored, tuple(synthesized), run, verification, tuple(failures))


def ask_alembic(plan: RecoveryPlan, result: ScanResult, *, python: str | None = None) -> AlembicRun | None:
    """Alembic's own heads, history and current: with the recovered configuration, or for a project
    that configures Alembic in code, with a temporary one naming its script folder and versions
    directories (written outside the repository, removed after)."""
    import os
    import tempfile

    env = plan.environment
    current = plan.stamp.revisions if plan.stamp is not None else None
    if env.config_file is not None:
        if not env.config_file.is_file():
            return None
        # Flask-Migrate sets it; a 'package:path' (gnocchi.indexer:alembic) would make Alembic import the
        # application's package to find the folder, which is never done here: the folder found is given
        by_package = _names_a_package(env.config_file, env.section)
        script = env.script_location if env.kind == "flask-migrate" or by_package else None
        return alembic_commands(
            env.config_file, section=env.section, script_location=script, current=current, python=python
        )
    if env.script_location is None:
        return None
    from migration_archaeologist.actions.versions_now import version_locations

    dirs = [d for d in result.versions_dirs if d.is_dir()]
    lines = [
        "[alembic]",
        f"script_location = {env.script_location.as_posix().replace('%', '%%')}",
        "path_separator = os",
        "version_locations = " + os.pathsep.join(d.as_posix().replace("%", "%%") for d in dirs),
    ]
    if len(version_locations(dirs)) > len(dirs):
        lines.append("recursive_version_locations = true")
    with tempfile.TemporaryDirectory(prefix="ma-config-") as folder:
        config = Path(folder) / "alembic.ini"
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        run = alembic_commands(config, current=current, python=python)
    if run is not None and env.env_by_program:
        from dataclasses import replace

        run = replace(run, env_py=True)  # Flask-Alembic's own env.py: none is missing from the folder
    return run


def _names_a_package(config_file: Path, section: str) -> bool:
    """Whether the configuration's script_location is Alembic's ``package:path`` form."""
    import configparser

    from migration_archaeologist.project.alembic_options import is_package_location
    from migration_archaeologist.files.untrusted import CONFIG_LIMIT, read_regular_text

    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(read_regular_text(config_file, CONFIG_LIMIT, errors="replace"))
        value = parser.get(section, "script_location", fallback="") or ""
    except (OSError, ValueError, configparser.Error):
        return False
    return is_package_location(value.strip())


def _synthesize(
    result: ScanResult, rev: str, stamp: Stamp | None, db_url: str | None, python: str | None, timeout: float
) -> tuple[Path | None, str | None]:
    from migration_archaeologist.errors import ArchaeologistError
    from migration_archaeologist.actions.synthesize import apply_synthesis, plan_synthesis, synthesize

    if stamp is None or db_url is None:
        return None, f"{rev}: no database to synthesize it from"
    try:
        planned = plan_synthesis(result, rev, stamp)
        made = synthesize(result, planned, db_url, stamped=stamp.revisions, python=python, timeout=timeout)
        if not made.proven:
            return None, f"{rev}: the synthesized stand-in is not proven: {made.proof.summary}"
        return apply_synthesis(made, result), None
    except ArchaeologistError as exc:
        return None, f"{rev}: {exc.message}"


def verdict(outcome: RecoveryOutcome) -> str:
    """The last line: 'Alembic works again: current 84456d47e6aa (head)' or what still stands in the way."""
    run = outcome.alembic
    if outcome.works and run is not None:
        if run.current is None:
            return f"Alembic works again: heads {', '.join(run.view.heads) or 'none'}"
        return f"Alembic works again: current {', '.join(run.current) or 'nothing (base)'}"
    reasons = list(outcome.failures)
    if run is None:
        reasons.append("no Alembic configuration to run")
    else:
        external = sorted(r for r in outcome.plan.external if r in (run.view.error or ""))
        if external:
            reasons.append(
                f"Alembic cannot load this folder alone: it names another package's {', '.join(external)}, which"
                " the host package brings (check it beside the host's folder: --versions)"
            )
        elif run.view.error:
            reasons.append(f"Alembic: {run.view.error}")
        elif run.view.failed_files:
            reasons.append(f"Alembic could not load {', '.join(run.view.failed_files)}")
        if not run.env_py:
            reasons.append("env.py is missing from the script folder")
    v = outcome.verification
    if v is not None and getattr(v, "chain_verdict", None) != "verified":
        reasons.append(f"verification: {getattr(v, 'chain_verdict', 'failed')}")
    return "Alembic does not work yet: " + ("; ".join(reasons) or "see above")
