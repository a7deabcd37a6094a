"""Read one Alembic revision file from its bytes, statically.

Recovered blobs come from arbitrary points in git history and may be half-edited, mis-encoded or
not Python at all, so this module only ever *parses* them with :mod:`ast`: it never imports,
executes or compiles-and-runs anything, and every failure is reported as a value, never raised.
"""

from __future__ import annotations

import ast
import io
import re
import threading
import tokenize
import warnings
from dataclasses import dataclass
from typing import Iterator

__all__ = [
    "OpCall", "RevisionFile", "Unparseable", "assignment_lines", "looks_like_revision", "parse_revision",
    "syntax_error_line",
]


@dataclass(frozen=True)
class OpCall:
    """One op.* call in upgrade()/downgrade(), e.g. op.add_column('projects', ...)."""

    name: str  # op method, or the batch_op method inside ``with op.batch_alter_table(...)``
    table: str | None  # table name literal (or the batch's table), else None
    detail: str | None  # "5 columns", a column/index/constraint name, SQL prefix; None if not plain
    #: columns the op touches, when written as literals: an index's or key's columns, the columns a
    #: CHECK condition names; lets a timeline say "CHECK constraint on action_lists.status changed"
    columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class RevisionFile:
    """Everything a chain rebuild needs from one revision file, as written in it."""

    revision: str
    down_revisions: tuple[str, ...]  # () for a base; two or more for a merge
    branch_labels: tuple[str, ...]
    depends_on: tuple[str, ...]
    message: str | None  # docstring's first line
    create_date: str | None  # "Create Date:" as written
    header_revision: str | None  # "Revision ID:" as written; may disagree with ``revision``
    header_revises: tuple[str, ...] | None  # "Revises:"; () if empty, None if the line is absent
    upgrade_ops: tuple[OpCall, ...]
    downgrade_ops: tuple[OpCall, ...]
    encoding: str  # codec actually used: "utf-8", "utf-8-sig", or the cookie's normalised name


@dataclass(frozen=True)
class Unparseable:
    """Looks like a revision file but cannot be read as one."""

    reason: str  # one line, for a report
    revision_hint: str | None  # best-effort ID, so a broken file can still be named


# --------------------------------------------------------------------------- pre-filter


def looks_like_revision(data: bytes) -> bool:
    """Cheap byte pre-filter used before parsing thousands of blobs.

    Every Alembic file since 0.2 names both ``down_revision`` and a bare ``revision``; counting is
    enough to see a ``revision`` that is not just the tail of ``down_revision``. False positives
    are settled by :func:`parse_revision`.
    """
    if b"down_revision" not in data:
        return False
    return data.count(b"revision") > data.count(b"down_revision")


# --------------------------------------------------------------------------- entry point

_HINT_RE = re.compile(rb"""^revision[ \t]*(?::[^=\n]*)?=[ \t]*['"]([^'"\n]+)['"]""", re.MULTILINE)
_MAX_REASON = 200
#: Module-level names read from a revision file, in the order problems are reported.
_ID_VARS = ("revision", "down_revision", "branch_labels", "depends_on")


def parse_revision(data: bytes) -> RevisionFile | Unparseable | None:
    """None = not a revision file at all; Unparseable = has the markers but cannot be read.

    Never raises: callers feed it every blob in a repository's history, and one poisoned blob must
    not abort a recovery run.
    """
    try:
        if not isinstance(data, bytes):
            data = bytes(data)
        if not looks_like_revision(data):
            return None
        return _parse(data)
    except Exception as exc:  # last resort: the contract is "never raises"
        try:
            hint = _hint(data) if isinstance(data, bytes) else None
        except Exception:
            hint = None
        return Unparseable(_one_line(f"internal error: {type(exc).__name__}: {exc}"), hint)


