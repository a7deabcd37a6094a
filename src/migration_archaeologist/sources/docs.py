"""Revision IDs named in documents: evidence about revisions, never revision files themselves.

Teams often lose migration files but keep the prose around them: a design doc listing the files, a
validation report saying "migration 84456d47e6aa applied", a file index with sizes and hashes. Those
lines say which revisions *should* exist, and their sizes and hashes let a recovered file be checked
against what somebody once saw. This module finds such lines (in the working tree and in committed
versions of documents) and folds them into one row per revision with the catalog's verdict.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import itertools
import json
import bisect
import os
import re
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence

from migration_archaeologist.sources.git.repository import GIT_CONFIG_ARGS, git_env
from migration_archaeologist.files.untrusted import read_regular
from migration_archaeologist.sources.git.cat_file import read_batch

if TYPE_CHECKING:
    from migration_archaeologist.chain.catalog import Catalog
    from migration_archaeologist.sources.doc_prefetch import DocumentPrefetch
    from migration_archaeologist.sources.evidence_cache import EvidenceCache

#: Text files worth reading; ``.py`` files contribute their comments only.
DOC_SUFFIXES = frozenset(
    {".md", ".markdown", ".rst", ".txt", ".ini", ".cfg", ".toml", ".yaml", ".yml", ".json", ".sql", ".log"}
)
#: Extension-less files that are prose by convention.
DOC_STEMS = ("readme", "changelog", "changes", "history", "notes", "news")
MAX_BYTES = 2 * 1024 * 1024
MAX_TEXT = 200


@dataclass(frozen=True)
class Claim:
    """Something a line asserts about a revision that can (sometimes) be checked against recovered bytes."""

    kind: str  # "size", "sha256", "sha1", "md5", "hash", "date", "applied", "expected-stamp", "file-name"
    value: str


@dataclass(frozen=True)
class Mention:
    """One line of one document (version) naming a revision."""

    revision: str
    file_name: str | None
    purpose: str | None
    path: str
    line: int
    commit: str | None
    claims: tuple[Claim, ...]
    text: str

    @property
    def where(self) -> str:
        at = f"{self.path}:{self.line}"
        return f"{at} @ {self.commit[:10]}" if self.commit else at


@dataclass(frozen=True)
class ClaimCheck:
    claim: Claim
    verdict: str  # "match", "mismatch", "unchecked"
    detail: str


@dataclass(frozen=True)
class Evidence:
    """Everything the documents say about one revision, and whether the recovered bytes agree."""

    revision: str
    file_name: str | None
    purpose: str | None
    mentions: tuple[Mention, ...]
    status: str  # "present", "recoverable from <sources>", "lost"
    checks: tuple[ClaimCheck, ...]


# --------------------------------------------------------------------------- line scanning

#: Migration talk: the words near which an unknown ID-like token counts ("down_revision" holds "revision")
_CONTEXT_WORDS = ("revision", "migration", "alembic", "revises", "stamp", "version_num", "expected:")
_CONTEXT = re.compile("|".join(_CONTEXT_WORDS), re.I)
_HASH = re.compile(
    r"\b(sha-?256|sha-?1|md5|hash|checksum|digest)\b[\s:=`'\"*]*([0-9a-fA-F]{8,64})(?![0-9a-zA-Z_])", re.I
)
_PY_NAME = re.compile(r"\.py\b")
_FILE = re.compile(r"(?<![\w.])(?:[\w.\-]*/)*([A-Za-z0-9][A-Za-z0-9_]*)\.py\b")
_HEX12 = re.compile(r"(?<![\w#-])(?<!0x)([0-9a-f]{12})(?![\w-])")
_DATED = re.compile(r"(?<![\w-])(\d{8,14}_[a-z0-9_]*[a-z][a-z0-9_]*)(?![\w-])")
_EXPLICIT = re.compile(
    r"(?:revision\s+id\s*:|revises\s*:|\bdown_revision\b\s*[:=]|\brevision\b\s*[:=]|"
    r"alembic\s+(?:stamp|upgrade|downgrade)(?:\s+--\S+)*|expected\s*:|version_num\s*[:=])"
    r"\s*[`'\"]?([A-Za-z0-9_]+)",
    re.I,
)
_EXPECTED = re.compile(r"expected\s*:\s*[`'\"]?([A-Za-z0-9_]+)", re.I)
_SIZE_EXACT = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+)\s*(?:bytes?|B)\b", re.I)
_SIZE_APPROX = re.compile(r"(?<![\w.,])(\d+(?:\.\d+)?)\s*(KB|KiB|kB|MB|MiB)\b")
_DATE = re.compile(r"(?<![\w-])((?:19|20)\d\d-[01]\d-[0-3]\d)(?![\w-])")
_APPLIED = re.compile(r"\b(applied|migrated|upgraded)\b", re.I)
_NOT_IDS = frozenset({"head", "heads", "base", "current", "str", "none", "null", "true", "false"})
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_PURPOSE_HEADER = re.compile(r"purpose|description|summary|message|change", re.I)


_WORD = re.compile(r"(?<![\w])(\w+)(?![\w])")
#: the password of a database URL a document quotes (``scheme://user:password@host``), never shown in a report
_URL_PASSWORD = re.compile(r"(://[^\s:/@]*:)\S*@")
#: a credential in a quoted URL's query string (``?password=``, ``&passwd=``, ``sslpassword=``…); the
#: same keys as database.urls, not imported from there so a scan does not load SQLAlchemy
_QUERY_SECRET = re.compile(
    r"(?i)((?:[?&;]|%26)[\w.-]*(?:password|passwd|pwd|passphrase|secret|token|api_?key|access_?key|credentials?)=)[^&;#\s]*"
)


def _masked(text: str) -> str:
    """``text`` with the passwords of the database URLs it quotes replaced by ***."""
    return _QUERY_SECRET.sub(r"\1***", _URL_PASSWORD.sub(r"\1***@", text))


class _KnownIds:
    """Whole-token search for known IDs: one word regex and a set lookup.

    A regex alternation of hundreds of IDs costs 40 ms just to compile; IDs made of word
    characters (nearly all) are found by tokenising instead, the rare others by a small regex.
    """

    def __init__(self, ids: Sequence[str]) -> None:
        self.words = frozenset(i for i in ids if _WORD.fullmatch(i))
        others = [i for i in ids if i not in self.words]
        alternatives = "|".join(re.escape(k) for k in others)
        self.other = re.compile(rf"(?<![\w])({alternatives})(?![\w])") if others else None
        self.known_others = tuple(others)

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        # most texts name no known ID: asking the set about every word at once (in C) settles that
        found = (
            []
            if self.words.isdisjoint(_WORD.findall(text))
            else [m for m in _WORD.finditer(text) if m.group(1) in self.words]
        )
        if self.other is not None:
            found += list(self.other.finditer(text))
            found.sort(key=lambda m: m.start())
        return iter(found)

    def search(self, text: str) -> re.Match[str] | None:
        return next(self.finditer(text), None)


class _Scanner:
    """Finds mentions in lines; holds what is known (IDs, file names, commit shas to exclude)."""

    def __init__(self, known_ids: Collection[str], file_names: Mapping[str, str], commit_shas: Collection[str]):
        self.known = sorted(set(known_ids), key=len, reverse=True)
        self.file_names = dict(file_names)
        self._commit_shas = commit_shas
        self.known_re = _KnownIds(self.known) if self.known else None

    @functools.cached_property
    def commit_prefixes(self) -> frozenset[str]:
        """Built on first use: most documents name no 12-hex token, and a big history has 200,000 commits."""
        return frozenset(sha[:12] for sha in self._commit_shas)

    @functools.cached_property
    def _known_set(self) -> frozenset[str]:
        return frozenset(self.known)

    def resolve_file(self, stem: str) -> str | None:
        """The revision a file name stands for: a catalog file name, else the longest known ID that is
        the whole stem or the part before one of its underscores, else a leading 12-hex ID."""
        name = stem + ".py"
        if name in self.file_names:
            return self.file_names[name]
        known = self._known_set
        if stem in known:
            return stem
        cut = stem.rfind("_")
        while cut > 0:  # longest first, as the known IDs are tried
            if stem[:cut] in known:
                return stem[:cut]
            cut = stem.rfind("_", 0, cut)
        m = re.match(r"([0-9a-f]{12})_\w", stem)
        return m.group(1) if m else None

    def scan(
        self, lines: Sequence[str], path: str, commit: str | None, only: Iterable[int] | None = None
    ) -> list[Mention]:
        mentions: list[Mention] = []
        header: list[str] | None = None
        wanted = set(only) if only is not None else None
        for index, raw in enumerate(lines):
            cells = _cells(raw)
            if cells is not None and index + 1 < len(lines) and _TABLE_SEP.match(lines[index + 1]):
                header = cells
            elif cells is None and raw.strip():
                header = None
            if wanted is not None and index + 1 not in wanted:
                continue
            previous = bool(index and _CONTEXT.search(lines[index - 1]))
            mentions.extend(self._line(raw, previous, path, index + 1, commit, header))
        return mentions

    def _line(  # noqa: C901  complexity 32: split with the module split (issue 20)
        self, raw: str, previous: bool, path: str, number: int, commit: str | None, header: list[str] | None
    ) -> list[Mention]:
        line = raw.rstrip("\n")
        hashes = [(m.start(), m.end(), m) for m in _HASH.finditer(line)]

        def in_hash(pos: int) -> bool:
            return any(start <= pos < end for start, end, _ in hashes)

        context = previous or bool(_CONTEXT.search(line))  # previous: migration talk on the line before
        found: dict[str, int] = {}  # revision -> first position
        spans: list[tuple[int, int]] = []
        files: list[tuple[int, str, str | None]] = []  # position, file name, resolved revision

        for m in _FILE.finditer(line):
            rev = self.resolve_file(m.group(1))
            files.append((m.start(), m.group(1) + ".py", rev))
            spans.append((m.start(), m.end()))
            if rev is not None:
                found.setdefault(rev, m.start())

        def free(start: int, end: int) -> bool:
            return not in_hash(start) and not any(s <= start < e for s, e in spans)

        def uuid_part(start: int, end: int) -> bool:
            before, after = line[max(0, start - 2) : start], line[end : end + 2]
            return bool(re.fullmatch(r"[0-9a-fA-F]-", before) or re.fullmatch(r"-[0-9a-fA-F]", after))

        if self.known_re is not None:
            for m in self.known_re.finditer(line):
                token = m.group(1)
                if not free(m.start(), m.end()) or uuid_part(m.start(), m.end()):
                    continue
                if not re.search(r"[\d_]", token) and not context:
                    continue  # a revision named like an English word counts only near migration talk
                found.setdefault(token, m.start())
        if context:
            candidates = [(m.start(), m.end(), m.group(1)) for m in _HEX12.finditer(line)]
            candidates = [
                c
                for c in candidates
                if re.search(r"\d", c[2]) and re.search(r"[a-f]", c[2]) and c[2] not in self.commit_prefixes
            ]
            candidates += [(m.start(), m.end(), m.group(1)) for m in _DATED.finditer(line)]
            for m in _EXPLICIT.finditer(line):
                token = m.group(1)
                if token.lower() in _NOT_IDS or not re.search(r"[\d_]", token) or token.isdigit():
                    continue
                if line[m.start(1) - 1 : m.start(1)] == "<":
                    continue
                candidates.append((m.start(1), m.end(1), token))
            for start, end, token in candidates:
                if free(start, end) and not uuid_part(start, end):
                    found.setdefault(token, start)
        if not found:
            return []

        order = sorted(found, key=found.__getitem__)
        claims: dict[str, list[Claim]] = {rev: [] for rev in order}

        def owner(pos: int) -> str:
            before = [rev for rev in order if found[rev] <= pos]
            return before[-1] if before else order[0]

        for start, _end, m in hashes:
            kind = m.group(1).lower().replace("-", "")
            kind = kind if kind in ("sha256", "sha1", "md5") else "hash"
            claims[owner(start)].append(Claim(kind, m.group(2).lower()))
        for m in _SIZE_EXACT.finditer(line):
            if not in_hash(m.start()):
                claims[owner(m.start())].append(Claim("size", m.group(1).replace(",", "")))
        for m in _SIZE_APPROX.finditer(line):
            claims[owner(m.start())].append(Claim("size", f"{m.group(1)} {m.group(2)}"))
        for m in _DATE.finditer(line):
            claims[owner(m.start())].append(Claim("date", m.group(1)))
        for m in _APPLIED.finditer(line):
            claims[owner(m.start())].append(Claim("applied", m.group(1).lower()))
        for m in _EXPECTED.finditer(line):
            if m.group(1) in claims:
                claims[m.group(1)].append(Claim("expected-stamp", m.group(1)))

        file_of: dict[str, str] = {}
        loose = [name for _pos, name, rev in files if rev is None]
        for _pos, name, rev in files:
            if rev is not None:
                file_of.setdefault(rev, name)
        if len(loose) == 1:  # a row naming one file and, in another cell, its revision
            for rev in order:
                file_of.setdefault(rev, loose[0])

        purpose = _purpose(line, header, order, spans, hashes)
        purpose = purpose and _masked(purpose)
        text = _masked(line.strip())[:MAX_TEXT]
        result = []
        for rev in order:
            rev_claims = list(dict.fromkeys(claims[rev]))
            if rev in file_of:
                rev_claims.append(Claim("file-name", file_of[rev]))
            result.append(Mention(rev, file_of.get(rev), purpose, path, number, commit, tuple(rev_claims), text))
        return result


def _cells(line: str) -> list[str] | None:
    stripped = line.strip()
    if not stripped.startswith("|") or stripped.count("|") < 2:
        return None
    return [c.strip() for c in stripped.strip("|").split("|")]


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("`", "").replace("**", "")).strip(" -—–:|")


def _purpose(
    line: str, header: list[str] | None, order: list[str], spans: list[tuple[int, int]], hashes: list[Any]
) -> str | None:
    """A table's Purpose/Description cell, or a list item's words after the named revision."""
    cells = _cells(line)
    if cells is not None:
        if header is None or _TABLE_SEP.match(line):
            return None
        for index, name in enumerate(header):
            if _PURPOSE_HEADER.search(name) and index < len(cells):
                cell = _clean(cells[index])
                if cell and not any(rev in cell for rev in order):
                    return cell
        return None
    if not _LIST_ITEM.match(line):
        return None
    ends = [e for _s, e in spans] + [line.find(rev) + len(rev) for rev in order if rev in line]
    rest = line[max(ends) :] if ends else ""
    for pattern in (_HASH, _SIZE_EXACT, _SIZE_APPROX, _DATE):
        rest = pattern.sub(" ", rest)
    rest = _clean(re.sub(r"^[\s`'\"*)\]]*[:—–-]?", "", rest))
    rest = re.sub(r"^[\s,;—–-]+|[\s,;—–-]+$", "", rest)
    return rest if len(re.findall(r"[A-Za-z]{2,}", rest)) >= 2 else None


# --------------------------------------------------------------------------- reading documents


#: our own provenance record after a restore: it names revisions, but it is not evidence of them
_OWN_FILES = ("migration-archaeologist-manifest.json",)


#: written by package managers, not people: package names, versions and integrity hashes, never a
#: revision (on the real repositories measured, a third of what evidence read on quay and CTFd)
_LOCK_FILES = frozenset({"package-lock.json", "npm-shrinkwrap.json", "pnpm-lock.yaml"})
#: map data (coordinates): redash's 19 GeoJSON files were 9.3 of the 15.9 MB evidence read there
_DATA_SUFFIXES = (".geo.json", ".topo.json")


def _is_doc(path: str, *, python: bool = True) -> bool:
    """Whether ``path`` is a document the evidence table reads (``python``: a ``.py`` file's comments too).
    Asked of every tracked file and every committed document version: the common answers come first."""
    name = path.rsplit("/", 1)[-1].lower()
    if name.endswith(".py"):
        return python
    if name in _OWN_FILES or (name.startswith("migration-archaeologist-manifest.") and name.endswith(".json")):
        return False
    if name in _LOCK_FILES or name.endswith(_DATA_SUFFIXES):
        return False
    suffix = os.path.splitext(name)[1]
    if suffix in DOC_SUFFIXES:
        return True
    return suffix == "" and name.startswith(DOC_STEMS)


def _decode(data: bytes) -> str | None:
    if len(data) > MAX_BYTES or b"\0" in data[:8192]:
        return None
    return data.decode("utf-8", errors="replace")


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


def _word_key(salt: bytes, word: str) -> str:
    return hashlib.blake2b(word.encode("utf-8", "surrogatepass"), key=salt, digest_size=8).hexdigest()


class _Keys:
    """The scanner's single-word IDs by their keyed hash: an index stores the hashes of a document's
    words, never the words (a document may hold a password that is no URL's)."""

    def __init__(self, scanner: _Scanner, salt: bytes) -> None:
        self.salt = salt
        words = scanner.known_re.words if scanner.known_re is not None else frozenset()
        self.words = {_word_key(salt, word): word for word in words}


#: ``_CONTEXT`` for lowered text: a plain search there is six times faster than an ignore-case one
_CONTEXT_LOWER = re.compile("|".join(_CONTEXT_WORDS))
_TOKEN = re.compile(r"\w+")
#: the next character that is not white space: where ``_EXPLICIT``'s ``\s*`` can stop at the latest
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


def _index_text(scanner: _Scanner, text: str, path: str, keys: _Keys) -> dict[str, Any]:  # noqa: C901  complexity 18: split with the module split (issue 20)
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
    as in every report. ``_replay`` gives the document's mentions from it, for this catalog or
    another one that knows no other ID among ``t`` and no other ID that is not a single word (else
    the document is read again).

    Most of a document is no migration talk: the candidate-token searches run only on the runs of
    lines near it, and migration talk is found in the lowered text (on neutron's 3,135 documents
    this took the index from 1.9 s to 0.6 s, same indexes).
    """
    text = _masked(text)
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

    def number(pos: int) -> int:
        return bisect.bisect_right(starts, pos)

    base = {number(m.start()) for m in _PY_NAME.finditer(text)}
    lowered = text.lower()
    # lowering keeps the line breaks but may change a line's length (one "İ" becomes two characters)
    lowered_starts = starts if len(lowered) == len(text) else _line_starts(lowered)
    talk = {bisect.bisect_right(lowered_starts, m.start()) for m in _CONTEXT_LOWER.finditer(lowered)}
    near_context = talk | {n + 1 for n in talk}
    if near_context:
        candidates: set[int] = set()
        for first, last in _runs(n for n in near_context if n < len(starts)):
            begin, stop = starts[first - 1], starts[last]
            # an explicit "revision:" may name its ID after blank lines: search up to the end of
            # the line where the white space after the run ends
            after = _NOT_SPACE.search(text, stop)
            end = len(text) if after is None else starts[number(after.start())]
            for pattern in (_HEX12, _DATED, _EXPLICIT):
                candidates.update(number(m.start()) for m in pattern.finditer(text, begin, end))
        base |= near_context & candidates
    # a word that is not all letters holds a digit or an underscore (or, rarely, a mark or a "½":
    # a few more words kept, which only makes the index look for them too)
    words = {word for word in set(_TOKEN.findall(text)) if not word.isalpha()}
    for line in near_context:
        if line <= count:
            words.update(_TOKEN.findall(lines[line - 1]))
    hits: dict[str, list[int]] = {}
    known = scanner.known_re
    if known is not None and not known.words.isdisjoint(words):
        for m in _WORD.finditer(text):
            if m.group(1) in known.words:
                at = hits.setdefault(m.group(1), [])
                line = number(m.start())
                if not at or at[-1] != line:
                    at.append(line)
    others: dict[str, list[int]] = {}
    if known is not None and known.other is not None:
        others = {rev: [] for rev in known.known_others}
        for m in known.other.finditer(text):
            others[m.group(1)].append(number(m.start()))
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
        cells = _cells(lines[i])
        if cells is not None and i + 1 < len(lines) and _TABLE_SEP.match(lines[i + 1]):
            header = cells
            break
        if cells is None and lines[i].strip():
            break
        i -= 1
    for j in walked:
        known[j] = header
    return header


def _wanted(index: Mapping[str, Any], scanner: _Scanner, keys: _Keys) -> set[int] | None:
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


def _covers(index: Mapping[str, Any], scanner: _Scanner, keys: _Keys) -> bool:
    """Whether ``_replay`` can answer from this index for this scanner."""
    try:
        wanted = _wanted(index, scanner, keys)
        return wanted is not None and wanted <= {entry[0] for entry in index["l"]}
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        return False


def _replay(
    index: Mapping[str, Any] | None, scanner: _Scanner, keys: _Keys, path: str, commit: str | None
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
            mentions.extend(scanner._line(raw, previous, path, number, commit, header))
        return mentions
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        return None


def _git(git_dir: Path | None, root: Path, *args: str) -> list[str]:
    base = ["git"] + (["--git-dir", str(git_dir), "--work-tree", str(root)] if git_dir else ["-C", str(root)])
    return base + list(GIT_CONFIG_ARGS) + list(args)


def _blob_sha(data: bytes) -> str:
    from migration_archaeologist.sources.interface import git_blob_id  # the repository's object format

    return git_blob_id(data)


def _worktree_files(root: Path, git_dir: Path | None) -> list[str] | None:
    proc = subprocess.run(
        _git(git_dir, root, "ls-files", "-z", "--cached", "--others", "--exclude-standard"),
        capture_output=True,
        env=git_env(),
    )
    if proc.returncode != 0:
        return None
    return sorted({p for p in proc.stdout.decode("utf-8", "surrogateescape").split("\0") if p})


def _walk(root: Path) -> list[str]:
    skip = {".git", ".venv", "venv", "node_modules", "__pycache__", ".tox"}
    found = []
    for here, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in skip]
        for name in files:
            found.append((Path(here) / name).relative_to(root).as_posix())
    return sorted(found)


def _history(root: Path, git_dir: Path | None) -> tuple[dict[tuple[str, str], str], set[str]]:
    """Every (path, blob) of a document ever committed on any ref or reflog entry, with its newest commit."""
    proc = subprocess.run(
        _git(
            git_dir,
            root,
            "log",
            "--all",
            "--reflog",
            "--diff-merges=first-parent",
            "--no-renames",
            "--raw",
            "--no-abbrev",
            "--no-textconv",
            "--no-ext-diff",
            "--format=%x01%H",
        ),
        capture_output=True,
        env=git_env(),
    )
    versions: dict[tuple[str, str], str] = {}
    commits: set[str] = set()
    if proc.returncode != 0:
        return versions, commits
    commit = ""
    for line in proc.stdout.decode("utf-8", "surrogateescape").splitlines():
        if line.startswith("\x01"):
            commit = line[1:].strip()
            commits.add(commit)
        elif line.startswith(":") and "\t" in line:
            meta, path = line.split("\t", 1)
            fields = meta.split()
            if len(fields) < 5 or fields[4].startswith("D") or path.startswith('"'):
                continue
            if _is_doc(path, python=False):
                versions.setdefault((path, fields[3]), commit)
    return versions, commits


def _read_blobs(root: Path, git_dir: Path | None, blobs: Sequence[str]) -> dict[str, bytes]:
    if not blobs:
        return {}
    return read_batch(
        lambda asked: (
            subprocess.run(
                _git(git_dir, root, "cat-file", "--batch"),
                input=("\n".join(asked) + "\n").encode(),
                capture_output=True,
                env=git_env(),
            ).stdout
        ),
        blobs,
    )


def find_mentions(  # noqa: C901  complexity 29: split with the module split (issue 20)
    repo_root: Path,
    known_ids: Collection[str],
    *,
    git_dir: Path | None = None,
    file_names: Mapping[str, str] | None = None,
    history: tuple[Mapping[tuple[str, str], str], Collection[str]] | None = None,
    cache: EvidenceCache | None = None,
    tracked: Sequence[str] | None = None,
    prefetch: DocumentPrefetch | None = None,
    progress: Callable[[str, int, int | None], None] | None = None,
    stats: Mapping[str, os.stat_result] | None = None,
) -> list[Mention]:
    """Mentions in the working tree's documents, then in committed document versions not (any more) on disk.

    ``file_names`` maps revision file names (e.g. from the catalog) to their IDs, so a line naming
    only ``20251015_64_field_baseline.py`` is tied to ``20251015_baseline``. A historical line that
    the working tree's version of the same document still carries is reported once, for the working tree.
    With ``cache`` (``sources.evidence_cache``), a document whose index is stored is not read; the
    mentions are the same. ``tracked``: the work tree's files, if listed already; ``prefetch``: the
    documents a helper indexed meanwhile (``sources.doc_prefetch``), and ``stats`` the documents
    among the files with the ``stat`` taken then (``doc_prefetch.worktree_documents``). ``progress(phase, done, total)`` is told every 200 documents.
    """
    root = Path(repo_root)
    if tracked is None:
        tracked = _worktree_files(root, git_dir)
    if cache is None:  # the same indexes, kept for this scan only
        from migration_archaeologist.sources.evidence_cache import EvidenceCache

        cache = EvidenceCache(None)
    prefetched = prefetch.take() if prefetch is not None else {}
    if prefetch is not None and prefetch.salt != cache.salt:
        prefetched = {}  # its word hashes are keyed with another salt: they would find no known ID
    if history is not None:
        # the history scan already walked every commit: (path, blob) -> commit, newest first
        known_versions, commits = history
        versions = {key: commit for key, commit in known_versions.items() if _is_doc(key[0], python=False)}
    else:
        versions, commits = _history(root, git_dir) if tracked is not None else ({}, set())
    scanner = _Scanner(known_ids, file_names or {}, commits)
    keys = _Keys(scanner, cache.salt)
    # the documents among the files, unless the caller stat-ed them already (it picked them then)
    listed = (
        list(stats)
        if stats is not None
        else [rel for rel in (tracked if tracked is not None else _walk(root)) if _is_doc(rel)]
    )
    # what the cache (or the helper) holds for each document, before anything is read
    looked: list[tuple[str, os.stat_result, tuple[str, Any] | None]] = []
    for rel in listed:
        try:
            info = stats[rel] if stats is not None else (root / rel).stat()
        except OSError:
            continue
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_BYTES:
            continue
        stored = cache.file(rel, info.st_size, info.st_mtime_ns)
        ready = prefetched.get(rel) if stored is None else None
        if ready is not None and ready[:2] == (info.st_size, info.st_mtime_ns):
            # indexed by the helper under no known ID: good unless the document names one
            cache.store_file(rel, info.st_size, info.st_mtime_ns, ready[2], ready[3])
            stored = ready[2], ready[3]
        looked.append((rel, info, stored))
    if cache.path is not None and all(stored is not None for _rel, _info, stored in looked):
        # every document as the last scan saw it: with the same catalog, the same mentions
        current = {rel: stored[0] for rel, _info, stored in looked}  # type: ignore[index]
        pending = _pending(versions, current)
        if all(cache.version(blob)[0] for _path, blob, _commit in pending):
            remembered = _mentions(cache.remembered(_mentions_key(scanner, commits, current, pending)))
            if remembered is not None:
                return remembered

    mentions: list[Mention] = []
    current_blob: dict[str, str] = {}
    seen: set[tuple[str, str, str]] = set()
    for done, (rel, info, stored) in enumerate(looked):
        if progress is not None and done % 200 == 0:
            progress("reading documents", done, len(listed))
        found: list[Mention] | None = None
        if stored is not None:
            found = _replay(stored[1], scanner, keys, rel, None)
            if found is not None:
                current_blob[rel] = stored[0]
        if found is None:
            try:
                data = read_regular(root / rel, MAX_BYTES)  # swapped for a FIFO since the stat: no hang
            except OSError:
                continue
            current_blob[rel] = _blob_sha(data)
            text = _decode(data)
            index = None if text is None else _index_text(scanner, text, rel, keys)
            cache.store_file(rel, info.st_size, info.st_mtime_ns, current_blob[rel], index)
            found = _replay(index, scanner, keys, rel, None) or []
        for mention in found:
            seen.add((mention.path, mention.revision, mention.text))
            mentions.append(mention)

    if progress is not None and listed:
        progress("reading documents", len(listed), len(listed))
    pending = _pending(versions, current_blob)
    blobs = list(dict.fromkeys(blob for _p, blob, _c in pending))
    indexes: dict[str, Any] = {}
    unread = []
    for blob in blobs:
        known, index = cache.version(blob)
        if known and (index is None or _covers(index, scanner, keys)):
            indexes[blob] = index
        else:
            unread.append(blob)
    if progress is not None and unread:
        progress("reading documents from history", 0, len(unread))
    contents = _read_blobs(root, git_dir, unread)
    for blob in unread:
        if blob in contents:
            text = _decode(contents[blob])
            indexes[blob] = None if text is None else _index_text(scanner, text, "", keys)
            cache.store_version(blob, indexes[blob])
    for path, blob, commit in pending:  # newest first: git log's order
        found = _replay(indexes.get(blob), scanner, keys, path, commit) or []
        for mention in found:
            key = (mention.path, mention.revision, mention.text)
            if key not in seen:
                seen.add(key)
                mentions.append(mention)
    if cache.path is not None:  # a cache kept for this scan only has no next scan to tell
        cache.remember(_mentions_key(scanner, commits, current_blob, pending), [_mention_row(m) for m in mentions])
    return mentions


def _pending(versions: Mapping[tuple[str, str], str], current: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """Committed document versions to read: (path, blob, commit), newest first, unless on disk now."""
    return [(path, blob, commit) for (path, blob), commit in versions.items() if current.get(path) != blob]


def _mentions_key(
    scanner: _Scanner, commits: Collection[str], current: Mapping[str, str], pending: Sequence[tuple[str, str, str]]
) -> str:
    """What a scan's mentions depend on: the catalog's IDs and file names, the commits (a 12-hex
    token that names one is no revision), and every document version read, by blob."""
    digest = hashlib.blake2b(digest_size=16)
    for part in (
        sorted(scanner.known),
        sorted(scanner.file_names.items()),
        sorted(current.items()),
        list(pending),
    ):
        digest.update(json.dumps(part, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    # the history scan's CommitIds hold them as one string already
    digest.update(commits.joined().encode() if hasattr(commits, "joined") else "\n".join(sorted(commits)).encode())
    return digest.hexdigest()


def _mention_row(m: Mention) -> list:  # type: ignore[type-arg]
    return [m.revision, m.file_name, m.purpose, m.path, m.line, m.commit, [[c.kind, c.value] for c in m.claims], m.text]


def _mentions(rows: Any) -> list[Mention] | None:
    """Mentions from the rows ``_mention_row`` wrote; None if they are not that shape (read again)."""
    if not isinstance(rows, list):
        return None
    try:
        out = []
        for rev, file_name, purpose, path, line, commit, claims, text in rows:
            if not (
                isinstance(rev, str)
                and isinstance(path, str)
                and type(line) is int
                and isinstance(text, str)
                and all(v is None or isinstance(v, str) for v in (file_name, purpose, commit))
            ):
                return None
            out.append(
                Mention(
                    rev,
                    file_name,
                    purpose,
                    path,
                    line,
                    commit,
                    tuple(Claim(str(kind), str(value)) for kind, value in claims),
                    text,
                )
            )
        return out
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------- the evidence table


def catalog_file_names(catalog) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """File name -> revision ID for every path a catalog saw a revision under."""
    names: dict[str, str] = {}
    for rev, entry in catalog.entries.items():
        for candidate in entry.candidates:
            for sighting in candidate.sightings:
                if sighting.path:
                    names.setdefault(sighting.path.rsplit("/", 1)[-1], rev)
    return names


def collect_evidence(
    repo_root: Path,
    catalog: Catalog,
    *,
    git_dir: Path | None = None,
    history: tuple[Mapping[tuple[str, str], str], Collection[str]] | None = None,
    cache: EvidenceCache | None = None,
    tracked: Sequence[str] | None = None,
    prefetch: DocumentPrefetch | None = None,
    progress: Callable[[str, int, int | None], None] | None = None,
    stats: Mapping[str, os.stat_result] | None = None,
) -> list[Evidence]:
    """find_mentions + evidence_table with the catalog's IDs and file names; ``cache`` (an
    ``EvidenceCache``) is saved afterwards."""
    mentions = find_mentions(
        repo_root,
        catalog.entries,
        git_dir=git_dir,
        file_names=catalog_file_names(catalog),
        history=history,
        cache=cache,
        tracked=tracked,
        prefetch=prefetch,
        progress=progress,
        stats=stats,
    )
    if cache is not None:
        cache.save()
    return evidence_table(mentions, catalog)


def evidence_table(mentions: Sequence[Mention], catalog) -> list[Evidence]:  # type: ignore[no-untyped-def]
    """One row per revision named anywhere, in order of first mention (working tree before history)."""
    by_name = catalog_file_names(catalog)
    grouped: dict[str, list[Mention]] = {}
    ordered = sorted(mentions, key=lambda m: (m.commit is not None, m.path, m.line))
    for mention in ordered:
        rev = mention.revision
        if rev not in catalog.entries and mention.file_name in by_name:
            rev = by_name[mention.file_name]
            mention = dataclasses.replace(mention, revision=rev)
        grouped.setdefault(rev, []).append(mention)

    rows = []
    for rev, group in grouped.items():
        entry = catalog.entries.get(rev)
        file_name = _most_common(m.file_name for m in group)
        if file_name is None and entry is not None:
            paths = [s.path for s in entry.chosen.sightings if s.path]
            file_name = paths[-1].rsplit("/", 1)[-1] if paths else None
        purpose = next((m.purpose for m in group if m.purpose), None)
        claims = list(dict.fromkeys(c for m in group for c in m.claims))
        checks = tuple(_check(claim, entry, catalog) for claim in claims)
        rows.append(Evidence(rev, file_name, purpose, tuple(group), _status(rev, entry, catalog), checks))
    return rows


def _most_common(values: Iterable[str | None]) -> str | None:
    counts: dict[str, int] = {}
    for value in values:
        if value:
            counts[value] = counts.get(value, 0) + 1
    return max(counts, key=counts.__getitem__) if counts else None


def _status(rev: str, entry, catalog) -> str:  # type: ignore[no-untyped-def]
    if entry is None:
        broken = [u for u in catalog.unparseable if u.revision_hint == rev]
        if broken:
            where = sorted({s.source for u in broken for s in u.sightings})
            return f"lost (an unparseable copy exists in {', '.join(where)})"
        return "lost"
    if entry.present:
        return "present"
    places: dict[str, None] = {}
    for candidate in entry.candidates:
        for s in candidate.sightings:
            if s.source == "stash" and s.ref:
                places.setdefault(s.ref, None)
            elif s.source == "reflog":
                places.setdefault(f"reflog {s.ref}" if s.ref else "reflog", None)
            elif s.source == "unreachable":
                places.setdefault("unreachable objects", None)
            else:
                places.setdefault(s.source, None)
    return "recoverable from " + ", ".join(places)


_DIGESTS = {"sha256": hashlib.sha256, "sha1": hashlib.sha1, "md5": hashlib.md5}


def _check(claim: Claim, entry, catalog) -> ClaimCheck:  # type: ignore[no-untyped-def]  # noqa: C901  complexity 18: split with the module split (issue 20)
    candidates = list(entry.candidates) if entry is not None else []
    if claim.kind in ("applied", "expected-stamp"):
        return ClaimCheck(claim, "unchecked", "a claim about a database; `check --db` or `verify` can test it")
    if not candidates:
        return ClaimCheck(claim, "unchecked", "no recovered version to compare with")
    if claim.kind == "size":
        sizes = ", ".join(str(c.size) for c in candidates)
        if not claim.value.isdigit():
            return ClaimCheck(
                claim, "unchecked", f"approximate size {claim.value}; recovered versions are {sizes} bytes"
            )
        for c in candidates:
            if c.size == int(claim.value):
                return ClaimCheck(claim, "match", f"{claim.value} bytes = recovered blob {c.blob[:8]} ({c.size} bytes)")
        return ClaimCheck(claim, "mismatch", f"claims {claim.value} bytes; recovered versions are {sizes}")
    if claim.kind in ("sha256", "sha1", "md5", "hash"):
        kinds = [claim.kind] if claim.kind in _DIGESTS else [*_DIGESTS, "git blob"]
        for c in candidates:
            data = catalog.content(c.blob)
            for kind in kinds:
                digest = c.blob if kind == "git blob" else _DIGESTS[kind](data).hexdigest()
                if digest.startswith(claim.value.lower()):
                    return ClaimCheck(claim, "match", f"{kind} {claim.value} = recovered blob {c.blob[:8]}")
        return ClaimCheck(
            claim, "mismatch", f"{claim.kind} {claim.value} matches none of {len(candidates)} recovered version(s)"
        )
    if claim.kind == "date":
        days = sorted({s.date[:10] for c in candidates for s in c.sightings if s.date})
        for c in candidates:
            for s in c.sightings:
                if s.date and s.date[:10] == claim.value:
                    where = f"commit {s.commit[:10]}" if s.commit else s.source
                    return ClaimCheck(claim, "match", f"{s.event} in {s.source} on {claim.value} ({where})")
        span = f"{days[0]} to {days[-1]}" if days else "undated"
        return ClaimCheck(claim, "unchecked", f"no sighting on {claim.value}; sightings {span}")
    if claim.kind == "file-name":
        names = sorted({s.path.rsplit("/", 1)[-1] for c in candidates for s in c.sightings if s.path})
        if claim.value in names:
            return ClaimCheck(claim, "match", f"a recovered version was stored as {claim.value}")
        if not names:
            return ClaimCheck(claim, "unchecked", "recovered versions carry no file name")
        return ClaimCheck(claim, "mismatch", f"recovered versions were named {', '.join(names)}")
    return ClaimCheck(claim, "unchecked", f"no check for {claim.kind} claims")
