"""Prove a recovery against the database, the ground truth: every stamp resolves, and the chain
replayed into a scratch database gives the live schema.

The live database is only ever read (read-only transaction / ``mode=ro``); revision code runs
only in a child process against a scratch database that is created here and always dropped.
"""

from __future__ import annotations

import shlex
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from collections.abc import Sequence

from migration_archaeologist.database.differences import Difference
from migration_archaeologist.database.drift import schema_drift
from migration_archaeologist.database.replay import (
    ReplayFailed,
    StepResult,
    render_offline_sql,
    run_alembic,
)
from migration_archaeologist.database.scratch import Scratch, scratch_database
from migration_archaeologist.database.stamp import Stamp, read_stamp, stamp_timeout
from migration_archaeologist.database import urls
from migration_archaeologist.database.urls import mask
from migration_archaeologist.errors import EXIT_FINDINGS, ArchaeologistError, UsageError
from migration_archaeologist.chain.check import held_only_by_archives, restore_command
from migration_archaeologist.chain.problems import Problem
from migration_archaeologist.chain.scan_result import ScanResult
from migration_archaeologist.actions.models_drift import ModelsComparison, compare_models, project_paths
from migration_archaeologist.actions.three_way import VerdictLine, three_way
from migration_archaeologist.project.target_metadata import ModelsSpec, NoModels

VERDICTS = (
    "verified", "drift", "unresolved-stamp", "replay-failed", "roundtrip-failed", "models-drift", "behind-head",
)  # fmt: skip


class BrokenStamp(ArchaeologistError):
    """The version table holds a stamp Alembic cannot work from (a revision in several rows, or a
    revision together with its own ancestor): a finding, exit 1, before anything is replayed."""

    exit_code = EXIT_FINDINGS


@dataclass(frozen=True)
class StampResolution:
    """What one stamped revision ID is to us."""

    revision: str
    status: str  # "present" (in a versions directory), "recoverable" (a source holds it), "lost"
    heal: str | None  # the command that brings it back: restore (recoverable) or synthesize (lost)
    message: str


@dataclass(frozen=True)
class RoundTrip:
    """upgrade -> downgrade to base -> upgrade, compared at each step (pytest-alembic's up/down check)."""

    left_after_downgrade: tuple[str, ...]  # tables the downgrade to base did not remove
    consistent: bool  # the second upgrade gives the same schema as the first
    differences: tuple[Difference, ...]  # second upgrade vs live, when it differs from the first

    @property
    def ok(self) -> bool:
        return not self.left_after_downgrade and self.consistent


@dataclass(frozen=True)
class Verification:
    database: str  # masked
    stamp: Stamp
    resolutions: tuple[StampResolution, ...]
    scratch: str | None  # masked scratch URL, when a replay ran
    steps: tuple[StepResult, ...]
    differences: tuple[Difference, ...]
    roundtrip: RoundTrip | None
    error: str | None  # why the replay stopped
    scratch_kept: bool = False  # --scratch-url: the user's database, left as the replay made it
    models: ModelsComparison | None = None  # the models against the live database, when known
    heads: tuple[str, ...] = ()  # the chain's heads, for "chain head = stamp"

    @property
    def chain_verdict(self) -> str:
        """The stamp resolves and the chain replays to the live schema: what ``recover`` needs."""
        if any(r.status != "present" for r in self.resolutions):
            return "unresolved-stamp"
        if self.error:
            return "replay-failed"
        if self.differences:
            return "drift"
        if self.roundtrip is not None and not self.roundtrip.ok:
            return "roundtrip-failed"
        return "verified"

    @property
    def verdict(self) -> str:
        """The chain's verdict, then the three-way verdict's models and stamp lines: all must hold."""
        chain = self.chain_verdict
        if chain != "verified":
            return chain
        _chain, models, head = self.three_way
        return "models-drift" if models.failed else "behind-head" if head.failed else "verified"

    @property
    def verified(self) -> bool:
        return self.verdict == "verified"

    @property
    def three_way(self) -> tuple[VerdictLine, ...]:
        """chain = database, models = database, chain head = stamp: each with what to do if it fails."""
        return three_way(self, self.heads)


