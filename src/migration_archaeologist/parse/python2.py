"""Python 2 revision files, which ``ast`` refuses: their module-level statements read one at a time.

A tokenizer of Python 2 source joins lines into logical lines; a syntax error on a line that holds
syntax only Python 2 reads (``print "x"``, ``except E, e``, ``0777``...) makes the file a Python 2
file, and each column-0 statement is then parsed on its own. Parsed, never run.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from migration_archaeologist.parse.source import attempt, quiet

__all__ = ["Unread", "python2_statements"]


class Unread(ast.stmt):
    """Stands for a line the Python 2 read could not parse: the names in it may be bound there."""

    _fields = ("names",)

    def __init__(self, names: list[str]) -> None:
        super().__init__()
        self.names = names


#: A Python 2 source token: strings (any prefix, ``ur`` too), comments, line ends, continuations,
#: names, numbers (``0777``, ``10L``), the operators that matter, and any other single character.
_PY2_TOKEN = re.compile(
    r"(?P<string>[uUbBrRfF]{0,2}(?:"
    r"'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'(?:[^'\\\r\n]|\\(?:\r\n|.))*'"
    r'|"(?:[^"\\\r\n]|\\(?:\r\n|.))*"))'
    r"|(?P<comment>#[^\r\n]*)|(?P<newline>\r\n|\r|\n)|(?P<continuation>\\(?:\r\n|\r|\n))"
    r"|(?P<space>[ \t\f]+)|(?P<name>[^\W\d]\w*)|(?P<number>\.?\d[\w.]*)"
    r"|(?P<op><>|>>|[=!<>]=|[\[\](){}:;,`=])|(?P<other>.)",
    re.DOTALL,
)
_SYNTAX_ERROR_LINE = re.compile(r"syntax error at line (\d+):")
#: Numbers Python 3 refuses: an old octal (``0777``) or a long (``10L``, ``0x1fL``).
_PY2_NUMBER = re.compile(r"0[0-7]*[1-7][0-7]*[lL]?|(?:0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)[lL]")
_OPEN, _CLOSE = "([{", ")]}"
_BLOCK_WORDS = frozenset(
    ("def", "class", "if", "elif", "else", "for", "while", "try", "except", "finally", "with", "async", "@")
)


@dataclass
class _LogicalLine:
    start: int  # offsets in the text
    end: int
    first: int  # 1-based lines
    last: int
    top: bool  # starts at column 0: a module-level statement
    tokens: list[tuple[str, str, int]]  # (kind, text, bracket depth)


def python2_statements(text: str, reason: str) -> list[ast.stmt] | None:
    """The module-level statements of a file Python 3 refuses because it is Python 2, else None.

    Only when the line ``reason`` names (a syntax error) holds Python 2 syntax: a ``print`` or
    ``exec`` statement, ``except E, e``, ``raise E, "msg"``, a ``ur''`` string, backticks, ``<>``,
    an old octal or a long literal. Each column-0 statement is then parsed on its own; one that does
    not parse becomes an ``Unread`` naming what it may bind. Parsed, never run.
    """
    at = _SYNTAX_ERROR_LINE.match(reason)
    if at is None:
        return None
    lines = _logical_lines(text)
    if lines is None:
        return None
    error_line = int(at.group(1))
    if not any(line.first <= error_line <= line.last and _python2_syntax(line.tokens) for line in lines):
        return None
    statements: list[ast.stmt] = []
    with quiet():
        for line in lines:
            simple = line.top and line.tokens[0][1] not in _BLOCK_WORDS  # a block's head never parses alone
            parsed = attempt(ast.parse, text[line.start : line.end]) if simple else None
            if isinstance(parsed, ast.Module):
                ast.increment_lineno(parsed, line.first - 1)
                statements.extend(parsed.body)
            else:
                statements.append(Unread([token for kind, token, _ in line.tokens if kind == "name"]))
    return statements


def _logical_lines(text: str) -> list[_LogicalLine] | None:
    """The file's statements as Python's tokenizer joins lines; None for an unclosed string or bracket."""
    lines: list[_LogicalLine] = []
    current: _LogicalLine | None = None
    depth = 0
    line_no = 1
    line_start = 0
    for match in _PY2_TOKEN.finditer(text):
        kind, token = match.lastgroup or "other", match.group()
        if kind in ("space", "comment"):
            continue
        if kind in ("newline", "continuation"):
            line_no += 1
            line_start = match.end()
            if kind == "newline" and depth == 0 and current is not None:
                current.end = match.start()
                lines.append(current)
                current = None
            continue
        if kind == "other" and token in "'\"":
            return None  # a string that never ends
        if current is None:
            start = match.start()
            current = _LogicalLine(start, len(text), line_no, line_no, start == line_start, [])
        if kind == "op" and token in _CLOSE:
            depth -= 1
            if depth < 0:
                return None
        current.tokens.append((kind, token, depth))
        if kind == "op" and token in _OPEN:
            depth += 1
        if kind == "string":
            line_no += token.count("\n") + token.count("\r") - token.count("\r\n")
        current.last = line_no
    if depth:
        return None
    if current is not None:
        lines.append(current)
    return lines


def _python2_syntax(tokens: list[tuple[str, str, int]]) -> bool:
    """Whether a logical line holds syntax only Python 2 reads."""
    ticks = sum(1 for _kind, token, _depth in tokens if token == "`")
    if ticks and ticks % 2 == 0:  # `x` is Python 2's repr; a lone backtick is no Python at all
        return True
    starts = True  # at the start of a statement
    keyword = ""  # the statement's first word
    comma = False  # a comma outside brackets since it
    for at, (kind, token, depth) in enumerate(tokens):
        if kind == "string" and token[:2].lower() == "ur":
            return True
        if token == "<>" or (kind == "number" and _PY2_NUMBER.fullmatch(token)):
            return True
        if starts:
            keyword, comma = token, False
            following = tokens[at + 1] if at + 1 < len(tokens) else None
            if (
                token in ("print", "exec")
                and following is not None
                and (following[0] in ("string", "name", "number") or following[1] == ">>")
            ):
                return True
        elif depth == 0 and token == ",":
            comma = True
            if keyword == "raise":
                return True
        elif depth == 0 and token == ":" and keyword == "except" and comma:
            return True
        starts = depth == 0 and token in (":", ";")
    return False
