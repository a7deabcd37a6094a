"""Time ``migration-archaeologist scan`` against ``git rev-list --all --objects``.

    python benchmarks/bench_scan.py [--commits 20000] [--revisions 500] [--refs 2000]
                                    [--seed 1] [--keep DIR] [--repeat 3]

Generates a synthetic history with ``make_history.py`` into a temporary
directory (or reuses ``--keep DIR`` if it already exists; otherwise generates
into it and keeps it), then times, wall clock and best of ``--repeat``:

a. ``git rev-list --all --objects > /dev/null``  -- the cost of merely walking
   every object git can reach, the floor any full-history scan is compared to;
b. ``migration-archaeologist scan REPO --json > /dev/null``.

and prints a small table with the ratio b / a.  The first scan run writes its
JSON to a temporary file (to count ``revisions``) instead of ``/dev/null``.
Exit status: 0, or 1 if a command fails (its stderr is printed).  The scan's
own exit code 1 means "findings" and counts as success.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_history import generate  # noqa: E402


class CommandFailed(Exception):
    """A measured or helper command exited with an unexpected status."""

    def __init__(self, cmd: list[str], code: int, stderr: str) -> None:
        super().__init__(f"{' '.join(cmd)} exited with {code}")
        self.cmd, self.code, self.stderr = cmd, code, stderr


def scan_command() -> list[str]:
    """The console script next to this interpreter, else ``python -m``."""
    script = Path(sys.executable).with_name("migration-archaeologist")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "migration_archaeologist"]


class Run:
    """Outcome of one timed run."""

    def __init__(self, seconds: float, code: int, stderr: str) -> None:
        self.seconds, self.code, self.stderr = seconds, code, stderr


def user_env() -> dict[str, str]:
    """This environment minus PYTHONDONTWRITEBYTECODE, which a user's shell does not set: with it,
    an editable install compiles every module of ours again on each run (50-100 ms of a 20k scan)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_timed(cmd: list[str], ok: tuple[int, ...] = (0,), stdout_path: Path | None = None) -> Run:
    """Run ``cmd`` with stdout to /dev/null (or a file) and time it (wall clock)."""
    with open(stdout_path or os.devnull, "wb") as out:
        started = time.perf_counter()
        proc = subprocess.run(cmd, stdout=out, stderr=subprocess.PIPE, env=user_env())
        elapsed = time.perf_counter() - started
    stderr = proc.stderr.decode(errors="replace")
    if proc.returncode not in ok:
        raise CommandFailed(cmd, proc.returncode, stderr)
    return Run(elapsed, proc.returncode, stderr)


def git_out(repo: Path, *args: str, input: str | None = None) -> str:
    """Run a git command in ``repo`` and return its stdout."""
    cmd = ["git", "-C", str(repo), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, input=input)
    if proc.returncode != 0:
        raise CommandFailed(cmd, proc.returncode, proc.stderr)
    return proc.stdout


def count_py_blobs(repo: Path) -> int:
    """Distinct reachable blobs whose (first reported) path ends in ``.py``."""
    objects = git_out(repo, "rev-list", "--all", "--objects")
    cmd = ["git", "-C", str(repo), "cat-file", "--batch-check=%(objecttype) %(rest)"]
    proc = subprocess.run(cmd, input=objects, capture_output=True, text=True)
    if proc.returncode != 0:
        raise CommandFailed(cmd, proc.returncode, proc.stderr)
    return sum(1 for line in proc.stdout.splitlines()
               if line.startswith("blob ") and line.endswith(".py"))


def machine() -> str:
    """nproc, Python and git versions."""
    try:
        nproc = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        nproc = os.cpu_count() or 0
    git = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()
    return (f"machine: nproc={nproc}, python {platform.python_version()}, {git}, "
            f"{platform.system()} {platform.machine()}")


