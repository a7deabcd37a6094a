"""The main job on the shipped sample: build TaskMan-v2 in a temp dir and make Alembic work on it again.

Runs the real console script, as a user would: scan, check, timeline (HTML report and Markdown),
recover (the plan), recover --apply (alembic.ini and the six revisions back, Alembic's own heads and
current, the chain replayed and compared with the database), check, and verify, which ends with the
three-way verdict: chain = database, models = database, chain head = stamp.
Exit 0 when Alembic works again on the stamped database and every file is back as it was committed;
otherwise the failing step's code.
"""

from __future__ import annotations

import importlib.util
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("migration-archaeologist")
    return [str(script)] if script.exists() else [sys.executable, "-m", "migration_archaeologist"]


def _step(args: list[str], allowed: tuple[int, ...]) -> int:
    print(f"\n$ migration-archaeologist {shlex.join(args)}", flush=True)
    code = subprocess.run([*_cli(), *args]).returncode
    if code not in allowed:
        print(f"step failed with exit code {code}", file=sys.stderr)
        sys.exit(code or 1)
    return code


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout.strip()


def main() -> None:
    spec = importlib.util.spec_from_file_location("taskman_build", HERE / "build.py")
    assert spec and spec.loader
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    keep = len(sys.argv) > 1 and sys.argv[1] == "--keep"
    workdir = Path(tempfile.mkdtemp(prefix="taskman-v2-"))
    repo = workdir / "TaskMan-v2-repo"
    try:
        info = builder.build(repo)
        print(f"built the TaskMan-v2 sample at {repo}: alembic.ini and every revision file deleted, "
              f"database stamped {info['stamped']}")
        db = f"sqlite:///{info['database']}"
        _step(["scan", str(repo)], allowed=(1,))  # 1 = findings: revisions missing
        _step(["check", str(repo), "--db", db], allowed=(1,))  # alembic.ini deleted, the stamp's file missing
        report = workdir / "taskman-v2-report.html"
        timeline = workdir / "schema-evolution-timeline.md"
        _step(["timeline", str(repo), "--title", "TaskMan-v2", "--db", db, "--format", "html", "-o", str(report)],
              allowed=(0,))
        _step(["timeline", str(repo), "--title", "TaskMan-v2", "--db", db, "-o", str(timeline)], allowed=(0,))
        _step(["recover", str(repo), "--db", db], allowed=(0,))  # the plan: nothing written
        _step(["recover", str(repo), "--db", db, "--apply"], allowed=(0,))  # 0 = Alembic works again, verified
        _step(["check", str(repo), "--db", db], allowed=(0,))
        versions = repo / info["versions_dir"]
        exact, rebuilt = [], []
        for rev, meta in info["revisions"].items():
            restored = versions / meta["file"]
            if not restored.is_file():
                sys.exit(f"{rev}: {restored} was not restored")
            if meta["blob"] is None:  # never committed: survives only as __pycache__ bytecode
                first = restored.read_text(encoding="utf-8").splitlines()[:5]
                if not any("bytecode" in line for line in first):
                    sys.exit(f"{rev}: restored file does not say it was rebuilt from bytecode")
                rebuilt.append(rev)
                continue
            if _git(repo, "hash-object", str(restored)) != meta["blob"]:
                sys.exit(f"{rev}: restored file differs from its last committed version")
            exact.append(rev)
        ini = info["versions_dir"].rsplit("/", 2)[0] + "/alembic.ini"  # beside the alembic/ script folder
        deleted_in = _git(repo, "log", "--diff-filter=D", "--format=%H", "-1", "--", ini)
        if _git(repo, "hash-object", str(repo / ini)) != _git(repo, "rev-parse", f"{deleted_in}^:{ini}"):
            sys.exit(f"{ini} differs from its last committed version")
        print(f"\n{len(exact)} revisions and {ini} restored byte-identical to their last committed version")
        for rev in rebuilt:
            print(f"{rev} rebuilt from its __pycache__ bytecode (never committed)")
        if keep:
            print(f"the recovery map before restoring: {report} (HTML, offline) and {timeline}")
        else:
            print("the recovery map before restoring (HTML and Markdown) was written in a temp folder, now removed:"
                  " run with --keep to keep it")
        # the founding report's success criteria, checked as CI would: the chain builds the database, the models
        # (env.py's target_metadata) describe it, the stamp is the chain's head. Exit 1 when the models differ:
        # they are the application's to change, and this sample's lag behind its database.
        _step(["verify", str(repo), "--db", db], allowed=(0, 1))
    finally:
        if keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
