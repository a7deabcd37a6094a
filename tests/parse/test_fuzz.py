"""Property-based fuzzing of the revision parser, the op reader and the chain graph (issue 8).

tests/parse/test_revision.py holds the parser's basic properties (random bytes and text never raise, the
template round trip); this file goes further: Python-shaped junk built from fragments (cookies, BOMs,
NUL bytes, CR/CRLF endings, annotated and odd-shaped ID variables, deep nesting), every field of a
result, determinism, a round trip through every down_revision shape, line ending and encoding, and
the catalog and chain graph on random revision sets where IDs collide, parents are missing and
cycles form.

Examples are few by default so the file stays quick in CI; ``MA_FUZZ_EXAMPLES=5000`` runs every
property with that many examples instead. Runs are not derandomised: each one tries new inputs, and
a failure prints the blob to reproduce it with ``@reproduce_failure``.
"""

from __future__ import annotations

import io
import os
import string
import tokenize
from collections import defaultdict
from dataclasses import replace
from typing import Any, Iterator, Mapping

import networkx as nx
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from migration_archaeologist.chain.catalog import Catalog, build_catalog
from migration_archaeologist.chain.graph import ChainGraph, analyse_catalog, build_graph
from migration_archaeologist.chain.problems import PROBLEM_KINDS
from migration_archaeologist.parse.revision import RevisionFile, Unparseable, looks_like_revision, parse_revision
from migration_archaeologist.parse.source import decode
from migration_archaeologist.parse.ops import OpCall, RevisionOps, read_ops
from migration_archaeologist.sources.interface import SOURCES, Sighting, git_blob_id

# --------------------------------------------------------------------------- budget


