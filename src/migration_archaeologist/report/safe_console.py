"""The console every command prints through: repository text is shown, never obeyed.

Markup in messages and paths is escaped where it is formatted (``report.console.escape.esc``); this
catches what escaping cannot: an ESC, BEL or bidi override inside a revision message, a file name
or a commit subject, in a table cell or a plain ``Text``, would reach the terminal raw.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console, ConsoleOptions, RenderableType
from rich.segment import Segment

from migration_archaeologist.report.markup import visible


class SafeConsole(Console):
    """A Rich console whose text segments have control and bidi characters replaced by U+FFFD;
    Rich's own control segments (colours, cursor moves, hyperlinks it was asked for) pass."""

    def render(self, renderable: RenderableType, options: ConsoleOptions | None = None) -> Iterable[Segment]:
        for segment in super().render(renderable, options):
            if segment.control or visible(segment.text) == segment.text:
                yield segment
            else:
                yield Segment(visible(segment.text), segment.style, segment.control)
