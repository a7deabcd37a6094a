"""The chain as a Mermaid flowchart, to paste into Markdown that GitHub or GitLab renders.

Bases at the top, each revision below what it revises: the order ``alembic history`` reads
bottom-up. Node ids are generated (n0, n1…) because revision IDs may hold characters Mermaid
gives meaning to; the IDs themselves are the labels.
"""

from __future__ import annotations

from migration_archaeologist.chain.timeline import Timeline

CLASSES = {
    "present": "fill:#dcfae6,stroke:#067647,color:#053321",
    "recoverable": "fill:#fef0c7,stroke:#b54708,color:#4e1d09",
    "retired": "fill:#f2f4f7,stroke:#667085,color:#344054",
    "lost": "fill:#fee4e2,stroke:#b42318,color:#55160c,stroke-dasharray:5 3",
    "stamped": "stroke-width:4px",
}


def render_mermaid(timeline: Timeline) -> str:
    ids = {e.revision: f"n{i}" for i, e in enumerate(timeline.entries)}
    lines = ["flowchart TB"]
    for e in timeline.entries:
        label = _text(e.revision) + (f"<br/>{_text(e.message)}" if e.message else "")
        if e.status == "lost":
            label += "<br/><i>lost</i>"
        shape = ('{{"', '"}}') if e.merge_point else ('["', '"]')
        lines.append(f"  {ids[e.revision]}{shape[0]}{label}{shape[1]}")
    for edge in timeline.edges:
        if edge.revision not in ids or edge.target not in ids:
            continue
        arrow = "-->" if edge.kind == "down_revision" else "-. depends_on .->"
        lines.append(f"  {ids[edge.target]} {arrow} {ids[edge.revision]}")
    for status in ("present", "recoverable", "retired", "lost"):
        members = [ids[e.revision] for e in timeline.entries if e.status == status]
        if members:
            lines.append(f"  class {','.join(members)} {status}")
    stamped = [ids[e.revision] for e in timeline.entries if e.stamp == "stamped"]
    if stamped:
        lines.append(f"  class {','.join(stamped)} stamped")
    for name, style in CLASSES.items():
        lines.append(f"  classDef {name} {style}")
    return "\n".join(lines) + "\n"


def _text(value: str) -> str:
    """Mermaid's entity codes: quotes and angle brackets in a message must not end the label."""
    out = " ".join(value.split())
    for ch, code in (("&", "#amp;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;")):
        out = out.replace(ch, code)
    return out
