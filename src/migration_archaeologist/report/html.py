"""The timeline as one self-contained HTML file: summary, drawn chain, problems, timeline, evidence.

One file that opens offline and prints cleanly: CSS inline, no fonts, images or scripts from
anywhere, every link a ``#`` anchor inside the page. A small script adds a search box; without it
the page loses nothing but that box. Render only: every status and date comes from the Timeline.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from migration_archaeologist.report.markup import anchor_href, anchor_id, esc, short_date, short_sha
from migration_archaeologist.report.svg import (
    BACK_COLOUR,
    DASH,
    EDGE_COLOUR,
    STAMP_RING,
    STATUS_COLOURS,
    chain_svg,
)
from migration_archaeologist.report.chain_layout import layout
from migration_archaeologist.report.html_assets import CSS, SCRIPT
from migration_archaeologist.chain.timeline import STATUSES, CommitEvent, Timeline, TimelineEntry

STATUS_MEANING = {
    "present": "file in a versions directory now",
    "recoverable": "gone from the versions directory, a copy survives",
    "retired": "gone, and nothing in the versions directory needs it (reverted, squashed, another branch)",
    "lost": "only its ID is known",
}


def render_html(timeline: Timeline) -> str:
    """The whole report as one HTML document."""
    title = f"{timeline.name} schema evolution"
    geometry = layout(timeline)
    body = [
        f"<header><h1>{esc(title)}</h1>",
        '<p class="sub">Alembic revisions recovered by migration-archaeologist</p></header>',
        _summary(timeline),
        _search_box(),
        '<section id="chain"><h2>Chain</h2>',
        _legend(timeline, back=any(route.back for route in geometry.edges)),
        '<div class="chain-scroll">',
        chain_svg(timeline, geometry=geometry) if timeline.entries else "<p>No revisions found.</p>",
        "</div></section>",
        _problems(timeline),
        _timeline(timeline),
        _evidence(timeline),
    ]
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<meta name="generator" content="migration-archaeologist">',
            f"<title>{esc(title)}</title>",
            f"<style>{CSS}</style>",
            "</head><body>",
            *body,
            f"<script>{SCRIPT}</script>",
            "</body></html>",
            "",
        ]
    )


# --------------------------------------------------------------------------- sections


def _summary(t: Timeline) -> str:
    counts = t.counts()
    total = sum(counts.values())
    by_status = ", ".join(
        f'<span class="status-text {s if counts[s] else "none"}">{counts[s]} {s}</span>' for s in STATUSES
    )
    rows = [
        ("Repository", f"<code>{esc(t.repository)}</code>"),
        ("HEAD", f"<code>{esc(t.head[:12])}</code>" if t.head else "none (no commits)"),
        ("Versions directories", _codes(t.versions_dirs) or "none found"),
        ("Revisions", f"{total}: {by_status}"),
        ("Heads", _links(t.heads, known=_known(t)) or "none"),
    ]
    if t.database is not None:
        rows.append(("Database", f"<code>{esc(t.database)}</code>"))
        stamped = _links(t.stamped, known=_known(t)) if t.stamped else "nothing (empty version table: base)"
        rows.append(("Stamped", stamped))
    problems = len(t.problems) + len(t.to_fix)  # a missing revision is a problem until it is back
    rows.append(("Problems", f'<a href="#problems">{problems}</a>' if problems else "none"))
    cells = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in rows)
    return f'<section id="summary"><dl class="summary">{cells}</dl></section>'


def _search_box() -> str:
    # hidden until the script shows it: without JavaScript there is no dead box
    return (
        '<div class="search" id="search-box" hidden><label for="search">Find a revision</label> '
        '<input type="search" id="search" placeholder="ID, message or file name" autocomplete="off"> '
        '<span id="search-count" aria-live="polite"></span></div>'
    )


def _legend(t: Timeline, *, back: bool) -> str:
    items = [_key(_dot(s), f"<b>{s}</b>: {STATUS_MEANING[s]}") for s in STATUSES]
    items.append(_key(_diamond(), "<b>merge point</b>: revises several revisions"))
    if t.database is not None:
        items.append(
            _key(_dot("recoverable", ring=True), '<span class="badge stamped">stamped</span> the database is at it')
        )
    items.append(_key(_line(EDGE_COLOUR["down_revision"], None), "down_revision (older above, newer below)"))
    if any(e.kind == "depends_on" for e in t.edges):
        items.append(_key(_line(EDGE_COLOUR["depends_on"], DASH["depends_on"]), "depends_on"))
    if back:
        items.append(_key(_line(BACK_COLOUR, None), "points downwards: part of a cycle"))
    return f'<ul class="legend">{"".join(items)}</ul>'


def _problems(t: Timeline) -> str:
    if not t.problems and not t.to_fix:
        return '<section id="problems"><h2>Problems</h2><p class="ok">No problems found in the chain.</p></section>'
    rows = []
    for e in t.to_fix:  # what Alembic cannot run without, first: each with the command that fixes it
        kind = "missing" if e.status == "recoverable" else "stamped-but-missing"
        rows.append(
            f'<tr><td class="kind">{kind}</td><td>{_links((e.revision,), known=_known(t))}</td>'
            f"<td>{esc(e.revision)} is not in the versions directory. {esc(e.next_step_label)}: "
            f'<code class="command">{esc(e.next_step or "")}</code></td></tr>'
        )
    for p in t.problems:
        where = f'<div class="path"><code>{esc(p.path)}</code></div>' if p.path else ""
        rows.append(
            f'<tr><td class="kind">{esc(p.kind)}{" (warning)" if p.warning else ""}</td>'
            f"<td>{_links(p.revisions, known=_known(t))}</td>"
            f"<td>{esc(p.message)}{where}</td></tr>"
        )
    return (
        f'<section id="problems"><h2>Problems <span class="count">{len(t.problems) + len(t.to_fix)}</span></h2>'
        '<table class="problems"><thead><tr><th>kind</th><th>revisions</th><th>message</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def _timeline(t: Timeline) -> str:
    out = ['<section id="timeline"><h2>Timeline</h2>']
    if not t.entries:
        out.append("<p>No revisions found.</p>")
    known = _known(t)
    for phase in t.phases():
        day = esc(phase.day) if phase.day else "Undated"
        out.append(f'<section class="phase"><h3><span class="day">{day}</span> {esc(phase.title)}</h3>')
        out.extend(_revision(e, known) for e in phase.entries)
        out.append("</section>")
    out.append("</section>")
    return "\n".join(out)


def _revision(e: TimelineEntry, known: set[str]) -> str:
    facts = _history_facts(e) + _recovery_facts(e) + _chain_facts(e, known)
    message = esc(e.message) if e.message else '<span class="muted">(no message: only its ID is known)</span>'
    search = " ".join(x for x in (e.revision, e.message or "", e.file_name or "") if x).lower()
    dl = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in facts)
    return (
        f'<article class="revision {esc(e.status)}" id="{esc(anchor_id(e.revision))}" '
        f'data-rev="{esc(e.revision)}" data-search="{esc(search)}">'
        f'<h4><a class="rev-id" href="{esc(anchor_href(e.revision))}">{esc(e.revision)}</a> '
        f'{" ".join(_badges(e))} <span class="message">{message}</span></h4>'
        f'<dl class="facts">{dl}</dl></article>'
    )


def _history_facts(e: TimelineEntry) -> list[tuple[str, str]]:
    """The revision's file and its life in git: name, Create Date, first seen, deleted."""
    facts: list[tuple[str, str]] = []
    if e.file_name:
        facts.append(("File", f"<code>{esc(e.file_name)}</code>"))
    if e.create_date:
        facts.append(("Create Date", esc(e.create_date)))
    if e.first_seen is not None:
        facts.append(("First commit" if e.first_seen.commit else "First seen", _event(e.first_seen)))
    if e.deleted is not None:
        facts.append(("Deleted", _event(e.deleted)))
    return facts


