"""The typer app every command registers on, with the plain-text help of its command group."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from typer.core import TyperGroup

if TYPE_CHECKING:
    from typer import _click as click  # typer's own click (0.28); earlier typers use click itself


class _Commands(TyperGroup):
    """Help as plain text (no Rich markup): ``[tool.alembic]`` stays literal, and option names are never
    cut short at 80 columns as Rich's help table does; command summaries are shown whole, not cut at "..."."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=1_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


app = typer.Typer(
    name="migration-archaeologist",
    help="Recover lost Alembic revision files from git history, rebuild the chain, restore it safely.\n\n"
    "Defaults for the options can live in [tool.migration-archaeologist] in the repository's pyproject.toml.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
    cls=_Commands,
)
