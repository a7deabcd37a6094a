"""A document's index: what the scanner needs of it under any catalog, and its mentions replayed from it.

An index keeps only the lines that can name a revision and where each word that could be an ID
stands (as keyed hashes, never the words), so the evidence cache can give a document's mentions
for the catalog of the day without reading it again.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import re
from typing import Any
from collections.abc import Iterable, Iterator, Mapping, Sequence

from migration_archaeologist.sources.docs.scanner import (
    CONTEXT_WORDS,
    DATED,
    EXPLICIT,
    HEX12,
    PY_NAME,
    TABLE_SEP,
    WORD,
    Mention,
    Scanner,
    table_cells,
    masked,
)

#: A string literal (consumed whole, so a ``#`` inside it is no comment) or a comment (group 1).
#: Scanning with this finds the same comment lines as ``tokenize`` (checked on the 16,000 files of
#: CPython's library and a virtualenv's site-packages) at a twelfth of the cost: tokenizing every
#: .py file took 13.6 s of the 20 s ``graph`` spent on 10,000 revision files.
_STRING_OR_COMMENT = re.compile(
    # each string's body as runs of ordinary characters between escapes ("unrolled"): the same
    # matches as (?:\\.|[^\\])*?, a fifth faster
    r'"""[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*"""'
    r"|'''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*'''"
    r'|"[^"\\\n]*(?:\\.[^"\\\n]*)*"'
    r"|'[^'\\\n]*(?:\\.[^'\\\n]*)*'"
    r"|(#[^\r\n]*)",
    re.DOTALL,
)


def _comment_lines(text: str) -> set[int]:
    """Line numbers of a Python file that carry a comment (the only part of code that is prose about it)."""
    found: set[int] = set()
    line, counted = 1, 0
    for match in _STRING_OR_COMMENT.finditer(text):
        if match.group(1) is not None:
            line += text.count("\n", counted, match.start())
            counted = match.start()
            found.add(line)
    return found


def _line_starts(text: str) -> list[int]:
    """Offset of each line of ``text.splitlines()`` (and one past the end): with each separator's own
    length, so a match's line number stays right after any number of ``\r\n`` lines."""
    return [0, *itertools.accumulate(map(len, text.splitlines(keepends=True)))]


def _number(starts: Sequence[int], pos: int) -> int:
    """The number of the line holding offset ``pos``, given the ``_line_starts``."""
    return bisect.bisect_right(starts, pos)


def _word_key(salt: bytes, word: str) -> str:
    return hashlib.blake2b(word.encode("utf-8", "surrogatepass"), key=salt, digest_size=8).hexdigest()


class Keys:
    """The scanner's single-word IDs by their keyed hash: an index stores the hashes of a document's
    words, never the words (a document may hold a password that is no URL's)."""

    def __init__(self, scanner: Scanner, salt: bytes) -> None:
        self.salt = salt
        words = scanner.known_re.words if scanner.known_re is not None else frozenset()
        self.words = {_word_key(salt, word): word for word in words}


#: ``_CONTEXT`` for lowered text: a plain search there is six times faster than an ignore-case one
_CONTEXT_LOWER = re.compile("|".join(CONTEXT_WORDS))
_TOKEN = re.compile(r"\w+")
#: the next character that is not white space: where ``EXPLICIT``'s ``\s*`` can stop at the latest
_NOT_SPACE = re.compile(r"\S")


def _runs(numbers: Iterable[int]) -> Iterator[tuple[int, int]]:
    """Maximal runs of consecutive line numbers, as (first, last)."""
    first = last = -1
    for n in sorted(numbers):
        if n != last + 1:
            if first >= 0:
                yield first, last
            first = n
        last = n
    if first >= 0:
        yield first, last


def index_text(scanner: Scanner, text: str, path: str, keys: Keys) -> dict[str, Any]:
    """What the scanner needs of a document under any catalog, as JSON-ready data (the evidence cache).

    Every kind of mention needs a known ID or a ".py" file name on its line, or a context word on
    its line or the one before; in a ``.py`` file, on a comment line (only comments are prose about
    code: a revision file names its ID on every other line of code). So only those lines are kept.

    ``b``: the lines wanted whatever IDs are known (a ``.py`` name, or a candidate token near
    migration talk); ``t``: the keyed hash of every word that could be a known ID that names
    something (a word with a digit or an underscore anywhere, any word on a line near migration
    talk: a known ID of letters alone counts only there); ``h``: the lines of each of those words
    the scanner knows as an ID; ``o``: the same for the scanner's IDs that are not single words;
    ``c``: a ``.py`` file's comment lines; ``l``: [number, line, whether the line before talks of
    migrations, table header] of every line wanted now. Database URLs' passwords are masked first,
    as in every report. ``replay`` gives the document's mentions from it, for this catalog or
    another one that knows no other ID among ``t`` and no other ID that is not a single word (else
    the document is read again).

    Most of a document is no migration talk: the candidate-token searches run only on the runs of
    lines near it, and migration talk is found in the lowered text (on neutron's 3,135 documents
    this took the index from 1.9 s to 0.6 s, same indexes).
    """
    text = masked(text)
    lines = text.splitlines()
    comments: set[int] | None = None
    if path.endswith(".py"):
        comments = _comment_lines(text)
        if not comments:
            return {"b": [], "t": [], "h": {}, "o": {}, "c": [], "l": []}
        lines = [line[line.index("#") :] if i + 1 in comments and "#" in line else "" for i, line in enumerate(lines)]
        text = "\n".join(lines)
    starts = _line_starts(text)
    count = len(
        lines
    )  # may differ from len(starts) - 1: "a\n" is one line of text, ["a", ""] two of a .py file's comments

    base = {_number(starts, m.start()) for m in PY_NAME.finditer(text)}
    lowered = text.lower()
    # lowering keeps the line breaks but may change a line's length (one "İ" becomes two characters)
    lowered_starts = starts if len(lowered) == len(text) else _line_starts(lowered)
    talk = {bisect.bisect_right(lowered_starts, m.start()) for m in _CONTEXT_LOWER.finditer(lowered)}
    near_context = talk | {n + 1 for n in talk}
    if near_context:
        base |= near_context & _candidate_lines(text, starts, near_context)
    # a word that is not all letters holds a digit or an underscore (or, rarely, a mark or a "½":
    # a few more words kept, which only makes the index look for them too)
    words = {word for word in set(_TOKEN.findall(text)) if not word.isalpha()}
    for line in near_context:
        if line <= count:
            words.update(_TOKEN.findall(lines[line - 1]))
    hits, others = _known_lines(scanner, text, starts, words)
    index = {
        "b": sorted(base),
        "t": sorted({_word_key(keys.salt, word) for word in words}),
        "h": hits,
        "o": others,
        "c": sorted(comments) if comments is not None else None,
    }
    wanted = _wanted(index, scanner, keys)
    stored = []
    if wanted:
        headers: dict[int, list[str] | None] = {}
        for n in sorted(wanted):
            if n <= count:
                stored.append([n, lines[n - 1], n - 1 in talk, _header(lines, n - 1, headers)])
    index["l"] = stored
    return index


def _candidate_lines(text: str, starts: Sequence[int], near_context: set[int]) -> set[int]:
    """The lines where a candidate token (12 hex digits, a dated ID, an explicit ``revision:``'s)
    starts, searched only in the runs of lines ``near_context``."""
    candidates: set[int] = set()
    for first, last in _runs(n for n in near_context if n < len(starts)):
        begin, stop = starts[first - 1], starts[last]
        # an explicit "revision:" may name its ID after blank lines: search up to the end of
        # the line where the white space after the run ends
        after = _NOT_SPACE.search(text, stop)
        end = len(text) if after is None else starts[_number(starts, after.start())]
        for pattern in (HEX12, DATED, EXPLICIT):
            candidates.update(_number(starts, m.start()) for m in pattern.finditer(text, begin, end))
    return candidates


def _known_lines(
    scanner: Scanner, text: str, starts: Sequence[int], words: set[str]
) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """The lines of each known single-word ID among ``words`` (``h``) and of each known ID that is
    not a single word (``o``)."""
    hits: dict[str, list[int]] = {}
    known = scanner.known_re
    if known is not None and not known.words.isdisjoint(words):
        for m in WORD.finditer(text):
            if m.group(1) in known.words:
                at = hits.setdefault(m.group(1), [])
                line = _number(starts, m.start())
                if not at or at[-1] != line:
                    at.append(line)
    others: dict[str, list[int]] = {}
    if known is not None and known.other is not None:
        others = {rev: [] for rev in known.known_others}
        for m in known.other.finditer(text):
            others[m.group(1)].append(_number(starts, m.start()))
    return hits, others


def _header(lines: Sequence[str], at: int, known: dict[int, list[str] | None]) -> list[str] | None:
    """The cells of the table header line ``lines[at]`` is under (a row followed by a ``---`` line,
    with nothing but rows and blank lines since), or None; ``known`` remembers answers by line."""
    walked = []
    header: list[str] | None = None
    i = at
    while i >= 0:
        if i in known:
            header = known[i]
            break
        walked.append(i)
        cells = table_cells(lines[i])
        if cells is not None and i + 1 < len(lines) and TABLE_SEP.match(lines[i + 1]):
            header = cells
            break
        if cells is None and lines[i].strip():
            break
        i -= 1
    for j in walked:
        known[j] = header
    return header


def _wanted(index: Mapping[str, Any], scanner: Scanner, keys: Keys) -> set[int] | None:
    """The lines the scanner reads under this catalog; None if the index cannot tell (an ID that is
    not a single word and was not looked for when it was built)."""
    wanted = set(index["b"])
    known = scanner.known_re
    if known is not None:
        hits = index["h"]
        for key in keys.words.keys() & set(index["t"]):
            word = keys.words[key]
            if word not in hits:
                return None  # a known ID now, not when the index was made: where it stands was not kept
            wanted.update(hits[word])
        if known.other is not None:
            others = index["o"]
            for rev in known.known_others:
                if rev not in others:
                    return None
                wanted.update(others[rev])
    if index["c"] is not None:
        wanted &= set(index["c"])
    return wanted


def covers(index: Mapping[str, Any], scanner: Scanner, keys: Keys) -> bool:
    """Whether ``replay`` can answer from this index for this scanner."""
    try:
        wanted = _wanted(index, scanner, keys)
        return wanted is not None and wanted <= {entry[0] for entry in index["l"]}
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        return False


def replay(
    index: Mapping[str, Any] | None, scanner: Scanner, keys: Keys, path: str, commit: str | None
) -> list[Mention] | None:
    """A document's mentions from its index (None: a document that is no text), or None if
    a line they need was not stored (or the index is malformed): then the document is read again."""
    if index is None:
        return []
    try:
        wanted = _wanted(index, scanner, keys)
        if wanted is None:
            return None
        stored = {entry[0]: entry for entry in index["l"]}
        mentions: list[Mention] = []
        for number in sorted(wanted):
            entry = stored.get(number)
            if entry is None:
                return None
            _n, raw, previous, header = entry
            mentions.extend(scanner.line(raw, previous, path, number, commit, header))
        return mentions
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        return None
