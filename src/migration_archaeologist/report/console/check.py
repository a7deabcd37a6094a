"""What ``check`` prints: the verdict, the problems that fail it, then ignored kinds and warnings
(a few of each kind in full)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.text import Text

from migration_archaeologist.chain.scan_result import ScanResult
from migration_archaeologist.report.console.escape import esc
from migration_archaeologist.report.console.scan import render_warnings

if TYPE_CHECKING:
    from migration_archaeologist.chain.check import Verdict


def render_check(console: Console, result: ScanResult, verdict: Verdict | None = None) -> None:
    """The verdict; with ``verdict``, findings of ignored kinds are shown as warnings after it."""
    chain = result.gate_chain
    heads = ", ".join(chain.heads) or "none"
    passed = verdict.passed if verdict is not None else not (chain.problems or result.missing)
    failing = verdict.failing if verdict is not None else chain.problems
    missing_fails = bool(result.missing) and not (verdict is not None and verdict.missing_ignored)
    if passed:
        others = len(result.catalog.entries) - len(chain.order)
        aside = f" [dim]({others} more only elsewhere in git: see scan)[/dim]" if others > 0 else ""
        console.print(f"[green]ok[/green]: {len(chain.order)} revisions, head {esc(heads)}{aside}")
    if failing:
        console.print(f"\n[bold red]{len(failing)} problem(s)[/bold red]")
        for p in failing:
            console.print(f"  [red]{esc(p.kind)}[/red]: {esc(p.message)}", highlight=False, soft_wrap=True)
    if missing_fails:
        console.print(
            f"\n[bold red]{len(result.missing)} revision(s) missing[/bold red] from the versions directory: "
            + esc(", ".join(result.missing)),
            soft_wrap=True,
        )
    if verdict is not None:
        _render_not_failing(console, verdict)
        if result.missing and verdict.missing_ignored:
            console.print(
                f"[yellow]ignored[/yellow] missing: {esc(', '.join(result.missing))} not in the versions directory",
                highlight=False,
                soft_wrap=True,
            )
    render_warnings(console, result)


def render_checks(console: Console, judged: list[tuple[str, ScanResult, Verdict]]) -> None:
    """``check`` of several environments: each verdict under the environment's name."""
    for label, result, verdict in judged:
        console.print(Text(label, style="bold"))
        render_check(console, result, verdict)


#: Warnings of one kind shown in full before the rest are counted (real histories have hundreds).
WARNINGS_SHOWN = 5


def _render_not_failing(console: Console, verdict: Verdict) -> None:
    """Ignored kinds, then warnings: a few of each kind in full, the rest counted."""
    shown: dict[str, int] = {}
    for p in verdict.ignored:
        word = "ignored" if p.kind in verdict.ignore else "warning"
        shown[p.kind] = shown.get(p.kind, 0) + 1
        if shown[p.kind] <= WARNINGS_SHOWN:
            console.print(f"[yellow]{word}[/yellow] {esc(p.kind)}: {esc(p.message)}", highlight=False, soft_wrap=True)
    for kind, count in shown.items():
        if count > WARNINGS_SHOWN:
            console.print(
                f"[yellow]... and {count - WARNINGS_SHOWN} more {esc(kind)}[/yellow] (scan --json lists them all)"
            )
