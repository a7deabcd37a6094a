"""The timeline and the chain as JSON documents (``timeline --format json``, ``graph --format json``):
versioned schemas, render only."""

from __future__ import annotations

from typing import Any

from migration_archaeologist.report.json_report import evidence_json


TIMELINE_SCHEMA = "migration-archaeologist/timeline/1"
GRAPH_SCHEMA = "migration-archaeologist/graph/1"


def timeline_document(timeline) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The same data as the Markdown timeline: entries in chain order, phases naming them by day."""
    return {
        "schema": TIMELINE_SCHEMA,
        **_chain_header(timeline),
        "revisions": [_timeline_entry(e) for e in timeline.entries],
        "phases": [
            {"date": phase.day, "title": phase.title, "revisions": [e.revision for e in phase.entries]}
            for phase in timeline.phases()
        ],
        "problems": [p.to_json() for p in timeline.problems],
        "evidence": [evidence_json(e) for e in timeline.evidence],
    }


def graph_document(timeline) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Nodes and edges only, for tools that draw or query the chain."""
    return {
        "schema": GRAPH_SCHEMA,
        **_chain_header(timeline),
        "nodes": [
            {
                "revision": e.revision,
                "message": e.message,
                "status": e.status,
                "stamp": e.stamp,
                "branch_labels": list(e.branch_labels),
                "head": e.head,
                "base": e.base,
                "merge_point": e.merge_point,
                "branch_point": e.branch_point,
            }
            for e in timeline.entries
        ],
        "edges": [{"revision": edge.revision, "needs": edge.target, "kind": edge.kind} for edge in timeline.edges],
        "problems": [p.to_json() for p in timeline.problems],
    }


def _chain_header(timeline) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {
        "repository": timeline.repository,
        "head": timeline.head,
        "versions_dirs": list(timeline.versions_dirs),
        "database": None
        if timeline.database is None
        else {"url": timeline.database, "stamped": list(timeline.stamped)},
        "counts": timeline.counts(),
        "heads": list(timeline.heads),
    }


def _timeline_entry(e) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    def event(ev) -> dict[str, Any] | None:  # type: ignore[no-untyped-def]
        if ev is None:
            return None
        return {
            "commit": ev.commit,
            "date": ev.date,
            "author": ev.author,
            "source": ev.source,
            "ref": ev.ref,
            "path": ev.path,
        }

    return {
        "revision": e.revision,
        "file": e.file_name,
        "message": e.message,
        "create_date": e.create_date,
        "date": e.day,
        "down_revisions": list(e.down_revisions),
        "depends_on": list(e.depends_on),
        "branch_labels": list(e.branch_labels),
        "status": e.status,
        "needed": e.needed,
        "fidelity": e.fidelity,
        "versions": e.versions,
        "first_seen": event(e.first_seen),
        "deleted": event(e.deleted),
        "recoverable_from": [
            {"source": p.source, "label": p.label, "commit": p.commit, "path": p.path} for p in e.recoverable_from
        ],
        "operations": list(e.operations),
        "stamp": e.stamp,
        "head": e.head,
        "base": e.base,
        "merge_point": e.merge_point,
        "branch_point": e.branch_point,
        "children": list(e.children),
        "restored_from": e.restored_from,
        "restored_at": e.restored_at,
        "next_step": e.next_step,
    }
