"""Two builds of the tool on the same repositories, runs alternated: did a change make it slower?

    python benchmarks/ab_tools.py --old OLD_TOOL --new NEW_TOOL --clones DIR [--only NAME]... [--repeat N]

OLD_TOOL and NEW_TOOL are ``migration-archaeologist`` executables of two installs (e.g. a venv with
``pip install`` of ``git archive BASE`` and one of the change). For each clone under ``--clones``,
``--repeat`` rounds; each round runs, one after the other, git's floor (``real_timing.py``'s: every
object of every commit the repository holds, reflog-only and unreachable ones included), then old
and new (in alternating order, so that drift in the machine's load falls on both) for:

* ``scan REPO --json --no-cache`` (the cold read of the whole history),
* ``check REPO`` with the history cache in place (what a pre-commit hook pays),
* ``--version`` (start-up: the imports).

It prints medians, each scan as a ratio to git's floor, and new ÷ old; the machine's load average
before and after. Commands are timed by ``real_timing.timed``: the tool runs as a user runs it, a
subprocess with ``COLUMNS=200``, output to /dev/null. The clones are not modified except for the
tool's cache (``.git/migration-archaeologist*``), written by ``check``'s warm-up run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

from real_timing import FLOOR, timed  # this folder is sys.path[0] when the script runs


def _time(cmd: list[str], cwd: Path) -> float:
    """Wall seconds of one run, as ``real_timing.py`` times it (a user's environment, exit 0 or 1)."""
    return float(timed(cmd, cwd=cwd)["s"])


def _environment_option(tool: str, repo: Path) -> list[str]:
    """``-c FIRST`` when the repository has several environments and ``scan`` refuses to guess (exit 2)."""
    proc = subprocess.run([tool, "check", str(repo), "--no-cache"], capture_output=True, text=True, check=False)
    if proc.returncode != 2:
        return []
    for word in proc.stderr.split():
        candidate = word.strip("',.:;()`")
        if candidate.endswith((".ini", ".toml")) and (repo / candidate).exists():
            return ["-c", str(repo / candidate)]
    return []


def measure(repo: Path, old: str, new: str, repeat: int) -> dict[str, dict[str, float]]:
    """Median seconds of each command for git, old and new."""
    choose = _environment_option(old, repo)
    commands = {
        "scan": lambda tool: [tool, "scan", str(repo), "--json", "--no-cache", *choose],
        "check": lambda tool: [tool, "check", str(repo), *choose],
        "version": lambda tool: [tool, "--version"],
    }
    for tool in (old, new):  # warm-up: bytecode of our modules, the history cache for check
        _time(commands["check"](tool), repo)
    runs: dict[str, dict[str, list[float]]] = {c: {"old": [], "new": []} for c in commands}
    floor: list[float] = []
    for i in range(repeat):
        floor.append(_time(["bash", "-o", "pipefail", "-c", FLOOR], repo))
        order = (("old", old), ("new", new)) if i % 2 == 0 else (("new", new), ("old", old))
        for name, make in commands.items():
            for label, tool in order:
                runs[name][label].append(_time(make(tool), repo))
    result = {name: {label: statistics.median(values) for label, values in by.items()} for name, by in runs.items()}
    result["floor"] = {"git": statistics.median(floor)}
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", required=True, help="the migration-archaeologist executable before the change")
    ap.add_argument("--new", required=True, help="the one after it")
    ap.add_argument("--clones", required=True, type=Path, help="folder of work-tree clones, one per subfolder")
    ap.add_argument("--only", action="append", default=[], help="only this repository (repeatable)")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    repos = sorted(p for p in args.clones.iterdir() if (p / ".git").exists() and (not args.only or p.name in args.only))
    print(f"load before: {os.getloadavg()[0]:.2f}; {args.repeat} rounds, medians; nproc {os.cpu_count()}")
    print("| repository | git floor s | scan old s (× floor) | scan new s (× floor) | scan new÷old | check old s | check new s"
          " | check new÷old | --version old s | --version new s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for repo in repos:
        r = measure(repo, args.old, args.new, args.repeat)
        g, s, c, v = r["floor"]["git"], r["scan"], r["check"], r["version"]
        print(f"| {repo.name} | {g:.3f} | {s['old']:.3f} ({s['old'] / g:.2f}×) | {s['new']:.3f} ({s['new'] / g:.2f}×)"
              f" | {s['new'] / s['old']:.3f} | {c['old']:.3f} | {c['new']:.3f} | {c['new'] / c['old']:.3f}"
              f" | {v['old']:.3f} | {v['new']:.3f} |", flush=True)
    print(f"load after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
