"""Names read off compiled code objects: qualified names, module-level stores, functions by name."""

from __future__ import annotations

import sys
import types
from typing import TypeVar, cast

from migration_archaeologist.sources.bytecode.instructions import CodeLike, instructions

C = TypeVar("C", bound=CodeLike)


def is_code(obj: object) -> bool:
    """A code object: the running Python's, or one read from another version's pyc (has ``co_code``)."""
    return isinstance(obj, types.CodeType) or hasattr(obj, "co_code")


def module_stores(code: CodeLike) -> set[str]:
    return {str(i.argval) for i in instructions(code) if i.opname in ("STORE_NAME", "STORE_GLOBAL")}


def function_code(module: C, name: str) -> C | None:
    """The last module-level function code object called ``name`` (a redefinition wins)."""
    found = None
    for const in module.co_consts:
        if is_code(const) and cast(CodeLike, const).co_name == name:
            found = cast(C, const)  # a code constant of a code object is of the same kind
    return found


def qualname(code: CodeLike) -> str:
    """``co_qualname``, new in Python 3.11; on 3.10 the plain name (its comprehensions and nested
    functions are matched by position anyway)."""
    return str(getattr(code, "co_qualname", code.co_name))


def python_of(code: CodeLike) -> tuple[int, int]:
    """Whose bytecode ``code`` is: a foreign code object says (``python``: "3.8"), else the running Python."""
    version = getattr(code, "python", None)
    if isinstance(version, str) and version.count(".") == 1 and version.replace(".", "").isdigit():
        major, minor = version.split(".")
        return int(major), int(minor)
    return sys.version_info[0], sys.version_info[1]
