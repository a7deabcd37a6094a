"""The application's models as a schema: imported in a child process, created in a scratch database.

The models are application code, so they are imported only by ``_models_child.py`` under the
user's interpreter (``--python``), never in the tool. Their ``MetaData`` crosses the process
boundary as the schema its ``create_all`` builds in a scratch database of the live database's kind,
which :func:`drift.schema_drift` then reflects and compares with the live database, exactly as the
replayed chain is compared: both sides reflected through the same backend, custom types rendered
by their own DDL.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migration_archaeologist.database.replay_process import run_script
from migration_archaeologist.database.scratch import Scratch
from migration_archaeologist.errors import EnvironmentProblem

__all__ = ["MODELS_CHILD", "ModelsBuilt", "ModelsUnavailable", "create_models"]

MODELS_CHILD: Path = Path(__file__).with_name("_models_child.py")
URL_VARIABLE = "MA_MODELS_URL"


class ModelsUnavailable(EnvironmentProblem):
    """The models could not be imported or created (exit 3): the application's environment, not
    a finding about the database."""


@dataclass(frozen=True)
class ModelsBuilt:
    tables: tuple[str, ...]  # created in the scratch database
    skipped: tuple[str, ...]  # in another schema (not PostgreSQL): not compared
    seconds: float


def create_models(
    targets: tuple[str, ...], paths: tuple[Path, ...], scratch: Scratch, *, python: str | None, timeout: float
) -> ModelsBuilt:
    """Import ``targets`` (``module:attribute``) in a child and ``create_all`` their MetaData in ``scratch``."""
    interpreter = python or sys.executable
    args = [json.dumps([str(p) for p in paths]), *targets]
    run = run_script(MODELS_CHILD, args, scratch.url, python, timeout, url_variable=URL_VARIABLE)
    if run.timed_out:
        raise ModelsUnavailable(
            f"the models ({', '.join(targets)}) were not imported and created within {timeout:g} s (--timeout)"
        )
    for event in run.events:
        if event["event"] == "finished":
            return ModelsBuilt(tuple(event.get("tables", ())), tuple(event.get("skipped", ())), run.seconds)
        if event["event"] in ("import_failed", "not_found", "not_metadata", "error"):
            raise ModelsUnavailable(_failure(event, interpreter))
    last = next((ln for ln in reversed(run.stderr.splitlines()) if ln.strip()), "")
    raise ModelsUnavailable(
        f"the models child process ended with exit code {run.returncode} and said nothing"
        + (f": {last.strip()[:300]}" if last else "")
    )


def _failure(event: dict[str, Any], interpreter: str) -> str:
    target = event.get("target", "")
    kind = event["event"]
    if kind == "import_failed":
        missing = event.get("missing")
        module = target.split(":", 1)[0]
        if missing and not (module == missing or module.startswith(missing + ".")):
            return (
                f"the models {target} cannot be imported: they import '{missing}', which {interpreter} does not have"
                " (run with --python /path/to/your/project/venv/bin/python, or install it)"
            )
        if missing:
            return (
                f"the models {target} cannot be imported: no module '{missing}' on the project's paths or in"
                f" {interpreter} (check --models, or run with --python your project's interpreter)"
            )
        return f"the models {target} cannot be imported: {event.get('error')}"
    if kind == "not_found":
        return f"the models {target} cannot be found: {event.get('error')} (check --models MODULE:ATTR)"
    if kind == "not_metadata":
        return (
            f"the models {target} is a {event.get('found')}, not a MetaData nor an object with one as .metadata"
            " (a declarative Base, Flask-SQLAlchemy's db)"
        )
    if event.get("kind") == "create":
        return f"the models could not be created in a scratch database: {event.get('error')}"
    return f"the models could not be built: {event.get('error')}"
