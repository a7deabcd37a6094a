"""``check``: the CI gate, exit 1 when something breaks Alembic or the database; each environment on its own."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

from migration_archaeologist.errors import EXIT_FINDINGS, EXIT_OK, UsageError
from migration_archaeologist.report.json_report import check_document
from migration_archaeologist.chain.versions_directory import environments_of
from migration_archaeologist.cli.group import app
from migration_archaeologist.cli import options
from migration_archaeologist.cli.printing import print_json, stdout_console
from migration_archaeologist.cli.scanning import open_with_settings, scan_with_options

if TYPE_CHECKING:
    from migration_archaeologist.project.alembic_options import AlembicConfig
    from migration_archaeologist.sources.git.repository import Repository
    from migration_archaeologist.project.defaults import Settings


@app.command()
def check(
    repo: Path = options.RepoArg,
    versions: list[Path] | None = options.VersionsOpt,
    db: str | None = typer.Option(
        None, "--db", help="Also check that every revision the database is stamped with is present."
    ),
    version_table: str | None = typer.Option(
        None,
        "--version-table",
        help="Alembic's version table name. Default: alembic_version, or version-table in pyproject.",
    ),
    version_table_schema: str | None = options.VersionSchemaOpt,
    pick: list[str] | None = options.PickOpt,
    thorough: bool = options.ThoroughOpt,
    cache: bool | None = options.CacheOpt,
    archive: list[Path] | None = options.ArchiveOpt,
    output_format: str | None = typer.Option(
        None,
        "--format",
        metavar="text|json|github",
        help="github prints workflow commands that annotate the pull request. Default: text, or format in pyproject.",
    ),
    ignore: list[str] | None = typer.Option(
        None,
        "--ignore",
        metavar="KIND",
        help="Report this problem kind (or 'missing') as a warning, without failing (repeatable). Replaces ignore in pyproject.",
    ),
    strict: bool = typer.Option(
        False,
        "--strict",
        help="Warnings fail too: docstring mismatches, old versions in history, retired revisions' traces.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Same as --format json."),
    timeout: float = typer.Option(
        10.0,
        "--timeout",
        help="Seconds --db may wait for the database: connecting, each statement, each lock.",
        callback=options.seconds,
    ),
    config_file: Path | None = options.ConfigOpt,
    name: str | None = options.NameOpt,
) -> None:
    """Exit 1 if something breaks Alembic or the database, or a needed revision is lost; a CI gate.

    A repository with several Alembic environments (ini sections, plugins' own alembic.ini) has each
    judged on its own, unless -c / --name / --versions choose one.

    Fails on: a lost revision (needed, not on disk), missing-parent, cycle, duplicate-id among present
    files, duplicate-branch-label, multiple heads not on distinct labelled branches, an unparseable
    present file, stamped-but-missing. Everything else is a warning (--strict fails on warnings).

    With --db, a stamped revision missing from the versions directory is the problem
    stamped-but-missing, with the restore command that heals it. Defaults for every option
    can live in [tool.migration-archaeologist] in the repository's pyproject.toml.

    \b
    Example: migration-archaeologist check --format github --db sqlite:///app.db
    """
    from migration_archaeologist.project.defaults import CHECK_FORMATS, check_ignore

    opened = open_with_settings(repo)
    settings = opened[1]
    if as_json and output_format not in (None, "json"):
        raise UsageError(f"--json is --format json: give one of --json and --format {output_format}")
    fmt = "json" if as_json else output_format or settings.format
    if fmt not in CHECK_FORMATS:
        raise UsageError(f"--format {fmt!r}: expected one of {', '.join(CHECK_FORMATS)}")
    ignored = check_ignore(ignore, "--ignore") if ignore else settings.ignore
    chosen = (
        versions
        or config_file
        or name
        or options.ENVIRONMENT.config_file
        or options.ENVIRONMENT.name
        or settings.versions
    )
    environments = [] if chosen else environments_of(opened[0])
    if len(environments) > 1:
        if db:
            raise UsageError(
                "--db is one database: with several Alembic environments, choose one with -c FILE [--name SECTION]"
            )
        _check_each(repo, environments, opened, pick, fmt, thorough, cache, ignored, strict, archive)
    # the gate never shows the evidence table: reading every document for it was most of check's time
    result = scan_with_options(
        repo,
        versions,
        pick,
        fmt != "text",
        thorough,
        archive,
        opened=opened,
        cache=cache,
        evidence=False,
        config_file=config_file,
        name=name,
    )
    # imported after the scan: nothing the scan prints needs it
    from migration_archaeologist.actions.environment_files import with_environment_problems
    from migration_archaeologist.chain.check import annotations, evaluate  # type: ignore[attr-defined]  # gate.annotations: see there

    result = with_environment_problems(result, environments if environments else None)

    if db:
        from migration_archaeologist.database.stamp import read_stamp
        from migration_archaeologist.database.urls import mask
        from migration_archaeologist.actions.verify import resolve_stamp, stamp_problems, with_stamp_problems

        stamp = read_stamp(
            db,
            version_table=version_table or settings.version_table,
            version_table_schema=version_table_schema or settings.version_table_schema,
            timeout=timeout,
        )
        resolutions = resolve_stamp(result, stamp, str(repo), mask(db), tuple(str(a) for a in archive or ()))
        problems = stamp_problems(resolutions, mask(db))
        result = with_stamp_problems(result, problems)
    verdict = evaluate(result, ignored, strict=strict)
    if fmt == "json":
        print_json(check_document(result, verdict))
    elif fmt == "github":
        from migration_archaeologist.report import github

        sources = tuple(str(a) for a in archive or ())
        github.render_check(sys.stdout, result, verdict, annotations(result, verdict, str(repo), sources))  # type: ignore[operator]  # a function
    else:
        from migration_archaeologist.report.console import check as console_report

        console_report.render_check(stdout_console(), result, verdict)
    raise typer.Exit(EXIT_OK if verdict.passed else EXIT_FINDINGS)


def _check_each(
    repo: Path,
    environments: list[AlembicConfig],
    opened: tuple[Repository, Settings],
    pick: list[str] | None,
    fmt: str,
    thorough: bool | None,
    cache: bool | None,
    ignored: tuple[str, ...],
    strict: bool,
    archives: list[Path] | None = None,
) -> NoReturn:
    """``check`` on every environment, each judged on its own; exit 1 if any fails."""
    from migration_archaeologist.actions.environment_files import with_environment_problems
    from migration_archaeologist.chain.check import annotations, evaluate  # type: ignore[attr-defined]  # gate.annotations: see there

    root = opened[0].work_tree
    judged = []
    for env in environments:
        result = scan_with_options(
            repo,
            [],
            pick,
            fmt != "text",
            thorough,
            archives,
            opened=opened,
            cache=cache,
            evidence=False,
            config_file=env.path,
            name=env.section if env.kind == "ini" else None,
            configs=environments,
        )
        result = with_environment_problems(result, environments)
        judged.append((env.label(root), result, evaluate(result, ignored, strict=strict)))
    passed = all(verdict.passed for _label, _result, verdict in judged)
    if fmt == "json":
        from migration_archaeologist.report.json_report import check_environments_document

        print_json(check_environments_document(judged, ignored))
    elif fmt == "github":
        from migration_archaeologist.report import github

        for label, result, verdict in judged:
            github.render_check(
                sys.stdout,
                result,
                verdict,
                annotations(  # type: ignore[operator]  # a function
                    result, verdict, str(repo), tuple(str(a) for a in archives or ())
                ),
                environment=label,
            )
    else:
        from migration_archaeologist.report.console import check as console_report

        console_report.render_checks(stdout_console(), judged)
    raise typer.Exit(EXIT_OK if passed else EXIT_FINDINGS)
