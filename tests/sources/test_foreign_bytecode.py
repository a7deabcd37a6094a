"""Bytecode of CPython 3.8-3.13 read whatever Python runs the tests: the marshal reader and the
disassembly, checked against each version's own ``dis`` (each pyenv interpreter found; skipped
where absent)."""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migration_archaeologist.sources.bytecode.disassembly import UNKNOWN, DisassemblyError, foreign_instructions
from migration_archaeologist.sources.bytecode.marshal_reader import ForeignCode, MarshalError, loads
from migration_archaeologist.sources.bytecode.header import read_header
from migration_archaeologist.sources.bytecode.verification import CompileFailed, compare_code, compile_with, find_python

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_repos" / "taskman-v2" / "revisions"
FIXTURES = ROOT / "tests" / "fixtures" / "bytecode"
VERSIONS = ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13")

#: run by the other interpreter: compile (never run) each source, print its own dis listing as JSON
CHILD = r"""
import dis, json, marshal, sys
FNS = (str, repr, ascii)
def key(v):
    if hasattr(v, "co_code"):
        return ["code", getattr(v, "co_qualname", v.co_name)]
    if isinstance(v, tuple):
        return ["tuple", [key(x) for x in v]]
    if isinstance(v, frozenset):
        return ["frozenset", sorted(json.dumps(key(x)) for x in v)]
    if v is getattr(dis, "UNKNOWN", FNS):
        return ["unknown"]
    if any(v is f for f in FNS):
        return ["fn", v.__name__]
    return [type(v).__name__, repr(v)]
out = []
for name, source in json.load(sys.stdin):
    try:
        code = compile(source, name, "exec", dont_inherit=True)
    except SyntaxError:
        out.append([name, None, None])
        continue
    listing = []
    def walk(c):
        facts = [list(c.co_varnames), list(c.co_cellvars), list(c.co_freevars), list(c.co_names), c.co_argcount,
                 c.co_posonlyargcount, c.co_kwonlyargcount, c.co_flags, c.co_firstlineno, c.co_filename,
                 key(c.co_consts)]
        ins = [[i.opname, i.arg, key(i.argval), i.offset] for i in dis.get_instructions(c)]
        listing.append([getattr(c, "co_qualname", c.co_name), ins, facts])
        for k in c.co_consts:
            if hasattr(k, "co_code"):
                walk(k)
    walk(code)
    out.append([name, marshal.dumps(code).hex(), listing])
print(json.dumps(out))
"""


def _key(v: object) -> object:
    if isinstance(v, ForeignCode):
        return ["code", v.co_qualname]
    if isinstance(v, tuple):
        return ["tuple", [_key(x) for x in v]]
    if isinstance(v, frozenset):
        return ["frozenset", sorted(json.dumps(_key(x)) for x in v)]
    if v is UNKNOWN:
        return ["unknown"]
    if any(v is f for f in (str, repr, ascii)):
        return ["fn", v.__name__]  # type: ignore[union-attr]
    return [type(v).__name__, repr(v)]


def _ours(code: ForeignCode, out: list[object]) -> list[object]:
    facts = [list(code.co_varnames), list(code.co_cellvars), list(code.co_freevars), list(code.co_names),
             code.co_argcount, code.co_posonlyargcount, code.co_kwonlyargcount, code.co_flags, code.co_firstlineno,
             code.co_filename, _key(code.co_consts)]
    ins = [[i.opname, i.arg, _key(i.argval), i.offset] for i in foreign_instructions(code)]
    out.append([code.co_qualname, ins, facts])
    for k in code.co_consts:
        if isinstance(k, ForeignCode):
            _ours(k, out)
    return out


def _big() -> str:
    """Over 256 locals and constants (EXTENDED_ARG), jumps longer than 255 bytes both ways."""
    names = [f"v{n}" for n in range(300)]
    lines = ["def big(flag):"] + [f"    {v} = {n}.5" for n, v in enumerate(names)]
    lines += ["    if flag:"] + [f"        {v} += {v}" for v in names]
    lines += ["    while flag:"] + [f"        flag = {v} - flag" for v in names]
    lines += ["    return " + " + ".join(names)]
    return "\n".join(lines) + "\n"


