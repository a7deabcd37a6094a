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
    if ops.count("FOR_ITER") != 1 or end_op not in ops or ops.index(end_op) < ops.index("FOR_ITER"):
        raise GiveUp(f"{code.co_name} with a condition, nested loop or unpacking target")
    start = ops.index("FOR_ITER") + 1
    element, ifs = _element(code, ins, start, ops.index(end_op), machine_for)
    target, _ = _target(ins[start])
    return _node(end_op, element, ast.comprehension(target, iterable, ifs, 0))


def inline_comprehension(
    code: CodeLike, ins: Sequence[InstructionLike], n: int, iterable: ast.expr, machine_for: MachineFor
) -> tuple[ast.expr, int, str | None]:
    """PEP 709 (3.12+): GET_ITER at ``ins[n]``, then the hidden locals saved, the list built and the
    loop run in place. Returns the comprehension, the index of the first instruction after it, and
    where its value went when the compiler stored it before restoring the locals (a name, or ""
    for an expression statement), else None: the value is left on the stack."""
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
    element, ifs = _element(code, ins, start, end, machine_for)
    target, _ = _target(ins[start])
    node = _node(end_op, element, ast.comprehension(target, iterable, ifs, 0))
    k = end + 1
    for opname in ("JUMP_BACKWARD", "END_FOR", "POP_TOP"):  # 3.13 pops the exhausted iterator after END_FOR
        if k < len(ins) and ins[k].opname == opname:
            k += 1
    swapped = k < len(ins) and ins[k].opname == "SWAP"
    k += swapped
    consumer: str | None = None  # the swap optimised away: the result is stored before the restore
    if not swapped and k < len(ins) and ins[k].opname == "POP_TOP":
        consumer, k = "", k + 1
    names: list[str] = []
    while k < len(ins) and ins[k].opname in ("STORE_FAST", "STORE_FAST_STORE_FAST") and len(names) < len(saved) + 1:
        value = ins[k].argval
        names += [str(v) for v in value] if isinstance(value, tuple) else [str(value)]
        k += 1
    if not swapped and consumer is None and names:
        consumer, names = names[0], names[1:]
    if sorted(names) != sorted(map(str, saved)):
        raise GiveUp("unusual end of an inlined comprehension")
    return node, k, consumer


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
) -> tuple[ast.expr, list[ast.expr]]:
    """The element, and the ``if`` filter if there is one, of the loop body ``ins[start+1:end]``
    (``ins[start]`` stores the target, ``ins[start-1]`` is the FOR_ITER the loop goes back to)."""
    _, loaded = _target(ins[start])
    body = list(ins[start + 1 : end])
    head = ins[start - 1].offset
    ifs: list[ast.expr] = []
    jumps = [n for n, i in enumerate(body) if i.opname.startswith(_LOOPS)]
    if jumps:
        j = jumps[0]
        skip = _skip_test(body, j, head)
        if skip is None or len(jumps) != (2 if skip[1] else 1):
            raise GiveUp(f"{code.co_name} with several conditions, a nested loop or an unpacking target")
        ifs.append(_run(code, body[:j], loaded, machine_for, "comprehension condition", skip[0]))
        body, loaded = body[j + (2 if skip[1] else 1) :], None
    return _run(code, body, loaded, machine_for, "comprehension element", None), ifs


#: a filter's conditional jump: the test that keeps the item when the jump goes back to the loop head
_KEEP_IF_BACK: dict[str, Callable[[ast.expr], ast.expr]] = {
    "FALSE": lambda c: c,
    "TRUE": lambda c: ast.UnaryOp(ast.Not(), c),
    "NONE": lambda c: ast.Compare(c, [ast.IsNot()], [ast.Constant(None)]),
    "NOT_NONE": lambda c: ast.Compare(c, [ast.Is()], [ast.Constant(None)]),
}
_KEEP_IF_OVER: dict[str, Callable[[ast.expr], ast.expr]] = {
    "TRUE": lambda c: c,
    "FALSE": lambda c: ast.UnaryOp(ast.Not(), c),
    "NOT_NONE": lambda c: ast.Compare(c, [ast.IsNot()], [ast.Constant(None)]),
    "NONE": lambda c: ast.Compare(c, [ast.Is()], [ast.Constant(None)]),
}


def _skip_test(
    body: Sequence[InstructionLike], j: int, head: int
) -> tuple[Callable[[ast.expr], ast.expr], bool] | None:
    """How the conditional jump ``body[j]`` filters: straight back to the loop head (3.8-3.11), or
    over a JUMP_BACKWARD to it (3.12+); the keep-test, and whether that second jump is used."""
    i = body[j]
    if not i.opname.startswith("POP_JUMP_"):
        return None
    sense = i.opname.rsplit("_IF_", 1)[-1]
    if i.argval == head and sense in _KEEP_IF_BACK:
        return _KEEP_IF_BACK[sense], False
    after = body[j + 1] if j + 1 < len(body) else None
    if (
        after is not None
        and after.opname.startswith("JUMP_BACKWARD")
        and after.argval == head
        and sense in _KEEP_IF_OVER
    ):
        return _KEEP_IF_OVER[sense], True
    return None


def _run(
    code: CodeLike,
    body: Sequence[InstructionLike],
    loaded: str | None,
    machine_for: MachineFor,
    what: str,
    keep: Callable[[ast.expr], ast.expr] | None,
) -> ast.expr:
    machine = machine_for(code)
    if loaded is not None:
        machine.stack.append(ast.Name(loaded, ast.Load()))
    for i in body:
        machine._step(i)
    if len(machine.stack) != 1:
        raise GiveUp(f"unusual {code.co_name}")
    value = as_expr(machine.stack[0], what)
    return keep(value) if keep else value


def _node(end_op: str, element: ast.expr, generator: ast.comprehension) -> ast.expr:
    if end_op == "YIELD_VALUE":
        return ast.GeneratorExp(element, [generator])
    if end_op == "LIST_APPEND":
        return ast.ListComp(element, [generator])
    return ast.SetComp(element, [generator])
