"""The hook in .pre-commit-hooks.yaml, run as pre-commit runs it: its entry, from the repository root."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gitfixture import GitRepo, revision_source

HOOKS = Path(__file__).resolve().parents[2] / ".pre-commit-hooks.yaml"
V = "alembic/versions"


@pytest.fixture(scope="module")
def hook() -> dict:  # type: ignore[type-arg]
    (found,) = [h for h in yaml.safe_load(HOOKS.read_text()) if h["id"] == "migration-archaeologist-check"]
    return found


def run_hook(hook: dict, repo: GitRepo) -> subprocess.CompletedProcess[str]:  # type: ignore[type-arg]
    script = Path(sys.executable).with_name("migration-archaeologist")  # the installed console script
    program, *args = shlex.split(hook["entry"])
    assert program == script.name
    env = {k: v for k, v in os.environ.items() if k != "MA_DEBUG"}
    return subprocess.run(
        [str(script), *args, *hook.get("args", [])], cwd=repo.path, capture_output=True, text=True, env=env, timeout=120
    )


def test_hook_definition(hook: dict) -> None:  # type: ignore[type-arg]
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False  # check scans the repository, not the files being committed
    assert hook["always_run"] is True  # a deletion-only commit matches no file but can lose a revision


def test_hook_fails_on_two_heads_and_passes_when_merged(hook: dict, repo: GitRepo) -> None:  # type: ignore[type-arg]
    repo.commit("base", {f"{V}/a1f0c2d3e4b5_base.py": revision_source("a1f0c2d3e4b5", None, "base")})
    repo.commit("left", {f"{V}/b2e1d0c9f8a7_left.py": revision_source("b2e1d0c9f8a7", "a1f0c2d3e4b5", "left")})
    repo.commit("right", {f"{V}/c3a4b5c6d7e8_right.py": revision_source("c3a4b5c6d7e8", "a1f0c2d3e4b5", "right")})
    failed = run_hook(hook, repo)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "multiple-heads" in failed.stdout
    assert "b2e1d0c9f8a7" in failed.stdout and "c3a4b5c6d7e8" in failed.stdout
    merge = revision_source("d4c3b2a1f0e9", ("b2e1d0c9f8a7", "c3a4b5c6d7e8"), "merge heads")
    repo.commit("merge", {f"{V}/d4c3b2a1f0e9_merge.py": merge})
    healthy = run_hook(hook, repo)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert healthy.stdout.startswith("ok: 4 revisions, head d4c3b2a1f0e9")
