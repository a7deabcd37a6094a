"""Module-level names of a file, followed as far as can be seen without running it.

A value named rather than written (``branch_labels = (cli.EXPAND_BRANCH,)``) is looked up among the
names bound before it: a literal, a :class:`Reference` to an imported name (which
:mod:`.constants` may read later), or an :class:`Unknown` as written. Nothing is evaluated.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from collections.abc import Sequence

from migration_archaeologist.parse.python2 import Unread

__all__ = [
    "CONTAINERS",
    "NOT_LITERAL",
    "Reference",
    "Unknown",
    "bound_names",
    "dotted_name",
    "evaluate",
    "literal_value",
    "snippet",
]


NOT_LITERAL = object()


CONTAINERS: dict[type, type] = {ast.Tuple: tuple, ast.List: list, ast.Set: set}


def literal_value(node: ast.expr) -> object:
    """ast.literal_eval semantics on a node, or NOT_LITERAL; nothing is ever evaluated.

    Constants and flat tuples, lists and sets of constants (every ID variable ever written) are
    read here: each literal_eval call builds closures that refer to each other, garbage that only
    the cycle collector frees, and a scan runs with it off (44 objects a file; the parse was 10%
    slower with them piling up).
    """
    if type(node) is ast.Constant:
        return node.value
    container = CONTAINERS.get(type(node))
    if container is not None and all(type(item) is ast.Constant for item in node.elts):  # type: ignore[attr-defined]
        return container(item.value for item in node.elts)  # type: ignore[attr-defined]
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError, AttributeError):
        return NOT_LITERAL


def snippet(node: ast.expr) -> str:
    try:
        text = ast.unparse(node)
    except Exception:  # RecursionError on a value nested deeper than unparse can walk
        return "an expression nested too deeply to show"
    return text if len(text) <= 40 else text[:37] + "..."


@dataclass(frozen=True)
class Unknown:
    """A value this module cannot read: ``text`` is a dotted reference or the expression as written."""

    text: str


@dataclass(frozen=True)
class Reference(Unknown):
    """A name bound by an import: ``text`` is the dotted name it refers to (leading dots if relative),
    or strings and such names joined by ``+`` (``'neutron-' + neutron.db.migration.cli.EXPAND_BRANCH``)."""


#: A name bound where its value cannot be followed (inside a block, by unpacking, a def, ``del``).
_UNBOUND = Unknown("")
#: How deep :func:`evaluate` follows tuples in tuples (Alembic wants flat ones).
_MAX_DEPTH = 32


def bound_names(statements: Sequence[ast.stmt], *, declares_global: bool = True) -> dict[str, object]:
    """Module-level names after ``statements`` run, as far as can be seen without running them:
    a literal (or a tuple of literals and references), a :class:`Reference` for an import, or
    ``_UNBOUND`` where the value cannot be followed. ``declares_global=False``: the source never
    says ``global``, so a function's or class's body binds no module-level name."""
    env: dict[str, object] = {}
    for stmt in statements:
        _bind(stmt, env, declares_global)
    return env


#: What a ``def`` or ``class`` runs at module level besides binding its name: decorators, default
#: values, annotations, bases (a ``:=`` there binds a module-level name); its body runs elsewhere.
_DEFINITION_HEADS = ("decorator_list", "args", "returns", "bases", "keywords", "type_params")


def _bind(stmt: ast.stmt, env: dict[str, object], declares_global: bool = True) -> None:
    if isinstance(stmt, ast.Import):
        for alias in stmt.names:
            if alias.asname:
                env[alias.asname] = Reference(alias.name)
            else:  # ``import a.b.c`` binds ``a``
                head = alias.name.split(".")[0]
                env[head] = Reference(head)
        return
    if isinstance(stmt, ast.ImportFrom):
        base = "." * stmt.level + (f"{stmt.module}." if stmt.module else "")
        for alias in stmt.names:
            if alias.name != "*":  # what a star import binds is not known here
                env[alias.asname or alias.name] = Reference(base + alias.name)
        return
    if isinstance(stmt, ast.AnnAssign) and stmt.value is None:
        return  # ``x: int`` binds nothing
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(stmt, ast.AnnAssign) else []
    if (
        targets
        and all(isinstance(t, ast.Name) for t in targets)
        and not any(
            isinstance(node, ast.NamedExpr)
            for node in ast.walk(stmt.value)  # type: ignore[attr-defined]
        )
    ):
        value = evaluate(stmt.value, env)  # type: ignore[attr-defined]
        for target in targets:
            env[target.id] = value  # type: ignore[attr-defined]
        return
    if not declares_global and isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        # walking a module's every function body was most of resolving a constant in neutron's cli.py
        names = {stmt.name}
        for field_name in _DEFINITION_HEADS:
            part = getattr(stmt, field_name, None)
            for item in part if isinstance(part, list) else [part] if part is not None else []:
                names |= _stored_names(item)
        for name in names:
            env[name] = _UNBOUND
        return
    for name in _stored_names(stmt):
        env[name] = _UNBOUND


def _stored_names(stmt: ast.AST) -> set[str]:
    """Every name a statement may bind or unbind, anywhere inside it (more is only more caution)."""
    names: set[str] = set()
    for node in ast.walk(stmt):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, (ast.Global, ast.Nonlocal, Unread)):
            names.update(node.names)
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            names.add(node.rest)
    return names


def evaluate(node: ast.expr, env: dict[str, object], depth: int = 0) -> object:
    """The value of ``node`` given module-level ``env``: a literal, a :class:`Reference` to an
    imported name, an :class:`Unknown`, or a tuple / list / set of those. Nothing is run."""
    value = literal_value(node)
    if value is not NOT_LITERAL:
        return value
    if isinstance(node, ast.Name):
        bound = env.get(node.id, _UNBOUND)
        # a name whose value is unknown is reported as written; one bound by an import, as its reference
        return Unknown(node.id) if type(bound) is Unknown else bound
    if isinstance(node, ast.Attribute):
        path = dotted_name(node)
        if path is not None:
            head, _, rest = path.partition(".")
            bound = env.get(head)
            if isinstance(bound, Reference):
                return Reference(f"{bound.text}.{rest}")
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and depth < _MAX_DEPTH:
        # ``'neutron-' + cli.EXPAND_BRANCH``: a reference still, as an expression of strings and names
        parts = [evaluate(node.left, env, depth + 1), evaluate(node.right, env, depth + 1)]
        if any(isinstance(part, Reference) for part in parts) and all(
            isinstance(part, (str, Reference)) for part in parts
        ):
            return Reference(" + ".join(part.text if isinstance(part, Reference) else repr(part) for part in parts))
    elif type(node) in CONTAINERS and depth < _MAX_DEPTH:
        elts = node.elts  # type: ignore[attr-defined]
        if not any(isinstance(elt, ast.Starred) for elt in elts):
            items = [evaluate(elt, env, depth + 1) for elt in elts]
            try:
                return CONTAINERS[type(node)](items)
            except TypeError:  # an unhashable item in a set: Python would refuse it too
                pass
    return Unknown(snippet(node))


def dotted_name(node: ast.expr) -> str | None:
    """``a.b.c`` for a chain of attributes on a name, else None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))
