"""docs/exit-codes.md is checked against the code, both ways (issue 8, point 5).

1. The codes table lists exactly the exit codes the code defines (``EXIT_*`` in errors.py and
   cli.py, and the literal codes ``main()`` exits with), under their names.
2. Every message the code can end a command with is a row of the messages table, with its exit
   code. Messages are read from the source with ``ast``: the first argument of every construction
   of an error class (a subclass of ArchaeologistError, found in src; its exit code is its
   ``exit_code``, inherited), as a template whose variable parts (f-string placeholders, names
   that are not string constants) are wildcards; and the lines ``main()`` prints for internal
   errors and Ctrl-C.
3. Every row of the messages table is a message of the code: an ``error:`` row must be matched by
   an error template with the same exit code, any other row by some string of the code; and the
   words the row spells out where the code has a variable part must be words of the code's strings,
   so a row cannot outlive a rewording by hiding behind a generic template.

A code template matches a doc row when, as a regex (literal text exact, wildcards ``.*?``), it
matches the whole row with each ``<...>`` (and ``…``) of the row replaced by one placeholder
character, which only a wildcard can match: the doc may name variable parts as it likes, but may
not put a placeholder where the code has fixed text.
"""

from __future__ import annotations

import ast
import itertools
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "migration_archaeologist"
DOC = ROOT / "docs" / "exit-codes.md"

WILD = "\x00"  # a variable part: a code placeholder, or a doc <...>
BASE_ERROR = "ArchaeologistError"
#: constructions whose message is not a template of their own, and where their text is checked instead
PASS_THROUGH = {
    # the replay child's environment/driver error, passed on verbatim: its texts are collected from
    # _replay_child.py by _child_messages()
    ("database/replay.py", "EnvironmentProblem", "error"),
}
#: rows about text that is not ours, so not in src
THIRD_PARTY = (
    "Invalid value for ",  # Typer/Click's own usage error (exit 2, asserted below)
)


@dataclass(frozen=True)
class Template:
    text: str  # literal text, WILD for each variable part
    code: int | None  # exit code; None for strings that are not errors
    where: str

    def regex(self) -> re.Pattern[str]:
        return _regex(self.text)

    @property
    def letters(self) -> int:
        return sum(ch.isalpha() for ch in self.text)


# --------------------------------------------------------------------------- reading the code


@lru_cache(maxsize=None)
def _modules() -> dict[str, ast.Module]:
    return {p.relative_to(SRC).as_posix(): ast.parse(p.read_text(encoding="utf-8"), str(p))
            for p in sorted(SRC.rglob("*.py"))}


def _constants(tree: ast.Module) -> dict[str, object]:
    """Module-level ``NAME = <literal>``."""
    out: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                out[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    return out


def _exit_constants() -> dict[str, int]:
    found = {}
    for rel in ("errors.py", "cli/entry.py"):
        found.update({k: v for k, v in _constants(_modules()[rel]).items() if k.startswith("EXIT_") and isinstance(v, int)})
    return found


def _error_classes() -> dict[str, int]:
    """Every subclass of ArchaeologistError in src -> its exit code (own ``exit_code`` or inherited)."""
    exits = _exit_constants()
    bases: dict[str, str] = {}
    own: dict[str, int] = {}
    for tree in _modules().values():
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            names = [b.id if isinstance(b, ast.Name) else b.attr for b in node.bases if isinstance(b, (ast.Name, ast.Attribute))]
            assert node.name not in bases, f"two classes named {node.name}: the test resolves classes by name"
            bases[node.name] = names[0] if names else ""
            for stmt in node.body:
                if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "exit_code" for t in stmt.targets):
                    value = stmt.value
                    own[node.name] = exits[value.id] if isinstance(value, ast.Name) else ast.literal_eval(value)
    classes = {}
    for name in bases:
        chain, cls = [], name
        while cls in bases and cls != BASE_ERROR:
            chain.append(cls)
            cls = bases[cls]
        if cls == BASE_ERROR:
            chain.append(BASE_ERROR)
            classes[name] = next(own[c] for c in chain if c in own)
    return classes


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}


