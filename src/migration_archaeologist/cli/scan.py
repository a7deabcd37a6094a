"""``scan``: every version of every revision file, from every source, and the documents that name them."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn
from collections.abc import Callable

import typer

from migration_archaeologist.errors import EXIT_FINDINGS, EXIT_OK
from migration_archaeologist.report.json_report import scan_document
from migration_archaeologist.chain.scan_result import ScanResult
from migration_archaeologist.chain.versions_directory import environments_of
from migration_archaeologist.cli.group import app
from migration_archaeologist.cli import options
from migration_archaeologist.cli.printing import print_json, stdout_console
from migration_archaeologist.cli.scanning import open_with_settings, scan_with_options


def _report(result: ScanResult, as_json: bool, document: Callable[[ScanResult], dict], renderer: str) -> NoReturn:  # type: ignore[type-arg]
    if as_json:
        print_json(document(result))
    else:
        from migration_archaeologist.report.console import scan as console_report

        getattr(console_report, renderer)(stdout_console(), result)
    raise typer.Exit(EXIT_FINDINGS if result.has_findings else EXIT_OK)


@app.command()
def scan(
    repo: Path = options.RepoArg,
    versions: list[Path] | None = options.VersionsOpt,
    archive: list[Path] | None = typer.Option(
        None,
        "--archive",
        help="Folder, .zip, .tar(.gz/.bz2/.xz) or git bundle to read too (repeatable). "
        "Default: the work tree's untracked and ignored files.",
    ),
    pick: list[str] | None = options.PickOpt,
    thorough: bool = options.ThoroughOpt,
    cache: bool | None = options.CacheOpt,
    as_json: bool = options.JsonOpt,
    config_file: Path | None = options.ConfigOpt,
    name: str | None = options.NameOpt,
) -> None:
    """Find every version of every revision file: git history, reflogs, stashes, unreachable objects, archives.

    Also lists the documents that name revisions (the evidence table) and checks their claims.

    \b
    Example: migration-archaeologist scan . --archive backups/2025-10.tar.gz --json
    """
    opened = open_with_settings(repo)
    environments = environments_of(opened[0])  # walked once: for the scan and for its environment's files
    result = scan_with_options(
        repo,
        versions,
        pick,
        as_json,
        thorough,
        archive,
        opened=opened,
        cache=cache,
        config_file=config_file,
        name=name,
        configs=environments,
    )
    from migration_archaeologist.actions.environment_files import with_environment_problems

    _report(with_environment_problems(result, environments), as_json, scan_document, "render_scan")