def _recovery_facts(e: TimelineEntry) -> list[tuple[str, str]]:
    """Where a copy survives, what was written back, the database's stamp, and the next step."""
    facts: list[tuple[str, str]] = []
    if e.recoverable_from:
        places = ", ".join(f"<code>{esc(p.label)}</code>" for p in e.recoverable_from)
        fidelity = f' <span class="fidelity">({esc(e.fidelity)})</span>' if e.fidelity else ""
        versions = f", {e.versions} distinct versions seen" if e.versions > 1 else ""
        facts.append(("Recoverable from", places + fidelity + versions))
    elif e.status == "lost":
        facts.append(("Recoverable from", "nowhere: no source holds this file"))
    if e.restored_from == "synthesized":
        facts.append(
            (
                "Written",
                f"synthesized from the database {esc(e.restored_at or '')} "
                '<span class="fidelity">(synthesized: a stand-in, not a copy of the original)</span>',
            )
        )
    elif e.restored_from:
        facts.append(
            (
                "Written",
                f"restored from {esc(e.restored_from)} {esc(e.restored_at or '')} "
                f'<span class="fidelity">({esc(e.fidelity or "")})</span>',
            )
        )
    if e.stamp is not None:
        facts.append(("Database", f'<span class="stamp {esc(e.stamp)}">{esc(e.stamp.replace("-", " "))}</span>'))
    if e.next_step:
        facts.append(("Next step", f'{esc(e.next_step_label)}: <code class="command">{esc(e.next_step)}</code>'))
    return facts