NEWER = {
    "match_310": "def m(x):\n    match x:\n        case [1, *r]: return r\n        case {'k': v}: return v\n"
    "        case int(n) if n > 1: return n\n        case _: return None\n",
    "except_star_311": "def e(f):\n    try:\n        f()\n    except* ValueError as g:\n        return g\n",
    "generic_312": "def first[T](xs: list[T]) -> T:\n    return xs[0]\ntype Alias = int\n",
}


def _corpus() -> list[tuple[str, str]]:
    corpus = [("constructs.py", (FIXTURES / "constructs.py").read_text(encoding="utf-8")), ("big.py", _big())]
    corpus += [(p.name, p.read_text(encoding="utf-8")) for p in sorted(SAMPLES.glob("*.py"))]
    tree = ast.parse((ROOT / "tests" / "sources" / "test_bytecode.py").read_text(encoding="utf-8"))
    for node in tree.body:  # the revision sources the rebuilder's own tests compile
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            corpus.append((node.targets[0].id + ".py", node.value.value))  # type: ignore[attr-defined]
    return corpus + list(NEWER.items())


@pytest.mark.parametrize("version", VERSIONS)
def test_disassembly_equals_that_pythons_own_dis(version: str) -> None:
    python = find_python(version)
    if python is None:
        pytest.skip(f"no Python {version} here")
    corpus = _corpus()
    done = subprocess.run([str(python), "-I", "-S", "-c", CHILD], input=json.dumps(corpus), capture_output=True,
                          text=True, timeout=120, check=True)
    compiled = 0
    for name, hexed, theirs in json.loads(done.stdout):
        if hexed is None:
            assert name in NEWER, f"{name} does not compile with Python {version}"
            continue
        code = loads(bytes.fromhex(hexed), version)
        assert isinstance(code, ForeignCode) and code.python == version
        ours = _ours(code, [])
        assert [q for q, _, _ in ours] == [q for q, _, _ in theirs], name
        for (qualname, ins, facts), (_, their_ins, their_facts) in zip(ours, theirs):
            assert facts == their_facts, f"{name} {qualname}"
            assert ins == their_ins, f"{name} {qualname}"
        compiled += 1
    assert compiled >= len(corpus) - len(NEWER)


def test_unknown_marshal_type_is_refused_in_one_line() -> None:
    with pytest.raises(MarshalError, match=r"unknown marshal type '\?'"):
        loads(b"?", "3.8")
    with pytest.raises(MarshalError, match="not read here"):
        loads(b"N", "3.14")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"(\x05\x00\x00\x00N", "truncated"),
        (b"s\xff\xff\xff\x7f", "over the limit"),
        (b"r\x00\x00\x00\x00", "bad reference"),
        (b"\xa8\x01\x00\x00\x00r\x00\x00\x00\x00", "bad reference"),  # a tuple holding itself
        (b"(\x01\x00\x00\x00" * 300 + b"N", "nested deeper"),
        (b"l\x01\x00\x00\x00\xff\xff", "digit out of range"),
        (b"0", "NULL object"),
    ],
)
def test_bad_marshal_data_is_a_marshal_error(data: bytes, message: str) -> None:
    with pytest.raises(MarshalError, match=message):
        loads(data, "3.12")


def test_marshal_values() -> None:
    assert loads(b"l\xfe\xff\xff\xff\x01\x00\x01\x00", "3.10") == -(1 + (1 << 15))
    assert loads(b")\x03N\xda\x01a\xe9\x07\x00\x00\x00", "3.11") == (None, "a", 7)
    assert loads(b"(\x02\x00\x00\x00\xda\x01ar\x00\x00\x00\x00", "3.11") == ("a", "a")  # a back-reference


def test_unknown_opcode_is_a_disassembly_error() -> None:
    code = ForeignCode("3.12", 0, 0, 0, 0, 0, 0, b"\xff\x00", (), (), (), (), (), "f.py", "m", "m", 1, b"",
                       version=(3, 12))
    with pytest.raises(DisassemblyError, match="opcode 255 at offset 0 is unknown to Python 3.12"):
        foreign_instructions(code)


FIXTURE_SOURCE = FIXTURES / "a1b2c3d4e5f6_add_orders.py"
FIXTURE_PYCS = {v: FIXTURES / f"a1b2c3d4e5f6_add_orders.cpython-{v.replace('.', '')}.pyc" for v in VERSIONS}


