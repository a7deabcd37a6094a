"""When nothing holds a revision: where a stand-in goes in the chain, writing it, proving it.

The database work (reflect, replay, autogenerate, prove) is in ``database/synthesize.py``,
``database/middle.py`` and ``database/proof.py``; this module decides *what* to synthesize from a
scan and a stamp, replays the known chain even before it is restored (recoverable revisions are
laid out in a temp versions directory), and writes a proven file with restore's rules: never over
an existing file, atomically, with a manifest record saying it was synthesized.
"""

from __future__ import annotations

import re
import shlex
import tempfile
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from collections.abc import Iterator, Sequence

from migration_archaeologist import __version__
from migration_archaeologist.database.stand_in.proof import Proof, prove
from migration_archaeologist.database.stamp import Stamp
from migration_archaeologist.database.stand_in.schema import SynthesizedRevision
from migration_archaeologist.database.urls import mask
from migration_archaeologist.errors import EXIT_FINDINGS, ArchaeologistError, RestoreConflict, UsageError
from migration_archaeologist.files.atomic import cannot_write, make_folder
from migration_archaeologist.actions.manifest import append_manifest
from migration_archaeologist.actions.restore import choose_versions_dir, plan_restore, write_new_file
from migration_archaeologist.chain.scan_result import ScanResult
from migration_archaeologist.sources.interface import git_blob_id
from migration_archaeologist.actions.versions_lock import versions_dir_lock
from migration_archaeologist.actions.versions_now import revisions_in

__all__ = [
    "SynthesisPlan",
    "Synthesis",
    "plan_synthesis",
    "synthesize",
    "baseline",
    "apply_synthesis",
    "stamp_command",
    "NotProven",
]


class NotProven(ArchaeologistError):
    """A synthesized file whose proof failed is never written: a finding, exit 1."""

    exit_code = EXIT_FINDINGS


@dataclass(frozen=True)
class SynthesisPlan:
    """Where the lost revision sits: its parents, and the known revisions that name it."""

    revision: str
    down_revisions: tuple[str, ...]
    children: tuple[str, ...]
    position: str  # "head" (nothing known revises it) or "middle"
    message: str
    file_name: str | None  # from the documents that name it (evidence), when they do
    reason: str


@dataclass(frozen=True)
class Synthesis:
    """A synthesized revision, its proof, and where ``--apply`` would write it."""

    plan: SynthesisPlan | None  # None for a baseline
    synthesized: SynthesizedRevision
    proof: Proof
    target: Path
    database: str  # masked

    @property
    def proven(self) -> bool:
        return self.proof.proven

    @property
    def conflict(self) -> str | None:
        if self.target.is_symlink() or self.target.exists():
            return f"{self.target} already exists; it is never overwritten: move it aside or use --versions"
        return None


def plan_synthesis(
    result: ScanResult, revision: str, stamp: Stamp, down_revisions: Sequence[str] = ()
) -> SynthesisPlan:
    """Refuse what is not lost or not needed; find the parents unless given."""
    entries = result.catalog.entries
    if revision in entries:
        raise UsageError(
            f"{revision} is not lost: {entries[revision].reason}; restore it with "
            f"'migration-archaeologist restore {revision} --apply'"
        )
    chain = result.gate_chain
    known = set(chain.order)
    children = tuple(chain.children(revision)) if revision in chain else ()
    stamped = revision in stamp.revisions
    if not children and not stamped:
        raise UsageError(
            f"nothing needs {revision}: the database is stamped {', '.join(stamp.revisions) or 'nothing'} and no known"
            " revision revises it"
        )
    position = "middle" if children else "head"
    message, file_name = _documented_name(result, revision)
    if down_revisions:
        unknown = [d for d in down_revisions if d not in known]
        if unknown:
            raise UsageError(f"--down-revision {', '.join(unknown)}: not a known revision of this chain")
        return SynthesisPlan(
            revision,
            tuple(down_revisions),
            children,
            position,
            message,
            file_name,
            "parents given with --down-revision",
        )
    below = known - _descendants_of(chain, children)
    heads = sorted(rev for rev in below if not any(c in below for c in chain.children(rev)))
    if len(heads) != 1:
        hint = " ".join(f"--down-revision {h}" for h in heads)
        raise UsageError(
            f"cannot tell what {revision} revises: the known chain below it ends in {', '.join(heads) or 'nothing'};"
            f" pass {hint or '--down-revision REV'} (several for a merge)"
        )
    where = f"revised by {', '.join(children)}" if children else "stamped, and nothing known revises it"
    return SynthesisPlan(
        revision,
        (heads[0],),
        children,
        position,
        message,
        file_name,
        f"{revision} is {where}; the known chain below it ends in {heads[0]}",
    )


def _descendants_of(chain, roots: Sequence[str]) -> set[str]:  # type: ignore[no-untyped-def]
    import networkx as nx

    out: set[str] = set()
    for root in roots:
        out |= {root} | nx.ancestors(chain.graph, root)  # edges point child -> parent
    return out


