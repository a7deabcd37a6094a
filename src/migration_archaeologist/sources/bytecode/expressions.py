"""The operand stack and the expressions built on it: calls, f-strings, function objects.

The half of the stack machine that only pushes: what it builds becomes a statement once
:class:`~migration_archaeologist.sources.bytecode.statements.Rebuilder` stores or pops it. Each
``op_<OPNAME>`` method handles one instruction, whatever Python (3.8 to 3.13) compiled it: the
dispatch reads opnames and ``argval``/``argrepr``, never the running Python's opcode numbers.
"""

from __future__ import annotations

import ast

from migration_archaeologist.sources.bytecode.code_objects import is_code
from migration_archaeologist.sources.bytecode.instructions import CodeLike, InstructionLike
from migration_archaeologist.sources.bytecode.stack_values import (
    NULL,
    Converted,
    Func,
    GiveUp,
    PendingComp,
    as_expr,
    constant,
)

_CONVERSIONS = {0: -1, 1: ord("s"), 2: ord("r"), 3: ord("a")}


def _from_list(node: ast.Tuple) -> ast.Tuple:
    """Mark a tuple built from a list of call arguments (spelled out, not starred)."""
    node._from_list = True  # type: ignore[attr-defined]
    return node


class ExpressionStack:
    """The operand stack of one code object, and the expressions the dispatch builds on it."""

    code: CodeLike
    stack: list[object]
    kwnames: tuple[str, ...]
    future: bool

    def _push(self, item: object) -> None:
        self.stack.append(item)

    def _pop(self) -> object:
        if not self.stack:
            raise GiveUp("stack underflow")
        return self.stack.pop()

    def _pop_exprs(self, count: int, what: str) -> list[ast.expr]:
        return [as_expr(self._pop(), what) for _ in range(count)][::-1]

    def _callable(self) -> object:
        """The callable under the arguments, and the NULL next to it: below it (3.11, 3.12 and
        LOAD_METHOD), above it (3.13), or none (CALL_FUNCTION before 3.11)."""
        top = self._pop()
        if top is NULL:
            return self._pop()
        if self.stack and self.stack[-1] is NULL:
            self._pop()
        return top

    # ---- loads

    def op_LOAD_CONST(self, i: InstructionLike) -> None:
        value = i.argval
        self._push(value if is_code(value) else constant(value))

    def op_LOAD_NAME(self, i: InstructionLike) -> None:
        if i.argrepr.startswith("NULL + ") or i.argrepr.endswith(" + NULL"):  # LOAD_GLOBAL's low bit, 3.11+
            self._push(NULL)
        self._push(ast.Name(str(i.argval), ast.Load()))

    def op_LOAD_ATTR(self, i: InstructionLike) -> None:
        owner = as_expr(self._pop(), "attribute owner")
        if "NULL|self" in i.argrepr:  # 3.12+: LOAD_ATTR with the method bit is LOAD_METHOD
            self._push(NULL)
        self._push(ast.Attribute(owner, str(i.argval), ast.Load()))

    def op_LOAD_METHOD(self, i: InstructionLike) -> None:
        owner = as_expr(self._pop(), "method owner")
        self._push(NULL)
        self._push(ast.Attribute(owner, str(i.argval), ast.Load()))

    def op_LOAD_FAST_LOAD_FAST(self, i: InstructionLike) -> None:
        for name in i.argval:  # type: ignore[attr-defined]  # 3.13: a pair of names
            self._push(ast.Name(name, ast.Load()))

    def op_PUSH_NULL(self, i: InstructionLike) -> None:
        self._push(NULL)

    # ---- calls

    def op_KW_NAMES(self, i: InstructionLike) -> None:
        names = i.argval if isinstance(i.argval, tuple) else self.code.co_consts[i.arg or 0]
        self.kwnames = tuple(names)  # type: ignore[arg-type]  # KW_NAMES: a tuple of str

    def op_CALL(self, i: InstructionLike) -> None:
        self._call(i.arg or 0)

    def op_CALL_FUNCTION_KW(self, i: InstructionLike) -> None:
        """``CALL_FUNCTION_KW`` (before 3.11) and ``CALL_KW`` (3.13): the names tuple on top."""
        names = self._pop()
        if not isinstance(names, ast.Tuple) or not all(isinstance(e, ast.Constant) for e in names.elts):
            raise GiveUp("unusual keyword names")
        self.kwnames = tuple(str(e.value) for e in names.elts)  # type: ignore[attr-defined]
        self._call(i.arg or 0)

    def _call(self, argc: int) -> None:
        args = [self._pop() for _ in range(argc)][::-1]
        kwnames, self.kwnames = self.kwnames, ()
        if len(args) == 1 and isinstance(args[0], PendingComp) and not kwnames:  # comprehension, before 3.11
            self._push(args[0].node)
            return
        if not args and self.stack and isinstance(self.stack[-1], PendingComp):  # comprehension, 3.11+
            self._push(self._pop().node)  # type: ignore[attr-defined]
            return
        func = as_expr(self._callable(), "callable")
        split = len(args) - len(kwnames)
        positional = [as_expr(a, "argument") for a in args[:split]]
        keywords = [
            ast.keyword(k, as_expr(v, "argument")) for k, v in zip(kwnames, args[split:], strict=False)
        ]  # checked by the recompile
        self._push(ast.Call(func, positional, keywords))

    def op_CALL_FUNCTION_EX(self, i: InstructionLike) -> None:
        """Calls with ``*args``/``**kwargs``, and calls with too many arguments for CALL."""
        kwargs = self._pop() if (i.arg or 0) & 1 else None
        args = self._pop()
        func = as_expr(self._callable(), "callable")
        if isinstance(args, ast.Tuple):  # built from the arguments, or folded to a constant
            positional = list(args.elts)
        else:
            positional = [ast.Starred(as_expr(args, "*args"), ast.Load())]
        keywords: list[ast.keyword] = []
        if isinstance(kwargs, ast.Dict):
            for key, value in zip(kwargs.keys, kwargs.values, strict=False):  # checked by the recompile
                if key is None:
                    keywords.append(ast.keyword(None, value))
                elif isinstance(key, ast.Constant) and isinstance(key.value, str):
                    keywords.append(ast.keyword(key.value, value))
                else:
                    raise GiveUp("unusual **kwargs")
        elif kwargs is not None:
            keywords.append(ast.keyword(None, as_expr(kwargs, "**kwargs")))
        self._push(ast.Call(func, positional, keywords))

    # ---- displays and 3.8's *-unpacking builds

    def op_BUILD_LIST(self, i: InstructionLike) -> None:
        self._push(ast.List(self._pop_exprs(i.arg or 0, "item"), ast.Load()))

    def op_BUILD_TUPLE(self, i: InstructionLike) -> None:
        self._push(ast.Tuple(self._pop_exprs(i.arg or 0, "item"), ast.Load()))

    def op_BUILD_SET(self, i: InstructionLike) -> None:
        self._push(ast.Set(self._pop_exprs(i.arg or 0, "item")))

    def _unpacked(self, count: int, spelled: type | tuple[type, ...]) -> list[ast.expr]:
        """3.8's BUILD_*_UNPACK: displays of the right kind are spelled out, the rest starred."""
        elts: list[ast.expr] = []
        for part in self._pop_exprs(count, "item"):
            if isinstance(part, spelled) and not isinstance(part, ast.Dict):
                elts.extend(part.elts)  # type: ignore[attr-defined]
            else:
                elts.append(ast.Starred(part, ast.Load()))
        return elts

    def op_BUILD_LIST_UNPACK(self, i: InstructionLike) -> None:
        self._push(ast.List(self._unpacked(i.arg or 0, (ast.List, ast.Tuple)), ast.Load()))

    def op_BUILD_TUPLE_UNPACK(self, i: InstructionLike) -> None:
        self._push(ast.Tuple(self._unpacked(i.arg or 0, ast.Tuple), ast.Load()))

    def op_BUILD_TUPLE_UNPACK_WITH_CALL(self, i: InstructionLike) -> None:
        self._push(_from_list(ast.Tuple(self._unpacked(i.arg or 0, ast.Tuple), ast.Load())))

    def op_BUILD_SET_UNPACK(self, i: InstructionLike) -> None:
        self._push(ast.Set(self._unpacked(i.arg or 0, (ast.Set, ast.Tuple))))

    def op_BUILD_MAP_UNPACK(self, i: InstructionLike) -> None:
        keys: list[ast.expr | None] = []
        values: list[ast.expr] = []
        for part in self._pop_exprs(i.arg or 0, "mapping"):
            if isinstance(part, ast.Dict) and None not in part.keys:
                keys += part.keys
                values += part.values
            else:
                keys.append(None)
                values.append(part)
        self._push(ast.Dict(keys, values))

    def op_LIST_TO_TUPLE(self, i: InstructionLike) -> None:
        listed = self._pop()
        if not isinstance(listed, ast.List):
            raise GiveUp("unusual LIST_TO_TUPLE")
        self._push(_from_list(ast.Tuple(listed.elts, ast.Load())))

    def op_CALL_INTRINSIC_1(self, i: InstructionLike) -> None:
        """3.12+: what used to be instructions of their own."""
        if i.argrepr == "INTRINSIC_LIST_TO_TUPLE":
            self.op_LIST_TO_TUPLE(i)
        elif i.argrepr == "INTRINSIC_UNARY_POSITIVE":
            self._push(ast.UnaryOp(ast.UAdd(), as_expr(self._pop(), "operand")))
        elif i.argrepr == "INTRINSIC_IMPORT_STAR":
            self.op_IMPORT_STAR(i)  # type: ignore[attr-defined]  # a statement, in the Rebuilder
        else:
            raise GiveUp(f"unsupported instruction CALL_INTRINSIC_1 {i.argrepr}")

    # ---- f-strings

    def op_FORMAT_VALUE(self, i: InstructionLike) -> None:
        flags = i.arg or 0
        spec = self._pop() if flags & 4 else None
        self._formatted(as_expr(self._pop(), "f-string value"), _CONVERSIONS[flags & 3], spec)

    def op_CONVERT_VALUE(self, i: InstructionLike) -> None:
        self._push(Converted(as_expr(self._pop(), "f-string value"), _CONVERSIONS[(i.arg or 0) & 3]))

    def op_FORMAT_SIMPLE(self, i: InstructionLike) -> None:
        self._format_converted(None)

    def op_FORMAT_WITH_SPEC(self, i: InstructionLike) -> None:
        spec = self._pop()
        self._format_converted(spec)

    def _format_converted(self, spec: object) -> None:
        value = self._pop()
        if isinstance(value, Converted):
            self._formatted(value.value, value.conversion, spec)
        else:
            self._formatted(as_expr(value, "f-string value"), -1, spec)

    def _formatted(self, value: ast.expr, conversion: int, spec: object) -> None:
        if spec is None:
            format_spec = None
        elif isinstance(spec, ast.JoinedStr):
            format_spec = spec
        elif isinstance(spec, ast.Constant):
            format_spec = ast.JoinedStr([spec])
        else:
            raise GiveUp("unusual f-string format spec")
        self._push(ast.JoinedStr([ast.FormattedValue(value, conversion, format_spec)]))

    def op_BUILD_STRING(self, i: InstructionLike) -> None:
        values: list[ast.expr] = []
        for part in [self._pop() for _ in range(i.arg or 0)][::-1]:
            if isinstance(part, ast.JoinedStr):
                values.extend(part.values)
            elif isinstance(part, ast.Constant) and isinstance(part.value, str):
                values.append(part)
            else:
                raise GiveUp("unexpected f-string part")
        self._push(ast.JoinedStr(values))

    # ---- function objects

    def op_MAKE_FUNCTION(self, i: InstructionLike) -> None:
        """Before 3.11 the qualified name is on top; before 3.13 the flags say what is below;
        3.13 sets each of them afterwards with SET_FUNCTION_ATTRIBUTE."""
        code = self._pop()
        if isinstance(code, ast.Constant) and isinstance(code.value, str) and self.stack and is_code(self.stack[-1]):
            code = self._pop()  # 3.8-3.10: the qualified name, then the code
        if not is_code(code):
            raise GiveUp("function without a code object")
        func = Func(code, [], {}, {})  # type: ignore[arg-type]  # is_code checked it
        flags = i.arg or 0
        for flag in (8, 4, 2, 1):
            if flags & flag:
                self._function_attribute(func, flag, self._pop())
        self._push(func)

    def op_SET_FUNCTION_ATTRIBUTE(self, i: InstructionLike) -> None:
        func = self._pop()
        if not isinstance(func, Func):
            raise GiveUp("unusual SET_FUNCTION_ATTRIBUTE")
        self._function_attribute(func, i.arg or 0, self._pop())
        self._push(func)

    def _function_attribute(self, func: Func, flag: int, value: object) -> None:
        if flag == 8:
            raise GiveUp(f"closure ({func.code.co_name} uses variables of an enclosing function)")
        if flag == 4:
            func.annotations.update(self._annotations(value))
        elif flag == 2:
            if not isinstance(value, ast.Dict):
                raise GiveUp("unusual keyword-only defaults")
            for kw_key, kw_value in zip(value.keys, value.values, strict=False):  # checked by the recompile
                if not isinstance(kw_key, ast.Constant):
                    raise GiveUp("unusual keyword-only defaults")
                func.kwdefaults[str(kw_key.value)] = kw_value
        elif flag == 1:
            if not isinstance(value, ast.Tuple):
                raise GiveUp("unusual defaults")
            func.defaults = list(value.elts)
        else:
            raise GiveUp(f"unusual function attribute {flag}")

    def _annotations(self, value: object) -> dict[str, ast.expr]:
        """A tuple of name/annotation pairs (3.10+) or a dict (3.8, 3.9)."""
        if isinstance(value, ast.Tuple):
            pairs = list(zip(value.elts[::2], value.elts[1::2], strict=False))  # an odd tail: the recompile
        elif isinstance(value, ast.Dict) and None not in value.keys:
            pairs = list(zip(value.keys, value.values, strict=False))  # type: ignore[arg-type]
        else:
            raise GiveUp("unusual annotations")
        notes: dict[str, ast.expr] = {}
        for key, note in pairs:
            if not isinstance(key, ast.Constant):
                raise GiveUp("unusual annotations")
            notes[str(key.value)] = self._annotation(note)
        return notes

    def _annotation(self, node: ast.expr) -> ast.expr:
        """Under ``from __future__ import annotations`` the compiler stored the annotation's text."""
        if self.future and isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                return ast.parse(node.value, mode="eval").body
            except SyntaxError:
                raise GiveUp("annotation text does not parse") from None
        return node
