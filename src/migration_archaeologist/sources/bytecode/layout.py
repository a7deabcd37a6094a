"""Rebuilt statements laid out as Alembic writes a revision file.

Purely cosmetic: blank lines between groups, long calls one argument per line. The verification
compiles exactly this text.
"""

from __future__ import annotations

import ast

_WIDTH = 99


def format_module(tree: ast.Module) -> str:
    """Lay the module out as Alembic writes it: blank lines between groups, long calls one
    argument per line. Purely cosmetic; the verification compiles exactly this text."""
    lines: list[str] = []
    prev: ast.stmt | None = None
    for stmt in tree.body:
        if prev is not None:
            if isinstance(stmt, ast.FunctionDef) or isinstance(prev, ast.FunctionDef):
                lines += ["", ""]
            elif _is_doc(prev) or isinstance(prev, (ast.Import, ast.ImportFrom)) != isinstance(
                stmt, (ast.Import, ast.ImportFrom)
            ):
                lines.append("")
        lines += _lines(stmt, 0)
        prev = stmt
    return "\n".join(lines) + "\n"


def _is_doc(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)


def _lines(stmt: ast.stmt, depth: int) -> list[str]:
    pad = "    " * depth
    if isinstance(stmt, (ast.FunctionDef, ast.With)):
        shell = (
            ast.FunctionDef(**{**vars(stmt), "body": [ast.Pass()]})
            if isinstance(stmt, ast.FunctionDef)
            else ast.With(stmt.items, [ast.Pass()], None)
        )
        shell = ast.fix_missing_locations(ast.copy_location(shell, stmt))
        out = [pad + line for line in ast.unparse(shell).splitlines()[:-1]]
        for inner in stmt.body:
            out += _lines(inner, depth + 1)
        return out
    if _is_doc(stmt):
        text = ast.unparse(ast.Module([stmt], []))  # rendered as a docstring, not a repr
        return [pad + line if line else line for line in text.splitlines()]
    text = ast.unparse(stmt)
    call = getattr(stmt, "value", None)
    if len(pad) + len(text) <= _WIDTH or "\n" in text or not isinstance(call, ast.Call):
        return [pad + line for line in text.splitlines()]
    if isinstance(stmt, ast.Expr):
        prefix = ""
    elif isinstance(stmt, ast.Return):
        prefix = "return "
    elif isinstance(stmt, ast.Assign):
        prefix = " = ".join(ast.unparse(t) for t in stmt.targets) + " = "
    else:
        return [pad + text]
    args = [ast.unparse(a) for a in call.args]
    args += [f"{k.arg}={ast.unparse(k.value)}" if k.arg else f"**{ast.unparse(k.value)}" for k in call.keywords]
    if not args:
        return [pad + text]
    head = f"{pad}{prefix}{ast.unparse(call.func)}("
    return [head] + [f"{pad}    {arg}," for arg in args] + [pad + ")"]
