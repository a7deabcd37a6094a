"""The machine-readable documents: ``migration-archaeologist/scan/1`` and friends. Render only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from migration_archaeologist.chain.check import Verdict
    from migration_archaeologist.chain.scan_result import ScanResult

SCAN_SCHEMA = "migration-archaeologist/scan/1"
CHECK_SCHEMA = "migration-archaeologist/check/1"
RESTORE_SCHEMA = "migration-archaeologist/restore/1"
VERIFY_SCHEMA = "migration-archaeologist/verify/1"


def scan_document(result: ScanResult) -> dict[str, Any]:
    catalog = result.catalog
    order = list(result.chain.order) + sorted(set(catalog.entries) - set(result.chain.order))
    revisions = []
    lost, retired = set(result.missing), result.retired
    for rev in order:
        entry = catalog.entries[rev]
        parsed = entry.parsed
        revisions.append(
            {
                "revision": rev,
                "down_revisions": list(parsed.down_revisions),
                "branch_labels": list(parsed.branch_labels),
                "depends_on": list(parsed.depends_on),
                "message": parsed.message,
                "create_date": parsed.create_date,
                "present": entry.present,
                "status": "present" if entry.present else "missing" if rev in lost else "retired",
                "retired": retired[rev].to_json() if rev in retired else None,
                "notes": list(parsed.notes),
                "chosen": entry.chosen.blob,
                "reason": entry.reason,
                "candidates": [
                    {
                        "blob": c.blob,
                        "size": c.size,
                        "fidelity": c.fidelity,
                        "sightings": [s.to_json() for s in c.sightings],
                    }
                    for c in entry.candidates
                ],
            }
        )
    return {
        "schema": SCAN_SCHEMA,
        "repository": str(result.repository.display_path),
        "head": result.repository.head,
        "versions_dirs": [result.relative(d) for d in result.versions_dirs],
        "revisions": revisions,
        "problems": [p.to_json() for p in result.findings],
        "heads": list(result.gate_chain.heads),  # check's heads: history's others are in "problems"
        "missing": list(result.missing),
        "unreadable": [
            {"blob": u.blob, "path": u.path, "commit": u.commit, "reason": u.reason} for u in result.unreadable
        ],
        "warnings": list(result.warnings),
        "cache": result.cache,
        "evidence": [evidence_json(e) for e in result.evidence],
        "archive_issues": [
            {"archive": i.archive, "member": i.member, "reason": i.reason} for i in result.archive_issues
        ],
    }


def evidence_json(e) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {
        "revision": e.revision,
        "file": e.file_name,
        "purpose": e.purpose,
        "status": e.status,
        "mentions": [
            {
                "path": m.path,
                "line": m.line,
                "commit": m.commit,
                "text": m.text,
                "claims": [{"kind": c.kind, "value": c.value} for c in m.claims],
            }
            for m in e.mentions
        ],
        "checks": [
            {"kind": c.claim.kind, "value": c.claim.value, "verdict": c.verdict, "detail": c.detail} for c in e.checks
        ],
    }


def check_document(result: ScanResult, verdict: Verdict | None = None) -> dict[str, Any]:
    """``ok`` is the gate's verdict: findings of an ignored kind are listed but do not make it false."""
    return {
        "schema": CHECK_SCHEMA,
        "repository": str(result.repository.display_path),
        "ok": verdict.passed if verdict is not None else not (result.gate_chain.problems or result.missing),
        "heads": list(result.gate_chain.heads),
        "missing": list(result.missing),
        "problems": [p.to_json() for p in result.gate_chain.problems],
        "ignore": list(verdict.ignore) if verdict is not None else [],
        "warnings": list(result.warnings),
    }


