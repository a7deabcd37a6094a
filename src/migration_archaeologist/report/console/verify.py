"""What ``verify`` prints: the stamp, how each stamped revision resolves, the replay's steps, the
differences between the live database and the replayed chain, and the verdict."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from migration_archaeologist.report.console.escape import esc


def render_verification(console: Console, verification, verdicts: bool = True) -> None:  # type: ignore[no-untyped-def]
    """Everything verify found; ``verdicts``: end with the three-way verdict and the verdict word
    (recover prints the three-way verdict itself, after its own last line)."""
    v = verification
    stamped = ", ".join(v.stamp.revisions) or "nothing (base)"
    console.print(f"[bold]{esc(v.database)}[/bold]  {esc(v.stamp.version_table)}: {esc(stamped)}", soft_wrap=True)
    for r in v.resolutions:
        style = {"present": "green", "recoverable": "yellow", "lost": "bold red"}[r.status]
        console.print(f"  [{style}]{r.status}[/{style}] {esc(r.message)}", highlight=False, soft_wrap=True)
        if r.heal:
            console.print(f"    heal with: {esc(r.heal)}", highlight=False, soft_wrap=True)
    if v.scratch:
        fate = "kept, as given with --scratch-url" if v.scratch_kept else "dropped"
        console.print(f"scratch database: {esc(v.scratch)} ({fate})", highlight=False, soft_wrap=True)
    for step in v.steps:
        console.print(
            f"  {step.command} {esc(step.target)}: {len(step.applied)} revision(s) in {step.seconds:.1f} s",
            highlight=False,
        )
    if v.error:
        console.print(f"[bold red]replay failed:[/bold red] {esc(v.error)}", highlight=False, soft_wrap=True)
    if v.differences:
        _differences(console, v.differences, "replayed chain", "chain")
    if v.roundtrip is not None:
        trip = v.roundtrip
        if trip.ok:
            console.print("round trip: upgrade, downgrade to base, upgrade again: same schema each time")
        else:
            if trip.left_after_downgrade:
                console.print(
                    f"[red]round trip:[/red] downgrade to base left {esc(', '.join(trip.left_after_downgrade))}"
                )
            if not trip.consistent:
                console.print("[red]round trip:[/red] the second upgrade gave a different schema than the first")
    m = v.models
    if m is not None and m.compared:
        skipped = f"; not compared (another schema): {', '.join(m.skipped)}" if m.skipped else ""
        console.print(
            f"models: {esc(m.models)} ({esc(m.origin)}), {m.tables} table(s) built in a scratch database{esc(skipped)}",
            highlight=False,
            soft_wrap=True,
        )
        if m.differences:
            _differences(console, m.differences, "models", "models")
    if not verdicts:
        return
    render_three_way(console, v.three_way)
    verdict = v.verdict
    style = "bold green" if verdict == "verified" else "bold red"
    console.print(f"[{style}]{verdict}[/{style}]")


def _differences(console: Console, differences, what: str, short: str) -> None:  # type: ignore[no-untyped-def]
    table = Table(title=f"{len(differences)} difference(s): live database vs {what}", title_justify="left")
    for column in ("kind", "table", "column / name", f"expected ({short})", "actual (live)"):
        table.add_column(column)
    for d in differences:
        table.add_row(*map(Text, (d.kind, d.table or "", d.column or d.name or "", d.expected or "", d.actual or "")))
    console.print(table)


def render_three_way(console: Console, lines) -> None:  # type: ignore[no-untyped-def]
    """chain = database, models = database, chain head = stamp: a mark, what was found, what to do."""
    console.print("three-way verdict:")
    for line in lines:
        mark, style = {"ok": ("ok", "green"), "failed": ("FAILED", "bold red")}.get(line.status, ("--", "yellow"))
        console.print(
            f"  [{style}]{mark}[/{style}] {esc(line.check)}: {esc(line.found)}", highlight=False, soft_wrap=True
        )
        if line.todo:
            console.print(f"       to do: {esc(line.todo)}", highlight=False, soft_wrap=True)
