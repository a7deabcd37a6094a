"""Bad input through the command line: the documented exit code, no traceback, nothing written anywhere."""

from __future__ import annotations

import hashlib
import shutil
import json
import subprocess
from pathlib import Path
from typing import Callable

import pytest

from conftest import ma, one_line_error
from gitfixture import GitRepo, revision_source

V = "alembic/versions"


def fingerprint(root: Path, *, cache: bool = False) -> dict[str, str]:
    """Every file under root, .git included: a scan writes nowhere in git's own directory but its
    history cache (``migration-archaeologist/``), which ``cache=True`` counts too."""
    out = {}
    for path in sorted(root.rglob("*")):
        if not cache and "migration-archaeologist" in path.relative_to(root).parts:
            continue
        if path.is_file() and not path.is_symlink():
            out[str(path.relative_to(root))] = hashlib.sha1(path.read_bytes()).hexdigest()
    return out


def lost_history(repo: GitRepo) -> GitRepo:
    repo.commit("base", {f"{V}/a_base.py": revision_source("a", None, "base")})
    repo.commit("next", {f"{V}/b_next.py": revision_source("b", "a", "next")})
    repo.commit("cleanup", remove=[f"{V}/b_next.py"])
    return repo


def detached(tmp: Path) -> tuple[Path, str]:
    repo = lost_history(GitRepo.init(tmp / "r"))
    repo.git("checkout", "-q", "--detach", "HEAD~1")
    return repo.path, "HEAD is detached"


def bare(tmp: Path) -> tuple[Path, str]:
    repo = lost_history(GitRepo.init(tmp / "r"))
    subprocess.run(["git", "clone", "-q", "--bare", str(repo.path), str(tmp / "bare.git")], check=True)
    return tmp / "bare.git", ""


def mirror_without_config(tmp: Path) -> tuple[Path, str]:
    repo = lost_history(GitRepo.init(tmp / "r"))
    subprocess.run(["git", "clone", "-q", "--mirror", str(repo.path), str(tmp / "m")], check=True)
    (tmp / "m" / "config").unlink()
    return tmp / "m", ""


def shallow(tmp: Path) -> tuple[Path, str]:
    repo = lost_history(GitRepo.init(tmp / "r"))
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo.path}", str(tmp / "s")], check=True)
    return tmp / "s", "shallow clone: history is truncated"


def missing_blob(tmp: Path) -> tuple[Path, str]:
    repo = lost_history(GitRepo.init(tmp / "r"))
    blob = repo.git("rev-parse", f"HEAD~1:{V}/b_next.py")
    (repo.path / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    return repo.path, "could not be read"


def broken_files(tmp: Path) -> tuple[Path, str]:
    repo = lost_history(GitRepo.init(tmp / "r"))
    repo.commit(
        "broken",
        {
            f"{V}/c_syntax.py": revision_source("c", "a", "oops").replace("def downgrade()", "def downgrade("),
            f"{V}/d_latin1.py": b"revision = 'd'\ndown_revision = 'a'\n# caf\xe9 au lait\n",
            f"{V}/e_binary.py": b"\x00\x01revision down_revision\x89PNG",
        },
    )
    return repo.path, "unparseable"


@pytest.mark.parametrize(
    "make",
    [detached, bare, mirror_without_config, shallow, missing_blob, broken_files],
    ids=lambda f: f.__name__,
)
def test_scan_goes_on_and_writes_nothing(tmp_path: Path, make: Callable[[Path], tuple[Path, str]]) -> None:
    target, note = make(tmp_path)
    before = fingerprint(target)
    for args in (["scan", str(target)], ["scan", str(target), "--json"], ["check", str(target)]):
        proc = ma(*args)
        assert proc.returncode in (0, 1), proc.stderr
        assert "Traceback" not in proc.stdout + proc.stderr
        assert proc.stderr.strip() == ""
        if note and "--json" not in args and args[0] == "scan":
            assert note in proc.stdout
    doc = json.loads(ma("scan", str(target), "--json").stdout)
    # a depth-1 clone no longer holds the deleted revision, and a deleted blob cannot be read
    expected = {"a"} if make in (shallow, missing_blob) else {"a", "b"}
    assert expected <= {r["revision"] for r in doc["revisions"]}
    assert fingerprint(target) == before
    # and with --no-cache, not even the cache
    shutil.rmtree(cache_folder(target), ignore_errors=True)
    before = fingerprint(target, cache=True)
    for args in (["scan", str(target), "--no-cache"], ["check", str(target), "--no-cache"]):
        assert ma(*args).returncode in (0, 1)
    assert fingerprint(target, cache=True) == before


def cache_folder(target: Path) -> Path:
    from migration_archaeologist.sources.git.repository import open_repository

    return open_repository(target).common_dir / "migration-archaeologist"


def test_bare_repository_has_nothing_present(tmp_path: Path) -> None:
    target, _ = bare(tmp_path)
    doc = json.loads(ma("scan", str(target), "--json").stdout)
    assert doc["revisions"] and not any(r["present"] for r in doc["revisions"])


def test_restore_dry_run_into_a_bare_repository_is_a_usage_error(tmp_path: Path) -> None:
    target, _ = bare(tmp_path)
    before = fingerprint(target)
    proc = ma("restore", "b", str(target), "--apply")
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "pass --versions DIR" in lines[0]
    assert fingerprint(target) == before


def test_without_git_on_path_one_line_and_exit_3(tmp_path: Path) -> None:
    """No git on PATH: GitPython's import fails with a page of advice; the user gets one line naming
    git, exit 3, and the repository is left as it was."""
    repo = lost_history(GitRepo.init(tmp_path / "r"))
    before = fingerprint(repo.path, cache=True)
    empty = tmp_path / "no-git-here"
    empty.mkdir()
    proc = ma("scan", str(repo.path), cwd=tmp_path, env={"PATH": str(empty)})
    assert proc.returncode == 3, proc.stdout + proc.stderr
    line = one_line_error(proc)
    assert line.startswith("error: git cannot be run (") and line.endswith("is git installed and on PATH?"), line
    assert fingerprint(repo.path, cache=True) == before
