"""The console script's entry point: the root options, and the promise that every error a user can cause
ends in one line and a documented exit code, never a traceback, whatever the streams and folder."""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path

import typer

from migration_archaeologist import __version__
from migration_archaeologist.errors import ArchaeologistError
from migration_archaeologist.cli.group import app
from migration_archaeologist.cli.options import ENVIRONMENT, ConfigOpt, NameOpt
from migration_archaeologist.cli.printing import escape, stderr_console

# each command registers on app as its module is imported: in the order --help lists them
from migration_archaeologist.cli.recover import recover  # noqa: F401
from migration_archaeologist.cli.scan import scan  # noqa: F401
from migration_archaeologist.cli.check import check  # noqa: F401
from migration_archaeologist.cli.restore import restore  # noqa: F401
from migration_archaeologist.cli.verify import verify  # noqa: F401
from migration_archaeologist.cli.synthesize import synthesize, baseline  # noqa: F401
from migration_archaeologist.cli.timeline import timeline  # noqa: F401
from migration_archaeologist.cli.graph import graph  # noqa: F401


EXIT_INTERNAL = 4
EXIT_INTERRUPTED = 130


def version_callback(value: bool) -> None:
    if value:
        typer.echo(f"migration-archaeologist {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=version_callback, is_eager=True, help="Show the version."
    ),
    config_file: Path | None = ConfigOpt,
    name: str | None = NameOpt,
) -> None:
    """Recover lost Alembic revision files. Exit codes: 0 ok, 1 findings, 2 usage error, 3 environment error."""
    ENVIRONMENT.config_file, ENVIRONMENT.name = config_file, name


def main() -> None:
    """Entry point: every error a user can cause ends in one red line and a documented exit code."""
    try:
        _run()
    except SystemExit as exc:
        if exc.code == EXIT_INTERRUPTED:  # Typer's own answer to Ctrl-C inside a command: silent, so say it
            stderr_console().print("[red]interrupted[/red]: nothing was left half-written")
        raise
    except ArchaeologistError as exc:
        stderr_console().print(f"[red]error:[/red] {escape(exc.message)}", soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        stderr_console().print("[red]interrupted[/red]: nothing was left half-written")
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:  # noqa: BLE001 - the promise is: never a traceback
        if os.environ.get("MA_DEBUG"):
            raise
        stderr_console().print(
            f"[red]internal error:[/red] {type(exc).__name__}: {escape(str(exc))} (run with MA_DEBUG=1 for a traceback)",
            soft_wrap=True,
        )
        sys.exit(EXIT_INTERNAL)


def _run() -> None:
    """The app, on standard streams and a working directory it can use."""
    from migration_archaeologist.errors import EnvironmentProblem

    if sys.stdout is None:  # started with '>&-'
        raise EnvironmentProblem("cannot write to standard output: it is closed")
    _tolerant_streams()
    try:
        os.getcwd()
    except OSError:
        raise EnvironmentProblem(
            "the current directory no longer exists (deleted while in use): "
            "change to a folder that exists and run again"
        ) from None
    _note_ignored_git_variables()
    try:
        try:
            app()  # standalone: Typer prints usage errors itself (exit 2) and exits with each command's code
        finally:
            sys.stdout.flush()  # here, not at exit: a full or closed stdout is then one line, not a traceback
    except OSError as exc:
        if exc.filename is not None or exc.errno not in _STDOUT_ERRNOS:
            raise
        _stdout_gone()
        raise EnvironmentProblem(f"cannot write to standard output: {exc.strerror or exc}") from None


def _note_ignored_git_variables() -> None:
    """A ``GIT_DIR`` (or ``GIT_WORK_TREE``, ``GIT_INDEX_FILE``, ...) in the environment never reaches
    git: the repository is the REPO argument. Say so once, on standard error, so that nobody believes
    the other repository was read."""
    from migration_archaeologist.sources.git.repository import ignored_location_variables

    names = ignored_location_variables()
    if names:
        listed = ", ".join(names)
        sys.stderr.write(
            f"note: {listed} set in the environment and ignored: the repository is the "
            "REPO argument (default: the current folder)\n"
        )


#: A standard output that is closed (a pipe's reader gone, ``>&-``) or full (``> /dev/full``).
_STDOUT_ERRNOS = {errno.EPIPE, errno.ENOSPC, errno.EBADF, errno.EIO, errno.EDQUOT}


def _tolerant_streams() -> None:
    """An ASCII (or other narrow) terminal gets ``\\u2192`` for what it cannot show, not a crash."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (OSError, ValueError):
                pass


def _stdout_gone() -> None:
    """Point standard output at /dev/null, so that the interpreter's own flush at exit does not fail
    again on what is left in its buffer."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
