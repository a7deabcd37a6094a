"""Generate ``sources/bytecode/opcode_tables.json`` from each CPython's own ``opcode``/``dis``/``importlib``.

Why: the bytecode reader must disassemble CPython 3.8-3.13 whatever Python runs the tool, and the
one library that knows every version (xdis) is GPL-2.0 while we are MIT. So the facts are taken
from each interpreter itself, as data: its magic number, opcode names, argument kinds, inline
cache sizes, comparison and binary-operator names. Run it again when a Python is added::

    python tools/generate_opcode_tables.py            # every /root/.pyenv-like interpreter found
    python tools/generate_opcode_tables.py --check    # exit 1 when the committed file is stale

Each interpreter runs isolated (``-I -S``) and only imports its own standard library.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

OUT = (
    Path(__file__).resolve().parents[1]
    / "src"
    / "migration_archaeologist"
    / "sources"
    / "bytecode"
    / "opcode_tables.json"
)
VERSIONS = ("3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13")
READABLE = ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13")  # bodies are read for these; 3.6/3.7: magic only

#: magic numbers of releases no interpreter here can tell (Lib/importlib/_bootstrap_external.py);
#: kept by hand, used for the header only.
HAND_KEPT_RANGES = (
    (3000, 3131, "3.0"),
    (3141, 3151, "3.1"),
    (3160, 3180, "3.2"),
    (3190, 3230, "3.3"),
    (3250, 3310, "3.4"),
    (3320, 3351, "3.5"),
    (3600, 3649, "3.14"),
    (3650, 3699, "3.15"),
)

# Runs under the interpreter being described (3.6+): only its own opcode/dis/importlib.
PROBE = r"""
import dis, importlib.util, json, opcode, sys
v = sys.version_info[:2]
out = {"magic": int.from_bytes(importlib.util.MAGIC_NUMBER[:2], "little")}
if v >= (3, 8):
    real = {name: op for name, op in opcode.opmap.items() if op < 256}
    hasarg = getattr(opcode, "hasarg", None)
    if hasarg is None:
        hasarg = [op for op in real.values() if op >= opcode.HAVE_ARGUMENT]
    caches = getattr(opcode, "_inline_cache_entries", None) or getattr(dis, "_inline_cache_entries", None) or []
    if isinstance(caches, dict):
        caches = {real[name]: n for name, n in caches.items() if name in real and n}
    else:
        caches = {op: n for op, n in enumerate(caches) if n and op < 256}
    backward = getattr(dis, "_is_backward_jump", None)
    hasjump = set(opcode.hasjrel) | set(opcode.hasjabs)
    out.update(
        opmap=dict(sorted(real.items(), key=lambda kv: kv[1])),
        hasarg=sorted(op for op in hasarg if op < 256),
        hasconst=sorted(opcode.hasconst),
        hasname=sorted(opcode.hasname),
        hasjrel=sorted(op for op in opcode.hasjrel if op < 256),
        hasjabs=sorted(op for op in opcode.hasjabs if op < 256),
        haslocal=sorted(op for op in opcode.haslocal if op < 256),
        hasfree=sorted(op for op in opcode.hasfree if op < 256),
        hascompare=sorted(opcode.hascompare),
        cmp_op=list(opcode.cmp_op),
        cache_entries={str(op): n for op, n in sorted(caches.items())},
        backward_jumps=sorted(op for op in hasjump if backward is not None and backward(op)),
        nb_ops=[r for _, r in getattr(opcode, "_nb_ops", [])],
        intrinsic_1=list(getattr(dis, "_intrinsic_1_descs", getattr(opcode, "_intrinsic_1_descs", []))),
        intrinsic_2=list(getattr(dis, "_intrinsic_2_descs", getattr(opcode, "_intrinsic_2_descs", []))),
        format_value_converters=[r for _, r in getattr(dis, "FORMAT_VALUE_CONVERTERS", [])],
        function_flags=list(getattr(dis, "FUNCTION_ATTR_FLAGS", getattr(dis, "MAKE_FUNCTION_FLAGS", ()))),
        # behaviour of that version's dis.get_instructions, by release (read off Lib/dis.py):
        jump_unit=2 if v >= (3, 10) else 1,  # 3.10+: jump arguments count 2-byte words
        jump_skips_caches=v >= (3, 12),  # 3.12+: a relative jump starts after the inline caches
        compare_shift={(3, 12): 4, (3, 13): 5}.get(v, 0),  # COMPARE_OP's arg >> n indexes cmp_op
        name_shifts={k: s for k, s in (("LOAD_GLOBAL", 1 if v >= (3, 11) else 0),
                                      ("LOAD_ATTR", 1 if v >= (3, 12) else 0),
                                      ("LOAD_SUPER_ATTR", 2 if v >= (3, 12) else 0)) if s and k in real},
        consts_only_load_const=v == (3, 11),  # 3.11's dis resolves only LOAD_CONST (KW_NAMES: UNKNOWN)
        signed_ext_arg=v >= (3, 11),  # 3.11+: EXTENDED_ARG wraps to a signed 32-bit oparg
        localsplus=v >= (3, 11),  # 3.11+: locals, cells and frees share one index space
    )
print(json.dumps(out))
"""


def find_interpreter(version: str) -> Path | None:
    """``python3.X`` on PATH, else the newest pyenv build of 3.X."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    builds = sorted(root.glob(f"{version}.*/bin/python"), key=lambda p: [int(x) for x in p.parts[-3].split(".")])
    if builds:
        return builds[-1]
    found = shutil.which(f"python{version}")
    return Path(found) if found else None


def describe(python: Path) -> dict[str, object]:
    done = subprocess.run(
        [str(python), "-I", "-S", "-c", PROBE], capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def generate() -> dict[str, object]:
    releases: dict[str, object] = {}
    missing = []
    for version in VERSIONS:
        python = find_interpreter(version)
        if python is None:
            missing.append(version)
            continue
        facts = describe(python)
        if version not in READABLE:
            facts = {"magic": facts["magic"]}
        releases[version] = facts
    if missing:
        sys.exit(f"no interpreter for {', '.join(missing)}: install it (pyenv install {missing[0]}) and rerun")
    return {
        "generated_by": "tools/generate_opcode_tables.py",
        "releases": releases,
        "hand_kept_ranges": [list(r) for r in HAND_KEPT_RANGES],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed file, write nothing")
    args = parser.parse_args()
    text = json.dumps(generate(), sort_keys=True, separators=(",", ":")) + "\n"
    if args.check:
        sys.exit(0 if OUT.read_text() == text else f"{OUT} is stale: rerun {__file__}")
    OUT.write_text(text)
    print(f"wrote {OUT} ({len(text)} bytes)")


if __name__ == "__main__":
    main()
