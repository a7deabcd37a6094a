"""The command line: read options, call the library, pick a format, map outcomes to exit codes. No logic."""

from __future__ import annotations

import errno
import json
import math
import os
import sys
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn
from collections.abc import Callable, Iterator

import typer
from typer.core import TyperGroup

from migration_archaeologist import __version__
from migration_archaeologist.errors import (
    EXIT_FINDINGS,
    EXIT_OK,
    ArchaeologistError,
    UsageError,
)
from migration_archaeologist.report.json_report import check_document, restore_document, scan_document
from migration_archaeologist.chain.scan import ScanResult, environments_of, scan_repository

if TYPE_CHECKING:
    from rich.console import Console
    from typer import _click as click  # typer's own click (0.28); earlier typers use click itself

    from migration_archaeologist.project.alembic_options import AlembicConfig
    from migration_archaeologist.sources.git.repository import Repository
    from migration_archaeologist.project.defaults import Settings
    from migration_archaeologist.chain.timeline import Timeline

EXIT_INTERNAL = 4
EXIT_INTERRUPTED = 130


class _Commands(TyperGroup):
    """Help as plain text (no Rich markup): ``[tool.alembic]`` stays literal, and option names are never
    cut short at 80 columns as Rich's help table does; command summaries are shown whole, not cut at "..."."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=1_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


app = typer.Typer(
    name="migration-archaeologist",
    help="Recover lost Alembic revision files from git history, rebuild the chain, restore it safely.\n\n"
    "Defaults for the options can live in [tool.migration-archaeologist] in the repository's pyproject.toml.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
    cls=_Commands,
)

RepoArg = typer.Argument(Path("."), help="Repository (or any folder inside it). Default: the current directory.")
VersionsOpt = typer.Option(
    None,
    "--versions",
    help="Versions directory (repeatable). Default: from alembic.ini / [tool.alembic], else history.",
)
JsonOpt = typer.Option(False, "--json", help="Print a JSON document instead of tables.")
ThoroughOpt = typer.Option(
    None,
    "--thorough/--no-thorough",
    show_default=False,
    help="Read every version of every .py file, not only added files and migration paths. Default: off, or thorough in pyproject.",
)
CacheOpt = typer.Option(
    None,
    "--cache/--no-cache",
    show_default=False,
    help="Keep the history scan under .git/migration-archaeologist/ and read only what is new next time. "
    "Default: on, or cache in pyproject.",
)
PickOpt = typer.Option(None, "--pick", metavar="REV=BLOB", help="Choose a candidate by blob id (prefix), repeatable.")
ConfigOpt = typer.Option(
    None,
    "-c",
    "--config",
    metavar="FILE",
    help="The Alembic configuration (alembic.ini, pyproject.toml) of the environment to judge, as alembic -c.",
)
NameOpt = typer.Option(None, "-n", "--name", metavar="SECTION", help="Its ini section, as alembic --name.")


@dataclass
class _Environment:
    """-c / --name, given before the command (as Alembic takes them) or after it."""

    config_file: Path | None = None
    name: str | None = None


_ENVIRONMENT = _Environment()


# rich is imported when something is printed with it: a --json run never does (0.04 s of start-up)
def _out() -> Console:
    from migration_archaeologist.report.safe_console import SafeConsole as Console

    return Console(highlight=False, width=None if sys.stdout.isatty() else 140)


def _err() -> Console:
    from migration_archaeologist.report.safe_console import SafeConsole as Console

    return Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 200)


def escape(markup: str) -> str:
    """rich.markup.escape, imported when first needed."""
    from rich.markup import escape as rich_escape

    return rich_escape(markup)


def _seconds(value: float) -> float:
    """A --timeout: a finite number of seconds above zero (nan, inf and -5 would wait forever or not at all)."""
    if not math.isfinite(value) or value <= 0:
        raise typer.BadParameter(f"{value!r}: expected a number of seconds above 0, e.g. --timeout 600")
    return value


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
        console=_err(),
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


def _open(repo: Path) -> tuple[Repository, Settings]:
    """The repository (REPO may be a folder inside it) and the [tool.migration-archaeologist] defaults at its root."""
    from migration_archaeologist.sources.git.repository import open_repository
    from migration_archaeologist.project.defaults import load_settings

    repository = open_repository(repo)
    return repository, load_settings(repository.work_tree)


def _scan(
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
    repository, settings = opened or _open(repo)
    origin = "option"
    config_file = config_file or _ENVIRONMENT.config_file
    name = name or _ENVIRONMENT.name
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


def _print_json(doc: object) -> None:
    """Indented for a terminal; compact when piped (the C encoder, five times faster on big scans)."""
    indent = 2 if sys.stdout.isatty() else None
    from migration_archaeologist.report._markup import json_visible

    sys.stdout.write(json_visible(json.dumps(doc, indent=indent, ensure_ascii=False)) + "\n")


def _report(result: ScanResult, as_json: bool, document: Callable[[ScanResult], dict], renderer: str) -> NoReturn:  # type: ignore[type-arg]
    if as_json:
        _print_json(document(result))
    else:
        from migration_archaeologist.report import console as console_report

        getattr(console_report, renderer)(_out(), result)
    raise typer.Exit(EXIT_FINDINGS if result.has_findings else EXIT_OK)


DbOpt = typer.Option(None, "--db", help="Database URL. Default: DATABASE_URL, then sqlalchemy.url in alembic.ini.")
VersionTableOpt = typer.Option("alembic_version", "--version-table", help="Alembic's version table name.")
VersionSchemaOpt = typer.Option(None, "--version-table-schema", help="Schema of the version table.")
ArchiveOpt = typer.Option(
    None,
    "--archive",
    help="Folder, .zip, .tar(.gz/.bz2/.xz) or git bundle to read too (repeatable), as scan. "
    "Default: the work tree's untracked and ignored files.",
)


@app.command()
def recover(
    repo: Path = RepoArg,
    db: str | None = typer.Option(
        None,
        "--db",
        help="The database stamped with the lost revisions: its stamp decides what is needed, "
        "a stand-in is synthesized from its schema when nothing holds a stamped revision, and the result is verified against it.",
    ),
    apply: bool = typer.Option(
        False, "--apply", help="Write the files, then run Alembic and verify. Without it, only show the plan."
    ),
    archive: list[Path] | None = ArchiveOpt,
    pick: list[str] | None = PickOpt,
    thorough: bool = ThoroughOpt,
    cache: bool | None = CacheOpt,
    version_table: str = VersionTableOpt,
    version_table_schema: str | None = VersionSchemaOpt,
    python: str | None = typer.Option(
        None, "--python", help="Interpreter that can import your application (your project's venv)."
    ),
    timeout: float = typer.Option(
        600.0, "--timeout", help="Seconds each replay may take (reading the stamp: at most 10).", callback=_seconds
    ),
    as_json: bool = JsonOpt,
    config_file: Path | None = ConfigOpt,
    name: str | None = NameOpt,
) -> None:
    """Make Alembic work again: environment files, every lost revision, then Alembic and the database agree.

    Brings back alembic.ini, env.py and script.py.mako (their last version from history, else
    Alembic's own template, marked generated), every revision the chain or the database's stamp
    needs (exact, else rebuilt from bytecode, else with --db a stand-in synthesized from the
    schema and proven), never over an existing file. A dry run unless --apply; with --apply it then
    runs Alembic's heads, history and current on the recovered configuration and, with --db,
    replays the chain into a scratch database and compares it with the live one (read-only).
    Exit 0 when Alembic works again (dry run: when the plan brings it back), 1 otherwise.

    \b
    Example: migration-archaeologist recover --db postgresql://app@db/prod --apply
    """
    opened = _open(repo)
    chosen = config_file or name or _ENVIRONMENT.config_file or _ENVIRONMENT.name
    environments = [] if chosen else environments_of(opened[0])
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
    options = _RecoverOptions(
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
    )
    done = [(label, *_recover_one(options, path, section, label)) for path, section, label in targets]
    if as_json:
        if len(done) == 1:
            _print_json(done[0][2])
        else:
            from migration_archaeologist.report.json_report import RECOVER_SCHEMA

            _print_json(
                {"schema": RECOVER_SCHEMA, "environments": [{"label": label, **doc} for label, _ok, doc in done]}
            )
    raise typer.Exit(EXIT_OK if all(ok for _label, ok, _doc in done) else EXIT_FINDINGS)


def _exists_in(root: Path | None, path: Path) -> bool:
    """``-c`` as ``_scan`` reads it: against the work tree first, then the current directory."""
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


def _recover_one(
    o: _RecoverOptions, config_file: Path | None, name: str | None, label: str | None
) -> tuple[bool, dict]:  # type: ignore[type-arg]
    """``recover`` of one environment: (whether it succeeded, its JSON document); printed unless --json."""
    from migration_archaeologist.actions.recover import apply_recovery, plan_recovery
    from migration_archaeologist.report import console as console_report
    from migration_archaeologist.report.json_report import recover_document

    versions = None
    wanted = config_file or _ENVIRONMENT.config_file
    if wanted is not None and not _exists_in(o.opened[0].work_tree, wanted):
        # -c names the configuration the cleanup took: its last version in history says where the revisions go
        from migration_archaeologist.actions.environment_files import lost_config_dirs

        dirs = lost_config_dirs(o.opened[0], Path(wanted), name or _ENVIRONMENT.name)
        if dirs is None:
            raise UsageError(f"{wanted} does not exist, and HEAD's history holds no deleted configuration there")
        versions, config_file, name = list(dirs), None, None
        _ENVIRONMENT.config_file = _ENVIRONMENT.name = None

    def scan_now() -> ScanResult:
        return _scan(
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
    out = _out()
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
    )
    if not o.as_json:
        console_report.render_recovery_outcome(out, outcome)
    return outcome.works, recover_document(result, plan, outcome)


@app.command()
def scan(
    repo: Path = RepoArg,
    versions: list[Path] | None = VersionsOpt,
    archive: list[Path] | None = typer.Option(
        None,
        "--archive",
        help="Folder, .zip, .tar(.gz/.bz2/.xz) or git bundle to read too (repeatable). "
        "Default: the work tree's untracked and ignored files.",
    ),
    pick: list[str] | None = PickOpt,
    thorough: bool = ThoroughOpt,
    cache: bool | None = CacheOpt,
    as_json: bool = JsonOpt,
    config_file: Path | None = ConfigOpt,
    name: str | None = NameOpt,
) -> None:
    """Find every version of every revision file: git history, reflogs, stashes, unreachable objects, archives.

    Also lists the documents that name revisions (the evidence table) and checks their claims.

    \b
    Example: migration-archaeologist scan . --archive backups/2025-10.tar.gz --json
    """
    opened = _open(repo)
    environments = environments_of(opened[0])  # walked once: for the scan and for its environment's files
    result = _scan(
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


@app.command()
def check(
    repo: Path = RepoArg,
    versions: list[Path] | None = VersionsOpt,
    db: str | None = typer.Option(
        None, "--db", help="Also check that every revision the database is stamped with is present."
    ),
    version_table: str | None = typer.Option(
        None,
        "--version-table",
        help="Alembic's version table name. Default: alembic_version, or version-table in pyproject.",
    ),
    version_table_schema: str | None = VersionSchemaOpt,
    pick: list[str] | None = PickOpt,
    thorough: bool = ThoroughOpt,
    cache: bool | None = CacheOpt,
    archive: list[Path] | None = ArchiveOpt,
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
        callback=_seconds,
    ),
    config_file: Path | None = ConfigOpt,
    name: str | None = NameOpt,
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

    opened = _open(repo)
    settings = opened[1]
    if as_json and output_format not in (None, "json"):
        raise UsageError(f"--json is --format json: give one of --json and --format {output_format}")
    fmt = "json" if as_json else output_format or settings.format
    if fmt not in CHECK_FORMATS:
        raise UsageError(f"--format {fmt!r}: expected one of {', '.join(CHECK_FORMATS)}")
    ignored = check_ignore(ignore, "--ignore") if ignore else settings.ignore
    chosen = versions or config_file or name or _ENVIRONMENT.config_file or _ENVIRONMENT.name or settings.versions
    environments = [] if chosen else environments_of(opened[0])
    if len(environments) > 1:
        if db:
            raise UsageError(
                "--db is one database: with several Alembic environments, choose one with -c FILE [--name SECTION]"
            )
        _check_each(repo, environments, opened, pick, fmt, thorough, cache, ignored, strict, archive)
    # the gate never shows the evidence table: reading every document for it was most of check's time
    result = _scan(
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
        _print_json(check_document(result, verdict))
    elif fmt == "github":
        from migration_archaeologist.report import github

        sources = tuple(str(a) for a in archive or ())
        github.render_check(sys.stdout, result, verdict, annotations(result, verdict, str(repo), sources))  # type: ignore[operator]  # a function
    else:
        from migration_archaeologist.report import console as console_report

        console_report.render_check(_out(), result, verdict)
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
        result = _scan(
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

        _print_json(check_environments_document(judged, ignored))
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
        from migration_archaeologist.report import console as console_report

        console_report.render_checks(_out(), judged)
    raise typer.Exit(EXIT_OK if passed else EXIT_FINDINGS)


@app.command()
def restore(
    targets: list[str] = typer.Argument(
        ..., metavar="REVISION... [REPO]", help="Revision IDs (or labels), then the repository."
    ),
    versions: Path | None = typer.Option(None, "--versions", help="Versions directory to write into."),
    apply: bool = typer.Option(False, "--apply", help="Write the files. Without it, only show the plan."),
    pick: list[str] | None = PickOpt,
    thorough: bool = ThoroughOpt,
    cache: bool | None = CacheOpt,
    archive: list[Path] | None = ArchiveOpt,
    as_json: bool = JsonOpt,
    no_alembic_check: bool = typer.Option(False, "--no-alembic-check", help="Skip loading the result with Alembic."),
    allow_new_head: bool = typer.Option(
        False,
        "--allow-new-head",
        help="Restore even a retired revision (reverted, removed on purpose) or one that gives Alembic another head.",
    ),
    config_file: Path | None = ConfigOpt,
    name: str | None = NameOpt,
) -> None:
    """Restore REVISION and every missing ancestor of it; a dry run unless --apply.

    Refused, nothing written, when it would make the chain worse: a revision nothing needs (retired),
    or another head. Exit 1 when Alembic's own loader disagrees with the result or cannot tell.

    \b
    Example: migration-archaeologist restore b22b3b5a376f . --apply
    """
    from migration_archaeologist.report import console as console_report
    from migration_archaeologist.actions.restore import apply_restore, plan_restore

    revisions, repo = _split_targets(targets)
    result = _scan(
        repo,
        [versions] if versions else None,
        pick,
        as_json,
        thorough,
        archive,
        cache=cache,
        config_file=config_file,
        name=name,
    )
    plan = plan_restore(result, revisions, result.versions_dirs[0] if versions else None, allow_new_head=allow_new_head)
    out = _out()
    if not apply:
        if as_json:
            _print_json(restore_document(plan))
        else:
            console_report.render_plan(out, plan, result)
            console_report.render_dry_run_footer(out, plan)
        raise typer.Exit(EXIT_FINDINGS if plan.conflicts or plan.unrecoverable else EXIT_OK)
    if not as_json:
        console_report.render_plan(out, plan, result)
    outcome = apply_restore(plan, result, check_with_alembic=not no_alembic_check)
    if as_json:
        _print_json(restore_document(outcome.plan, outcome))  # the plan as re-checked under the lock
    else:
        console_report.render_outcome(out, outcome)
    # only a loader that agrees proves the restore; one that could not tell is no proof (--no-alembic-check skips it)
    proven = outcome.heads_agree is True or (no_alembic_check and outcome.alembic is None)
    # an ancestor that exists nowhere leaves the chain broken, whatever was written
    raise typer.Exit(EXIT_FINDINGS if plan.unrecoverable or (outcome.written and not proven) else EXIT_OK)


@app.command()
def verify(
    repo: Path = RepoArg,
    db: str | None = DbOpt,
    versions: list[Path] | None = VersionsOpt,
    version_table: str = VersionTableOpt,
    version_table_schema: str | None = VersionSchemaOpt,
    scratch_url: str | None = typer.Option(
        None, "--scratch-url", help="Replay into this (empty) database instead of creating one."
    ),
    python: str | None = typer.Option(
        None, "--python", help="Interpreter that can import your application (your project's venv)."
    ),
    timeout: float = typer.Option(
        600.0, "--timeout", help="Seconds the replay may take (reading the stamp: at most 10).", callback=_seconds
    ),
    roundtrip: bool = typer.Option(
        False, "--roundtrip", help="Also downgrade to base and upgrade again, comparing each step."
    ),
    offline: bool = typer.Option(
        False,
        "--offline",
        help="Print the chain's SQL (Alembic offline mode; --json: in a JSON document); connect to nothing.",
    ),
    pick: list[str] | None = PickOpt,
    thorough: bool = ThoroughOpt,
    cache: bool | None = CacheOpt,
    archive: list[Path] | None = ArchiveOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Prove the versions directory against the database: stamps resolve, the replayed chain matches the live schema.

    The live database is only read. Revision code runs in a child process against a scratch
    database that is created on the same server (or --scratch-url) and always dropped.
    Exit 0 verified, 1 drift / unresolved stamp / replay failure, 3 database unreachable.

    \b
    Example: migration-archaeologist verify --db postgresql://app@db/prod
    """
    from migration_archaeologist.report import console as console_report
    from migration_archaeologist.report.json_report import verify_document
    from migration_archaeologist.actions.verify import offline_sql, verify as run_verify

    result = _scan(repo, versions, pick, as_json, thorough, archive, cache=cache)
    url = _database_url(db, result)
    if offline:
        sql = offline_sql(result, url, python=python)
        if as_json:  # the SQL inside a document: --json always means JSON on stdout
            from migration_archaeologist.database.replay import dialect_name
            from migration_archaeologist.database.urls import mask
            from migration_archaeologist.report.json_report import offline_sql_document
            from migration_archaeologist.actions.verify import offline_target

            _print_json(offline_sql_document(result, mask(url), dialect_name(url), offline_target(result), sql))
        else:
            _write_code(sql)
        raise typer.Exit(EXIT_OK)
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
    )
    if as_json:
        _print_json(verify_document(result, verification))
    else:
        console_report.render_verification(_out(), verification)
    raise typer.Exit(EXIT_OK if verification.verified else EXIT_FINDINGS)