def prepare_repo(args: argparse.Namespace, workdir: Path) -> Path:
    """Reuse ``--keep`` if it holds a repository, else generate one."""
    if args.keep is not None:
        repo = args.keep.resolve()
        if repo.exists() and any(repo.iterdir()):
            git_out(repo, "rev-parse", "--git-dir")   # fails loudly if not a repository
            print(f"repo: reusing {repo} (generation options ignored)")
            return repo
    else:
        repo = workdir / "repo"
    print(f"repo: generating {args.commits} commits, {args.revisions} revisions, "
          f"{args.refs} extra refs (seed {args.seed}) ...", flush=True)
    summary = generate(repo, args.commits, args.revisions, args.refs, args.seed)
    print(summary.line())
    return repo


def repeat_runs(cmd: list[str], repeat: int, ok: tuple[int, ...] = (0,),
                first_stdout: Path | None = None) -> list[Run]:
    """Run ``cmd`` ``repeat`` times; the first run may write stdout to a file."""
    return [run_timed(cmd, ok, first_stdout if i == 0 else None) for i in range(repeat)]


def _fmt(seconds: float) -> str:
    return f"{seconds:.3f} s" if seconds < 10 else f"{seconds:.1f} s"


def tree_memory(pid: int) -> tuple[int, int]:
    """(RSS of ``pid`` itself, PSS of it and all its descendants) in KiB, read from /proc.

    PSS, not RSS, for the tree: git maps pack files, and the same page-cache pages would be
    counted once per git process that maps them."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    own = total = 0
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/smaps_rollup") as handle:
                for line in handle:
                    if line.startswith("Rss:") and current == pid:
                        own = int(line.split()[1])
                    elif line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            pass
        stack.extend(children.get(current, []))
    return own, total


def peak_memory(cmd: list[str], ok: tuple[int, ...] = (0, 1)) -> tuple[int, int]:
    """Peak (own RSS, tree PSS) in MiB of one run of ``cmd``, sampled every 20 ms."""
    if not Path("/proc/self/smaps_rollup").exists():
        return 0, 0
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=user_env())
    own = total = 0
    while proc.poll() is None:
        now_own, now_total = tree_memory(proc.pid)
        own, total = max(own, now_own), max(total, now_total)
        time.sleep(0.02)
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode not in ok:
        raise CommandFailed(cmd, proc.returncode, stderr)
    return own // 1024, total // 1024


def new_commit(repo: Path, n: int) -> None:
    """One commit on HEAD's branch adding a revision file, written as ``git commit`` would leave
    the repository (new loose objects, the branch and HEAD moved, both reflogs appended)."""
    rid = f"{0xbe7c0000 + n:012x}"
    text = f'"""bench rescan {n}\n\nRevision ID: {rid}\nRevises:\nCreate Date: 2030-01-01\n"""\n' \
        f"revision = {rid!r}\ndown_revision = None\n"
    blob = git_out(repo, "hash-object", "-w", "--stdin", input=text)
    head = git_out(repo, "rev-parse", "HEAD").strip()
    index = Path(tempfile.mkdtemp(prefix="ma-bench-index-")) / "index"
    env = {**os.environ, "GIT_INDEX_FILE": str(index)}
    def git_env_out(*args: str) -> str:
        return subprocess.run(["git", "-C", str(repo), *args], env=env, check=True, capture_output=True,
                              text=True).stdout.strip()
    git_env_out("read-tree", head)
    git_env_out("update-index", "--add", "--cacheinfo", f"100644,{blob.strip()},bench/rescan/{rid}_bench.py")
    tree = git_env_out("write-tree")
    commit = git_env_out("commit-tree", tree, "-p", head, "-m", f"bench rescan {n}")
    git_env_out("update-ref", "-m", f"commit: bench rescan {n}", "HEAD", commit)
    shutil.rmtree(index.parent, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commits", type=int, default=20000)
    parser.add_argument("--revisions", type=int, default=500)
    parser.add_argument("--refs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, default=None,
                        help="reuse this repository if it exists, else generate into it and keep it")
    parser.add_argument("--repeat", type=int, default=3, help="runs per command; best is reported")
    parser.add_argument("--no-rescan", action="store_true",
                        help="skip the cached rescans (they add commits to the repository)")
    args = parser.parse_args(argv)
    repeat = max(1, args.repeat)

    print(machine())
    workdir = Path(tempfile.mkdtemp(prefix="ma-bench-"))
    rescans: list[tuple[str, str]] = []
    try:
        repo = prepare_repo(args, workdir)
        commits = int(git_out(repo, "rev-list", "--all", "--count"))
        refs = len(git_out(repo, "for-each-ref", "--format=%(refname)").splitlines())
        py_blobs = count_py_blobs(repo)

        git_cmd = ["git", "-C", str(repo), "rev-list", "--all", "--objects"]
        git_times = [r.seconds for r in repeat_runs(git_cmd, repeat)]
        git_memory = peak_memory(git_cmd, (0,))

        # a full scan: every ref, the reflogs, unreachable objects; the cache neither read nor written
        scan_cmd = [*scan_command(), "scan", str(repo), "--json", "--no-cache"]
        json_path = workdir / "scan.json"
        first = run_timed(scan_cmd, (0, 1), json_path)
        raw = json_path.read_text(errors="replace")
        try:
            found = len(json.loads(raw)["revisions"])
        except (ValueError, KeyError, TypeError) as exc:
            raise CommandFailed(
                scan_cmd, first.code,
                f"{first.stderr}(stdout is not the expected JSON: {exc!r}; first 2000 chars: {raw[:2000]!r})\n",
            ) from None
        # the first run also wrote our bytecode: it is not timed
        scan_times = [r.seconds for r in repeat_runs(scan_cmd, repeat, (0, 1))]
        scan_memory = peak_memory(scan_cmd)

        if not args.no_rescan:
            cached_cmd = [*scan_command(), "scan", str(repo), "--json"]
            cache_dir = Path(git_out(repo, "rev-parse", "--absolute-git-dir").strip()) / "migration-archaeologist"
            shutil.rmtree(cache_dir, ignore_errors=True)
            built = run_timed(cached_cmd, (0, 1))
            unchanged = [r.seconds for r in repeat_runs(cached_cmd, repeat, (0, 1))]
            grown = []
            base = int(time.time()) % 100000 * 10
            for i in range(repeat):
                new_commit(repo, base + i)
                grown.append(run_timed(cached_cmd, (0, 1)).seconds)
            rescans = [
                ("scan, writing the cache (first run)", _fmt(built.seconds)),
                ("scan again, nothing changed", f"{_fmt(min(unchanged))}  (best of {repeat})"),
                ("scan after one new commit", f"{_fmt(min(grown))}  (best of {repeat}; worst {_fmt(max(grown))})"),
            ]
    except CommandFailed as exc:
        print(f"bench_scan: command failed: {exc}", file=sys.stderr)
        print(exc.stderr, file=sys.stderr, end="" if exc.stderr.endswith("\n") else "\n")
        return 1
    except (OSError, RuntimeError, FileExistsError, ValueError, subprocess.CalledProcessError) as exc:
        print(f"bench_scan: error: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)   # never contains the --keep repository

    git_best, scan_best = min(git_times), min(scan_times)
    rows = [
        ("commits", f"{commits}"),
        ("refs", f"{refs}"),
        ("distinct .py blobs", f"{py_blobs}"),
        ("revision files found", f"{found}"),
        ("git rev-list --all --objects", f"{_fmt(git_best)}  (best of {repeat})"),
        ("scan --no-cache (full scan)", f"{_fmt(scan_best)}  (best of {repeat})"),
        ("ratio full scan / git rev-list", f"{scan_best / git_best:.2f}x" if git_best > 0 else "n/a"),
        *rescans,
        ("peak RSS, git rev-list --all --objects", f"{git_memory[0]} MiB"),
        ("peak RSS, scan (our process)", f"{scan_memory[0]} MiB"),
        ("peak PSS, scan with its git processes", f"{scan_memory[1]} MiB"),
    ]
    width = max(len(k) for k, _ in rows)
    print()
    for key, value in rows:
        print(f"  {key:<{width}}  {value}")
    print(f"\n  runs: git {', '.join(_fmt(t) for t in git_times)}; "
          f"scan {', '.join(_fmt(t) for t in scan_times)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
