"""Time migration-archaeologist on real histories, side by side with git's own floor (issue 17).

    python benchmarks/real_timing.py [MIRRORS] [--clones DIR] [--only NAME]... [--repeat N] [--fresh]
                                     [--tool PATH] [--json] [-o FILE]

MIRRORS and ``--clones`` are read as ``real_repos.py`` reads them (a folder of git mirrors, one per
subfolder; a folder of existing work-tree clones). A mirror with no clone is cloned into a temporary
folder first. The clones given are not modified, except for the tool's own cache files
(``.git/migration-archaeologist*``), which are removed before each cold scan and left behind by the
last one. Everything that needs a commit runs in a fresh ``git clone -q`` of the clone in a
temporary folder, with the clone's remote-tracking branches fetched as well, so the temporary clone
has the same refs (a local clone hardlinks the object files, unreachable objects included).

For each repository, in one run, wall clock, median of ``--repeat`` runs:

* **floor**: ``git cat-file --batch-all-objects --batch-check='%(objectname) %(objecttype)' | awk
  '$2=="commit"{print $1}' | git rev-list --objects --all --reflog --missing=allow-any --stdin >
  /dev/null``: every object of every commit the repository holds (reachable, reflog-only or
  unreachable), which is the history a scan reads. On a repository without unreachable commits it
  equals ``git rev-list --all --objects``;
* **cold**: ``scan REPO --json`` with the cache removed first (``--fresh``: in a fresh clone each
  time instead), and its peak RSS;
* **no-cache**: ``scan REPO --json --no-cache``;
* **unchanged rescan**: ``scan REPO --json`` again, the cache written by the last cold scan;
* **rescan after one commit**: in the temporary clone (scanned once, untimed, to write its
  cache), commit a one-line change to a text file, then ``scan --json``; once per repeat;
* **check warm**: ``check REPO`` after the scans (the cache exists).

The tool runs as a user runs it: a subprocess, ``COLUMNS=200``, stdout to /dev/null, without
``PYTHONDONTWRITEBYTECODE``. Exit codes 0 and 1 (findings) count as success. When ``scan`` with no
options refuses because several Alembic environments exist, every scan of that repository gets
``-c`` with the first configuration it lists (the history read is the same). Peak RSS is
``ru_maxrss`` from ``wait4`` on the tool's process: the largest single process of the tree, the
tool's or one of the git processes it waited for, not their sum. The load average
(``os.getloadavg()``) is recorded before and after each repository: other work on the machine shows
there, and in the spread of the runs (every run is in the JSON).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from real_repos import DEFAULT_TOOL, clone, describe_tool, emit, git, targets  # noqa: E402

FLOOR = ("git cat-file --batch-all-objects --batch-check='%(objectname) %(objecttype)'"
         " | awk '$2==\"commit\"{print $1}'"
         " | git rev-list --objects --all --reflog --missing=allow-any --stdin > /dev/null")
TIMEOUT = 560
OK = (0, 1)


def user_env() -> dict[str, str]:
    """The environment a user's shell gives the tool: ``COLUMNS=200``, no PYTHONDONTWRITEBYTECODE."""
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def timed(cmd: list[str], cwd: Path | None = None, ok: tuple[int, ...] = OK) -> dict[str, Any]:
    """Run ``cmd`` (stdout to /dev/null); wall seconds, exit code, ``ru_maxrss`` in KiB, stderr's tail."""
    with open(os.devnull, "wb") as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, env=user_env())
        deadline = t0 + TIMEOUT
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.002)
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    if proc.returncode not in ok:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {stderr.strip()[-800:]}")
    return {"s": round(seconds, 3), "rc": proc.returncode, "maxrss_kib": usage.ru_maxrss, "stderr": stderr}


def remove_cache(repo: Path) -> None:
    """Delete the tool's cache files (``.git/migration-archaeologist*``), nothing else."""
    gitdir = Path(git(repo, "rev-parse", "--absolute-git-dir").decode().strip())
    for p in glob.glob(str(gitdir / "migration-archaeologist*")):
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p)
        else:
            os.unlink(p)


def fresh_clone(src: Path, dest: Path) -> list[str]:
    """``git clone -q src dest`` plus src's remote-tracking branches, so both have the same refs."""
    notes = clone(src, dest)
    proc = subprocess.run(["git", "-C", str(dest), "fetch", "-q", "origin",
                           "+refs/remotes/origin/*:refs/remotes/origin/*"], capture_output=True, check=False)
    if proc.returncode != 0:
        notes.append("fetching the clone's remote-tracking branches failed: "
                     + proc.stderr.decode(errors="replace").strip()[-300:])
    return notes


def commit_change(repo: Path, n: int) -> None:
    """One commit on HEAD's branch changing one line of a text file, as ``git commit -a`` leaves it."""
    path = repo / "ma-timing.txt"
    path.write_text(f"rescan {n}\n")
    subprocess.run(["git", "-C", str(repo), "add", "ma-timing.txt"], check=True, capture_output=True)
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=bench", "-c", "user.email=bench@example.com",
                    "-c", "commit.gpgsign=false", "commit", "-q", "--no-verify", "-m", f"timing rescan {n}"],
                   check=True, capture_output=True)


