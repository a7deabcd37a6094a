"""A revision file rebuilt from a ``.pyc``'s bytes when the ``.py`` itself is gone.

A deleted revision often survives as bytecode. This module rebuilds Python source from it
*without executing anything*: the header is parsed by hand; bytecode of the running interpreter's
own version is ``marshal.loads``-ed (that merely builds code objects, read with :mod:`dis`, never
run), bytecode of CPython 3.8-3.13 is read as data by ``marshal_reader`` and listed by
``disassembly``; other versions give their header only. Alembic migrations are straight-line call
trees, so a small stack machine over the instructions rebuilds them; anything it does not
understand is left as an explicit ``raise NotImplementedError(...)`` body and reported. Every
rebuild is verified by *compiling* the result (never running it) with the bytecode's own Python
version (in a child process for another version) and comparing the code objects with the
original; with no interpreter of that version to be found, the file says NOT PROVEN.
"""

from __future__ import annotations

import ast
import hashlib
import marshal
import types
from dataclasses import dataclass
from typing import cast

from migration_archaeologist.parse.revision import Unparseable
from migration_archaeologist.sources.bytecode.code_objects import function_code, module_stores
from migration_archaeologist.sources.bytecode.disassembly import DisassemblyError
from migration_archaeologist.sources.bytecode.fallback import fallback_module
from migration_archaeologist.sources.bytecode.header import (
    CURRENT_MAGIC,
    CURRENT_PYTHON,
    HEADER_SIZE,
    PycHeader,
    header_summary,
    magic_of,
    read_header,
)
from migration_archaeologist.sources.bytecode.instructions import CodeLike
from migration_archaeologist.sources.bytecode.marshal_reader import ForeignCode, MarshalError, loads
from migration_archaeologist.sources.bytecode.opcode_tables import table
from migration_archaeologist.sources.bytecode.layout import format_module
from migration_archaeologist.sources.bytecode.stack_values import GiveUp
from migration_archaeologist.sources.bytecode.statements import Rebuilder
from migration_archaeologist.sources.bytecode.verification import CompileFailed, compare_code, compile_with, find_python


@dataclass(frozen=True)
class Rebuilt:
    """Source rebuilt from bytecode, with the verdict of compiling it back."""

    source: bytes  # the reconstructed revision file, ready to write
    complete: bool  # compiling ``source`` gives the same code objects (see ``compare_code``)
    differences: tuple[str, ...]  # one line per place where it does not
    python: str  # the Python version whose bytecode it is

    @property
    def fidelity(self) -> str:
        """ "bytecode" when the rebuilt file compiles to the same bytecode, else "bytecode-partial"."""
        return "bytecode" if self.complete else "bytecode-partial"


#: rebuild()'s reason for bytecode of a module that is no revision file: nothing to report
NOT_A_REVISION = "not a revision module"


def worth_reporting(failure: Unparseable) -> bool:
    """A rebuild that failed on a revision module (not merely bytecode of some other module)."""
    return not failure.reason.startswith(NOT_A_REVISION)


def rebuild(data: bytes, *, pyc_name: str) -> Rebuilt | Unparseable:
    """Rebuild a revision file from a pyc's bytes; never raises, never executes the bytecode."""
    try:
        return _rebuild(bytes(data), pyc_name)
    except Exception as exc:  # the contract is "never raises": one bad pyc must not abort a run
        return Unparseable(f"internal error rebuilding {pyc_name}: {type(exc).__name__}: {exc}"[:200], None)


def _load(data: bytes) -> tuple[PycHeader, CodeLike] | Unparseable:
    """The header and the module's code object: ours by ``marshal``, 3.8-3.13's by our reader."""
    magic = magic_of(data)
    if magic is None:
        return Unparseable("not a .pyc (bad magic number)", None)
    header = read_header(data)
    if header is None:
        return Unparseable(f"truncated .pyc: {len(data)} bytes, shorter than its header", None)
    module: object
    if magic == CURRENT_MAGIC:
        try:
            module = marshal.loads(data[HEADER_SIZE:])
        except (EOFError, ValueError, TypeError) as exc:
            return Unparseable(f"truncated or corrupt .pyc body: {exc}", None)
    elif header.python is None:
        return Unparseable(f"bytecode of an unknown Python (magic {magic}): header read, body not rebuilt", None)
    elif table(header.python) is None:
        return Unparseable(
            f"bytecode of Python {header.python} (magic {magic}): rebuild the body with Python"
            f" {header.python}; only the header can be read here ({header_summary(header)})",
            None,
        )
    else:
        try:
            module = loads(data[HEADER_SIZE:], header.python)
        except MarshalError as exc:
            return Unparseable(f"truncated or corrupt Python {header.python} .pyc body: {exc}", None)
    if not isinstance(module, (types.CodeType, ForeignCode)):
        return Unparseable("not a .pyc of a module (body is not a code object)", None)
    return header, module