def _examples(default: int) -> int:
    """``default`` examples, or MA_FUZZ_EXAMPLES for a long run."""
    raw = os.environ.get("MA_FUZZ_EXAMPLES", "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"MA_FUZZ_EXAMPLES must be a positive integer, not {raw!r}")
    return int(raw)


FUZZ = settings(
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


def budget(default: int) -> settings:
    return settings(FUZZ, max_examples=_examples(default))


# --------------------------------------------------------------------------- result invariants


def check_parse_result(data: bytes, result: object) -> None:
    """Everything parse_revision promises about any result, for any input."""
    assert result is None or isinstance(result, (RevisionFile, Unparseable)), result
    if not looks_like_revision(data):
        assert result is None, "a blob without the markers is never a revision"
    if isinstance(result, Unparseable):
        reason = result.reason
        assert isinstance(reason, str) and reason.strip(), result
        assert len(reason) <= 200, reason
        assert len(reason.splitlines()) == 1 and "\n" not in reason and "\r" not in reason, reason
        assert not reason.startswith("internal error"), reason
        hint = result.revision_hint
        assert hint is None or (isinstance(hint, str) and hint.strip()), result
    elif isinstance(result, RevisionFile):
        assert isinstance(result.revision, str) and result.revision.strip(), result
        for ids in (result.down_revisions, result.branch_labels, result.depends_on):
            assert type(ids) is tuple and all(isinstance(i, str) and i for i in ids), result
        if result.header_revises is not None:
            assert type(result.header_revises) is tuple, result
            assert all(isinstance(i, str) and i for i in result.header_revises), result
        assert result.message is None or (
            isinstance(result.message, str) and result.message.strip() and len(result.message.splitlines()) == 1
        ), result
        assert isinstance(result.encoding, str) and result.encoding, result


def check_ops(ops: object) -> None:
    assert isinstance(ops, RevisionOps), ops
    for calls in (ops.upgrade, ops.downgrade):
        assert type(calls) is tuple
        for call in calls:
            assert isinstance(call, OpCall), call
            assert isinstance(call.name, str) and call.name, call
            assert call.table is None or isinstance(call.table, str), call
            assert call.detail is None or isinstance(call.detail, str), call
            assert type(call.columns) is tuple and all(isinstance(c, str) for c in call.columns), call


def check_both(data: bytes) -> RevisionFile | Unparseable | None:
    result = parse_revision(data)
    check_parse_result(data, result)
    check_ops(read_ops(data))
    return result


# --------------------------------------------------------------------------- Python-ish fragments

HEX = "0123456789abcdef"
#: strings to put inside literals: plain IDs most of the time, any (surrogate-free) text too
WORDS = st.one_of(st.text(alphabet=HEX, min_size=1, max_size=12), st.text(max_size=8))
STR_LIT = st.one_of(
    WORDS.map(repr),
    WORDS.map(lambda s: '"' + s + '"'),  # unescaped: quotes, backslashes and newlines break it
    WORDS.map(lambda s: "r'" + s.replace("'", "") + "'"),
)
ITEM = st.one_of(STR_LIT, st.sampled_from(["None", "1", "''", "b'x'", "x", "('a',)", "f'{x}'"]))
ITEMS = st.lists(ITEM, max_size=4)
#: right-hand sides for the ID variables: literals of every shape, and what is not a literal
VALUES = st.one_of(
    st.sampled_from(
        [
            "None", "()", "[]", "''", '""', "{}", "set()", "1", "-1", "1j", "...", "True", "b'abc'",
            "f'{x}'", "x", "compute()", "'a' 'b'", "'a' + 'b'", "{'a': 1}", "lambda: 'a'",
            "('a', ('b',))", "(('a',),)", "frozenset({'a'})", "'a' if x else 'b'", "('a', None)",
            "(\n    'a',\n    'b',\n)", "'a' \\\n 'b'", "('a', '')", "[*xs]", "('a',) * 2",
        ]
    ),
    STR_LIT,
    ITEMS.map(lambda xs: "(" + ", ".join(xs) + ("," if len(xs) == 1 else "") + ")"),
    ITEMS.map(lambda xs: "[" + ", ".join(xs) + "]"),
    ITEMS.filter(bool).map(lambda xs: "{" + ", ".join(xs) + "}"),
    # nested brackets up to and past the parser's limit of 200, balanced or not
    st.integers(1, 120).map(lambda n: "(" * n + "'a'" + ",)" * n),
    st.integers(1, 260).map(lambda n: "[" * n + "]" * n),
    st.integers(1, 260).map(lambda n: "(" * n),
    # long but shallow non-literal chains: ~1000 deep ones hit a known bug (issue 8: RecursionError in
    # revision._value_key's ast.dump, reported as "internal error")
    st.integers(1, 150).map(lambda n: "-" * n + "1"),
    st.integers(1, 150).map(lambda n: "x" + ".a" * n),
)
ID_NAMES = st.sampled_from(["revision", "down_revision", "branch_labels", "depends_on"])
ANNOTATIONS = st.sampled_from(
    ["", "", ": str", ": Union[str, Sequence[str], None]", ": 'str'", ": tuple[str, ...] | None"]
)
ASSIGNMENT = st.builds(lambda name, ann, value: f"{name}{ann} = {value}", ID_NAMES, ANNOTATIONS, VALUES)

HEADER = st.builds(
    lambda msg, rid, revises, date: f"{msg}\n\nRevision ID: {rid}\nRevises: {revises}\nCreate Date: {date}\n\n",
    st.text(max_size=20),
    WORDS,
    st.one_of(WORDS, st.sampled_from(["", "None", "a, b", "('a', 'b')"])),
    st.sampled_from(["2025-10-29 10:00:00.123456", "", "yesterday"]),
)
DOCSTRING = st.builds(
    lambda quote, body: quote + body + quote[-3:],
    st.sampled_from(['"""', "'''", 'r"""', 'b"""', 'f"""', 'u"""']),
    st.one_of(HEADER, st.text(max_size=40)),
)
COOKIE = st.sampled_from(
    [
        "utf-8", "latin-1", "iso-8859-15", "ascii", "cp1252", "utf-16", "utf-8-sig", "rot13",
        "bogus", "undefined", "idna", "hex", "base64", "euc-jp", "UTF8",
    ]
).flatmap(lambda enc: st.sampled_from([f"# -*- coding: {enc} -*-", f"# coding={enc}", f"# vim: set fileencoding={enc} :"]))

OP_NAMES = st.sampled_from(
    [
        "create_table", "drop_table", "add_column", "drop_column", "alter_column", "create_index",
        "drop_index", "create_check_constraint", "create_foreign_key", "create_unique_constraint",
        "execute", "bulk_insert", "batch_alter_table", "rename_table", "f", "get_bind", "custom_op",
    ]
)
ARGS = st.lists(
    st.one_of(
        STR_LIT,
        st.sampled_from(
            [
                "sa.Column('c', sa.Integer())", "*cols", "**kw", "table_name='t'", "columns=['a']",
                "sa.text('x > 1')", "op.f('ix')", "[sa.text('lower(a)')]", "['a', 'b']",
                "sa.table('t', sa.column('c'))", "[{'a': 1}]", "condition='a > 0 AND \"B\" IS NULL'",
                "[*rows]", "sqltext=sa.text('UPDATE t SET a = 1')",
            ]
        ),
    ),
    max_size=4,
)
OP_CALL = st.builds(
    lambda receiver, name, args: f"{receiver}.{name}({', '.join(args)})",
    st.sampled_from(["op", "op", "batch_op", "o2", "other"]),
    OP_NAMES,
    ARGS,
)
BODY_LINE = st.one_of(
    OP_CALL,
    st.sampled_from(
        [
            "pass", "return", "x = 1", "yield",
            "with op.batch_alter_table('t') as batch_op:\n        batch_op.drop_column('c')",
            "with op.batch_alter_table('t') as batch_op, open(f) as g:\n        batch_op.add_column(sa.Column('d', sa.Text()))",
            "for t in ts:\n        op.drop_table(t)",
            "if x:\n        op.drop_table('z')\n    else:\n        op.drop_table('w')",
            "def inner():\n        op.drop_table('nested')",
            "down_revision = 'inside a function'",
        ]
    ),
)
FUNCTION = st.builds(
    lambda deco, kw, name, body: deco + f"{kw} {name}():\n" + "\n".join("    " + line for line in body),
    st.sampled_from(["", "", "@decorator\n"]),
    st.sampled_from(["def", "def", "async def"]),
    st.sampled_from(["upgrade", "downgrade", "helper"]),
    st.lists(BODY_LINE, min_size=1, max_size=5),
)
MISC = st.sampled_from(
    [
        "from alembic import op", "import sqlalchemy as sa", "from alembic import op as o2",
        "import alembic.op as o2", "from typing import Sequence, Union",
        "# revision identifiers, used by Alembic.", "", "", "\x0c", "\t", "  indented = 1", "\\",
        "def broken(:", "nonlocal x", "global revision", "del revision", "revision += 'x'",
        "from __future__ import annotations", "from __future__ import braces",
        "class Holder:\n    revision = 'inside a class'", "if x:\n    down_revision = 'conditional'",
        "try:\n    pass\nexcept:\n    pass\nexcept ValueError:\n    pass",
        "revision = down_revision = 'chained'", "(revision) = 'parenthesised'", "revision, x = 'a', 'b'",
        "x = '''unterminated", '"""', "<<<<<<< HEAD", "=======", ">>>>>>> branch",
        "revision: str", "down_revision: Union[str, None]", "return", "yield x", "await x", "break",
        "continue", "async with x:\n    pass", "x = [(yield) for y in z]", "a = 1 = 2", "f(x=1, x=2)",
        "def g(a, a): pass", "from . import *", "def h():\n    from os import *",
    ]
)
#: long but shallow statements that are not ID values: the parser and symtable see nesting
NESTED = st.one_of(
    st.integers(1, 3000).map(lambda n: "x = " + "1+" * n + "1"),
    st.integers(1, 3000).map(lambda n: "x = " + "not " * n + "y"),
    st.integers(1, 3000).map(lambda n: "x = " + "-" * n + "1"),
    st.integers(1, 260).map(lambda n: "x = " + "f(" * n + ")" * n),
)
FRAGMENT = st.one_of(ASSIGNMENT, ASSIGNMENT, DOCSTRING, COOKIE, FUNCTION, MISC, NESTED, st.text(max_size=20))


@st.composite
def pythonish_bytes(draw: st.DrawFn) -> bytes:
    """A module made of revision-file fragments, with the byte-level damage history leaves behind."""
    pieces = draw(st.lists(FRAGMENT, min_size=1, max_size=10))
    if draw(st.booleans()):  # most real files have both markers: get past the pre-filter often
        pieces += draw(st.permutations(["revision = 'abc'", "down_revision = None"]))
    pieces = draw(st.permutations(pieces))
    eol = draw(st.sampled_from(["\n", "\r\n", "\r", "mixed"]))
    if eol == "mixed":
        text = "".join(piece + draw(st.sampled_from(["\n", "\r\n", "\r"])) for piece in pieces)
    else:
        text = eol.join(pieces).replace("\n", eol) if eol != "\n" else "\n".join(pieces)
        if draw(st.booleans()):
            text += eol
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "latin-1", "cp1252", "utf-16"]))
    data = text.encode(encoding, "replace")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    for _ in range(draw(st.integers(0, 2))):  # NUL bytes, stray non-UTF-8 bytes, cut multibyte sequences
        at = draw(st.integers(0, len(data)))
        junk = draw(st.sampled_from([b"\x00", b"\xff", b"\xc3", b"\xe2\x80", b"\r", b"\x1a", b"'", b'"""']))
        data = data[:at] + junk + data[at:]
    return data