def _chain_facts(e: TimelineEntry, known: set[str]) -> list[tuple[str, str]]:
    """The revision's place in the chain, then what its upgrade() does."""
    facts: list[tuple[str, str]] = []
    if e.down_revisions:
        facts.append(("Revises", _links(e.down_revisions, known=known)))
    elif e.status != "lost":
        facts.append(("Revises", "nothing: a base"))
    if e.depends_on:
        facts.append(("Depends on", _links(e.depends_on, known=known)))
    if e.children:
        facts.append(("Revised by", _links(e.children, known=known)))
    if e.branch_labels:
        facts.append(("Branch labels", _codes(e.branch_labels)))
    notes = _chain_notes(e)
    if notes:
        facts.append(("Chain", notes))
    if e.operations:
        ops = "".join(f"<li>{esc(op)}</li>" for op in e.operations)
        facts.append(("Operations", f'<ul class="ops">{ops}</ul>'))
    elif e.status != "lost":
        facts.append(("Operations", '<span class="muted">none read from upgrade()</span>'))
    return facts


def _badges(e: TimelineEntry) -> list[str]:
    """The status badge, then stamped and head when they apply."""
    badges = [f'<span class="badge {esc(e.status)}">{esc(e.status)}</span>']
    if e.stamp == "stamped":
        badges.append('<span class="badge stamped">stamped</span>')
    if e.head:
        badges.append('<span class="badge plain">head</span>')
    return badges


def _chain_notes(e: TimelineEntry) -> str:
    notes = []
    if e.base:
        notes.append("base")
    if e.head:
        notes.append("head")
    if e.merge_point:
        notes.append("merge point of " + ", ".join(e.down_revisions))
    if e.branch_point:
        notes.append("branch point: " + ", ".join(e.children) + " each continue from here")
    if e.status != "present" and not e.needed:
        notes.append("not needed by the versions directory's chain")
    return esc("; ".join(notes))


def _event(event: CommitEvent) -> str:
    parts = [esc(short_date(event.date))]
    if event.author:
        parts.append(esc(event.author))
    if event.commit:
        parts.append(f'<code title="{esc(event.commit)}">{esc(short_sha(event.commit))}</code>')
    source = event.ref or event.source
    parts.append(f'<span class="source">{esc(source)}</span>')
    return " · ".join(p for p in parts if p)