class _Templates:
    """String templates of an expression: literal text kept, everything variable a WILD."""

    def __init__(self, tree: ast.Module) -> None:
        self.tree = tree
        self.parents = _parents(tree)
        self.constants = {k: v for k, v in _constants(tree).items() if isinstance(v, str)}
        self.functions = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}

    def _assigned(self, name: str, at: ast.AST) -> list[ast.expr]:
        """Values assigned to ``name`` in the function around ``at`` (or the module)."""
        scope: ast.AST | None = at
        while scope is not None and not isinstance(scope, (ast.FunctionDef, ast.Module)):
            scope = self.parents.get(scope)
        values = []
        for node in ast.walk(scope or self.tree):
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                values.append(node.value)
        return values

    def of(self, node: ast.expr, depth: int = 0) -> list[str]:
        if depth > 6:
            return [WILD]
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node.value]
        if isinstance(node, ast.JoinedStr):
            parts = []
            for value in node.values:
                if isinstance(value, ast.Constant):
                    parts.append([value.value])
                elif (isinstance(value, ast.FormattedValue) and isinstance(value.value, ast.Name) and value.conversion == -1
                      and value.format_spec is None and value.value.id in self.constants):
                    parts.append([self.constants[value.value.id]])  # {_SCRATCH_HINT}: a constant, not a variable
                else:
                    parts.append([WILD])
            return ["".join(p) for p in itertools.product(*parts)]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return [a + b for a in self.of(node.left, depth + 1) for b in self.of(node.right, depth + 1)]
        if isinstance(node, ast.IfExp):
            return self.of(node.body, depth + 1) + self.of(node.orelse, depth + 1)
        if isinstance(node, ast.Name):
            if node.id in self.constants:
                return [self.constants[node.id]]
            values = self._assigned(node.id, node)
            return [t for v in values for t in self.of(v, depth + 1)] if values else [WILD]
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in ("scrub", "_scrub") and node.args:
                return self.of(node.args[0], depth + 1)  # the message, passwords removed
            if isinstance(func, ast.Attribute) and func.attr == "join" and node.args:
                arg = node.args[0]  # '; '.join(f(x) for x in ...): one item stands for the list
                return self.of(arg.elt, depth + 1) if isinstance(arg, (ast.GeneratorExp, ast.ListComp)) else [WILD]
            if isinstance(func, ast.Name) and func.id in self.functions:
                returns = [n.value for n in ast.walk(self.functions[func.id]) if isinstance(n, ast.Return) and n.value]
                return [t for r in returns for t in self.of(r, depth + 1)] or [WILD]
        return [WILD]


@lru_cache(maxsize=None)
def _regex(text: str) -> re.Pattern[str]:
    return re.compile("".join(".*?" if part == WILD else re.escape(part) for part in re.split(f"({WILD})", text) if part), re.S)


@lru_cache(maxsize=None)
def _templates_of(rel: str) -> _Templates:
    return _Templates(_modules()[rel])


def _squash(text: str) -> str:
    text = re.sub(f"{WILD}+", WILD, text)
    return re.sub(r"\s+", " ", text).strip()


@lru_cache(maxsize=None)
def error_templates() -> tuple[Template, ...]:
    """The message of every construction of an error class in src, with its exit code."""
    classes = _error_classes()
    out: list[Template] = []
    for rel, tree in _modules().items():
        templates = _templates_of(rel)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            if name not in classes or not node.args:
                continue
            where = f"{rel}:{node.lineno}"
            texts = {_squash(t) for t in templates.of(node.args[0])}
            if texts == {WILD}:
                key = (rel, name, ast.unparse(node.args[0]))
                assert key in PASS_THROUGH, f"{where}: {name}({key[2]}): a message the test cannot read; see PASS_THROUGH"
                continue
            for text in texts:
                out.append(Template(text, classes[name], where))
    out += _child_messages(classes)
    return tuple(out)


def _child_messages(classes: dict[str, int]) -> list[Template]:
    """The replay child's environment and driver errors, which replay.py raises as EnvironmentProblem."""
    rel = "database/_replay_child.py"
    tree = _modules()[rel]
    templates = _templates_of(rel)
    out = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr == "report_error" and len(node.args) == 2:
            kind, message = node.args
        elif node.func.attr == "emit" and node.args and isinstance(node.args[0], ast.Constant) and node.args[0].value == "error":
            keywords = {k.arg: k.value for k in node.keywords}
            kind, message = keywords.get("kind"), keywords.get("error")
        else:
            continue
        if isinstance(kind, ast.Constant) and kind.value in ("environment", "driver") and message is not None:
            out += [Template(_squash(t), classes["EnvironmentProblem"], f"{rel}:{node.lineno}") for t in templates.of(message)]
    assert out, "no environment errors found in the replay child: has the protocol changed?"
    return out


