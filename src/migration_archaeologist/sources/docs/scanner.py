"""Revision IDs named in a line of a document, with what the line claims about each.

A known ID or a revision file's name counts anywhere; an unknown ID-like token (12 hex digits, a
dated ID, one after ``revision:`` or ``alembic stamp``) only near migration talk. Sizes, hashes,
dates and "applied" on the line become :class:`Claim` s of the revision they follow; a table's
Purpose cell or a list item's words, its purpose. Database URLs' passwords are masked.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence

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


#: Migration talk: the words near which an unknown ID-like token counts ("down_revision" holds "revision")
CONTEXT_WORDS = ("revision", "migration", "alembic", "revises", "stamp", "version_num", "expected:")
_CONTEXT = re.compile("|".join(CONTEXT_WORDS), re.I)
_HASH = re.compile(
    r"\b(sha-?256|sha-?1|md5|hash|checksum|digest)\b[\s:=`'\"*]*([0-9a-fA-F]{8,64})(?![0-9a-zA-Z_])", re.I
)
PY_NAME = re.compile(r"\.py\b")
_FILE = re.compile(r"(?<![\w.])(?:[\w.\-]*/)*([A-Za-z0-9][A-Za-z0-9_]*)\.py\b")
HEX12 = re.compile(r"(?<![\w#-])(?<!0x)([0-9a-f]{12})(?![\w-])")
DATED = re.compile(r"(?<![\w-])(\d{8,14}_[a-z0-9_]*[a-z][a-z0-9_]*)(?![\w-])")
EXPLICIT = re.compile(
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
TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_PURPOSE_HEADER = re.compile(r"purpose|description|summary|message|change", re.I)


WORD = re.compile(r"(?<![\w])(\w+)(?![\w])")
#: the password of a database URL a document quotes (``scheme://user:password@host``), never shown in a report
_URL_PASSWORD = re.compile(r"(://[^\s:/@]*:)\S*@")
#: a credential in a quoted URL's query string (``?password=``, ``&passwd=``, ``sslpassword=``…); the
#: same keys as database.urls, not imported from there so a scan does not load SQLAlchemy
_QUERY_SECRET = re.compile(
    r"(?i)((?:[?&;]|%26)[\w.-]*(?:password|passwd|pwd|passphrase|secret|token|api_?key|access_?key|credentials?)=)[^&;#\s]*"
)


def masked(text: str) -> str:
    """``text`` with the passwords of the database URLs it quotes replaced by ***."""
    return _QUERY_SECRET.sub(r"\1***", _URL_PASSWORD.sub(r"\1***@", text))


class _KnownIds:
    """Whole-token search for known IDs: one word regex and a set lookup.

    A regex alternation of hundreds of IDs costs 40 ms just to compile; IDs made of word
    characters (nearly all) are found by tokenising instead, the rare others by a small regex.
    """

    def __init__(self, ids: Sequence[str]) -> None:
        self.words = frozenset(i for i in ids if WORD.fullmatch(i))
        others = [i for i in ids if i not in self.words]
        alternatives = "|".join(re.escape(k) for k in others)
        self.other = re.compile(rf"(?<![\w])({alternatives})(?![\w])") if others else None
        self.known_others = tuple(others)

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        # most texts name no known ID: asking the set about every word at once (in C) settles that
        found = (
            []
            if self.words.isdisjoint(WORD.findall(text))
            else [m for m in WORD.finditer(text) if m.group(1) in self.words]
        )
        if self.other is not None:
            found += list(self.other.finditer(text))
            found.sort(key=lambda m: m.start())
        return iter(found)

    def search(self, text: str) -> re.Match[str] | None:
        return next(self.finditer(text), None)


class Scanner:
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
            cells = table_cells(raw)
            if cells is not None and index + 1 < len(lines) and TABLE_SEP.match(lines[index + 1]):
                header = cells
            elif cells is None and raw.strip():
                header = None
            if wanted is not None and index + 1 not in wanted:
                continue
            previous = bool(index and _CONTEXT.search(lines[index - 1]))
            mentions.extend(self.line(raw, previous, path, index + 1, commit, header))
        return mentions

    def line(
        self, raw: str, previous: bool, path: str, number: int, commit: str | None, header: list[str] | None
    ) -> list[Mention]:
        line = raw.rstrip("\n")
        hashes = [(m.start(), m.end(), m) for m in _HASH.finditer(line)]
        context = previous or bool(_CONTEXT.search(line))  # previous: migration talk on the line before
        found: dict[str, int] = {}  # revision -> first position
        spans: list[tuple[int, int]] = []
        files = self._files(line, found, spans)
        self._known_tokens(line, context, hashes, spans, found)
        if context:
            for start, end, token in self._candidates(line):
                if _free(hashes, spans, start) and not _uuid_part(line, start, end):
                    found.setdefault(token, start)
        if not found:
            return []

        order = sorted(found, key=found.__getitem__)
        claims = _claims(line, hashes, found, order)
        file_of = _file_of(files, order)
        purpose = _purpose(line, header, order, spans, hashes)
        purpose = purpose and masked(purpose)
        text = masked(line.strip())[:MAX_TEXT]
        result = []
        for rev in order:
            rev_claims = list(dict.fromkeys(claims[rev]))
            if rev in file_of:
                rev_claims.append(Claim("file-name", file_of[rev]))
            result.append(Mention(rev, file_of.get(rev), purpose, path, number, commit, tuple(rev_claims), text))
        return result

    def _files(
        self, line: str, found: dict[str, int], spans: list[tuple[int, int]]
    ) -> list[tuple[int, str, str | None]]:
        """The ``.py`` file names on ``line`` as (position, file name, resolved revision); their spans
        go to ``spans`` and their revisions' first positions to ``found``."""
        files: list[tuple[int, str, str | None]] = []  # position, file name, resolved revision
        for m in _FILE.finditer(line):
            rev = self.resolve_file(m.group(1))
            files.append((m.start(), m.group(1) + ".py", rev))
            spans.append((m.start(), m.end()))
            if rev is not None:
                found.setdefault(rev, m.start())
        return files

    def _known_tokens(
        self,
        line: str,
        context: bool,
        hashes: list[tuple[int, int, re.Match[str]]],
        spans: list[tuple[int, int]],
        found: dict[str, int],
    ) -> None:
        """Add the known IDs on ``line`` (outside hashes, file names and UUIDs) to ``found``."""
        if self.known_re is None:
            return
        for m in self.known_re.finditer(line):
            token = m.group(1)
            if not _free(hashes, spans, m.start()) or _uuid_part(line, m.start(), m.end()):
                continue
            if not re.search(r"[\d_]", token) and not context:
                continue  # a revision named like an English word counts only near migration talk
            found.setdefault(token, m.start())

    def _candidates(self, line: str) -> list[tuple[int, int, str]]:
        """Unknown ID-like tokens on a line near migration talk, as (start, end, token): 12-hex tokens
        that name no commit, dated IDs, then the IDs after ``revision:``, ``alembic stamp``…"""
        candidates = [(m.start(), m.end(), m.group(1)) for m in HEX12.finditer(line)]
        candidates = [
            c
            for c in candidates
            if re.search(r"\d", c[2]) and re.search(r"[a-f]", c[2]) and c[2] not in self.commit_prefixes
        ]
        candidates += [(m.start(), m.end(), m.group(1)) for m in DATED.finditer(line)]
        for m in EXPLICIT.finditer(line):
            token = m.group(1)
            if token.lower() in _NOT_IDS or not re.search(r"[\d_]", token) or token.isdigit():
                continue
            if line[m.start(1) - 1 : m.start(1)] == "<":
                continue
            candidates.append((m.start(1), m.end(1), token))
        return candidates


