"""Statements rebuilt from the instructions of one code object: a module or a function body.

Alembic migrations are straight-line call trees, so one pass over the instructions rebuilds
them: assignments (the revision identifiers), imports, ``with`` blocks, expression statements
and the ``upgrade()``/``downgrade()`` definitions. What it does not understand raises
:class:`~migration_archaeologist.sources.bytecode.stack_values.GiveUp`; a function that does
becomes an explicit ``raise NotImplementedError(...)`` body.
"""

from __future__ import annotations

import ast
import bisect
from collections.abc import Callable, Sequence

from migration_archaeologist.sources.bytecode.code_objects import python_of, qualname
from migration_archaeologist.sources.bytecode.comprehensions import comprehension, inline_comprehension
from migration_archaeologist.sources.bytecode.functions import function_arguments, give_up_body
from migration_archaeologist.sources.bytecode.instructions import CodeLike, InstructionLike, instructions
from migration_archaeologist.sources.bytecode.operators import OperatorStack
from migration_archaeologist.sources.bytecode.stack_values import (
    BINARY_OPNAMES,
    CO_FUTURE_ANNOTATIONS,
    NULL,
    SKIP,
    UNARY,
    Func,
    GiveUp,
    ImportedModule,
    ImportedName,
    PendingComp,
    WithEnter,
    WithExit,
    as_expr,
    constant,
    describe,
)

#: how each version leaves a ``with`` body normally: call ``__exit__(None, None, None)``
_WITH_EXITS: tuple[tuple[str, ...], ...] = (
    ("LOAD_CONST", "LOAD_CONST", "LOAD_CONST", "CALL", "POP_TOP"),  # 3.11+ (PRECALL skipped)
    ("POP_BLOCK", "LOAD_CONST", "DUP_TOP", "DUP_TOP", "CALL_FUNCTION", "POP_TOP"),  # 3.9, 3.10
    ("POP_BLOCK", "BEGIN_FINALLY", "WITH_CLEANUP_START", "WITH_CLEANUP_FINISH", "END_FINALLY"),  # 3.8
)
_RETURNS = ("RETURN_VALUE", "RETURN_CONST")
#: unconditional jumps: forward out of an if or a with, or back to the head of the loop being read
_JUMPS = ("JUMP_FORWARD", "JUMP_ABSOLUTE", "JUMP_BACKWARD", "JUMP_BACKWARD_NO_INTERRUPT")


def _none_test(node: ast.expr, op: ast.cmpop) -> ast.expr:
    return ast.Compare(node, [op], [ast.Constant(None)])


#: forward conditional jumps: the condition under which the jump is NOT taken (the if's test)
_CONDITIONS: dict[str, Callable[[ast.expr], ast.expr]] = {
    **dict.fromkeys(("POP_JUMP_IF_FALSE", "POP_JUMP_FORWARD_IF_FALSE"), lambda c: c),
    **dict.fromkeys(("POP_JUMP_IF_TRUE", "POP_JUMP_FORWARD_IF_TRUE"), lambda c: ast.UnaryOp(ast.Not(), c)),
    **dict.fromkeys(("POP_JUMP_IF_NOT_NONE", "POP_JUMP_FORWARD_IF_NOT_NONE"), lambda c: _none_test(c, ast.Is())),
    **dict.fromkeys(("POP_JUMP_IF_NONE", "POP_JUMP_FORWARD_IF_NONE"), lambda c: _none_test(c, ast.IsNot())),
}
#: opnames handled by another opname's handler
_ALIASES = {
    "LOAD_FAST": "LOAD_NAME",
    "LOAD_GLOBAL": "LOAD_NAME",
    "LOAD_FAST_CHECK": "LOAD_NAME",
    "CALL_FUNCTION": "CALL",
    "CALL_METHOD": "CALL",
    "CALL_KW": "CALL_FUNCTION_KW",
    "SETUP_WITH": "BEFORE_WITH",
    "STORE_FAST": "STORE_NAME",
    "SET_UPDATE": "LIST_EXTEND",
    "LIST_APPEND": "LIST_EXTEND",
    "DICT_UPDATE": "DICT_MERGE",
    "IS_OP": "COMPARE_OP",
    "CONTAINS_OP": "COMPARE_OP",
    **dict.fromkeys(UNARY, "UNARY"),
    **dict.fromkeys(BINARY_OPNAMES, "BINARY_LEGACY"),
}


