"""The timeline as Markdown, grouped by date like the seed report's "Schema Evolution Timeline".

Written to be committed (``docs/schema-evolution-timeline.md``): stable for a given repository
state, no terminal colours, and every revision's fate said in words as well as an emoji.
"""

from __future__ import annotations

import datetime as dt
import re

from migration_archaeologist.chain.timeline import CommitEvent, Phase, Place, Timeline, TimelineEntry

STATUS_TEXT = {
    "present": "✅ present in the versions directory",
    "recoverable": "♻️ missing from the versions directory, recoverable",
    "retired": "🗄️ retired: gone from the versions directory and nothing there needs it, a copy survives",
    "lost": "❌ lost: no source holds it, only its ID is known",
}
STAMP_TEXT = {
    "stamped": "✅ the database is stamped at this revision",
    "applied": "✅ applied (the database is stamped past it)",
    "not-applied": "⏳ not applied to the database",
}


def render_markdown(timeline: Timeline) -> str:
    lines: list[str] = [f"# {timeline.name} Schema Evolution Timeline", ""]
    lines += _preamble(timeline)
    number = 0
    for phase in timeline.phases():  # in chain order: a lost ID's phase sits just before what names it
        number += phase.day is not None
        lines += [
            "",
            f"## Phase {number}: {_md(phase.title)} ({_long_date(phase.day)})"
            if phase.day
            else "## Known only by reference",
        ]
        lines += _phase(phase)
    if timeline.problems or timeline.to_fix:
        lines += ["", "## Problems", ""]
        for e in timeline.to_fix:  # what Alembic cannot run without, first: each with its command
            kind = "missing" if e.status == "recoverable" else "stamped-but-missing"
            lines.append(
                f"- **{kind}**: {_code(e.revision)} is not in the versions directory."
                f" {e.next_step_label}: {_code(e.next_step or '')}"
            )
        for p in timeline.problems:
            level = " (warning)" if p.warning else ""
            lines.append(f"- **{p.kind}**{level}: {_md(p.message)}")
    if timeline.evidence:
        lines += [
            "",
            "## Documented revisions (evidence)",
            "",
            "| file | purpose | documented at | status now |",
            "|---|---|---|---|",
        ]
        for e in timeline.evidence:
            first = e.mentions[0]
            where = f"{first.path}:{first.line}" + (f" @ {first.commit[:7]}" if first.commit else "")
            if len(e.mentions) > 1:
                where += f" (+{len(e.mentions) - 1})"
            lines.append(
                f"| `{_cell(e.file_name or e.revision)}` | {_cell(e.purpose or '')} | {_cell(where)} |"
                f" {_cell(e.status)} |"
            )
    return "\n".join(lines) + "\n"


def _preamble(timeline: Timeline) -> list[str]:
    counts = timeline.counts()
    head = f" at HEAD `{timeline.head[:10]}`" if timeline.head else ""
    dirs = ", ".join(_code(str(d)) for d in timeline.versions_dirs) or "none known"
    out = [
        f"Rebuilt by migration-archaeologist from {_code(str(timeline.repository))}{head}; versions directory: {dirs}.",
        "",
        f"**{len(timeline.entries)} revisions**: {counts['present']} present, {counts['recoverable']} recoverable,"
        f" {counts['retired']} retired, {counts['lost']} lost. Head: {_ids(timeline.heads) or 'none'}.",
    ]
    if timeline.database is not None:
        stamped = _ids(timeline.stamped) or "nothing (no row in the version table)"
        out += ["", f"Database {_code(timeline.database)} is stamped {stamped}."]
    return out


def _phase(phase: Phase) -> list[str]:
    out: list[str] = []
    for entry in phase.entries:
        out += [""] + _entry(entry)
    return out