def _parse(data: bytes) -> RevisionFile | Unparseable | None:
    if b"\x00" in data:
        return Unparseable("binary content (NUL bytes)", _hint(data))

    decoded = _decode(data)
    if isinstance(decoded, Unparseable):
        return decoded
    text, encoding = decoded

    tree = _ast_parse(text)
    if isinstance(tree, Unparseable):
        return Unparseable(tree.reason, _hint(data))

    assigns = _module_assignments(tree)
    if not assigns["revision"] and not assigns["down_revision"]:
        return None
    revision = ""  # stays falsy until read, so a later failure falls back to the regex hint
    try:
        revision = _read_revision(assigns["revision"])
        down_revisions = _read_ids("down_revision", assigns["down_revision"], required=True)
        branch_labels = _read_ids("branch_labels", assigns["branch_labels"], required=False)
        depends_on = _read_ids("depends_on", assigns["depends_on"], required=False)
    except _NotReadable as exc:
        return Unparseable(_one_line(str(exc)), revision or _hint(data))

    doc = _module_docstring(tree)
    header = _parse_header(doc)
    upgrade_ops, downgrade_ops = _collect_ops(tree)
    return RevisionFile(
        revision=revision,
        down_revisions=down_revisions,
        branch_labels=branch_labels,
        depends_on=depends_on,
        message=_message(doc),
        create_date=header.get("create_date"),
        header_revision=header.get("revision"),
        header_revises=_split_revises(header.get("revises")),
        upgrade_ops=upgrade_ops,
        downgrade_ops=downgrade_ops,
        encoding=encoding,
    )


def _hint(data: bytes) -> str | None:
    """A regex guess at the ID so that a broken file can still be named in a report."""
    match = _HINT_RE.search(data)
    if match is None:
        return None
    return match.group(1).decode("utf-8", "replace").strip() or None


def _one_line(reason: str) -> str:
    reason = " ".join(reason.split())
    return reason if len(reason) <= _MAX_REASON else reason[: _MAX_REASON - 3] + "..."


# --------------------------------------------------------------------------- decoding / parsing