def median(runs: list[dict[str, Any]]) -> float:
    """The median wall time of ``runs``."""
    return round(statistics.median(r["s"] for r in runs), 3)


def measure(name: str, repo: Path, tool: str, repeat: int, fresh: bool) -> dict[str, Any]:
    """Every figure for one repository (see the module docstring)."""
    repo = repo.resolve()
    res: dict[str, Any] = {"name": name, "repo": str(repo), "load_before": [round(x, 2) for x in os.getloadavg()],
                           "notes": []}
    t_start = time.perf_counter()
    res["commits"] = int(git(repo, "rev-list", "--all", "--count").decode())
    res["commits_reflog"] = int(git(repo, "rev-list", "--all", "--reflog", "--count").decode())
    listing = git(repo, "cat-file", "--batch-all-objects", "--batch-check=%(objecttype)").split()
    res["commit_objects"] = listing.count(b"commit")
    res["refs"] = len(git(repo, "for-each-ref", "--format=%(refname)").splitlines())

    res["floor"] = [timed(["bash", "-o", "pipefail", "-c", FLOOR], cwd=repo, ok=(0,)) for _ in range(repeat)]

    opts: list[str] = []
    scan = [tool, "scan", str(repo), "--json"]

    def cold_once() -> dict[str, Any]:
        nonlocal opts
        if fresh:
            tmp = Path(tempfile.mkdtemp(prefix=f"ma-timing-cold-{name}-"))
            try:
                fresh_clone(repo, tmp / name)
                return timed([tool, "scan", str(tmp / name), "--json",
                              *[o.replace(str(repo), str(tmp / name)) for o in opts]])
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        remove_cache(repo)
        return timed([*scan, *opts])

    try:
        first = cold_once()
    except RuntimeError as exc:
        m = re.search(r"several Alembic environments found \(([^,)]+)", str(exc))
        if not m:
            raise
        opts = ["-c", str(repo / m.group(1))]
        res["notes"].append(f"scan asks for an environment: every scan runs with -c {m.group(1)}")
        first = cold_once()
    res["scan_options"] = [o.replace(str(repo) + "/", "") for o in opts]
    res["cold"] = [first] + [cold_once() for _ in range(repeat - 1)]
    if fresh:  # the unchanged rescans read the cache of a cold scan of this clone
        remove_cache(repo)
        res["cache_write"] = timed([*scan, *opts])
    res["no_cache"] = [timed([*scan, *opts, "--no-cache"]) for _ in range(repeat)]
    res["unchanged"] = [timed([*scan, *opts]) for _ in range(repeat)]
    res["check_warm"] = [timed([tool, "check", str(repo)]) for _ in range(repeat)]

    tmp = Path(tempfile.mkdtemp(prefix=f"ma-timing-commit-{name}-"))
    try:
        work = tmp / name
        res["notes"] += [f"temporary clone: {n}" for n in fresh_clone(repo, work)]
        res["temp_clone_commits"] = int(git(work, "rev-list", "--all", "--count").decode())
        copts = [o.replace(str(repo), str(work)) for o in opts]
        res["temp_clone_first_scan"] = timed([tool, "scan", str(work), "--json", *copts])
        grown = []
        for n in range(repeat):
            commit_change(work, n)
            grown.append(timed([tool, "scan", str(work), "--json", *copts]))
        res["after_commit"] = grown
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    floor = median(res["floor"])
    res["summary"] = {
        "floor_s": floor,
        "cold_s": median(res["cold"]),
        "no_cache_s": median(res["no_cache"]),
        "cold_x": round(median(res["cold"]) / floor, 2),
        "no_cache_x": round(median(res["no_cache"]) / floor, 2),
        "unchanged_s": median(res["unchanged"]),
        "after_commit_s": median(res["after_commit"]),
        "check_warm_s": median(res["check_warm"]),
        "cold_peak_rss_mib": round(max(r["maxrss_kib"] for r in res["cold"]) / 1024, 1),
        "floor_peak_rss_mib": round(max(r["maxrss_kib"] for r in res["floor"]) / 1024, 1),
    }
    for key in ("floor", "cold", "no_cache", "unchanged", "check_warm", "after_commit"):
        for r in res[key]:
            r.pop("stderr", None)
    for key in ("cache_write", "temp_clone_first_scan"):
        if key in res:
            res[key].pop("stderr", None)
    res["load_after"] = [round(x, 2) for x in os.getloadavg()]
    res["seconds_total"] = round(time.perf_counter() - t_start, 1)
    return res


def machine() -> dict[str, Any]:
    """Cores, Python and git versions, system."""
    gitv = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()
    return {"nproc": os.cpu_count(), "python": platform.python_version(), "git": gitv.replace("git version ", ""),
            "system": f"{platform.system()} {platform.machine()}"}


