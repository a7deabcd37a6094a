"""Compiled rebuilt source compared with the original code objects, instruction by instruction.

Instructions (not positions, line numbers or filenames), constants and signatures, recursively;
every place they differ becomes one line of the rebuilt file's header.
"""

from __future__ import annotations

import dis
import functools
import os
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

from migration_archaeologist.sources.bytecode.code_objects import qualname


def _normalised(code: types.CodeType) -> list[tuple[str, object]]:
    """Instructions without CACHE/RESUME/NOP; jump targets as instruction indexes, not offsets."""
    ins = [i for i in dis.get_instructions(code) if i.opname not in ("CACHE", "RESUME", "NOP")]
    index_of = {i.offset: n for n, i in enumerate(ins)}
    out: list[tuple[str, object]] = []
    for i in ins:
        arg: object = i.argval
        if i.opcode in dis.hasjrel or i.opcode in dis.hasjabs:
            arg = index_of.get(i.argval, min((n for o, n in index_of.items() if o >= i.argval), default=-1))
        elif i.opname == "KW_NAMES":
            arg = code.co_consts[i.arg]  # type: ignore[index]  # KW_NAMES has an argument
        elif isinstance(arg, types.CodeType):
            arg = f"<code {arg.co_name}>"
        out.append((i.opname, _const_key(arg)))
    return out


def _const_key(value: object) -> object:
    """Equality key for a constant: type-exact (so True != 1), code objects by name only."""
    if isinstance(value, types.CodeType):
        return ("code", qualname(value))
    if isinstance(value, tuple):
        return ("tuple", tuple(_const_key(v) for v in value))
    if isinstance(value, frozenset):
        return ("frozenset", tuple(sorted(repr(_const_key(v)) for v in value)))
    return (type(value).__name__, repr(value))


def compare_code(old: types.CodeType, new: types.CodeType, label: str, given_up: set[str], out: list[str]) -> None:
    """Instructions (not positions, line numbers or filenames), constants, signature; recursively."""
    if qualname(old) in given_up:
        return  # already reported as "not rebuilt"
    if (old.co_argcount, old.co_posonlyargcount, old.co_kwonlyargcount, old.co_flags & 0x0F) != (
        new.co_argcount,
        new.co_posonlyargcount,
        new.co_kwonlyargcount,
        new.co_flags & 0x0F,
    ) or old.co_varnames[: old.co_argcount] != new.co_varnames[: new.co_argcount]:
        out.append(f"{label}: signature differs")
    a, b = _normalised(old), _normalised(new)
    for n, (x, y) in enumerate(zip(a, b, strict=False)):  # lengths compared after the loop
        if x != y:
            out.append(f"{label}: instruction {n} differs: {_show(x)} vs {_show(y)}")
            break
    else:
        if len(a) != len(b):
            out.append(f"{label}: {len(a)} instructions in the bytecode, {len(b)} rebuilt")
    ka = [_const_key(c) for c in old.co_consts]
    kb = [_const_key(c) for c in new.co_consts]
    if ka != kb and not any("instruction" in d and d.startswith(label) for d in out):
        out.append(f"{label}: constants differ")
    old_codes = [c for c in old.co_consts if isinstance(c, types.CodeType)]
    new_codes = [c for c in new.co_consts if isinstance(c, types.CodeType)]
    for n, code in enumerate(old_codes):  # matched by position: two <listcomp>s share a qualname
        twin = new_codes[n] if n < len(new_codes) else None
        sub = f"{qualname(code)}()" if label == "module" else f"{label} {code.co_name}"
        if twin is None or qualname(twin) != qualname(code):
            if qualname(code) not in given_up:
                out.append(f"{sub}: missing from the rebuilt source")
        else:
            compare_code(code, twin, sub, given_up, out)
    if len(new_codes) > len(old_codes):
        out.append(f"{label}: {len(new_codes) - len(old_codes)} extra code object(s) rebuilt")


def _show(item: tuple[str, object]) -> str:
    opname, key = item
    if isinstance(key, tuple) and len(key) == 2 and isinstance(key[1], str):
        shown = key[1]
    else:
        shown = repr(key)
    text = f"{opname} {shown}"
    return text if len(text) <= 70 else text[:67] + "..."


@functools.cache
def find_python(version: str) -> Path | None:
    """An interpreter of CPython ``version`` ("3.8"): the running one, ``python3.X`` on PATH, or
    pyenv's newest build of it; each candidate must say it is that version (a pyenv shim with no
    such version selected does not). Never a scanned repository's own virtual environment."""
    if version == "{}.{}".format(*sys.version_info[:2]) and sys.executable:
        return Path(sys.executable)
    candidates = []
    on_path = shutil.which(f"python{version}")
    if on_path:
        candidates.append(Path(on_path))
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    try:
        builds = [
            p for p in root.glob(f"{version}.*/bin/python") if re.fullmatch(rf"{re.escape(version)}\.\d+", p.parts[-3])
        ]
    except OSError:
        builds = []
    candidates += sorted(builds, key=lambda p: [int(x) for x in p.parts[-3].split(".")], reverse=True)
    for python in candidates:
        if _says_version(python, version):
            return python
    return None


def _says_version(python: Path, version: str) -> bool:
    try:
        done = subprocess.run(
            [str(python), "-I", "-S", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0 and done.stdout.strip() == version
