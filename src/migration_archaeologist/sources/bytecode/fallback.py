"""A revision module rebuilt by pattern when its module body defeats the stack machine.

What a revision needs is kept: the docstring, the identifiers (revision, down_revision,
branch_labels, depends_on) and the ``upgrade()``/``downgrade()`` bodies.
"""

from __future__ import annotations

import ast

from migration_archaeologist.sources.bytecode.code_objects import function_code, qualname
from migration_archaeologist.sources.bytecode.instructions import CodeLike, instructions
from migration_archaeologist.sources.bytecode.stack_values import SKIP, GiveUp, constant
from migration_archaeologist.sources.bytecode.functions import function_arguments, give_up_body
from migration_archaeologist.sources.bytecode.statements import Rebuilder


_ID_VARS = ("revision", "down_revision", "branch_labels", "depends_on")


def fallback_module(module: CodeLike, given_up: set[str], differences: list[str]) -> ast.Module:
    """When the module body defeats the rebuilder: keep what a revision needs, found by pattern."""
    body: list[ast.stmt] = []
    ins = [i for i in instructions(module) if i.opname not in SKIP]
    if len(ins) > 1 and ins[0].opname == "LOAD_CONST" and ins[1].argval == "__doc__":
        body.append(ast.Expr(constant(ins[0].argval)))
    body.append(ast.ImportFrom("alembic", [ast.alias("op")], 0))
    body.append(ast.Import([ast.alias("sqlalchemy", "sa")]))
    for n, i in enumerate(ins[1:], start=1):
        prev = ins[n - 1]
        if i.opname == "STORE_NAME" and i.argval in _ID_VARS and prev.opname == "LOAD_CONST":
            body.append(ast.Assign([ast.Name(str(i.argval), ast.Store())], constant(prev.argval)))
    for name in ("upgrade", "downgrade"):
        code = function_code(module, name)
        if code is None:
            continue
        rebuilder = Rebuilder(code, given_up=given_up, differences=differences)
        try:
            fbody = rebuilder.function_body()
        except GiveUp as exc:
            given_up.add(qualname(code))
            differences.append(f"{name}(): not rebuilt: {exc}")
            fbody = give_up_body(code, str(exc))
        body.append(ast.FunctionDef(name, function_arguments(code, None), fbody, [], None))
    return ast.Module(body, [])