def _main_handlers() -> list[tuple[str, object]]:
    """(printed template, exit code expression) for each ``except`` of cli.main()."""
    tree = _modules()["cli/entry.py"]
    main = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main")
    templates = _templates_of("cli/entry.py")
    constants = _constants(tree) | _exit_constants()
    handlers = []
    for handler in (h for n in ast.walk(main) if isinstance(n, ast.Try) for h in n.handlers):
        printed = [c for c in ast.walk(handler) if isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute)
                   and c.func.attr == "print"]
        exits = [c for c in ast.walk(handler) if isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute)
                 and c.func.attr == "exit"]
        if not printed or not exits:
            continue  # the MA_DEBUG re-raise
        (text,) = templates.of(printed[0].args[0])
        text = _squash(re.sub(r"\[/?[a-z][a-z ]*\]", "", text))  # Rich markup is not printed
        arg = exits[0].args[0]
        code = (arg.value if isinstance(arg, ast.Constant) else constants[arg.id] if isinstance(arg, ast.Name)
                else ast.unparse(arg))
        handlers.append((text, code))
    return handlers


@lru_cache(maxsize=None)
def all_strings() -> tuple[Template, ...]:
    """Every string the code builds (not docstrings), markup removed: for rows that are not errors."""
    out = []
    for rel, tree in _modules().items():
        templates = _templates_of(rel)
        parents = templates.parents
        for node in ast.walk(tree):
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
                if isinstance(parents.get(node), ast.BinOp):
                    continue  # a part of a longer sum, which is taken whole
            elif isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                if isinstance(parents.get(node), (ast.Expr, ast.JoinedStr)):
                    continue  # a docstring, or a part of an f-string (the f-string itself is taken)
            else:
                continue
            for text in templates.of(node):
                out.append(Template(_squash(re.sub(r"\[/?[a-z][a-z ]*\]", "", text)), None, f"{rel}:{node.lineno}"))
    return tuple(out)


@lru_cache(maxsize=None)
def vocabulary() -> frozenset[str]:
    return frozenset(w.lower() for t in all_strings() for w in _words(t.text))


def _words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z][A-Za-z_]{3,}", text.replace(WILD, " "))


# --------------------------------------------------------------------------- reading the doc


def _doc_sections() -> tuple[str, str]:
    text = DOC.read_text(encoding="utf-8")
    codes, sep, messages = text.partition("Messages, by code")
    assert sep, "docs/exit-codes.md lost its 'Messages, by code' table"
    return codes, messages


def doc_codes() -> dict[int, str]:
    codes, _ = _doc_sections()
    rows = re.findall(r"^\|\s*(\d+)\s*\|\s*([^|]+?)\s*\|", codes, re.M)
    table = {int(code): name for code, name in rows}
    assert len(table) == len(rows), "an exit code is listed twice"
    return table


@dataclass(frozen=True)
class Row:
    code: int
    message: str  # as printed, variable parts as WILD; without the "error: " prefix
    error: bool  # printed as "error: ..."
    line: str


def doc_rows() -> list[Row]:
    _, messages = _doc_sections()
    rows = []
    for line in messages.splitlines():
        m = re.match(r"^\|\s*(\d+)\s*\|\s*`([^`]+)`", line)
        if m is None:
            assert not re.match(r"^\|\s*\d", line), f"a messages row without a `message`: {line}"
            continue
        text = re.sub(r"<[^<>]*>|…", WILD, m.group(2))
        error = text.startswith("error: ")
        rows.append(Row(int(m.group(1)), _squash(text.removeprefix("error: ")), error, line))
    return rows


def _matches(template: Template, row: Row) -> re.Match[str] | None:
    return template.regex().fullmatch(row.message)


def _unexplained_words(template: Template, row: Row) -> list[str]:
    """Words the row spells out where the template has a variable part, that no string of the code has."""
    groups = [("(.*?)" if part == WILD else re.escape(part)) for part in re.split(f"({WILD})", template.text) if part]
    match = re.fullmatch("".join(groups), row.message, re.S)
    assert match is not None
    vocab = vocabulary()
    return [w for taken in match.groups() for w in _words(taken) if w.lower() not in vocab]


# --------------------------------------------------------------------------- the checks


