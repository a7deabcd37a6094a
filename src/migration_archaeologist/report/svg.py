"""The chain drawn as an inline SVG, one revision per row, on the geometry ``report.chain_layout``
works out (:func:`layout`); :func:`chain_svg` draws it.
"""

from __future__ import annotations

from migration_archaeologist.report.chain_layout import (
    HEADER,
    ID_CHAR,
    MESSAGE_WIDTH,
    ROW,
    STATUS_WIDTH,
    ChainLayout,
    EdgeRoute,
    NodeBox,
    layout,
)
from migration_archaeologist.report.markup import anchor_href, esc, short_date, short_sha
from migration_archaeologist.chain.timeline import Timeline, TimelineEntry

SIZE = 13.0  # font size of the labels
FONT = "system-ui, -apple-system, 'Segoe UI', 'DejaVu Sans', 'Liberation Sans', Arial, sans-serif"
MONO = "ui-monospace, 'SFMono-Regular', 'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', monospace"

#: node fill and outline per status; lost nodes are hollow so they read apart in grey print too
STATUS_COLOURS = {
    "present": ("#40c057", "#2b8a3e"),
    "recoverable": ("#fab005", "#e67700"),
    "retired": ("#ced4da", "#868e96"),
    "lost": ("#ffffff", "#e03131"),
}
STATUS_TEXT = {"present": "#2b8a3e", "recoverable": "#d9480f", "retired": "#667085", "lost": "#c92a2a"}
EDGE_COLOUR = {"down_revision": "#868e96", "depends_on": "#7950f2"}
BACK_COLOUR = "#e03131"
DASH = {"down_revision": None, "depends_on": "5 3"}
STAMP_RING = "#1c1c1c"


# --------------------------------------------------------------------------- words


def status_words(entry: TimelineEntry) -> list[str]:
    """The short notes after the status: fidelity when not exact, chain role, database state."""
    words = []
    if entry.status in ("recoverable", "retired") and entry.fidelity and entry.fidelity != "exact":
        words.append(entry.fidelity)
    if entry.status == "present" and entry.fidelity == "synthesized":
        words.append("synthesized")
    if entry.status != "present" and not entry.needed:
        words.append("not needed")
    if entry.head:
        words.append("head")
    if entry.merge_point:
        words.append("merge point")
    if entry.branch_point:
        words.append("branch point")
    if entry.stamp == "applied":
        words.append("applied")
    elif entry.stamp == "not-applied":
        words.append("not applied")
    return words


