"""SQL expressions as backends give them back, reduced to a form that compares equal across backends.

Server defaults and CHECK conditions come back from reflection in each backend's own spelling:
PostgreSQL adds casts and parentheses, MariaDB backquotes identifiers and quotes numbers, SQLite
keeps the text as written.  Both the drift comparison and the stand-in revisions compare them
after :func:`normalise_sql` (and server defaults after :func:`default_key`), so they agree on
what differs.
"""

from __future__ import annotations

import re

__all__ = ["default_key", "normalise_sql"]

_LITERAL = re.compile(r"'(?:[^']|'')*'")
_CAST = re.compile(
    r"::\s*(?:\"[^\"]+\"|[a-z_][\w.]*)"  # ::text, ::"MyEnum", ::public.mood
    r"(?:\s+(?:varying|precision|(?:with|without)\s+time\s+zone))?"  # ::character varying
    r"(?:\s*\(\s*\d+(?:\s*,\s*\d+)?\s*\))?(?:\[\])*",  # ::numeric(10,2), ::text[]
    re.IGNORECASE,
)
_PUNCT_SPACE = re.compile(r"\s*([(),=<>!+\-*/\[\]|%])\s*")
#: spellings of the same value; keys and values are already lower-cased and cast-free
_SYNONYMS = {"now()": "current_timestamp", "current_timestamp()": "current_timestamp", "true": "1", "false": "0"}


def default_key(text: str | None) -> str | None:
    """A server default reduced to what matters: case, casts, quoting of numbers, parentheses.

    - PostgreSQL appends casts (``'new'::character varying``) to literal defaults;
    - SQLite keeps the default's text as written, Alembic's SQLite hook parenthesises expressions;
    - MariaDB writes ``current_timestamp()`` and quotes some numeric literals (``'0'``);
    - ``now()``/``CURRENT_TIMESTAMP`` and ``true``/``1`` are the same value on every backend.
    """
    if text is None:
        return None
    key = normalise_sql(text)
    if re.fullmatch(r"'-?\d+(?:\.\d+)?'", key):
        key = key[1:-1]
    if re.fullmatch(r"-?\d+\.\d+", key):
        key = key.rstrip("0").rstrip(".") or "0"
    if key.lower() in ("null", ""):
        return None
    return _SYNONYMS.get(key, key)


def normalise_sql(text: str, *, compact: bool = True) -> str:
    """SQL without casts, identifier quotes and redundant parentheses; string literals kept exactly.

    ``compact`` (for comparing) also drops spaces around punctuation and lower-cases everything
    outside literals; without it (for showing) only runs of whitespace are collapsed.
    """
    literals: list[str] = []

    def stash(match: re.Match[str]) -> str:
        literals.append(match.group(0))
        return f"\x00{len(literals) - 1}\x00"

    code = _LITERAL.sub(stash, text)  # from here on, quotes and parentheses in literals are out of reach
    code = _CAST.sub("", code)
    code = code.replace('"', "").replace("`", "")
    if compact:
        code = _PUNCT_SPACE.sub(r"\1", code).lower()
    code = re.sub(r"\s+", " ", code).strip()
    while True:  # (status) -> status, ('x') -> 'x', but never f(x) -> fx
        stripped = re.sub(r"(?<![\w\x00])\(\s*([\w.]+|\x00\d+\x00)\s*\)", r"\1", code)
        while _wrapped(stripped):
            stripped = stripped[1:-1].strip()
        if stripped == code:
            break
        code = stripped
    return re.sub(r"\x00(\d+)\x00", lambda m: literals[int(m.group(1))], code)


def _wrapped(text: str) -> bool:
    """True when the whole text is one parenthesised group: ``(a AND b)`` but not ``(a) AND (b)``."""
    if not (text.startswith("(") and text.endswith(")")):
        return False
    depth = 0
    for i, char in enumerate(text):
        depth += char == "("
        depth -= char == ")"
        if depth == 0 and i < len(text) - 1:
            return False
    return True