def _documented_name(result: ScanResult, revision: str) -> tuple[str, str | None]:
    """The documents that name a lost revision often give its file name: use it, and its words."""
    for evidence in result.evidence:
        if evidence.revision == revision and evidence.file_name and _SAFE.match(evidence.file_name):
            stem = evidence.file_name[:-3] if evidence.file_name.endswith(".py") else evidence.file_name
            words = stem[len(revision) :] if stem.startswith(revision) else stem
            return (words.strip("_").replace("_", " ") or "synthesized from the database"), f"{stem}.py"
    return "synthesized from the database", None


_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


@contextmanager
def known_chain(result: ScanResult) -> Iterator[list[Path]]:
    """Versions directories holding the whole known chain: the present files, plus every missing but
    recoverable revision laid out in a temp folder, so a lost revision can be synthesized before the
    rest is restored."""
    with tempfile.TemporaryDirectory(prefix="ma-known-") as tmp:
        dirs = [d for d in result.versions_dirs if d.is_dir()]
        if result.missing:
            plan = plan_restore(result, list(result.missing), Path(tmp))
            for planned in plan.to_write:
                planned.target.write_bytes(result.catalog.content(planned.blob))
            dirs.append(Path(tmp))
        yield dirs


def synthesize(
    result: ScanResult,
    plan: SynthesisPlan,
    url: str,
    *,
    stamped: Sequence[str] = (),
    versions_dir: Path | None = None,
    python: str | None = None,
    timeout: float = 600.0,
) -> Synthesis:
    """The stand-in for ``plan.revision``, proven against ``url`` (only ever read), whose version
    table holds ``stamped``."""
    from migration_archaeologist.database.stand_in.middle import synthesize_middle
    from migration_archaeologist.database.stand_in.schema import synthesize_head

    with known_chain(result) as dirs:
        make = synthesize_middle if plan.position == "middle" else synthesize_head
        synthesized = make(
            dirs,
            url,
            revision_id=plan.revision,
            down_revision=plan.down_revisions,
            message=plan.message,
            python=python,
            timeout=timeout,
        )
        # a middle stand-in is proven by the whole chain up to where the database is stamped
        target = None
        if plan.position == "middle":
            target = stamped[0] if len(stamped) == 1 else "heads"
        proof = prove(synthesized, url, versions_dirs=dirs, target=target, python=python, timeout=timeout)
    name = plan.file_name or synthesized.filename
    return Synthesis(plan, synthesized, proof, choose_versions_dir(result, versions_dir) / name, mask(url))


def baseline(
    result: ScanResult,
    url: str,
    *,
    revision_id: str | None = None,
    message: str = "baseline synthesized from the database",
    versions_dir: Path | None = None,
) -> Synthesis:
    """One revision creating the live schema from nothing, proven by replay into an empty database."""
    from migration_archaeologist.database.stand_in.schema import baseline_revision

    rev = revision_id or uuid.uuid4().hex[-12:]  # what `alembic revision` uses
    synthesized = baseline_revision(url, revision_id=rev, message=message)
    proof = prove(synthesized, url)
    return Synthesis(
        None, synthesized, proof, choose_versions_dir(result, versions_dir) / synthesized.filename, mask(url)
    )


def apply_synthesis(synthesis: Synthesis, result: ScanResult) -> Path:
    """Write the file only when proven, never over anything, and record it in the manifest."""
    if not synthesis.proven:
        raise NotProven(f"nothing written: {synthesis.proof.summary}")
    conflict = synthesis.conflict
    if conflict:
        raise RestoreConflict(f"nothing written: {conflict}")
    target = synthesis.target
    revision = synthesis.synthesized.revision
    make_folder(target.parent)
    # The file and its record are written under the versions directory's lock, after looking again
    # at what the directory holds: a restore that got there first may have brought the revision back.
    with versions_dir_lock(target.parent):
        _present, where = revisions_in(result.repository.work_tree or target.parent, [target.parent], {})
        if revision in where:
            raise RestoreConflict(
                f"nothing written: {revision} is in {where[revision][0]} now (restored while this run waited); "
                "it is no longer lost"
            )
        try:
            write_new_file(target, synthesis.synthesized.source)
        except OSError as exc:
            raise cannot_write(target.parent, exc) from None
        try:
            _record(synthesis, result, target)
        except OSError as exc:
            target.unlink(missing_ok=True)  # ours, written a moment ago under the lock: no file without its record
            raise cannot_write(target.parent, exc) from None
    return target


def _record(synthesis: Synthesis, result: ScanResult, target: Path) -> None:
    append_manifest(
        target.parent,
        [
            {
                "revision": synthesis.synthesized.revision,
                "file": target.name,
                "blob": git_blob_id(synthesis.synthesized.source),
                "commit": None,
                "source": "synthesized",
                "ref": None,
                "original_path": None,
                "fidelity": "synthesized",
                "reason": synthesis.proof.summary,
                "database": synthesis.database,
                "notes": list(synthesis.synthesized.notes),
                "restored_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "repository": str(result.repository.display_path),
                "tool": f"migration-archaeologist {__version__}",
            }
        ],
    )


def stamp_command(revision: str) -> str:
    """What to run after adopting a baseline: --purge, because the old stamps name files that are gone."""
    return f"alembic stamp --purge {shlex.quote(revision)}"