def _entry(e: TimelineEntry) -> list[str]:
    name = f"{_code(e.file_name)} ({_code(e.revision)})" if e.file_name else _code(e.revision)
    roles = [
        role
        for role, on in (
            ("base", e.base),
            ("head", e.head),
            ("merge point", e.merge_point),
            ("branch point", e.branch_point),
        )
        if on
    ]
    out = [f"- Migration: {name}" + (f", {', '.join(roles)}" if roles else "")]
    if e.message:
        out.append(f"- Purpose: {_md(e.message)}")
    if e.down_revisions:
        verb = "Merges" if e.merge_point else "Revises"
        out.append(f"- {verb}: {_ids(e.down_revisions)}")
    if e.depends_on:
        out.append(f"- Depends on: {_ids(e.depends_on)}")
    if e.branch_labels:
        out.append(f"- Branch labels: {_ids(e.branch_labels)}")
    if e.branch_point:
        out.append(f"- Branches: {_ids(e.children)} each revise it")
    if e.create_date:
        out.append(f"- Created: {_md(e.create_date.split('.')[0])} (header)")
    if e.first_seen is not None:
        out.append(f"- {_first_seen(e.first_seen)}")
    if e.operations:
        out.append("- Schema:")
        out += [f"  - {_md(op)}" for op in e.operations]
    out.append(f"- Status: {_status(e)}")
    if e.deleted is not None:
        out.append(f"- Deleted: {_event(e.deleted)}")
    if e.stamp is not None:
        out.append(f"- Database: {STAMP_TEXT[e.stamp]}")
    if e.next_step:
        out.append(f"- {e.next_step_label}: {_code(e.next_step)}")
    return out


def _code(text: str) -> str:
    """A command, a path or a ref as a code span: one line, and a fence longer than any run of
    backticks in it (a path may hold backticks), so the text cannot end the span early."""
    text = " ".join(text.split())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    return f"{fence} {text} {fence}" if longest else f"`{text}`"


def _status(e: TimelineEntry) -> str:
    text = STATUS_TEXT[e.status]
    if e.status == "present" and e.restored_from == "synthesized":
        text += f", synthesized from the database on {_when(e.restored_at)} (a stand-in: not a copy of the original)"
    elif e.status == "present" and e.restored_from:
        text += f", restored from {e.restored_from} ({e.fidelity}) on {_when(e.restored_at)}"
    if e.status in ("recoverable", "retired"):
        places = ", ".join(_place(p) for p in e.recoverable_from)
        text += f" from {places} ({e.fidelity})" if places else f" ({e.fidelity})"
        if e.versions > 1:
            text += f"; {e.versions} versions seen"
    if e.status == "lost" and e.children:
        text += f" (named by {_ids(e.children)})"
    if e.needed and e.status != "present":
        text += "; the versions directory needs it back"
    return text


def _place(place: Place) -> str:
    if place.source == "reflog" or (place.source == "stash" and not place.label.startswith("dropped stash")):
        return _code(place.label)
    if place.source in ("archive", "bytecode", "index") and place.path:
        return f"{place.source} {_code(place.path)}"
    return _md(place.label)


def _first_seen(event: CommitEvent) -> str:
    if event.commit is None:
        where = f" as {event.source} {_code(event.path)}" if event.path else f" in {event.source}"
        return f"First seen: {_when(event.date)}{where} (never committed)"
    kept = f", kept in {_md(event.ref)}" if event.ref else ", a dropped stash no ref or reflog entry names"
    how = {
        "reflog": f", reachable only through the reflog ({_md(event.ref or '')})",
        "stash": kept,
        "unreachable": ", a commit no ref or reflog reaches",
    }.get(event.source, "")
    return f"First committed: {_event(event)}" + how


def _event(event: CommitEvent) -> str:
    who = f" by {_md(event.author)}" if event.author else ""
    commit = f" in `{event.commit[:10]}`" if event.commit else ""
    return f"{_when(event.date)}{who}{commit}"


def _when(iso: str | None) -> str:
    if not iso:
        return "undated"
    try:
        moment = dt.datetime.fromisoformat(iso).astimezone(dt.timezone.utc)
    except ValueError:
        return iso
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _long_date(day: str) -> str:
    moment = dt.date.fromisoformat(day)
    return f"{moment:%B} {moment.day}, {moment.year}"


def _ids(ids: tuple[str, ...] | list[str]) -> str:
    return ", ".join(_code(i) for i in ids)


def _md(text: str) -> str:
    """Text from revision files is data: keep it from turning into Markdown markup or HTML."""
    out = " ".join(text.split())
    for ch in "\\`*[]<>|":
        out = out.replace(ch, "\\" + ch)
    return out


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")
