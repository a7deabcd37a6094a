"""The chain drawn as an inline SVG: one revision per row, edges in lanes like ``git log --graph``.

Lanes hold edges, not nodes. Walking the rows top (bases) to bottom, a revision sits in the
leftmost lane of the edges converging into it (a free lane if none do); its first child's edge
continues that lane and further children's edges take free lanes. An edge runs straight down its
lane and bends only in the half row next to each end, so with exactly one node per row no edge can
cross a node. Edges that point downwards (a cycle put a revision above what it needs) run in
gutter lanes right of the others. :func:`layout` returns the geometry, :func:`chain_svg` draws it.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Mapping

from migration_archaeologist.report.markup import anchor_href, esc, short_date, short_sha
from migration_archaeologist.chain.timeline import Edge, Timeline, TimelineEntry

ROW = 28.0  # row height: readable at 50 rows, still scrollable at 500
HEADER = 28.0  # column titles above the first row
PAD = 12.0
PITCH = 16.0  # lane spacing until the lanes would need more than MAX_LANES_WIDTH
MAX_LANES_WIDTH = 320.0  # so the picture's width never grows without bound
RADIUS = 6.0
MAX_GUTTERS = 4
SIZE = 13.0  # font size of the labels
ID_CHAR = 7.83  # advance of a 13px monospace glyph (DejaVu Sans Mono, Menlo: 0.602 em)
DATE_WIDTH = 84.0
MESSAGE_WIDTH = 400.0
STATUS_WIDTH = 270.0
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

Point = tuple[float, float]


@dataclass(frozen=True)
class NodeBox:
    revision: str
    row: int
    lane: int
    x: float
    y: float
    radius: float


@dataclass(frozen=True)
class EdgeRoute:
    """One edge's path: waypoints, where two points with different x are joined by a bend (a curve
    with vertical ends) and two with the same x by a straight vertical line."""

    edge: Edge
    lane: int
    back: bool  # drawn from the revision down to its target: part of a cycle
    points: tuple[Point, ...]
    loop: bool = False  # the revision needs itself

    def path(self) -> str:
        (x0, y0), rest = self.points[0], self.points[1:]
        if self.loop:
            (x1, y1), (x2, y2) = rest[0], rest[1]
            return f"M{x0:.1f},{y0:.1f} C{x1:.1f},{y1:.1f} {x2:.1f},{y2:.1f} {x0:.1f},{y0:.1f}"
        parts = [f"M{x0:.1f},{y0:.1f}"]
        for x1, y1 in rest:
            if x1 == x0:
                parts.append(f"L{x1:.1f},{y1:.1f}")
            else:
                mid = (y0 + y1) / 2
                parts.append(f"C{x0:.1f},{mid:.1f} {x1:.1f},{mid:.1f} {x1:.1f},{y1:.1f}")
            x0, y0 = x1, y1
        return " ".join(parts)

    def polyline(self, steps: int = 16) -> list[Point]:
        """The path as straight pieces (bends sampled), for checking what it passes near."""
        start = self.points[0]
        if self.loop:
            return [_cubic(start, self.points[1], self.points[2], start, i / steps) for i in range(steps + 1)]
        out = [start]
        for end in self.points[1:]:
            x0, y0 = out[-1]
            if end[0] == x0:
                out.append(end)
                continue
            mid = (y0 + end[1]) / 2
            out.extend(_cubic((x0, y0), (x0, mid), (end[0], mid), end, i / steps) for i in range(1, steps + 1))
        return out


@dataclass(frozen=True)
class ChainLayout:
    nodes: Mapping[str, NodeBox]  # chain order
    edges: tuple[EdgeRoute, ...]
    lanes: int  # lanes in use, gutters included
    pitch: float
    width: float
    height: float
    text_x: float  # revision ID column
    date_x: float
    message_x: float
    status_x: float
    id_width: float  # room for the ID column; longer IDs are squeezed to fit


def lane_x(lane: int, pitch: float) -> float:
    return PAD + pitch / 2 + lane * pitch


def row_y(row: int) -> float:
    return HEADER + ROW * row + ROW / 2


def layout(timeline: Timeline) -> ChainLayout:
    """Where every node and edge goes; pure geometry, no markup."""
    entries = timeline.entries
    row = {e.revision: i for i, e in enumerate(entries)}
    forward: list[Edge] = []
    back: list[Edge] = []
    for edge in timeline.edges:
        if edge.revision in row and edge.target in row:
            (forward if row[edge.target] < row[edge.revision] else back).append(edge)
    outgoing: dict[str, list[int]] = {}  # indexes into `forward`
    for i, edge in enumerate(forward):
        outgoing.setdefault(edge.target, []).append(i)
    for outs in outgoing.values():  # the first child by down_revision carries the parent's lane on
        outs.sort(key=lambda i: (forward[i].kind != "down_revision", row[forward[i].revision], forward[i].revision))

    open_lanes: list[int | None] = []  # per lane, the edge (index into `forward`) passing through it
    node_lane: dict[str, int] = {}
    edge_lane: dict[int, int] = {}
    for entry in entries:
        rev = entry.revision
        converging = [lane for lane, e in enumerate(open_lanes) if e is not None and forward[e].revision == rev]
        lane = converging[0] if converging else _free(open_lanes)
        for each in converging:
            open_lanes[each] = None
        node_lane[rev] = lane
        for k, i in enumerate(outgoing.get(rev, ())):
            take = lane if k == 0 else _free(open_lanes)
            _hold(open_lanes, take, i)
            edge_lane[i] = take
        while open_lanes and open_lanes[-1] is None:
            open_lanes.pop()

    used = max([*node_lane.values(), *edge_lane.values(), 0]) + 1
    gutters = min(len(back), MAX_GUTTERS)
    lanes = used + gutters
    pitch = PITCH if lanes * PITCH <= MAX_LANES_WIDTH else MAX_LANES_WIDTH / lanes
    radius = min(RADIUS, pitch * 0.4)
    half = ROW / 2

    nodes = {
        e.revision: NodeBox(
            e.revision, i, node_lane[e.revision], lane_x(node_lane[e.revision], pitch), row_y(i), radius
        )
        for i, e in enumerate(entries)
    }
    routes: list[EdgeRoute] = []
    for i, edge in enumerate(forward):
        top, bottom = nodes[edge.target], nodes[edge.revision]
        x = lane_x(edge_lane[i], pitch)
        routes.append(EdgeRoute(edge, edge_lane[i], False, _route(top, x, bottom, half)))
    for i, edge in enumerate(back):
        top, bottom = nodes[edge.revision], nodes[edge.target]
        gutter = used + i % MAX_GUTTERS
        x = lane_x(gutter, pitch)
        if top is bottom:
            reach = top.x + 1.6 * pitch
            loop = ((top.x, top.y), (reach, top.y - half * 0.9), (reach, top.y + half * 0.9))
            routes.append(EdgeRoute(edge, gutter, True, loop, loop=True))
        else:
            routes.append(EdgeRoute(edge, gutter, True, _route(top, x, bottom, half)))

    longest = max((len(e.revision) for e in entries), default=0)
    id_width = min(max(longest, 10), 34) * ID_CHAR
    text_x = PAD + lanes * pitch + 12
    date_x = text_x + id_width + 16
    message_x = date_x + DATE_WIDTH
    status_x = message_x + MESSAGE_WIDTH + 16
    return ChainLayout(
        nodes=nodes,
        edges=tuple(routes),
        lanes=lanes,
        pitch=pitch,
        width=status_x + STATUS_WIDTH + PAD,
        height=HEADER + ROW * len(entries) + PAD / 2,
        text_x=text_x,
        date_x=date_x,
        message_x=message_x,
        status_x=status_x,
        id_width=id_width,
    )


def _free(lanes: list[int | None]) -> int:
    for i, held in enumerate(lanes):
        if held is None:
            return i
    return len(lanes)


def _hold(lanes: list[int | None], lane: int, edge: int) -> None:
    while len(lanes) <= lane:
        lanes.append(None)
    lanes[lane] = edge


def _route(top: NodeBox, x: float, bottom: NodeBox, half: float) -> tuple[Point, ...]:
    """Bend from the upper node into lane ``x`` within the half row below it, run down, bend into
    the lower node within the half row above it."""
    points = [(top.x, top.y)]
    if x != top.x:
        points.append((x, top.y + half))
    if x != bottom.x:
        points.append((x, bottom.y - half))
    points.append((bottom.x, bottom.y))
    deduped = [points[0]]
    for p in points[1:]:
        if p != deduped[-1]:
            deduped.append(p)
    return tuple(deduped)


def _cubic(p0: Point, p1: Point, p2: Point, p3: Point, t: float) -> Point:
    u = 1 - t
    return (
        u**3 * p0[0] + 3 * u * u * t * p1[0] + 3 * u * t * t * p2[0] + t**3 * p3[0],
        u**3 * p0[1] + 3 * u * u * t * p1[1] + 3 * u * t * t * p2[1] + t**3 * p3[1],
    )


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