@app.command()
def synthesize(
    revision: str = typer.Argument(
        ..., help="The lost revision ID (stamped in the database, or named by a known revision)."
    ),
    repo: Path = RepoArg,
    db: str | None = DbOpt,
    down_revision: list[str] | None = typer.Option(
        None, "--down-revision", help="What it revises, when the chain cannot tell (repeat for a merge)."
    ),
    versions: Path | None = typer.Option(None, "--versions", help="Versions directory to write into."),
    apply: bool = typer.Option(False, "--apply", help="Write the file (only if proven). Without it, only print it."),
    python: str | None = typer.Option(
        None, "--python", help="Interpreter that can import your application (your project's venv)."
    ),
    timeout: float = typer.Option(
        600.0, "--timeout", help="Seconds each replay may take (reading the stamp: at most 10).", callback=_seconds
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Write a stand-in for a revision nothing holds any more, from the database, and prove it.

    The known chain is replayed into a scratch database up to the lost revision's parent; the
    stand-in's upgrade() is the difference to the live schema (rendered by Alembic's autogenerate),
    its downgrade() the reverse. Proof: the chain with it replays to zero drift. Data changes are
    invisible to this; the notes say so. Exit 0 proven, 1 not proven (nothing written).

    \b
    Example: migration-archaeologist synthesize 84456d47e6aa --db postgresql://app@db/prod --apply
    """
    from migration_archaeologist.database.stamp import read_stamp, stamp_timeout
    from migration_archaeologist.actions.synthesize import plan_synthesis, synthesize as run

    result = _scan(repo, [versions] if versions else None, None, as_json, None)
    _nothing_to_synthesize(result, revision, as_json)
    url = _database_url(db, result)
    stamp = read_stamp(url, timeout=stamp_timeout(timeout))
    from migration_archaeologist.actions.verify import refuse_broken_stamp

    refuse_broken_stamp(result, stamp)  # a stand-in for a database Alembic cannot upgrade helps no one
    plan = plan_synthesis(result, revision, stamp, tuple(down_revision or ()))
    target_dir = result.versions_dirs[0] if versions else None  # resolved as scan resolves --versions
    synthesis = run(result, plan, url, stamped=stamp.revisions, versions_dir=target_dir, python=python, timeout=timeout)
    _synthesis_report(synthesis, result, apply, as_json)


def _nothing_to_synthesize(result: ScanResult, revision: str, as_json: bool) -> None:
    """A revision in the versions directory needs no stand-in: say where it is and exit 0, as
    ``restore`` of a present revision does (nothing to do is not a finding); no database needed."""
    entry = result.catalog.entries.get(revision)
    if entry is None or not entry.present:
        return
    where = min(p for c in entry.candidates for p in c.present_paths)
    message = f"{revision} is present in {where}: nothing to synthesize"
    if as_json:
        from migration_archaeologist.report.json_report import present_synthesis_document

        _print_json(present_synthesis_document(revision, where, message))
    else:
        _err().print(escape(message), soft_wrap=True)
    raise typer.Exit(EXIT_OK)


@app.command()
def baseline(
    repo: Path = RepoArg,
    db: str | None = DbOpt,
    revision_id: str | None = typer.Option(
        None, "--revision-id", help="ID of the new revision. Default: a new random one, as 'alembic revision' makes."
    ),
    message: str = typer.Option(
        "baseline synthesized from the database", "--message", "-m", help="Its message (and file name)."
    ),
    versions: Path | None = typer.Option(None, "--versions", help="Versions directory to write into."),
    apply: bool = typer.Option(False, "--apply", help="Write the file (only if proven). Without it, only print it."),
    stamp: bool = typer.Option(
        False, "--stamp", help="Also stamp the live database with it (needs --apply and --yes)."
    ),
    yes: bool = typer.Option(
        False, "--yes", help="Confirm --stamp: the only write this tool makes to a live database."
    ),
    version_table: str = VersionTableOpt,
    version_table_schema: str | None = VersionSchemaOpt,
    as_json: bool = JsonOpt,
) -> None:
    """One revision that creates the live schema from nothing, for projects that start over; proven by replay.

    Prints the 'alembic stamp' command to adopt it; runs it only with --apply --stamp --yes.
    Exit 0 proven, 1 not proven (nothing written).

    \b
    Example: migration-archaeologist baseline --db postgresql://app@db/prod --apply
    """
    from migration_archaeologist.actions.synthesize import baseline as run, stamp_command

    if stamp and not (apply and yes):
        raise UsageError("--stamp writes to the live database: it needs --apply (the file first) and --yes to confirm")
    result = _scan(repo, [versions] if versions else None, None, as_json, None)
    url = _database_url(db, result)
    target_dir = result.versions_dirs[0] if versions else None
    synthesis = run(result, url, revision_id=revision_id, message=message, versions_dir=target_dir)
    rev = synthesis.synthesized.revision
    _synthesis_report(synthesis, result, apply, as_json, exit_after=False)
    if stamp:
        from migration_archaeologist.database.restamp import restamp

        before = restamp(url, rev, version_table=version_table, version_table_schema=version_table_schema)
        _err().print(
            f"stamped {escape(synthesis.database)} with {escape(rev)} (replacing {escape(', '.join(before) or 'nothing')})"
        )
    elif not as_json:
        _err().print(f"to adopt it, once the old revision files are moved aside: {escape(stamp_command(rev))}")
    raise typer.Exit(EXIT_OK)


def _database_url(db: str | None, result: ScanResult) -> str:
    from migration_archaeologist.project.selection import resolve_database_url

    url, _origin = resolve_database_url(db, result.repository.work_tree)
    if url is None:
        raise UsageError("no database: pass --db URL (or set DATABASE_URL, or sqlalchemy.url in alembic.ini)")
    return url


def _synthesis_report(synthesis, result: ScanResult, apply: bool, as_json: bool, exit_after: bool = True) -> None:  # type: ignore[no-untyped-def]
    """The file on stdout (dry run) and the proof on stderr; with --apply, the file written if proven."""
    from migration_archaeologist.report.json_report import synthesis_document
    from migration_archaeologist.actions.synthesize import apply_synthesis

    written = apply_synthesis(synthesis, result) if apply and synthesis.proven else None
    if as_json:
        _print_json(synthesis_document(synthesis, written))
    else:
        err = _err()
        if not apply:
            _write_code(synthesis.synthesized.source.decode("utf-8"))
        style = "green" if synthesis.proven else "bold red"
        err.print(f"[{style}]{escape(synthesis.proof.summary)}[/{style}]", soft_wrap=True)
        for note in synthesis.synthesized.notes:
            err.print(f"[yellow]note:[/yellow] {escape(note)}", soft_wrap=True)
        if written is not None:
            err.print(f"wrote {escape(str(written))} (fidelity synthesized; recorded in the manifest)")
        elif apply and not synthesis.proven:
            err.print("[red]nothing written[/red]: a synthesized revision is written only once it is proven")
        elif synthesis.proven:
            conflict = synthesis.conflict
            err.print(
                f"[red]{escape(conflict)}[/red]"
                if conflict
                else f"dry run: nothing written. Run again with --apply to write {escape(str(synthesis.target))}",
                soft_wrap=True,
            )
    if not synthesis.proven:
        raise typer.Exit(EXIT_FINDINGS)
    if apply and written is None and synthesis.conflict:
        raise typer.Exit(EXIT_FINDINGS)
    if exit_after:
        raise typer.Exit(EXIT_OK)


class TimelineFormat(str, Enum):
    markdown = "markdown"
    json = "json"
    html = "html"


class GraphFormat(str, Enum):
    mermaid = "mermaid"
    dot = "dot"
    json = "json"


OutputOpt = typer.Option(
    None, "--output", "-o", help="Write to this file (replaced atomically) instead of standard output."
)
ViewDbOpt = typer.Option(None, "--db", help="Read this database's stamp (read-only) to mark what is applied.")


@app.command()
def timeline(
    repo: Path = RepoArg,
    fmt: TimelineFormat = typer.Option(TimelineFormat.markdown, "--format", "-f", help="markdown, json or html."),
    db: str | None = ViewDbOpt,
    output: Path | None = OutputOpt,
    title: str | None = typer.Option(
        None, "--title", help="Project name for headings. Default: the repository folder's name."
    ),
    versions: list[Path] | None = VersionsOpt,
    version_table: str = VersionTableOpt,
    version_table_schema: str | None = VersionSchemaOpt,
    pick: list[str] | None = PickOpt,
    thorough: bool = ThoroughOpt,
    cache: bool | None = CacheOpt,
    archive: list[Path] | None = ArchiveOpt,
) -> None:
    """The schema evolution timeline: every revision by date, what it did, where it went, how to get it back.

    html is one self-contained file (works offline): the chain drawn, the timeline,
    problems and evidence. Exit 0 once written; use check to fail on problems.

    \b
    Example: migration-archaeologist timeline --db sqlite:///app.db -o docs/schema-evolution-timeline.md
    """
    story = _timeline(
        repo, versions, pick, thorough, db, version_table, version_table_schema, title, cache, archives=archive
    )
    _emit(_render(fmt.value, story, "timeline_document"), output)


@app.command()
def graph(
    repo: Path = RepoArg,
    fmt: GraphFormat = typer.Option(GraphFormat.mermaid, "--format", "-f", help="mermaid, dot or json."),
    db: str | None = ViewDbOpt,
    output: Path | None = OutputOpt,
    title: str | None = typer.Option(None, "--title", help="Project name for the picture's label."),
    versions: list[Path] | None = VersionsOpt,
    version_table: str = VersionTableOpt,
    version_table_schema: str | None = VersionSchemaOpt,
    pick: list[str] | None = PickOpt,
    thorough: bool = ThoroughOpt,
    cache: bool | None = CacheOpt,
    archive: list[Path] | None = ArchiveOpt,
) -> None:
    """The revision chain for docs or Graphviz: Mermaid (paste into Markdown), DOT, or JSON nodes and edges.

    \b
    Example: migration-archaeologist graph --format dot | dot -Tsvg > chain.svg
    """
    story = _timeline(
        repo,
        versions,
        pick,
        thorough,
        db,
        version_table,
        version_table_schema,
        title,
        cache,
        operations=False,
        archives=archive,
    )
    _emit(_render(fmt.value, story, "graph_document"), output)


def _timeline(
    repo: Path,
    versions: list[Path] | None,
    pick: list[str] | None,
    thorough: bool,
    db: str | None,
    version_table: str,
    version_table_schema: str | None,
    title: str | None,
    cache: bool | None = None,
    operations: bool = True,
    archives: list[Path] | None = None,
) -> Timeline:
    from migration_archaeologist.chain.timeline import build_timeline

    result = _scan(repo, versions, pick, False, thorough, archives, cache=cache)
    stamp = None
    shown_url = None
    if db:
        from migration_archaeologist.database.stamp import NoVersionTable, Stamp, read_stamp
        from migration_archaeologist.database.urls import mask, parse

        shown_url = mask(db)

        try:
            stamp = read_stamp(db, version_table=version_table, version_table_schema=version_table_schema)
        except NoVersionTable as exc:
            _err().print(f"[yellow]warning:[/yellow] {escape(exc.message)}; nothing is marked applied", soft_wrap=True)
            stamp = Stamp(mask(parse(db)), version_table, version_table_schema, ())
        from migration_archaeologist.actions.verify import BrokenStamp, refuse_broken_stamp

        try:
            refuse_broken_stamp(result, stamp)
        except BrokenStamp as exc:  # a view still draws what the rows say; verify and check fail on it
            _err().print(f"[yellow]warning:[/yellow] {escape(exc.message)}", soft_wrap=True)
    return build_timeline(
        result,
        stamp,
        title=title,
        operations=operations,
        repo_arg=str(repo),
        database=shown_url,
        archives=tuple(str(a) for a in archives or ()),
    )


#: format -> (report module, function); each module is imported only when its format is asked for
_RENDERERS = {
    "markdown": ("markdown", "render_markdown"),
    "html": ("html", "render_html"),
    "mermaid": ("mermaid", "render_mermaid"),
    "dot": ("dot", "render_dot"),
}


def _render(fmt: str, story, json_document: str) -> str:  # type: ignore[no-untyped-def]
    import importlib

    from migration_archaeologist.report._markup import json_visible, visible

    if fmt == "json":
        from migration_archaeologist.report import json_report

        return json_visible(json.dumps(getattr(json_report, json_document)(story), indent=2, ensure_ascii=False)) + "\n"
    module, function = _RENDERERS[fmt]
    # repository text inside the report (messages, paths, subjects): no control or bidi character
    return visible(getattr(importlib.import_module(f"migration_archaeologist.report.{module}"), function)(story))


def _write_code(text: str) -> None:
    """SQL or Python for a file or a pipe (``> upgrade.sql``, ``| psql``): a control character inside
    a string literal there is data, so it goes through as it is; on a terminal it is shown, never
    obeyed (an ESC sequence from a revision's ``op.execute`` must not drive the terminal)."""
    from migration_archaeologist.report._markup import visible

    sys.stdout.write(visible(text) if sys.stdout.isatty() else text)


def _emit(text: str, output: Path | None) -> NoReturn:
    """Standard output, or a file replaced atomically so a reader never sees half a report."""
    if output is None:
        sys.stdout.write(text)
        raise typer.Exit(EXIT_OK)
    from migration_archaeologist.report.output import write_report

    write_report(output, text.encode("utf-8"))
    _err().print(f"wrote {escape(str(output))} ({len(text.encode('utf-8')):,} bytes)")
    raise typer.Exit(EXIT_OK)


def _split_targets(targets: list[str]) -> tuple[list[str], Path]:
    """``REVISION... [REPO]``: a last argument that is a directory is the repository, and so is a
    missing path written with a folder separator (a revision ID or prefix never holds one), so that
    it is named as missing instead of being looked for as a revision in the current folder."""
    if len(targets) > 1 and (Path(targets[-1]).is_dir() or _missing_path(targets[-1])):
        return targets[:-1], Path(targets[-1])
    return list(targets), Path(".")


def _missing_path(value: str) -> bool:
    seps = {sep for sep in ("/", os.sep, os.altsep) if sep}
    return any(sep in value for sep in seps) and not os.path.lexists(value)


def version_callback(value: bool) -> None:
    if value:
        typer.echo(f"migration-archaeologist {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=version_callback, is_eager=True, help="Show the version."
    ),
    config_file: Path | None = ConfigOpt,
    name: str | None = NameOpt,
) -> None:
    """Recover lost Alembic revision files. Exit codes: 0 ok, 1 findings, 2 usage error, 3 environment error."""
    _ENVIRONMENT.config_file, _ENVIRONMENT.name = config_file, name


def main() -> None:
    """Entry point: every error a user can cause ends in one red line and a documented exit code."""
    try:
        _run()
    except SystemExit as exc:
        if exc.code == EXIT_INTERRUPTED:  # Typer's own answer to Ctrl-C inside a command: silent, so say it
            _err().print("[red]interrupted[/red]: nothing was left half-written")
        raise
    except ArchaeologistError as exc:
        _err().print(f"[red]error:[/red] {escape(exc.message)}", soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        _err().print("[red]interrupted[/red]: nothing was left half-written")
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:  # noqa: BLE001 - the promise is: never a traceback
        if os.environ.get("MA_DEBUG"):
            raise
        _err().print(
            f"[red]internal error:[/red] {type(exc).__name__}: {escape(str(exc))} (run with MA_DEBUG=1 for a traceback)",
            soft_wrap=True,
        )
        sys.exit(EXIT_INTERNAL)


def _run() -> None:
    """The app, on standard streams and a working directory it can use."""
    from migration_archaeologist.errors import EnvironmentProblem

    if sys.stdout is None:  # started with '>&-'
        raise EnvironmentProblem("cannot write to standard output: it is closed")
    _tolerant_streams()
    try:
        os.getcwd()
    except OSError:
        raise EnvironmentProblem(
            "the current directory no longer exists (deleted while in use): "
            "change to a folder that exists and run again"
        ) from None
    _note_ignored_git_variables()
    try:
        try:
            app()  # standalone: Typer prints usage errors itself (exit 2) and exits with each command's code
        finally:
            sys.stdout.flush()  # here, not at exit: a full or closed stdout is then one line, not a traceback
    except OSError as exc:
        if exc.filename is not None or exc.errno not in _STDOUT_ERRNOS:
            raise
        _stdout_gone()
        raise EnvironmentProblem(f"cannot write to standard output: {exc.strerror or exc}") from None


def _note_ignored_git_variables() -> None:
    """A ``GIT_DIR`` (or ``GIT_WORK_TREE``, ``GIT_INDEX_FILE``, ...) in the environment never reaches
    git: the repository is the REPO argument. Say so once, on standard error, so that nobody believes
    the other repository was read."""
    from migration_archaeologist.sources.git.repository import ignored_location_variables

    names = ignored_location_variables()
    if names:
        listed = ", ".join(names)
        sys.stderr.write(
            f"note: {listed} set in the environment and ignored: the repository is the "
            "REPO argument (default: the current folder)\n"
        )


#: A standard output that is closed (a pipe's reader gone, ``>&-``) or full (``> /dev/full``).
_STDOUT_ERRNOS = {errno.EPIPE, errno.ENOSPC, errno.EBADF, errno.EIO, errno.EDQUOT}


def _tolerant_streams() -> None:
    """An ASCII (or other narrow) terminal gets ``\\u2192`` for what it cannot show, not a crash."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (OSError, ValueError):
                pass


def _stdout_gone() -> None:
    """Point standard output at /dev/null, so that the interpreter's own flush at exit does not fail
    again on what is left in its buffer."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
