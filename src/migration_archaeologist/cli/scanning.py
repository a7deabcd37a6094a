"""The scan every command starts from: the repository opened with its pyproject defaults, options over
them, a progress bar for people; and the database URL of commands that need one."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from collections.abc import Iterator

from migration_archaeologist.errors import UsageError
from migration_archaeologist.chain.scan import scan_repository
from migration_archaeologist.chain.scan_result import ScanResult
from migration_archaeologist.cli.options import ENVIRONMENT
from migration_archaeologist.cli.printing import stderr_console

if TYPE_CHECKING:
    from migration_archaeologist.sources.git.repository import Repository
    from migration_archaeologist.project.defaults import Settings


def _picks(values: list[str] | None) -> dict[str, str]:
    picks: dict[str, str] = {}
    for value in values or []:
        rev, sep, blob = value.partition("=")
        if not sep or not rev or not blob:
            raise UsageError(f"--pick {value!r}: expected REV=BLOB, e.g. --pick 84456d47e6aa=3f2a9c1")
        picks[rev.strip()] = blob.strip()
    return picks


@contextmanager
def _progress(enabled: bool) -> Iterator:  # type: ignore[type-arg]
    """A bar per phase on stderr (walking history, reading blobs, ...), only for people: never with
    --json or when stderr is not a terminal. A phase's total shows once it is known."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TaskID,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(bar_width=30),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr_console(),
        transient=True,
    ) as progress:
        tasks: dict[str, TaskID] = {}

        starting = progress.add_task("scanning git history", total=None)

        def update(phase: str, count: int, total: int | None = None) -> None:
            task = tasks.get(phase)
            if task is None:  # phases overlap (blobs are read while history is walked): a bar each
                if not tasks:
                    progress.remove_task(starting)
                task = tasks[phase] = progress.add_task(phase, total=total)
            progress.update(task, completed=count, total=total if total is None or total >= count else count)

        yield update


def open_with_settings(repo: Path) -> tuple[Repository, Settings]:
    """The repository (REPO may be a folder inside it) and the [tool.migration-archaeologist] defaults at its root."""
    from migration_archaeologist.sources.git.repository import open_repository
    from migration_archaeologist.project.defaults import load_settings

    repository = open_repository(repo)
    return repository, load_settings(repository.work_tree)


def scan_with_options(
    repo: Path,
    versions: list[Path] | None,
    picks: list[str] | None,
    as_json: bool,
    thorough: bool | None,
    archives: list[Path] | None = None,
    opened: tuple[Repository, Settings] | None = None,
    cache: bool | None = None,
    evidence: bool = True,
    config_file: Path | None = None,
    name: str | None = None,
    configs: list | None = None,  # type: ignore[type-arg]
) -> ScanResult:
    """Options win over pyproject's defaults: --versions / --archive replace its lists, --pick adds to its
    picks. ``configs``: the repository's environments, when found already."""
    repository, settings = opened or open_with_settings(repo)
    origin = "option"
    config_file = config_file or ENVIRONMENT.config_file
    name = name or ENVIRONMENT.name
    if versions and (config_file or name):
        raise UsageError("--versions names the folders itself: give either --versions or -c / --name")
    if not versions and settings.versions and not (config_file or name):
        versions, origin = list(settings.versions), "tool.migration-archaeologist in pyproject.toml"
    with _progress(not as_json) as update:
        return scan_repository(
            repository,
            versions=versions or (),
            versions_origin=origin,
            picks={**settings.pick, **_picks(picks)},
            progress=update,
            thorough=settings.thorough if thorough is None else thorough,
            archives=archives or list(settings.archive) or None,
            cache=settings.cache if cache is None else cache,
            evidence=evidence,
            config_file=config_file,
            name=name,
            configs=configs,
        )


def database_url(db: str | None, result: ScanResult) -> str:
    from migration_archaeologist.project.selection import resolve_database_url

    url, _origin = resolve_database_url(db, result.repository.work_tree)
    if url is None:
        raise UsageError("no database: pass --db URL (or set DATABASE_URL, or sqlalchemy.url in alembic.ini)")
    return url
