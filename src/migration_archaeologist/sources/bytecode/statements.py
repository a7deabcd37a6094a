"""Statements rebuilt from the instructions of one code object: a module or a function body.

Alembic migrations are straight-line call trees, so one pass over the instructions rebuilds
them: assignments (the revision identifiers), imports, ``with`` blocks, expression statements
and the ``upgrade()``/``downgrade()`` definitions. What it does not understand raises
:class:`~migration_archaeologist.sources.bytecode.stack_values.GiveUp`; a function that does
becomes an explicit ``raise NotImplementedError(...)`` body.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from migration_archaeologist.sources.bytecode.code_objects import python_of, qualname
from migration_archaeologist.sources.bytecode.comprehensions import comprehension
from migration_archaeologist.sources.bytecode.control_flow import ControlFlow, pair
from migration_archaeologist.sources.bytecode.functions import function_arguments, give_up_body
from migration_archaeologist.sources.bytecode.instructions import CodeLike, InstructionLike, instructions
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
    describe,
)

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


class Rebuilder(ControlFlow):
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
            doc = ast.Expr(ast.Constant(consts[0]))
            doc._cleaned = python_of(self.code) >= (3, 13)  # type: ignore[attr-defined]  # 3.13 dedents docstrings
            body.insert(0, doc)
        return body or [ast.Pass()]

    # ---- driver

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
        self._store_value(str(i.argval), self._pop())

    def _store_value(self, name: str, value: object) -> None:
        if any(isinstance(x, ast.expr) for x in self.stack):  # ``a, b = x, y`` with the swap optimised away
            raise GiveUp(describe("UNPACK_SEQUENCE"))
        self._store(name, value)

    def op_STORE_FAST_LOAD_FAST(self, i: InstructionLike) -> None:
        stored, loaded = pair(i)
        self._store(stored, self._pop())
        self._push(ast.Name(loaded, ast.Load()))

    def op_STORE_FAST_STORE_FAST(self, i: InstructionLike) -> None:
        """3.13: two values stored at once only come from ``a, b = x, y`` (the swap optimised away)."""
        raise GiveUp(describe("UNPACK_SEQUENCE"))

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