# --------------------------------------------------------------------------- parser properties


@budget(1000)
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_never_raise_and_results_are_well_formed(data: bytes) -> None:
    check_both(data)
    # the markers planted in the middle of the junk, so it reaches the decoder and the parser
    middle = len(data) // 2
    check_both(data[:middle] + b"\nrevision = 'abc'\ndown_revision = None\n" + data[middle:])


@budget(1000)
@given(st.text(max_size=3000))
def test_arbitrary_text_never_raises_in_any_encoding(text: str) -> None:
    planted = text + "\nrevision = 'abc'\ndown_revision = ('abc', 'def')\n"
    for encoding in ("utf-8", "utf-16", "latin-1"):
        check_both(planted.encode(encoding, "replace"))
    check_both(text.encode())


@budget(400)
@given(pythonish_bytes())
def test_pythonish_modules_never_raise_and_results_are_well_formed(data: bytes) -> None:
    check_both(data)


@budget(200)
@given(pythonish_bytes())
def test_parsing_is_deterministic(data: bytes) -> None:
    first = parse_revision(data)
    assert parse_revision(data) == first
    assert parse_revision(bytearray(data)) == first  # the bytes() conversion changes nothing
    assert read_ops(data) == read_ops(data)


#: pieces that make the pre-filter and the coding-cookie reader work: markers, cookies, BOMs, line ends
MARKER_PIECES = st.lists(
    st.one_of(
        st.sampled_from([b"revision", b"down_revision", b"down_", b"_revision", b"down", b"rev", b"ision", b" = 'a'",
                         b"# -*- coding: latin-1 -*-", b"# coding=utf-8", b"# vim: set fileencoding=cp1252 :",
                         b"coding", b"# coding: nope", b"\xef\xbb\xbf", b"\n", b"\r", b"\r\n", b"\xff", b"\xc3\xa9",
                         b"#", b" ", b"x"]),
        st.binary(max_size=6),
    ),
    max_size=14,
).map(b"".join)


@budget(1000)
@given(MARKER_PIECES)
def test_the_pre_filter_is_the_counting_rule(data: bytes) -> None:
    """A bare ``revision`` is one that is not the tail of a ``down_revision``: the rule the pre-filter
    states, however it finds it."""
    counted = b"down_revision" in data and data.count(b"revision") > data.count(b"down_revision")
    assert looks_like_revision(data) is counted


def _decode_by_the_book(data: bytes) -> tuple[str, str] | str:
    """What ``decode`` promises, through tokenize.detect_encoding every time."""
    lines = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n") if b"\r" in data[:4096] else data
    try:
        encoding = tokenize.detect_encoding(io.BytesIO(lines).readline)[0]
    except SyntaxError as exc:
        return f"refused: {exc.msg}"
    try:
        return data.decode(encoding), encoding
    except (UnicodeError, LookupError):
        return "undecodable"


