"""Rich renderings for people: tables, the chain as a tree, problems. Render only, never compute."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape as _escape
from rich.table import Table
from rich.text import Text

from typing import TYPE_CHECKING

from migration_archaeologist.chain.catalog import RevisionEntry
from migration_archaeologist.chain.scan import ScanResult

if TYPE_CHECKING:
    from migration_archaeologist.chain.check import Verdict
    from migration_archaeologist.actions.restore import RestoreOutcome, RestorePlan


def esc(value: object) -> str:
    """Text from files, git and databases (messages, paths, revision IDs) printed inside Rich markup:
    escaped, so ``[tool.alembic]`` or ``[bold]`` in it is shown as written, never taken as markup."""
    return _escape(str(value))


SOURCE_STYLE = {"history": "cyan", "reflog": "magenta", "stash": "yellow", "unreachable": "red", "worktree": "green"}


def status_of(result: ScanResult, rev: str) -> str:
    entry = result.catalog.entries[rev]
    if entry.present:
        return "present"
    return "missing" if rev in result.missing else "retired"


def _status_text(status: str) -> Text:
    style = {"present": "green", "missing": "bold red", "retired": "dim"}[status]
    return Text(status, style=style)


def _found_in(entry: RevisionEntry) -> Text:
    places: dict[str, None] = {}
    for candidate in entry.candidates:
        for s in candidate.sightings:
            if s.source == "worktree":
                continue
            label = s.ref if s.source in ("reflog", "stash") and s.ref else s.source
            if s.source == "stash" and not s.ref:
                label = "dropped stash"  # a stash commit no ref or reflog entry names any more
            places.setdefault(f"{s.source}\0{label}", None)
    text = Text()
    for i, key in enumerate(places):
        source, label = key.split("\0")
        if i:
            text.append(", ")
        text.append(label, style=SOURCE_STYLE.get(source, ""))
    if len(entry.candidates) > 1:
        text.append(f" ({len(entry.candidates)} versions)", style="dim")
    return text


_CACHE_NOTES = {
    "off": "",
    "new": "",
    "unchanged": "; nothing changed since the last scan: read from the history cache",
}


def render_scan(console: Console, result: ScanResult) -> None:
    repo = result.repository
    head = f"{repo.head[:10]}" if repo.head else "no HEAD"
    where = ", ".join(result.relative(d) for d in result.versions_dirs) or "none"
    console.print(
        f"[bold]{esc(repo.display_path)}[/bold]  HEAD {head}  versions: {esc(where)} [dim]({esc(result.versions_origin)})[/dim]"
    )
    skipped = (
        f", left {result.skipped_versions} later versions of non-revision files unread (--thorough reads them)"
        if result.skipped_versions
        else ""
    )
    cache = _CACHE_NOTES.get(result.cache, f"; history cache {result.cache}")
    console.print(
        f"[dim]walked {result.commits_walked} commits, read {result.blobs_read} distinct blobs{skipped}{cache}[/dim]"
    )
    table = Table(title="Revisions", title_justify="left", show_lines=False)
    table.add_column("revision", style="bold", no_wrap=True)
    table.add_column("message")
    table.add_column("status", no_wrap=True)
    table.add_column("found in")
    table.add_column("deleted", no_wrap=True)
    order = list(result.chain.order) + sorted(set(result.catalog.entries) - set(result.chain.order))
    for rev in order:
        entry = result.catalog.entries[rev]
        deletion = result.deletion(rev)
        deleted = f"{deletion.commit[:7]} {(deletion.date or '')[:10]}" if deletion and deletion.commit else ""
        retirement = result.retired.get(rev)
        if retirement is not None and retirement.how in ("reverted", "squashed"):
            deleted = f"{retirement.how} {deleted}".strip()
        table.add_row(
            Text(rev), Text(entry.parsed.message or ""), _status_text(status_of(result, rev)), _found_in(entry), deleted
        )
    if order:
        console.print(table)
        # one revision a line: a line wrapped onto the next would start at the left edge, like a base
        console.print(chain_tree(result), no_wrap=True, overflow="ellipsis")
    else:
        console.print("No Alembic revision files found anywhere in this repository's history.")
    render_evidence(console, result)
    render_problems(console, result)
    render_warnings(console, result)
    if result.missing:
        tips = [h for h in result.chain.heads if h in result.missing] or list(result.missing[-1:])
        console.print(
            f"\n[bold]{len(result.missing)} revision(s) missing[/bold] from the versions directory, all recoverable. "
            f"Preview the restore with:\n  migration-archaeologist restore {esc(' '.join(tips))}"
        )
    if result.missing or any(p.kind == "environment-missing" for p in result.gate_chain.problems):
        console.print(
            "Or the whole recovery, environment files included, then Alembic's own word on it:\n"
            "  migration-archaeologist recover [--db URL]",
            highlight=False,
        )


CHAIN_TITLE = "chain (base → head; ↳ revises the line above it at the same indent)"


def chain_tree(result: ScanResult) -> Text:  # noqa: C901  complexity 20: split with the module split (issue 20)
    """The chain, one revision a line, read like ``alembic history`` upside down: a line of descent
    keeps one indent, each revision marked ``↳`` under the one it revises; a branch point's other
    children are indented under it ("branch from X"), and a merge is listed on its first parent's
    line, the other lines ending in ``↳ → merge``. So a child never looks like a sibling of its
    parent, and the depth is the number of branches open at once, not the chain's length (10,000
    revisions in one line stay at one indent, and no recursion)."""
    chain = result.chain
    lines: list[Text] = [Text.from_markup(f"[bold]chain[/bold]{esc(CHAIN_TITLE[5:])}")]
    shown: set[str] = set()

    def first_parent(rev: str) -> str | None:
        entry = result.catalog.entries.get(rev)
        downs = entry.parsed.down_revisions if entry is not None else ()
        return downs[0] if downs else None

    def label(rev: str) -> Text:
        entry = result.catalog.entries.get(rev)
        text = Text(rev, style="bold")
        if entry is None:
            return text.append("  (not found anywhere)", style="red")
        text.append(f"  {entry.parsed.message or ''}  ")
        text.append_text(_status_text(status_of(result, rev)))
        marks = []
        if rev in chain.heads:
            marks.append("head")
        if rev in chain.merge_points:
            marks.append("merge of " + ", ".join(entry.parsed.down_revisions))
        if rev in chain.branch_points:
            marks.append("branch point")
        if entry.parsed.branch_labels:
            marks.append("labels: " + ", ".join(entry.parsed.branch_labels))
        if entry.parsed.depends_on:
            marks.append("depends on " + ", ".join(entry.parsed.depends_on))
        if marks:
            text.append(f"  ({'; '.join(marks)})", style="dim")
        return text

    def grow(start: str) -> None:
        # tasks, popped last first: (gutter, revision, the parent it is reached from, False),
        # or (gutter, a "branch from" line, None, True)
        stack: list[tuple[str, str, str | None, bool]] = [("", start, None, False)]
        while stack:
            gutter, rev, parent, heading = stack.pop()
            if heading:
                lines.append(Text(gutter + rev, style="dim"))
                continue
            arrow = "↳ " if parent is not None else ""
            first = first_parent(rev)
            if rev in shown or (parent is not None and parent != first and first in chain):
                # a merge reached from a parent other than its first: listed on its first parent's line
                where = "above" if rev in shown else "below"
                what = "merge, " if rev in chain.merge_points else ""
                lines.append(Text(gutter + arrow).append(f"→ {rev}  ({what}listed {where})", style="dim"))
                continue
            shown.add(rev)
            lines.append(Text(gutter + arrow).append_text(label(rev)))
            children = chain.children(rev)
            own = [c for c in children if first_parent(c) == rev]
            line = own[:1] or children[:1]  # the line goes on with a child that revises this one first
            sides = [c for c in children if c not in line]
            if line:
                stack.append((gutter, line[0], rev, False))
            for i in reversed(range(len(sides))):
                last = i == len(sides) - 1 and not line
                stack.append((gutter + ("   " if last else "│  "), sides[i], rev, False))
                stack.append((gutter, f"{'└─' if last else '├─'} branch from {rev}:", None, True))

    roots = list(chain.bases) + list(chain.missing_targets)
    for rev in roots:
        if rev not in shown:
            grow(rev)
    for rev in chain.order:  # members of cycles, and merges whose first parent is nowhere
        if rev not in shown:
            grow(rev)
    return Text("\n").join(lines)


def render_evidence(console: Console, result: ScanResult) -> None:
    """Like the seed report's "documented but missing" table, with the status as it is now."""
    if not result.evidence:
        return
    table = Table(title="Documented revisions (evidence)", title_justify="left")
    for column in ("file", "purpose", "documented at", "status now", "claims"):
        table.add_column(column)
    for e in result.evidence:
        first = e.mentions[0]
        where = f"{first.path}:{first.line}" + (f" @{first.commit[:7]}" if first.commit else "")
        if len(e.mentions) > 1:
            where += f" (+{len(e.mentions) - 1})"
        status_style = "green" if e.status == "present" else "bold red" if e.status.startswith("lost") else "yellow"
        checks = ", ".join(
            f"{c.claim.kind} {c.claim.value[:16]} {'✓' if c.verdict == 'match' else '✗'}"
            for c in e.checks
            if c.verdict != "unchecked" and c.claim.kind != "file-name"
        )
        table.add_row(
            *map(Text, (e.file_name or e.revision, e.purpose or "", where)),
            Text(e.status, style=status_style),
            Text(checks),
        )
    console.print(table)


