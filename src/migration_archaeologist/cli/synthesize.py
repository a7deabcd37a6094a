"""``synthesize`` and ``baseline``: a revision written from the live schema, kept only once a replay proves it."""

from __future__ import annotations

from pathlib import Path

import typer

from migration_archaeologist.errors import EXIT_FINDINGS, EXIT_OK, UsageError
from migration_archaeologist.chain.scan_result import ScanResult
from migration_archaeologist.cli.group import app
from migration_archaeologist.cli.options import (
    DbOpt,
    EachReplayTimeoutOpt,
    JsonOpt,
    PythonOpt,
    RepoArg,
    VersionSchemaOpt,
    VersionTableOpt,
)
from migration_archaeologist.cli.printing import escape, print_json, stderr_console, write_code
from migration_archaeologist.cli.scanning import database_url, scan_with_options


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
    python: str | None = PythonOpt,
    timeout: float = EachReplayTimeoutOpt,
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

    result = scan_with_options(repo, [versions] if versions else None, None, as_json, None)
    _nothing_to_synthesize(result, revision, as_json)
    url = database_url(db, result)
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

        print_json(present_synthesis_document(revision, where, message))
    else:
        stderr_console().print(escape(message), soft_wrap=True)
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
    result = scan_with_options(repo, [versions] if versions else None, None, as_json, None)
    url = database_url(db, result)
    target_dir = result.versions_dirs[0] if versions else None
    synthesis = run(result, url, revision_id=revision_id, message=message, versions_dir=target_dir)
    rev = synthesis.synthesized.revision
    _synthesis_report(synthesis, result, apply, as_json, exit_after=False)
    if stamp:
        from migration_archaeologist.database.restamp import restamp

        before = restamp(url, rev, version_table=version_table, version_table_schema=version_table_schema)
        stderr_console().print(
            f"stamped {escape(synthesis.database)} with {escape(rev)} (replacing {escape(', '.join(before) or 'nothing')})"
        )
    elif not as_json:
        stderr_console().print(
            f"to adopt it, once the old revision files are moved aside: {escape(stamp_command(rev))}"
        )
    raise typer.Exit(EXIT_OK)


def _synthesis_report(synthesis, result: ScanResult, apply: bool, as_json: bool, exit_after: bool = True) -> None:  # type: ignore[no-untyped-def]
    """The file on stdout (dry run) and the proof on stderr; with --apply, the file written if proven."""
    from migration_archaeologist.report.json_report import synthesis_document
    from migration_archaeologist.actions.synthesize import apply_synthesis

    written = apply_synthesis(synthesis, result) if apply and synthesis.proven else None
    if as_json:
        print_json(synthesis_document(synthesis, written))
    else:
        err = stderr_console()
        if not apply:
            write_code(synthesis.synthesized.source.decode("utf-8"))
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
