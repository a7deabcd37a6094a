"""The chain in Graphviz DOT: ``migration-archaeologist graph --format dot | dot -Tsvg > chain.svg``."""

from __future__ import annotations

from migration_archaeologist.chain.timeline import Timeline

FILL = {
    "present": ("#dcfae6", "#067647"),
    "recoverable": ("#fef0c7", "#b54708"),
    "retired": ("#f2f4f7", "#667085"),
    "lost": ("#fee4e2", "#b42318"),
}


def render_dot(timeline: Timeline) -> str:
    lines = [
        "digraph alembic {",
        f"  label={_q(timeline.name + ' revision chain')};",
        "  labelloc=t;",
        "  rankdir=TB;",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];',
        '  edge [color="#475467"];',
    ]
    for e in timeline.entries:
        fill, line = FILL[e.status]
        label = (
            e.revision
            + (f"\n{' '.join(e.message.split())}" if e.message else "")
            + ("\n(lost)" if e.status == "lost" else "")
        )
        attrs = [f"label={_q(label)}", f'fillcolor="{fill}"', f'color="{line}"']
        if e.status == "lost":
            attrs.append('style="rounded,filled,dashed"')
        if e.merge_point:
            attrs.append("shape=hexagon")
        if e.stamp == "stamped":
            attrs += ["penwidth=3", 'xlabel="stamped"']
        lines.append(f"  {_q(e.revision)} [{', '.join(attrs)}];")
    for edge in timeline.edges:
        style = "" if edge.kind == "down_revision" else ' [style=dashed, label="depends_on"]'
        lines.append(f"  {_q(edge.target)} -> {_q(edge.revision)}{style};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _q(value: str) -> str:
    """A DOT quoted string: backslash and quote escaped, newlines as DOT's centred line break."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "\\n")
    return f'"{escaped}"'
