"""Operators, subscripts, comparisons and mapping displays on the operand stack, in every version's
spelling: 3.11's BINARY_OP and the BINARY_<NAME> instructions before it, 3.12's BINARY_SLICE,
3.8's COMPARE_OP for ``is``/``in`` and 3.9's IS_OP/CONTAINS_OP.
"""

from __future__ import annotations

import ast

from migration_archaeologist.sources.bytecode.expressions import ExpressionStack
from migration_archaeologist.sources.bytecode.instructions import InstructionLike
from migration_archaeologist.sources.bytecode.stack_values import (
    BINARY_OPNAMES,
    BINOPS,
    CMPOPS,
    UNARY,
    GiveUp,
    as_expr,
)


class OperatorStack(ExpressionStack):
    """The operators and displays half of the expression stack."""

    def op_BINARY_OP(self, i: InstructionLike) -> None:
        self._binary(i.argrepr)

    def op_BINARY_LEGACY(self, i: InstructionLike) -> None:
        self._binary(BINARY_OPNAMES[i.opname])

    def _binary(self, symbol: str) -> None:
        if symbol not in BINOPS:
            raise GiveUp(f"augmented assignment ({symbol})")
        right, left = as_expr(self._pop(), "operand"), as_expr(self._pop(), "operand")
        self._push(ast.BinOp(left, BINOPS[symbol](), right))

    def op_UNARY(self, i: InstructionLike) -> None:
        self._push(ast.UnaryOp(UNARY[i.opname](), as_expr(self._pop(), "operand")))

    def op_BINARY_SUBSCR(self, i: InstructionLike) -> None:
        subscript, subscripted = self._pop(), self._pop()
        self._push(ast.Subscript(as_expr(subscripted, "subscript owner"), as_expr(subscript, "index"), ast.Load()))

    def op_BUILD_SLICE(self, i: InstructionLike) -> None:
        parts = [self._pop() for _ in range(i.arg or 2)][::-1]
        self._push(ast.Slice(*[_bound(p) for p in parts]))

    def op_BINARY_SLICE(self, i: InstructionLike) -> None:
        """3.12+: ``x[a:b]`` as one instruction over container, start and stop."""
        stop, start = self._pop(), self._pop()
        owner = as_expr(self._pop(), "subscript owner")
        self._push(ast.Subscript(owner, ast.Slice(_bound(start), _bound(stop)), ast.Load()))

    def op_COMPARE_OP(self, i: InstructionLike) -> None:
        right, left = as_expr(self._pop(), "operand"), as_expr(self._pop(), "operand")
        if i.opname == "IS_OP":
            cmp: ast.cmpop = ast.IsNot() if i.arg else ast.Is()
        elif i.opname == "CONTAINS_OP":
            cmp = ast.NotIn() if i.arg else ast.In()
        elif i.argval in CMPOPS:
            cmp = CMPOPS[str(i.argval)]()
        else:
            raise GiveUp(f"unusual comparison {i.argval}")
        self._push(ast.Compare(left, [cmp], [right]))

    def op_LIST_EXTEND(self, i: InstructionLike) -> None:
        """LIST_EXTEND, SET_UPDATE and LIST_APPEND: a display with ``*`` items (3.9+)."""
        more = as_expr(self._pop(), "item")
        target = self.stack[-1] if self.stack else None
        if not isinstance(target, (ast.List, ast.Set)):
            raise GiveUp(f"unusual {i.opname}")
        if i.opname == "LIST_APPEND":
            target.elts.append(more)
        elif isinstance(more, (ast.Tuple, ast.Set)) and not getattr(more, "_from_list", False):
            target.elts.extend(more.elts)  # a folded constant display
        else:
            target.elts.append(ast.Starred(more, ast.Load()))

    def op_DICT_MERGE(self, i: InstructionLike) -> None:
        more = as_expr(self._pop(), "mapping")
        target = self.stack[-1] if self.stack else None
        if not isinstance(target, ast.Dict):
            raise GiveUp(f"unusual {i.opname}")
        if isinstance(more, ast.Dict) and None not in more.keys:
            target.keys += more.keys  # ``{**a, 'k': v}``: the same bytecode as ``{**a, **{'k': v}}``
            target.values += more.values
        else:
            target.keys.append(None)
            target.values.append(more)

    def op_BUILD_MAP(self, i: InstructionLike) -> None:
        pairs = [(self._pop(), self._pop()) for _ in range(i.arg or 0)][::-1]
        self._push(ast.Dict([as_expr(k, "key") for _, k in pairs], [as_expr(v, "value") for v, _ in pairs]))

    def op_BUILD_CONST_KEY_MAP(self, i: InstructionLike) -> None:
        keys = self._pop()
        values = self._pop_exprs(i.arg or 0, "value")
        if not isinstance(keys, ast.Tuple):
            raise GiveUp("dict keys are not constant")
        self._push(ast.Dict(list(keys.elts), values))


def _bound(part: object) -> ast.expr | None:
    if isinstance(part, ast.Constant) and part.value is None:
        return None
    return as_expr(part, "slice")
