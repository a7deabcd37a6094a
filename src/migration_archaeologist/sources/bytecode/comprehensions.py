"""Comprehensions with one ``for``, a plain target and no ``if``: as a code object of their own
(3.8-3.11, and generator expressions always) or inlined in the enclosing code (PEP 709, 3.12+).

The element is rebuilt by a fresh stack machine over the instructions between the loop target
and the LIST_APPEND/SET_ADD/YIELD_VALUE that collects it.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from typing import Protocol

from migration_archaeologist.sources.bytecode.instructions import CodeLike, InstructionLike, instructions
from migration_archaeologist.sources.bytecode.stack_values import SKIP, GiveUp, as_expr


class Machine(Protocol):
    stack: list[object]

    def _step(self, i: InstructionLike) -> None: ...


MachineFor = Callable[[CodeLike], Machine]

_COMP_KINDS = {"<genexpr>": "YIELD_VALUE", "<listcomp>": "LIST_APPEND", "<setcomp>": "SET_ADD"}
_INLINE_KINDS = {"BUILD_LIST": "LIST_APPEND", "BUILD_SET": "SET_ADD"}
_LOOPS = ("POP_JUMP", "FOR_ITER", "JUMP_IF", "JUMP_BACKWARD", "JUMP_ABSOLUTE")


def comprehension(code: CodeLike, iterable: ast.expr, machine_for: MachineFor) -> ast.expr:
    """``(elt for x in it)`` / ``[...]`` / ``{...}`` compiled as a code object of its own."""
    end_op = _COMP_KINDS.get(code.co_name)
    if end_op is None:
        raise GiveUp(f"{code.co_name} call")
    ins = [i for i in instructions(code) if i.opname not in SKIP]
    ops = [i.opname for i in ins]
    if ops.count("FOR_ITER") != 1 or end_op not in ops:
        raise GiveUp(f"{code.co_name} with a condition, nested loop or unpacking target")
    start = ops.index("FOR_ITER") + 1
    element, _ = _element(code, ins, start, ops.index(end_op), machine_for)
    target, _ = _target(ins[start])
    return _node(end_op, element, ast.comprehension(target, iterable, [], 0))


def inline_comprehension(
    code: CodeLike, ins: Sequence[InstructionLike], n: int, iterable: ast.expr, machine_for: MachineFor
) -> tuple[ast.expr, int]:
    """PEP 709 (3.12+): GET_ITER at ``ins[n]``, then the hidden locals saved, the list built and the
    loop run in place. Returns the comprehension and the index of the first instruction after it."""
    j = n + 1
    saved = []
    while j < len(ins) and ins[j].opname == "LOAD_FAST_AND_CLEAR":
        saved.append(ins[j].argval)
        j += 1
    head = [x.opname for x in ins[j : j + 4]]
    if head[:1] != ["SWAP"] or head[2:] != ["SWAP", "FOR_ITER"] or head[1] not in _INLINE_KINDS or ins[j + 1].arg:
        raise GiveUp("unusual inlined comprehension")
    end_op = _INLINE_KINDS[head[1]]
    start = j + 4
    end = next((k for k in range(start, len(ins)) if ins[k].opname == end_op), None)
    if end is None:
        raise GiveUp(f"inlined comprehension without {end_op}")
    element, _ = _element(code, ins, start, end, machine_for)
    target, _ = _target(ins[start])
    node = _node(end_op, element, ast.comprehension(target, iterable, [], 0))
    k = end + 1
    tail = ("JUMP_BACKWARD", "END_FOR", "POP_TOP", "SWAP")
    for opname in tail:  # 3.13 pops the exhausted iterator after END_FOR
        if k < len(ins) and ins[k].opname == opname:
            k += 1
    restored: list[object] = []
    while k < len(ins) and ins[k].opname in ("STORE_FAST", "STORE_FAST_STORE_FAST") and len(restored) < len(saved):
        value = ins[k].argval
        restored += list(value) if isinstance(value, tuple) else [value]
        k += 1
    if sorted(map(str, restored)) != sorted(map(str, saved)):
        raise GiveUp("unusual end of an inlined comprehension")
    return node, k


def _target(i: InstructionLike) -> tuple[ast.expr, str | None]:
    """The loop target, and the name 3.13's STORE_FAST_LOAD_FAST loads right after storing it."""
    if i.opname == "STORE_FAST":
        return ast.Name(str(i.argval), ast.Store()), None
    if i.opname == "STORE_FAST_LOAD_FAST" and isinstance(i.argval, tuple):
        stored, loaded = i.argval
        return ast.Name(str(stored), ast.Store()), str(loaded)
    raise GiveUp("comprehension with an unpacking target")


def _element(
    code: CodeLike, ins: Sequence[InstructionLike], start: int, end: int, machine_for: MachineFor
) -> tuple[ast.expr, int]:
    _, loaded = _target(ins[start])
    body = ins[start + 1 : end]
    if any(i.opname.startswith(_LOOPS) for i in body):
        raise GiveUp(f"{code.co_name} with a condition, nested loop or unpacking target")
    machine = machine_for(code)
    if loaded is not None:
        machine.stack.append(ast.Name(loaded, ast.Load()))
    for i in body:
        machine._step(i)
    if len(machine.stack) != 1:
        raise GiveUp(f"unusual {code.co_name}")
    return as_expr(machine.stack[0], "comprehension element"), end


def _node(end_op: str, element: ast.expr, generator: ast.comprehension) -> ast.expr:
    if end_op == "YIELD_VALUE":
        return ast.GeneratorExp(element, [generator])
    if end_op == "LIST_APPEND":
        return ast.ListComp(element, [generator])
    return ast.SetComp(element, [generator])