def tooltip(entry: TimelineEntry) -> str:
    """Plain text (not escaped) for a revision's hover title: file, dates and where to get it back."""
    lines = [f"{entry.revision}: {entry.message}" if entry.message else entry.revision]
    lines.append(" · ".join([entry.status, *status_words(entry)]))
    if entry.file_name:
        lines.append(f"file: {entry.file_name}")
    if entry.create_date:
        lines.append(f"Create Date: {entry.create_date}")
    first = entry.first_seen
    if first is not None:
        where = first.ref or first.source
        by = f" by {first.author}" if first.author else ""
        sha = f" {short_sha(first.commit)}" if first.commit else ""
        lines.append(f"first seen: {short_date(first.date)}{sha} ({where}){by}")
    gone = entry.deleted
    if gone is not None:
        by = f" by {gone.author}" if gone.author else ""
        lines.append(f"deleted: {short_date(gone.date)} in {short_sha(gone.commit)}{by}")
    if entry.recoverable_from:
        fidelity = f" ({entry.fidelity})" if entry.fidelity else ""
        lines.append("recoverable from: " + ", ".join(p.label for p in entry.recoverable_from) + fidelity)
    elif entry.status == "lost":
        lines.append("not found anywhere: only its ID is known")
    if entry.stamp:
        lines.append(f"database: {entry.stamp}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- drawing


def chain_svg(timeline: Timeline, *, geometry: ChainLayout | None = None, standalone: bool = False) -> str:
    """The chain as SVG markup, for inlining into HTML (``standalone`` adds the XML namespace).

    ``geometry`` is :func:`layout` of the same timeline, when the caller already has it."""
    geo = geometry if geometry is not None else layout(timeline)
    w, h = geo.width, geo.height
    ns = ' xmlns="http://www.w3.org/2000/svg"' if standalone else ""
    out = [
        f'<svg{ns} class="chain" width="{w:.0f}" height="{h:.0f}" viewBox="0 0 {w:.0f} {h:.0f}" '
        f'font-family="{esc(FONT)}" font-size="{SIZE:.0f}" role="img" aria-labelledby="chain-title">',
        f'<title id="chain-title">{esc(_caption(timeline))}</title>',
        "<defs>",
        f'<clipPath id="chain-clip-message"><rect x="{geo.message_x:.1f}" y="0" '
        f'width="{MESSAGE_WIDTH:.0f}" height="{h:.0f}"/></clipPath>',
        f'<clipPath id="chain-clip-status"><rect x="{geo.status_x:.1f}" y="0" '
        f'width="{STATUS_WIDTH:.0f}" height="{h:.0f}"/></clipPath>',
        "</defs>",
    ]
    out.append(_header(geo))
    out.append('<g class="stripes" fill="#f4f5f7">')
    for i in range(1, len(timeline.entries), 2):
        out.append(f'<rect x="0" y="{HEADER + ROW * i:.1f}" width="{w:.0f}" height="{ROW:.0f}"/>')
    out.append("</g>")
    out.append('<g class="edges" fill="none" stroke-width="1.6" stroke-linecap="round">')
    for route in geo.edges:
        out.append(_edge(route))
    out.append("</g>")
    out.append('<g class="revisions">')
    for entry in timeline.entries:
        out.append(_row(entry, geo.nodes[entry.revision], geo))
    out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


def _caption(timeline: Timeline) -> str:
    n = len(timeline.entries)
    return f"Revision chain of {timeline.name}: {n} revision{'s' if n != 1 else ''}, bases at the top"


def _header(geo: ChainLayout) -> str:
    y = HEADER - 9
    style = 'font-size="10.5" fill="#868e96" letter-spacing="0.06em"'
    return (
        '<g class="columns">'
        f'<text x="{geo.text_x:.1f}" y="{y:.1f}" {style}>REVISION</text>'
        f'<text x="{geo.date_x:.1f}" y="{y:.1f}" {style}>DATE</text>'
        f'<text x="{geo.message_x:.1f}" y="{y:.1f}" {style}>MESSAGE</text>'
        f'<text x="{geo.status_x:.1f}" y="{y:.1f}" {style}>STATUS</text>'
        f'<line x1="0" x2="{geo.width:.0f}" y1="{HEADER - 0.5:.1f}" y2="{HEADER - 0.5:.1f}" stroke="#dee2e6"/>'
        "</g>"
    )


def _edge(route: EdgeRoute) -> str:
    edge = route.edge
    colour = BACK_COLOUR if route.back else EDGE_COLOUR.get(edge.kind, "#868e96")
    dash = DASH.get(edge.kind)
    dashed = f' stroke-dasharray="{dash}"' if dash else ""
    kind = "depends-on" if edge.kind == "depends_on" else "down-revision"
    note = "depends on" if edge.kind == "depends_on" else "revises"
    cycle = " (drawn downwards: part of a cycle)" if route.back else ""
    return (
        f'<path class="edge {kind}{" back" if route.back else ""}" d="{route.path()}" stroke="{colour}"{dashed}>'
        f"<title>{esc(f'{edge.revision} {note} {edge.target}{cycle}')}</title></path>"
    )


def _row(entry: TimelineEntry, node: NodeBox, geo: ChainLayout) -> str:
    href = esc(anchor_href(entry.revision))
    rev = esc(entry.revision)
    title = f"<title>{esc(tooltip(entry))}</title>"
    top = node.y - ROW / 2
    base = node.y + 4.6  # baseline that centres 13px text on the node
    fill, stroke = STATUS_COLOURS.get(entry.status, STATUS_COLOURS["lost"])
    parts = [f'<g class="revision status-{esc(entry.status)}" data-rev="{rev}">']
    # the node
    parts.append(f'<a class="node" href="{href}">{title}')
    if entry.stamp == "stamped":
        ring = node.radius + 3.6
        parts.append(
            f'<circle class="stamp-ring" cx="{node.x:.1f}" cy="{node.y:.1f}" r="{ring:.1f}" '
            f'fill="#ffffff" stroke="{STAMP_RING}" stroke-width="2.6"/>'
        )
    width = 2.4 if entry.status == "lost" else 1.4
    paint = f'fill="{fill}" stroke="{stroke}" stroke-width="{width}"'
    if entry.merge_point:
        d = node.radius * 1.4
        x, y = node.x, node.y
        parts.append(
            f'<path class="merge" d="M{x:.1f},{y - d:.1f} L{x + d:.1f},{y:.1f} L{x:.1f},{y + d:.1f} '
            f'L{x - d:.1f},{y:.1f} Z" {paint}/>'
        )
    else:
        r = node.radius - (0.4 if entry.status == "lost" else 0)
        parts.append(f'<circle cx="{node.x:.1f}" cy="{node.y:.1f}" r="{r:.1f}" {paint}/>')
    parts.append("</a>")
    # the labels
    parts.append(f'<a class="label" href="{href}">{title}')
    parts.append(
        f'<rect class="row-bg" x="{geo.text_x - 6:.1f}" y="{top:.1f}" width="{geo.width - geo.text_x:.1f}" '
        f'height="{ROW:.0f}" fill="#ffffff" fill-opacity="0"/>'
    )
    squeeze = ""
    if len(entry.revision) * ID_CHAR > geo.id_width:
        squeeze = f' textLength="{geo.id_width:.1f}" lengthAdjust="spacingAndGlyphs"'
    parts.append(
        f'<text class="id" x="{geo.text_x:.1f}" y="{base:.1f}" font-family="{esc(MONO)}" '
        f'font-weight="bold" fill="#212529"{squeeze}>{rev}</text>'
    )
    if entry.day:
        parts.append(
            f'<text class="date" x="{geo.date_x:.1f}" y="{base:.1f}" font-size="12" fill="#6c757d">{esc(entry.day)}</text>'
        )
    message = entry.message or ("(only its ID is known)" if entry.status == "lost" else "")
    if message:
        colour = "#868e96" if not entry.message else "#343a40"
        italic = ' font-style="italic"' if not entry.message else ""
        parts.append(
            f'<text class="message" x="{geo.message_x:.1f}" y="{base:.1f}" fill="{colour}"{italic} '
            f'clip-path="url(#chain-clip-message)">{esc(fit(message, MESSAGE_WIDTH, SIZE))}</text>'
        )
    x = geo.status_x
    if entry.stamp == "stamped":
        parts.append(
            f'<rect class="badge" x="{x:.1f}" y="{node.y - 8.5:.1f}" width="60" height="17" rx="3" fill="{STAMP_RING}"/>'
            f'<text class="badge" x="{x + 30:.1f}" y="{node.y + 4:.1f}" text-anchor="middle" font-size="11" '
            f'font-weight="bold" fill="#ffffff">stamped</text>'
        )
        x += 66
    words = status_words(entry)
    extra = f'<tspan fill="#6c757d"> · {esc(" · ".join(words))}</tspan>' if words else ""
    parts.append(
        f'<text class="status" x="{x:.1f}" y="{base - 0.4:.1f}" font-size="12" '
        f'clip-path="url(#chain-clip-status)"><tspan fill="{STATUS_TEXT.get(entry.status, "#495057")}" '
        f'font-weight="bold">{esc(entry.status)}</tspan>{extra}</text>'
    )
    parts.append("</a></g>")
    return "".join(parts)


def fit(text: str, width: float, size: float) -> str:
    """Cut ``text`` with an ellipsis where a sans-serif line of ``width`` px would overflow (the
    clip path catches what the estimate misses; the full text is in the tooltip)."""
    text = " ".join(text.split())
    room = width / size
    used = 0.0
    for i, ch in enumerate(text):
        used += _advance(ch)
        if used > room:
            return text[: max(i - 1, 0)].rstrip() + "…"
    return text


def _advance(ch: str) -> float:
    """Rough advance in em of a glyph of a wide UI sans (DejaVu Sans, Segoe UI)."""
    if ch in "iljI.,:;|!'`":
        return 0.3
    if ch in 'frt()[]{} -/"':
        return 0.4
    if ch in "mwMW@%":
        return 0.92
    if ch in "<>=+~^&#$*_":
        return 0.84
    if ch.isupper():
        return 0.7
    if ch.isdigit():
        return 0.64
    if ord(ch) > 0x2E80:  # CJK and friends are full width
        return 1.0
    return 0.62
