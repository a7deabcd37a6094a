"""The options several commands share, declared once so that their names, defaults and help read the same
everywhere; the checks of their values; -c / --name, which may come before the command."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import typer

RepoArg = typer.Argument(Path("."), help="Repository (or any folder inside it). Default: the current directory.")
VersionsOpt = typer.Option(
    None,
    "--versions",
    help="Versions directory (repeatable). Default: from alembic.ini / [tool.alembic], else history.",
)
JsonOpt = typer.Option(False, "--json", help="Print a JSON document instead of tables.")
ThoroughOpt = typer.Option(
    None,
    "--thorough/--no-thorough",
    show_default=False,
    help="Read every version of every .py file, not only added files and migration paths. Default: off, or thorough in pyproject.",
)
CacheOpt = typer.Option(
    None,
    "--cache/--no-cache",
    show_default=False,
    help="Keep the history scan under .git/migration-archaeologist/ and read only what is new next time. "
    "Default: on, or cache in pyproject.",
)
PickOpt = typer.Option(None, "--pick", metavar="REV=BLOB", help="Choose a candidate by blob id (prefix), repeatable.")
ConfigOpt = typer.Option(
    None,
    "-c",
    "--config",
    metavar="FILE",
    help="The Alembic configuration (alembic.ini, pyproject.toml) of the environment to judge, as alembic -c.",
)
NameOpt = typer.Option(None, "-n", "--name", metavar="SECTION", help="Its ini section, as alembic --name.")

ModelsOpt = typer.Option(
    None,
    "--models",
    metavar="MODULE:ATTR",
    help="The application's models to compare with the database (app.models:Base, app.db:metadata; repeatable),"
    " imported only in a child process (--python). Default: what env.py's target_metadata names, when importable.",
)
NoModelsOpt = typer.Option(False, "--no-models", help="Do not compare the models with the database.")
DbOpt = typer.Option(None, "--db", help="Database URL. Default: DATABASE_URL, then sqlalchemy.url in alembic.ini.")
VersionTableOpt = typer.Option("alembic_version", "--version-table", help="Alembic's version table name.")
VersionSchemaOpt = typer.Option(None, "--version-table-schema", help="Schema of the version table.")
ArchiveOpt = typer.Option(
    None,
    "--archive",
    help="Folder, .zip, .tar(.gz/.bz2/.xz) or git bundle to read too (repeatable), as scan. "
    "Default: the work tree's untracked and ignored files.",
)
OutputOpt = typer.Option(
    None, "--output", "-o", help="Write to this file (replaced atomically) instead of standard output."
)
ViewDbOpt = typer.Option(None, "--db", help="Read this database's stamp (read-only) to mark what is applied.")


@dataclass
class Environment:
    """-c / --name, given before the command (as Alembic takes them) or after it."""

    config_file: Path | None = None
    name: str | None = None


ENVIRONMENT = Environment()


def seconds(value: float) -> float:
    """A --timeout: a finite number of seconds above zero (nan, inf and -5 would wait forever or not at all)."""
    if not math.isfinite(value) or value <= 0:
        raise typer.BadParameter(f"{value!r}: expected a number of seconds above 0, e.g. --timeout 600")
    return value


PythonOpt = typer.Option(None, "--python", help="Interpreter that can import your application (your project's venv).")
#: --timeout of the commands that replay the chain: recover and synthesize replay more than once, verify once.
EachReplayTimeoutOpt = typer.Option(
    600.0, "--timeout", help="Seconds each replay may take (reading the stamp: at most 10).", callback=seconds
)
ReplayTimeoutOpt = typer.Option(
    600.0, "--timeout", help="Seconds the replay may take (reading the stamp: at most 10).", callback=seconds
)
