"""Where a command's output goes: Rich consoles on stdout and stderr, JSON documents, code for a pipe."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console


# rich is imported when something is printed with it: a --json run never does (0.04 s of start-up)
def stdout_console() -> Console:
    from migration_archaeologist.report.safe_console import SafeConsole as Console

    return Console(highlight=False, width=None if sys.stdout.isatty() else 140)


def stderr_console() -> Console:
    from migration_archaeologist.report.safe_console import SafeConsole as Console

    return Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 200)


def escape(markup: str) -> str:
    """rich.markup.escape, imported when first needed."""
    from rich.markup import escape as rich_escape

    return rich_escape(markup)


def print_json(doc: object) -> None:
    """Indented for a terminal; compact when piped (the C encoder, five times faster on big scans)."""
    indent = 2 if sys.stdout.isatty() else None
    from migration_archaeologist.report.markup import json_visible

    sys.stdout.write(json_visible(json.dumps(doc, indent=indent, ensure_ascii=False)) + "\n")


def write_code(text: str) -> None:
    """SQL or Python for a file or a pipe (``> upgrade.sql``, ``| psql``): a control character inside
    a string literal there is data, so it goes through as it is; on a terminal it is shown, never
    obeyed (an ESC sequence from a revision's ``op.execute`` must not drive the terminal)."""
    from migration_archaeologist.report.markup import visible

    sys.stdout.write(visible(text) if sys.stdout.isatty() else text)