def _decode(data: bytes) -> tuple[str, str] | Unparseable:
    """Decode as the interpreter would (BOM, PEP 263 cookie), reporting why it cannot."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        msg = str(exc.msg or exc)
        unknown = re.match(r"unknown encoding(?: for .*?)?: (.*)", msg)
        if unknown:
            return Unparseable(
                _one_line(f"unknown encoding {unknown.group(1)!r} in coding cookie"), _hint(data)
            )
        if msg.startswith("encoding problem"):
            return Unparseable("coding cookie conflicts with the UTF-8 BOM", _hint(data))
        # "invalid or missing encoding declaration": a non-UTF-8 byte in the first two lines.
        encoding = "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        return Unparseable(f"not valid {encoding} at byte {exc.start}", _hint(data))
    except UnicodeError as exc:  # codecs such as "undefined" or "idna" fail without an offset
        return Unparseable(_one_line(f"cannot decode as {encoding}: {exc}"), _hint(data))
    except LookupError:  # e.g. "# coding: rot13": a codec, but not a text encoding
        return Unparseable(
            _one_line(f"coding cookie names {encoding!r}, which is not a text encoding"),
            _hint(data),
        )
    return text, encoding


_PARSE_LOCK = threading.Lock()


def _ast_parse(text: str) -> ast.Module | Unparseable:
    """ast.parse, with every way it can fail on garbage turned into a reason."""
    try:
        # Invalid escape sequences (say, a regex in op.execute SQL) warn; under ``-W error`` that
        # would turn a fine file into a "syntax error", so warnings are silenced for the parse.
        # catch_warnings swaps process-wide state, so concurrent parses must take turns.
        with _PARSE_LOCK, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text)
    except SyntaxError as exc:
        where = f" at line {exc.lineno}" if exc.lineno else ""
        return Unparseable(_one_line(f"syntax error{where}: {exc.msg}"), None)
    except (ValueError, TypeError) as exc:
        return Unparseable(_one_line(f"cannot parse: {exc}"), None)
    except RecursionError:
        return Unparseable("cannot parse: nested too deeply", None)
    except MemoryError:
        return Unparseable("cannot parse: out of memory (nested too deeply?)", None)


# --------------------------------------------------------------------------- module variables


def _module_assignments(tree: ast.Module) -> dict[str, list[ast.expr]]:
    """Value nodes assigned to the ID variables by top-level statements, in source order."""
    found: dict[str, list[ast.expr]] = {var: [] for var in _ID_VARS}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name) and target.id in found:
                    found[target.id].append(stmt.value)
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            if isinstance(stmt.target, ast.Name) and stmt.target.id in found:
                found[stmt.target.id].append(stmt.value)
    return found


_NOT_LITERAL = object()


def _literal(node: ast.expr) -> object:
    """ast.literal_eval semantics on a node, or _NOT_LITERAL; nothing is ever evaluated."""
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError, AttributeError):
        return _NOT_LITERAL


def _conflicting_lines(nodes: list[ast.expr]) -> tuple[int, int] | None:
    """Lines of the first two different values: the file says two things, Python keeps the last."""
    first = nodes[0]
    first_key = _value_key(first)
    for other in nodes[1:]:
        if _value_key(other) != first_key:
            return first.lineno, other.lineno
    return None


def _value_key(node: ast.expr) -> tuple[str, object]:
    value = _literal(node)
    if value is _NOT_LITERAL:
        return ("expr", ast.dump(node))
    return ("literal", value)


def _snippet(node: ast.expr) -> str:
    try:
        text = ast.unparse(node)
    except Exception:
        return ""
    return text if len(text) <= 40 else text[:37] + "..."


class _NotReadable(Exception):
    """Why a module variable cannot be read; becomes an Unparseable reason."""


def _single(var: str, nodes: list[ast.expr], required: bool) -> ast.expr | None:
    """The one value a variable is given; two different ones leave the file ambiguous."""
    if not nodes:
        if required:
            raise _NotReadable(f"no module-level {var} assignment")
        return None
    twice = _conflicting_lines(nodes)
    if twice is not None:
        raise _NotReadable(f"{var} assigned twice (lines {twice[0]} and {twice[1]})")
    return nodes[0]


def _read_revision(nodes: list[ast.expr]) -> str:
    node = _single("revision", nodes, required=True)
    assert node is not None
    value = _literal(node)
    if value is _NOT_LITERAL:
        raise _NotReadable(f"revision is not a literal (line {node.lineno}): {_snippet(node)}")
    if not isinstance(value, str):
        raise _NotReadable(
            f"revision is not a string literal ({type(value).__name__}, line {node.lineno})"
        )
    if not value.strip():
        raise _NotReadable(f"revision is an empty string (line {node.lineno})")
    return value


def _read_ids(var: str, nodes: list[ast.expr], required: bool) -> tuple[str, ...]:
    """Normalise None / str / tuple / list / set to a tuple of IDs.

    Alembic treats any falsy value as "none", so ``""`` and ``()`` mean a base, and empty strings
    inside a sequence name no parent. Sets are sorted because their literal order is not kept.
    """
    node = _single(var, nodes, required)
    if node is None:
        return ()
    value = _literal(node)
    if value is _NOT_LITERAL:
        raise _NotReadable(f"{var} is not a literal (line {node.lineno}): {_snippet(node)}")
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (tuple, list, set, frozenset)):
        items = list(value)
        bad = [item for item in items if not isinstance(item, str)]
        if bad:
            raise _NotReadable(
                f"{var} contains a non-string ({type(bad[0]).__name__}, line {node.lineno})"
            )
        if isinstance(value, (set, frozenset)):
            items.sort()
        return tuple(item for item in items if item)
    raise _NotReadable(
        f"{var} is not a string or sequence of strings ({type(value).__name__}, line {node.lineno})"
    )


# --------------------------------------------------------------------------- docstring header

_HEADER_RE = re.compile(
    r"^[ \t]*(Revision ID|Revises|Create Date)[ \t]*:[ \t]*(.*?)[ \t]*$", re.IGNORECASE
)
_HEADER_KEYS = {"revision id": "revision", "revises": "revises", "create date": "create_date"}


def _module_docstring(tree: ast.Module) -> str | None:
    if tree.body:
        first = tree.body[0]
        if (
            isinstance(first, ast.Expr)
            and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)
        ):
            return first.value.value
    return None


def _parse_header(doc: str | None) -> dict[str, str]:
    """First "Revision ID:" / "Revises:" / "Create Date:" lines of Alembic's template header."""
    header: dict[str, str] = {}
    for line in (doc or "").splitlines():
        match = _HEADER_RE.match(line)
        if match:
            header.setdefault(_HEADER_KEYS[match.group(1).lower()], match.group(2))
    return header


def _split_revises(value: str | None) -> tuple[str, ...] | None:
    """'a, b' -> ('a', 'b'); also takes a tuple repr or 'None', as old templates wrote."""
    if value is None:
        return None
    parts = (part.strip().strip("()[]'\" \t") for part in value.split(","))
    ids = tuple(part for part in parts if part)
    return () if ids == ("None",) else ids


def _message(doc: str | None) -> str | None:
    """Alembic puts the message on the docstring's first line; skip blanks in hand-written ones."""
    for line in (doc or "").splitlines():
        line = line.strip()
        if not line:
            continue
        return None if _HEADER_RE.match(line) else line
    return None


# --------------------------------------------------------------------------- op summary

#: ``op`` attributes that build arguments or reach the connection rather than change the schema.
_HELPERS = frozenset({"f", "inline_literal", "get_bind", "get_context"})