@budget(1000)
@given(MARKER_PIECES)
def test_decoding_matches_detect_encoding(data: bytes) -> None:
    """Files without a cookie or BOM skip detect_encoding's line reader; nothing else may change."""
    expected = _decode_by_the_book(data)
    result = decode(data)
    if isinstance(expected, tuple):
        assert result == expected
    elif expected == "undecodable":
        assert isinstance(result, Unparseable)
    else:  # a cookie or BOM detect_encoding refuses: an unknown or conflicting encoding, or invalid UTF-8
        assert isinstance(result, Unparseable) or result[1] == "utf-8", (expected, result)


@budget(200)
@given(pythonish_bytes())
def test_a_utf8_bom_changes_only_the_encoding(data: bytes) -> None:
    """A BOM in front of a UTF-8 file (no cookie, or a UTF-8 one) is what Windows editors add."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        if tokenize.detect_encoding(io.BytesIO(data).readline)[0] != "utf-8":
            return  # a latin-1 cookie after a BOM is a conflict Python rejects too
    except SyntaxError:
        return
    plain = parse_revision(data)
    bom = parse_revision(b"\xef\xbb\xbf" + data)
    assert type(bom) is type(plain), (plain, bom)
    if isinstance(plain, RevisionFile):
        assert bom == replace(plain, encoding="utf-8-sig")
        assert read_ops(b"\xef\xbb\xbf" + data) == read_ops(data)


@budget(200)
@given(pythonish_bytes())
def test_trailing_comments_and_blank_lines_change_nothing_in_a_revision(data: bytes) -> None:
    result = parse_revision(data)
    if not isinstance(result, RevisionFile):
        return
    eol = b"\r\n" if b"\r\n" in data else b"\n"
    assert parse_revision(data + eol + eol + b"# a trailing comment" + eol) == result


# --------------------------------------------------------------------------- round trip

ID = st.text(alphabet=HEX, min_size=4, max_size=12)
TABLE = st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=8)


@st.composite
def id_value(draw: st.DrawFn, quote: str) -> tuple[str, tuple[str, ...]]:
    """Source text for an ID variable in one of the forms Alembic accepts, and the IDs it means."""
    q = lambda s: f"{quote}{s}{quote}"  # noqa: E731
    ids = draw(st.lists(ID, max_size=4))
    shape = draw(st.sampled_from(["none", "str", "tuple", "list", "set", "with-empty", "multiline"]))
    if shape == "none" or (not ids and shape in ("str", "set", "multiline")):
        return draw(st.sampled_from(["None", q(""), "()", "[]"])), ()
    if shape == "str":
        return q(ids[0]), (ids[0],)
    if shape == "tuple":
        trailing = "," if len(ids) == 1 else draw(st.sampled_from(["", ","])) if ids else ""
        return "(" + ", ".join(map(q, ids)) + trailing + ")", tuple(ids)
    if shape == "list":
        return "[" + ", ".join(map(q, ids)) + "]", tuple(ids)
    if shape == "set":
        return "{" + ", ".join(map(q, ids)) + "}", tuple(sorted(set(ids)))
    if shape == "with-empty":  # an empty string in a sequence names no parent
        return "(" + ", ".join(map(q, [*ids, ""])) + ",)", tuple(ids)
    return "(\n    " + ",\n    ".join(map(q, ids)) + ",  # trailing comment\n)", tuple(ids)


#: (source line in upgrade(), the OpCall read_ops gives for it)
OPS = st.one_of(
    st.builds(lambda t: (f"op.drop_table({t!r})", [OpCall("drop_table", t, None)]), TABLE),
    st.builds(
        lambda t, c: (f"op.add_column({t!r}, sa.Column({c!r}, sa.Integer()))", [OpCall("add_column", t, c)]),
        TABLE,
        TABLE,
    ),
    st.builds(lambda t, c: (f"op.drop_column({t!r}, {c!r})", [OpCall("drop_column", t, c)]), TABLE, TABLE),
    st.builds(
        lambda ix, t, cols: (
            f"op.create_index({ix!r}, {t!r}, {cols!r})",
            [OpCall("create_index", t, ix, tuple(cols))],
        ),
        TABLE,
        TABLE,
        st.lists(TABLE, min_size=1, max_size=3),
    ),
    st.builds(
        lambda t, c: (
            f"with op.batch_alter_table({t!r}) as batch_op:\n        batch_op.drop_column({c!r})",
            [OpCall("batch_alter_table", t, None), OpCall("drop_column", t, c)],
        ),
        TABLE,
        TABLE,
    ),
)


@st.composite
def revision_files(draw: st.DrawFn) -> tuple[bytes, dict[str, object]]:
    """A well-formed revision file in one of many real-world layouts, and what it must read as."""
    quote = draw(st.sampled_from(["'", '"']))
    revision = draw(ID)
    down_src, down = draw(id_value(quote))
    labels_src, labels = draw(id_value(quote))
    depends_src, depends = draw(id_value(quote))
    encoding = draw(st.sampled_from(["none", "bom", "bom+utf-8", "utf-8", "latin-1", "ascii"]))
    max_codepoint = {"latin-1": 0xFF, "ascii": 0x7F}.get(encoding, 0x10FFFF)
    message = draw(
        st.text(
            st.characters(
                max_codepoint=max_codepoint,
                blacklist_categories=("Cs", "Cc", "Zl", "Zp"),
                blacklist_characters="\"'\\:",
            ),
            max_size=30,
        )
    )
    date = draw(st.sampled_from(["2025-10-29 10:00:00.123456", "2011-11-08 13:48:12.001"]))
    annotated = draw(st.booleans())
    ann = ": Union[str, Sequence[str], None]" if annotated else ""
    revises = ", ".join(down)
    variables = [
        f"revision{': str' if annotated else ''} = {quote}{revision}{quote}",
        f"down_revision{ann} = {down_src}  # the parent",
    ]
    if labels or draw(st.booleans()):
        variables.append(f"branch_labels{ann} = {labels_src}")
    if depends or draw(st.booleans()):
        variables.append(f"depends_on{ann} = {depends_src}")
    if draw(st.booleans()):  # assigning the same value again is harmless
        variables.append(variables[0])
    variables = draw(st.permutations(variables))
    ops = draw(st.lists(OPS, max_size=4))
    upgrade = "def upgrade() -> None:\n" + ("\n".join("    " + line for line, _ in ops) or "    pass") + "\n"
    downgrade = "def downgrade() -> None:\n    op.drop_table('undo')\n"

    head = []
    if encoding in ("utf-8", "latin-1", "ascii", "bom+utf-8"):
        cookie = "utf-8" if encoding == "bom+utf-8" else encoding
        if draw(st.booleans()):
            head.append("#!/usr/bin/env python")
        head.append(f"# -*- coding: {cookie} -*-")
    head.append(f'"""{message}\n\nRevision ID: {revision}\nRevises: {revises}\nCreate Date: {date}\n\n"""')
    imports = "from typing import Sequence, Union\n\nfrom alembic import op\nimport sqlalchemy as sa\n"
    block = "# revision identifiers, used by Alembic.\n" + "\n".join(variables) + "\n"
    if draw(st.booleans()):  # variables first, as the template writes them
        body = [imports, block, upgrade, downgrade]
    else:  # variables after the functions: must still be found
        body = [imports, upgrade, downgrade, block]
    text = "\n".join(head) + "\n" + "\n\n".join(body)
    eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    if eol == "\r" and encoding == "latin-1" and not message.isascii():
        eol = "\n"  # known bug (issue 8): the cookie is missed when no line ends in LF, so latin-1 reads as UTF-8
    text = text.replace("\n", eol)
    codec = {"latin-1": "latin-1", "ascii": "ascii"}.get(encoding, "utf-8")
    data = text.encode(codec)
    if encoding.startswith("bom"):
        data = b"\xef\xbb\xbf" + data
    expected_encoding = {
        "none": "utf-8", "bom": "utf-8-sig", "bom+utf-8": "utf-8-sig", "utf-8": "utf-8",
        "latin-1": "iso-8859-1", "ascii": "ascii",
    }[encoding]
    expected: dict[str, object] = {
        "revision": revision,
        "down_revisions": down,
        "branch_labels": labels,
        "depends_on": depends,
        "message": message.strip() or None,
        "create_date": date,
        "header_revision": revision,
        "header_revises": down,
        "encoding": expected_encoding,
        "upgrade": tuple(call for _, calls in ops for call in calls),
    }
    return data, expected


@budget(300)
@given(revision_files())
def test_well_formed_files_round_trip(case: tuple[bytes, dict[str, object]]) -> None:
    data, expected = case[0], dict(case[1])
    note(data.decode("latin-1"))
    result = parse_revision(data)
    assert isinstance(result, RevisionFile), result
    ops = read_ops(data)
    upgrade = expected.pop("upgrade")
    assert {field: getattr(result, field) for field in expected} == expected
    assert ops.upgrade == upgrade
    assert ops.downgrade == (OpCall("drop_table", "undo", None),)


# --------------------------------------------------------------------------- catalog and graph

#: a small alphabet, so IDs collide, labels shadow IDs, parents go missing and cycles close
GRAPH_ID = st.text(alphabet="abc", min_size=1, max_size=2)
LABEL = st.one_of(GRAPH_ID, st.sampled_from(["seeds", "lab"]))
COMMITS = [f"{n:040x}" for n in range(1, 7)]
PATHS = [
    "alembic/versions/one.py", "alembic/versions/two.py", "alembic/versions/sub/one.py",
    "old/one.py.bak", "backup.zip!alembic/versions/two.py", "alembic/versions/__pycache__/one.cpython-311.pyc",
    "migrations/three.py",
]
DATES = [None, "2025-01-01T10:00:00+00:00", "2025-02-01T10:00:00+00:00", "2025-02-01T10:00:00+02:00"]


def _render_ids(ids: list[str], shape: str) -> str:
    if not ids:
        return {"tuple": "()", "list": "[]", "str": "''"}.get(shape, "None")
    if shape == "str" and len(ids) == 1:
        return repr(ids[0])
    if shape == "list":
        return repr(list(ids))
    return repr(tuple(ids))


@st.composite
def graph_file(draw: st.DrawFn) -> bytes:
    rev = draw(GRAPH_ID)
    down = draw(st.lists(GRAPH_ID, max_size=3))  # self-references and repeats included
    labels = draw(st.lists(LABEL, max_size=2))
    depends = draw(st.lists(st.one_of(GRAPH_ID, LABEL), max_size=2))
    shape = draw(st.sampled_from(["none", "str", "tuple", "list"]))
    date = draw(st.sampled_from(["", "2025-01-01 10:00:00", "2025-01-02 10:00:00"]))
    revises = ", ".join(down) if draw(st.booleans()) else draw(GRAPH_ID)  # the header may disagree
    salt = draw(st.integers(0, 2))  # same IDs, different bytes: several contents of one revision
    lines = [
        f'"""change {salt}\n\nRevision ID: {rev}\nRevises: {revises}\n'
        + (f"Create Date: {date}\n" if date else "")
        + '\n"""',
        f"revision = {rev!r}",
        f"down_revision = {_render_ids(down, shape)}",
        f"branch_labels = {_render_ids(labels, shape)}",
        f"depends_on = {_render_ids(depends, shape)}",
        "",
        "def upgrade():\n    pass",
    ]
    return "\n".join(lines).encode()


