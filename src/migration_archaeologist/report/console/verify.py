"""What ``verify`` prints: the stamp, how each stamped revision resolves, the replay's steps, the
differences between the live database and the replayed chain, and the verdict."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from migration_archaeologist.report.console.escape import esc


def render_verification(console: Console, verification) -> None:  # type: ignore[no-untyped-def]
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
        table = Table(
            title=f"{len(v.differences)} difference(s): live database vs replayed chain", title_justify="left"
        )
        for column in ("kind", "table", "column / name", "expected (chain)", "actual (live)"):
            table.add_column(column)
        for d in v.differences:
            table.add_row(
                *map(Text, (d.kind, d.table or "", d.column or d.name or "", d.expected or "", d.actual or ""))
            )
        console.print(table)
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
    verdict = v.verdict
    style = "bold green" if verdict == "verified" else "bold red"
    console.print(f"[{style}]{verdict}[/{style}]")
