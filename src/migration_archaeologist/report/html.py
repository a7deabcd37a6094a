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
    layout,
)
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


def _revision(e: TimelineEntry, known: set[str]) -> str:  # noqa: C901  complexity 21: split with the module split (issue 20)
    facts: list[tuple[str, str]] = []
    if e.file_name:
        facts.append(("File", f"<code>{esc(e.file_name)}</code>"))
    if e.create_date:
        facts.append(("Create Date", esc(e.create_date)))
    if e.first_seen is not None:
        facts.append(("First commit" if e.first_seen.commit else "First seen", _event(e.first_seen)))
    if e.deleted is not None:
        facts.append(("Deleted", _event(e.deleted)))
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
    badges = [f'<span class="badge {esc(e.status)}">{esc(e.status)}</span>']
    if e.stamp == "stamped":
        badges.append('<span class="badge stamped">stamped</span>')
    if e.head:
        badges.append('<span class="badge plain">head</span>')
    message = esc(e.message) if e.message else '<span class="muted">(no message: only its ID is known)</span>'
    search = " ".join(x for x in (e.revision, e.message or "", e.file_name or "") if x).lower()
    dl = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in facts)
    return (
        f'<article class="revision {esc(e.status)}" id="{esc(anchor_id(e.revision))}" '
        f'data-rev="{esc(e.revision)}" data-search="{esc(search)}">'
        f'<h4><a class="rev-id" href="{esc(anchor_href(e.revision))}">{esc(e.revision)}</a> '
        f'{" ".join(badges)} <span class="message">{message}</span></h4>'
        f'<dl class="facts">{dl}</dl></article>'
    )


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


CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0 auto; padding: 24px 28px 48px; max-width: 1240px; color: #212529; background: #fff;
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", "Liberation Sans", Arial, sans-serif; }
code { font-family: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.92em; }
code.command { user-select: all; overflow-wrap: anywhere; }
h1 { font-size: 26px; margin: 0; }
h2 { font-size: 19px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 2px solid #e9ecef; }
h3 { font-size: 15px; margin: 22px 0 8px; color: #495057; }
h3 .day { display: inline-block; min-width: 7.5em; color: #212529; font-variant-numeric: tabular-nums; }
h4 { font-size: 14px; font-weight: normal; margin: 0 0 6px; }
a { color: #1c5fb8; text-decoration: none; }
a:hover { text-decoration: underline; }
.sub, .muted { color: #6c757d; }
.sub { margin: 2px 0 12px; }
.summary { display: grid; grid-template-columns: max-content 1fr; gap: 3px 18px; margin: 10px 0; }
.summary dt { color: #6c757d; }
.summary dd { margin: 0; overflow-wrap: anywhere; }
.status-text.present { color: #2b8a3e; } .status-text.recoverable { color: #d9480f; }
.status-text.retired { color: #667085; } .status-text.lost { color: #c92a2a; }
.status-text { font-weight: 600; } .status-text.none { color: #868e96; font-weight: normal; }
.search { margin: 14px 0 0; }
.search input { font: inherit; padding: 3px 8px; width: 22em; border: 1px solid #ced4da; border-radius: 4px; }
#search-count { color: #6c757d; margin-left: 6px; }
.legend { list-style: none; padding: 0; margin: 6px 0 10px; display: flex; flex-wrap: wrap; gap: 4px 22px; font-size: 13px; }
.legend li { display: flex; align-items: center; gap: 6px; }
.legend svg { flex: none; }
.chain-scroll { display: inline-block; max-width: 100%; overflow-x: auto; border: 1px solid #e9ecef; border-radius: 6px; }
svg.chain { display: block; }
svg.chain a { cursor: pointer; }
svg.chain a.label:hover .row-bg, svg.chain .revision.hit .row-bg { fill-opacity: 1; fill: #e7f1ff; }
svg.chain a:hover text.id { fill: #1c5fb8; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; vertical-align: top; padding: 5px 8px; border-bottom: 1px solid #e9ecef; }
th { color: #495057; font-weight: 600; border-bottom: 2px solid #dee2e6; }
td.kind { white-space: nowrap; color: #c92a2a; font-weight: 600; }
table.evidence { table-layout: fixed; }
table.evidence td { overflow-wrap: anywhere; }
.ok { color: #2b8a3e; }
.count { font-size: 13px; color: #fff; background: #c92a2a; border-radius: 9px; padding: 1px 8px; vertical-align: middle; }
article.revision { border-left: 4px solid #ced4da; padding: 6px 12px 8px; margin: 0 0 10px; border-radius: 0 4px 4px 0; }
article.revision.present { border-left-color: #40c057; }
article.revision.recoverable { border-left-color: #fab005; }
article.revision.retired { border-left-color: #ced4da; }
article.revision.lost { border-left-color: #e03131; background: #fff8f8; }
article.revision:target, article.revision.hit { background: #e7f1ff; }
.rev-id { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-weight: 700; font-size: 14px; }
h4 .message { margin-left: 4px; font-weight: 600; }
.badge { display: inline-block; font-size: 11px; line-height: 16px; padding: 0 6px; border-radius: 3px; font-weight: 600;
  vertical-align: 1px; border: 1px solid transparent; }
.badge.present { background: #ebfbee; color: #2b8a3e; border-color: #b2f2bb; }
.badge.recoverable { background: #fff9db; color: #d9480f; border-color: #ffe066; }
.badge.retired { background: #f2f4f7; color: #475467; border-color: #d0d5dd; }
.badge.lost { background: #fff5f5; color: #c92a2a; border-color: #ffc9c9; }
.badge.stamped { background: #1c1c1c; color: #fff; }
.badge.plain { background: #f1f3f5; color: #495057; border-color: #dee2e6; }
.facts { display: grid; grid-template-columns: 10em 1fr; gap: 1px 12px; margin: 0; font-size: 13px; }
.facts dt { color: #6c757d; }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.ops { margin: 0; padding-left: 1.2em; }
.source { color: #6c757d; }
.stamp.stamped { font-weight: 700; } .stamp.not-applied { color: #c92a2a; }
.checks { list-style: none; margin: 0; padding: 0; }
.checks li.match { color: #2b8a3e; } .checks li.mismatch { color: #c92a2a; } .checks li.unchecked { color: #6c757d; }
.checks .detail { display: block; color: #6c757d; font-size: 12px; margin: 0 0 3px 1.2em; }
details summary { color: #6c757d; cursor: pointer; }
@media print {
  body { padding: 0; max-width: none; font-size: 11pt; }
  .search { display: none; }
  .chain-scroll { overflow: visible; border: none; }
  article.revision, tr { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
  a { color: inherit; }
  article.revision:target, article.revision.hit { background: none; }
}
"""

# Search: highlight matching revisions in the picture and the timeline; Enter jumps to the first.
SCRIPT = """
(function () {
  var box = document.getElementById('search-box'), input = document.getElementById('search');
  var count = document.getElementById('search-count');
  if (!box || !input) return;
  box.hidden = false;
  var rows = Array.prototype.slice.call(document.querySelectorAll('article.revision'));
  var nodes = Array.prototype.slice.call(document.querySelectorAll('svg.chain .revision'));
  var hits = [];
  function update() {
    var q = input.value.trim().toLowerCase();
    hits = [];
    rows.forEach(function (row) {
      var on = q !== '' && row.getAttribute('data-search').indexOf(q) !== -1;
      row.classList.toggle('hit', on);
      if (on) hits.push(row.getAttribute('data-rev'));
    });
    nodes.forEach(function (g) { g.classList.toggle('hit', hits.indexOf(g.getAttribute('data-rev')) !== -1); });
    count.textContent = q === '' ? '' : hits.length + (hits.length === 1 ? ' match' : ' matches') +
      (hits.length ? ' (Enter to go to the first)' : '');
    var first = nodes.filter(function (g) { return g.classList.contains('hit'); })[0];
    if (first) first.scrollIntoView({block: 'nearest'});
  }
  input.addEventListener('input', update);
  input.addEventListener('keydown', function (ev) {
    if (ev.key !== 'Enter' || !hits.length) return;
    var row = rows.filter(function (r) { return r.getAttribute('data-rev') === hits[0]; })[0];
    if (row) { location.hash = '#' + row.id; }
  });
})();
"""
