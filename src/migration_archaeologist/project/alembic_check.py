"""Cross-check a versions directory with Alembic's own ``ScriptDirectory``.

Our graph is built from revision files parsed with :mod:`ast`; after a restore
we want Alembic itself to agree on the heads.  Alembic can only learn a
revision by *executing* the file, and this tool never executes revision files
in its own process, so the loading happens in a child process running
``_alembic_probe.py`` (see ``_probe_stand_ins.py`` beside it for the stand-in import mechanism).

Nothing here raises for problems in the revision files or Alembic's map: a
crash, a timeout or garbled output of the child all become
:attr:`AlembicView.error`, and files Alembic could not load become warnings.
The caller decides what an inconclusive answer means; it must never turn a
correct restore into a failure.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["AlembicView", "alembic_view", "PROBE_PATH"]

#: The probe script; run by path so any interpreter with alembic can run it.
PROBE_PATH: Path = Path(__file__).with_name("_alembic_probe.py")

_MAX_DETAIL = 300


@dataclass(frozen=True)
class AlembicView:
    """What Alembic's ``ScriptDirectory`` reported for some version locations."""

    heads: tuple[str, ...]
    """Sorted, as ``ScriptDirectory.get_heads()`` reports."""
    revisions: tuple[str, ...]
    """Sorted revision IDs Alembic has in its map."""
    stand_ins: tuple[str, ...]
    """Sorted names of unimportable modules that were replaced by stand-ins."""
    warnings: tuple[str, ...]
    """One-line human warnings: files that failed to load, Alembic's own."""
    error: str | None
    """One line if Alembic could not build its revision map at all."""
    failed_files: tuple[str, ...] = ()
    """Files (``<dir name>/<file>``) whose top level failed to execute.  When
    their identifiers were plain literals Alembic still saw them (from a static
    parse), so heads may be right, but Alembic did not load them itself."""

    @property
    def conclusive(self) -> bool:
        """True when Alembic built its map and loaded every file itself."""
        return self.error is None and not self.failed_files


def _failure(error: str) -> AlembicView:
    return AlembicView((), (), (), (), _one_line(error))


def _one_line(text: str, limit: int = _MAX_DETAIL) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _last_line(text: str) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return _one_line(lines[-1]) if lines else ""


def _str_tuple(value: Any, *, sort: bool = True) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)):
        return ()
    items = [str(v) for v in value]
    return tuple(sorted(items)) if sort else tuple(items)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """Kill the probe and anything a revision file may have spawned."""
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # pragma: no cover - not exercised on POSIX CI
            proc.kill()
    except (ProcessLookupError, PermissionError, OSError):
        pass
    try:
        proc.communicate(timeout=5)
    except (subprocess.TimeoutExpired, OSError, ValueError):
        pass


def _parse(stdout: bytes, stderr: bytes, returncode: int | None) -> AlembicView:
    text = stdout.decode("utf-8", errors="replace")
    payload: Any = None
    for line in reversed(text.splitlines()):
        if line.strip():
            try:
                payload = json.loads(line)
            except ValueError:
                payload = None
            break
    if not isinstance(payload, dict) or not isinstance(payload.get("heads"), list):
        detail = _last_line(stderr.decode("utf-8", errors="replace"))
        return _failure(
            f"alembic probe produced no result (exit code {returncode})" + (f": {detail}" if detail else "")
        )
    error = payload.get("error")
    return AlembicView(
        heads=_str_tuple(payload.get("heads")),
        revisions=_str_tuple(payload.get("revisions")),
        stand_ins=_str_tuple(payload.get("stand_ins")),
        warnings=tuple(_one_line(w, 1000) for w in _str_tuple(payload.get("warnings"), sort=False)),
        error=None if error is None else _one_line(error, 1000),
        failed_files=_str_tuple(payload.get("failed_files")),
    )


