"""Shared helpers for the bad-input corpus (tests/robustness/test_corpus_repos.py, tests/robustness/test_corpus_files.py).

Every case there is a real repository, file or archive; the command line runs in a subprocess
(``conftest.ma``), always from a folder that is no repository, so nothing but the case is read.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator, Sequence

import pytest

from conftest import ma
from gitfixture import GitRepo, revision_source

V = "alembic/versions"
#: the history cache under the git dir: the one place a scan may write (docs/user-guide.md)
CACHE_DIR = "migration-archaeologist"
GITCONFIG = (
    "[user]\n\tname = Test Author\n\temail = test@example.com\n[init]\n\tdefaultBranch = main\n"
    "[commit]\n\tgpgsign = false\n[advice]\n\tdetachedHead = false\n"
)


def isolated_git_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """conftest's ``_isolated_git`` for module-scoped fixtures, which are built before it applies."""
    home = tmp_path_factory.mktemp("corpus-home")
    (home / ".gitconfig").write_text(GITCONFIG)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(home))
        patch.setenv("GIT_CONFIG_NOSYSTEM", "1")
        patch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
        patch.delenv("MA_DEBUG", raising=False)
        yield


def fingerprint(root: Path, *, cache: bool = False) -> dict[str, str]:
    """Every entry under ``root``, ``.git`` included, extending test_bad_input's ``fingerprint``
    (regular files by content) with file modes, symlinks (by target) and directories, so a new
    empty folder, a chmod or a planted link counts as a write too. The history cache folder is
    left out unless ``cache=True``."""
    out: dict[str, str] = {}
    if not root.exists():
        return out
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if not cache and CACHE_DIR in rel.parts:
            continue
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            out[str(rel)] = f"link -> {os.readlink(path)}"
        elif stat.S_ISDIR(info.st_mode):
            out[str(rel)] = f"dir {stat.S_IMODE(info.st_mode):o}"
        elif stat.S_ISREG(info.st_mode):
            digest = hashlib.sha1(path.read_bytes()).hexdigest()
            out[str(rel)] = f"file {stat.S_IMODE(info.st_mode):o} {digest}"
        else:
            out[str(rel)] = f"special {info.st_mode:o}"
    return out


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The command line, from ``cwd`` (never the project's own repository); never a traceback,
    never an internal error."""
    proc = ma(*args, cwd=cwd)
    both = proc.stdout + proc.stderr
    assert "Traceback" not in both, both
    assert "internal error" not in proc.stderr, proc.stderr
    return proc


def cli_many(commands: Sequence[Sequence[str]], cwd: Path) -> list[subprocess.CompletedProcess[str]]:
    """Independent read-only commands at once (each is a subprocess: two cores run two)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda args: cli(*args, cwd=cwd), commands))


def error_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The one stderr line of a failing command (and nothing on stdout)."""
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert proc.stdout == "", proc.stdout
    return lines[0]


def stdout_lines(proc: subprocess.CompletedProcess[str]) -> list[str]:
    return [line.rstrip() for line in proc.stdout.splitlines()]


def scan_json(proc: subprocess.CompletedProcess[str]) -> dict:  # type: ignore[type-arg]
    assert proc.stderr.strip() == "", proc.stderr
    return json.loads(proc.stdout)


def git(*args: str, cwd: Path | None = None, input: bytes | None = None) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, input=input, capture_output=True, check=True)
    return proc.stdout.decode().strip()


def git_fatal(folder: Path) -> str:
    """git's own one-line verdict on a folder that is no repository (its wording varies by version)."""
    proc = subprocess.run(["git", "rev-parse", "--git-dir"], cwd=folder, capture_output=True, text=True,
                          env={**os.environ, "LC_ALL": "C"})
    assert proc.returncode != 0
    return next(line for line in proc.stderr.splitlines() if line.startswith("fatal:"))


_MEASURE = """
import json, resource, subprocess, sys, time
start = time.monotonic()
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(json.dumps({"seconds": time.monotonic() - start, "rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                  "returncode": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr}))
"""


def measured(*args: str, cwd: Path) -> dict:  # type: ignore[type-arg]
    """Run the command line under a small parent that reports its wall time and the peak resident
    memory of it and every git it started (RUSAGE_CHILDREN of a process that ran nothing else)."""
    env = {k: v for k, v in os.environ.items() if k != "MA_DEBUG"}
    out = subprocess.run([sys.executable, "-c", _MEASURE, sys.executable, "-m", "migration_archaeologist", *args],
                         capture_output=True, text=True, cwd=cwd, env=env, timeout=300, check=True)
    result = json.loads(out.stdout)
    assert "Traceback" not in result["stdout"] + result["stderr"]
    return result


def lost_chain(root: Path, count: int = 3) -> tuple[GitRepo, dict[str, bytes]]:
    """``count`` revisions committed, then deleted; the versions directory is left empty.
    Returns the repository and ``{file name: bytes restore must write}`` in chain order."""
    repo = GitRepo.init(root)
    files: dict[str, str] = {}
    down = None
    for i in range(count):
        rev = f"r{i:04d}"
        files[f"{rev}_step.py"] = revision_source(rev, down, f"step {i}")
        down = rev
    repo.commit("chain", {f"{V}/{name}": text for name, text in files.items()})
    repo.commit("cleanup", remove=[f"{V}/{name}" for name in files])
    (repo.path / V).mkdir(parents=True, exist_ok=True)
    return repo, {name: text.encode() for name, text in files.items()}
