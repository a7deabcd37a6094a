"""What ``restore`` prints: the plan (each file, where from, what happens to it), what was written,
and Alembic's own word on the heads."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

from migration_archaeologist.chain.scan_result import ScanResult
from migration_archaeologist.report.console.escape import esc

if TYPE_CHECKING:
    from migration_archaeologist.actions.restore import RestoreOutcome, RestorePlan


def render_plan(console: Console, plan: RestorePlan, result: ScanResult) -> None:
    table = Table(title=f"Restore into {esc(plan.versions_dir)}", title_justify="left")
    table.add_column("revision", style="bold", no_wrap=True)
    table.add_column("file")
    table.add_column("from")
    table.add_column("action", no_wrap=True)
    for f in plan.files:
        style = {"write": "green", "unchanged": "dim", "conflict": "bold red"}[f.action]
        table.add_row(Text(f.revision), Text(f.target.name), Text(f.origin), Text(f.action, style=style))
    if plan.files:
        console.print(table)
        for f in plan.files:  # what Alembic will make of a file, said before it is written
            for note in result.catalog.entries[f.revision].parsed.notes:
                console.print(f"[yellow]note:[/yellow] {esc(f.revision)}: {esc(note)}", highlight=False, soft_wrap=True)
    for f in plan.conflicts:
        console.print(f"[red]conflict[/red] {esc(f.revision)}: {esc(f.note)}", highlight=False)
    if plan.already_present:
        console.print(f"[dim]already present: {esc(', '.join(plan.already_present))}[/dim]")
    if plan.unrecoverable:
        console.print(
            f"[yellow]warning:[/yellow] not found anywhere, cannot be restored: {esc(', '.join(plan.unrecoverable))}"
        )
    if not plan.to_write and not plan.conflicts and not plan.unrecoverable:
        console.print("Nothing to restore: every revision asked for is present.")
    elif not plan.to_write and not plan.conflicts:
        console.print(
            "Nothing can be restored: what is missing exists nowhere the scan looked"
            " (synthesize writes a stand-in from the database)."
        )


def render_outcome(console: Console, outcome: RestoreOutcome) -> None:
    for path in outcome.written:
        console.print(f"[green]wrote[/green] {esc(str(path))}", highlight=False, soft_wrap=True)
    if outcome.manifest:
        console.print(f"manifest: {esc(str(outcome.manifest))}", highlight=False, soft_wrap=True)
    view = outcome.alembic
    ours = ", ".join(outcome.our_heads) or "none"
    if view is None:
        return
    for warning in view.warnings:
        console.print(f"[yellow]warning:[/yellow] {esc(warning)}", highlight=False, soft_wrap=True)
    if view.stand_ins:
        console.print(
            f"[dim]Alembic check used stand-ins for modules not importable here: {esc(', '.join(view.stand_ins))}[/dim]"
        )
    agree = outcome.heads_agree
    if agree is None:
        console.print(
            f"[bold red]not proven:[/bold red] Alembic's own loader could not give a conclusive answer"
            f"{esc(': ' + view.error) if view.error else ''}; our graph's head(s): {esc(ours)}"
        )
    elif agree:
        console.print(f"[green]Alembic's ScriptDirectory sees head(s) {esc(', '.join(view.heads))}, as we do.[/green]")
    else:
        console.print(
            f"[bold red]Alembic sees head(s) {esc(', '.join(view.heads) or 'none')} but our graph says {esc(ours)}[/bold red]"
        )


def render_dry_run_footer(console: Console, plan: RestorePlan) -> None:
    count = len(plan.to_write)
    if count:
        console.print(f"\ndry run: nothing written. Run again with --apply to write {count} file(s).")