def resolve_stamp(
    result: ScanResult, stamp: Stamp, repo_arg: str = ".", database: str | None = None, archives: Sequence[str] = ()
) -> tuple[StampResolution, ...]:
    """Each stamped ID: present, recoverable (and the restore command that heals it), or lost everywhere
    (and the synthesize command that writes a stand-in from the database: the only way forward left).

    Raises BrokenStamp for a stamp Alembic itself fails on even with every revision present: the
    same revision in several rows, or (once every stamp is present) a revision stamped together
    with one of its ancestors. ``database``: the masked URL as the user wrote it, for the commands
    (the stamp's own URL names the driver chosen for it); ``archives``: the --archive options
    given, which the restore command repeats for a revision only an archive holds.
    """
    _refuse_duplicate_rows(stamp)
    entries = result.catalog.entries
    out = []
    for rev in stamp.revisions:
        entry = entries.get(rev)
        if entry is not None and entry.present:
            out.append(StampResolution(rev, "present", None, f"{rev} is in the versions directory"))
        elif entry is not None:
            retired = result.retired.get(rev)
            # the database stands on it: needed, even if it was reverted in the code
            allow = " --allow-new-head" if retired is not None else ""
            heal = restore_command(rev, repo_arg, archives if held_only_by_archives(entry) else ()) + allow
            why = f"; it was {retired.describe()}, but the database still stands on it" if retired is not None else ""
            out.append(
                StampResolution(
                    rev,
                    "recoverable",
                    heal,
                    f"{rev} is not in the versions directory (Alembic: Can't locate revision identified by '{rev}');"
                    f" {entry.reason}{why}",
                )
            )
        else:
            out.append(
                StampResolution(
                    rev,
                    "lost",
                    synthesize_command(rev, database or stamp.url, repo_arg),
                    f"Can't locate revision identified by '{rev}' (as Alembic says): it is in no versions directory,"
                    " no commit, reflog, stash or unreachable object",
                )
            )
    if all(r.status == "present" for r in out):
        # as Alembic does, an unknown revision is reported first: overlaps are looked for among known ones
        _refuse_overlaps(result, stamp)
    return tuple(out)


def synthesize_command(revision: str, database: str, repo_arg: str = ".") -> str:
    """The way forward for a stamp nothing holds: a stand-in written from the database (``database``
    is already masked: the user puts the password back, it is never printed)."""
    where = "" if repo_arg in (".", "") else f" {shlex.quote(repo_arg)}"
    return f"migration-archaeologist synthesize {revision}{where} --db {shlex.quote(database)}"


def refuse_broken_stamp(result: ScanResult, stamp: Stamp) -> None:
    """BrokenStamp for rows Alembic cannot work from whatever is restored: a revision in several rows,
    or a known revision stamped with one of its known ancestors (commands that work from a stamp with
    lost revisions in it, such as synthesize, ask this before anything else)."""
    _refuse_duplicate_rows(stamp)
    _refuse_overlaps(result, stamp)


def _refuse_duplicate_rows(stamp: Stamp) -> None:
    """A revision in several rows (a version table without Alembic's primary key): Alembic's next
    upgrade of it fails ("Online migration expected to match one row ...; 2 found")."""
    counts = Counter(stamp.revisions)
    rev = next((r for r in counts if counts[r] > 1), None)  # the first, in table order
    if rev is not None:
        count = counts[rev]
        raise BrokenStamp(
            f"{stamp.url}: {stamp.qualified_table} stamps {rev} in {count} rows (a duplicate stamp: the table lacks the"
            f" primary key Alembic gives version_num), on which Alembic's next upgrade fails ('expected to match"
            f" one row ...; {count} found'): delete all but one of them"
        )