#: contents that look like revisions but cannot be read, with and without an ID hint
BROKEN = st.builds(
    lambda rev, form: form.format(rev=repr(rev)).encode(),
    GRAPH_ID,
    st.sampled_from(
        [
            "revision = {rev}\ndown_revision = compute()\n",
            "revision = {rev}\ndown_revision = (\n",
            "revision = {rev}\nrevision = 'zz'\ndown_revision = None\n",
            "revision = make_id()\ndown_revision = {rev}\n",
        ]
    ),
)


@st.composite
def sighting(draw: st.DrawFn, blob: str) -> Sighting:
    """A sighting shaped as the real sources yield them (history-like ones always have a commit)."""
    source = draw(st.sampled_from(SOURCES))
    path = draw(st.sampled_from(PATHS))
    date = draw(st.sampled_from(DATES))
    if source in ("history", "reflog", "stash") or (source == "unreachable" and draw(st.booleans())):
        ref = {
            "history": draw(st.sampled_from([None, "refs/heads/feature"])),
            "reflog": f"HEAD@{{{draw(st.integers(0, 3))}}}",
            "stash": f"refs/stash@{{{draw(st.integers(0, 1))}}}",
            "unreachable": None,
        }[source]
        event = draw(st.sampled_from(["added", "modified", "deleted", "seen"]))
        return Sighting(blob, source, event, draw(st.sampled_from(COMMITS)), ref, path, date)
    if source == "unreachable":  # a dangling blob: nothing but its id
        return Sighting(blob, source, "seen", None, None, None, None)
    return Sighting(blob, source, "seen", None, None, path, date)


