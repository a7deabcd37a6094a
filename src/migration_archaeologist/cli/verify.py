"""``verify``: the versions directory proven against the database (stamps resolve, the replay matches)."""

from __future__ import annotations

from pathlib import Path

import typer

from migration_archaeologist.errors import EXIT_FINDINGS, EXIT_OK, UsageError
from migration_archaeologist.cli.group import app
from migration_archaeologist.cli import options
from migration_archaeologist.cli.printing import print_json, stdout_console, write_code
from migration_archaeologist.cli.scanning import database_url, scan_with_options


@app.command()
def verify(
    repo: Path = options.RepoArg,
    db: str | None = options.DbOpt,
    versions: list[Path] | None = options.VersionsOpt,
    version_table: str = options.VersionTableOpt,
    version_table_schema: str | None = options.VersionSchemaOpt,
    scratch_url: str | None = typer.Option(
        None, "--scratch-url", help="Replay into this (empty) database instead of creating one."
    ),
    python: str | None = options.PythonOpt,
    timeout: float = options.ReplayTimeoutOpt,
    roundtrip: bool = typer.Option(
        False, "--roundtrip", help="Also downgrade to base and upgrade again, comparing each step."
    ),
    offline: bool = typer.Option(
        False,
        "--offline",
        help="Print the chain's SQL (Alembic offline mode; --json: in a JSON document); connect to nothing.",
    ),
    pick: list[str] | None = options.PickOpt,
    thorough: bool = options.ThoroughOpt,
    cache: bool | None = options.CacheOpt,
    archive: list[Path] | None = options.ArchiveOpt,
    models: list[str] | None = options.ModelsOpt,
    no_models: bool = options.NoModelsOpt,
    as_json: bool = options.JsonOpt,
) -> None:
    """Prove the versions directory against the database: stamps resolve, the replayed chain matches the live schema,
    the models match it too, and the database is at the chain's head.

    The live database is only read. Revision code runs in a child process against a scratch
    database that is created on the same server (or --scratch-url) and always dropped; the models
    are imported in another child and created in a scratch database of their own. Ends with the
    three-way verdict: chain = database, models = database, chain head = stamp.
    Exit 0 verified, 1 drift (chain or models) / unresolved stamp / replay failure / behind the head,
    3 database unreachable or --models not importable.

    \b
    Example: migration-archaeologist verify --db postgresql://app@db/prod
    """
    from migration_archaeologist.report.console import verify as console_report
    from migration_archaeologist.report.json_report import verify_document
    from migration_archaeologist.actions.verify import offline_sql, verify as run_verify

    result = scan_with_options(repo, versions, pick, as_json, thorough, archive, cache=cache)
    url = database_url(db, result)
    if offline:
        sql = offline_sql(result, url, python=python)
        if as_json:  # the SQL inside a document: --json always means JSON on stdout
            from migration_archaeologist.database.replay import dialect_name
            from migration_archaeologist.database.urls import mask
            from migration_archaeologist.report.json_report import offline_sql_document
            from migration_archaeologist.actions.verify import offline_target

            print_json(offline_sql_document(result, mask(url), dialect_name(url), offline_target(result), sql))
        else:
            write_code(sql)
        raise typer.Exit(EXIT_OK)
    from migration_archaeologist.actions.models_drift import models_for

    if models and no_models:
        raise UsageError("--models and --no-models contradict each other: give one")
    spec = None if no_models else models_for(result, models or ())
    verification = run_verify(
        result,
        url,
        repo_arg=str(repo),
        version_table=version_table,
        version_table_schema=version_table_schema,
        scratch_url=scratch_url,
        python=python,
        timeout=timeout,
        roundtrip=roundtrip,
        archives=tuple(str(a) for a in archive or ()),
        models=spec,
    )
    if as_json:
        print_json(verify_document(result, verification))
    else:
        console_report.render_verification(stdout_console(), verification)
    raise typer.Exit(EXIT_OK if verification.verified else EXIT_FINDINGS)