def _refuse_overlaps(result: ScanResult, stamp: Stamp) -> None:
    """A revision stamped together with one of its ancestors (down_revision or depends_on, directly
    or through others), which Alembic refuses: "Requested revision B overlaps with other requested
    revisions A". The revision named is one no other stamped revision needs, so deleting the rows
    named removes every overlap below it."""
    stamped = list(dict.fromkeys(stamp.revisions))
    below = {rev: found for rev in stamped if (found := result.chain.ancestors(rev) & (set(stamped) - {rev}))}
    if not below:
        return
    needed = set().union(*below.values())
    # in a cycle (its own problem) every one is needed by another: then the first will do
    rev = next((r for r in below if r not in needed), next(iter(below)))
    ids = ", ".join(r for r in stamped if r in below[rev])
    raise BrokenStamp(
        f"{stamp.url}: {stamp.qualified_table} stamps {rev} together with its ancestor(s) {ids}, which Alembic refuses"
        f" (Requested revision {rev} overlaps with other requested revisions {ids}): if the database is at {rev},"
        f" delete the row(s) of {ids}"
    )


def stamp_problems(resolutions: Sequence[StampResolution], database: str) -> tuple[Problem, ...]:
    """``stamped-but-missing`` problems for ``check --db`` (a broken stamp was raised by resolve_stamp)."""
    problems = []
    for r in resolutions:
        if r.status == "present":
            continue
        if r.status == "recoverable":
            fix = f": restore it with '{r.heal}'"
        else:  # lost: only the database still knows what it did
            fix = (
                f": nothing anywhere holds it; write a stand-in from the database with: {r.heal}"
                f" (or everything at once, environment files included: {r.heal.replace(' synthesize ' + r.revision, ' recover', 1)} --apply)"
                if r.heal
                else ": nothing anywhere holds it"
            )
        alembic = f" (Alembic: Can't locate revision identified by '{r.revision}')"
        problems.append(
            Problem(
                "stamped-but-missing",
                (r.revision,),
                f"{database} is stamped {r.revision}, which is not in the versions directory{alembic}{fix}",
            )
        )
    return tuple(problems)


def with_stamp_problems(result: ScanResult, problems: Sequence[Problem]) -> ScanResult:
    """The scan with the stamp's problems, and what the stamp stands on counted as lost: a revision
    the database is stamped with is needed, whatever retired it from the code."""
    chain = replace(result.chain, problems=result.chain.problems + tuple(problems))
    stamped = {rev for p in problems if p.kind == "stamped-but-missing" for rev in p.revisions}
    entries = result.catalog.entries
    needed = {r for r in result.chain.needed_by(stamped) | stamped if r in entries and not entries[r].present}
    missing = tuple(r for r in result.chain.order if r in needed or r in result.missing)
    return replace(result, chain=chain, missing=missing)