def alembic_view(
    versions_dirs: Sequence[Path],
    *,
    python: str | None = None,
    timeout: float = 120.0,
) -> AlembicView:
    """Run ``_alembic_probe.py`` under ``python`` (default ``sys.executable``)
    in a subprocess and parse the JSON it prints on stdout.

    The child gets ``PYTHONDONTWRITEBYTECODE=1`` so no ``__pycache__`` lands in
    the user's versions directory, runs in a scratch cwd, and otherwise keeps
    the normal environment (user site-packages may hold the application).
    It runs in its own process group so a timeout kills everything it started.
    """
    if isinstance(versions_dirs, (str, os.PathLike)):
        versions_dirs = [Path(versions_dirs)]
    dirs = [str(Path(d).expanduser().resolve()) for d in versions_dirs]
    if not dirs:
        return _failure("no versions directories given")
    interpreter = python or sys.executable
    if not interpreter:
        return _failure("no Python interpreter available to run the alembic probe")
    if not PROBE_PATH.is_file():
        return _failure(f"alembic probe script not found at {PROBE_PATH}")

    with tempfile.TemporaryDirectory(prefix="ma-alembic-cwd-") as cwd:
        ran = _run_probe(interpreter, dirs, cwd, timeout)
    if isinstance(ran, AlembicView):
        return ran
    return _parse(*ran)


def _run_probe(
    interpreter: str, args: Sequence[str], cwd: str, timeout: float
) -> tuple[bytes, bytes, int | None] | AlembicView:
    """The probe's (stdout, stderr, exit code), or the failure to report when it could not run."""
    env = dict(os.environ)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    env["PYTHONSAFEPATH"] = "1"  # 3.11+: don't put the probe's dir on sys.path
    try:
        proc = subprocess.Popen(
            [interpreter, str(PROBE_PATH), *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=env,
            start_new_session=(os.name == "posix"),
        )
    except OSError as exc:
        return _failure(f"could not run {interpreter}: {exc}")
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        return _failure(
            f"alembic probe timed out after {timeout:g}s (a revision file's top-level code may block or loop)"
        )
    except BaseException:
        _kill(proc)
        raise
    return stdout, stderr, proc.returncode


@dataclass(frozen=True)
class AlembicRun:
    """What Alembic's own commands say with a configuration file, as the user will run them."""

    view: AlembicView  # heads and revisions of the configured environment, or why it failed
    current: tuple[str, ...] | None  # 'alembic current' lines for the stamp given; None when none was
    history: tuple[str, ...]  # 'alembic history' lines
    script_dir: str | None
    env_py: bool  # the script folder has env.py
    template: bool  # ... and script.py.mako

    @property
    def works(self) -> bool:
        """Alembic loads the configuration and every revision, env.py is there, the stamp resolves."""
        return self.view.conclusive and self.env_py


def alembic_commands(
    config_file: Path,
    *,
    section: str = "alembic",
    script_location: Path | None = None,
    current: Sequence[str] | None = None,
    python: str | None = None,
    timeout: float = 120.0,
) -> AlembicRun:
    """``alembic -c CONFIG --name SECTION heads / history / current`` in a child process run from the
    configuration's folder (relative paths in it mean what they mean to the user there).

    ``script_location``: set it as Flask-Migrate does. ``current``: the stamp, read by the caller
    (read-only), for Alembic to resolve against the scripts as ``alembic current`` does."""
    request = {
        "config": str(config_file),
        "section": section,
        "script_location": str(script_location) if script_location is not None else None,
        "current": list(current) if current is not None else None,
    }
    interpreter = python or sys.executable
    ran = _run_probe(interpreter, ["--config", json.dumps(request)], str(Path(config_file).parent), timeout)
    if isinstance(ran, AlembicView):
        return AlembicRun(ran, None, (), None, False, False)
    view = _parse(*ran)
    payload: dict[str, Any] = {}
    for line in reversed(ran[0].decode("utf-8", errors="replace").splitlines()):
        if line.strip():
            try:
                payload = json.loads(line)
            except ValueError:
                payload = {}
            break
    lines = payload.get("current")
    return AlembicRun(
        view,
        tuple(str(x) for x in lines) if isinstance(lines, list) else None,
        tuple(str(x) for x in payload.get("history") or () if isinstance(x, str)),
        payload.get("script_dir") if isinstance(payload.get("script_dir"), str) else None,
        payload.get("env_py") is True,
        payload.get("template") is True,
    )
