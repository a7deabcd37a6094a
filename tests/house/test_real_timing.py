"""benchmarks/real_timing.py on a tiny clone: every figure measured, the clone left as it was."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "real_timing.py"
TOOL = Path(sys.executable).with_name("migration-archaeologist")

pytestmark = pytest.mark.skipif(not TOOL.exists(), reason="needs the migration-archaeologist console script")


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                          env=env).stdout.strip()


def test_times_a_clone_and_leaves_it_alone(tmp_path: Path) -> None:
    repo = tmp_path / "clones" / "tiny"
    versions = repo / "migrations" / "versions"
    versions.mkdir(parents=True)
    (repo / "migrations" / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s\n")
    (repo / "migrations" / "env.py").write_text("")
    _git(repo, "init", "-q", "-b", "main")
    for n, (rev, down) in enumerate([("aaaaaaaaaaaa", None), ("bbbbbbbbbbbb", "aaaaaaaaaaaa")]):
        (versions / f"{rev}_step.py").write_text(
            f'"""step {n}\n\nRevision ID: {rev}\nRevises: {down or ""}\n"""\n'
            f"revision = {rev!r}\ndown_revision = {down!r}\n")
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", f"step {n}")
    head = _git(repo, "rev-parse", "HEAD")

    out = tmp_path / "tiny.json"
    proc = subprocess.run([sys.executable, str(SCRIPT), "--clones", str(tmp_path / "clones"), "--repeat", "2",
                           "--tool", str(TOOL), "--json", "-o", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    (r,) = doc["repositories"]
    assert "error" not in r, r
    assert r["commits"] == 2 and r["commit_objects"] == 2
    for key in ("floor", "cold", "no_cache", "unchanged", "check_warm", "after_commit"):
        assert len(r[key]) == 2 and all(run["s"] > 0 for run in r[key]), key
    s = r["summary"]
    assert s["cold_x"] == round(s["cold_s"] / s["floor_s"], 2)
    assert s["cold_peak_rss_mib"] > 1
    assert len(r["load_before"]) == 3
    # the clone: same HEAD, no new commit, a cache left behind by the last cold scan
    assert _git(repo, "rev-parse", "HEAD") == head
    assert _git(repo, "rev-list", "--all", "--count") == "2"
    assert not (repo / "ma-timing.txt").exists()
    assert r["temp_clone_commits"] == 2

    table = subprocess.run([sys.executable, str(SCRIPT), "--render", str(out)], capture_output=True, text=True)
    assert table.returncode == 0, table.stderr
    assert "| tiny | 2 |" in table.stdout
    assert "Load average" in table.stdout
