"""The three-way verdict: chain = database, models = database, chain head = stamp.

Each is one line a person can act on: what was found, and when it fails, what to do (``restore``
or ``synthesize`` for a stamp nothing present holds, ``alembic upgrade`` for a database behind its
chain, ``alembic revision --autogenerate`` for models ahead of the database).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["VerdictLine", "three_way"]

CHAIN_LINE, MODELS_LINE, HEAD_LINE = "chain = database", "models = database", "chain head = stamp"


class VerificationLike(Protocol):
    """What the verdict reads of ``verify.Verification`` (a Protocol: verify imports this module)."""

    @property
    def resolutions(self) -> Sequence[Any]: ...
    @property
    def error(self) -> str | None: ...
    @property
    def differences(self) -> Sequence[Any]: ...
    @property
    def models(self) -> Any: ...
    @property
    def stamp(self) -> Any: ...


@dataclass(frozen=True)
class VerdictLine:
    check: str  # one of the three
    status: str  # "ok", "failed", or "not checked"
    found: str
    todo: str | None = None  # what to do, when it failed

    @property
    def failed(self) -> bool:
        return self.status == "failed"


def three_way(v: VerificationLike, heads: Sequence[str]) -> tuple[VerdictLine, ...]:
    return (_chain(v), _models(v), _head(v, heads))


def _chain(v: VerificationLike) -> VerdictLine:
    if any(r.status != "present" for r in v.resolutions):
        return VerdictLine(CHAIN_LINE, "not checked", "the stamp does not resolve, so there is nothing to replay to")
    if v.error:
        return VerdictLine(
            CHAIN_LINE,
            "failed",
            f"the chain does not replay: {v.error}",
            "mend the revision it names, then verify again",
        )
    drift = v.differences
    if not drift:
        return VerdictLine(CHAIN_LINE, "ok", "the chain replayed into a scratch database builds the live schema")
    found = f"{len(drift)} difference(s) between the replayed chain and the live database"
    m = v.models
    if m is not None and m.in_sync:
        todo = (
            "the models describe the database and the chain lacks a step: upgrade a scratch copy to the head"
            " (alembic upgrade head) and run 'alembic revision --autogenerate' against it, not against this database"
        )
    else:
        todo = (
            "the database was changed outside the chain: write a revision for the differences above, or if the"
            " revision that made them is lost, 'migration-archaeologist synthesize REV' writes it from the database"
        )
    return VerdictLine(CHAIN_LINE, "failed", found, todo)


def _models(v: VerificationLike) -> VerdictLine:
    m = v.models
    if m is None:
        return VerdictLine(MODELS_LINE, "not checked", "no models compared (--no-models; else --models MODULE:ATTR)")
    if not m.compared:
        return VerdictLine(MODELS_LINE, "not checked", m.note or "the models were not compared")
    if m.in_sync:
        return VerdictLine(MODELS_LINE, "ok", f"the models ({m.models}, {m.tables} tables) describe the live schema")
    kinds = [d.kind for d in m.differences]
    only_models = sum(k.endswith("-missing") for k in kinds)
    only_db = sum(k.endswith("-extra") for k in kinds)
    changed = len(kinds) - only_models - only_db
    found = f"{len(kinds)} difference(s) between the models ({m.models}) and the live database"
    todo = []
    if only_models:
        todo.append(
            f"{only_models} only in the models: 'alembic revision --autogenerate -m \"...\"' writes them as a revision"
            " (review it), then 'alembic upgrade head'"
        )
    if only_db:
        todo.append(
            f"{only_db} only in the database: add them to the models, or the next 'alembic revision --autogenerate'"
            " drops them"
        )
    if changed:
        todo.append(
            f"{changed} different on each side: make the models say what the database has, or let"
            " 'alembic revision --autogenerate' write the change to the database"
        )
    return VerdictLine(MODELS_LINE, "failed", found, "; ".join(todo))


def _head(v: VerificationLike, heads: Sequence[str]) -> VerdictLine:
    unresolved = [r for r in v.resolutions if r.status != "present"]
    if unresolved:
        fixes = "; ".join(f"{r.revision}: {r.heal}" for r in unresolved if r.heal) or "no source holds it"
        ids = ", ".join(r.revision for r in unresolved)
        return VerdictLine(
            HEAD_LINE, "failed", f"the database is stamped {ids}, which is not in the versions directory", fixes
        )
    stamped = sorted(set(v.stamp.revisions))
    shown = ", ".join(stamped) or "nothing (base)"
    if stamped == sorted(heads):
        return VerdictLine(HEAD_LINE, "ok", f"the database is stamped {shown}, the chain's head")
    target = "head" if len(heads) == 1 else "heads"
    return VerdictLine(
        HEAD_LINE,
        "failed",
        f"the database is stamped {shown}; the chain's head is {', '.join(heads) or 'nothing'}",
        f"'alembic upgrade {target}' applies the rest (the verify above replayed only to the stamp)",
    )