class Rebuilder(OperatorStack):
    """Rebuilds the statements of one code object (module or function body)."""

    def __init__(
        self,
        code: CodeLike,
        *,
        given_up: set[str],
        differences: list[str],
        future_annotations: bool | None = None,
    ) -> None:
        self.code = code
        self.given_up = given_up
        self.differences = differences
        self.future = bool(code.co_flags & CO_FUTURE_ANNOTATIONS) if future_annotations is None else future_annotations
        self.instructions = [i for i in instructions(code) if i.opname not in SKIP]
        self.offsets = [i.offset for i in self.instructions]  # increasing: jump targets found by bisection
        self.stack: list[object] = []
        self.blocks: list[list[ast.stmt]] = [[]]
        self.withs: list[ast.With] = []
        self.returns_duplicated = python_of(code) >= (3, 10)  # a return ending an if is copied there
        self.loops: list[tuple[int, int]] = []  # (head, end of body) of the for loops being read
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
            node, n = inline_comprehension(self.code, ins, n, iterable, self._machine_for)
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
        name, loaded = _pair(store) if store.opname == "STORE_FAST_LOAD_FAST" else (str(store.argval), None)
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
        if t > hi and self._returns_none(t) and self._returns_none(hi):
            t = hi  # 3.10+ copies the final ``return None`` to each jump's target: the same end
        if not n < t <= hi or not all(x is NULL or isinstance(x, WithExit) for x in self.stack):  # a statement
            raise GiveUp(describe(i.opname))
        body, returned, e = self._block(n + 1, t)
        orelse: list[ast.stmt] = []
        ended = False
        if returned and not (body and isinstance(body[-1], ast.Return)):
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
        else:
            e = t
        if not orelse and len(body) == 1 and isinstance(body[0], ast.If) and not body[0].orelse:
            inner = body[0].test  # ``if a: if b:`` is ``if a and b:``, the same bytecode
            tests = inner.values if isinstance(inner, ast.BoolOp) and isinstance(inner.op, ast.And) else [inner]
            cond, body = ast.BoolOp(ast.And(), [cond, *tests]), body[0].body
        self._emit(ast.If(cond, body or [ast.Pass()], orelse))
        return ended and returned, e

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

    def _machine_for(self, code: CodeLike) -> Rebuilder:
        return Rebuilder(code, given_up=set(), differences=[])

    def _emit(self, stmt: ast.stmt) -> None:
        self.blocks[-1].append(stmt)

    # ---- one instruction

    def _step(self, i: InstructionLike) -> None:
        op = i.opname
        if op in SKIP:
            return
        handler: Callable[[InstructionLike], None] | None = getattr(self, "op_" + _ALIASES.get(op, op), None)
        if handler is None:
            raise GiveUp(describe(op))
        handler(i)

    def op_GET_ITER(self, i: InstructionLike) -> None:
        iterable = as_expr(self._pop(), "iterable")
        func = self._pop()
        if not isinstance(func, Func):
            raise GiveUp("for loop")
        self._push(PendingComp(comprehension(func.code, iterable, self._machine_for)))

    def op_STORE_NAME(self, i: InstructionLike) -> None:
        self._store(str(i.argval), self._pop())

    def op_STORE_FAST_LOAD_FAST(self, i: InstructionLike) -> None:
        stored, loaded = _pair(i)
        self._store(stored, self._pop())
        self._push(ast.Name(loaded, ast.Load()))

    def op_STORE_FAST_STORE_FAST(self, i: InstructionLike) -> None:
        for name in _pair(i):
            self._store(name, self._pop())

    def op_STORE_ATTR(self, i: InstructionLike) -> None:
        owner, value = as_expr(self._pop(), "attribute owner"), as_expr(self._pop(), "value")
        self._emit(ast.Assign([ast.Attribute(owner, str(i.argval), ast.Store())], value))

    def op_STORE_SUBSCR(self, i: InstructionLike) -> None:
        self._store_subscr()

    def op_POP_TOP(self, i: InstructionLike) -> None:
        self._pop_top()

    def op_IMPORT_NAME(self, i: InstructionLike) -> None:
        fromlist, level = self._pop(), self._pop()
        if not isinstance(level, ast.Constant) or not isinstance(fromlist, (ast.Constant, ast.Tuple)):
            raise GiveUp("unusual import")
        names = (
            None
            if isinstance(fromlist, ast.Constant)
            else tuple(e.value for e in fromlist.elts if isinstance(e, ast.Constant))
        )
        self._push(ImportedModule(str(i.argval), names, int(level.value)))  # type: ignore[arg-type]  # IMPORT_NAME's level: an int

    def op_IMPORT_FROM(self, i: InstructionLike) -> None:
        module = self.stack[-1] if self.stack else None
        if not isinstance(module, ImportedModule) or module.fromlist is None:
            raise GiveUp("import of a submodule with 'as'")
        self._push(ImportedName(module, str(i.argval)))

    def op_IMPORT_STAR(self, i: InstructionLike) -> None:
        module = self._pop()
        if not isinstance(module, ImportedModule):
            raise GiveUp("unusual import *")
        module.node = ast.ImportFrom(module.name or None, [ast.alias("*")], module.level)
        self._emit(module.node)
        if i.opname == "CALL_INTRINSIC_1":
            self._push(module)  # 3.12+: its result is popped next

    def op_BEFORE_WITH(self, i: InstructionLike) -> None:
        item = ast.withitem(as_expr(self._pop(), "context manager"), None)
        node = ast.With([item], [])
        self._emit(node)
        self.withs.append(node)
        self.blocks.append(node.body)
        self._push(WithExit())
        self._push(WithEnter(item))

    # ---- helpers for the dispatch
    def _store(self, name: str, value: object) -> None:
        if isinstance(value, WithEnter):
            value.item.optional_vars = ast.Name(name, ast.Store())
        elif isinstance(value, ImportedName):
            module = value.module
            alias = ast.alias(value.name, None if name == value.name else name)
            if module.node is None:
                module.node = ast.ImportFrom(module.name or None, [], module.level)
                self._emit(module.node)
            module.node.names.append(alias)
        elif isinstance(value, ImportedModule):
            top = module_top = value.name.split(".")[0]
            if name == top:
                self._emit(ast.Import([ast.alias(value.name)]))
            elif "." not in value.name:
                self._emit(ast.Import([ast.alias(value.name, name)]))
            else:
                raise GiveUp(f"import of {value.name} bound to {name} ({module_top})")
        elif isinstance(value, Func):
            if not self.is_module:
                raise GiveUp(f"nested function {value.code.co_name}")
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
            self._emit(ast.Assign([ast.Name(name, ast.Store())], as_expr(value, "assigned value")))

    def _store_subscr(self) -> None:
        key, owner, value = self._pop(), self._pop(), self._pop()
        if (
            self.is_module
            and isinstance(owner, ast.Name)
            and owner.id == "__annotations__"
            and isinstance(key, ast.Constant)
            and isinstance(key.value, str)
        ):
            annotation = self._annotation(as_expr(value, "annotation"))
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
        target = ast.Subscript(as_expr(owner, "subscript owner"), as_expr(key, "index"), ast.Store())
        self._emit(ast.Assign([target], as_expr(value, "assigned value")))

    def _pop_top(self) -> None:
        value = self._pop()
        if isinstance(value, WithEnter):
            return  # ``with x:`` without ``as``
        if isinstance(value, ImportedModule):
            if value.node is None:
                raise GiveUp("unusual import")
            return
        self._emit(ast.Expr(as_expr(value, "expression statement")))

    def _close_with(self) -> None:
        self._pop()  # the WithExit
        node = self.withs.pop()
        self.blocks.pop()
        if not node.body:
            node.body.append(ast.Pass())

    def _return(self) -> None:
        value = self._pop()
        if self.withs:
            raise GiveUp("return inside a with block")
        if [x for x in self.stack if x is not NULL]:
            raise GiveUp("values left on the stack")
        if isinstance(value, ast.Constant) and value.value is None:
            return
        if self.is_module:
            raise GiveUp("module returns a value")
        self._emit(ast.Return(as_expr(value, "return value")))

    def _function_def(self, name: str, func: Func) -> ast.FunctionDef:
        code = func.code
        body_rebuilder = Rebuilder(
            code, given_up=self.given_up, differences=self.differences, future_annotations=self.future
        )
        label = f"{code.co_name}()"
        try:
            body = body_rebuilder.function_body()
        except GiveUp as exc:
            reason = str(exc)
            self.given_up.add(qualname(code))
            self.differences.append(f"{label}: not rebuilt: {reason}")
            body = give_up_body(code, reason)
        return ast.FunctionDef(name, function_arguments(code, func), body, [], func.annotations.get("return"))


def _pair(i: InstructionLike) -> tuple[str, str]:
    """The two names of 3.13's superinstructions (LOAD_FAST_LOAD_FAST and the like)."""
    if not isinstance(i.argval, tuple) or len(i.argval) != 2:
        raise GiveUp(f"unusual {i.opname}")
    return str(i.argval[0]), str(i.argval[1])
