"""The control flow of one code object read back into statements: ``if``/``elif``/``else`` (and
``and``/``or`` in their tests), ``for`` loops, ``with`` blocks and returns, as each CPython from 3.8
to 3.13 lays them out (jump threading, copied returns, 3.12's inlined comprehensions).

Only forward structure is read: a range of instructions becomes a block; what the reader does not
recognise raises :class:`~migration_archaeologist.sources.bytecode.stack_values.GiveUp`.
"""

from __future__ import annotations

import ast
import bisect
from collections.abc import Callable, Sequence

from migration_archaeologist.sources.bytecode.comprehensions import Machine, inline_comprehension
from migration_archaeologist.sources.bytecode.instructions import CodeLike, InstructionLike
from migration_archaeologist.sources.bytecode.operators import OperatorStack
from migration_archaeologist.sources.bytecode.stack_values import NULL, GiveUp, WithExit, as_expr, constant, describe

#: how each version leaves a ``with`` body normally: call ``__exit__(None, None, None)``
_WITH_EXITS: tuple[tuple[str, ...], ...] = (
    ("LOAD_CONST", "LOAD_CONST", "LOAD_CONST", "CALL", "POP_TOP"),  # 3.11+ (PRECALL skipped)
    ("POP_BLOCK", "LOAD_CONST", "DUP_TOP", "DUP_TOP", "CALL_FUNCTION", "POP_TOP"),  # 3.9, 3.10
    ("POP_BLOCK", "BEGIN_FINALLY", "WITH_CLEANUP_START", "WITH_CLEANUP_FINISH", "END_FINALLY"),  # 3.8
)
_RETURNS = ("RETURN_VALUE", "RETURN_CONST")
#: statements after which a block goes nowhere: no ``return None`` is added after them
_ENDS = (ast.Return, ast.Raise)
#: unconditional jumps: forward out of an if or a with, or back to the head of the loop being read
_JUMPS = ("JUMP_FORWARD", "JUMP_ABSOLUTE", "JUMP_BACKWARD", "JUMP_BACKWARD_NO_INTERRUPT")


def _none_test(node: ast.expr, op: ast.cmpop) -> ast.expr:
    return ast.Compare(node, [op], [ast.Constant(None)])


