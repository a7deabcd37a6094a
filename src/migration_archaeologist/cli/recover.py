"""``recover``: environment files and every lost revision back, then Alembic and the database agree."""

from __future__ import annotations

from pathlib import Path
from dataclasses import dataclass

import typer

from migration_archaeologist.errors import EXIT_FINDINGS, EXIT_OK, UsageError
from migration_archaeologist.chain.scan_result import ScanResult
from migration_archaeologist.chain.versions_directory import environments_of
from migration_archaeologist.cli.group import app
from migration_archaeologist.cli import options
from migration_archaeologist.cli.printing import print_json, stdout_console
from migration_archaeologist.cli.scanning import open_with_settings, scan_with_options


@app.command()
def recover(
    repo: Path = options.RepoArg,
    db: str | None = typer.Option(
        None,
        "--db",
        help="The database stamped with the lost revisions: its stamp decides what is needed, "
        "a stand-in is synthesized from its schema when nothing holds a stamped revision, and the result is verified against it.",
    ),
    apply: bool = typer.Option(
        False, "--apply", help="Write the files, then run Alembic and verify. Without it, only show the plan."
    ),
    archive: list[Path] | None = options.ArchiveOpt,
    pick: list[str] | None = options.PickOpt,
    thorough: bool = options.ThoroughOpt,
    cache: bool | None = options.CacheOpt,
    version_table: str = options.VersionTableOpt,
    version_table_schema: str | None = options.VersionSchemaOpt,
    python: str | None = options.PythonOpt,
    timeout: float = options.EachReplayTimeoutOpt,
    models: list[str] | None = options.ModelsOpt,
    no_models: bool = options.NoModelsOpt,
    as_json: bool = options.JsonOpt,
    config_file: Path | None = options.ConfigOpt,
    name: str | None = options.NameOpt,
) -> None:
    """Make Alembic work again: environment files, every lost revision, then Alembic and the database agree.

    Brings back alembic.ini, env.py and script.py.mako (their last version from history, else
    Alembic's own template, marked generated), every revision the chain or the database's stamp
    needs (exact, else rebuilt from bytecode, else with --db a stand-in synthesized from the
    schema and proven), never over an existing file. A dry run unless --apply; with --apply it then
    runs Alembic's heads, history and current on the recovered configuration and, with --db,
    replays the chain into a scratch database and compares it with the live one (read-only), then
    ends with the three-way verdict: chain = database, models = database, chain head = stamp.
    Exit 0 when Alembic works again (dry run: when the plan brings it back), 1 otherwise; the
    models' line says what to do, and does not change the exit code (the models are not ours to write).

    \b
    Example: migration-archaeologist recover --db postgresql://app@db/prod --apply
    """
    opened = open_with_settings(repo)
    chosen = config_file or name or options.ENVIRONMENT.config_file or options.ENVIRONMENT.name
    environments = [] if chosen else environments_of(opened[0])
    if models and no_models:
        raise UsageError("--models and --no-models contradict each other: give one")
    if len(environments) > 1 and db:
        raise UsageError(
            "--db is one database: with several Alembic environments, choose one with -c FILE [--name SECTION]"
        )
    root = opened[0].work_tree
    targets = (
        [(env.path, env.section if env.kind == "ini" else None, env.label(root)) for env in environments]
        if len(environments) > 1
        else [(config_file, name, None)]
    )
    recovery = _RecoverOptions(
        repo,
        opened,
        db,
        apply,
        archive,
        pick,
        thorough,
        cache,
        version_table,
        version_table_schema,
        python,
        timeout,
        as_json,
        tuple(models or ()),
        not no_models,
    )
    done = [(label, *_recover_one(recovery, path, section, label)) for path, section, label in targets]
    if as_json:
        if len(done) == 1:
            print_json(done[0][2])
        else:
            from migration_archaeologist.report.json_report import RECOVER_SCHEMA

            print_json(
                {"schema": RECOVER_SCHEMA, "environments": [{"label": label, **doc} for label, _ok, doc in done]}
            )
    raise typer.Exit(EXIT_OK if all(ok for _label, ok, _doc in done) else EXIT_FINDINGS)