#: name -> (table positional index, table keyword, detail positional index, detail keyword) for
#: ``op.<name>(...)``, after Alembic's signatures (create_index's first argument is the index, not
#: the table). Ops not listed (custom ones too) take a leading string literal as the table; a few
#: with no plain table or a computed detail are special-cased in ``_op_call``.
_OP_ARGS: dict[str, tuple[int | None, str | None, int | None, str | None]] = {
    "alter_column": (0, "table_name", 1, "column_name"),
    "drop_column": (0, "table_name", 1, "column_name"),
    "create_index": (1, "table_name", 0, "index_name"),
    "drop_index": (1, "table_name", 0, "index_name"),
    "create_check_constraint": (1, "table_name", 0, "constraint_name"),
    "create_unique_constraint": (1, "table_name", 0, "constraint_name"),
    "create_primary_key": (1, "table_name", 0, "constraint_name"),
    "create_foreign_key": (1, "source_table", 0, "constraint_name"),
    "create_exclude_constraint": (1, "table_name", 0, "constraint_name"),
    "drop_constraint": (1, "table_name", 0, "constraint_name"),
    "rename_table": (0, "old_table_name", 1, "new_table_name"),
    "drop_table": (0, "table_name", None, None),
    "batch_alter_table": (0, "table_name", None, None),
    "create_table_comment": (0, "table_name", None, None),
    "drop_table_comment": (0, "table_name", None, None),
}

#: Same for ``batch_op.<name>(...)``: the table comes from the ``with``, so only the detail is read.
_BATCH_DETAIL: dict[str, tuple[int, str]] = {
    "alter_column": (0, "column_name"),
    "drop_column": (0, "column_name"),
    "create_index": (0, "index_name"),
    "drop_index": (0, "index_name"),
    "create_check_constraint": (0, "constraint_name"),
    "create_unique_constraint": (0, "constraint_name"),
    "create_primary_key": (0, "constraint_name"),
    "create_foreign_key": (0, "constraint_name"),
    "create_exclude_constraint": (0, "constraint_name"),
    "drop_constraint": (0, "constraint_name"),
}


def _collect_ops(tree: ast.Module) -> tuple[tuple[OpCall, ...], tuple[OpCall, ...]]:
    op_names = _op_aliases(tree)
    funcs: dict[str, ast.FunctionDef] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.FunctionDef) and stmt.name in ("upgrade", "downgrade"):
            funcs[stmt.name] = stmt  # a redefinition wins, as it would on import
    return (
        tuple(_ops_in(funcs["upgrade"], op_names)) if "upgrade" in funcs else (),
        tuple(_ops_in(funcs["downgrade"], op_names)) if "downgrade" in funcs else (),
    )


def _op_aliases(tree: ast.Module) -> frozenset[str]:
    """Names ``alembic.op`` is bound to; almost always just ``op``."""
    names = {"op"}
    for stmt in tree.body:
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "alembic":
            names.update(a.asname for a in stmt.names if a.name == "op" and a.asname)
        elif isinstance(stmt, ast.Import):
            names.update(a.asname for a in stmt.names if a.name == "alembic.op" and a.asname)
    return frozenset(names)


def _ops_in(func: ast.FunctionDef, op_names: frozenset[str]) -> Iterator[OpCall]:
    """Pre-order, source-ordered walk (iterative, so hostile nesting cannot blow the stack)."""
    # Each entry: a node and the batch aliases (``as batch_op`` name -> table) in scope there.
    stack: list[tuple[ast.AST, dict[str, str | None]]] = [
        (stmt, {}) for stmt in reversed(func.body)
    ]
    while stack:
        node, batches = stack.pop()
        children: list[tuple[ast.AST, dict[str, str | None]]]
        if isinstance(node, (ast.With, ast.AsyncWith)):
            inner = dict(batches)
            for item in node.items:
                call = item.context_expr
                if (
                    isinstance(call, ast.Call)
                    and _op_method(call, op_names) == "batch_alter_table"
                    and isinstance(item.optional_vars, ast.Name)
                ):
                    inner[item.optional_vars.id] = _arg_str(call, 0, "table_name")
            children = [(item, batches) for item in node.items]
            children += [(stmt, inner) for stmt in node.body]
        else:
            if isinstance(node, ast.Call):
                found = _op_call(node, op_names, batches)
                if found is not None:
                    yield found
                    # an op's own arguments (columns, constraints, op.f names) hold no further ops;
                    # not walking them halves the cost of reading a 64-column create_table
                    continue
            children = [(child, batches) for child in ast.iter_child_nodes(node)]
        stack.extend(reversed(children))