def check_environments_document(
    judged: list[tuple[str, ScanResult, Verdict]], ignore: tuple[str, ...]
) -> dict[str, Any]:
    """``check`` of several environments: each one's document under ``environments``, and the same
    fields over all of them (``ok`` only when every one passed; each problem names its environment)."""
    docs = [{"environment": label, **check_document(result, verdict)} for label, result, verdict in judged]
    return {
        "schema": CHECK_SCHEMA,
        "repository": docs[0]["repository"],
        "ok": all(d["ok"] for d in docs),
        "heads": [h for d in docs for h in d["heads"]],
        "missing": [m for d in docs for m in d["missing"]],
        "problems": [{**p, "environment": d["environment"]} for d in docs for p in d["problems"]],
        "ignore": list(ignore),
        "warnings": [w for d in docs for w in d["warnings"]],
        "environments": docs,
    }


def restore_document(plan, outcome=None) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    files = []
    for f in plan.files:
        s = f.sighting
        files.append(
            {
                "revision": f.revision,
                "file": str(f.target),
                "blob": f.blob,
                "action": f.action,
                "note": f.note,
                "fidelity": f.fidelity,
                "source": s.to_json() if s else None,
            }
        )
    doc: dict[str, Any] = {
        "schema": RESTORE_SCHEMA,
        "versions_dir": str(plan.versions_dir),
        "applied": outcome is not None,
        "requested": list(plan.requested),
        "already_present": list(plan.already_present),
        "unrecoverable": list(plan.unrecoverable),
        "files": files,
    }
    if outcome is not None:
        view = outcome.alembic
        doc["written"] = [str(p) for p in outcome.written]
        doc["manifest"] = str(outcome.manifest) if outcome.manifest else None
        doc["heads"] = list(outcome.our_heads)
        doc["alembic"] = (
            None
            if view is None
            else {
                "heads": list(view.heads),
                "conclusive": view.conclusive,
                "agrees": outcome.heads_agree,
                "stand_ins": list(view.stand_ins),
                "warnings": list(view.warnings),
                "error": view.error,
            }
        )
    return doc


def verify_document(result: ScanResult, verification) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    v = verification
    trip = v.roundtrip
    return {
        "schema": VERIFY_SCHEMA,
        "repository": str(result.repository.display_path),
        "database": v.database,
        "verdict": v.verdict,
        "version_table": v.stamp.version_table,
        "stamped": list(v.stamp.revisions),
        "resolutions": [
            {"revision": r.revision, "status": r.status, "heal": r.heal, "message": r.message} for r in v.resolutions
        ],
        "scratch": v.scratch,
        "scratch_kept": v.scratch_kept,
        "steps": [
            {"command": s.command, "target": s.target, "applied": list(s.applied), "seconds": round(s.seconds, 3)}
            for s in v.steps
        ],
        "error": v.error,
        "differences": [_difference(d) for d in v.differences],
        "roundtrip": None
        if trip is None
        else {
            "ok": trip.ok,
            "left_after_downgrade": list(trip.left_after_downgrade),
            "consistent": trip.consistent,
            "differences": [_difference(d) for d in trip.differences],
        },
        "models": _models(v.models),
        "three_way": [
            {"check": line.check, "status": line.status, "found": line.found, "todo": line.todo} for line in v.three_way
        ],
    }


def _models(m) -> dict[str, Any] | None:  # type: ignore[no-untyped-def]
    if m is None:
        return None
    return {
        "models": m.models or None,
        "origin": m.origin or None,
        "compared": m.compared,
        "note": m.note,
        "tables": m.tables,
        "skipped": list(m.skipped),
        "differences": [_difference(d) for d in m.differences],
    }


OFFLINE_SQL_SCHEMA = "migration-archaeologist/offline-sql/1"


def offline_sql_document(result: ScanResult, database: str, dialect: str, target: str, sql: str) -> dict[str, Any]:
    """``verify --offline --json``: the SQL Alembic's offline mode renders, and for what."""
    return {
        "schema": OFFLINE_SQL_SCHEMA,
        "repository": str(result.repository.display_path),
        "database": database,
        "dialect": dialect,
        "target": target,
        "sql": sql,
    }


