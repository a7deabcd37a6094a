"""What ``recover`` prints: one table of every file Alembic needs and what happens to it, then what
was written, Alembic's own answer and the verdict."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from migration_archaeologist.chain.scan_result import ScanResult
from migration_archaeologist.report.console.escape import esc
from migration_archaeologist.report.console.verify import render_three_way, render_verification


def render_recovery_plan(console: Console, plan, result: ScanResult) -> None:  # type: ignore[no-untyped-def]
    """One table: every file Alembic needs, where it comes from and what happens to it."""
    env = plan.environment
    root = plan.versions_dir
    config = result.relative(env.config_file) if env.config_file is not None else "configured in code"
    table = Table(title=f"Recover {esc(config)} (versions: {esc(result.relative(root))})", title_justify="left")
    table.add_column("what", style="bold", no_wrap=True)
    table.add_column("file")
    table.add_column("from")
    table.add_column("fidelity", no_wrap=True)
    table.add_column("action", no_wrap=True)
    styles = {
        "write": "green",
        "present": "dim",
        "conflict": "bold red",
        "refused": "bold red",
        "unrecoverable": "bold red",
    }
    for a in plan.actions:
        shown = "" if a.target is None else (a.target.name if a.kind != "environment" else result.relative(a.target))
        table.add_row(
            *map(Text, (a.subject, shown, a.source, a.fidelity or "")), Text(a.action, style=styles.get(a.action, ""))
        )
    console.print(table)
    for note in env.notes:
        console.print(f"[yellow]note:[/yellow] {esc(note)}", highlight=False, soft_wrap=True)
    for error in env.errors:
        console.print(f"[yellow]warning:[/yellow] {esc(error)}", highlight=False, soft_wrap=True)
    for a in plan.blocked:
        console.print(f"[red]{a.action}[/red] {esc(a.subject)}: {esc(a.note)}", highlight=False, soft_wrap=True)


def render_recovery_outcome(console: Console, outcome) -> None:  # type: ignore[no-untyped-def]
    from migration_archaeologist.actions.recover import verdict

    for path in outcome.written:
        console.print(f"[green]wrote[/green] {esc(str(path))}", highlight=False, soft_wrap=True)
    for path in outcome.synthesized:
        console.print(
            f"[green]wrote[/green] {esc(str(path))} (synthesized, proven by replay)", highlight=False, soft_wrap=True
        )
    for failure in outcome.failures:
        console.print(f"[red]failed:[/red] {esc(failure)}", highlight=False, soft_wrap=True)
    run = outcome.alembic
    if run is not None:
        config = outcome.plan.environment.config_file
        shown = (
            esc(str(config)) if config is not None else "a temporary configuration (Alembic is configured in code here)"
        )
        console.print(
            f"\nAlembic's own answer with {shown} (its commands in a child process; env.py,"
            " application code, is not run):",
            highlight=False,
            soft_wrap=True,
        )
        console.print(f"  heads: {esc(', '.join(run.view.heads) or '(none)')}", highlight=False, soft_wrap=True)
        if run.current is not None:
            console.print(f"  current: {esc(', '.join(run.current) or '(base)')}", highlight=False, soft_wrap=True)
        for warning in run.view.warnings:
            console.print(f"[yellow]warning:[/yellow] {esc(warning)}", highlight=False, soft_wrap=True)
        if run.view.stand_ins:
            console.print(
                f"[dim]stand-ins for modules not importable here: {esc(', '.join(run.view.stand_ins))}[/dim]",
                highlight=False,
                soft_wrap=True,
            )
    if outcome.verification is not None:
        console.print()
        render_verification(console, outcome.verification, verdicts=False)
    style = "bold green" if outcome.works else "bold red"
    console.print(f"\n[{style}]{esc(verdict(outcome))}[/{style}]", highlight=False, soft_wrap=True)
    if outcome.verification is not None:
        render_three_way(console, outcome.verification.three_way)
