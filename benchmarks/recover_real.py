"""The founding scenario replayed on real repositories: ``recover`` must make Alembic work again.

    python benchmarks/recover_real.py --clones DIR [--only NAME]... [--tool PATH] [--json] [-o FILE]

For each work tree under ``--clones`` (as ``real_repos.py --clones`` takes them) a throwaway clone
is made, and in one commit its first Alembic environment loses everything: every revision file of
its version locations, its ``alembic.ini`` (when it has one) and the script folder's ``env.py``
and ``script.py.mako``, as the seed's cleanup did. Then ``recover --json`` (the plan) and
``recover --apply --json`` run, and the result is judged against ground truth computed without the
tool:

* the bytes: every deleted file must be back at its path with the content ``git show HEAD~1:PATH``
  gives (the version just before the cleanup);
* Alembic: the heads ``ScriptDirectory`` reports for the environment before the cleanup
  (``real_repos.alembic_truth``: a child process, application imports stubbed) must be the heads
  ``recover`` reports Alembic sees after it;
* nothing else: ``git status`` may show only the restored files (and the manifest).

Seconds of each run are printed beside git's own time to list every commit's changes
(``git log --all --raw``), the floor of any history reading, measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_repos as rr  # noqa: E402

IDENTITY = ["-c", "user.name=Cleanup Bot", "-c", "user.email=cleanup@example.com"]
#: the environment to wipe when a repository has several: the core one
PREFERRED = {"ckan": "ckan/migration/alembic.ini"}


def environment(repo: Path, name: str) -> rr.Env | None:
    tracked = rr.tracked_files(repo)
    revfiles = {}
    for rel in tracked:  # as real_repos.judge reads them: folders no configuration names need them
        if rel.endswith(".py") and not any(part in rr.SKIP_PARTS for part in rel.split("/")):
            data = (repo / rel).read_bytes()
            if b"down_revision" in data:
                parsed = rr.parse_revision_file(rel, data)
                if parsed is not None:
                    revfiles[rel] = parsed
    envs = rr.discover_envs(repo, tracked, revfiles)
    with_files = [e for e in envs if rr.env_files(repo, e)]
    preferred = [e for e in with_files if name in PREFERRED and e.ini == PREFERRED[name]]
    configured = [e for e in with_files if e.ini]  # what recover judges without -c: a configuration first
    return (preferred or configured or with_files or [None])[0]


def as_configured(repo: Path, env: rr.Env) -> rr.Env:
    """The environment as its configuration file alone gives it to Alembic (``alembic -c INI``),
    without the release subfolders a project's own program adds (keystone, neutron): what the
    recovered configuration gives Alembic too."""
    if not (env.ini and env.ini.endswith(".ini") and env.added_subfolders):
        return env
    packages = rr._packages(repo, rr.tracked_files(repo))
    same = [e for e in rr._ini_envs(repo, repo / env.ini, packages) if e.section == env.section]
    return same[0] if same else env


def git_floor(repo: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run(["git", "-C", str(repo), "log", "--all", "--raw", "--no-renames", "--format=%H"],
                   stdout=subprocess.DEVNULL, check=False)
    return time.perf_counter() - t0


def replay(name: str, source: Path, tool: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"ma-recover-{name}-") as tmp:
        repo = Path(tmp) / name
        notes = rr.clone(source, repo)
        env = environment(repo, name)
        if env is None:
            return {"name": name, "error": "no Alembic environment with revision files"}
        truth = rr.alembic_truth(repo, as_configured(repo, env), sys.executable)
        script = repo / env.script_location
        deleted = rr.env_files(repo, env)
        for extra in ([env.ini] if env.ini and (repo / env.ini).is_file() else []) + [
            rr._rel(repo, script / "env.py"), rr._rel(repo, script / "script.py.mako")]:
            if (repo / extra).is_file():
                deleted.append(extra)
        tracked = set(rr.tracked_files(repo))
        deleted = [p for p in deleted if p in tracked]
        rr.git(repo, "rm", "-q", "--", *deleted)
        rr.git(repo, *IDENTITY, "commit", "-q", "-m", "chore: remove stale alembic files")
        options = ["-c", str(repo / env.ini)] if env.ini and env.ini.endswith(".ini") else []
        if env.section and env.section != "alembic":
            options += ["--name", env.section]
        floor = git_floor(repo)
        plan = rr.run_tool(tool, ["recover", str(repo), *options, "--json"])
        applied = rr.run_tool(tool, ["recover", str(repo), *options, "--apply", "--json"])
        doc = applied["json"] or {}
        back = [p for p in deleted if (repo / p).is_file()
                and (repo / p).read_bytes() == rr.git(repo, "show", f"HEAD~1:{p}")]
        status = rr.git(repo, "status", "--porcelain", "--untracked-files=all").decode().splitlines()
        unexpected = [line for line in status if line[3:] not in deleted and "migration-archaeologist-manifest" not in line]
        alembic = doc.get("alembic") or {}
        return {
            "name": name,
            "environment": env.name,
            "clone_notes": notes,
            "deleted": len(deleted),
            "restored_identical": len(back),
            "not_identical": sorted(set(deleted) - set(back))[:10],
            "unexpected_changes": unexpected[:10],
            "plan_rc": plan["rc"],
            "plan_complete": (plan["json"] or {}).get("complete"),
            "apply_rc": applied["rc"],
            "works": doc.get("works"),
            "verdict": doc.get("verdict") or applied["stderr"][-300:],
            "truth_heads": sorted(truth.get("heads") or []),
            "alembic_heads": sorted(alembic.get("heads") or []),
            "heads_agree": sorted(truth.get("heads") or []) == sorted(alembic.get("heads") or []),
            "truth_error": truth.get("error"),
            "seconds_plan": plan["seconds"],
            "seconds_apply": applied["seconds"],
            "git_floor": round(floor, 2),
        }


def render(results: list[dict[str, Any]]) -> str:
    lines = [
        "# The seed's cleanup replayed on real repositories",
        "",
        f"Generated by `benchmarks/recover_real.py` (tool {rr.describe_tool(Path(__file__).resolve().parents[1])}). In a",
        "throwaway clone of each repository one commit deletes every revision file of its first Alembic",
        "environment, its `alembic.ini` and the script folder's `env.py` and `script.py.mako`; then",
        "`recover` plans and `recover --apply` writes. *back byte-identical*: deleted files whose bytes",
        "equal `git show HEAD~1:PATH`. *other changes*: anything else `git status` shows (the manifest",
        "aside). *Alembic heads = before*: the heads Alembic's `ScriptDirectory` gave for the same",
        "configuration before the cleanup (a child process, imports stubbed), against those it gives",
        "after. Seconds are wall clock on 2 cores, the plan's run cold (a fresh clone, no history cache);",
        "`git log s` is `git log --all --raw` on the same clone.",
        "",
        "| repository | environment | deleted | back byte-identical | other changes | plan | apply | Alembic heads = before | verdict | plan s | apply s | git log s |",
        "|---|---|---:|---:|---:|---|---|---|---|---:|---:|---:|",
    ]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['name']} | {r['error']} |" + " |" * 10)
            continue
        lines.append(
            f"| {r['name']} | {r['environment']} | {r['deleted']} | {r['restored_identical']} | {len(r['unexpected_changes'])}"
            f" | {'complete' if r['plan_complete'] else 'incomplete'} (exit {r['plan_rc']}) | exit {r['apply_rc']}"
            f" | {'yes' if r['heads_agree'] else 'NO'} ({', '.join(r['alembic_heads'])}) | {r['verdict']}"
            f" | {r['seconds_plan']} | {r['seconds_apply']} | {r['git_floor']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clones", type=Path, required=True)
    parser.add_argument("--only", action="append", default=[])
    parser.add_argument("--tool", type=Path, default=rr.DEFAULT_TOOL)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("-o", "--output")
    args = parser.parse_args(argv)
    results = []
    for folder in sorted(p for p in args.clones.iterdir() if (p / ".git").exists()):
        if args.only and folder.name not in args.only:
            continue
        print(f"{folder.name} ...", file=sys.stderr, flush=True)
        results.append(replay(folder.name, folder, args.tool))
    rr.emit(json.dumps(results, indent=2) + "\n" if args.json else render(results), args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