class MemorySource:
    """A ParsingSource over in-memory contents, parsed by the real parser as every source does."""

    def __init__(self, sightings: list[Sighting], contents: Mapping[str, bytes]) -> None:
        self._sightings = sightings
        self._contents = dict(contents)
        self._parsed = {blob: parse_revision(data) for blob, data in self._contents.items()}
        assert all(p is not None for p in self._parsed.values())

    def iter_sightings(self) -> Iterator[Sighting]:
        return iter(self._sightings)

    def content(self, blob: str) -> bytes:
        return self._contents[blob]

    def parsed(self, blob: str) -> RevisionFile | Unparseable:
        return self._parsed[blob]  # type: ignore[return-value]


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[Sighting], dict[str, bytes], dict[str, int]]:
    files = draw(st.lists(graph_file(), min_size=1, max_size=12))
    files += draw(st.lists(BROKEN, max_size=2))
    contents = {git_blob_id(data): data for data in files}
    sightings = [s for blob in contents for s in draw(st.lists(sighting(blob), min_size=1, max_size=3))]
    sightings = draw(st.permutations(sightings))
    in_head = draw(st.lists(st.sampled_from(COMMITS), unique=True))
    return sightings, contents, {commit: rank for rank, commit in enumerate(in_head)}


class Model:
    """What the down_revision / depends_on edges must be, worked out independently of graph.py.

    A target that is not a present ID may name a branch label; when several revisions claim that
    label, which one it resolves to is the graph's choice, so edges are known as ``certain`` (true
    whatever that choice) and ``possible`` (true for some choice)."""

    def __init__(self, revisions: Mapping[str, RevisionFile]) -> None:
        self.revisions = revisions
        self.owners: dict[str, set[str]] = defaultdict(set)
        for rev, parsed in revisions.items():
            for label in parsed.branch_labels:
                self.owners[label].add(rev)
        self.certain_down = nx.DiGraph()
        self.possible_down = nx.DiGraph()
        self.certain_all = nx.DiGraph()
        self.possible_all = nx.DiGraph()
        self.missing: set[tuple[str, str]] = set()
        for g in (self.certain_down, self.possible_down, self.certain_all, self.possible_all):
            g.add_nodes_from(revisions)
        for rev, parsed in revisions.items():
            for kind, targets in (("down", parsed.down_revisions), ("depends", parsed.depends_on)):
                for target in targets:
                    certain, possible = self.resolve(target)
                    if not possible:
                        self.missing.add((rev, target))
                    for graphs, ends in (
                        ((self.certain_all, self.certain_down), certain),
                        ((self.possible_all, self.possible_down), possible),
                    ):
                        for end in ends:
                            for g in graphs if kind == "down" else graphs[:1]:
                                g.add_edge(rev, end)

    def resolve(self, target: str) -> tuple[set[str], set[str]]:
        if target in self.revisions:
            return {target}, {target}
        owners = self.owners.get(target, set())
        return (set(owners) if len(owners) == 1 else set()), set(owners)