def render(doc: dict[str, Any]) -> str:
    """The Markdown table (plus the machine, the tool's commit and notes)."""
    m = doc["machine"]
    out = [f"Tool `{doc['tool_commit']}`, {doc['date']}, median of {doc['repeat']} runs"
           f"{' (cold scans in fresh clones)' if doc['fresh'] else ''}; {m['nproc']} cores, Python {m['python']}, "
           f"git {m['git']}, {m['system']}. Load average (1/5/15 min) at start {doc['load_start']}, "
           f"at end {doc['load_end']}.", "",
           "| repository | commits | floor s | cold × | no-cache × | unchanged rescan s | rescan after commit s "
           "| check warm s | peak RSS MiB | load 1 min before → after |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in doc["repositories"]:
        if "error" in r:
            out.append(f"| {r['name']} | error: {r['error'][:200]} |||||||||")
            continue
        s = r["summary"]
        commits = f"{r['commits']:,}"
        if r["commit_objects"] != r["commits"]:
            commits += f" ({r['commit_objects']:,} objects)"
        out.append(f"| {r['name']} | {commits} | {s['floor_s']:.2f} | {s['cold_x']:.2f}× ({s['cold_s']:.2f} s) "
                   f"| {s['no_cache_x']:.2f}× ({s['no_cache_s']:.2f} s) | {s['unchanged_s']:.2f} "
                   f"| {s['after_commit_s']:.2f} | {s['check_warm_s']:.2f} | {s['cold_peak_rss_mib']:.0f} "
                   f"| {r['load_before'][0]:.2f} → {r['load_after'][0]:.2f} |")
    notes = [f"- {r['name']}: {n}" for r in doc["repositories"] if "error" not in r for n in r["notes"]]
    if notes:
        out += ["", *notes]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mirrors", nargs="?", help="folder of git mirrors, one per subfolder")
    ap.add_argument("--clones", help="folder of existing work-tree clones, one per subfolder")
    ap.add_argument("--only", action="append", default=[], help="only this repository (repeatable)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement (median); default 3")
    ap.add_argument("--fresh", action="store_true", help="cold scans in a fresh clone each time")
    ap.add_argument("--tool", default=str(DEFAULT_TOOL), help="the migration-archaeologist executable")
    ap.add_argument("--tool-source", default="/work/main" if Path("/work/main/.git").exists() else ".",
                    help="the tool's checkout, for the commit the output names")
    ap.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    ap.add_argument("-o", "--output", help="write the output here too")
    ap.add_argument("--render", nargs="+", metavar="JSON",
                    help="measure nothing: one table from the --json outputs of earlier runs")
    args = ap.parse_args(argv)
    if args.render:
        docs = [json.loads(Path(f).read_text()) for f in args.render]
        by_date = sorted(docs, key=lambda d: d["date"])
        doc = {**by_date[0], "repositories": [r for d in docs for r in d["repositories"]],
               "load_start": by_date[0]["load_start"], "load_end": by_date[-1]["load_end"]}
        doc["date"] = f"{by_date[0]['date'][:16]}–{by_date[-1]['date'][11:16]} UTC"
        if len({d["date"][:10] for d in docs}) > 1:
            doc["date"] = f"{by_date[0]['date']} – {by_date[-1]['date']}"
        doc["tool_commit"] = " / ".join(sorted({d["tool_commit"] for d in docs}))
        if len({(d["repeat"], d["fresh"], d["tool"]) for d in docs}) > 1:
            ap.error("the JSON files come from runs with different --repeat, --fresh or --tool")
        emit(render(doc), args.output)
        return 0
    if not args.mirrors and not args.clones:
        ap.error("give MIRRORS or --clones DIR")
    args.keep_clones = None
    tool = args.tool
    subprocess.run([tool, "--help"], capture_output=True, env=user_env(), check=False)  # bytecode primed
    doc: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "tool_commit": describe_tool(Path(args.tool_source)),
        "tool": tool, "repeat": args.repeat, "fresh": args.fresh, "machine": machine(),
        "load_start": [round(x, 2) for x in os.getloadavg()], "floor_command": FLOOR, "repositories": [],
    }
    for name, mirror, work in targets(args):
        if args.only and name not in args.only:
            continue
        print(f"timing {name} …", file=sys.stderr, flush=True)
        tmp = None
        try:
            if work is None:
                tmp = tempfile.mkdtemp(prefix=f"ma-timing-{name}-")
                work = Path(tmp) / name
                clone(mirror, work)
            doc["repositories"].append(measure(name, work, tool, args.repeat, args.fresh))
        except Exception as exc:  # one broken repository must not stop the run
            doc["repositories"].append({"name": name, "error": f"{type(exc).__name__}: {exc}"})
            print(f"  {name}: {exc}", file=sys.stderr)
        finally:
            if tmp:
                shutil.rmtree(tmp, ignore_errors=True)
    doc["load_end"] = [round(x, 2) for x in os.getloadavg()]
    emit(json.dumps(doc, indent=1) + "\n" if args.json else render(doc), args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
