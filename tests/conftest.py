"""Shared fixtures: real git repositories built with real git commands in temp dirs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from gitfixture import GitRepo, revision_source


@pytest.fixture(autouse=True)
def _isolated_git(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests never read the developer's git config, and commits get fixed identities."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Test Author\n\temail = test@example.com\n[init]\n\tdefaultBranch = main\n"
        "[commit]\n\tgpgsign = false\n[advice]\n\tdetachedHead = false\n"
    )


SAMPLE = Path(__file__).resolve().parents[1] / "sample_repos" / "taskman-v2"


@pytest.fixture(scope="session")
def builder():  # type: ignore[no-untyped-def]
    """The TaskMan-v2 sample builder (a script, not a package): ``builder.build(dest)``, ``builder.migrate(url, ...)``."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("taskman_build", SAMPLE / "build.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[GitRepo]:
    yield GitRepo.init(tmp_path / "repo")


@pytest.fixture
def lost(repo: GitRepo) -> GitRepo:
    """b is deleted while c, present, stands on it: lost, recoverable from history (a deleted head
    nothing needs would be retired)."""
    versions = "alembic/versions"
    repo.commit("base", {f"{versions}/a_base.py": revision_source("a", None, "base")})
    repo.commit("next", {f"{versions}/b_next.py": revision_source("b", "a", "next")})
    repo.commit("last", {f"{versions}/c_last.py": revision_source("c", "b", "last")})
    repo.commit("cleanup", remove=[f"{versions}/b_next.py"])
    return repo


def run(args: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, env={**os.environ, **(env or {})})


def ma(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The command line as a user runs it (``python -m``), without MA_DEBUG so errors stay one line;
    ``env`` adds to the environment."""
    env = {**{k: v for k, v in os.environ.items() if k != "MA_DEBUG"}, **(env or {})}
    return subprocess.run([sys.executable, "-m", "migration_archaeologist", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=120)


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line a failing command must print, never a traceback."""
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]


pytest_plugins = ["databases"]
