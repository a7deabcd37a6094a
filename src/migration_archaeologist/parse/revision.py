"""Read one Alembic revision file from its bytes, statically.

Recovered blobs come from arbitrary points in git history and may be half-edited, mis-encoded or
not Python at all, so this module only ever *parses* them with :mod:`ast`: it never imports,
executes or compiles-and-runs anything, and every failure is reported as a value, never raised.
Values named rather than written (``branch_labels = (cli.EXPAND_BRANCH,)``) are looked up among the
file's own module-level names; what another module holds is left to :mod:`.constants`. A Python 2
file, which ``ast`` refuses, is read from its module-level statements one at a time.
"""

from __future__ import annotations

import ast
import io
import re
import threading
import tokenize
import warnings
from dataclasses import dataclass
from typing import Any, TypeVar
from collections.abc import Callable, Sequence

__all__ = [
    "PYTHON2_NOTE",
    "RevisionFile",
    "Unparseable",
    "assignment_lines",
    "looks_like_revision",
    "parse_revision",
    "syntax_error_line",
]


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
    encoding: str  # codec actually used: "utf-8", "utf-8-sig", or the cookie's normalised name
    #: (variable, reference) for each branch_labels / depends_on value this file does not hold: a
    #: dotted name (``pkg.mod.NAME``, leading dots if relative) when imported (or strings and such
    #: names joined by ``+``), else the expression as written. The variable holds only what was read;
    #: :mod:`.constants` resolves references later.
    unresolved: tuple[tuple[str, str], ...] = ()
    #: Python 2 syntax: read from its module-level lines; Alembic on Python 3 cannot load it as it is.
    python2: bool = False

    @property
    def notes(self) -> tuple[str, ...]:
        """One line per caveat, for reports: Python 2 syntax, values read from elsewhere."""
        notes = [PYTHON2_NOTE] if self.python2 else []
        notes += [f"{var} names {ref}, not read from this file" for var, ref in self.unresolved]
        return tuple(notes)


PYTHON2_NOTE = "Python 2 syntax: Alembic on Python 3 cannot load it as it is"


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
    # a ``revision`` that is not the tail of a ``down_revision``; the bare one usually comes first
    # (counting both in every file was 6 us of 10,000 files' 2.4 ms each)
    at = data.find(b"revision")
    while at >= 0:
        if data[at - 5 : at] != b"down_" or at < 5:
            return True
        at = data.find(b"revision", at + 8)
    return False


# --------------------------------------------------------------------------- entry point