def test_codes_table_is_the_codes_of_the_code() -> None:
    import typer

    constants = _exit_constants()
    handlers = _main_handlers()
    literal = {code for _text, code in handlers if isinstance(code, int)}
    in_code = {value: name.removeprefix("EXIT_").lower() for name, value in constants.items()}
    interrupted = [text for text, code in handlers if code == 130]
    assert interrupted and interrupted[0].startswith("interrupted"), handlers
    in_code.update({code: "interrupted" for code in literal if code not in in_code})
    assert doc_codes() == in_code, "the codes table of docs/exit-codes.md is not the codes of errors.py and cli.py"
    assert set(_error_classes().values()) <= set(in_code)
    # Typer's own usage errors: exit 2, and worded as the row kept for them says
    assert typer.BadParameter.exit_code == constants["EXIT_USAGE"]
    typer_row = [r for r in doc_rows() if r.message.startswith(THIRD_PARTY)]
    assert [r.code for r in typer_row] == [constants["EXIT_USAGE"]]
    assert typer.BadParameter("x", param_hint="'--format' / '-f'").format_message() == "Invalid value for '--format' / '-f': x"
    # every ArchaeologistError is printed as "error: <message>" and exits with its own code
    assert ("error: " + WILD, "exc.exit_code") in handlers, handlers


def test_every_error_message_of_the_code_is_documented_with_its_exit_code() -> None:
    rows = doc_rows()
    templates = error_templates()
    assert len(templates) > 60, "the reader of the code found too few messages"
    undocumented, wrong_code = [], []
    for t in templates:
        matching = [r for r in rows if r.error and _matches(t, r)]
        if not matching:
            undocumented.append(f"{t.where}: [{t.code}] {t.text.replace(WILD, '<…>')}")
        elif not any(r.code == t.code for r in matching):
            wrong_code.append(f"{t.where}: exit {t.code}, documented as {sorted({r.code for r in matching})}: {matching[0].line}")
    assert not undocumented, "messages missing from docs/exit-codes.md:\n" + "\n".join(undocumented)
    assert not wrong_code, "\n".join(wrong_code)
    # what main() prints itself: internal errors (4) and Ctrl-C (130)
    for text, code in _main_handlers():
        if code == "exc.exit_code":
            continue
        t = Template(text, int(code), "cli.py main()")  # type: ignore[arg-type]
        assert any(r.code == code and not r.error and _matches(t, r) for r in rows), f"main() prints {text!r} (exit {code})"


def test_every_documented_message_is_one_the_code_has() -> None:
    errors = error_templates()
    strings = [t for t in all_strings() if t.letters >= 8]  # not '<…>: <…>' and the like
    handlers = [Template(text, code, "cli.py main()") for text, code in _main_handlers() if isinstance(code, int)]
    stale, reworded = [], []
    rows = doc_rows()
    assert len(rows) > 40
    for row in rows:
        if row.message.startswith(THIRD_PARTY):
            continue
        candidates = ([t for t in errors if t.code == row.code] if row.error
                      else [t for t in handlers if t.code == row.code] + strings)
        matching = [t for t in candidates if _matches(t, row)]
        if not matching:
            stale.append(row.line)
        elif all(_unexplained_words(t, row) for t in matching):
            best = min(matching, key=lambda t: len(_unexplained_words(t, row)))
            reworded.append(f"{row.line}\n    words not in the code: {_unexplained_words(best, row)} (closest: {best.where})")
    assert not stale, "rows of docs/exit-codes.md that no message of the code matches:\n" + "\n".join(stale)
    assert not reworded, "rows whose wording the code no longer has:\n" + "\n".join(reworded)


def test_the_matching_is_strict() -> None:
    """The scheme catches what it is for: a changed word, a missing part, a wrong placeholder."""
    t = Template(f"--pick {WILD}: expected REV=BLOB, e.g. --pick 84456d47e6aa=3f2a9c1", 2, "x")
    ok = Row(2, f"--pick '{WILD}': expected REV=BLOB, e.g. --pick 84456d47e6aa=3f2a9c1", True, "")
    assert _matches(t, ok)
    assert not _matches(t, Row(2, f"--pick {WILD}: expected REV:BLOB, e.g. --pick 84456d47e6aa=3f2a9c1", True, ""))
    assert not _matches(t, Row(2, f"--pick {WILD}: expected REV=BLOB", True, ""))
    assert not _matches(Template("no database: pass --db URL", 2, "x"), Row(2, f"no database: pass --db {WILD}", True, ""))
    generic = Template(f"nothing written: {WILD}: {WILD}", 1, "x")
    row = Row(1, f"nothing written: {WILD}: {WILD} is gone forever and zyxwvut", True, "")
    assert _matches(generic, row) and "zyxwvut" in _unexplained_words(generic, row)