def _rebuild(data: bytes, pyc_name: str) -> Rebuilt | Unparseable:
    loaded = _load(data)
    if isinstance(loaded, Unparseable):
        return loaded
    header, module = loaded
    foreign = isinstance(module, ForeignCode)
    try:
        stored = module_stores(module)
    except DisassemblyError as exc:
        return Unparseable(f"Python {header.python} bytecode that its own dis could not list: {exc}", None)
    if "revision" not in stored or "down_revision" not in stored:
        return Unparseable(f"{NOT_A_REVISION} (no module-level revision/down_revision)", None)

    differences: list[str] = []
    given_up: set[str] = set()
    try:
        tree, module_level = _tree(module, given_up, differences)
    except Exception as exc:
        if not foreign:
            raise
        return Unparseable(
            f"Python {header.python} bytecode read, but not rebuilt: {type(exc).__name__}: {exc}"[:200], None
        )
    body = format_module(ast.fix_missing_locations(tree))
    try:
        unproven = _prove(module, body, pyc_name, module_level, given_up, differences)
    except DisassemblyError as exc:  # a damaged code object the rebuild did not need to read
        differences.append(f"not compared with the bytecode: {exc}")
        unproven = None
    return _rebuilt(data, pyc_name, header, body, differences, unproven)


def _tree(module: CodeLike, given_up: set[str], differences: list[str]) -> tuple[ast.Module, bool]:
    """The rebuilt module, and whether its module level was rebuilt (else by pattern, ``fallback``)."""
    try:
        return Rebuilder(cast(types.CodeType, module), given_up=given_up, differences=differences).module(), True
    except GiveUp as exc:
        differences.append(f"module: not rebuilt ({exc}); kept docstring, identifiers and functions")
        return fallback_module(cast(types.CodeType, module), given_up, differences), False


def _prove(
    module: CodeLike, body: str, pyc_name: str, module_level: bool, given_up: set[str], differences: list[str]
) -> str | None:
    """Compile ``body`` with the bytecode's own Python version and compare; why it is unproven, if so."""
    recompiled: CodeLike | None = None
    if isinstance(module, ForeignCode):
        python = find_python(module.python)
        if python is None:
            return (
                f"not proven: no Python {module.python} found to compile the rebuilt file with"
                " (looked on PATH and in pyenv)"
            )
        try:
            recompiled = compile_with(python, body, pyc_name)
        except CompileFailed as exc:
            differences.append(f"rebuilt source does not compile: {exc}")
    else:
        try:
            recompiled = compile(body, pyc_name, "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as exc:
            differences.append(f"rebuilt source does not compile: {exc}")
    if recompiled is not None:
        if module_level:
            compare_code(module, recompiled, "module", given_up, differences)
        else:
            for name in ("upgrade", "downgrade"):
                old, new = function_code(module, name), function_code(recompiled, name)
                if old is not None and new is not None:
                    compare_code(old, new, f"{name}()", given_up, differences)
    return None


def _rebuilt(
    data: bytes, pyc_name: str, header: PycHeader, body: str, differences: list[str], unproven: str | None
) -> Rebuilt:
    complete = not differences and unproven is None
    digest = hashlib.sha256(data).hexdigest()
    if complete:
        verdict = "compiling this file gives the same bytecode."
    elif unproven is not None:
        verdict = f"NOT PROVEN: no Python {header.python} here to compile it with, see below."
    else:
        verdict = f"INCOMPLETE: {len(differences)} difference(s) from the bytecode, see below."
    notes = ([unproven] if unproven else []) + differences
    lines = [
        f"# Reconstructed from bytecode by migration-archaeologist: {_one_line(pyc_name)}",
        f"# sha256 of the .pyc: {digest}",
        f"# Python {header.python} bytecode (magic {header.magic}), {header_summary(header)}.",
        "# Comments and formatting of the original are lost; " + verdict,
    ]
    lines += [f"#   {_one_line(d)}" for d in notes]
    source = ("\n".join(lines) + "\n" + body).encode("utf-8")
    return Rebuilt(source, complete, tuple(notes), header.python or CURRENT_PYTHON)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())