def check_chain(chain: ChainGraph, revisions: Mapping[str, RevisionFile]) -> None:
    """The invariants any chain must satisfy, whatever the revisions."""
    model = Model(revisions)
    present = set(revisions)
    kinds = [p.kind for p in chain.problems]
    assert set(kinds) <= set(PROBLEM_KINDS), kinds
    assert [PROBLEM_KINDS.index(k) for k in kinds] == sorted(PROBLEM_KINDS.index(k) for k in kinds)

    # heads: no revision names them as down_revision; one nobody can name is a head
    assert list(chain.heads) == sorted(set(chain.heads)) and set(chain.heads) <= present
    for head in chain.heads:
        assert not model.certain_down.in_edges(head), (head, list(model.certain_down.in_edges(head)))
    for rev in present:
        if not model.possible_down.in_edges(rev):
            assert rev in chain.heads, rev
    # bases: exactly the revisions with no down_revision
    assert chain.bases == tuple(sorted(r for r, p in revisions.items() if not p.down_revisions))
    assert chain.merge_points == tuple(sorted(r for r, p in revisions.items() if len(p.down_revisions) > 1))
    for rev in present:
        children = set(chain.children(rev))
        assert {u for u, _ in model.certain_down.in_edges(rev)} <= children
        assert children <= {u for u, _ in model.possible_down.in_edges(rev)}

    # order: every present revision once, parents first whenever no cycle is reported
    assert sorted(chain.order) == sorted(present)
    cycles = [p for p in chain.problems if p.kind == "cycle"]
    if not cycles:
        at = {rev: i for i, rev in enumerate(chain.order)}
        for child, parent in model.certain_all.edges:
            assert at[parent] < at[child], (parent, child, chain.order)
    # no cycle can form: none is reported; a cycle that forms whatever labels resolve to is reported
    if nx.is_directed_acyclic_graph(model.possible_all):
        assert not cycles, cycles
    for certain, what in ((model.certain_down, "down_revision"), (model.certain_all, None)):
        for component in nx.strongly_connected_components(certain):
            node = next(iter(component))
            if len(component) == 1 and not certain.has_edge(node, node):
                continue
            assert any(
                component <= set(p.revisions) and (what is None or p.message.startswith(what)) for p in cycles
            ), (component, what, cycles)
    # every reported cycle is a real one: a closed walk along edges, within the revisions it names
    for problem in cycles:
        what, _, walk = problem.message.partition(" cycle: ")
        assert what in ("down_revision", "depends_on"), problem
        path = walk.split(" -> ")
        assert len(path) >= 2 and path[0] == path[-1], problem
        assert len(set(path[:-1])) == len(path) - 1, problem
        assert list(problem.revisions) == sorted(set(problem.revisions)) and set(problem.revisions) <= present
        assert set(path) <= set(problem.revisions), problem
        edges = model.possible_down if what == "down_revision" else model.possible_all
        for u, v in zip(path, path[1:]):
            assert edges.has_edge(u, v), (problem, u, v)

    # missing parents: exactly the targets that are neither a present ID nor anyone's label
    missing = {p.revisions for p in chain.problems if p.kind == "missing-parent"}
    assert missing == model.missing, (missing, model.missing)
    for rev, target in missing:
        assert target not in present and rev in present

    # several heads fail unless each stands on labels (its nearest labelled revisions down the
    # down_revision edges) that no other head stands on: expand/contract is a design
    heads_problems = [p for p in chain.problems if p.kind == "multiple-heads"]
    labelled_apart = len(chain.heads) > 1 and _heads_on_distinct_labels(chain.heads, revisions)
    expected = [chain.heads] if len(chain.heads) > 1 and not labelled_apart else []
    assert [p.revisions for p in heads_problems] == expected
    for problem in chain.problems:
        if problem.kind == "duplicate-branch-label":
            a, b = problem.revisions
            shared = set(revisions[a].branch_labels) & set(revisions[b].branch_labels)
            assert a < b and any(f"'{label}'" in problem.message for label in shared), problem
    for label, owners in model.owners.items():
        if len(owners) > 1:
            assert any(p.kind == "duplicate-branch-label" and f"'{label}'" in p.message for p in chain.problems)
    assert all(chain.branch_labels[label] in owners for label, owners in model.owners.items())


def _heads_on_distinct_labels(heads: tuple[str, ...], revisions: Mapping[str, RevisionFile]) -> bool:
    """The model of labelled heads, by plain recursion over down_revisions (labels resolve by ID first)."""
    def nearest(rev: str, seen: frozenset[str]) -> set[str]:
        parsed = revisions.get(rev)
        if parsed is None or rev in seen:
            return set()
        if parsed.branch_labels:
            return set(parsed.branch_labels)
        owners: dict[str, str] = {}  # a label two revisions carry names the first by ID, as the graph resolves it
        for r, p in sorted(revisions.items()):
            for label in p.branch_labels:
                owners.setdefault(label, r)
        found: set[str] = set()
        for parent in parsed.down_revisions:
            target = parent if parent in revisions else owners.get(parent, parent)
            found |= nearest(target, seen | {rev})
        return found

    taken: set[str] = set()
    for head in heads:
        labels = nearest(head, frozenset())
        if not labels or labels & taken:
            return False
        taken |= labels
    return True


def check_catalog(catalog: Catalog, sightings: list[Sighting], contents: Mapping[str, bytes]) -> None:
    seen_blobs = {s.blob for s in sightings}
    candidates = {c.blob: (rev, c) for rev, e in catalog.entries.items() for c in e.candidates}
    broken = {u.blob for u in catalog.unparseable}
    assert set(candidates) | broken == seen_blobs and not set(candidates) & broken
    for rev, entry in catalog.entries.items():
        assert entry.revision == rev and entry.parsed.revision == rev
        assert entry.chosen in entry.candidates
        assert len({c.blob for c in entry.candidates}) == len(entry.candidates)
        assert entry.present == any(s.source == "worktree" for c in entry.candidates for s in c.sightings)
        if entry.present:
            assert entry.chosen.present_paths, "a revision in the versions directory is never replaced"
    for blob, (rev, candidate) in candidates.items():
        assert candidate.size == len(contents[blob])
        assert sorted(candidate.sightings, key=repr) == sorted((s for s in sightings if s.blob == blob), key=repr)


