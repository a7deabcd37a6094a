"""What ``scan`` prints: the revisions table, the chain as a tree, documented revisions, problems and
warnings."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from migration_archaeologist.chain.catalog import RevisionEntry
from migration_archaeologist.chain.scan_result import ScanResult
from migration_archaeologist.report.console.escape import esc


SOURCE_STYLE = {
    "history": "cyan",
    "reflog": "magenta",
    "stash": "yellow",
    "unreachable": "red",
    "worktree": "green",
    "index": "blue",
}


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
        if deleted and deletion is not None and deletion.submodule:  # the submodule's commit, not the superproject's
            deleted = f"{deleted} in {deletion.submodule}"
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


def chain_tree(result: ScanResult) -> Text:
    """The chain, one revision a line, read like ``alembic history`` upside down: a line of descent
    keeps one indent, each revision marked ``↳`` under the one it revises; a branch point's other
    children are indented under it ("branch from X"), and a merge is listed on its first parent's
    line, the other lines ending in ``↳ → merge``. So a child never looks like a sibling of its
    parent, and the depth is the number of branches open at once, not the chain's length (10,000
    revisions in one line stay at one indent, and no recursion)."""
    chain = result.chain
    lines: list[Text] = [Text.from_markup(f"[bold]chain[/bold]{esc(CHAIN_TITLE[5:])}")]
    shown: set[str] = set()
    roots = list(chain.bases) + list(chain.missing_targets)
    for rev in roots:
        if rev not in shown:
            _grow(result, rev, lines, shown)
    for rev in chain.order:  # members of cycles, and merges whose first parent is nowhere
        if rev not in shown:
            _grow(result, rev, lines, shown)
    return Text("\n").join(lines)


# one task of the tree grown by _grow (see there)
_Task = tuple[str, str, str | None, bool]


def _grow(result: ScanResult, start: str, lines: list[Text], shown: set[str]) -> None:
    """Append the tree grown from ``start`` to ``lines``, with a stack rather than recursion; every
    revision drawn goes into ``shown``."""
    chain = result.chain
    # tasks, popped last first: (gutter, revision, the parent it is reached from, False),
    # or (gutter, a "branch from" line, None, True)
    stack: list[_Task] = [("", start, None, False)]
    while stack:
        gutter, rev, parent, heading = stack.pop()
        if heading:
            lines.append(Text(gutter + rev, style="dim"))
            continue
        arrow = "↳ " if parent is not None else ""
        first = _first_parent(result, rev)
        if rev in shown or (parent is not None and parent != first and first in chain):
            # a merge reached from a parent other than its first: listed on its first parent's line
            where = "above" if rev in shown else "below"
            what = "merge, " if rev in chain.merge_points else ""
            lines.append(Text(gutter + arrow).append(f"→ {rev}  ({what}listed {where})", style="dim"))
            continue
        shown.add(rev)
        lines.append(Text(gutter + arrow).append_text(_chain_label(result, rev)))
        stack.extend(_branch_tasks(result, gutter, rev))


def _branch_tasks(result: ScanResult, gutter: str, rev: str) -> list[_Task]:
    """The tasks for ``rev``'s children, in the order they go onto the stack: the line of descent
    first (so it is drawn last, below the branches), then each other child under its own
    "branch from" heading."""
    tasks: list[_Task] = []
    children = result.chain.children(rev)
    own = [c for c in children if _first_parent(result, c) == rev]
    line = own[:1] or children[:1]  # the line goes on with a child that revises this one first
    sides = [c for c in children if c not in line]
    if line:
        tasks.append((gutter, line[0], rev, False))
    for i in reversed(range(len(sides))):
        last = i == len(sides) - 1 and not line
        tasks.append((gutter + ("   " if last else "│  "), sides[i], rev, False))
        tasks.append((gutter, f"{'└─' if last else '├─'} branch from {rev}:", None, True))
    return tasks


def _first_parent(result: ScanResult, rev: str) -> str | None:
    """The first down_revision of ``rev``, or None for a base or a revision not found anywhere."""
    entry = result.catalog.entries.get(rev)
    downs = entry.parsed.down_revisions if entry is not None else ()
    return downs[0] if downs else None


def _chain_label(result: ScanResult, rev: str) -> Text:
    """One revision's line in the tree: ID, message, status, and its marks (head, merge, labels...)."""
    chain = result.chain
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
