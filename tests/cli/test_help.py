"""``--help`` as a user reads it: bracketed text shown as written, every option name whole at 80 columns."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import typer.main

from conftest import ma
from gitfixture import GitRepo, revision_source
from migration_archaeologist.cli import app

COMMAND = typer.main.get_command(app)
COMMANDS = sorted(COMMAND.commands)  # type: ignore[attr-defined]


def help_of(*args: str, columns: int) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("MA_DEBUG", "TERMINAL_WIDTH")}
    proc = subprocess.run([sys.executable, "-m", "migration_archaeologist", *args, "--help"], capture_output=True,
                          text=True, env={**env, "COLUMNS": str(columns)}, timeout=60)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    return proc.stdout


def help_sources(args: tuple[str, ...]) -> str:
    """Every help text a command's --help shows: its own, and each of its parameters'."""
    command = COMMAND if not args else COMMAND.commands[args[0]]  # type: ignore[attr-defined]
    return " ".join([command.help or ""] + [getattr(p, "help", None) or "" for p in command.params])


def test_bracketed_text_is_shown_as_written() -> None:
    """``[tool.alembic]`` and ``[tool.migration-archaeologist]`` used to vanish: Rich took them for markup."""
    for args in [()] + [(name,) for name in COMMANDS]:
        written = set(re.findall(r"\[tool\.[\w.-]+\]", help_sources(args)))  # where they appear in the source
        if args in [(), ("check",)]:
            assert written, args
        shown = " ".join(help_of(*args, columns=200).split())
        for text in written:
            assert text in shown, (args, text)
    assert "[tool.migration-archaeologist]" in " ".join(help_of("check", columns=200).split())
    assert "[bold]" not in help_of("check", columns=200)


@pytest.mark.parametrize("args", [()] + [(name,) for name in COMMANDS], ids=lambda a: " ".join(a) or "root")
def test_every_option_name_whole_at_80_columns(args: tuple[str, ...]) -> None:
    """Rich's help table cut long names to ``--version-table-s…`` at 80 columns."""
    command = COMMAND if not args else COMMAND.commands[args[0]]  # type: ignore[attr-defined]
    names = {o for p in command.params for o in [*p.opts, *p.secondary_opts] if o.startswith("--")}
    assert names
    out = help_of(*args, columns=80)
    assert "…" not in out
    for name in names:
        assert re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", out), (args, name, out)
    if not args:  # each command's summary whole too, not cut at "..."
        for name in COMMANDS:
            summary = COMMAND.commands[name].help.split("\n\n")[0]  # type: ignore[attr-defined]
            assert " ".join(summary.split()) in " ".join(out.split()), name


def test_scan_shows_bracketed_messages_as_written(repo: GitRepo) -> None:
    """A revision's message is the file's text, not Rich markup: ``[tool.alembic]`` stays in the table."""
    repo.commit("base", {"alembic/versions/a.py": revision_source("a", None, "read [tool.alembic] first")})
    repo.commit("next", {"alembic/versions/b.py": revision_source("b", "a", "[red]x[/red] pinned")})
    proc = ma("scan", str(repo.path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("read [tool.alembic] first") == 2  # the table and the chain
    assert proc.stdout.count("[red]x[/red] pinned") == 2