#: at a line start, also after a lone CR (old Mac line ends) or a UTF-8 BOM
#: and only a literal that is the whole value (``revision = 'b' + '2'`` names no ID)
_HINT_RE = re.compile(
    rb"""(?:^|(?<=\r)|(?<=\xef\xbb\xbf))revision[ \t]*(?::[^=\r\n]*)?=[ \t]*['"]([^'"\r\n]+)['"]"""
    rb"""(?=[ \t]*(?:\#[^\r\n]*)?(?:\r|\n|$))""",
    re.MULTILINE,
)
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

    decoded = decode(data)
    if isinstance(decoded, Unparseable):
        return decoded
    text, encoding = decoded

    statements = _checked_statements(text)
    py2_error: Unparseable | None = None  # the syntax error, when the file is read as Python 2
    if isinstance(statements, Unparseable):
        older = _python2_statements(text, statements.reason)
        if older is None:
            return Unparseable(statements.reason, _hint(data))
        py2_error, statements = statements, older

    assigns, last = _module_assignments(statements)
    if not assigns["revision"] and not assigns["down_revision"]:
        return None if py2_error is None else Unparseable(py2_error.reason, _hint(data))
    revision = ""  # stays falsy until read, so a later failure falls back to the regex hint
    try:
        revision = _read_revision(assigns["revision"])
        down_revisions, _ = _read_ids("down_revision", assigns, statements, last, required=True)
        branch_labels, unread_labels = _read_ids("branch_labels", assigns, statements, last, required=False)
        depends_on, unread_depends = _read_ids("depends_on", assigns, statements, last, required=False)
    except _NotReadable as exc:
        reason = exc if py2_error is None else py2_error.reason  # a Python 2 read that fails: as before
        return Unparseable(_one_line(str(reason)), revision or _hint(data))

    doc = _module_docstring(statements)
    header = _parse_header(doc)
    return RevisionFile(
        revision=revision,
        down_revisions=down_revisions,
        branch_labels=branch_labels,
        depends_on=depends_on,
        message=_message(doc),
        create_date=header.get("create_date"),
        header_revision=header.get("revision"),
        header_revises=_split_revises(header.get("revises")),
        encoding=encoding,
        unresolved=unread_labels + unread_depends,
        python2=py2_error is not None,
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


def decode(data: bytes) -> tuple[str, str] | Unparseable:
    """Decode as the interpreter would (BOM, PEP 263 cookie), reporting why it cannot."""
    try:
        if _plain_utf8(data):
            encoding = "utf-8"  # what detect_encoding says, without its line reader (most files)
        else:
            # detect_encoding splits lines on LF only; the interpreter also ends them at a lone CR
            lines = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n") if b"\r" in data[:4096] else data
            encoding, _ = tokenize.detect_encoding(io.BytesIO(lines).readline)
    except SyntaxError as exc:
        msg = str(exc.msg or exc)
        unknown = re.match(r"unknown encoding(?: for .*?)?: (.*)", msg)
        if unknown:
            return Unparseable(_one_line(f"unknown encoding {unknown.group(1)!r} in coding cookie"), _hint(data))
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


def _plain_utf8(data: bytes) -> bool:
    """No BOM, no lone CR near the top and no ``coding`` in the first two lines: a coding cookie can
    only be there, so the file is UTF-8 (an undecodable byte is then reported by the decode)."""
    if data[:3] == b"\xef\xbb\xbf" or b"\r" in data[:4096]:
        return False
    first = data.find(b"\n")
    second = data.find(b"\n", first + 1) if first >= 0 else -1
    return b"coding" not in (data if second < 0 else data[:second])


_PARSE_LOCK = threading.Lock()
_T = TypeVar("_T")


def ast_parse(text: str) -> ast.Module | Unparseable:
    """ast.parse, with every way it can fail on garbage turned into a reason."""
    return _parsing(ast.parse, text)


def _syntax_error(text: str) -> Unparseable | None:
    """Why ``import`` would refuse ``text``, or None; the caller holds ``_quiet``.

    It is compiled (never run): the parser and symtable alone miss what only the compiler refuses,
    such as a keyword argument given twice (a bad merge of a multi-line call), a bare ``except:``
    before another, or an unreachable ``case``.
    """
    result = _attempt(_compile, text)
    return result if isinstance(result, Unparseable) else None


def _compile(text: str) -> None:
    compile(text, "<revision>", "exec", dont_inherit=True)  # compiled, never run


def _parsing(parse: Callable[[str], _T], text: str) -> _T | Unparseable:
    with _quiet():
        return _attempt(parse, text)


class _quiet:
    """Warnings off while parsing: invalid escape sequences (say, a regex in op.execute SQL) warn,
    and under ``-W error`` that would turn a fine file into a "syntax error". catch_warnings swaps
    process-wide state, so concurrent parses take turns. (A class, not a generator: it is entered
    once per file.)"""

    __slots__ = ("_caught",)

    def __enter__(self) -> None:
        _PARSE_LOCK.acquire()
        try:
            self._caught = warnings.catch_warnings()
            self._caught.__enter__()
            warnings.simplefilter("ignore")
        except BaseException:
            _PARSE_LOCK.release()
            raise

    def __exit__(self, *exc: Any) -> None:
        try:
            self._caught.__exit__(*exc)
        finally:
            _PARSE_LOCK.release()


def _attempt(parse: Callable[[str], _T], text: str) -> _T | Unparseable:
    """``parse(text)``, with every way it can fail on garbage turned into a reason."""
    try:
        return parse(text)
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


#: Where the module's functions start: ``def``, ``async def``, ``class`` or a decorator at column 0
#: (str.find on these is ten times faster than a multi-line regex over each file).
_DEFINITION_STARTS = ("\ndef ", "\nasync ", "\nclass ", "\n@")
#: ``down_revision`` contains ``revision``: three substrings find every ID variable's name.
_ID_NAMES = ("revision", "branch_labels", "depends_on")


def _first_definition(text: str) -> int:
    """Offset of the first line starting a definition, or -1; any line start would be a correct cut."""
    best = -1
    for start in _DEFINITION_STARTS:  # each search stops where the best so far starts
        at = text.find(start, 0, best if best >= 0 else len(text))
        if at >= 0:
            best = at
    return best + 1 if best >= 0 else -1


#: Statements that hold no block, no scope and no code only the compiler checks (beyond a repeated
#: keyword argument, looked for separately), unless they name one of ``_HEAD_RISKS``.
_PLAIN_STATEMENTS = (ast.Expr, ast.Import, ast.ImportFrom, ast.Assign, ast.AnnAssign, ast.Pass)
_HEAD_RISKS = ("yield", "await", "async", "lambda", ":=", "__debug__", "__future__", "*")
#: Declarations that tie a module's head to its functions (``global x`` after ``x = 1``).
_SCOPE_WORDS = ("global", "nonlocal")


def _checked_statements(text: str) -> list[ast.stmt] | Unparseable:
    """The module's top-level statements that can hold its docstring and ID variables, once the whole
    module is known to compile as ``import`` would compile it; else why it does not.

    Those statements come before ``def upgrade()`` in every template, so when the rest never names an
    ID variable, only that head is turned into an AST. A cut inside an open string, bracket or
    continued line never parses, so a head that parses holds exactly the module's first statements.
    When those are plain (``_PLAIN_STATEMENTS``, no ``_HEAD_RISKS``, no keyword given twice) the
    parse was their whole check, and only the rest is compiled, on its own lines so that an error
    names the same line (the head is about a fifth of a file). Otherwise the whole module is.
    """
    with _quiet():  # once for both passes
        return _checked(text)


def _checked(text: str) -> list[ast.stmt] | Unparseable:
    head: ast.Module | None = None
    cut = _first_definition(text)
    if cut > 0 and not any(text.find(name, cut) >= 0 for name in _ID_NAMES):
        head_text = text[:cut]
        parsed = _attempt(ast.parse, head_text)
        if not isinstance(parsed, Unparseable):
            head = parsed
            if _plain(head_text, head) and not any(word in text for word in _SCOPE_WORDS):
                lines = head_text.count("\n") + head_text.count("\r") - head_text.count("\r\n")
                broken = _syntax_error("\n" * lines + text[cut:])
                return broken if broken is not None else head.body
    broken = _syntax_error(text)
    if broken is not None:
        return broken
    if head is not None:
        return head.body
    tree = _attempt(ast.parse, text)
    return tree if isinstance(tree, Unparseable) else tree.body


def _plain(head_text: str, head: ast.Module) -> bool:
    """Whether parsing ``head`` was the whole of what compiling it checks."""
    if not all(isinstance(stmt, _PLAIN_STATEMENTS) for stmt in head.body):
        return False
    if any(word in head_text for word in _HEAD_RISKS):
        return False
    if "(" in head_text:  # only a call can repeat a keyword argument ("keyword argument repeated")
        for node in ast.walk(head):
            if isinstance(node, ast.Call):
                names = [k.arg for k in node.keywords if k.arg is not None]
                if len(names) != len(set(names)):
                    return False
    return True


def _module_assignments(statements: list[ast.stmt]) -> tuple[dict[str, list[ast.expr]], dict[str, int]]:
    """Value nodes assigned to the ID variables by top-level statements, in source order, and the
    index of the statement holding each variable's last assignment (what its value is read after)."""
    found: dict[str, list[ast.expr]] = {var: [] for var in _ID_VARS}
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


_NOT_LITERAL = object()


_CONTAINERS: dict[type, type] = {ast.Tuple: tuple, ast.List: list, ast.Set: set}


def _literal(node: ast.expr) -> object:
    """ast.literal_eval semantics on a node, or _NOT_LITERAL; nothing is ever evaluated.

    Constants and flat tuples, lists and sets of constants (every ID variable ever written) are
    read here: each literal_eval call builds closures that refer to each other, garbage that only
    the cycle collector frees, and a scan runs with it off (44 objects a file; the parse was 10%
    slower with them piling up).
    """
    if type(node) is ast.Constant:
        return node.value
    container = _CONTAINERS.get(type(node))
    if container is not None and all(type(item) is ast.Constant for item in node.elts):  # type: ignore[attr-defined]
        return container(item.value for item in node.elts)  # type: ignore[attr-defined]
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError, AttributeError):
        return _NOT_LITERAL


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
    value = _literal(node)
    if value is _NOT_LITERAL:
        try:
            return ("expr", ast.dump(node))
        except RecursionError:  # nested deeper than ast.dump can walk: compare by position only
            return ("expr", (node.lineno, node.col_offset))
    return ("literal", value)


