"""A revision file rebuilt from a ``.pyc``'s bytes when the ``.py`` itself is gone.

A deleted revision often survives as bytecode. This module rebuilds Python source from it
*without executing anything*: the header is parsed by hand, and only bytecode of the running
interpreter's own version is ``marshal.loads``-ed (that merely builds code objects, which are then
read with :mod:`dis`, never run). Alembic migrations are straight-line call trees, so a small stack
machine over the instructions rebuilds them; anything it does not understand is left as an
explicit ``raise NotImplementedError(...)`` body and reported. Every rebuild is verified by
*compiling* the result (never running it) and comparing the code objects with the original.
"""

from __future__ import annotations

import ast
import hashlib
import marshal
import types
from dataclasses import dataclass

from migration_archaeologist.parse.revision import Unparseable
from migration_archaeologist.sources.bytecode.code_objects import function_code, module_stores
from migration_archaeologist.sources.bytecode.fallback import fallback_module
from migration_archaeologist.sources.bytecode.header import (
    CURRENT_MAGIC,
    CURRENT_PYTHON,
    HEADER_SIZE,
    header_summary,
    magic_of,
    read_header,
)
from migration_archaeologist.sources.bytecode.layout import format_module
from migration_archaeologist.sources.bytecode.stack_values import GiveUp
from migration_archaeologist.sources.bytecode.statements import Rebuilder
from migration_archaeologist.sources.bytecode.verification import compare_code


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


def _rebuild(data: bytes, pyc_name: str) -> Rebuilt | Unparseable:
    magic = magic_of(data)
    if magic is None:
        return Unparseable("not a .pyc (bad magic number)", None)
    header = read_header(data)
    if header is None:
        return Unparseable(f"truncated .pyc: {len(data)} bytes, shorter than its header", None)
    if magic != CURRENT_MAGIC:
        if header.python is None:
            return Unparseable(f"bytecode of an unknown Python (magic {magic}): header read, body not rebuilt", None)
        return Unparseable(
            f"bytecode of Python {header.python} (magic {magic}): rebuild the body with Python"
            f" {header.python}; only the header can be read here ({header_summary(header)})",
            None,
        )
    try:
        module = marshal.loads(data[HEADER_SIZE:])
    except (EOFError, ValueError, TypeError) as exc:
        return Unparseable(f"truncated or corrupt .pyc body: {exc}", None)
    if not isinstance(module, types.CodeType):
        return Unparseable("not a .pyc of a module (body is not a code object)", None)
    stored = module_stores(module)
    if "revision" not in stored or "down_revision" not in stored:
        return Unparseable(f"{NOT_A_REVISION} (no module-level revision/down_revision)", None)

    differences: list[str] = []
    given_up: set[str] = set()
    try:
        tree = Rebuilder(module, given_up=given_up, differences=differences).module()
        module_level = True
    except GiveUp as exc:
        differences.append(f"module: not rebuilt ({exc}); kept docstring, identifiers and functions")
        tree = fallback_module(module, given_up, differences)
        module_level = False
    body = format_module(ast.fix_missing_locations(tree))

    try:
        recompiled = compile(body, pyc_name, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        differences.append(f"rebuilt source does not compile: {exc}")
        recompiled = None
    if recompiled is not None:
        if module_level:
            compare_code(module, recompiled, "module", given_up, differences)
        else:
            for name in ("upgrade", "downgrade"):
                old, new = function_code(module, name), function_code(recompiled, name)
                if old is not None and new is not None:
                    compare_code(old, new, f"{name}()", given_up, differences)
    complete = not differences
    digest = hashlib.sha256(data).hexdigest()
    lines = [
        f"# Reconstructed from bytecode by migration-archaeologist: {_one_line(pyc_name)}",
        f"# sha256 of the .pyc: {digest}",
        f"# Python {header.python} bytecode (magic {magic}), {header_summary(header)}.",
        "# Comments and formatting of the original are lost; "
        + (
            "compiling this file gives the same bytecode."
            if complete
            else f"INCOMPLETE: {len(differences)} difference(s) from the bytecode, see below."
        ),
    ]
    lines += [f"#   {_one_line(d)}" for d in differences]
    source = ("\n".join(lines) + "\n" + body).encode("utf-8")
    return Rebuilt(source, complete, tuple(differences), header.python or CURRENT_PYTHON)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())
