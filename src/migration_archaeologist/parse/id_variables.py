"""The ID variables of a revision file (``revision``, ``down_revision``, ``branch_labels``,
``depends_on``) read from its module-level statements.

Each is read as the literal it is assigned, or followed among the file's own module-level names
(:mod:`.bindings`); a variable assigned two different values, or one that cannot be read, is a
:class:`NotReadable` reason.
"""

from __future__ import annotations

import ast

from migration_archaeologist.parse.bindings import (
    NOT_LITERAL,
    Reference,
    Unknown,
    bound_names,
    evaluate,
    literal_value,
    snippet,
)

__all__ = ["ID_VARS", "NotReadable", "module_assignments", "read_ids", "read_revision"]

#: Module-level names read from a revision file, in the order problems are reported.
ID_VARS = ("revision", "down_revision", "branch_labels", "depends_on")


def module_assignments(statements: list[ast.stmt]) -> tuple[dict[str, list[ast.expr]], dict[str, int]]:
    """Value nodes assigned to the ID variables by top-level statements, in source order, and the
    index of the statement holding each variable's last assignment (what its value is read after)."""
    found: dict[str, list[ast.expr]] = {var: [] for var in ID_VARS}
    last: dict[str, int] = {}
    for at, stmt in enumerate(statements):
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name) and target.id in found:
                    found[target.id].append(stmt.value)
                    last[target.id] = at
        elif (
            isinstance(stmt, ast.AnnAssign)
            and stmt.value is not None
            and isinstance(stmt.target, ast.Name)
            and stmt.target.id in found
        ):
            found[stmt.target.id].append(stmt.value)
            last[stmt.target.id] = at
    return found, last


def _conflicting_lines(nodes: list[ast.expr]) -> tuple[int, int] | None:
    """Lines of the first two different values: the file says two things, Python keeps the last."""
    if len(nodes) < 2:
        return None
    first = nodes[0]
    first_key = _value_key(first)
    for other in nodes[1:]:
        if _value_key(other) != first_key:
            return first.lineno, other.lineno
    return None


def _value_key(node: ast.expr) -> tuple[str, object]:
    value = literal_value(node)
    if value is NOT_LITERAL:
        try:
            return ("expr", ast.dump(node))
        except RecursionError:  # nested deeper than ast.dump can walk: compare by position only
            return ("expr", (node.lineno, node.col_offset))
    return ("literal", value)


class NotReadable(Exception):
    """Why a module variable cannot be read; becomes an Unparseable reason."""


def _single(var: str, nodes: list[ast.expr], required: bool) -> ast.expr | None:
    """The one value a variable is given; two different ones leave the file ambiguous."""
    if not nodes:
        if required:
            raise NotReadable(f"no module-level {var} assignment")
        return None
    twice = _conflicting_lines(nodes)
    if twice is not None:
        raise NotReadable(f"{var} assigned twice (lines {twice[0]} and {twice[1]})")
    return nodes[0]


def read_revision(nodes: list[ast.expr]) -> str:
    node = _single("revision", nodes, required=True)
    assert node is not None
    value = literal_value(node)
    if value is NOT_LITERAL:
        raise NotReadable(f"revision is not a literal (line {node.lineno}): {snippet(node)}")
    if not isinstance(value, str):
        raise NotReadable(f"revision is not a string literal ({type(value).__name__}, line {node.lineno})")
    if not value.strip():
        raise NotReadable(f"revision is an empty string (line {node.lineno})")
    refused = sorted(set(value) & _ALEMBIC_REFUSES)
    if refused:  # alembic.script.revision.RevisionMap's own check and wording
        raise NotReadable(
            f"Character(s) '{', '.join(refused)}' not allowed in revision identifier '{value}' (as Alembic says)"
        )
    return value


#: Characters Alembic refuses in a revision identifier (they are its revision-spec operators).
_ALEMBIC_REFUSES = frozenset("@-+")


def read_ids(
    var: str,
    assigns: dict[str, list[ast.expr]],
    statements: list[ast.stmt],
    last: dict[str, int],
    required: bool,
) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """Normalise None / str / tuple / list / set to a tuple of IDs, and what names values elsewhere.

    Alembic treats any falsy value as "none", so ``""`` and ``()`` mean a base, and empty strings
    inside a sequence name no parent. Sets are sorted because their literal order is not kept.
    A value that is not a literal is looked up among the module-level names bound before it
    (:func:`evaluate`); what stays unknown is returned as ``(var, reference)`` pairs, except for
    ``down_revision``, whose parents a chain cannot do without.
    """
    node = _single(var, assigns[var], required)
    if node is None:
        return (), ()
    value = literal_value(node)
    if value is NOT_LITERAL:
        value = evaluate(node, bound_names(statements[: last[var]]))
    ids, unread = _ids(var, value, node)
    if unread and var == "down_revision":
        refs = [item.text for item in unread if isinstance(item, Reference)]
        named = f" (names {refs[0]})" if refs else ""
        raise NotReadable(f"{var} is not a literal (line {node.lineno}): {snippet(node)}{named}")
    return ids, tuple((var, item.text) for item in unread)


def _ids(var: str, value: object, node: ast.expr) -> tuple[tuple[str, ...], list[Unknown]]:
    """IDs in a value read by :func:`literal_value` or :func:`evaluate`, and what was left unread."""
    if isinstance(value, Unknown):
        return (), [value]
    if value is None or value == "":
        return (), []
    if isinstance(value, str):
        return (value,), []
    if isinstance(value, (tuple, list, set, frozenset)):
        items: list[str] = []
        unread: list[Unknown] = []
        for item in value:
            if isinstance(item, Unknown):
                unread.append(item)
            elif not isinstance(item, str):
                raise NotReadable(f"{var} contains a non-string ({type(item).__name__}, line {node.lineno})")
            elif item:
                items.append(item)
        if isinstance(value, (set, frozenset)):
            items.sort()
            unread.sort(key=lambda item: item.text)
        return tuple(items), unread
    raise NotReadable(f"{var} is not a string or sequence of strings ({type(value).__name__}, line {node.lineno})")
