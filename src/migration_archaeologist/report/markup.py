"""Small text helpers shared by the reports: escaping, anchors, short dates.

Revision IDs and messages come from files anyone could have written, so every string that reaches
markup goes through :func:`esc`, every report and console line through :func:`visible` (no ESC,
BEL or bidi override reaches a terminal or a file), and anchors are built in one place so the
picture's links and the timeline's rows always agree.
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote

# C0 controls (bar tab and newline), DEL and C1 controls, and the bidi embeddings, overrides and
# isolates (U+202A-U+202E, U+2066-U+2069) that make a terminal or a browser show text reordered
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
#: the same, inside a JSON document: C0 is already escaped by json.dumps
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    """``text`` with every control or bidi-override character replaced by U+FFFD (one visible cell,
    so tables stay aligned): shown, never obeyed (a colour change, a bell, a name shown backwards)."""
    return _CONTROL.sub("\ufffd", text)


def json_visible(document: str) -> str:
    """A JSON text with DEL, C1 and bidi characters written as \\u escapes: the same data once
    parsed, but no raw control character for a terminal or an editor showing the document."""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", document)


_SPACE = re.compile(r"\s")


def esc(text: object) -> str:
    """Text safe inside an element or a quoted attribute (HTML and inline SVG alike)."""
    return html.escape(visible(str(text)), quote=True)


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
