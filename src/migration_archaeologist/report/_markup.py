"""Small text helpers shared by the HTML report and its SVG chain: escaping, anchors, short dates.

Revision IDs and messages come from files anyone could have written, so every string that reaches
markup goes through :func:`esc`, and anchors are built in one place so the picture's links and the
timeline's rows always agree.
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote

# C0 controls (bar tab and newline), DEL and C1 controls are not allowed in HTML text
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SPACE = re.compile(r"\s")


def esc(text: object) -> str:
    """Text safe inside an element or a quoted attribute (HTML and inline SVG alike)."""
    return html.escape(_CONTROL.sub("\ufffd", str(text)), quote=True)


def anchor_id(revision: str) -> str:
    """The ``id`` of a revision's timeline row (not escaped; pass through :func:`esc`)."""
    return "rev-" + _SPACE.sub("_", revision)


def anchor_href(revision: str) -> str:
    """A same-document link to a revision's timeline row (not escaped; pass through :func:`esc`)."""
    return "#" + quote(anchor_id(revision), safe="-_.~!$'()*+,;=:@/?")


def short_date(value: str | None) -> str:
    """``2025-10-18T20:52:40+00:00`` -> ``2025-10-18 20:52``: minutes are enough to tell commits apart."""
    if not value:
        return ""
    match = re.match(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})", value)
    return f"{match.group(1)} {match.group(2)}" if match else value


def short_sha(commit: str | None) -> str:
    return commit[:7] if commit else ""
