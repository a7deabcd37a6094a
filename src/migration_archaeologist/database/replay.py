"""Replaying a recovered revision chain: ``alembic upgrade``/``downgrade`` in a scratch database, and its outcome.

A recovered chain is only proven when Alembic can run it.  :func:`run_alembic` runs one
``upgrade``/``downgrade`` against a scratch database (see :mod:`scratch`) in the child process of
:mod:`replay_process`, and reads the child's events into a :class:`StepResult` or the right error:
a revision that failed, could not be imported or hung is a finding about the chain
(:class:`ReplayFailed`), a database that cannot be reached is not.  :func:`render_offline_sql` has
the same child render the chain's SQL without connecting anywhere.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from migration_archaeologist.database.replay_process import ChildRun, run_child, version_locations
from migration_archaeologist.database.scratch import Scratch, refuse_live
from migration_archaeologist.database.urls import DatabaseUnreachable, mask, parse
from migration_archaeologist.errors import (
    EXIT_FINDINGS,
    ArchaeologistError,
    EnvironmentProblem,
    UsageError,
)

__all__ = [
    "ReplayFailed",
    "StepResult",
    "dialect_name",
    "render_offline_sql",
    "run_alembic",
]


class ReplayFailed(ArchaeologistError):
    """A revision's upgrade()/downgrade() raised, its file could not be imported, or the replay
    timed out: a finding about the chain (exit 1), not about the environment."""

    exit_code = EXIT_FINDINGS

    def __init__(self, message: str, revision: str | None = None) -> None:
        super().__init__(message)
        self.revision = revision


@dataclass(frozen=True)
class StepResult:
    """One ``alembic upgrade``/``downgrade`` that ran to completion."""

    command: str
    target: str
    applied: tuple[str, ...]
    """Revisions whose upgrade()/downgrade() ran and were committed, in order."""
    seconds: float


def _import_failure(event: dict[str, Any], interpreter: str) -> str:
    where = f"revision {event.get('revision')} ({event.get('file')})"
    missing, imported, error = event.get("missing"), event.get("imported"), event.get("error")
    if not missing:
        return f"{where} failed to load: {error}"
    module = imported if imported and (imported == missing or imported.startswith(missing + ".")) else None
    shown = module or imported or missing
    detail = "" if module else f" ({error})"
    return (
        f"{where} imports '{shown}', which is not importable by {interpreter}{detail}: "
        f"run with --python /path/to/your/project/venv/bin/python, or install it"
    )


def _outcome(
    run: ChildRun, command: str, target: str, display: str, interpreter: str, timeout: float
) -> dict[str, Any]:
    """The child's ``finished`` event, or the right exception for how it ended."""
    running: str | None = None
    applied: list[str | None] = []
    loaded = False
    imports = []
    for event in run.events:
        kind = event["event"]
        if kind == "loaded":
            loaded = True
        elif kind == "running":
            running = event.get("revision")
        elif kind == "applied":
            applied.append(event.get("revision"))
        elif kind == "import_failed":
            imports.append(event)
        elif kind == "finished":
            return event
        elif kind == "failed":
            rev = event.get("revision")
            raise ReplayFailed(f"{rev}: {event.get('command', command)}() failed: {event.get('error')}", rev)
        elif kind == "error":
            error = str(event.get("error"))
            if event.get("kind") == "connect":
                raise DatabaseUnreachable(f"cannot connect to the scratch database {display}: {error}")
            if event.get("kind") in ("environment", "driver"):
                raise EnvironmentProblem(error)
            raise ReplayFailed(f"alembic {command} {target} failed: {error}", running)
    if imports:
        raise ReplayFailed("; ".join(_import_failure(e, interpreter) for e in imports), imports[0].get("revision"))
    if run.timed_out:
        if running is not None and running not in applied:
            where = f"during {running} {command}()"
        elif loaded:
            where = f"after {len(applied)} revisions ran" if applied else "before any revision ran (connecting?)"
        else:
            where = "while loading the revision files"
        raise ReplayFailed(
            f"{command} {target} timed out after {timeout:g} s {where}", running if running not in applied else None
        )
    lines = [ln.strip() for ln in run.stderr.splitlines() if ln.strip()]
    last = f": {lines[-1]}" if lines else ""
    raise ReplayFailed(
        f"the replay process ended without a result (exit code {run.returncode}){last}",
        running if running not in applied else None,
    )


def run_alembic(
    versions_dirs: Sequence[Path] | Path,
    scratch: Scratch,
    command: str,
    target: str,
    *,
    live_url: str,
    python: str | None = None,
    timeout: float = 600.0,
    paths: Sequence[Path] = (),
) -> StepResult:
    """``alembic upgrade|downgrade TARGET`` against ``scratch`` in a child process; ``paths``: the
    project's folders, first on the child's sys.path (revision files import the application).

    The child (``_replay_child.py``, run under ``python`` or ``sys.executable``) uses our own
    ``env.py``, never the project's, with ``version_locations = versions_dirs`` and one
    transaction per revision.  It is killed with its whole process group after ``timeout``
    seconds.  Raises :class:`ScratchIsLive` before anything runs if the scratch database is the
    live one, :class:`ReplayFailed` naming the revision that failed, could not be imported or
    hung; messages never carry a password.
    """
    if command not in ("upgrade", "downgrade"):
        raise UsageError(f"unknown alembic command {command!r}: expected upgrade or downgrade")
    refuse_live(scratch.url, live_url)
    dirs = version_locations(versions_dirs)
    interpreter = python or sys.executable
    url = parse(scratch.url).render_as_string(hide_password=False)
    run = run_child(
        "online", command, target, dirs, url, python, timeout, also_scrub=(scratch.url, live_url),
        paths=[str(p) for p in paths],
    )  # fmt: skip
    finished = _outcome(run, command, target, scratch.display, interpreter, timeout)
    applied = tuple(str(r) for r in finished.get("applied") or ())
    return StepResult(command=command, target=target, applied=applied, seconds=run.seconds)


def dialect_name(dialect_url: str) -> str:
    """``postgresql`` for a URL or a bare dialect name; a usage error (exit 2) for neither."""
    try:
        return sa.make_url(dialect_url if "://" in dialect_url else dialect_url + "://").get_backend_name()
    except (sa.exc.ArgumentError, ValueError):  # ValueError: a port that is not a number (an unescaped password)
        raise UsageError(f"not a database URL or dialect name: {mask(dialect_url)}") from None


def render_offline_sql(
    versions_dirs: Sequence[Path] | Path,
    dialect_url: str,
    target: str,
    *,
    python: str | None = None,
    timeout: float = 600.0,
) -> str:
    """The SQL of ``alembic upgrade base:TARGET --sql`` for ``dialect_url``'s dialect.

    Only the dialect name reaches the child (host, user and password are dropped), so no
    connection can be made.  SQLite batch migrations cannot render offline (they need to reflect
    the table) and fail with :class:`ReplayFailed`.
    """
    dirs = version_locations(versions_dirs)
    dialect = dialect_name(dialect_url)
    span = target if ":" in target else f"base:{target}"
    run = run_child("offline", "upgrade", span, dirs, f"{dialect}://", python, timeout)
    finished = _outcome(run, "upgrade", span, f"{dialect}://", python or sys.executable, timeout)
    return str(finished.get("sql") or "")