def _negated(test: ast.expr) -> ast.expr:
    """``not test``, without a double negation."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return test.operand
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Is, ast.IsNot)):
        flipped = ast.IsNot() if isinstance(test.ops[0], ast.Is) else ast.Is()
        return ast.Compare(test.left, [flipped], test.comparators)
    return ast.UnaryOp(ast.Not(), test)


#: forward conditional jumps: the condition under which the jump is NOT taken (the if's test)
_CONDITIONS: dict[str, Callable[[ast.expr], ast.expr]] = {
    **dict.fromkeys(("POP_JUMP_IF_FALSE", "POP_JUMP_FORWARD_IF_FALSE"), lambda c: c),
    **dict.fromkeys(("POP_JUMP_IF_TRUE", "POP_JUMP_FORWARD_IF_TRUE"), lambda c: ast.UnaryOp(ast.Not(), c)),
    **dict.fromkeys(("POP_JUMP_IF_NOT_NONE", "POP_JUMP_FORWARD_IF_NOT_NONE"), lambda c: _none_test(c, ast.Is())),
    **dict.fromkeys(("POP_JUMP_IF_NONE", "POP_JUMP_FORWARD_IF_NONE"), lambda c: _none_test(c, ast.IsNot())),
}


class ControlFlow(OperatorStack):
    """The driver of the stack machine: ranges of instructions read into nested blocks."""

    instructions: list[InstructionLike]
    offsets: list[int]
    blocks: list[list[ast.stmt]]
    withs: list[ast.With]
    loops: list[tuple[int, int]]
    returns_duplicated: bool

    # ---- provided by the Rebuilder

    def _step(self, i: InstructionLike) -> None:
        raise NotImplementedError

    def _return(self) -> None:
        raise NotImplementedError

    def _close_with(self) -> None:
        raise NotImplementedError

    def _emit(self, stmt: ast.stmt) -> None:
        raise NotImplementedError

    def _store_value(self, name: str, value: object) -> None:
        raise NotImplementedError

    def _machine_for(self, code: CodeLike) -> Machine:
        raise NotImplementedError

    # ---- the driver

    def _run(self) -> None:
        ops = [i.opname for i in self.instructions]
        if ops.count("PUSH_EXC_INFO") > ops.count("BEFORE_WITH"):  # 3.11+: a handler no ``with`` explains
            raise GiveUp("try/except or try/finally (PUSH_EXC_INFO)")
        if not self._range(0, len(self.instructions))[0]:
            raise GiveUp("code does not end in a return")

    def _range(self, n: int, hi: int) -> tuple[bool, int]:
        """Rebuild ``instructions[n:hi]`` into the current block. Returns whether it ended in a
        return (what follows a return at this level is unreachable or an exception handler, and is
        not read), else where it leaves to: ``hi``, or the target of a forward jump past it."""
        ins = self.instructions
        while n < hi:
            i = ins[n]
            if i.opname in _JUMPS:
                target = self._loop_exit(self._jump_target(i))
                if target <= n:
                    raise GiveUp(describe(i.opname))  # a loop the rebuilder does not read
                n = target
                if n > hi:
                    return False, n
            elif i.opname in _RETURNS:
                if i.opname == "RETURN_CONST":
                    self._push(constant(i.argval))
                self._return()
                return True, hi
            elif i.opname == "RAISE_VARARGS" and i.arg in (1, 2):  # a bare re-raise belongs to a handler
                self._raise(i.arg)
                return True, hi  # like a return: what follows at this level is unreachable
            elif self.stack and isinstance(self.stack[-1], WithExit) and self._with_exit(ins, n):
                self._close_with()
                n += self._with_exit(ins, n)
            elif (
                i.opname == "GET_ITER" and n + 1 < len(ins) and ins[n + 1].opname in ("LOAD_FAST_AND_CLEAR", "FOR_ITER")
            ):
                n = self._iteration(n)
            elif i.opname in _CONDITIONS:
                ended, n = self._if(n, hi)
                if ended or n > hi:
                    return ended, n
            else:
                self._step(i)
                n += 1
        return False, hi

    def _raise(self, argc: int) -> None:
        """``raise X`` or ``raise X from Y``: Alembic's irreversible ``downgrade()`` idiom."""
        cause = as_expr(self._pop(), "exception cause") if argc == 2 else None
        self._emit(ast.Raise(as_expr(self._pop(), "exception"), cause))

    def _loop_exit(self, target: int) -> int:
        """A jump back to the head of the loop being read ends its body (3.8-3.10 jump there straight
        from the end of a with or an if); any other target is itself."""
        if self.loops and target == self.loops[-1][0]:
            return self.loops[-1][1]
        return target

    def _iteration(self, n: int) -> int:
        """GET_ITER at ``n`` starting an inlined comprehension (3.12+) or a ``for`` loop with a plain
        target and no ``break``/``continue``; the index after it."""
        ins = self.instructions
        iterable = as_expr(self._pop(), "iterable")
        if ins[n + 1].opname == "LOAD_FAST_AND_CLEAR":
            node, n, consumer = inline_comprehension(self.code, ins, n, iterable, self._machine_for)
            if consumer == "":
                self._emit(ast.Expr(node))
            elif consumer is not None:
                self._store_value(consumer, node)
            else:
                self._push(node)
            return n
        end = self._jump_target(ins[n + 1])
        back = ins[end - 1]
        store = ins[n + 2] if n + 2 < end else None
        if (
            back.opname not in ("JUMP_BACKWARD", "JUMP_ABSOLUTE", "JUMP_BACKWARD_NO_INTERRUPT")
            or self._jump_target(back) != n + 1
            or store is None
            or store.opname not in ("STORE_NAME", "STORE_FAST", "STORE_GLOBAL", "STORE_FAST_LOAD_FAST")
            or any(x is not NULL and not isinstance(x, WithExit) for x in self.stack)
        ):
            raise GiveUp(describe("FOR_ITER"))
        name, loaded = pair(store) if store.opname == "STORE_FAST_LOAD_FAST" else (str(store.argval), None)
        depth = len(self.stack)
        if loaded is not None:
            self._push(ast.Name(loaded, ast.Load()))
        self.loops.append((n + 1, end - 1))
        body, ended, out = self._block(n + 3, end - 1)
        self.loops.pop()
        if ended or out != end - 1 or len(self.stack) != depth:
            raise GiveUp(describe("FOR_ITER"))
        self._emit(ast.For(ast.Name(name, ast.Store()), iterable, body or [ast.Pass()], [], None))
        if end < len(ins) and ins[end].opname == "END_FOR":  # 3.12+; 3.13 then pops the iterator
            end += 2 if end + 1 < len(ins) and ins[end + 1].opname == "POP_TOP" else 1
        return end

    def _if(self, n: int, hi: int) -> tuple[bool, int]:
        """``if``/``else`` from a forward conditional jump at ``n``; returns like :meth:`_range`.

        The then-part runs to the jump's target ``t``; if it jumps further, to ``e``, what lies
        between is the else-part (a jump past ``hi`` is an enclosing if's, threaded by the compiler).
        A then-part that returns None makes the rest the else-part: the compiler lays out ``if c: A``
        + ``B`` at the end of a function exactly like ``if c: A else: B``."""
        i = self.instructions[n]
        cond = _CONDITIONS[i.opname](as_expr(self._pop(), "condition"))
        t = self._loop_exit(self._jump_target(i))
        right = self._or_operand(n, t)
        if right is not None:  # ``if a or b:``: the first test jumps into the body past the second
            n, i = t - 1, self.instructions[t - 1]
            cond = ast.BoolOp(ast.Or(), [_negated(cond), _CONDITIONS[i.opname](right)])
            t = self._loop_exit(self._jump_target(i))
        if t > hi and self._returns_none(t) and self._returns_none(hi):
            t = hi  # 3.10+ copies the final ``return None`` to each jump's target: the same end
        if t == n + 2 and self._continues(n + 1):  # 3.12+: the test jumps over a jump back to the loop head
            cond, n, t = _negated(cond), n + 1, self.loops[-1][1]
        if not n < t <= hi:
            raise GiveUp(describe(i.opname))
        depth = len(self.stack)
        body, returned, e = self._block(n + 1, t)
        if not body and not returned and e > t and len(self.stack) == depth + 1:
            if e > hi:  # ``x if a and b else y``: the tests are not read
                raise GiveUp("conditional expression with and/or in its test")
            return self._ternary(cond, t, e)
        if len(self.stack) != depth or not all(x is NULL or isinstance(x, WithExit) for x in self.stack):
            raise GiveUp(describe(i.opname))  # not a statement
        orelse: list[ast.stmt] = []
        ended = False
        if returned and not (body and isinstance(body[-1], _ENDS)):
            orelse, ended, e = self._block(t, hi)
            if not ended or not body or not self.returns_duplicated:  # ``if c: return`` and the rest
                if orelse or ended or not self._returns_none(e):
                    body.append(ast.Return(None))
                self._emit(ast.If(cond, body, []))
                self.blocks[-1].extend(orelse)
                return ended, e
        elif not returned and e > t:
            orelse, ended, out = self._block(t, min(e, hi))
            if not ended and not min(e, hi) <= out <= e:
                raise GiveUp(f"unusual if/else ({i.opname})")
            if ended and not (orelse and isinstance(orelse[-1], _ENDS)):
                orelse.append(ast.Return(None))  # ``else: return None`` with code after the if
            ended = False  # the then-part goes on at ``e``
        else:
            e = t
        only = body[0] if len(body) == 1 else None
        if isinstance(only, ast.If) and not only.orelse and getattr(only, "_else_at", None) == t:
            inner = only.test  # the inner test fails to where the outer one does: ``if a and b:``
            tests = inner.values if isinstance(inner, ast.BoolOp) and isinstance(inner.op, ast.And) else [inner]
            cond, body = ast.BoolOp(ast.And(), [cond, *tests]), only.body
        node = ast.If(cond, body or [ast.Pass()], orelse)
        node._else_at = t  # type: ignore[attr-defined]  # where the test fails to, for an enclosing if
        self._emit(node)
        return ended and returned, e

    def _ternary(self, test: ast.expr, t: int, e: int) -> tuple[bool, int]:
        """``x if test else y``: the then-part left ``x`` and jumped to ``e``; the else-part from ``t``
        must leave ``y`` and reach ``e`` without a statement."""
        chosen = as_expr(self._pop(), "conditional expression")
        depth = len(self.stack)
        orelse, ended, out = self._block(t, e)
        if orelse or ended or out != e or len(self.stack) != depth + 1:
            raise GiveUp("unusual conditional expression")
        self._push(ast.IfExp(test, chosen, as_expr(self._pop(), "conditional expression")))
        return False, e

    def _continues(self, n: int) -> bool:
        """``instructions[n]`` jumps back to the head of the loop being read."""
        i = self.instructions[n]
        return bool(self.loops) and i.opname in _JUMPS and self._jump_target(i) == self.loops[-1][0]

    def _or_operand(self, n: int, t: int) -> ast.expr | None:
        """The right operand of ``a or b`` when the jump at ``n`` (to ``t``) skips the expression
        ``instructions[n+1:t-1]`` and the conditional jump that ends it; else None."""
        ins = self.instructions
        if not n + 1 < t - 1 < len(ins) or ins[t - 1].opname not in _CONDITIONS:
            return None
        between = ins[n + 1 : t - 1]
        if any(x.opname in _CONDITIONS or x.opname in _JUMPS or x.opname in _RETURNS for x in between):
            return None
        depth, statements = len(self.stack), len(self.blocks[-1])
        for x in between:
            self._step(x)
        if len(self.stack) != depth + 1 or len(self.blocks[-1]) != statements:
            raise GiveUp("unusual 'or' in a condition")
        return as_expr(self._pop(), "condition")

    def _returns_none(self, n: int) -> bool:
        """``instructions[n]`` starts a bare ``return None``."""
        ins = self.instructions
        if n >= len(ins):
            return False
        if ins[n].opname == "RETURN_CONST":
            return ins[n].argval is None
        return (
            ins[n].opname == "LOAD_CONST"
            and ins[n].argval is None
            and ins[n + 1 : n + 2] != []
            and ins[n + 1].opname == "RETURN_VALUE"
        )

    def _block(self, lo: int, hi: int) -> tuple[list[ast.stmt], bool, int]:
        """The statements of ``instructions[lo:hi]`` as a block of their own; returns like :meth:`_range`."""
        body: list[ast.stmt] = []
        self.blocks.append(body)
        depth = len(self.withs)
        ended, out = self._range(lo, hi)
        if len(self.withs) != depth or self.blocks[-1] is not body:
            raise GiveUp("with block across an if")
        self.blocks.pop()
        return body, ended, out

    def _jump_target(self, i: InstructionLike) -> int:
        """The index of the first instruction at or after the jump's target (skipped NOPs)."""
        target = i.argval
        if not isinstance(target, int) or target > self.instructions[-1].offset:
            raise GiveUp("jump to an unknown offset")
        return bisect.bisect_left(self.offsets, target)

    @staticmethod
    def _with_exit(ins: Sequence[InstructionLike], n: int) -> int:
        """The length of the normal exit of a ``with`` body starting at ``ins[n]``, or 0."""
        for pattern in _WITH_EXITS:
            window = ins[n : n + len(pattern)]
            if tuple(x.opname for x in window) != pattern:
                continue
            nones = [x.argval for x in window if x.opname == "LOAD_CONST"]
            calls = [x.arg for x in window if x.opname.startswith("CALL")]
            if all(v is None for v in nones) and calls in ([], [2], [3]):
                return len(pattern)
        return 0


def pair(i: InstructionLike) -> tuple[str, str]:
    """The two names of 3.13's superinstructions (LOAD_FAST_LOAD_FAST and the like)."""
    if not isinstance(i.argval, tuple) or len(i.argval) != 2:
        raise GiveUp(f"unusual {i.opname}")
    return str(i.argval[0]), str(i.argval[1])