def _difference(d) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {
        "kind": d.kind,
        "table": d.table,
        "column": d.column,
        "name": d.name,
        "expected": d.expected,
        "actual": d.actual,
        "message": d.message,
        "against": d.against,
    }


SYNTHESIS_SCHEMA = "migration-archaeologist/synthesize/1"


def synthesis_document(synthesis, written=None) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """``synthesize --json`` and ``baseline --json``: the file, its proof, and whether it was written."""
    proof = synthesis.proof
    plan = synthesis.plan
    return {
        "schema": SYNTHESIS_SCHEMA,
        "database": synthesis.database,
        "revision": synthesis.synthesized.revision,
        "down_revisions": list(synthesis.synthesized.down_revisions),
        "position": plan.position if plan is not None else "baseline",
        "children": list(plan.children) if plan is not None else [],
        "reason": plan.reason if plan is not None else "creates the live schema from nothing",
        "fidelity": synthesis.synthesized.fidelity,
        "proven": synthesis.proven,
        "proof": {
            "summary": proof.summary,
            "scratch": proof.scratch,
            "error": proof.error,
            "differences": [_difference(d) for d in proof.differences],
            "downgrade_differences": [_difference(d) for d in proof.downgrade_differences or ()],
            "left_after_downgrade": list(proof.left_after_downgrade or ()),
        },
        "notes": list(synthesis.synthesized.notes),
        "target": str(synthesis.target),
        "written": str(written) if written is not None else None,
        "source": synthesis.synthesized.source.decode("utf-8"),
        "present": None,
    }


def present_synthesis_document(revision: str, path: str, message: str) -> dict[str, Any]:
    """``synthesize --json`` of a revision in the versions directory: nothing synthesized, where it is."""
    return {
        "schema": SYNTHESIS_SCHEMA,
        "revision": revision,
        "present": path,
        "proven": None,
        "written": None,
        "message": message,
    }


RECOVER_SCHEMA = "migration-archaeologist/recover/1"


def recover_document(result: ScanResult, plan, outcome=None) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """``recover --json``: the plan, and with --apply what was written, what Alembic said and the verdict."""
    from migration_archaeologist.actions.recover import verdict

    env = plan.environment
    doc: dict[str, Any] = {
        "schema": RECOVER_SCHEMA,
        "repository": str(result.repository.display_path),
        "versions_dir": str(plan.versions_dir),
        "applied": outcome is not None,
        "environment": {
            "config_file": str(env.config_file) if env.config_file else None,
            "section": env.section,
            "script_location": str(env.script_location) if env.script_location else None,
            "kind": env.kind,
            "notes": list(env.notes),
            "errors": list(env.errors),
        },
        "stamped": list(plan.stamp.revisions) if plan.stamp is not None else None,
        "actions": [
            {
                "kind": a.kind,
                "subject": a.subject,
                "file": str(a.target) if a.target else None,
                "source": a.source,
                "fidelity": a.fidelity,
                "action": a.action,
                "note": a.note,
            }
            for a in plan.actions
        ],
        "complete": not plan.blocked,
    }
    if outcome is not None:
        run = outcome.alembic
        doc["written"] = [str(p) for p in outcome.written]
        doc["synthesized"] = [str(p) for p in outcome.synthesized]
        doc["alembic"] = (
            None
            if run is None
            else {
                "heads": list(run.view.heads),
                "current": None if run.current is None else list(run.current),
                "history": list(run.history),
                "env_py": run.env_py,
                "template": run.template,
                "stand_ins": list(run.view.stand_ins),
                "warnings": list(run.view.warnings),
                "error": run.view.error,
            }
        )
        v = outcome.verification
        doc["verification"] = None if v is None else verify_document(result, v)
        doc["failures"] = list(outcome.failures)
        doc["works"] = outcome.works
        doc["verdict"] = verdict(outcome)
    return doc
