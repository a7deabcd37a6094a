"""A pure-Python reader of the ``marshal`` format of CPython 3.8-3.13 bytecode.

``marshal.loads`` only reads the running Python's own code objects; a ``.pyc`` written by another
version is read here instead, into :class:`ForeignCode`: plain data, never a ``types.CodeType``,
so nothing in it can run. Only the types a compiled module holds are accepted; anything else, and
anything past the limits below (bombs), is refused with a one-line :class:`MarshalError`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field

#: limits against bombs: nesting, items in one container, bytes in one string, objects in all
MAX_DEPTH = 200
MAX_ITEMS = 1_000_000
MAX_BYTES = 64 * 1024 * 1024
MAX_OBJECTS = 2_000_000

FLAG_REF = 0x80
_CO_FAST_LOCAL, _CO_FAST_CELL, _CO_FAST_FREE = 0x20, 0x40, 0x80
_READABLE = ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13")


class MarshalError(ValueError):
    """Marshal data this reader refuses: truncated, corrupt, of an unknown type or over a limit."""


@dataclass(frozen=True, eq=False)
class ForeignCode:
    """A code object of another CPython, as data; the attribute names are ``types.CodeType``'s.

    Compared by identity (``eq=False``) as code objects are in practice: two bodies are compared
    instruction by instruction (``verification.py``), never with ``==``.
    """

    python: str  # "3.8": whose bytecode this is
    co_argcount: int
    co_posonlyargcount: int
    co_kwonlyargcount: int
    co_nlocals: int
    co_stacksize: int
    co_flags: int
    co_code: bytes
    co_consts: tuple[object, ...]
    co_names: tuple[str, ...]
    co_varnames: tuple[str, ...]
    co_freevars: tuple[str, ...]
    co_cellvars: tuple[str, ...]
    co_filename: str
    co_name: str
    co_qualname: str  # = co_name before 3.11, which had no qualified names
    co_firstlineno: int
    co_linetable: bytes  # co_lnotab before 3.10
    co_exceptiontable: bytes = b""  # 3.11+
    co_localsplusnames: tuple[str, ...] = ()  # 3.11+: locals, cells and frees in one index space
    co_localspluskinds: bytes = b""  # 3.11+
    version: tuple[int, int] = field(default=(0, 0), repr=False)

    def varname_from_oparg(self, oparg: int) -> str:
        """The name an argument designates, as that version's ``dis`` reads it: any local, cell or
        free variable from 3.11 (``co_localsplusnames``); before, a cell or free one (LOAD_DEREF's
        index into ``co_cellvars + co_freevars``; plain locals index ``co_varnames``)."""
        if self.version >= (3, 11):
            return self.co_localsplusnames[oparg]
        if oparg < 0:
            raise IndexError(oparg)
        return (self.co_cellvars + self.co_freevars)[oparg]


def loads(data: bytes, python: str) -> object:
    """Read one marshalled object (a module's code object for a ``.pyc`` body) written by ``python``."""
    if python not in _READABLE:
        raise MarshalError(f"marshal data of Python {python} is not read here (only {', '.join(_READABLE)})")
    reader = _Reader(bytes(data), python)
    try:
        return reader.read(0)
    except MarshalError:
        raise
    except (ValueError, OverflowError) as exc:  # bad UTF-8 or ASCII, an unreadable float: one line, no traceback
        raise MarshalError(f"bad marshal data: {type(exc).__name__}: {exc}"[:200]) from None


class _Reader:
    def __init__(self, data: bytes, python: str) -> None:
        self.data = data
        self.pos = 0
        self.python = python
        major, minor = python.split(".")
        self.version = (int(major), int(minor))
        self.refs: list[object] = []
        self.count = 0
        self.dispatch: dict[str, Callable[[int], object]] = {
            "N": lambda _d: None,
            "F": lambda _d: False,
            "T": lambda _d: True,
            "S": lambda _d: StopIteration,
            ".": lambda _d: Ellipsis,
            "i": lambda _d: self.int32(),
            "l": lambda _d: self.long(),
            "g": lambda _d: struct.unpack("<d", self.take(8))[0],
            "y": lambda _d: complex(*struct.unpack("<dd", self.take(16))),
            "f": lambda _d: float(self.take(self.byte()).decode("ascii")),
            "s": lambda _d: self.take(self.size()),
            "u": lambda _d: self.take(self.size()).decode("utf-8", "surrogatepass"),
            "t": lambda _d: self.take(self.size()).decode("utf-8", "surrogatepass"),
            "a": lambda _d: self.take(self.size()).decode("ascii"),
            "A": lambda _d: self.take(self.size()).decode("ascii"),
            "z": lambda _d: self.take(self.byte()).decode("ascii"),
            "Z": lambda _d: self.take(self.byte()).decode("ascii"),
        }

    def take(self, n: int) -> bytes:
        if n < 0 or n > MAX_BYTES:
            raise MarshalError(f"a string of {n} bytes is over the limit of {MAX_BYTES}")
        end = self.pos + n
        if end > len(self.data):
            raise MarshalError(f"truncated: {n} bytes wanted at offset {self.pos}, {len(self.data) - self.pos} left")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def byte(self) -> int:
        return self.take(1)[0]

    def int32(self) -> int:
        return int.from_bytes(self.take(4), "little", signed=True)

    def size(self) -> int:
        n = self.int32()
        if n < 0:
            raise MarshalError(f"bad size {n} at offset {self.pos - 4}")
        return n

    def long(self) -> int:
        n = self.int32()
        if abs(n) > MAX_ITEMS:
            raise MarshalError(f"an integer of {abs(n)} digits is over the limit")
        value = 0
        for i, (digit,) in enumerate(struct.iter_unpack("<H", self.take(2 * abs(n)))):
            if digit >= 1 << 15:
                raise MarshalError("bad marshal data (digit out of range in long)")
            value |= digit << (15 * i)
        return -value if n < 0 else value

    def items(self, depth: int, n: int) -> list[object]:
        if n > MAX_ITEMS:
            raise MarshalError(f"a container of {n} items is over the limit of {MAX_ITEMS}")
        return [self.read(depth + 1) for _ in range(n)]

    def read(self, depth: int) -> object:
        if depth > MAX_DEPTH:
            raise MarshalError(f"nested deeper than {MAX_DEPTH} levels")
        self.count += 1
        if self.count > MAX_OBJECTS:
            raise MarshalError(f"more than {MAX_OBJECTS} objects")
        at = self.pos
        code = self.byte()
        flag, kind = code & FLAG_REF, chr(code & ~FLAG_REF)
        if kind == "r":
            index = int.from_bytes(self.take(4), "little")
            if index >= len(self.refs) or self.refs[index] is _PENDING:
                raise MarshalError(f"bad reference {index} at offset {at}")
            return self.refs[index]
        slot = len(self.refs)
        if flag:
            self.refs.append(_PENDING)  # reserved first, as CPython does: children are numbered after
        value = self.value(kind, depth, at)
        if flag:
            self.refs[slot] = value
        return value

    def value(self, kind: str, depth: int, at: int) -> object:
        simple = self.dispatch.get(kind)
        if simple is not None:
            return simple(depth)
        if kind == "(":
            return tuple(self.items(depth, self.size()))
        if kind == ")":
            return tuple(self.items(depth, self.byte()))
        if kind == "[":
            return self.items(depth, self.size())
        if kind in "<>":
            members = self.items(depth, self.size())
            try:
                return frozenset(members) if kind == ">" else set(members)
            except TypeError as exc:
                raise MarshalError(f"unhashable set member at offset {at}") from exc
        if kind == "{":
            return self.dictionary(depth)
        if kind == "c":
            return self.code(depth)
        if kind == "0":
            raise MarshalError(f"NULL object at offset {at}")
        raise MarshalError(f"unknown marshal type {kind!r} (0x{ord(kind):02x}) at offset {at}")

    def dictionary(self, depth: int) -> dict[object, object]:
        out: dict[object, object] = {}
        while True:
            if len(out) > MAX_ITEMS:
                raise MarshalError("a dict over the item limit")
            if self.data[self.pos : self.pos + 1] == b"0":
                self.pos += 1
                return out
            key = self.read(depth + 1)
            try:
                out[key] = self.read(depth + 1)
            except TypeError as exc:
                raise MarshalError("unhashable dict key") from exc

    def typed(self, depth: int, kind: type, what: str) -> object:
        value = self.read(depth + 1)
        if not isinstance(value, kind):
            raise MarshalError(f"a code object's {what} is a {type(value).__name__}, not a {kind.__name__}")
        if kind is tuple and what != "co_consts" and not all(isinstance(v, str) for v in value):  # type: ignore[attr-defined]
            raise MarshalError(f"a code object's {what} holds something other than names")
        return value

    def code(self, depth: int) -> ForeignCode:
        if self.version >= (3, 11):
            return self.code_311(depth)
        argcount, posonly, kwonly, nlocals, stacksize, flags = (self.int32() for _ in range(6))
        t = self.typed
        code, consts, names, varnames = (
            t(depth, bytes, "co_code"),
            t(depth, tuple, "co_consts"),
            t(depth, tuple, "co_names"),
            t(depth, tuple, "co_varnames"),
        )
        freevars, cellvars = t(depth, tuple, "co_freevars"), t(depth, tuple, "co_cellvars")
        filename, name = t(depth, str, "co_filename"), t(depth, str, "co_name")
        firstlineno = self.int32()
        linetable = t(depth, bytes, "co_lnotab")
        return ForeignCode(
            self.python, argcount, posonly, kwonly, nlocals, stacksize, flags,
            code, consts, names, varnames, freevars, cellvars,  # type: ignore[arg-type]
            filename, name, name, firstlineno, linetable, version=self.version,  # type: ignore[arg-type]
        )  # fmt: skip

    def code_311(self, depth: int) -> ForeignCode:
        argcount, posonly, kwonly, stacksize, flags = (self.int32() for _ in range(5))
        t = self.typed
        code, consts, names = t(depth, bytes, "co_code"), t(depth, tuple, "co_consts"), t(depth, tuple, "co_names")
        plus_names, plus_kinds = t(depth, tuple, "co_localsplusnames"), t(depth, bytes, "co_localspluskinds")
        filename, name, qualname = t(depth, str, "co_filename"), t(depth, str, "co_name"), t(depth, str, "co_qualname")
        firstlineno = self.int32()
        linetable, exceptiontable = t(depth, bytes, "co_linetable"), t(depth, bytes, "co_exceptiontable")
        assert isinstance(plus_names, tuple) and isinstance(plus_kinds, bytes)
        if len(plus_names) != len(plus_kinds):
            raise MarshalError("a code object's localsplus names and kinds differ in length")

        def of_kind(kind: int) -> tuple[str, ...]:  # as CPython's get_localsplus_names()
            return tuple(n for n, k in zip(plus_names, plus_kinds, strict=True) if k & kind)

        varnames = of_kind(_CO_FAST_LOCAL)
        return ForeignCode(
            self.python, argcount, posonly, kwonly, len(varnames), stacksize, flags,
            code, consts, names, varnames, of_kind(_CO_FAST_FREE), of_kind(_CO_FAST_CELL),  # type: ignore[arg-type]
            filename, name, qualname, firstlineno, linetable, exceptiontable,  # type: ignore[arg-type]
            plus_names, plus_kinds, version=self.version,
        )  # fmt: skip


class _Pending:
    """A reference reserved for a container still being read: a reference to it is corrupt data."""


_PENDING = _Pending()
