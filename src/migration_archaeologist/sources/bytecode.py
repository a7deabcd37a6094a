"""Revision files recovered from ``__pycache__/*.pyc`` when the ``.py`` itself is gone.

A deleted revision often survives as bytecode. This module rebuilds Python source from it
*without executing anything*: the header is parsed by hand, and only bytecode of the running
interpreter's own version is ``marshal.loads``-ed (that merely builds code objects, which are then
read with :mod:`dis`, never run). Alembic migrations are straight-line call trees, so a small stack
machine over the instructions rebuilds them; anything it does not understand is left as an
explicit ``raise NotImplementedError(...)`` body and reported. Every rebuild is verified by
*compiling* the result (never running it) and comparing the code objects with the original.
"""

from __future__ import annotations

import ast
import dis
import hashlib
import importlib.util
import marshal
import sys
import types
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from collections.abc import Iterator, Sequence

from migration_archaeologist.files.untrusted import BoundedWalk, read_regular
from migration_archaeologist.parse.revision import RevisionFile, Unparseable, parse_revision
from migration_archaeologist.sources.interface import Sighting, git_blob_id

__all__ = ["NOT_A_REVISION", "BytecodeSource", "PycHeader", "Rebuilt", "read_header", "rebuild", "worth_reporting"]

# --------------------------------------------------------------------------- header

#: (first, last) magic numbers of each CPython release's bytecode (Lib/importlib/_bootstrap_external.py).
_MAGIC_RANGES: tuple[tuple[int, int, str], ...] = (
    (3000, 3131, "3.0"),
    (3141, 3151, "3.1"),
    (3160, 3180, "3.2"),
    (3190, 3230, "3.3"),
    (3250, 3310, "3.4"),
    (3320, 3351, "3.5"),
    (3360, 3379, "3.6"),
    (3390, 3394, "3.7"),
    (3400, 3413, "3.8"),
    (3420, 3425, "3.9"),
    (3430, 3439, "3.10"),
    (3450, 3495, "3.11"),
    (3500, 3531, "3.12"),
    (3550, 3571, "3.13"),
    (3600, 3649, "3.14"),
    (3650, 3699, "3.15"),
)
_CURRENT_MAGIC = int.from_bytes(importlib.util.MAGIC_NUMBER[:2], "little")
_CURRENT_PYTHON = "{}.{}".format(*sys.version_info[:2])
_HEADER_SIZE = 16  # 3.7+ (PEP 552); 3.3-3.6 used 12 bytes
#: a .pyc larger than this is no compiled revision file
PYC_LIMIT = 64 * 1024 * 1024


@dataclass(frozen=True)
class PycHeader:
    """The fixed-size header of a ``.pyc``: which Python wrote it and how it names its source."""

    magic: int
    python: str | None  # "3.11"; None for a plausible but unknown magic number
    flags: int  # PEP 552: bit 0 hash-based, bit 1 check_source
    source_hash: bytes | None  # SipHash of the .py, for hash-based pycs
    source_mtime: int | None  # the .py's mtime when it was compiled (timestamp pycs)
    source_size: int | None  # the .py's size in bytes (timestamp pycs), modulo 2**32


def _python_of(magic: int) -> str | None:
    if magic == _CURRENT_MAGIC:
        return _CURRENT_PYTHON
    for first, last, version in _MAGIC_RANGES:
        if first <= magic <= last:
            return version
    return None


def _magic_of(data: bytes) -> int | None:
    """The magic number if ``data`` starts like a CPython 3 pyc, else None."""
    if len(data) < 4 or data[2:4] != b"\r\n":
        return None
    magic = int.from_bytes(data[:2], "little")
    return magic if 3000 <= magic < 4000 else None


def read_header(data: bytes) -> PycHeader | None:
    """Parse the header; None when ``data`` is not a CPython 3 pyc (too short, bad magic)."""
    magic = _magic_of(data)
    if magic is None:
        return None
    python = _python_of(magic)
    if magic < 3390:  # before PEP 552: magic, mtime, size (size only from 3.3)
        if len(data) < 12:
            return None
        return PycHeader(
            magic,
            python,
            0,
            None,
            int.from_bytes(data[4:8], "little"),
            int.from_bytes(data[8:12], "little"),
        )
    if len(data) < _HEADER_SIZE:
        return None
    flags = int.from_bytes(data[4:8], "little")
    if flags & 1:
        return PycHeader(magic, python, flags, bytes(data[8:16]), None, None)
    return PycHeader(
        magic,
        python,
        flags,
        None,
        int.from_bytes(data[8:12], "little"),
        int.from_bytes(data[12:16], "little"),
    )


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class Rebuilt:
    """Source rebuilt from bytecode, with the verdict of compiling it back."""

    source: bytes  # the reconstructed revision file, ready to write
    complete: bool  # compiling ``source`` gives the same code objects (see ``_compare``)
    differences: tuple[str, ...]  # one line per place where it does not
    python: str  # the Python version whose bytecode it is

    @property
    def fidelity(self) -> str:
        """ "bytecode" when the rebuilt file compiles to the same bytecode, else "bytecode-partial"."""
        return "bytecode" if self.complete else "bytecode-partial"


#: rebuild()'s reason for bytecode of a module that is no revision file: nothing to report
NOT_A_REVISION = "not a revision module"


def worth_reporting(failure: Unparseable) -> bool:
    """A rebuild that failed on a revision module (not merely bytecode of some other module)."""
    return not failure.reason.startswith(NOT_A_REVISION)


class _GiveUp(Exception):
    """A construct the rebuilder does not handle; the message names it."""


def rebuild(data: bytes, *, pyc_name: str) -> Rebuilt | Unparseable:
    """Rebuild a revision file from a pyc's bytes; never raises, never executes the bytecode."""
    try:
        return _rebuild(bytes(data), pyc_name)
    except Exception as exc:  # the contract is "never raises": one bad pyc must not abort a run
        return Unparseable(f"internal error rebuilding {pyc_name}: {type(exc).__name__}: {exc}"[:200], None)


