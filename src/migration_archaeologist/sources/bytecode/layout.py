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
    tree = _FStrings().visit(tree)
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
    if isinstance(stmt, (ast.If, ast.For)):
        return _compound(stmt, depth, "")
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
        first, *rest = text.splitlines() or [""]
        if getattr(stmt, "_cleaned", False):  # 3.13+ compiles it dedented: indent it like the code
            rest = [pad + line if line else line for line in rest]
        return [pad + first, *rest]  # else the docstring's own lines keep their indentation: it is its value
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


class _FStrings(ast.NodeTransformer):
    """f-strings spelled as every Python since 3.6 reads them: Python 3.12's ``ast.unparse`` reuses
    the outer quote inside the braces (PEP 701), which 3.8-3.11 cannot compile. Each f-string is
    rendered here and left in the tree as a name whose text is the f-string (unparse prints it as is)."""

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.expr:
        for value in node.values:  # nested f-strings first; a format spec stays a JoinedStr
            if isinstance(value, ast.FormattedValue):
                value.value = self.visit(value.value)
                if isinstance(value.format_spec, ast.JoinedStr):
                    for part in value.format_spec.values:
                        if isinstance(part, ast.FormattedValue):
                            part.value = self.visit(part.value)
        inside = "".join(_fstring_part(v, "") for v in node.values if not isinstance(v, ast.Constant))
        quote = next((q for q in ("'", '"', "'''", '"""') if q not in inside), "'")
        body = "".join(_fstring_part(value, quote) for value in node.values)
        return ast.copy_location(ast.Name(f"f{quote}{body}{quote}", ast.Load()), node)


def _fstring_part(value: ast.expr, quote: str) -> str:
    if isinstance(value, ast.Constant):
        return "".join(_literal_char(ch, quote) for ch in str(value.value))
    if not isinstance(value, ast.FormattedValue):
        return "{" + ast.unparse(value) + "}"
    text = ast.unparse(value.value)
    if text.startswith("{"):
        text = " " + text  # ``{ {...}}``: a dict or set display, not an escaped brace
    if value.conversion != -1:
        text += "!" + chr(value.conversion)
    if isinstance(value.format_spec, ast.JoinedStr):
        text += ":" + "".join(_fstring_part(v, quote) for v in value.format_spec.values)
    return "{" + text + "}"


def _literal_char(ch: str, quote: str) -> str:
    if ch in "{}":
        return ch * 2
    if ch == "\\" or (ch == quote[:1] and quote):
        return "\\" + ch
    if ch.isprintable():
        return ch
    return ch.encode("unicode_escape").decode("ascii")


def _compound(stmt: ast.If | ast.For, depth: int, keyword: str) -> list[str]:
    """An ``if``/``for`` header, its body laid out like any other, then ``elif``/``else``."""
    pad = "    " * depth
    if isinstance(stmt, ast.If):
        out = [f"{pad}{keyword or 'if'} {ast.unparse(stmt.test)}:"]
    else:
        out = [f"{pad}for {ast.unparse(stmt.target)} in {ast.unparse(stmt.iter)}:"]
    for inner in stmt.body:
        out += _lines(inner, depth + 1)
    orelse = stmt.orelse
    if isinstance(stmt, ast.If) and len(orelse) == 1 and isinstance(orelse[0], ast.If):
        return out + _compound(orelse[0], depth, "elif")
    if orelse:
        out.append(f"{pad}else:")
        for inner in orelse:
            out += _lines(inner, depth + 1)
    return out