def verify(
    result: ScanResult,
    db_url: str,
    *,
    repo_arg: str = ".",
    version_table: str = "alembic_version",
    version_table_schema: str | None = None,
    scratch_url: str | None = None,
    python: str | None = None,
    timeout: float = 600.0,
    roundtrip: bool = False,
    archives: Sequence[str] = (),
    models: ModelsSpec | NoModels | None = None,
    models_strict: bool = True,
) -> Verification:
    """Stamp check, then (when every stamp resolves) replay into a scratch database and compare;
    with ``models``, the models built in another scratch database and compared too.

    A stamp Alembic refuses or fails on (BrokenStamp, from resolve_stamp) is never replayed.
    """
    stamp = read_stamp(
        db_url, version_table=version_table, version_table_schema=version_table_schema, timeout=stamp_timeout(timeout)
    )
    resolutions = resolve_stamp(result, stamp, repo_arg, mask(db_url), archives)
    if scratch_url is not None and urls.parse(scratch_url).get_backend_name() != urls.parse(db_url).get_backend_name():
        raise UsageError("--scratch-url must be on the same kind of database as --db, or every type would differ")
    base = Verification(mask(db_url), stamp, resolutions, None, (), (), None, None, heads=result.gate_chain.heads)
    if isinstance(models, NoModels):  # why none are compared, for the verdict's line
        base = replace(base, models=ModelsComparison("", "", (), 0, (), note=models.reason))
    elif models is not None:  # independent of the chain: worth knowing even before anything is restored
        ignore_models = (version_table,)
        base = replace(
            base,
            models=compare_models(
                db_url, models, python=python, timeout=timeout, ignore_tables=ignore_models, strict=models_strict
            ),
        )
    if any(r.status != "present" for r in resolutions):
        return base  # replaying to a revision we do not have would prove nothing
    dirs = [d for d in result.versions_dirs if d.is_dir()]
    # revision files import the application, as under Alembic's prepend_sys_path (models_for found the folders)
    paths = list(models.paths) if models is not None else project_paths(result)
    steps: list[StepResult] = []
    with scratch_database(db_url, scratch_url=scratch_url) as scratch:
        base = replace(base, scratch=scratch.display, scratch_kept=not scratch.created)
        try:
            for rev in stamp.revisions:
                steps.append(
                    run_alembic(
                        dirs, scratch, "upgrade", rev, live_url=db_url, python=python, timeout=timeout, paths=paths
                    )
                )
        except ReplayFailed as exc:
            return replace(base, steps=tuple(steps), error=exc.message)
        ignore = (version_table,)  # the version table is Alembic's bookkeeping, not the schema
        differences = schema_drift(db_url, scratch.url, ignore_tables=ignore)
        trip = None
        if roundtrip:
            try:
                trip = _round_trip(
                    dirs, scratch, stamp, db_url, differences, ignore, python=python, timeout=timeout, steps=steps,
                    paths=paths,
                )  # fmt: skip
            except ReplayFailed as exc:
                return replace(base, steps=tuple(steps), differences=differences, error=exc.message)
    return replace(base, steps=tuple(steps), differences=differences, roundtrip=trip)


def _round_trip(
    dirs: list[Path],
    scratch: Scratch,
    stamp: Stamp,
    db_url: str,
    first: tuple[Difference, ...],
    ignore: tuple[str, ...],
    *,
    python: str | None,
    timeout: float,
    steps: list[StepResult],
    paths: list[Path],
) -> RoundTrip:
    def run(command: str, target: str) -> StepResult:
        return run_alembic(dirs, scratch, command, target, live_url=db_url, python=python, timeout=timeout, paths=paths)

    steps.append(run("downgrade", "base"))
    left = tuple(t for t in table_names(scratch.url) if t not in ignore)
    for rev in stamp.revisions:
        steps.append(run("upgrade", rev))
    again = schema_drift(db_url, scratch.url, ignore_tables=ignore)
    return RoundTrip(left, again == first, () if again == first else again)


def table_names(url: str) -> list[str]:
    """Tables of the scratch database (never the live one: this connection is not read-only)."""
    import sqlalchemy as sa

    engine = urls.engine(url)
    try:
        with engine.connect() as conn:
            return sorted(sa.inspect(conn).get_table_names())
    finally:
        engine.dispose()


def offline_sql(result: ScanResult, db_url: str, target: str | None = None, *, python: str | None = None) -> str:
    """The chain's SQL in Alembic's offline mode, for the database's dialect; nothing is connected to."""
    dirs = [d for d in result.versions_dirs if d.is_dir()]
    return render_offline_sql(dirs, db_url, target or offline_target(result), python=python)


def offline_target(result: ScanResult) -> str:
    """What the offline SQL upgrades to: the one head, else Alembic's ``heads``."""
    return "heads" if len(result.chain.heads) != 1 else result.chain.heads[0]
