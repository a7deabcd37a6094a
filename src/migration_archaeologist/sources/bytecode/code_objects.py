"""Names read off compiled code objects: qualified names, module-level stores, functions by name."""

from __future__ import annotations

import dis
import types


def module_stores(code: types.CodeType) -> set[str]:
    return {i.argval for i in dis.get_instructions(code) if i.opname in ("STORE_NAME", "STORE_GLOBAL")}


def function_code(module: types.CodeType, name: str) -> types.CodeType | None:
    """The last module-level function code object called ``name`` (a redefinition wins)."""
    found = None
    for const in module.co_consts:
        if isinstance(const, types.CodeType) and const.co_name == name:
            found = const
    return found


def qualname(code: types.CodeType) -> str:
    """``co_qualname``, new in Python 3.11; on 3.10 the plain name (its comprehensions and nested
    functions are matched by position anyway)."""
    return getattr(code, "co_qualname", code.co_name)
