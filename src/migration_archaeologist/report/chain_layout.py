"""Where the drawn chain's revisions and edges go: one revision per row, edges in lanes like
``git log --graph``; pure geometry, no markup (``report.svg`` draws it).

Lanes hold edges, not nodes. Walking the rows top (bases) to bottom, a revision sits in the
leftmost lane of the edges converging into it (a free lane if none do); its first child's edge
continues that lane and further children's edges take free lanes. An edge runs straight down its
lane and bends only in the half row next to each end, so with exactly one node per row no edge can
cross a node. Edges that point downwards (a cycle put a revision above what it needs) run in
gutter lanes right of the others. :func:`layout` returns the geometry.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Mapping

from migration_archaeologist.chain.timeline import Edge, Timeline

ROW = 28.0  # row height: readable at 50 rows, still scrollable at 500
HEADER = 28.0  # column titles above the first row
PAD = 12.0
PITCH = 16.0  # lane spacing until the lanes would need more than MAX_LANES_WIDTH
MAX_LANES_WIDTH = 320.0  # so the picture's width never grows without bound
RADIUS = 6.0
MAX_GUTTERS = 4
ID_CHAR = 7.83  # advance of a 13px monospace glyph (DejaVu Sans Mono, Menlo: 0.602 em)
DATE_WIDTH = 84.0
MESSAGE_WIDTH = 400.0
STATUS_WIDTH = 270.0


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
