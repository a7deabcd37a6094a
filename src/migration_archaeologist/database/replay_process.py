"""Running Alembic in a child process: the child's arguments, its environment, its timeout, its events.

Revision files are arbitrary code, the project's ``env.py`` imports an application that may be
gone, and a hung migration must be killable: so Alembic runs in ``_replay_child.py``, a script run
by path under the user's interpreter with our own minimal ``env.py``, leading its own process
group.  URLs reach the child through its environment, never argv, and every event it writes back
is scrubbed of passwords.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migration_archaeologist.database.urls import scrub_encoded
from migration_archaeologist.errors import EnvironmentProblem, UsageError

__all__ = ["CHILD_PATH", "ChildRun", "run_child", "run_script", "version_locations"]

#: The child script; run by path so any interpreter with alembic + sqlalchemy can run it.
CHILD_PATH: Path = Path(__file__).with_name("_replay_child.py")
#: Environment variable carrying the URL to the child (argv is visible in ``ps``).
URL_VARIABLE = "MA_REPLAY_URL"
#: Environment variable carrying the project's import folders (a JSON list) to the replay child.
PATHS_VARIABLE = "MA_REPLAY_SYS_PATH"


@dataclass(frozen=True)
class ChildRun:
    events: tuple[dict[str, Any], ...]
    returncode: int | None
    stderr: str
    timed_out: bool
    seconds: float


def _kill(proc: subprocess.Popen[bytes]) -> tuple[bytes, bytes]:
    """Kill the child and anything a revision file started (it leads its own process group);
    returns what it wrote before it died."""
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # pragma: no cover
            proc.kill()
    except OSError:
        pass
    try:
        return proc.communicate(timeout=5)  # output read before the kill is kept
    except (subprocess.TimeoutExpired, OSError, ValueError):  # a grandchild left the group, holding a pipe
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        proc.wait()
        return b"", b""


def version_locations(versions_dirs: Sequence[Path] | Path) -> list[str]:
    if isinstance(versions_dirs, (str, os.PathLike)):
        versions_dirs = [Path(versions_dirs)]
    dirs = [str(Path(d).expanduser().resolve()) for d in versions_dirs]
    if not dirs:
        raise UsageError("no versions directories given")
    missing = [d for d in dirs if not Path(d).is_dir()]
    if missing:
        raise UsageError("versions directory does not exist: " + ", ".join(missing))
    return dirs


def _clean(value: Any, urls: Sequence[str]) -> Any:
    if isinstance(value, str):
        return scrub_encoded(value, *urls)
    if isinstance(value, list):
        return [_clean(v, urls) for v in value]
    if isinstance(value, dict):
        return {k: _clean(v, urls) for k, v in value.items()}
    return value


def run_child(
    mode: str,
    command: str,
    target: str,
    dirs: list[str],
    url: str,
    python: str | None,
    timeout: float,
    also_scrub: Sequence[str] = (),
    paths: Sequence[str] = (),
) -> ChildRun:
    """Run the replay child and collect its JSON events, every string in them scrubbed of the passwords
    of ``url`` and ``also_scrub`` (a driver error may quote its DSN). ``paths``: the project's folders,
    put first on the child's sys.path as Alembic's prepend_sys_path would (revisions import the application)."""
    extra = {PATHS_VARIABLE: json.dumps(list(paths))} if paths else {}
    return run_script(CHILD_PATH, [mode, command, target, *dirs], url, python, timeout, also_scrub, extra_env=extra)


def run_script(
    script: Path,
    args: Sequence[str],
    url: str,
    python: str | None,
    timeout: float,
    also_scrub: Sequence[str] = (),
    url_variable: str = URL_VARIABLE,
    extra_env: dict[str, str] | None = None,
) -> ChildRun:
    """Run one of our child scripts by path (``script WORKDIR ARGS...``, in a new temporary WORKDIR that
    is also its current directory) under ``python``, with ``url`` in ``url_variable``; collect its
    JSON events, scrubbed. The child leads its own process group, killed whole on timeout or Ctrl-C."""
    interpreter = python or sys.executable
    env = dict(os.environ)
    env.update({url_variable: url, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONIOENCODING": "utf-8", "PYTHONSAFEPATH": "1"})
    env.update(extra_env or {})
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ma-replay-") as workdir:
        try:
            proc = subprocess.Popen(
                [interpreter, str(script), workdir, *args],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=workdir,
                env=env,
                start_new_session=(os.name == "posix"),
            )
        except OSError as exc:
            raise EnvironmentProblem(f"could not run {interpreter}: {exc.strerror or exc}") from None
        timed_out = False
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            stdout, stderr = _kill(proc)
        except BaseException:  # Ctrl-C: the child must not outlive us (nor keep the scratch busy)
            _kill(proc)
            raise
    events = []
    for line in stdout.decode("utf-8", errors="replace").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and isinstance(event.get("event"), str):
            events.append(_clean(event, [url, *also_scrub]))
    text = scrub_encoded(stderr.decode("utf-8", errors="replace"), url, *also_scrub)
    return ChildRun(tuple(events), proc.returncode, text, timed_out, time.monotonic() - started)
