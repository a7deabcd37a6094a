"""A blob's bytes as Python source: decoded as the interpreter would, parsed with :mod:`ast`, compiled.

Recovered blobs may be half-edited, mis-encoded or not Python at all: every way decoding, parsing
or compiling can fail on them becomes an :class:`Unparseable` with a one-line reason, never an
exception. Nothing is ever run; only :func:`compile` checks what ``import`` would refuse.
"""

from __future__ import annotations

import ast
import io
import re
import threading
import tokenize
import warnings
from dataclasses import dataclass
from typing import Any, TypeVar
from collections.abc import Callable

__all__ = [
    "PARSE_LOCK",
    "Unparseable",
    "ast_parse",
    "attempt",
    "decode",
    "one_line",
    "quiet",
    "revision_hint",
    "syntax_error",
]


@dataclass(frozen=True)
class Unparseable:
    """Looks like a revision file but cannot be read as one."""

    reason: str  # one line, for a report
    revision_hint: str | None  # best-effort ID, so a broken file can still be named


#: at a line start, also after a lone CR (old Mac line ends) or a UTF-8 BOM
#: and only a literal that is the whole value (``revision = 'b' + '2'`` names no ID)
_HINT_RE = re.compile(
    rb"""(?:^|(?<=\r)|(?<=\xef\xbb\xbf))revision[ \t]*(?::[^=\r\n]*)?=[ \t]*['"]([^'"\r\n]+)['"]"""
    rb"""(?=[ \t]*(?:\#[^\r\n]*)?(?:\r|\n|$))""",
    re.MULTILINE,
)
_MAX_REASON = 200


def revision_hint(data: bytes) -> str | None:
    """A regex guess at the ID so that a broken file can still be named in a report."""
    match = _HINT_RE.search(data)
    if match is None:
        return None
    return match.group(1).decode("utf-8", "replace").strip() or None


def one_line(reason: str) -> str:
    reason = " ".join(reason.split())
    return reason if len(reason) <= _MAX_REASON else reason[: _MAX_REASON - 3] + "..."


def decode(data: bytes) -> tuple[str, str] | Unparseable:
    """Decode as the interpreter would (BOM, PEP 263 cookie), reporting why it cannot."""
    try:
        if _plain_utf8(data):
            encoding = "utf-8"  # what detect_encoding says, without its line reader (most files)
        else:
            # detect_encoding splits lines on LF only; the interpreter also ends them at a lone CR
            lines = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n") if b"\r" in data[:4096] else data
            encoding, _ = tokenize.detect_encoding(io.BytesIO(lines).readline)
    except SyntaxError as exc:
        msg = str(exc.msg or exc)
        unknown = re.match(r"unknown encoding(?: for .*?)?: (.*)", msg)
        if unknown:
            return Unparseable(one_line(f"unknown encoding {unknown.group(1)!r} in coding cookie"), revision_hint(data))
        if msg.startswith("encoding problem"):
            return Unparseable("coding cookie conflicts with the UTF-8 BOM", revision_hint(data))
        # "invalid or missing encoding declaration": a non-UTF-8 byte in the first two lines.
        encoding = "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        return Unparseable(f"not valid {encoding} at byte {exc.start}", revision_hint(data))
    except UnicodeError as exc:  # codecs such as "undefined" or "idna" fail without an offset
        return Unparseable(one_line(f"cannot decode as {encoding}: {exc}"), revision_hint(data))
    except LookupError:  # e.g. "# coding: rot13": a codec, but not a text encoding
        return Unparseable(
            one_line(f"coding cookie names {encoding!r}, which is not a text encoding"),
            revision_hint(data),
        )
    return text, encoding


def _plain_utf8(data: bytes) -> bool:
    """No BOM, no lone CR near the top and no ``coding`` in the first two lines: a coding cookie can
    only be there, so the file is UTF-8 (an undecodable byte is then reported by the decode)."""
    if data[:3] == b"\xef\xbb\xbf" or b"\r" in data[:4096]:
        return False
    first = data.find(b"\n")
    second = data.find(b"\n", first + 1) if first >= 0 else -1
    return b"coding" not in (data if second < 0 else data[:second])


PARSE_LOCK = threading.Lock()
_T = TypeVar("_T")


def ast_parse(text: str) -> ast.Module | Unparseable:
    """ast.parse, with every way it can fail on garbage turned into a reason."""
    return _parsing(ast.parse, text)


def syntax_error(text: str) -> Unparseable | None:
    """Why ``import`` would refuse ``text``, or None; the caller holds ``quiet``.

    It is compiled (never run): the parser and symtable alone miss what only the compiler refuses,
    such as a keyword argument given twice (a bad merge of a multi-line call), a bare ``except:``
    before another, or an unreachable ``case``.
    """
    result = attempt(_compile, text)
    return result if isinstance(result, Unparseable) else None


def _compile(text: str) -> None:
    compile(text, "<revision>", "exec", dont_inherit=True)  # compiled, never run


def _parsing(parse: Callable[[str], _T], text: str) -> _T | Unparseable:
    with quiet():
        return attempt(parse, text)


class quiet:
    """Warnings off while parsing: invalid escape sequences (say, a regex in op.execute SQL) warn,
    and under ``-W error`` that would turn a fine file into a "syntax error". catch_warnings swaps
    process-wide state, so concurrent parses take turns. (A class, not a generator: it is entered
    once per file.)"""

    __slots__ = ("_caught",)

    def __enter__(self) -> None:
        PARSE_LOCK.acquire()
        try:
            self._caught = warnings.catch_warnings()
            self._caught.__enter__()
            warnings.simplefilter("ignore")
        except BaseException:
            PARSE_LOCK.release()
            raise

    def __exit__(self, *exc: Any) -> None:
        try:
            self._caught.__exit__(*exc)
        finally:
            PARSE_LOCK.release()


def attempt(parse: Callable[[str], _T], text: str) -> _T | Unparseable:
    """``parse(text)``, with every way it can fail on garbage turned into a reason."""
    try:
        return parse(text)
    except SyntaxError as exc:
        where = f" at line {exc.lineno}" if exc.lineno else ""
        return Unparseable(one_line(f"syntax error{where}: {exc.msg}"), None)
    except (ValueError, TypeError) as exc:
        return Unparseable(one_line(f"cannot parse: {exc}"), None)
    except RecursionError:
        return Unparseable("cannot parse: nested too deeply", None)
    except MemoryError:
        return Unparseable("cannot parse: out of memory (nested too deeply?)", None)
