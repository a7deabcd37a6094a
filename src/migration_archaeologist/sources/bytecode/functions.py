"""A function definition's signature, and the body that stands in for one not rebuilt.

Both come from the function's code object alone: the argument names and flags give the
signature, the docstring constant is kept above the explicit ``raise NotImplementedError(...)``.
"""

from __future__ import annotations

import ast

from migration_archaeologist.sources.bytecode.instructions import CodeLike
from migration_archaeologist.sources.bytecode.stack_values import CO_VARARGS, CO_VARKEYWORDS, Func


def give_up_body(code: CodeLike, reason: str) -> list[ast.stmt]:
    body: list[ast.stmt] = []
    if code.co_consts and isinstance(code.co_consts[0], str):
        body.append(ast.Expr(ast.Constant(code.co_consts[0])))
    message = ast.Constant(f"could not rebuild from bytecode: {reason}")
    body.append(ast.Raise(ast.Call(ast.Name("NotImplementedError", ast.Load()), [message], []), None))
    return body


def function_arguments(code: CodeLike, func: Func | None) -> ast.arguments:
    names = code.co_varnames
    npos, nposonly, nkw = code.co_argcount, code.co_posonlyargcount, code.co_kwonlyargcount
    notes = func.annotations if func else {}

    def arg(name: str) -> ast.arg:
        return ast.arg(name, notes.get(name))

    index = npos + nkw
    vararg = kwarg = None
    if code.co_flags & CO_VARARGS:
        vararg = arg(names[index])
        index += 1
    if code.co_flags & CO_VARKEYWORDS:
        kwarg = arg(names[index])
    kwonly = names[npos : npos + nkw]
    return ast.arguments(
        posonlyargs=[arg(n) for n in names[:nposonly]],
        args=[arg(n) for n in names[nposonly:npos]],
        vararg=vararg,
        kwonlyargs=[arg(n) for n in kwonly],
        kw_defaults=[(func.kwdefaults.get(n) if func else None) for n in kwonly],
        kwarg=kwarg,
        defaults=list(func.defaults) if func else [],
    )