def _receiver_method(call: ast.Call) -> tuple[str, str] | None:
    """``x.name(...)`` -> ("x", "name"); anything else is not an op call we can name."""
    func = call.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return func.value.id, func.attr
    return None


def _op_method(call: ast.Call, op_names: frozenset[str]) -> str | None:
    found = _receiver_method(call)
    return found[1] if found is not None and found[0] in op_names else None


def _op_call(
    call: ast.Call, op_names: frozenset[str], batches: dict[str, str | None]
) -> OpCall | None:
    found = _plain_op_call(call, op_names, batches)
    if found is None or found.name not in _COLUMN_ARGS:
        return found
    batch = _op_method(call, op_names) is None
    pos, keyword = _COLUMN_ARGS[found.name]
    node = _arg(call, pos - 1 if batch else pos, keyword)
    if found.name == "create_check_constraint":
        columns = _condition_columns(node)
    else:
        columns = _str_list(node)
    return OpCall(found.name, found.table, found.detail, columns) if columns else found


def _plain_op_call(
    call: ast.Call, op_names: frozenset[str], batches: dict[str, str | None]
) -> OpCall | None:
    name = _op_method(call, op_names)
    if name is not None:
        if name in _HELPERS:
            return None
        if name == "execute":
            return OpCall(name, None, _sql_detail(call))
        if name == "bulk_insert":
            return OpCall(name, _bulk_table(call), _bulk_rows(call))
        if name == "create_table":
            return OpCall(name, _arg_str(call, 0, "table_name"), _column_count(call))
        if name == "add_column":
            return OpCall(name, _arg_str(call, 0, "table_name"), _column_name(call, 1))
        table_pos, table_kw, detail_pos, detail_kw = _OP_ARGS.get(name, (None, None, None, None))
        table = (
            _arg_str(call, table_pos, table_kw)
            if table_pos is not None or table_kw is not None
            else _first_str(call)
        )
        detail = _arg_str(call, detail_pos, detail_kw) if detail_pos is not None else None
        return OpCall(name, table, detail)

    found = _receiver_method(call)
    if found is None or found[0] not in batches:
        return None
    receiver, name = found
    if name in _HELPERS:
        return None
    table = batches[receiver]
    if name == "execute":
        return OpCall(name, table, _sql_detail(call))
    if name == "add_column":
        return OpCall(name, table, _column_name(call, 0))
    detail_spec = _BATCH_DETAIL.get(name)
    detail = _arg_str(call, *detail_spec) if detail_spec else None
    return OpCall(name, table, detail)


#: op name -> (positional index in ``op.<name>``, keyword) of its column list or CHECK condition;
#: ``batch_op.<name>`` takes no table argument, so its index is one less.
_COLUMN_ARGS: dict[str, tuple[int, str]] = {
    "create_index": (2, "columns"),
    "create_unique_constraint": (2, "columns"),
    "create_primary_key": (2, "columns"),
    "create_foreign_key": (3, "local_cols"),
    "create_check_constraint": (2, "condition"),
}
_SQL_WORDS = frozenset(
    "and or not in is null like ilike between true false any all some array exists case when then else end"
    " similar to escape cast as collate".split()
)
_SQL_STRING_RE = re.compile(r"'(?:[^']|'')*'")
_SQL_NAME_RE = re.compile(r'"([^"]+)"|`([^`]+)`|\b([A-Za-z_][A-Za-z0-9_$]*)\b(\s*\()?')


def _str_list(node: ast.expr | None) -> tuple[str, ...]:
    if isinstance(node, (ast.List, ast.Tuple)):
        names = tuple(_str_of(e) for e in node.elts)
        if all(names):
            return names  # type: ignore[return-value]
    return ()


def _condition_columns(node: ast.expr | None) -> tuple[str, ...]:
    """Column names a CHECK condition written as SQL text mentions: not keywords, functions or literals."""
    if isinstance(node, ast.Call) and _callee_name(node) == "text":
        node = _arg(node, 0, "text")
    if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        return ()
    names: dict[str, None] = {}
    for match in _SQL_NAME_RE.finditer(_SQL_STRING_RE.sub("''", node.value)):
        quoted = match.group(1) or match.group(2)
        word = match.group(3)
        if quoted:
            names.setdefault(quoted, None)
        elif word and not match.group(4) and word.lower() not in _SQL_WORDS and not word[0].isdigit():
            names.setdefault(word, None)
    return tuple(names)