def render_problems(console: Console, result: ScanResult) -> None:
    """Errors (what breaks Alembic or the database), then warnings."""
    errors = [p for p in result.findings if not p.warning]
    warnings = [p for p in result.findings if p.warning]
    if errors:
        console.print(f"\n[bold red]{len(errors)} problem(s)[/bold red]")
        for p in errors:
            console.print(f"  [red]{esc(p.kind)}[/red]: {esc(p.message)}", highlight=False, soft_wrap=True)
    if warnings:
        console.print(f"\n[bold yellow]{len(warnings)} warning(s)[/bold yellow] (check passes on them; --strict fails)")
        for p in warnings:  # scan is the full report: every one (check shows a few of each kind)
            console.print(f"  [yellow]{esc(p.kind)}[/yellow]: {esc(p.message)}", highlight=False, soft_wrap=True)


def render_warnings(console: Console, result: ScanResult) -> None:
    for issue in result.archive_issues:
        member = f"!{issue.member}" if issue.member else ""
        console.print(
            f"[yellow]archive:[/yellow] {esc(f'{issue.archive}{member}: {issue.reason}')}",
            highlight=False,
            soft_wrap=True,
        )
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/yellow] {esc(warning)}", highlight=False, soft_wrap=True)
    if result.unreadable:
        console.print(f"[yellow]warning:[/yellow] {len(result.unreadable)} object(s) could not be read:")
        for item in result.unreadable[:20]:
            where = f" ({item.path} in {item.commit[:10]})" if item.path and item.commit else ""
            console.print(esc(f"  {item.blob}{where}: {item.reason}"), highlight=False, soft_wrap=True)


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
        render_verification(console, outcome.verification)
    style = "bold green" if outcome.works else "bold red"
    console.print(f"\n[{style}]{esc(verdict(outcome))}[/{style}]", highlight=False, soft_wrap=True)
