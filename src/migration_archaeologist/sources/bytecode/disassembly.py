"""Instructions of a :class:`ForeignCode`, exactly as that version's own ``dis.get_instructions`` lists them.

Driven only by the generated tables of ``opcode_tables.py`` (never by the running Python's
``dis``/``opcode``): EXTENDED_ARG, byte jumps (3.8/3.9) and word jumps (3.10+), inline caches and
backward jumps (3.11+), the argument shifts of LOAD_GLOBAL/LOAD_ATTR/LOAD_SUPER_ATTR/COMPARE_OP,
3.13's paired-local opcodes. The contract, tested against each interpreter: for every code object,
``[(i.opname, i.arg, i.argval, i.offset)]`` equals that version's ``dis.get_instructions(code)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from migration_archaeologist.sources.bytecode.marshal_reader import ForeignCode
from migration_archaeologist.sources.bytecode.opcode_tables import OpcodeTable, table

_INT_OVERFLOW = 2**31
_CONVERTERS: tuple[tuple[object, str], ...] = ((None, ""), (str, "str"), (repr, "repr"), (ascii, "ascii"))
_PAIRS = ("LOAD_FAST_LOAD_FAST", "STORE_FAST_LOAD_FAST", "STORE_FAST_STORE_FAST")


class DisassemblyError(ValueError):
    """Bytecode its own version's ``dis`` could not list either: unknown opcode, argument out of range."""


class _Unknown:
    """``dis.UNKNOWN``: 3.11's ``dis`` resolves no constant but LOAD_CONST's (KW_NAMES gets this)."""

    def __repr__(self) -> str:
        return "<UNKNOWN>"


UNKNOWN = _Unknown()


@dataclass(frozen=True)
class Instr:
    """One instruction; the fields are ``dis.Instruction``'s that the rebuilder reads, plus ``jump``."""

    opname: str
    opcode: int
    arg: int | None
    argval: object
    argrepr: str
    offset: int
    is_jump_target: bool
    jump: int | None  # the target offset of a jump, else None


def foreign_instructions(code: ForeignCode) -> list[Instr]:
    """The instructions of ``code``, without CACHE entries, as its own version's ``dis`` gives them."""
    t = table(code.python)
    if t is None:
        raise DisassemblyError(f"bytecode of Python {code.python} is not disassembled here")
    raw = list(_unpack(code.co_code, t))
    targets = {_target(t, op, arg, offset) for offset, op, arg in raw if arg is not None}
    targets.discard(None)
    labels = {offset: n for n, offset in enumerate(sorted(t for t in targets if t is not None), start=1)}
    out = []
    for offset, op, arg in raw:
        name = t.opname.get(op)
        if name is None:
            raise DisassemblyError(f"opcode {op} at offset {offset} is unknown to Python {t.python}")
        jump = _target(t, op, arg, offset) if arg is not None else None
        try:
            argval, argrepr = _resolve(t, code, op, arg, jump, labels)
        except IndexError:
            raise DisassemblyError(f"{name} at offset {offset}: argument {arg} out of range") from None
        out.append(Instr(name, op, arg, argval, argrepr, offset, offset in labels, jump))
    return out


def _unpack(code: bytes, t: OpcodeTable) -> Iterator[tuple[int, int, int | None]]:
    """(offset, opcode, argument) of each instruction, inline CACHE entries skipped (``dis._unpack_opargs``)."""
    if len(code) % 2:
        raise DisassemblyError(f"{len(code)} bytes of bytecode: not whole 2-byte code units")
    extended_arg = 0
    caches = 0
    extended = t.op("EXTENDED_ARG")
    for i in range(0, len(code), 2):
        if caches:
            caches -= 1
            continue
        op = code[i]
        caches = t.cache_entries.get(op, 0)
        arg: int | None
        if op in t.hasarg:
            arg = code[i + 1] | extended_arg
            extended_arg = (arg << 8) if op == extended else 0
            if t.signed_ext_arg and extended_arg >= _INT_OVERFLOW:
                extended_arg -= 2 * _INT_OVERFLOW
        else:
            arg = None
            if t.version >= (3, 11):
                extended_arg = 0
        yield i, op, arg


def _target(t: OpcodeTable, op: int, arg: int, offset: int) -> int | None:
    if op in t.hasjrel:
        signed = -arg if op in t.backward_jumps else arg
        target = offset + 2 + signed * t.jump_unit
        return target + 2 * t.cache_entries.get(op, 0) if t.jump_skips_caches else target
    if op in t.hasjabs:
        return arg * t.jump_unit
    return None


def _resolve(
    t: OpcodeTable, code: ForeignCode, op: int, arg: int | None, jump: int | None, labels: dict[int, int]
) -> tuple[object, str]:
    if arg is None:
        return None, ""
    if op in t.hasconst:
        if t.consts_only_load_const and op != t.op("LOAD_CONST"):
            return UNKNOWN, ""
        value = code.co_consts[arg]
        return value, _const_repr(value)
    if op in t.hasname:
        return _name(t, code, op, arg)
    if op in t.hasjump:
        return jump, (f"to L{labels[jump]}" if t.version >= (3, 13) and jump in labels else f"to {jump!r}")
    if t.opname[op] in _PAIRS:
        first, second = _local(t, code, arg >> 4), _local(t, code, arg & 15)
        return (first, second), f"{first}, {second}"
    if op in t.haslocal:
        name = _local(t, code, arg)
        return name, name
    if op in t.hasfree:
        name = code.varname_from_oparg(arg)
        return name, name
    if op in t.hascompare:
        value = t.cmp_op[arg >> t.compare_shift]
        return value, (f"bool({value})" if t.version >= (3, 13) and arg & 16 else value)
    return _other(t, t.opname[op], arg)


def _other(t: OpcodeTable, name: str, arg: int) -> tuple[object, str]:
    if name == "FORMAT_VALUE":
        converter, shown = _CONVERTERS[arg & 0x3]
        if arg & 0x4:
            shown = f"{shown}, with format" if shown else "with format"
        return (converter, bool(arg & 0x4)), shown
    if name == "CONVERT_VALUE":
        return _CONVERTERS[arg]
    if name in ("MAKE_FUNCTION", "SET_FUNCTION_ATTRIBUTE"):
        return arg, ", ".join(s for i, s in enumerate(t.function_flags) if arg & (1 << i))
    if name == "BINARY_OP" and t.nb_ops:
        return arg, t.nb_ops[arg]
    if name == "CALL_INTRINSIC_1":
        return arg, t.intrinsic_1[arg]
    if name == "CALL_INTRINSIC_2":
        return arg, t.intrinsic_2[arg]
    return arg, ""


def _name(t: OpcodeTable, code: ForeignCode, op: int, arg: int) -> tuple[object, str]:
    shift = t.name_shifts.get(op, 0)
    name = code.co_names[arg >> shift]
    if not shift or not arg & 1:
        return name, name
    null = "NULL" if t.opname[op] == "LOAD_GLOBAL" else "NULL|self"
    return name, (f"{name} + {null}" if t.version >= (3, 13) else f"{null} + {name}")


def _local(t: OpcodeTable, code: ForeignCode, arg: int) -> str:
    if t.localsplus:
        return code.varname_from_oparg(arg)
    if arg < 0:
        raise IndexError(arg)
    return code.co_varnames[arg]


def _const_repr(value: object) -> str:
    if isinstance(value, ForeignCode):
        return f"<code object {value.co_name}, file {value.co_filename!r}, line {value.co_firstlineno}>"
    return repr(value)