def _snippet(node: ast.expr) -> str:
    try:
        text = ast.unparse(node)
    except Exception:  # RecursionError on a value nested deeper than unparse can walk
        return "an expression nested too deeply to show"
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
        raise _NotReadable(f"revision is not a string literal ({type(value).__name__}, line {node.lineno})")
    if not value.strip():
        raise _NotReadable(f"revision is an empty string (line {node.lineno})")
    refused = sorted(set(value) & _ALEMBIC_REFUSES)
    if refused:  # alembic.script.revision.RevisionMap's own check and wording
        raise _NotReadable(
            f"Character(s) '{', '.join(refused)}' not allowed in revision identifier '{value}' (as Alembic says)"
        )
    return value


#: Characters Alembic refuses in a revision identifier (they are its revision-spec operators).
_ALEMBIC_REFUSES = frozenset("@-+")


def _read_ids(
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
    (:func:`_evaluate`); what stays unknown is returned as ``(var, reference)`` pairs, except for
    ``down_revision``, whose parents a chain cannot do without.
    """
    node = _single(var, assigns[var], required)
    if node is None:
        return (), ()
    value = _literal(node)
    if value is _NOT_LITERAL:
        value = _evaluate(node, _bindings(statements[: last[var]]))
    ids, unread = _ids(var, value, node)
    if unread and var == "down_revision":
        refs = [item.text for item in unread if isinstance(item, _Reference)]
        named = f" (names {refs[0]})" if refs else ""
        raise _NotReadable(f"{var} is not a literal (line {node.lineno}): {_snippet(node)}{named}")
    return ids, tuple((var, item.text) for item in unread)


def _ids(var: str, value: object, node: ast.expr) -> tuple[tuple[str, ...], list[_Unknown]]:
    """IDs in a value read by :func:`_literal` or :func:`_evaluate`, and what was left unread."""
    if isinstance(value, _Unknown):
        return (), [value]
    if value is None or value == "":
        return (), []
    if isinstance(value, str):
        return (value,), []
    if isinstance(value, (tuple, list, set, frozenset)):
        items: list[str] = []
        unread: list[_Unknown] = []
        for item in value:
            if isinstance(item, _Unknown):
                unread.append(item)
            elif not isinstance(item, str):
                raise _NotReadable(f"{var} contains a non-string ({type(item).__name__}, line {node.lineno})")
            elif item:
                items.append(item)
        if isinstance(value, (set, frozenset)):
            items.sort()
            unread.sort(key=lambda item: item.text)
        return tuple(items), unread
    raise _NotReadable(f"{var} is not a string or sequence of strings ({type(value).__name__}, line {node.lineno})")


# --------------------------------------------------------------------------- module constants


@dataclass(frozen=True)
class _Unknown:
    """A value this module cannot read: ``text`` is a dotted reference or the expression as written."""

    text: str


@dataclass(frozen=True)
class _Reference(_Unknown):
    """A name bound by an import: ``text`` is the dotted name it refers to (leading dots if relative),
    or strings and such names joined by ``+`` (``'neutron-' + neutron.db.migration.cli.EXPAND_BRANCH``)."""


#: A name bound where its value cannot be followed (inside a block, by unpacking, a def, ``del``).
_UNBOUND = _Unknown("")
#: How deep :func:`_evaluate` follows tuples in tuples (Alembic wants flat ones).
_MAX_DEPTH = 32


def _bindings(statements: Sequence[ast.stmt], *, declares_global: bool = True) -> dict[str, object]:
    """Module-level names after ``statements`` run, as far as can be seen without running them:
    a literal (or a tuple of literals and references), a :class:`_Reference` for an import, or
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
                env[alias.asname] = _Reference(alias.name)
            else:  # ``import a.b.c`` binds ``a``
                head = alias.name.split(".")[0]
                env[head] = _Reference(head)
        return
    if isinstance(stmt, ast.ImportFrom):
        base = "." * stmt.level + (f"{stmt.module}." if stmt.module else "")
        for alias in stmt.names:
            if alias.name != "*":  # what a star import binds is not known here
                env[alias.asname or alias.name] = _Reference(base + alias.name)
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
        value = _evaluate(stmt.value, env)  # type: ignore[attr-defined]
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
        elif isinstance(node, (ast.Global, ast.Nonlocal, _Unread)):
            names.update(node.names)
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            names.add(node.rest)
    return names


def _evaluate(node: ast.expr, env: dict[str, object], depth: int = 0) -> object:
    """The value of ``node`` given module-level ``env``: a literal, a :class:`_Reference` to an
    imported name, an :class:`_Unknown`, or a tuple / list / set of those. Nothing is run."""
    value = _literal(node)
    if value is not _NOT_LITERAL:
        return value
    if isinstance(node, ast.Name):
        bound = env.get(node.id, _UNBOUND)
        # a name whose value is unknown is reported as written; one bound by an import, as its reference
        return _Unknown(node.id) if type(bound) is _Unknown else bound
    if isinstance(node, ast.Attribute):
        path = _dotted(node)
        if path is not None:
            head, _, rest = path.partition(".")
            bound = env.get(head)
            if isinstance(bound, _Reference):
                return _Reference(f"{bound.text}.{rest}")
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and depth < _MAX_DEPTH:
        # ``'neutron-' + cli.EXPAND_BRANCH``: a reference still, as an expression of strings and names
        parts = [_evaluate(node.left, env, depth + 1), _evaluate(node.right, env, depth + 1)]
        if any(isinstance(part, _Reference) for part in parts) and all(
            isinstance(part, (str, _Reference)) for part in parts
        ):
            return _Reference(" + ".join(part.text if isinstance(part, _Reference) else repr(part) for part in parts))
    elif type(node) in _CONTAINERS and depth < _MAX_DEPTH:
        elts = node.elts  # type: ignore[attr-defined]
        if not any(isinstance(elt, ast.Starred) for elt in elts):
            items = [_evaluate(elt, env, depth + 1) for elt in elts]
            try:
                return _CONTAINERS[type(node)](items)
            except TypeError:  # an unhashable item in a set: Python would refuse it too
                pass
    return _Unknown(_snippet(node))


def _dotted(node: ast.expr) -> str | None:
    """``a.b.c`` for a chain of attributes on a name, else None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


# --------------------------------------------------------------------------- Python 2 files


class _Unread(ast.stmt):
    """Stands for a line the Python 2 read could not parse: the names in it may be bound there."""

    _fields = ("names",)

    def __init__(self, names: list[str]) -> None:
        super().__init__()
        self.names = names


#: A Python 2 source token: strings (any prefix, ``ur`` too), comments, line ends, continuations,
#: names, numbers (``0777``, ``10L``), the operators that matter, and any other single character.
_PY2_TOKEN = re.compile(
    r"(?P<string>[uUbBrRfF]{0,2}(?:"
    r"'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'(?:[^'\\\r\n]|\\(?:\r\n|.))*'"
    r'|"(?:[^"\\\r\n]|\\(?:\r\n|.))*"))'
    r"|(?P<comment>#[^\r\n]*)|(?P<newline>\r\n|\r|\n)|(?P<continuation>\\(?:\r\n|\r|\n))"
    r"|(?P<space>[ \t\f]+)|(?P<name>[^\W\d]\w*)|(?P<number>\.?\d[\w.]*)"
    r"|(?P<op><>|>>|[=!<>]=|[\[\](){}:;,`=])|(?P<other>.)",
    re.DOTALL,
)
_SYNTAX_ERROR_LINE = re.compile(r"syntax error at line (\d+):")
#: Numbers Python 3 refuses: an old octal (``0777``) or a long (``10L``, ``0x1fL``).
_PY2_NUMBER = re.compile(r"0[0-7]*[1-7][0-7]*[lL]?|(?:0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)[lL]")
_OPEN, _CLOSE = "([{", ")]}"
_BLOCK_WORDS = frozenset(
    ("def", "class", "if", "elif", "else", "for", "while", "try", "except", "finally", "with", "async", "@")
)


@dataclass
class _LogicalLine:
    start: int  # offsets in the text
    end: int
    first: int  # 1-based lines
    last: int
    top: bool  # starts at column 0: a module-level statement
    tokens: list[tuple[str, str, int]]  # (kind, text, bracket depth)


def _python2_statements(text: str, reason: str) -> list[ast.stmt] | None:
    """The module-level statements of a file Python 3 refuses because it is Python 2, else None.

    Only when the line ``reason`` names (a syntax error) holds Python 2 syntax: a ``print`` or
    ``exec`` statement, ``except E, e``, ``raise E, "msg"``, a ``ur''`` string, backticks, ``<>``,
    an old octal or a long literal. Each column-0 statement is then parsed on its own; one that does
    not parse becomes an ``_Unread`` naming what it may bind. Parsed, never run.
    """
    at = _SYNTAX_ERROR_LINE.match(reason)
    if at is None:
        return None
    lines = _logical_lines(text)
    if lines is None:
        return None
    error_line = int(at.group(1))
    if not any(line.first <= error_line <= line.last and _python2_syntax(line.tokens) for line in lines):
        return None
    statements: list[ast.stmt] = []
    with _quiet():
        for line in lines:
            simple = line.top and line.tokens[0][1] not in _BLOCK_WORDS  # a block's head never parses alone
            parsed = _attempt(ast.parse, text[line.start : line.end]) if simple else None
            if isinstance(parsed, ast.Module):
                ast.increment_lineno(parsed, line.first - 1)
                statements.extend(parsed.body)
            else:
                statements.append(_Unread([token for kind, token, _ in line.tokens if kind == "name"]))
    return statements


def _logical_lines(text: str) -> list[_LogicalLine] | None:
    """The file's statements as Python's tokenizer joins lines; None for an unclosed string or bracket."""
    lines: list[_LogicalLine] = []
    current: _LogicalLine | None = None
    depth = 0
    line_no = 1
    line_start = 0
    for match in _PY2_TOKEN.finditer(text):
        kind, token = match.lastgroup or "other", match.group()
        if kind in ("space", "comment"):
            continue
        if kind in ("newline", "continuation"):
            line_no += 1
            line_start = match.end()
            if kind == "newline" and depth == 0 and current is not None:
                current.end = match.start()
                lines.append(current)
                current = None
            continue
        if kind == "other" and token in "'\"":
            return None  # a string that never ends
        if current is None:
            start = match.start()
            current = _LogicalLine(start, len(text), line_no, line_no, start == line_start, [])
        if kind == "op" and token in _CLOSE:
            depth -= 1
            if depth < 0:
                return None
        current.tokens.append((kind, token, depth))
        if kind == "op" and token in _OPEN:
            depth += 1
        if kind == "string":
            line_no += token.count("\n") + token.count("\r") - token.count("\r\n")
        current.last = line_no
    if depth:
        return None
    if current is not None:
        lines.append(current)
    return lines


def _python2_syntax(tokens: list[tuple[str, str, int]]) -> bool:
    """Whether a logical line holds syntax only Python 2 reads."""
    ticks = sum(1 for _kind, token, _depth in tokens if token == "`")
    if ticks and ticks % 2 == 0:  # `x` is Python 2's repr; a lone backtick is no Python at all
        return True
    starts = True  # at the start of a statement
    keyword = ""  # the statement's first word
    comma = False  # a comma outside brackets since it
    for at, (kind, token, depth) in enumerate(tokens):
        if kind == "string" and token[:2].lower() == "ur":
            return True
        if token == "<>" or (kind == "number" and _PY2_NUMBER.fullmatch(token)):
            return True
        if starts:
            keyword, comma = token, False
            following = tokens[at + 1] if at + 1 < len(tokens) else None
            if (
                token in ("print", "exec")
                and following is not None
                and (following[0] in ("string", "name", "number") or following[1] == ">>")
            ):
                return True
        elif depth == 0 and token == ",":
            comma = True
            if keyword == "raise":
                return True
        elif depth == 0 and token == ":" and keyword == "except" and comma:
            return True
        starts = depth == 0 and token in (":", ";")
    return False


# --------------------------------------------------------------------------- docstring header

_HEADER_RE = re.compile(r"^[ \t]*(Revision ID|Revises|Create Date)[ \t]*:[ \t]*(.*?)[ \t]*$", re.IGNORECASE)
_HEADER_KEYS = {"revision id": "revision", "revises": "revises", "create date": "create_date"}


def _module_docstring(statements: list[ast.stmt]) -> str | None:
    if statements:
        first = statements[0]
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
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


# --------------------------------------------------------------------------- line numbers


def assignment_lines(data: bytes) -> dict[str, int]:
    """1-based lines to point a reader at: each ID variable's first module-level assignment
    (``revision``, ``down_revision``, ``branch_labels``, ``depends_on``) and the docstring's
    header lines (``Revision ID``, ``Revises``, ``Create Date``, as the template spells them).

    For CI annotations on the line to edit; parsed, never executed. Empty when the file does not parse.
    """
    decoded = decode(bytes(data))
    if isinstance(decoded, Unparseable):
        return {}
    text, _encoding = decoded
    tree = ast_parse(text)
    if isinstance(tree, Unparseable):
        older = _python2_statements(text, tree.reason)  # a Python 2 file: its module-level lines
        if older is None:
            return {}
        tree = ast.Module(body=older, type_ignores=[])
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
    doc = tree.body[0] if tree.body and _module_docstring(tree.body) is not None else None
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
    decoded = decode(bytes(data))
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
