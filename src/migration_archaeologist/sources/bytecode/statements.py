"""Statements rebuilt from the instructions of one code object: a module or a function body.

Alembic migrations are straight-line call trees, so one pass over the instructions rebuilds
them: assignments (the revision identifiers), imports, ``with`` blocks, expression statements
and the ``upgrade()``/``downgrade()`` definitions. What it does not understand raises
:class:`~migration_archaeologist.sources.bytecode.stack_values.GiveUp`; a function that does
becomes an explicit ``raise NotImplementedError(...)`` body.
"""

from __future__ import annotations

import ast
import dis
import types

from migration_archaeologist.sources.bytecode.code_objects import qualname
from migration_archaeologist.sources.bytecode.expressions import ExpressionStack
from migration_archaeologist.sources.bytecode.functions import function_arguments, give_up_body
from migration_archaeologist.sources.bytecode.stack_values import (
    BINOPS,
    CMPOPS,
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

_WITH_EXIT = ("LOAD_CONST", "LOAD_CONST", "LOAD_CONST", "PRECALL", "CALL", "POP_TOP")


class Rebuilder(ExpressionStack):
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
        self.future = bool(code.co_flags & CO_FUTURE_ANNOTATIONS) if future_annotations is None else future_annotations
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
                    raise GiveUp("jump to an unknown offset")
                n = by_offset[i.argval]
                continue
            if i.opname == "RETURN_VALUE":
                self._return()
                return
            if i.opname == "LOAD_CONST" and self.stack and isinstance(self.stack[-1], WithExit):
                names = tuple(x.opname for x in ins[n : n + 6])
                args = [x.argval for x in ins[n : n + 3]]
                if names == _WITH_EXIT and args == [None, None, None] and ins[n + 4].arg == 2:
                    self._close_with()
                    n += 6
                    continue
            self._step(i)
            n += 1
        raise GiveUp("code does not end in a return")

    def _emit(self, stmt: ast.stmt) -> None:
        self.blocks[-1].append(stmt)

    def _name(self, name: str) -> ast.Name:
        return ast.Name(name, ast.Load())

    # ---- one instruction

    def _step(self, i: dis.Instruction) -> None:  # noqa: C901 - a dispatch table, flat on purpose
        op = i.opname
        if op in SKIP:
            return
        if op == "LOAD_CONST":
            value = i.argval
            self._push(value if isinstance(value, types.CodeType) else constant(value))
        elif op in ("LOAD_NAME", "LOAD_FAST", "LOAD_GLOBAL"):
            if op == "LOAD_GLOBAL" and i.arg is not None and i.arg & 1:
                self._push(NULL)
            self._push(self._name(i.argval))
        elif op == "LOAD_ATTR":
            self._push(ast.Attribute(as_expr(self._pop(), "attribute owner"), i.argval, ast.Load()))
        elif op == "LOAD_METHOD":
            owner = as_expr(self._pop(), "method owner")
            self._push(NULL)
            self._push(ast.Attribute(owner, i.argval, ast.Load()))
        elif op == "PUSH_NULL":
            self._push(NULL)
        elif op == "KW_NAMES":
            self.kwnames = tuple(self.code.co_consts[i.arg])  # type: ignore[index]  # KW_NAMES has an argument
        elif op == "CALL":
            self._call(i.arg or 0)
        elif op in ("BUILD_LIST", "BUILD_TUPLE", "BUILD_SET"):
            items = [as_expr(self._pop(), "item") for _ in range(i.arg or 0)][::-1]
            kind = {"BUILD_LIST": ast.List, "BUILD_TUPLE": ast.Tuple}.get(op)
            self._push(kind(items, ast.Load()) if kind else ast.Set(items))
        elif op in ("LIST_EXTEND", "SET_UPDATE", "LIST_APPEND"):
            more = as_expr(self._pop(), "item")
            target = self.stack[-1] if self.stack else None
            if not isinstance(target, (ast.List, ast.Set)):
                raise GiveUp(f"unusual {op}")
            if op == "LIST_APPEND":
                target.elts.append(more)
            elif isinstance(more, (ast.Tuple, ast.Set)) and not getattr(more, "_from_list", False):
                target.elts.extend(more.elts)  # a folded constant display
            else:
                target.elts.append(ast.Starred(more, ast.Load()))
        elif op == "LIST_TO_TUPLE":
            listed = self._pop()
            if not isinstance(listed, ast.List):
                raise GiveUp("unusual LIST_TO_TUPLE")
            tup = ast.Tuple(listed.elts, ast.Load())
            tup._from_list = True  # type: ignore[attr-defined]
            self._push(tup)
        elif op in ("DICT_MERGE", "DICT_UPDATE"):
            more = as_expr(self._pop(), "mapping")
            target = self.stack[-1] if self.stack else None
            if not isinstance(target, ast.Dict):
                raise GiveUp(f"unusual {op}")
            target.keys.append(None)
            target.values.append(more)
        elif op == "CALL_FUNCTION_EX":
            self._call_ex(i.arg or 0)
        elif op == "BUILD_MAP":
            pairs = [(self._pop(), self._pop()) for _ in range(i.arg or 0)][::-1]
            self._push(ast.Dict([as_expr(k, "key") for _, k in pairs], [as_expr(v, "value") for v, _ in pairs]))
        elif op == "BUILD_CONST_KEY_MAP":
            keys = self._pop()
            values = [as_expr(self._pop(), "value") for _ in range(i.arg or 0)][::-1]
            if not isinstance(keys, ast.Tuple):
                raise GiveUp("dict keys are not constant")
            self._push(ast.Dict(list(keys.elts), values))
        elif op == "BINARY_OP":
            symbol = i.argrepr
            if symbol not in BINOPS:
                raise GiveUp(f"augmented assignment ({symbol})")
            right, left = as_expr(self._pop(), "operand"), as_expr(self._pop(), "operand")
            self._push(ast.BinOp(left, BINOPS[symbol](), right))
        elif op == "BINARY_SUBSCR":
            subscript, subscripted = self._pop(), self._pop()
            self._push(ast.Subscript(as_expr(subscripted, "subscript owner"), as_expr(subscript, "index"), ast.Load()))
        elif op == "BUILD_SLICE":
            parts = [self._pop() for _ in range(i.arg or 2)][::-1]
            bounds = [None if isinstance(p, ast.Constant) and p.value is None else as_expr(p, "slice") for p in parts]
            self._push(ast.Slice(*bounds))
        elif op in UNARY:
            self._push(ast.UnaryOp(UNARY[op](), as_expr(self._pop(), "operand")))
        elif op in ("COMPARE_OP", "IS_OP", "CONTAINS_OP"):
            right, left = as_expr(self._pop(), "operand"), as_expr(self._pop(), "operand")
            if op == "COMPARE_OP":
                cmp: ast.cmpop = CMPOPS[i.argval]()
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
                    raise GiveUp("unexpected f-string part")
            self._push(ast.JoinedStr(values))
        elif op == "MAKE_FUNCTION":
            self._make_function(i.arg or 0)
        elif op == "GET_ITER":
            iterable = as_expr(self._pop(), "iterable")
            func = self._pop()
            if not isinstance(func, Func):
                raise GiveUp("for loop")
            self._push(NULL)
            self._push(PendingComp(_comprehension(func.code, iterable)))
        elif op in ("STORE_NAME", "STORE_FAST"):
            self._store(i.argval, self._pop())
        elif op == "STORE_ATTR":
            owner, value = as_expr(self._pop(), "attribute owner"), as_expr(self._pop(), "value")
            self._emit(ast.Assign([ast.Attribute(owner, i.argval, ast.Store())], value))
        elif op == "STORE_SUBSCR":
            self._store_subscr()
        elif op == "POP_TOP":
            self._pop_top()
        elif op == "IMPORT_NAME":
            fromlist, level = self._pop(), self._pop()
            if not isinstance(level, ast.Constant) or not isinstance(fromlist, (ast.Constant, ast.Tuple)):
                raise GiveUp("unusual import")
            names = (
                None
                if isinstance(fromlist, ast.Constant)
                else tuple(e.value for e in fromlist.elts if isinstance(e, ast.Constant))
            )
            self._push(ImportedModule(i.argval, names, int(level.value)))  # type: ignore[arg-type]  # IMPORT_NAME's level: an int
        elif op == "IMPORT_FROM":
            module = self.stack[-1] if self.stack else None
            if not isinstance(module, ImportedModule) or module.fromlist is None:
                raise GiveUp("import of a submodule with 'as'")
            self._push(ImportedName(module, i.argval))
        elif op == "IMPORT_STAR":
            module = self._pop()
            if not isinstance(module, ImportedModule):
                raise GiveUp("unusual import *")
            self._emit(ast.ImportFrom(module.name or None, [ast.alias("*")], module.level))
        elif op == "BEFORE_WITH":
            item = ast.withitem(as_expr(self._pop(), "context manager"), None)
            node = ast.With([item], [])
            self._emit(node)
            self.withs.append(node)
            self.blocks.append(node.body)
            self._push(WithExit())
            self._push(WithEnter(item))
        else:
            raise GiveUp(describe(op))

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


_COMP_KINDS = {"<genexpr>": "YIELD_VALUE", "<listcomp>": "LIST_APPEND", "<setcomp>": "SET_ADD"}


def _comprehension(code: types.CodeType, iterable: ast.expr) -> ast.expr:
    """``(elt for x in it)`` / ``[...]`` / ``{...}`` with one ``for``, a plain target and no ``if``."""
    end_op = _COMP_KINDS.get(code.co_name)
    if end_op is None:
        raise GiveUp(f"{code.co_name} call")
    ins = [i for i in dis.get_instructions(code) if i.opname not in SKIP]
    ops = [i.opname for i in ins]
    try:
        start = ops.index("FOR_ITER")
        end = ops.index(end_op)
    except ValueError:
        raise GiveUp(f"unusual {code.co_name}") from None
    if (
        ins[start + 1].opname != "STORE_FAST"
        or any(i.opname.startswith(("POP_JUMP", "FOR_ITER", "JUMP_IF")) for i in ins[start + 1 : end])
        or ops.count("FOR_ITER") != 1
    ):
        raise GiveUp(f"{code.co_name} with a condition, nested loop or unpacking target")
    machine = Rebuilder(code, given_up=set(), differences=[])
    for i in ins[start + 2 : end]:
        machine._step(i)
    if len(machine.stack) != 1:
        raise GiveUp(f"unusual {code.co_name}")
    element = as_expr(machine.stack[0], "comprehension element")
    generator = ast.comprehension(ast.Name(ins[start + 1].argval, ast.Store()), iterable, [], 0)
    if end_op == "YIELD_VALUE":
        return ast.GeneratorExp(element, [generator])
    if end_op == "LIST_APPEND":
        return ast.ListComp(element, [generator])
    return ast.SetComp(element, [generator])