def _fixture(version: str) -> ForeignCode:
    data = FIXTURE_PYCS[version].read_bytes()
    header = read_header(data)
    assert header is not None and header.python == version
    code = loads(data[16:], version)
    assert isinstance(code, ForeignCode)
    return code


@pytest.mark.parametrize("version", VERSIONS)
def test_committed_pyc_gives_its_revision_identifiers_without_its_python(version: str) -> None:
    code = _fixture(version)
    ins = foreign_instructions(code)
    stores = {b.argval: a.argval for a, b in zip(ins, ins[1:]) if b.opname == "STORE_NAME" and a.opname == "LOAD_CONST"}
    assert stores.pop("__doc__").startswith("add orders\n\nRevision ID: a1b2c3d4e5f6\n")
    assert stores == {"revision": "a1b2c3d4e5f6", "down_revision": "0f9e8d7c6b5a", "branch_labels": None, "depends_on": None}
    assert [c.co_name for c in code.co_consts if isinstance(c, ForeignCode)] == ["upgrade", "downgrade"]
    assert code.co_filename == "a1b2c3d4e5f6_add_orders.py" and code.python == version


@pytest.mark.parametrize("version", VERSIONS)
def test_that_pythons_compiler_proves_the_source_and_catches_a_change(version: str) -> None:
    python = find_python(version)
    if python is None:
        pytest.skip(f"no Python {version} here")
    source = FIXTURE_SOURCE.read_text(encoding="utf-8")
    differences: list[str] = []
    compare_code(_fixture(version), compile_with(python, source, "x.py"), "module", set(), differences)
    assert differences == []
    changed = compile_with(python, source.replace("'ix_orders_total'", "'ix_orders_sum'"), "x.py")
    compare_code(_fixture(version), changed, "module", set(), differences)
    assert [d.split(":")[0] for d in differences] == ["upgrade()", "downgrade()"]
    assert all("LOAD_CONST 'ix_orders_total' vs LOAD_CONST 'ix_orders_sum'" in d for d in differences)
    with pytest.raises(CompileFailed, match=f"Python {version} does not compile it: SyntaxError"):
        compile_with(python, "def (:\n", "broken.py")


def test_find_python_answers_none_for_a_python_that_is_not_here() -> None:
    assert find_python("3.99") is None
    assert find_python("{}.{}".format(*sys.version_info[:2])) == Path(sys.executable)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(version=st.sampled_from(VERSIONS), cut=st.integers(0, 2000), flips=st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 255)), max_size=4))
def test_damaged_pyc_gives_a_one_line_error_never_a_traceback(version: str, cut: int, flips: list[tuple[int, int]]) -> None:
    body = bytearray(FIXTURE_PYCS[version].read_bytes()[16:])
    for at, value in flips:
        if at < len(body):
            body[at] = value
    body = body[: max(cut, 1)] if cut < len(body) else body
    try:
        code = loads(bytes(body), version)
    except MarshalError as exc:
        assert "\n" not in str(exc)
        return
    stack = [code]
    while stack:
        one = stack.pop()
        if not isinstance(one, ForeignCode):
            continue
        try:
            foreign_instructions(one)
        except DisassemblyError as exc:
            assert "\n" not in str(exc)
        stack += [c for c in one.co_consts if isinstance(c, ForeignCode)]


def test_opcode_tables_ship_in_the_wheel() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"sources/bytecode/opcode_tables.json"' in pyproject
    assert (ROOT / "src" / "migration_archaeologist" / "sources" / "bytecode" / "opcode_tables.json").is_file()


@pytest.mark.parametrize("version", VERSIONS)
def test_committed_opcode_tables_are_what_that_python_says_today(version: str) -> None:
    """tools/generate_opcode_tables.py's probe, run again: the committed data is not stale."""
    python = find_python(version)
    if python is None:
        pytest.skip(f"no Python {version} here")
    spec = importlib.util.spec_from_file_location("generate_opcode_tables", ROOT / "tools" / "generate_opcode_tables.py")
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    committed = json.loads((ROOT / "src/migration_archaeologist/sources/bytecode/opcode_tables.json").read_text())
    assert generator.describe(python) == committed["releases"][version]
