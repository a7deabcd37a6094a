"""Compiled rebuilt source compared with the original code objects, instruction by instruction.

Instructions (not positions, line numbers or filenames), constants and signatures, recursively;
every place they differ becomes one line of the rebuilt file's header. Bytecode of another Python
is proven by that version's own compiler: :func:`find_python` finds it, :func:`compile_with` has
it ``compile()`` (never run) the rebuilt source in a child process and reads the marshalled result.
"""

from __future__ import annotations

import bisect

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
from migration_archaeologist.sources.bytecode.disassembly import Instr
from migration_archaeologist.sources.bytecode.instructions import CodeLike, instructions
from migration_archaeologist.sources.bytecode.marshal_reader import ForeignCode, MarshalError, loads

#: a child compiling one rebuilt revision file takes well under a second; this is a hung one
COMPILE_TIMEOUT = 60
_CODE_TYPES = (types.CodeType, ForeignCode)
# Run by the other Python with -I -S (no site, no PYTHON* variables, no script or current directory
# on sys.path) and from "/": compile (never exec) stdin's source, marshal it to stdout.
_COMPILE_CHILD = (
    "import marshal, sys\n"
    "try:\n"
    "    code = compile(sys.stdin.buffer.read(), sys.argv[1], 'exec', dont_inherit=True)\n"
    "except (SyntaxError, ValueError) as exc:\n"
    "    sys.stderr.write(type(exc).__name__ + ': ' + str(exc))\n"
    "    sys.exit(3)\n"
    "sys.stdout.buffer.write(marshal.dumps(code))\n"
)


class CompileFailed(Exception):
    """The other Python did not compile the rebuilt source (syntax error, crash, timeout)."""


def compile_with(python: Path, source: str, name: str) -> ForeignCode:
    """``source`` compiled (never executed) by ``python`` in a child process, read back as data."""
    try:
        done = subprocess.run(
            [str(python), "-I", "-S", "-c", _COMPILE_CHILD, name],
            input=source.encode("utf-8"), capture_output=True, timeout=COMPILE_TIMEOUT, check=False, cwd=os.sep,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        raise CompileFailed(f"{python} took over {COMPILE_TIMEOUT} s to compile it") from None
    except OSError as exc:
        raise CompileFailed(f"{python} could not be started: {exc.strerror}") from None
    version = _version_of(python)
    if done.returncode != 0:
        said = " ".join(done.stderr.decode("utf-8", "replace").split())[:200]
        raise CompileFailed(f"Python {version} does not compile it: {said or f'exit status {done.returncode}'}")
    try:
        code = loads(done.stdout, version)
    except MarshalError as exc:
        raise CompileFailed(f"Python {version}'s bytecode of it could not be read: {exc}") from None
    if not isinstance(code, ForeignCode):
        raise CompileFailed(f"Python {version} gave no code object")
    return code


#: interpreters find_python() has already asked their version (saves a child per compile_with)
_KNOWN_VERSIONS: dict[Path, str] = {}


def _version_of(python: Path) -> str:
    """The "3.X" ``python`` says it is ("" when it cannot say), asked once per interpreter."""
    if python not in _KNOWN_VERSIONS:
        try:
            done = subprocess.run(
                [str(python), "-I", "-S", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL, check=False, cwd=os.sep,
            )  # fmt: skip
        except (OSError, subprocess.SubprocessError):
            return ""
        _KNOWN_VERSIONS[python] = done.stdout.strip() if done.returncode == 0 else ""
    return _KNOWN_VERSIONS[python]


def _jump_target(i: object) -> int | None:
    """A jump's target offset: from the version's own tables for foreign code, from dis for ours."""
    if isinstance(i, Instr):
        return i.jump
    assert isinstance(i, dis.Instruction)
    return i.argval if i.opcode in dis.hasjrel or i.opcode in dis.hasjabs else None


def _normalised(code: CodeLike) -> list[tuple[str, object]]:
    """Instructions without CACHE/RESUME/NOP; jump targets as instruction indexes, not offsets."""
    ins = [i for i in instructions(code) if i.opname not in ("CACHE", "RESUME", "NOP")]
    offsets = [i.offset for i in ins]  # increasing: a jump to a dropped NOP lands on the next kept one
    out: list[tuple[str, object]] = []
    for i in ins:
        arg: object = i.argval
        target = _jump_target(i)
        if target is not None:  # by bisection: a scan of every offset per jump was quadratic (90 s on 3,000 ifs)
            n = bisect.bisect_left(offsets, target)
            arg = n if n < len(offsets) else -1
        elif i.opname == "KW_NAMES":
            arg = code.co_consts[i.arg]  # type: ignore[index]  # KW_NAMES has an argument
        elif isinstance(arg, _CODE_TYPES):
            arg = f"<code {arg.co_name}>"
        out.append((i.opname, _const_key(arg)))
    return out


def _const_key(value: object) -> object:
    """Equality key for a constant: type-exact (so True != 1), code objects by name only."""
    if isinstance(value, _CODE_TYPES):
        return ("code", qualname(value))
    if isinstance(value, tuple):
        return ("tuple", tuple(_const_key(v) for v in value))
    if isinstance(value, frozenset):
        return ("frozenset", tuple(sorted(repr(_const_key(v)) for v in value)))
    return (type(value).__name__, repr(value))


def compare_code(old: CodeLike, new: CodeLike, label: str, given_up: set[str], out: list[str]) -> None:
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
    old_codes = [c for c in old.co_consts if isinstance(c, _CODE_TYPES)]
    new_codes = [c for c in new.co_consts if isinstance(c, _CODE_TYPES)]
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
        _KNOWN_VERSIONS[Path(sys.executable)] = version
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
        if _version_of(python) == version:
            return python
    return None
