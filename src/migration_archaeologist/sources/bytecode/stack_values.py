"""What the stack machine pushes besides expression nodes, and the opcode tables it reads.

Constants become expression nodes here; the placeholders (NULL, a pending ``with``, a function
object, an import in progress) stand for what an instruction left on the stack before the
statement that consumes it. ``GiveUp`` names a construct the rebuilder does not handle.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from migration_archaeologist.sources.bytecode.code_objects import is_code
from migration_archaeologist.sources.bytecode.instructions import CodeLike


class GiveUp(Exception):
    """A construct the rebuilder does not handle; the message names it."""


class _Null:
    """The NULL the 3.11+ call protocol pushes next to a plain callable (or LOAD_METHOD's marker)."""


NULL = _Null()


@dataclass
class WithEnter:
    item: ast.withitem


class WithExit:
    """The bound ``__exit__`` that BEFORE_WITH (SETUP_WITH before 3.11) leaves under the with body."""


@dataclass
class Func:
    code: CodeLike
    defaults: list[ast.expr]
    kwdefaults: dict[str, ast.expr]
    annotations: dict[str, ast.expr]


@dataclass
class ImportedModule:
    name: str
    fromlist: object
    level: int
    node: ast.ImportFrom | None = None


@dataclass
class ImportedName:
    module: ImportedModule
    name: str


@dataclass
class PendingComp:
    node: ast.expr


@dataclass
class Converted:
    """A value with its f-string conversion (3.13's CONVERT_VALUE), awaiting its FORMAT_*."""

    value: ast.expr
    conversion: int


BINOPS: dict[str, type[ast.operator]] = {
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
CMPOPS: dict[str, type[ast.cmpop]] = {
    "<": ast.Lt,
    "<=": ast.LtE,
    "==": ast.Eq,
    "!=": ast.NotEq,
    ">": ast.Gt,
    ">=": ast.GtE,
    "is": ast.Is,  # COMPARE_OP before 3.9's IS_OP/CONTAINS_OP
    "is not": ast.IsNot,
    "in": ast.In,
    "not in": ast.NotIn,
}
#: the binary operators before 3.11's BINARY_OP, by opname
BINARY_OPNAMES: dict[str, str] = {
    "BINARY_ADD": "+",
    "BINARY_SUBTRACT": "-",
    "BINARY_MULTIPLY": "*",
    "BINARY_TRUE_DIVIDE": "/",
    "BINARY_FLOOR_DIVIDE": "//",
    "BINARY_MODULO": "%",
    "BINARY_POWER": "**",
    "BINARY_MATRIX_MULTIPLY": "@",
    "BINARY_LSHIFT": "<<",
    "BINARY_RSHIFT": ">>",
    "BINARY_AND": "&",
    "BINARY_OR": "|",
    "BINARY_XOR": "^",
}
UNARY: dict[str, type[ast.unaryop]] = {
    "UNARY_NEGATIVE": ast.USub,
    "UNARY_POSITIVE": ast.UAdd,
    "UNARY_NOT": ast.Not,
    "UNARY_INVERT": ast.Invert,
}
#: instructions with no effect on the rebuilt source (TO_BOOL: 3.13's truth test before a jump)
SKIP = frozenset({"RESUME", "NOP", "PRECALL", "CACHE", "EXTENDED_ARG", "SETUP_ANNOTATIONS", "GEN_START", "TO_BOOL"})
CO_VARARGS, CO_VARKEYWORDS, CO_FUTURE_ANNOTATIONS = 0x04, 0x08, 0x1000000


def constant(value: object) -> ast.expr:
    """A literal as an expression node; tuples and frozensets are spelled out for unparse."""
    if isinstance(value, tuple):
        return ast.Tuple([constant(v) for v in value], ast.Load())
    if isinstance(value, frozenset):
        if not value:
            raise GiveUp("empty frozenset constant")
        return ast.Set([constant(v) for v in sorted(value, key=repr)])
    if is_code(value):
        raise GiveUp(f"code object {getattr(value, 'co_name', '?')} used as a value")
    return ast.Constant(value)  # type: ignore[arg-type]  # what is left of a code object's constants: literals


def as_expr(item: object, what: str) -> ast.expr:
    if not isinstance(item, ast.expr):
        raise GiveUp(f"unexpected {type(item).__name__.strip('_')} as {what}")
    return item


def describe(op: str) -> str:
    """Name the source construct behind an opcode the rebuilder does not handle."""
    if "JUMP_IF" in op or op.startswith("POP_JUMP") or op == "JUMP_IF_NOT_EXC_MATCH":
        return f"conditional ({op}: if/while/and/or/ternary)"
    if op in ("JUMP_BACKWARD", "FOR_ITER", "JUMP_BACKWARD_NO_INTERRUPT", "JUMP_ABSOLUTE", "END_FOR"):
        return f"loop ({op})"
    if op in ("PUSH_EXC_INFO", "CHECK_EXC_MATCH", "RERAISE", "POP_EXCEPT", "SETUP_FINALLY", "POP_BLOCK"):
        return f"try/except ({op})"
    if op in ("RAISE_VARARGS",):
        return "raise statement"
    if op in ("COPY", "SWAP", "UNPACK_SEQUENCE", "UNPACK_EX", "DUP_TOP", "DUP_TOP_TWO", "ROT_TWO", "ROT_THREE"):
        return f"chained or unpacking assignment ({op})"
    if op.startswith("INPLACE_"):
        return f"augmented assignment ({op})"
    if op in ("LOAD_CLOSURE", "LOAD_DEREF", "STORE_DEREF", "MAKE_CELL", "COPY_FREE_VARS"):
        return f"closure ({op})"
    if op in ("DELETE_NAME", "DELETE_FAST", "DELETE_ATTR", "DELETE_SUBSCR"):
        return "del statement"
    return f"unsupported instruction {op}"
