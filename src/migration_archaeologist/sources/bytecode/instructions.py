"""The instructions of a code object, read through attributes only (never opcode numbers).

The rebuilder reads ``opname``, ``arg``, ``argval``, ``argrepr`` and ``offset`` and the ``co_*``
attributes below, so a code object of another Python version (built by a pure-Python reader, with
the same attribute names) can be rebuilt by the same stack machine as the running interpreter's.
The running interpreter's code objects are listed by :func:`dis.get_instructions`; a
:class:`ForeignCode` of CPython 3.8-3.13 by :func:`foreign_instructions`, as that version's ``dis``
would list it.
"""

from __future__ import annotations

import dis
import types
from typing import Protocol

from migration_archaeologist.sources.bytecode.disassembly import foreign_instructions
from migration_archaeologist.sources.bytecode.marshal_reader import ForeignCode


class InstructionLike(Protocol):
    """What the rebuilder reads of an instruction: what ``dis.get_instructions`` yields."""

    @property
    def opname(self) -> str: ...

    @property
    def arg(self) -> int | None: ...

    @property
    def argval(self) -> object: ...

    @property
    def argrepr(self) -> str: ...

    @property
    def offset(self) -> int: ...


class CodeLike(Protocol):
    """What the rebuilder reads of a code object (``types.CodeType``'s attribute names)."""

    @property
    def co_name(self) -> str: ...

    @property
    def co_consts(self) -> tuple[object, ...]: ...

    @property
    def co_flags(self) -> int: ...

    @property
    def co_argcount(self) -> int: ...

    @property
    def co_posonlyargcount(self) -> int: ...

    @property
    def co_kwonlyargcount(self) -> int: ...

    @property
    def co_varnames(self) -> tuple[str, ...]: ...


def instructions(code: CodeLike) -> list[InstructionLike]:
    """The instructions of ``code``, as the Python that compiled it disassembles them."""
    if isinstance(code, types.CodeType):
        return list(dis.get_instructions(code))
    if isinstance(code, ForeignCode):
        return list(foreign_instructions(code))
    raise TypeError(f"no disassembler for {type(code).__name__}")