def _evidence(t: Timeline) -> str:
    if not t.evidence:
        return ""
    known = _known(t)
    rows = []
    for ev in t.evidence:
        mentions = [
            f"<code>{esc(m.path)}:{m.line}</code>"
            + (f' <span class="muted">@{esc(short_sha(m.commit))}</span>' if m.commit else "")
            for m in ev.mentions
        ]
        where = "<br>".join(mentions[:3])
        if len(mentions) > 3:
            where += f"<details><summary>{len(mentions) - 3} more</summary>{'<br>'.join(mentions[3:])}</details>"
        status = ev.status
        kind = "present" if status == "present" else "lost" if status.startswith("lost") else "recoverable"
        checks = "".join(_check(c, ev.file_name) for c in ev.checks)
        name = esc(ev.file_name or ev.revision)
        rev = _links([ev.revision], known=known)
        rows.append(
            f"<tr><td><code>{name}</code><div>{rev}</div></td><td>{esc(ev.purpose or '')}</td>"
            f'<td class="where">{where}</td><td><span class="status-text {kind}">{esc(status)}</span></td>'
            f'<td><ul class="checks">{checks}</ul></td></tr>'
        )
    return (
        '<section id="evidence"><h2>Documents naming revisions</h2>'
        '<p class="muted">What the repository\'s own documents say about each revision, and whether the '
        "recovered files bear it out.</p>"
        '<table class="evidence"><colgroup><col style="width:24%"><col style="width:14%"><col style="width:22%">'
        '<col style="width:12%"><col style="width:28%"></colgroup><thead><tr><th>file</th><th>purpose</th><th>documented at</th>'
        "<th>status now</th><th>claims</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def _check(check, file_name: str | None) -> str:  # type: ignore[no-untyped-def]
    """One claim of a document and its verdict; the why is spelled out unless it simply matched."""
    claim = check.claim
    value = "" if claim.value == file_name else f" <code>{esc(claim.value)}</code>"
    mark = {"match": "✓", "mismatch": "✗"}.get(check.verdict, "?")
    detail = "" if check.verdict == "match" else f'<span class="detail">{esc(check.detail)}</span>'
    return f'<li class="{esc(check.verdict)}" title="{esc(check.detail)}">{mark} {esc(claim.kind)}{value}{detail}</li>'


# --------------------------------------------------------------------------- small pieces


def _known(t: Timeline) -> set[str]:
    return {e.revision for e in t.entries}


def _links(revisions: Iterable[str], *, known: set[str] | None = None) -> str:
    """Revision IDs as links to their rows (plain code when the timeline has no such row)."""
    out = []
    for rev in revisions:
        if known is None or rev in known:
            out.append(f'<a class="rev-link" href="{esc(anchor_href(rev))}"><code>{esc(rev)}</code></a>')
        else:
            out.append(f"<code>{esc(rev)}</code>")
    return ", ".join(out)


def _codes(values: Sequence[str]) -> str:
    return ", ".join(f"<code>{esc(v)}</code>" for v in values)


def _key(symbol: str, text: str) -> str:
    return f"<li>{symbol}<span>{text}</span></li>"


def _dot(status: str, *, ring: bool = False) -> str:
    fill, stroke = STATUS_COLOURS[status]
    width = 2.4 if status == "lost" else 1.4
    halo = f'<circle cx="11" cy="10" r="9.6" fill="#fff" stroke="{STAMP_RING}" stroke-width="2.6"/>' if ring else ""
    return (
        f'<svg class="key" width="22" height="20" aria-hidden="true">{halo}'
        f'<circle cx="11" cy="10" r="5.8" fill="{fill}" stroke="{stroke}" stroke-width="{width}"/></svg>'
    )


def _diamond() -> str:
    fill, stroke = STATUS_COLOURS["recoverable"]
    return (
        '<svg class="key" width="22" height="20" aria-hidden="true">'
        f'<path d="M11,1.6 L19.4,10 L11,18.4 L2.6,10 Z" fill="{fill}" stroke="{stroke}" stroke-width="1.4"/></svg>'
    )


def _line(colour: str, dash: str | None) -> str:
    dashed = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        '<svg class="key" width="22" height="20" aria-hidden="true">'
        f'<path d="M11,0 L11,20" stroke="{colour}" stroke-width="1.8"{dashed}/></svg>'
    )
