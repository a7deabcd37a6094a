"""The machine the tool runs on, at a bad moment: a full or closed standard output, a terminal that
cannot show the tool's arrows, a working directory deleted under the shell, warnings made errors.
Each ends in one line and a documented exit code, never an internal error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gitfixture import GitRepo, revision_source

V = "alembic/versions"
CLI = [sys.executable, "-m", "migration_archaeologist"]


@pytest.fixture()
def lost(repo: GitRepo) -> GitRepo:
    repo.commit("base", {f"{V}/a_base.py": revision_source("a", None, "base")})
    repo.commit("next", {f"{V}/b_next.py": revision_source("b", "a", "next")})
    repo.commit("last", {f"{V}/c_last.py": revision_source("c", "b", "last")})
    repo.commit("cleanup", remove=[f"{V}/b_next.py"])
    return repo


def run(args: list[str], **kwargs) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    return subprocess.run([*CLI, *args], capture_output=kwargs.pop("capture_output", True), text=True, timeout=120, **kwargs)


def test_a_full_standard_output_is_one_line_and_exit_3(lost: GitRepo) -> None:
    with open("/dev/full", "w") as full:
        proc = subprocess.run([*CLI, "scan", str(lost.path), "--json"], stdout=full, stderr=subprocess.PIPE, text=True,
                              timeout=120)
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr.strip() == "error: cannot write to standard output: No space left on device"


def test_a_closed_standard_output_is_one_line_and_exit_3(lost: GitRepo) -> None:
    proc = subprocess.run(f"{' '.join(CLI)} scan {lost.path} --json >&-", shell=True, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 3 and proc.stderr.strip() == "error: cannot write to standard output: it is closed"


def test_an_ascii_terminal_gets_escapes_not_a_crash(lost: GitRepo) -> None:
    proc = run(["scan", str(lost.path)], env={**os.environ, "PYTHONIOENCODING": "ascii"})
    assert proc.returncode == 1, proc.stderr  # findings: b is missing
    assert "internal error" not in proc.stderr and "\\u2192" in proc.stdout  # 'base → head', escaped


def test_a_deleted_working_directory_is_named(lost: GitRepo, tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    script = f"cd {gone} && rmdir {gone} && {' '.join(CLI)} scan {lost.path} --json"
    proc = subprocess.run(script, shell=True, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3
    assert proc.stderr.strip() == ("error: the current directory no longer exists (deleted while in use): "
                                   "change to a folder that exists and run again")


@pytest.mark.parametrize("value", ["nan", "inf", "-5", "0"])
def test_a_timeout_must_be_seconds_above_zero(lost: GitRepo, value: str) -> None:
    for command in (["verify", str(lost.path), "--db", "sqlite:///unused.db"], ["recover", str(lost.path)]):
        proc = run([*command, "--timeout", value])
        assert proc.returncode == 2, proc.stderr
        assert "expected a number of seconds above 0" in proc.stderr and "Traceback" not in proc.stderr
def test_warnings_made_errors_find_no_unclosed_pipe(lost: GitRepo) -> None:
    env = {**os.environ, "PYTHONWARNINGS": "error", "PYTHONTRACEMALLOC": "0"}
    for args in (["scan", "--json"], ["check"], ["recover", "--json"]):
        proc = run([*args[:1], str(lost.path), *args[1:]], env=env)
        assert proc.returncode in (0, 1), proc.stderr
        assert "ResourceWarning" not in proc.stderr and "Exception ignored" not in proc.stderr, (args, proc.stderr)


def test_a_report_on_a_full_disk_is_the_machines_trouble(lost: GitRepo) -> None:
    """-o into /dev/full (written through, as a device): exit 3 like every full disk, not 2."""
    for command in ("graph", "timeline"):
        proc = run([command, str(lost.path), "-o", "/dev/full"])
        assert proc.returncode == 3, proc.stderr
        assert proc.stderr.strip() == "error: cannot write /dev/full: No space left on device"
