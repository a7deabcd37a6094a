"""The disassembly contract over each interpreter's own standard library (its non-test modules).

For each version given, that Python compiles (never runs) its stdlib and prints its own ``dis``
listing of every code object; ``marshal_reader`` + ``foreign_instructions`` must list the same.
Run from the repository root, slow (about a minute per version on 2 shared cores)::

    .venv/bin/python tools/check_disassembly_on_stdlib.py 2000 3.8 3.9 3.10 3.11 3.12 3.13

Measured 2026-12-07: every module equal, 695-863 modules and 20,719-24,187 code objects per version.
"""

import json
import subprocess
import sys
import time

sys.path.insert(0, "tests/sources")
from test_foreign_bytecode import CHILD, _ours  # noqa: E402

from migration_archaeologist.sources.bytecode.marshal_reader import loads
from migration_archaeologist.sources.bytecode.verification import find_python

LIST = (
    "import json, pathlib, sys, sysconfig\n"
    "p = pathlib.Path(sysconfig.get_paths()['stdlib'])\n"
    "files = [f for f in sorted(p.rglob('*.py')) if 'test' not in f.parts and 'site-packages' not in f.parts]\n"
    "print(json.dumps([[str(f.relative_to(p)), f.read_text(encoding='utf-8', errors='surrogateescape')]\n"
    "                  for f in files[: int(sys.argv[1])]]))\n"
)
for v in sys.argv[2:]:
    py = find_python(v)
    files = subprocess.run(
        [str(py), "-I", "-S", "-c", LIST, sys.argv[1]], capture_output=True, text=True, check=True
    ).stdout
    t = time.time()
    out = json.loads(
        subprocess.run(
            [str(py), "-I", "-S", "-c", CHILD], input=files, capture_output=True, text=True, check=True
        ).stdout
    )
    ok = bad = codes = 0
    for name, hexed, theirs in out:
        if hexed is None:
            continue
        ours = _ours(loads(bytes.fromhex(hexed), v), [])
        codes += len(ours)
        if [[q, i, f] for q, i, f in ours] == theirs:
            ok += 1
        else:
            bad += 1
            for a, b in zip(ours, theirs, strict=False):
                if a != b:
                    print(v, name, a[0], [x for x, y in zip(a[1], b[1], strict=False) if x != y][:2] or (a[2], b[2]))
                    break
    print(v, f"{ok} modules equal, {bad} differ, {codes} code objects, {time.time() - t:.1f} s")
