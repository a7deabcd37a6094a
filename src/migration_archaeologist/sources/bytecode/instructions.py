"""One way for the rebuilder to list a code object's instructions, whichever Python compiled it.

The running interpreter's own code objects go through :func:`dis.get_instructions`; a
:class:`ForeignCode` read from another version's ``.pyc`` through :func:`foreign_instructions`,
which lists them as that version's ``dis`` would.
"""

from __future__ import annotations

import dis
import types
from typing import TypeAlias

from migration_archaeologist.sources.bytecode.disassembly import Instr, foreign_instructions
from migration_archaeologist.sources.bytecode.marshal_reader import ForeignCode

CodeLike: TypeAlias = "types.CodeType | ForeignCode"
InstructionLike: TypeAlias = "dis.Instruction | Instr"


def instructions(code: CodeLike) -> list[InstructionLike]:
    """The instructions of ``code`` (no CACHE entries), as its own Python's ``dis`` lists them."""
    if isinstance(code, ForeignCode):
        return list(foreign_instructions(code))
    return list(dis.get_instructions(code))