def _rebuild(data: bytes, pyc_name: str) -> Rebuilt | Unparseable:
    magic = _magic_of(data)
    if magic is None:
        return Unparseable("not a .pyc (bad magic number)", None)
    header = read_header(data)
    if header is None:
        return Unparseable(f"truncated .pyc: {len(data)} bytes, shorter than its header", None)
    if magic != _CURRENT_MAGIC:
        if header.python is None:
            return Unparseable(f"bytecode of an unknown Python (magic {magic}): header read, body not rebuilt", None)
        return Unparseable(
            f"bytecode of Python {header.python} (magic {magic}): rebuild the body with Python"
            f" {header.python}; only the header can be read here ({_header_summary(header)})",
            None,
        )
    try:
        module = marshal.loads(data[_HEADER_SIZE:])
    except (EOFError, ValueError, TypeError) as exc:
        return Unparseable(f"truncated or corrupt .pyc body: {exc}", None)
    if not isinstance(module, types.CodeType):
        return Unparseable("not a .pyc of a module (body is not a code object)", None)
    stored = _module_stores(module)
    if "revision" not in stored or "down_revision" not in stored:
        return Unparseable(f"{NOT_A_REVISION} (no module-level revision/down_revision)", None)

    differences: list[str] = []
    given_up: set[str] = set()
    try:
        tree = _Rebuilder(module, given_up=given_up, differences=differences).module()
        module_level = True
    except _GiveUp as exc:
        differences.append(f"module: not rebuilt ({exc}); kept docstring, identifiers and functions")
        tree = _fallback_module(module, given_up, differences)
        module_level = False
    body = _format(ast.fix_missing_locations(tree))

    try:
        recompiled = compile(body, pyc_name, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        differences.append(f"rebuilt source does not compile: {exc}")
        recompiled = None
    if recompiled is not None:
        if module_level:
            _compare(module, recompiled, "module", given_up, differences)
        else:
            for name in ("upgrade", "downgrade"):
                old, new = _function_code(module, name), _function_code(recompiled, name)
                if old is not None and new is not None:
                    _compare(old, new, f"{name}()", given_up, differences)
    complete = not differences
    digest = hashlib.sha256(data).hexdigest()
    lines = [
        f"# Reconstructed from bytecode by migration-archaeologist: {_one_line(pyc_name)}",
        f"# sha256 of the .pyc: {digest}",
        f"# Python {header.python} bytecode (magic {magic}), {_header_summary(header)}.",
        "# Comments and formatting of the original are lost; "
        + (
            "compiling this file gives the same bytecode."
            if complete
            else f"INCOMPLETE: {len(differences)} difference(s) from the bytecode, see below."
        ),
    ]
    lines += [f"#   {_one_line(d)}" for d in differences]
    source = ("\n".join(lines) + "\n" + body).encode("utf-8")
    return Rebuilt(source, complete, tuple(differences), header.python or _CURRENT_PYTHON)


def _header_summary(header: PycHeader) -> str:
    if header.source_hash is not None:
        checked = "checked" if header.flags & 2 else "unchecked"
        return f"{checked} hash-based, source hash {header.source_hash.hex()}"
    when = datetime.fromtimestamp(header.source_mtime or 0, tz=timezone.utc).isoformat(timespec="seconds")
    return f"source mtime {when}, source size {header.source_size} bytes"


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _module_stores(code: types.CodeType) -> set[str]:
    return {i.argval for i in dis.get_instructions(code) if i.opname in ("STORE_NAME", "STORE_GLOBAL")}


def _function_code(module: types.CodeType, name: str) -> types.CodeType | None:
    """The last module-level function code object called ``name`` (a redefinition wins)."""
    found = None
    for const in module.co_consts:
        if isinstance(const, types.CodeType) and const.co_name == name:
            found = const
    return found


# --------------------------------------------------------------------------- the stack machine


class _Null:
    """The NULL the 3.11 call protocol pushes under a plain callable."""


_NULL = _Null()


@dataclass
class _WithEnter:
    item: ast.withitem


class _WithExit:
    """The bound ``__exit__`` that BEFORE_WITH leaves under the with body."""


@dataclass
class _Func:
    code: types.CodeType
    defaults: list[ast.expr]
    kwdefaults: dict[str, ast.expr]
    annotations: dict[str, ast.expr]


@dataclass
class _ImportedModule:
    name: str
    fromlist: object
    level: int
    node: ast.ImportFrom | None = None


@dataclass
class _ImportedName:
    module: _ImportedModule
    name: str


@dataclass
class _PendingComp:
    node: ast.expr


_BINOPS: dict[str, type[ast.operator]] = {
    "+": ast.Add,
    "-": ast.Sub,
    "*": ast.Mult,
    "/": ast.Div,
    "//": ast.FloorDiv,
    "%": ast.Mod,
    "**": ast.Pow,
    "@": ast.MatMult,
    "<<": ast.LShift,
    ">>": ast.RShift,
    "&": ast.BitAnd,
    "|": ast.BitOr,
    "^": ast.BitXor,
}
_CMPOPS: dict[str, type[ast.cmpop]] = {
    "<": ast.Lt,
    "<=": ast.LtE,
    "==": ast.Eq,
    "!=": ast.NotEq,
    ">": ast.Gt,
    ">=": ast.GtE,
}
_UNARY: dict[str, type[ast.unaryop]] = {
    "UNARY_NEGATIVE": ast.USub,
    "UNARY_POSITIVE": ast.UAdd,
    "UNARY_NOT": ast.Not,
    "UNARY_INVERT": ast.Invert,
}
_SKIP = frozenset({"RESUME", "NOP", "PRECALL", "CACHE", "EXTENDED_ARG", "SETUP_ANNOTATIONS"})
_CO_VARARGS, _CO_VARKEYWORDS, _CO_FUTURE_ANNOTATIONS = 0x04, 0x08, 0x1000000
_WITH_EXIT = ("LOAD_CONST", "LOAD_CONST", "LOAD_CONST", "PRECALL", "CALL", "POP_TOP")


def _qualname(code: types.CodeType) -> str:
    """``co_qualname``, new in Python 3.11; on 3.10 the plain name (its comprehensions and nested
    functions are matched by position anyway)."""
    return getattr(code, "co_qualname", code.co_name)


def _const(value: object) -> ast.expr:
    """A literal as an expression node; tuples and frozensets are spelled out for unparse."""
    if isinstance(value, tuple):
        return ast.Tuple([_const(v) for v in value], ast.Load())
    if isinstance(value, frozenset):
        if not value:
            raise _GiveUp("empty frozenset constant")
        return ast.Set([_const(v) for v in sorted(value, key=repr)])
    if isinstance(value, types.CodeType):
        raise _GiveUp(f"code object {value.co_name} used as a value")
    return ast.Constant(value)  # type: ignore[arg-type]  # what is left of a code object's constants: literals


def _expr(item: object, what: str) -> ast.expr:
    if not isinstance(item, ast.expr):
        raise _GiveUp(f"unexpected {type(item).__name__.strip('_')} as {what}")
    return item


class _Rebuilder:
    """Rebuilds the statements of one code object (module or function body)."""

    def __init__(
        self,
        code: types.CodeType,
        *,
        given_up: set[str],
        differences: list[str],
        future_annotations: bool | None = None,
    ) -> None:
        self.code = code
        self.given_up = given_up
        self.differences = differences
        self.future = bool(code.co_flags & _CO_FUTURE_ANNOTATIONS) if future_annotations is None else future_annotations
        self.instructions = list(dis.get_instructions(code))
        self.stack: list[object] = []
        self.blocks: list[list[ast.stmt]] = [[]]
        self.withs: list[ast.With] = []
        self.kwnames: tuple[str, ...] = ()
        self.is_module = code.co_name == "<module>"

    # ---- entry points

    def module(self) -> ast.Module:
        self._run()
        return ast.Module(self.blocks[0], [])

    def function_body(self) -> list[ast.stmt]:
        self._run()
        body = self.blocks[0]
        consts = self.code.co_consts
        if consts and isinstance(consts[0], str):
            body.insert(0, ast.Expr(ast.Constant(consts[0])))
        return body or [ast.Pass()]

    # ---- driver

    def _run(self) -> None:
        ins = self.instructions
        by_offset = {i.offset: n for n, i in enumerate(ins)}
        n = 0
        while n < len(ins):
            i = ins[n]
            if i.opname == "JUMP_FORWARD":
                if i.argval not in by_offset:
                    raise _GiveUp("jump to an unknown offset")
                n = by_offset[i.argval]
                continue
            if i.opname == "RETURN_VALUE":
                self._return()
                return
            if i.opname == "LOAD_CONST" and self.stack and isinstance(self.stack[-1], _WithExit):
                names = tuple(x.opname for x in ins[n : n + 6])
                args = [x.argval for x in ins[n : n + 3]]
                if names == _WITH_EXIT and args == [None, None, None] and ins[n + 4].arg == 2:
                    self._close_with()
                    n += 6
                    continue
            self._step(i)
            n += 1
        raise _GiveUp("code does not end in a return")

    def _push(self, item: object) -> None:
        self.stack.append(item)

    def _pop(self) -> object:
        if not self.stack:
            raise _GiveUp("stack underflow")
        return self.stack.pop()

    def _emit(self, stmt: ast.stmt) -> None:
        self.blocks[-1].append(stmt)

    def _name(self, name: str) -> ast.Name:
        return ast.Name(name, ast.Load())

    # ---- one instruction

    def _step(self, i: dis.Instruction) -> None:  # noqa: C901 - a dispatch table, flat on purpose
        op = i.opname
        if op in _SKIP:
            return
        if op == "LOAD_CONST":
            value = i.argval
            self._push(value if isinstance(value, types.CodeType) else _const(value))
        elif op in ("LOAD_NAME", "LOAD_FAST", "LOAD_GLOBAL"):
            if op == "LOAD_GLOBAL" and i.arg is not None and i.arg & 1:
                self._push(_NULL)
            self._push(self._name(i.argval))
        elif op == "LOAD_ATTR":
            self._push(ast.Attribute(_expr(self._pop(), "attribute owner"), i.argval, ast.Load()))
        elif op == "LOAD_METHOD":
            owner = _expr(self._pop(), "method owner")
            self._push(_NULL)
            self._push(ast.Attribute(owner, i.argval, ast.Load()))
        elif op == "PUSH_NULL":
            self._push(_NULL)
        elif op == "KW_NAMES":
            self.kwnames = tuple(self.code.co_consts[i.arg])  # type: ignore[index]  # KW_NAMES has an argument
        elif op == "CALL":
            self._call(i.arg or 0)
        elif op in ("BUILD_LIST", "BUILD_TUPLE", "BUILD_SET"):
            items = [_expr(self._pop(), "item") for _ in range(i.arg or 0)][::-1]
            kind = {"BUILD_LIST": ast.List, "BUILD_TUPLE": ast.Tuple}.get(op)
            self._push(kind(items, ast.Load()) if kind else ast.Set(items))
        elif op in ("LIST_EXTEND", "SET_UPDATE", "LIST_APPEND"):
            more = _expr(self._pop(), "item")
            target = self.stack[-1] if self.stack else None
            if not isinstance(target, (ast.List, ast.Set)):
                raise _GiveUp(f"unusual {op}")
            if op == "LIST_APPEND":
                target.elts.append(more)
            elif isinstance(more, (ast.Tuple, ast.Set)) and not getattr(more, "_from_list", False):
                target.elts.extend(more.elts)  # a folded constant display
            else:
                target.elts.append(ast.Starred(more, ast.Load()))
        elif op == "LIST_TO_TUPLE":
            listed = self._pop()
            if not isinstance(listed, ast.List):
                raise _GiveUp("unusual LIST_TO_TUPLE")
            tup = ast.Tuple(listed.elts, ast.Load())
            tup._from_list = True  # type: ignore[attr-defined]
            self._push(tup)
        elif op in ("DICT_MERGE", "DICT_UPDATE"):
            more = _expr(self._pop(), "mapping")
            target = self.stack[-1] if self.stack else None
            if not isinstance(target, ast.Dict):
                raise _GiveUp(f"unusual {op}")
            target.keys.append(None)
            target.values.append(more)
        elif op == "CALL_FUNCTION_EX":
            self._call_ex(i.arg or 0)
        elif op == "BUILD_MAP":
            pairs = [(self._pop(), self._pop()) for _ in range(i.arg or 0)][::-1]
            self._push(ast.Dict([_expr(k, "key") for _, k in pairs], [_expr(v, "value") for v, _ in pairs]))
        elif op == "BUILD_CONST_KEY_MAP":
            keys = self._pop()
            values = [_expr(self._pop(), "value") for _ in range(i.arg or 0)][::-1]
            if not isinstance(keys, ast.Tuple):
                raise _GiveUp("dict keys are not constant")
            self._push(ast.Dict(list(keys.elts), values))
        elif op == "BINARY_OP":
            symbol = i.argrepr
            if symbol not in _BINOPS:
                raise _GiveUp(f"augmented assignment ({symbol})")
            right, left = _expr(self._pop(), "operand"), _expr(self._pop(), "operand")
            self._push(ast.BinOp(left, _BINOPS[symbol](), right))
        elif op == "BINARY_SUBSCR":
            subscript, subscripted = self._pop(), self._pop()
            self._push(ast.Subscript(_expr(subscripted, "subscript owner"), _expr(subscript, "index"), ast.Load()))
        elif op == "BUILD_SLICE":
            parts = [self._pop() for _ in range(i.arg or 2)][::-1]
            bounds = [None if isinstance(p, ast.Constant) and p.value is None else _expr(p, "slice") for p in parts]
            self._push(ast.Slice(*bounds))
        elif op in _UNARY:
            self._push(ast.UnaryOp(_UNARY[op](), _expr(self._pop(), "operand")))
        elif op in ("COMPARE_OP", "IS_OP", "CONTAINS_OP"):
            right, left = _expr(self._pop(), "operand"), _expr(self._pop(), "operand")
            if op == "COMPARE_OP":
                cmp: ast.cmpop = _CMPOPS[i.argval]()
            elif op == "IS_OP":
                cmp = ast.IsNot() if i.arg else ast.Is()
            else:
                cmp = ast.NotIn() if i.arg else ast.In()
            self._push(ast.Compare(left, [cmp], [right]))
        elif op == "FORMAT_VALUE":
            self._format_value(i.arg or 0)
        elif op == "BUILD_STRING":
            parts = [self._pop() for _ in range(i.arg or 0)][::-1]
            values = []
            for part in parts:
                if isinstance(part, ast.JoinedStr):
                    values.extend(part.values)
                elif isinstance(part, ast.Constant) and isinstance(part.value, str):
                    values.append(part)
                else:
                    raise _GiveUp("unexpected f-string part")
            self._push(ast.JoinedStr(values))
        elif op == "MAKE_FUNCTION":
            self._make_function(i.arg or 0)
        elif op == "GET_ITER":
            iterable = _expr(self._pop(), "iterable")
            func = self._pop()
            if not isinstance(func, _Func):
                raise _GiveUp("for loop")
            self._push(_NULL)
            self._push(_PendingComp(_comprehension(func.code, iterable)))
        elif op in ("STORE_NAME", "STORE_FAST"):
            self._store(i.argval, self._pop())
        elif op == "STORE_ATTR":
            owner, value = _expr(self._pop(), "attribute owner"), _expr(self._pop(), "value")
            self._emit(ast.Assign([ast.Attribute(owner, i.argval, ast.Store())], value))
        elif op == "STORE_SUBSCR":
            self._store_subscr()
        elif op == "POP_TOP":
            self._pop_top()
        elif op == "IMPORT_NAME":
            fromlist, level = self._pop(), self._pop()
            if not isinstance(level, ast.Constant) or not isinstance(fromlist, (ast.Constant, ast.Tuple)):
                raise _GiveUp("unusual import")
            names = (
                None
                if isinstance(fromlist, ast.Constant)
                else tuple(e.value for e in fromlist.elts if isinstance(e, ast.Constant))
            )
            self._push(_ImportedModule(i.argval, names, int(level.value)))  # type: ignore[arg-type]  # IMPORT_NAME's level: an int
        elif op == "IMPORT_FROM":
            module = self.stack[-1] if self.stack else None
            if not isinstance(module, _ImportedModule) or module.fromlist is None:
                raise _GiveUp("import of a submodule with 'as'")
            self._push(_ImportedName(module, i.argval))
        elif op == "IMPORT_STAR":
            module = self._pop()
            if not isinstance(module, _ImportedModule):
                raise _GiveUp("unusual import *")
            self._emit(ast.ImportFrom(module.name or None, [ast.alias("*")], module.level))
        elif op == "BEFORE_WITH":
            item = ast.withitem(_expr(self._pop(), "context manager"), None)
            node = ast.With([item], [])
            self._emit(node)
            self.withs.append(node)
            self.blocks.append(node.body)
            self._push(_WithExit())
            self._push(_WithEnter(item))
        else:
            raise _GiveUp(_describe(op))

    # ---- helpers for the dispatch

    def _call(self, argc: int) -> None:
        args = [self._pop() for _ in range(argc)][::-1]
        kwnames, self.kwnames = self.kwnames, ()
        func = self._pop()
        below = self._pop()
        if isinstance(func, _PendingComp) and not args:
            self._push(func.node)
            return
        if below is not _NULL:
            raise _GiveUp("unusual call sequence")
        func = _expr(func, "callable")
        split = len(args) - len(kwnames)
        positional = [_expr(a, "argument") for a in args[:split]]
        keywords = [
            ast.keyword(k, _expr(v, "argument")) for k, v in zip(kwnames, args[split:], strict=False)
        ]  # checked by the recompile
        self._push(ast.Call(func, positional, keywords))

    def _call_ex(self, flags: int) -> None:
        """Calls with ``*args``/``**kwargs``, and calls with too many arguments for CALL."""
        kwargs = self._pop() if flags & 1 else None
        args = self._pop()
        func = _expr(self._pop(), "callable")
        if self._pop() is not _NULL:
            raise _GiveUp("unusual call sequence")
        if isinstance(args, ast.Tuple) and getattr(args, "_from_list", False):
            positional = list(args.elts)
        elif isinstance(args, ast.Tuple) and not args.elts:
            positional = []
        else:
            positional = [ast.Starred(_expr(args, "*args"), ast.Load())]
        keywords: list[ast.keyword] = []
        if isinstance(kwargs, ast.Dict):
            for key, value in zip(kwargs.keys, kwargs.values, strict=False):  # checked by the recompile
                if key is None:
                    keywords.append(ast.keyword(None, value))
                elif isinstance(key, ast.Constant) and isinstance(key.value, str):
                    keywords.append(ast.keyword(key.value, value))
                else:
                    raise _GiveUp("unusual **kwargs")
        elif kwargs is not None:
            keywords.append(ast.keyword(None, _expr(kwargs, "**kwargs")))
        self._push(ast.Call(func, positional, keywords))

    def _format_value(self, flags: int) -> None:
        spec = self._pop() if flags & 4 else None
        value = _expr(self._pop(), "f-string value")
        conversion = {0: -1, 1: ord("s"), 2: ord("r"), 3: ord("a")}[flags & 3]
        if spec is None:
            format_spec = None
        elif isinstance(spec, ast.JoinedStr):
            format_spec = spec
        elif isinstance(spec, ast.Constant):
            format_spec = ast.JoinedStr([spec])
        else:
            raise _GiveUp("unusual f-string format spec")
        self._push(ast.JoinedStr([ast.FormattedValue(value, conversion, format_spec)]))

    def _make_function(self, flags: int) -> None:
        code = self._pop()
        if not isinstance(code, types.CodeType):
            raise _GiveUp("function without a code object")
        if flags & 8:
            raise _GiveUp(f"closure ({code.co_name} uses variables of an enclosing function)")
        annotations: dict[str, ast.expr] = {}
        kwdefaults: dict[str, ast.expr] = {}
        defaults: list[ast.expr] = []
        if flags & 4:
            annotated = self._pop()
            if not isinstance(annotated, ast.Tuple):
                raise _GiveUp("unusual annotations")
            elts = annotated.elts
            for key, value in zip(elts[::2], elts[1::2], strict=False):  # an odd tail is checked by the recompile
                if not isinstance(key, ast.Constant):
                    raise _GiveUp("unusual annotations")
                annotations[key.value] = self._annotation(value)  # type: ignore[index]  # names: str constants
        if flags & 2:
            mapping = self._pop()
            if not isinstance(mapping, ast.Dict):
                raise _GiveUp("unusual keyword-only defaults")
            for kw_key, kw_value in zip(mapping.keys, mapping.values, strict=False):  # checked by the recompile
                if not isinstance(kw_key, ast.Constant):
                    raise _GiveUp("unusual keyword-only defaults")
                kwdefaults[kw_key.value] = kw_value  # type: ignore[index]  # names: str constants
        if flags & 1:
            tup = self._pop()
            if not isinstance(tup, ast.Tuple):
                raise _GiveUp("unusual defaults")
            defaults = list(tup.elts)
        self._push(_Func(code, defaults, kwdefaults, annotations))

    def _annotation(self, node: ast.expr) -> ast.expr:
        """Under ``from __future__ import annotations`` the compiler stored the annotation's text."""
        if self.future and isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                return ast.parse(node.value, mode="eval").body
            except SyntaxError:
                raise _GiveUp("annotation text does not parse") from None
        return node

    def _store(self, name: str, value: object) -> None:
        if isinstance(value, _WithEnter):
            value.item.optional_vars = ast.Name(name, ast.Store())
        elif isinstance(value, _ImportedName):
            module = value.module
            alias = ast.alias(value.name, None if name == value.name else name)
            if module.node is None:
                module.node = ast.ImportFrom(module.name or None, [], module.level)
                self._emit(module.node)
            module.node.names.append(alias)
        elif isinstance(value, _ImportedModule):
            top = module_top = value.name.split(".")[0]
            if name == top:
                self._emit(ast.Import([ast.alias(value.name)]))
            elif "." not in value.name:
                self._emit(ast.Import([ast.alias(value.name, name)]))
            else:
                raise _GiveUp(f"import of {value.name} bound to {name} ({module_top})")
        elif isinstance(value, _Func):
            if not self.is_module:
                raise _GiveUp(f"nested function {value.code.co_name}")
            self._emit(self._function_def(name, value))
        elif (
            name == "__doc__"
            and self.is_module
            and not self.blocks[0]
            and isinstance(value, ast.Constant)
            and isinstance(value.value, str)
        ):
            self._emit(ast.Expr(value))
        else:
            self._emit(ast.Assign([ast.Name(name, ast.Store())], _expr(value, "assigned value")))

    def _store_subscr(self) -> None:
        key, owner, value = self._pop(), self._pop(), self._pop()
        if (
            self.is_module
            and isinstance(owner, ast.Name)
            and owner.id == "__annotations__"
            and isinstance(key, ast.Constant)
            and isinstance(key.value, str)
        ):
            annotation = self._annotation(_expr(value, "annotation"))
            last = self.blocks[-1][-1] if self.blocks[-1] else None
            if (
                isinstance(last, ast.Assign)
                and len(last.targets) == 1
                and isinstance(last.targets[0], ast.Name)
                and last.targets[0].id == key.value
            ):
                self.blocks[-1][-1] = ast.AnnAssign(last.targets[0], annotation, last.value, 1)
            else:
                self._emit(ast.AnnAssign(ast.Name(key.value, ast.Store()), annotation, None, 1))
            return
        target = ast.Subscript(_expr(owner, "subscript owner"), _expr(key, "index"), ast.Store())
        self._emit(ast.Assign([target], _expr(value, "assigned value")))

    def _pop_top(self) -> None:
        value = self._pop()
        if isinstance(value, _WithEnter):
            return  # ``with x:`` without ``as``
        if isinstance(value, _ImportedModule):
            if value.node is None:
                raise _GiveUp("unusual import")
            return
        self._emit(ast.Expr(_expr(value, "expression statement")))

    def _close_with(self) -> None:
        self._pop()  # the _WithExit
        node = self.withs.pop()
        self.blocks.pop()
        if not node.body:
            node.body.append(ast.Pass())

    def _return(self) -> None:
        value = self._pop()
        if self.withs:
            raise _GiveUp("return inside a with block")
        if [x for x in self.stack if x is not _NULL]:
            raise _GiveUp("values left on the stack")
        if isinstance(value, ast.Constant) and value.value is None:
            return
        if self.is_module:
            raise _GiveUp("module returns a value")
        self._emit(ast.Return(_expr(value, "return value")))

    def _function_def(self, name: str, func: _Func) -> ast.FunctionDef:
        code = func.code
        body_rebuilder = _Rebuilder(
            code, given_up=self.given_up, differences=self.differences, future_annotations=self.future
        )
        label = f"{code.co_name}()"
        try:
            body = body_rebuilder.function_body()
        except _GiveUp as exc:
            reason = str(exc)
            self.given_up.add(_qualname(code))
            self.differences.append(f"{label}: not rebuilt: {reason}")
            body = _give_up_body(code, reason)
        return ast.FunctionDef(name, _arguments(code, func), body, [], func.annotations.get("return"))


def _describe(op: str) -> str:
    """Name the source construct behind an opcode the rebuilder does not handle."""
    if "JUMP_IF" in op or op.startswith("POP_JUMP") or op == "JUMP_IF_NOT_EXC_MATCH":
        return f"conditional ({op}: if/while/and/or/ternary)"
    if op in ("JUMP_BACKWARD", "FOR_ITER", "JUMP_BACKWARD_NO_INTERRUPT"):
        return f"loop ({op})"
    if op in ("PUSH_EXC_INFO", "CHECK_EXC_MATCH", "RERAISE", "POP_EXCEPT"):
        return f"try/except ({op})"
    if op in ("RAISE_VARARGS",):
        return "raise statement"
    if op in ("COPY", "SWAP", "UNPACK_SEQUENCE", "UNPACK_EX"):
        return f"chained or unpacking assignment ({op})"
    if op in ("DELETE_NAME", "DELETE_FAST", "DELETE_ATTR", "DELETE_SUBSCR"):
        return "del statement"
    return f"unsupported instruction {op}"


def _give_up_body(code: types.CodeType, reason: str) -> list[ast.stmt]:
    body: list[ast.stmt] = []
    if code.co_consts and isinstance(code.co_consts[0], str):
        body.append(ast.Expr(ast.Constant(code.co_consts[0])))
    message = ast.Constant(f"could not rebuild from bytecode: {reason}")
    body.append(ast.Raise(ast.Call(ast.Name("NotImplementedError", ast.Load()), [message], []), None))
    return body


def _arguments(code: types.CodeType, func: _Func | None) -> ast.arguments:
    names = code.co_varnames
    npos, nposonly, nkw = code.co_argcount, code.co_posonlyargcount, code.co_kwonlyargcount
    notes = func.annotations if func else {}

    def arg(name: str) -> ast.arg:
        return ast.arg(name, notes.get(name))

    index = npos + nkw
    vararg = kwarg = None
    if code.co_flags & _CO_VARARGS:
        vararg = arg(names[index])
        index += 1
    if code.co_flags & _CO_VARKEYWORDS:
        kwarg = arg(names[index])
    kwonly = names[npos : npos + nkw]
    return ast.arguments(
        posonlyargs=[arg(n) for n in names[:nposonly]],
        args=[arg(n) for n in names[nposonly:npos]],
        vararg=vararg,
        kwonlyargs=[arg(n) for n in kwonly],
        kw_defaults=[(func.kwdefaults.get(n) if func else None) for n in kwonly],
        kwarg=kwarg,
        defaults=list(func.defaults) if func else [],
    )


_COMP_KINDS = {"<genexpr>": "YIELD_VALUE", "<listcomp>": "LIST_APPEND", "<setcomp>": "SET_ADD"}


def _comprehension(code: types.CodeType, iterable: ast.expr) -> ast.expr:
    """``(elt for x in it)`` / ``[...]`` / ``{...}`` with one ``for``, a plain target and no ``if``."""
    end_op = _COMP_KINDS.get(code.co_name)
    if end_op is None:
        raise _GiveUp(f"{code.co_name} call")
    ins = [i for i in dis.get_instructions(code) if i.opname not in _SKIP]
    ops = [i.opname for i in ins]
    try:
        start = ops.index("FOR_ITER")
        end = ops.index(end_op)
    except ValueError:
        raise _GiveUp(f"unusual {code.co_name}") from None
    if (
        ins[start + 1].opname != "STORE_FAST"
        or any(i.opname.startswith(("POP_JUMP", "FOR_ITER", "JUMP_IF")) for i in ins[start + 1 : end])
        or ops.count("FOR_ITER") != 1
    ):
        raise _GiveUp(f"{code.co_name} with a condition, nested loop or unpacking target")
    machine = _Rebuilder(code, given_up=set(), differences=[])
    for i in ins[start + 2 : end]:
        machine._step(i)
    if len(machine.stack) != 1:
        raise _GiveUp(f"unusual {code.co_name}")
    element = _expr(machine.stack[0], "comprehension element")
    generator = ast.comprehension(ast.Name(ins[start + 1].argval, ast.Store()), iterable, [], 0)
    if end_op == "YIELD_VALUE":
        return ast.GeneratorExp(element, [generator])
    if end_op == "LIST_APPEND":
        return ast.ListComp(element, [generator])
    return ast.SetComp(element, [generator])


# --------------------------------------------------------------------------- fallback module


_ID_VARS = ("revision", "down_revision", "branch_labels", "depends_on")


def _fallback_module(module: types.CodeType, given_up: set[str], differences: list[str]) -> ast.Module:
    """When the module body defeats the rebuilder: keep what a revision needs, found by pattern."""
    body: list[ast.stmt] = []
    ins = [i for i in dis.get_instructions(module) if i.opname not in _SKIP]
    if len(ins) > 1 and ins[0].opname == "LOAD_CONST" and ins[1].argval == "__doc__":
        body.append(ast.Expr(ast.Constant(ins[0].argval)))
    body.append(ast.ImportFrom("alembic", [ast.alias("op")], 0))
    body.append(ast.Import([ast.alias("sqlalchemy", "sa")]))
    for n, i in enumerate(ins[1:], start=1):
        prev = ins[n - 1]
        if i.opname == "STORE_NAME" and i.argval in _ID_VARS and prev.opname == "LOAD_CONST":
            body.append(ast.Assign([ast.Name(i.argval, ast.Store())], _const(prev.argval)))
    for name in ("upgrade", "downgrade"):
        code = _function_code(module, name)
        if code is None:
            continue
        rebuilder = _Rebuilder(code, given_up=given_up, differences=differences)
        try:
            fbody = rebuilder.function_body()
        except _GiveUp as exc:
            given_up.add(_qualname(code))
            differences.append(f"{name}(): not rebuilt: {exc}")
            fbody = _give_up_body(code, str(exc))
        body.append(ast.FunctionDef(name, _arguments(code, None), fbody, [], None))
    return ast.Module(body, [])


# --------------------------------------------------------------------------- layout

_WIDTH = 99


def _format(tree: ast.Module) -> str:
    """Lay the module out as Alembic writes it: blank lines between groups, long calls one
    argument per line. Purely cosmetic; the verification compiles exactly this text."""
    lines: list[str] = []
    prev: ast.stmt | None = None
    for stmt in tree.body:
        if prev is not None:
            if isinstance(stmt, ast.FunctionDef) or isinstance(prev, ast.FunctionDef):
                lines += ["", ""]
            elif _is_doc(prev) or isinstance(prev, (ast.Import, ast.ImportFrom)) != isinstance(
                stmt, (ast.Import, ast.ImportFrom)
            ):
                lines.append("")
        lines += _lines(stmt, 0)
        prev = stmt
    return "\n".join(lines) + "\n"


def _is_doc(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)


def _lines(stmt: ast.stmt, depth: int) -> list[str]:
    pad = "    " * depth
    if isinstance(stmt, (ast.FunctionDef, ast.With)):
        shell = (
            ast.FunctionDef(**{**vars(stmt), "body": [ast.Pass()]})
            if isinstance(stmt, ast.FunctionDef)
            else ast.With(stmt.items, [ast.Pass()], None)
        )
        shell = ast.fix_missing_locations(ast.copy_location(shell, stmt))
        out = [pad + line for line in ast.unparse(shell).splitlines()[:-1]]
        for inner in stmt.body:
            out += _lines(inner, depth + 1)
        return out
    if _is_doc(stmt):
        text = ast.unparse(ast.Module([stmt], []))  # rendered as a docstring, not a repr
        return [pad + line if line else line for line in text.splitlines()]
    text = ast.unparse(stmt)
    call = getattr(stmt, "value", None)
    if len(pad) + len(text) <= _WIDTH or "\n" in text or not isinstance(call, ast.Call):
        return [pad + line for line in text.splitlines()]
    if isinstance(stmt, ast.Expr):
        prefix = ""
    elif isinstance(stmt, ast.Return):
        prefix = "return "
    elif isinstance(stmt, ast.Assign):
        prefix = " = ".join(ast.unparse(t) for t in stmt.targets) + " = "
    else:
        return [pad + text]
    args = [ast.unparse(a) for a in call.args]
    args += [f"{k.arg}={ast.unparse(k.value)}" if k.arg else f"**{ast.unparse(k.value)}" for k in call.keywords]
    if not args:
        return [pad + text]
    head = f"{pad}{prefix}{ast.unparse(call.func)}("
    return [head] + [f"{pad}    {arg}," for arg in args] + [pad + ")"]


# --------------------------------------------------------------------------- verification


def _normalised(code: types.CodeType) -> list[tuple[str, object]]:
    """Instructions without CACHE/RESUME/NOP; jump targets as instruction indexes, not offsets."""
    ins = [i for i in dis.get_instructions(code) if i.opname not in ("CACHE", "RESUME", "NOP")]
    index_of = {i.offset: n for n, i in enumerate(ins)}
    out: list[tuple[str, object]] = []
    for i in ins:
        arg: object = i.argval
        if i.opcode in dis.hasjrel or i.opcode in dis.hasjabs:
            arg = index_of.get(i.argval, min((n for o, n in index_of.items() if o >= i.argval), default=-1))
        elif i.opname == "KW_NAMES":
            arg = code.co_consts[i.arg]  # type: ignore[index]  # KW_NAMES has an argument
        elif isinstance(arg, types.CodeType):
            arg = f"<code {arg.co_name}>"
        out.append((i.opname, _const_key(arg)))
    return out


def _const_key(value: object) -> object:
    """Equality key for a constant: type-exact (so True != 1), code objects by name only."""
    if isinstance(value, types.CodeType):
        return ("code", _qualname(value))
    if isinstance(value, tuple):
        return ("tuple", tuple(_const_key(v) for v in value))
    if isinstance(value, frozenset):
        return ("frozenset", tuple(sorted(repr(_const_key(v)) for v in value)))
    return (type(value).__name__, repr(value))


def _compare(old: types.CodeType, new: types.CodeType, label: str, given_up: set[str], out: list[str]) -> None:
    """Instructions (not positions, line numbers or filenames), constants, signature; recursively."""
    if _qualname(old) in given_up:
        return  # already reported as "not rebuilt"
    if (old.co_argcount, old.co_posonlyargcount, old.co_kwonlyargcount, old.co_flags & 0x0F) != (
        new.co_argcount,
        new.co_posonlyargcount,
        new.co_kwonlyargcount,
        new.co_flags & 0x0F,
    ) or old.co_varnames[: old.co_argcount] != new.co_varnames[: new.co_argcount]:
        out.append(f"{label}: signature differs")
    a, b = _normalised(old), _normalised(new)
    for n, (x, y) in enumerate(zip(a, b, strict=False)):  # lengths compared after the loop
        if x != y:
            out.append(f"{label}: instruction {n} differs: {_show(x)} vs {_show(y)}")
            break
    else:
        if len(a) != len(b):
            out.append(f"{label}: {len(a)} instructions in the bytecode, {len(b)} rebuilt")
    ka = [_const_key(c) for c in old.co_consts]
    kb = [_const_key(c) for c in new.co_consts]
    if ka != kb and not any("instruction" in d and d.startswith(label) for d in out):
        out.append(f"{label}: constants differ")
    old_codes = [c for c in old.co_consts if isinstance(c, types.CodeType)]
    new_codes = [c for c in new.co_consts if isinstance(c, types.CodeType)]
    for n, code in enumerate(old_codes):  # matched by position: two <listcomp>s share a qualname
        twin = new_codes[n] if n < len(new_codes) else None
        sub = f"{_qualname(code)}()" if label == "module" else f"{label} {code.co_name}"
        if twin is None or _qualname(twin) != _qualname(code):
            if _qualname(code) not in given_up:
                out.append(f"{sub}: missing from the rebuilt source")
        else:
            _compare(code, twin, sub, given_up, out)
    if len(new_codes) > len(old_codes):
        out.append(f"{label}: {len(new_codes) - len(old_codes)} extra code object(s) rebuilt")


def _show(item: tuple[str, object]) -> str:
    opname, key = item
    if isinstance(key, tuple) and len(key) == 2 and isinstance(key[1], str):
        shown = key[1]
    else:
        shown = repr(key)
    text = f"{opname} {shown}"
    return text if len(text) <= 70 else text[:67] + "..."


# --------------------------------------------------------------------------- the source


class BytecodeSource:
    """Source of ``bytecode`` sightings: revision files rebuilt from ``.pyc`` files.

    ``pyc_files`` may name directories (``__pycache__``), which are searched for ``*.pyc``.
    """

    def __init__(self, pyc_files: Sequence[Path], *, root: Path) -> None:
        self.pyc_files = list(pyc_files)
        self.root = root
        self._contents: dict[str, bytes] = {}
        self._parsed: dict[str, RevisionFile | Unparseable] = {}
        self._rebuilt: dict[str, Rebuilt] = {}
        self.issues: list[str] = []

    def files(self) -> Iterator[Path]:
        for path in self.pyc_files:
            if path.is_dir():
                bounded = BoundedWalk()
                for dirpath, dirnames, filenames in bounded.walk(path):
                    dirnames.sort()
                    for name in sorted(filenames):
                        if name.endswith(".pyc"):
                            yield Path(dirpath) / name
                if bounded.cut_short:
                    self.issues.append(bounded.note(_relative(path, self.root)))
            else:
                yield path

    def iter_sightings(self) -> Iterator[Sighting]:
        for path in self.files():
            shown = _relative(path, self.root)
            try:  # regular files only, opened without blocking: a FIFO named *.pyc would hang the scan
                data = read_regular(path, PYC_LIMIT)
                stamp = path.stat().st_mtime
            except OSError as exc:
                self.issues.append(f"{shown}: {exc.strerror}")
                continue
            result = rebuild(data, pyc_name=shown)
            if isinstance(result, Unparseable):
                if worth_reporting(result):
                    self.issues.append(f"{shown}: {result.reason}")
                continue
            parsed = parse_revision(result.source)
            if parsed is None:
                self.issues.append(f"{shown}: rebuilt source is not a revision file")
                continue
            if not result.complete:
                self.issues.append(f"{shown}: rebuilt incompletely: {'; '.join(result.differences)}"[:300])
            blob = git_blob_id(result.source)
            self._contents[blob] = result.source
            self._parsed[blob] = parsed
            self._rebuilt[blob] = result
            header = read_header(data)
            if header is not None and header.source_mtime:
                stamp = header.source_mtime  # when the lost .py was last written
            date = datetime.fromtimestamp(stamp, tz=timezone.utc).isoformat(timespec="seconds")
            yield Sighting(blob, "bytecode", "seen", None, None, shown, date)

    def content(self, blob: str) -> bytes:
        return self._contents[blob]

    def parsed(self, blob: str) -> RevisionFile | Unparseable:
        return self._parsed[blob]

    def rebuilt(self, blob: str) -> Rebuilt:
        return self._rebuilt[blob]

    def fidelity(self, blob: str) -> str:
        """ "bytecode" when the rebuilt file compiles to the same bytecode, else "bytecode-partial"."""
        return self._rebuilt[blob].fidelity


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()
