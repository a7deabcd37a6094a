"""Progress bars: on a terminal, each long phase shows one; with --json, or when stderr is not a
terminal (CI logs, pipes), nothing is drawn at all."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from gitfixture import revision_source

COMMITS = 4500  # the walk reports every 2,000 commits


@pytest.fixture(scope="module")
def long_history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real repository with thousands of commits, written by one git fast-import stream."""
    repo = tmp_path_factory.mktemp("progress") / "repo"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    lines = []
    revision = revision_source("aaaaaaaaaaa1", None, "base").encode()
    for n in range(COMMITS):
        files = []
        if n == 0:
            files.append((b"alembic/versions/aaaaaaaaaaa1_base.py", revision))
        body = f"VALUE = {n}\n".encode()
        files.append((f"app/module_{n % 50}.py".encode(), body))
        lines.append(b"commit refs/heads/main\n")
        lines.append(b"committer T <t@example.com> %d +0000\n" % (1_700_000_000 + n * 60))
        lines.append(b"data 6\ncommit\n")  # fast-import continues the branch from its last commit
        for path, data in files:
            lines.append(b"M 100644 inline " + path + b"\ndata %d\n" % len(data) + data + b"\n")
    subprocess.run(["git", "-C", str(repo), "fast-import", "--quiet"], input=b"".join(lines), check=True)
    subprocess.run(["git", "-C", str(repo), "checkout", "-q", "main"], check=True)
    return repo


def in_terminal(*args: str) -> tuple[int, bytes, str]:
    """Run the command with stderr on a pseudo-terminal; (exit code, what the terminal showed, stdout)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "migration_archaeologist", *args], stdin=slave,
                            stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 1 << 16)
        except OSError:  # the terminal closes when the command exits
            break
        if not chunk:
            break
        shown += chunk
    out = proc.stdout.read().decode()  # type: ignore[union-attr]
    os.close(master)
    return proc.wait(), shown, out


def test_a_terminal_sees_a_bar_per_phase_with_its_total(long_history: Path) -> None:
    code, shown, out = in_terminal("scan", str(long_history), "--no-cache")
    assert code == 0, shown
    assert b"walking history" in shown
    assert b"reading documents" in shown  # the evidence table's phase has its bar too
    assert f"/{COMMITS}".encode() in shown  # the total, from the object inventory
    assert "aaaaaaaaaaa1" in out and "walking history" not in out


def test_json_and_pipes_get_no_progress_at_all(long_history: Path) -> None:
    code, shown, out = in_terminal("scan", str(long_history), "--no-cache", "--json")
    assert code == 0 and shown == b"" and out.startswith("{")
    piped = subprocess.run([sys.executable, "-m", "migration_archaeologist", "scan", str(long_history), "--no-cache"],
                           capture_output=True, text=True)
    assert piped.returncode == 0 and piped.stderr == ""
    assert "aaaaaaaaaaa1" in piped.stdout
