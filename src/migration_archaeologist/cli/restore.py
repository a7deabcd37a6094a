"""``restore``: a revision and every missing ancestor of it written back, refused when it would make the chain worse."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from migration_archaeologist.errors import EXIT_FINDINGS, EXIT_OK
from migration_archaeologist.report.json_report import restore_document
from migration_archaeologist.cli.group import app
from migration_archaeologist.cli.options import ArchiveOpt, CacheOpt, ConfigOpt, JsonOpt, NameOpt, PickOpt, ThoroughOpt
from migration_archaeologist.cli.printing import print_json, stdout_console
from migration_archaeologist.cli.scanning import scan_with_options


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
    from migration_archaeologist.report.console import restore as console_report
    from migration_archaeologist.actions.restore import apply_restore, plan_restore

    revisions, repo = _split_targets(targets)
    result = scan_with_options(
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
    out = stdout_console()
    if not apply:
        if as_json:
            print_json(restore_document(plan))
        else:
            console_report.render_plan(out, plan, result)
            console_report.render_dry_run_footer(out, plan)
        raise typer.Exit(EXIT_FINDINGS if plan.conflicts or plan.unrecoverable else EXIT_OK)
    if not as_json:
        console_report.render_plan(out, plan, result)
    outcome = apply_restore(plan, result, check_with_alembic=not no_alembic_check)
    if as_json:
        print_json(restore_document(outcome.plan, outcome))  # the plan as re-checked under the lock
    else:
        console_report.render_outcome(out, outcome)
    # only a loader that agrees proves the restore; one that could not tell is no proof (--no-alembic-check skips it)
    proven = outcome.heads_agree is True or (no_alembic_check and outcome.alembic is None)
    # an ancestor that exists nowhere leaves the chain broken, whatever was written
    raise typer.Exit(EXIT_FINDINGS if plan.unrecoverable or (outcome.written and not proven) else EXIT_OK)


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