def _in_hash(hashes: list[tuple[int, int, re.Match[str]]], pos: int) -> bool:
    """Whether ``pos`` falls inside one of the line's hash claims."""
    return any(start <= pos < end for start, end, _ in hashes)


def _free(hashes: list[tuple[int, int, re.Match[str]]], spans: list[tuple[int, int]], start: int) -> bool:
    """Whether a token starting at ``start`` is outside the line's hashes and file names."""
    return not _in_hash(hashes, start) and not any(s <= start < e for s, e in spans)


def _uuid_part(line: str, start: int, end: int) -> bool:
    """Whether the token at ``line[start:end]`` is one group of a UUID."""
    before, after = line[max(0, start - 2) : start], line[end : end + 2]
    return bool(re.fullmatch(r"[0-9a-fA-F]-", before) or re.fullmatch(r"-[0-9a-fA-F]", after))


def _claims(
    line: str, hashes: list[tuple[int, int, re.Match[str]]], found: Mapping[str, int], order: list[str]
) -> dict[str, list[Claim]]:
    """The hashes, sizes, dates, "applied" and expected stamps on ``line``, each the claim of the
    revision named last before it (the first one if none is)."""
    claims: dict[str, list[Claim]] = {rev: [] for rev in order}

    def owner(pos: int) -> str:
        before = [rev for rev in order if found[rev] <= pos]
        return before[-1] if before else order[0]

    for start, _end, m in hashes:
        kind = m.group(1).lower().replace("-", "")
        kind = kind if kind in ("sha256", "sha1", "md5") else "hash"
        claims[owner(start)].append(Claim(kind, m.group(2).lower()))
    for m in _SIZE_EXACT.finditer(line):
        if not _in_hash(hashes, m.start()):
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
    return claims


def _file_of(files: list[tuple[int, str, str | None]], order: list[str]) -> dict[str, str]:
    """The file name each revision goes by: the first file name resolved to it, else the line's one
    unresolved file name."""
    file_of: dict[str, str] = {}
    loose = [name for _pos, name, rev in files if rev is None]
    for _pos, name, rev in files:
        if rev is not None:
            file_of.setdefault(rev, name)
    if len(loose) == 1:  # a row naming one file and, in another cell, its revision
        for rev in order:
            file_of.setdefault(rev, loose[0])
    return file_of


def table_cells(line: str) -> list[str] | None:
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
    cells = table_cells(line)
    if cells is not None:
        if header is None or TABLE_SEP.match(line):
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
