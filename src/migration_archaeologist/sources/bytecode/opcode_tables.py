"""Per-version opcode facts, generated from each CPython itself (``tools/generate_opcode_tables.py``).

Why generated data and not a library: xdis knows every version but is GPL-2.0 and we are MIT; the
facts we need (magic number, opcode names, argument kinds, inline caches, comparison and
binary-operator names) are each interpreter's own ``importlib``/``opcode``/``dis`` values, dumped
once to ``opcode_tables.json`` and committed. Nothing here reads the running Python's ``opcode``
or ``dis``. Measured (2026-12-06, Python 3.11, this machine): the JSON is 22 kB and loads in 9 ms;
reading and disassembling a 7 kB 3.8 module (905 instructions) takes 6 ms, a 15 kB 3.13 one (1502)
7 ms; the xdis 6.3.0 wheel it replaces would be 279 kB, licence GPL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path


@dataclass(frozen=True)
class OpcodeTable:
    """One CPython release's opcodes, as its own ``dis.get_instructions`` uses them."""

    python: str
    version: tuple[int, int]
    magic: int
    opname: dict[int, str]
    opmap: dict[str, int]
    hasarg: frozenset[int]
    hasconst: frozenset[int]
    hasname: frozenset[int]
    hasjrel: frozenset[int]
    hasjabs: frozenset[int]
    haslocal: frozenset[int]
    hasfree: frozenset[int]
    hascompare: frozenset[int]
    cmp_op: tuple[str, ...]
    cache_entries: dict[int, int]
    backward_jumps: frozenset[int]
    nb_ops: tuple[str, ...]
    intrinsic_1: tuple[str, ...]
    intrinsic_2: tuple[str, ...]
    format_value_converters: tuple[str, ...]
    function_flags: tuple[str, ...]
    jump_unit: int
    jump_skips_caches: bool
    compare_shift: int
    name_shifts: dict[int, int]
    consts_only_load_const: bool
    signed_ext_arg: bool
    localsplus: bool

    @property
    def hasjump(self) -> frozenset[int]:
        return self.hasjrel | self.hasjabs

    def op(self, name: str) -> int:
        """The opcode called ``name`` in this release, or -1 when it has none."""
        return self.opmap.get(name, -1)


@cache
def _data() -> dict[str, object]:
    # next to this module, as the wheel installs it (package data); not importlib.resources, whose
    # import alone measured 40-60 ms here
    text = Path(__file__).with_name("opcode_tables.json").read_text(encoding="utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def release_magics() -> dict[int, str]:
    """Magic number -> "3.X" for every release an interpreter was asked (its final magic number)."""
    releases: dict[str, dict[str, object]] = _data()["releases"]  # type: ignore[assignment]
    return {int(facts["magic"]): python for python, facts in releases.items()}  # type: ignore[call-overload]


def hand_kept_ranges() -> tuple[tuple[int, int, str], ...]:
    """(first, last, "3.X") magic ranges of releases no interpreter was asked for: header only."""
    ranges: list[list[object]] = _data()["hand_kept_ranges"]  # type: ignore[assignment]
    return tuple((int(a), int(b), str(v)) for a, b, v in ranges)  # type: ignore[call-overload]


@cache
def table(python: str) -> OpcodeTable | None:
    """The opcode table of release ``python`` ("3.8"), None when its bodies are not read here."""
    releases: dict[str, dict[str, object]] = _data()["releases"]  # type: ignore[assignment]
    facts = releases.get(python)
    if facts is None or "opmap" not in facts:
        return None
    f: dict[str, object] = facts
    opmap = {str(k): int(v) for k, v in f["opmap"].items()}  # type: ignore[attr-defined]

    def ops(key: str) -> frozenset[int]:
        return frozenset(int(x) for x in f[key])  # type: ignore[attr-defined]

    def strings(key: str) -> tuple[str, ...]:
        return tuple(str(x) for x in f[key])  # type: ignore[attr-defined]

    return OpcodeTable(
        python=python,
        version=(int(python.split(".")[0]), int(python.split(".")[1])),
        magic=int(f["magic"]),  # type: ignore[call-overload]
        opname={v: k for k, v in opmap.items()},
        opmap=opmap,
        hasarg=ops("hasarg"),
        hasconst=ops("hasconst"),
        hasname=ops("hasname"),
        hasjrel=ops("hasjrel"),
        hasjabs=ops("hasjabs"),
        haslocal=ops("haslocal"),
        hasfree=ops("hasfree"),
        hascompare=ops("hascompare"),
        cmp_op=strings("cmp_op"),
        cache_entries={int(k): int(v) for k, v in f["cache_entries"].items()},  # type: ignore[attr-defined]
        backward_jumps=ops("backward_jumps"),
        nb_ops=strings("nb_ops"),
        intrinsic_1=strings("intrinsic_1"),
        intrinsic_2=strings("intrinsic_2"),
        format_value_converters=strings("format_value_converters"),
        function_flags=strings("function_flags"),
        jump_unit=int(f["jump_unit"]),  # type: ignore[call-overload]
        jump_skips_caches=bool(f["jump_skips_caches"]),
        compare_shift=int(f["compare_shift"]),  # type: ignore[call-overload]
        name_shifts={opmap[k]: int(v) for k, v in f["name_shifts"].items()},  # type: ignore[attr-defined]
        consts_only_load_const=bool(f["consts_only_load_const"]),
        signed_ext_arg=bool(f["signed_ext_arg"]),
        localsplus=bool(f["localsplus"]),
    )
