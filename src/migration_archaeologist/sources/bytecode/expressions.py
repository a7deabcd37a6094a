"""The operand stack and the expressions built on it: calls, f-strings, function objects.

The half of the stack machine that only pushes: what it builds becomes a statement once
:class:`~migration_archaeologist.sources.bytecode.statements.Rebuilder` stores or pops it.
"""

from __future__ import annotations

import ast
import types

from migration_archaeologist.sources.bytecode.stack_values import (
    NULL,
    Func,
    GiveUp,
    PendingComp,
    as_expr,
)


class ExpressionStack:
    """The operand stack of one code object, and the expressions the dispatch builds on it."""

    stack: list[object]
    kwnames: tuple[str, ...]
    future: bool

    def _push(self, item: object) -> None:
        self.stack.append(item)

    def _pop(self) -> object:
        if not self.stack:
            raise GiveUp("stack underflow")
        return self.stack.pop()

    def _call(self, argc: int) -> None:
        args = [self._pop() for _ in range(argc)][::-1]
        kwnames, self.kwnames = self.kwnames, ()
        func = self._pop()
        below = self._pop()
        if isinstance(func, PendingComp) and not args:
            self._push(func.node)
            return
        if below is not NULL:
            raise GiveUp("unusual call sequence")
        func = as_expr(func, "callable")
        split = len(args) - len(kwnames)
        positional = [as_expr(a, "argument") for a in args[:split]]
        keywords = [
            ast.keyword(k, as_expr(v, "argument")) for k, v in zip(kwnames, args[split:], strict=False)
        ]  # checked by the recompile
        self._push(ast.Call(func, positional, keywords))

    def _call_ex(self, flags: int) -> None:
        """Calls with ``*args``/``**kwargs``, and calls with too many arguments for CALL."""
        kwargs = self._pop() if flags & 1 else None
        args = self._pop()
        func = as_expr(self._pop(), "callable")
        if self._pop() is not NULL:
            raise GiveUp("unusual call sequence")
        if isinstance(args, ast.Tuple) and getattr(args, "_from_list", False):
            positional = list(args.elts)
        elif isinstance(args, ast.Tuple) and not args.elts:
            positional = []
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

    def _format_value(self, flags: int) -> None:
        spec = self._pop() if flags & 4 else None
        value = as_expr(self._pop(), "f-string value")
        conversion = {0: -1, 1: ord("s"), 2: ord("r"), 3: ord("a")}[flags & 3]
        if spec is None:
            format_spec = None
        elif isinstance(spec, ast.JoinedStr):
            format_spec = spec
        elif isinstance(spec, ast.Constant):
            format_spec = ast.JoinedStr([spec])
        else:
            raise GiveUp("unusual f-string format spec")
        self._push(ast.JoinedStr([ast.FormattedValue(value, conversion, format_spec)]))

    def _make_function(self, flags: int) -> None:
        code = self._pop()
        if not isinstance(code, types.CodeType):
            raise GiveUp("function without a code object")
        if flags & 8:
            raise GiveUp(f"closure ({code.co_name} uses variables of an enclosing function)")
        annotations: dict[str, ast.expr] = {}
        kwdefaults: dict[str, ast.expr] = {}
        defaults: list[ast.expr] = []
        if flags & 4:
            annotated = self._pop()
            if not isinstance(annotated, ast.Tuple):
                raise GiveUp("unusual annotations")
            elts = annotated.elts
            for key, value in zip(elts[::2], elts[1::2], strict=False):  # an odd tail is checked by the recompile
                if not isinstance(key, ast.Constant):
                    raise GiveUp("unusual annotations")
                annotations[key.value] = self._annotation(value)  # type: ignore[index]  # names: str constants
        if flags & 2:
            mapping = self._pop()
            if not isinstance(mapping, ast.Dict):
                raise GiveUp("unusual keyword-only defaults")
            for kw_key, kw_value in zip(mapping.keys, mapping.values, strict=False):  # checked by the recompile
                if not isinstance(kw_key, ast.Constant):
                    raise GiveUp("unusual keyword-only defaults")
                kwdefaults[kw_key.value] = kw_value  # type: ignore[index]  # names: str constants
        if flags & 1:
            tup = self._pop()
            if not isinstance(tup, ast.Tuple):
                raise GiveUp("unusual defaults")
            defaults = list(tup.elts)
        self._push(Func(code, defaults, kwdefaults, annotations))

    def _annotation(self, node: ast.expr) -> ast.expr:
        """Under ``from __future__ import annotations`` the compiler stored the annotation's text."""
        if self.future and isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                return ast.parse(node.value, mode="eval").body
            except SyntaxError:
                raise GiveUp("annotation text does not parse") from None
        return node
