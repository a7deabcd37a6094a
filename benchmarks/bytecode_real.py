"""Rebuild real revision files from every Python's bytecode, and count what comes back proven (issue 21).

    python benchmarks/bytecode_real.py --clones DIR [--only NAME]... [--python X.Y]... [--json] [-o FILE]

For each work tree under ``--clones`` (one per subfolder, as ``real_repos.py --keep-clones`` leaves
them), every ``*.py`` under a ``versions`` folder at HEAD that declares ``revision`` and
``down_revision`` is compiled by each CPython found in pyenv (3.8 to 3.13 unless ``--python``
narrows it), in ONE child process per interpreter (``compile()`` and ``marshal.dumps`` only: no
revision file is executed, none is imported). A file that interpreter cannot compile (newer syntax,
Python 2) is counted as such and left out.

Then the tool, in this process, rebuilds each ``.pyc`` with ``rebuild()`` and the result is
tallied by fidelity: ``bytecode`` (compiling the rebuilt file with that same interpreter gives the
same code objects), ``bytecode-partial`` (the first difference is kept, grouped), or not rebuilt
(the reason, grouped). The figures printed are counts and the ratio of the tool's rebuild time to
the interpreter's own compile time for the same files, measured in the same run.

Ground truth is the interpreter itself: the tool's verdict ``bytecode`` is a recompilation by it.
"""

from __future__ import annotations

import argparse
import collections
import json
import marshal  # noqa: F401 - documents that the child uses marshal.dumps
import os
import re
import subprocess
import sys
import time
from pathlib import Path

_CHILD = r"""
import importlib.util, json, marshal, sys, time
files = json.load(sys.stdin)
out = {}
start = time.perf_counter()
for path in files:
    try:
        with open(path, "rb") as handle:
            source = handle.read()
        code = compile(source, path, "exec", dont_inherit=True)
    except Exception as exc:
        out[path] = None
        continue
    header = importlib.util.MAGIC_NUMBER + b"\0\0\0\0" + b"\0\0\0\0" + len(source).to_bytes(4, "little")
    out[path] = (header + marshal.dumps(code)).hex()
elapsed = time.perf_counter() - start
sys.stdout.write(json.dumps({"elapsed": elapsed, "pycs": out}))
"""

_DECLARES = re.compile(rb"^\s*(revision|down_revision)\s*(:[^=]*)?=", re.M)


def revision_files(tree: Path) -> list[Path]:
    """Revision files at HEAD: ``*.py`` under a folder called ``versions`` that declare both ids."""
    out = []
    for path in sorted(tree.rglob("versions/**/*.py")):
        if ".git" in path.parts or not path.is_file():
            continue
        data = path.read_bytes()
        names = {m.group(1) for m in _DECLARES.finditer(data)}
        if names == {b"revision", b"down_revision"}:
            out.append(path)
    return out


def interpreters(wanted: list[str]) -> dict[str, Path]:
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found: dict[str, Path] = {}
    for version in wanted:
        for candidate in sorted(root.glob(f"{version}.*")):
            python = candidate / "bin" / "python"
            if python.exists():
                found[version] = python
                break
    return found


def compile_all(python: Path, files: list[Path]) -> tuple[float, dict[str, bytes | None]]:
    done = subprocess.run(
        [str(python), "-I", "-S", "-c", _CHILD],
        input=json.dumps([str(f) for f in files]),
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    doc = json.loads(done.stdout)
    return doc["elapsed"], {p: (bytes.fromhex(h) if h else None) for p, h in doc["pycs"].items()}


def _first_reason(text: str) -> str:
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "…", text)
    text = re.sub(r"\d+", "N", text)
    return text[:110]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clones", type=Path, required=True)
    parser.add_argument("--only", action="append", default=[])
    parser.add_argument("--python", action="append", default=[])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("-o", "--output", type=Path)
    args = parser.parse_args(argv)

    from migration_archaeologist.parse.revision import Unparseable
    from migration_archaeologist.sources.bytecode.rebuild import rebuild

    pythons = interpreters(args.python or ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13"])
    trees = sorted(p for p in args.clones.iterdir() if p.is_dir() and (not args.only or p.name in args.only))
    rows = []
    reasons: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for tree in trees:
        files = revision_files(tree)
        if not files:
            continue
        for version, python in pythons.items():
            compile_seconds, pycs = compile_all(python, files)
            tally: collections.Counter[str] = collections.Counter()
            start = time.perf_counter()
            for path, pyc in pycs.items():
                if pyc is None:
                    tally["does not compile"] += 1
                    continue
                result = rebuild(pyc, pyc_name=Path(path).name)
                if isinstance(result, Unparseable):
                    tally["not rebuilt"] += 1
                    reasons[version][_first_reason(result.reason)] += 1
                else:
                    tally[result.fidelity] += 1
                    if not result.complete:
                        reasons[version][_first_reason(result.differences[0])] += 1
            rebuild_seconds = time.perf_counter() - start
            rows.append(
                {
                    "repository": tree.name,
                    "python": version,
                    "files": len(files),
                    "bytecode": tally["bytecode"],
                    "bytecode-partial": tally["bytecode-partial"],
                    "not rebuilt": tally["not rebuilt"],
                    "does not compile": tally["does not compile"],
                    "rebuild ÷ compile": round(rebuild_seconds / compile_seconds, 1) if compile_seconds else None,
                }
            )
    if args.json:
        text = json.dumps({"rows": rows, "reasons": {k: dict(v.most_common(8)) for k, v in reasons.items()}}, indent=2)
    else:
        text = _markdown(rows, reasons, sys.version.split()[0])
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


def _markdown(rows: list[dict[str, object]], reasons: dict[str, collections.Counter[str]], running: str) -> str:
    keys = ["repository", "python", "files", "bytecode", "bytecode-partial", "not rebuilt", "does not compile"]
    keys.append("rebuild ÷ compile")
    lines = [f"Tool running on Python {running}.", "", "| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(str(row[k]) for k in keys) + " |" for row in rows]
    totals: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for row in rows:
        for k in keys[2:-1]:
            totals[str(row["python"])][k] += int(row[k])  # type: ignore[call-overload]
    lines += ["", "| python | " + " | ".join(keys[2:-1]) + " |", "|" + "---|" * (len(keys) - 2)]
    for version, total in sorted(totals.items(), key=lambda kv: tuple(map(int, kv[0].split(".")))):
        lines.append(f"| {version} | " + " | ".join(str(total[k]) for k in keys[2:-1]) + " |")
    for version, counter in sorted(reasons.items()):
        lines += ["", f"Python {version}, first reasons:"]
        lines += [f"- {n} × {reason}" for reason, n in counter.most_common(6)]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