def _arg(call: ast.Call, pos: int | None, keyword: str | None) -> ast.expr | None:
    """The argument bound to a parameter, if it can be told without evaluating ``*args``."""
    if pos is not None:
        for index, arg in enumerate(call.args):
            if isinstance(arg, ast.Starred):
                break
            if index == pos:
                return arg
    if keyword is not None:
        for kw in call.keywords:
            if kw.arg == keyword:
                return kw.value
    return None


def _str_of(node: ast.expr | None) -> str | None:
    """A plain string literal, seeing through ``op.f('name')`` naming-convention wrappers."""
    if isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "f":
            node = node.args[0]
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _arg_str(call: ast.Call, pos: int | None, keyword: str | None) -> str | None:
    return _str_of(_arg(call, pos, keyword))


def _first_str(call: ast.Call) -> str | None:
    return _str_of(call.args[0]) if call.args else None


def _callee_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Name):
            return node.func.id
        if isinstance(node.func, ast.Attribute):
            return node.func.attr
    return None


def _column_count(call: ast.Call) -> str | None:
    if any(isinstance(a, ast.Starred) for a in call.args):
        return None  # columns built elsewhere: no plain count to give
    count = sum(1 for a in call.args[1:] if _callee_name(a) == "Column")
    return f"{count} column" if count == 1 else f"{count} columns"


def _column_name(call: ast.Call, pos: int) -> str | None:
    column = _arg(call, pos, "column")
    if isinstance(column, ast.Call) and _callee_name(column) == "Column":
        return _arg_str(column, 0, "name")
    return None


def _sql_detail(call: ast.Call) -> str | None:
    sql = _arg(call, 0, "sqltext")
    if isinstance(sql, ast.Call) and _callee_name(sql) == "text":
        sql = _arg(sql, 0, "text")
    if isinstance(sql, ast.Constant) and isinstance(sql.value, str):
        flat = " ".join(sql.value.split())
        return flat[:60].rstrip() or None
    return None


def _bulk_table(call: ast.Call) -> str | None:
    table = _arg(call, 0, "table")
    if isinstance(table, ast.Call) and _callee_name(table) in ("table", "Table"):
        return _arg_str(table, 0, "name")
    return None


def _bulk_rows(call: ast.Call) -> str | None:
    rows = _arg(call, 1, "rows")
    if isinstance(rows, (ast.List, ast.Tuple)) and not any(
        isinstance(e, ast.Starred) for e in rows.elts
    ):
        return f"{len(rows.elts)} row" if len(rows.elts) == 1 else f"{len(rows.elts)} rows"
    return None


# --------------------------------------------------------------------------- line numbers


def assignment_lines(data: bytes) -> dict[str, int]:
    """1-based lines to point a reader at: each ID variable's first module-level assignment
    (``revision``, ``down_revision``, ``branch_labels``, ``depends_on``) and the docstring's
    header lines (``Revision ID``, ``Revises``, ``Create Date``, as the template spells them).

    For CI annotations on the line to edit; parsed, never executed. Empty when the file does not parse.
    """
    decoded = _decode(bytes(data))
    if isinstance(decoded, Unparseable):
        return {}
    text, _encoding = decoded
    tree = _ast_parse(text)
    if isinstance(tree, Unparseable):
        return {}
    lines: dict[str, int] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign):
            targets = stmt.targets
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            targets = [stmt.target]
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name) and target.id in _ID_VARS:
                lines.setdefault(target.id, stmt.lineno)
    doc = tree.body[0] if tree.body and _module_docstring(tree) is not None else None
    if doc is not None and doc.end_lineno is not None:
        source = re.split(r"\r\n|\r|\n", text)
        for number in range(doc.lineno, doc.end_lineno + 1):
            match = _HEADER_RE.match(source[number - 1].lstrip("\"'"))
            if match:
                lines.setdefault(_HEADER_NAMES[match.group(1).lower()], number)
    return lines


_HEADER_NAMES = {"revision id": "Revision ID", "revises": "Revises", "create date": "Create Date"}


def syntax_error_line(data: bytes) -> int | None:
    """The line ``ast`` stops at, for an unparseable file; None when it parses or has no line."""
    decoded = _decode(bytes(data))
    if isinstance(decoded, Unparseable):
        return None
    try:
        with _PARSE_LOCK, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(decoded[0])
    except SyntaxError as exc:
        return exc.lineno or None
    except (ValueError, TypeError, RecursionError, MemoryError):
        return None
    return None
