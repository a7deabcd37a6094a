"""Prove a change that should not change behaviour did not: every read-only command's output, byte for byte.

    python benchmarks/same_outputs.py capture OUT [--clones DIR] [--sample]
    python benchmarks/same_outputs.py compare BEFORE AFTER

``capture`` runs the console script next to this interpreter on the TaskMan-v2 sample (built into a
temp dir, ``--sample``) and on every clone under ``--clones`` (the real repositories of
``real_repos.py``), and keeps each command's stdout, stderr and exit code in ``OUT/<repo>.json``.
Commands: ``--help`` of every command; ``scan`` (tables and ``--json``); ``check`` (text, json,
github); ``timeline`` (markdown, json, html); ``graph`` (mermaid, dot, json); ``restore`` of every
revision ``check`` calls lost (dry run, tables and ``--json``); ``recover`` (dry run, tables and
``--json``). Nothing is written into the repositories: the history cache is off (``--no-cache``).
The temp paths of the sample are replaced by ``<SAMPLE>`` so two captures compare.

``compare`` prints every command whose output differs and exits 1 if any does: a refactor that
claims "no behaviour change" runs ``capture`` before and after, then ``compare``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
COMMANDS = ("recover", "scan", "check", "restore", "verify", "synthesize", "baseline", "timeline", "graph")


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("migration-archaeologist")
    return [str(script)] if script.exists() else [sys.executable, "-m", "migration_archaeologist"]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "MA_"))}
    env.update({"COLUMNS": "200", "TERM": "dumb", "NO_COLOR": "1", "LC_ALL": "C.UTF-8", "TZ": "UTC"})
    return env


def _run(args: list[str], cwd: Path, mask: str | None) -> dict[str, object]:
    proc = subprocess.run([*_cli(), *args], cwd=cwd, capture_output=True, env=_env(), check=False, timeout=900)
    out, err = proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")
    if mask:
        out, err = out.replace(mask, "<SAMPLE>"), err.replace(mask, "<SAMPLE>")
    shown = [a.replace(mask, "<SAMPLE>") for a in args] if mask else args
    return {"args": shown, "exit": proc.returncode, "stdout": out, "stderr": err}


def _lost(repo: Path) -> list[str]:
    proc = subprocess.run(
        [*_cli(), "check", str(repo), "--no-cache", "--format", "json"], capture_output=True, env=_env(), check=False
    )
    try:
        doc = json.loads(proc.stdout)
    except ValueError:
        return []
    missing = doc.get("missing", []) if isinstance(doc, dict) else []
    return [rev for rev in missing if isinstance(rev, str)][-3:]


def capture_repo(repo: Path, mask: str | None) -> list[dict[str, object]]:
    """Every read-only command's output on ``repo``."""
    r = str(repo)
    runs = [_run([c, "--help"], repo, mask) for c in COMMANDS]
    nc = "--no-cache"
    for args in (
        ["scan", r, nc],
        ["scan", r, nc, "--json"],
        ["check", r, nc],
        ["check", r, nc, "--format", "json"],
        ["check", r, nc, "--format", "github"],
        ["timeline", r, nc],
        ["timeline", r, nc, "-f", "json"],
        ["timeline", r, nc, "-f", "html"],
        ["graph", r, nc],
        ["graph", r, nc, "-f", "dot"],
        ["graph", r, nc, "-f", "json"],
        ["recover", r, nc],
        ["recover", r, nc, "--json"],
    ):
        runs.append(_run(args, repo, mask))
    for rev in _lost(repo):
        runs.append(_run(["restore", rev, r, nc], repo, mask))
        runs.append(_run(["restore", rev, r, nc, "--json"], repo, mask))
    return runs


def capture(out: Path, clones: Path | None, sample: bool) -> None:
    out.mkdir(parents=True, exist_ok=True)
    if sample:
        with tempfile.TemporaryDirectory(prefix="ma-same-") as tmp:
            dest = Path(tmp) / "taskman-v2"
            subprocess.run([sys.executable, str(HERE.parent / "sample_repos/taskman-v2/build.py"), str(dest)],
                           check=True, capture_output=True)
            runs = capture_repo(dest, str(Path(tmp)))
            (out / "taskman-v2.json").write_text(json.dumps(runs, indent=1))
            print(f"taskman-v2: {len(runs)} commands", flush=True)
    if clones:
        for repo in sorted(p for p in clones.iterdir() if (p / ".git").exists()):
            runs = capture_repo(repo, None)
            (out / f"{repo.name}.json").write_text(json.dumps(runs, indent=1))
            print(f"{repo.name}: {len(runs)} commands", flush=True)


def _key(args: list[str]) -> str:
    """A command's arguments with a sample's temp folder (as captured before it was masked) masked."""
    return json.dumps([re.sub(r"^/tmp/ma-same-[^/]+", "<SAMPLE>", a) for a in args])


def compare(before: Path, after: Path) -> int:
    differ = same = 0
    for old_file in sorted(before.glob("*.json")):
        new_file = after / old_file.name
        if not new_file.exists():
            print(f"{old_file.stem}: not captured after")
            differ += 1
            continue
        old, new = json.loads(old_file.read_text()), json.loads(new_file.read_text())
        new_by_args = {_key(r["args"]): r for r in new}
        for run in old:
            other = new_by_args.get(_key(run["args"]))
            if other is not None and all(other[k] == run[k] for k in ("exit", "stdout", "stderr")):
                same += 1
                continue
            differ += 1
            what = "missing" if other is None else ", ".join(k for k in ("exit", "stdout", "stderr") if other[k] != run[k])
            print(f"{old_file.stem}: {' '.join(run['args'])}: {what} differ")
    print(f"{same} outputs identical, {differ} differ")
    return 1 if differ else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    cap = sub.add_parser("capture")
    cap.add_argument("out", type=Path)
    cap.add_argument("--clones", type=Path)
    cap.add_argument("--sample", action="store_true")
    cmp_ = sub.add_parser("compare")
    cmp_.add_argument("before", type=Path)
    cmp_.add_argument("after", type=Path)
    args = ap.parse_args()
    if args.what == "capture":
        capture(args.out, args.clones, args.sample)
        return 0
    return compare(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