def _exists_in(root: Path | None, path: Path) -> bool:
    """``-c`` as ``scan_with_options`` reads it: against the work tree first, then the current directory."""
    path = Path(path)
    return path.exists() or (root is not None and not path.is_absolute() and (root / path).exists())


@dataclass(frozen=True)
class _RecoverOptions:
    repo: Path
    opened: tuple  # type: ignore[type-arg]
    db: str | None
    apply: bool
    archive: list[Path] | None
    pick: list[str] | None
    thorough: bool | None
    cache: bool | None
    version_table: str
    version_table_schema: str | None
    python: str | None
    timeout: float
    as_json: bool
    models: tuple[str, ...]
    models_default: bool


def _recover_one(
    o: _RecoverOptions, config_file: Path | None, name: str | None, label: str | None
) -> tuple[bool, dict]:  # type: ignore[type-arg]
    """``recover`` of one environment: (whether it succeeded, its JSON document); printed unless --json."""
    from migration_archaeologist.actions.recover import apply_recovery, plan_recovery
    from migration_archaeologist.report.console import recover as console_report
    from migration_archaeologist.report.json_report import recover_document

    versions = None
    wanted = config_file or options.ENVIRONMENT.config_file
    if wanted is not None and not _exists_in(o.opened[0].work_tree, wanted):
        # -c names the configuration the cleanup took: its last version in history says where the revisions go
        from migration_archaeologist.actions.environment_files import lost_config_dirs

        dirs = lost_config_dirs(o.opened[0], Path(wanted), name or options.ENVIRONMENT.name)
        if dirs is None:
            raise UsageError(f"{wanted} does not exist, and HEAD's history holds no deleted configuration there")
        versions, config_file, name = list(dirs), None, None
        options.ENVIRONMENT.config_file = options.ENVIRONMENT.name = None

    def scan_now() -> ScanResult:
        return scan_with_options(
            o.repo,
            versions,
            o.pick,
            o.as_json,
            o.thorough,
            o.archive,
            opened=o.opened,
            cache=o.cache,
            evidence=False,
            config_file=config_file,
            name=name,
        )

    result = scan_now()
    if o.models:  # a malformed --models is refused before anything is written
        from migration_archaeologist.actions.models_drift import models_for

        models_for(result, o.models)
    stamp = None
    if o.db:
        from migration_archaeologist.database.stamp import read_stamp, stamp_timeout
        from migration_archaeologist.actions.verify import refuse_broken_stamp

        stamp = read_stamp(
            o.db,
            version_table=o.version_table,
            version_table_schema=o.version_table_schema,
            timeout=stamp_timeout(o.timeout),
        )
        refuse_broken_stamp(result, stamp)
    plan = plan_recovery(result, stamp=stamp, db_url=o.db)
    out = stdout_console()
    if label is not None and not o.as_json:
        from rich.text import Text

        out.print(Text(label, style="bold"))
    if not o.apply:
        if not o.as_json:
            console_report.render_recovery_plan(out, plan, result)
            count = len(plan.to_write)
            out.print(
                f"\ndry run: nothing written. Run again with --apply to write {count} file(s)."
                if count
                else "\nNothing to write: every file Alembic needs is there."
            )
        return not plan.blocked, recover_document(result, plan)
    if not o.as_json:
        console_report.render_recovery_plan(out, plan, result)
    conflicts = [a for a in plan.blocked if a.action in ("conflict", "refused")]
    if conflicts:
        from migration_archaeologist.errors import RestoreConflict

        raise RestoreConflict(f"nothing written: {conflicts[0].subject}: {conflicts[0].note}")
    outcome = apply_recovery(
        plan,
        result,
        scan_now,
        db_url=o.db,
        python=o.python,
        timeout=o.timeout,
        version_table=o.version_table,
        version_table_schema=o.version_table_schema,
        models=o.models,
        models_default=o.models_default,
    )
    if not o.as_json:
        console_report.render_recovery_outcome(out, outcome)
    return outcome.works, recover_document(result, plan, outcome)