@budget(150)
@given(scenarios())
def test_catalog_and_graph_invariants_on_random_revision_sets(
    scenario: tuple[list[Sighting], dict[str, bytes], dict[str, int]],
) -> None:
    sightings, contents, head_history = scenario
    catalog = build_catalog([MemorySource(sightings, contents)], head_history=head_history)
    check_catalog(catalog, sightings, contents)
    chain = analyse_catalog(catalog)
    revisions = {rev: entry.parsed for rev, entry in catalog.entries.items()}
    note(repr({rev: (p.down_revisions, p.branch_labels, p.depends_on) for rev, p in revisions.items()}))
    check_chain(chain, revisions)

    # the catalog-level problems
    problems = {(p.kind, p.revisions) for p in chain.problems}
    for rev, entry in catalog.entries.items():
        present = [path for c in entry.candidates for path in c.present_paths]
        # an older version of the present file, committed at its path on HEAD's own history, is an edit
        # the present file superseded, not a rival version
        rivals = [
            c
            for c in entry.candidates
            if c is entry.chosen
            or not any(
                s.source == "history" and s.commit in head_history and s.path in present for s in c.sightings
            )
        ]
        shapes = {(c.revision.down_revisions, c.revision.branch_labels, c.revision.depends_on) for c in rivals}
        assert (("conflicting-versions", (rev,)) in problems) == (len(shapes) > 1), (rev, shapes)
        if sum(len(c.present_paths) for c in entry.candidates) > 1:
            assert ("duplicate-id", (rev,)) in problems
        if ("duplicate-id", (rev,)) in problems:
            assert len(entry.candidates) > 1 or len(entry.chosen.present_paths) > 1
    hints = {u.revision_hint for u in catalog.unparseable}
    for problem in chain.problems:
        if problem.kind == "unparseable":
            assert problem.revisions == () or (len(problem.revisions) == 1 and problem.revisions[0] in hints)

    # the graph of the chosen revisions alone is the same chain, without the catalog's problems
    alone = build_graph(revisions)
    assert (alone.heads, alone.bases, alone.order) == (chain.heads, chain.bases, chain.order)
    assert {(p.kind, p.revisions) for p in alone.problems} <= {(p.kind, p.revisions) for p in chain.problems}


@budget(100)
@given(scenarios(), st.lists(GRAPH_ID, max_size=6))
def test_a_restricted_chain_keeps_the_invariants(
    scenario: tuple[list[Sighting], dict[str, bytes], dict[str, int]], only: list[str]
) -> None:
    """``check`` analyses only what the versions directory holds and needs; IDs absent are ignored."""
    sightings, contents, head_history = scenario
    catalog = build_catalog([MemorySource(sightings, contents)], head_history=head_history)
    chain = analyse_catalog(catalog, only=only)
    revisions = {rev: e.parsed for rev, e in catalog.entries.items() if rev in set(only)}
    check_chain(chain, revisions)



# --------------------------------------------------------------------------- properties whose failures were fixed


def _compiles(data: bytes) -> bool:
    """What ``import`` would say of the file's syntax: compiled, never run."""
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(data, "<revision>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


COMPILER_ONLY = st.sampled_from(["return", "yield x", "await x", "break", "continue", "async with x:\n    pass",
                                 "import os\nfrom __future__ import annotations", "*a = 1", "a = *b",
                                 "f(a=1, a=2)", "try:\n    pass\nexcept:\n    pass\nexcept E:\n    pass",
                                 "match x:\n    case y:\n        pass\n    case 1:\n        pass"])


@budget(300)
@given(pythonish_bytes(), COMPILER_ONLY, st.booleans())
def test_a_revision_is_a_module_python_can_compile(data: bytes, statement: str, add: bool) -> None:
    if add:
        data = statement.encode() + b"\n" + data
    parsed = parse_revision(data)
    if isinstance(parsed, RevisionFile):  # Python 2 files are read too, and say so
        assert _compiles(data) or parsed.python2


@budget(200)
@given(
    st.sampled_from(["down_revision", "revision", "branch_labels", "depends_on"]),
    st.sampled_from(["-", "not ", ".a", "+1"]),
    st.integers(1, 3000),
)
def test_deep_non_literal_id_values(var: str, unit: str, depth: int) -> None:
    value = {"-": "-" * depth + "1", "not ": "not " * depth + "x", ".a": "x" + ".a" * depth, "+1": "1" + "+1" * depth}[unit]
    check_both(f"revision = 'abc'\ndown_revision = None\n{var} = {value}\n".encode())


@budget(150)
@given(scenarios(), st.randoms(use_true_random=False))
def test_the_order_sightings_arrive_in_does_not_change_the_chain(
    scenario: tuple[list[Sighting], dict[str, bytes], dict[str, int]], rnd: Any
) -> None:
    sightings, contents, head_history = scenario
    shuffled = list(sightings)
    rnd.shuffle(shuffled)

    def summary(found: list[Sighting]) -> tuple[object, ...]:
        catalog = build_catalog([MemorySource(found, contents)], head_history=head_history)
        chain = analyse_catalog(catalog)
        chosen = {rev: entry.chosen.blob for rev, entry in catalog.entries.items()}
        return chosen, chain.heads, chain.bases, chain.order, sorted({(p.kind, p.revisions) for p in chain.problems})

    assert summary(shuffled) == summary(sightings)
