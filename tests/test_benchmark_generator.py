"""Tests for benchmarks/make_history.py (the synthetic history generator)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "make_history.py"
COMMITS, REVISIONS, REFS = 300, 20, 30
VERSIONS, ARCHIVE = "app/alembic/versions/", "archive/old_migrations/"


def git(repo: Path, *args: str, stdin: str | None = None) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], input=stdin, check=True,
                          capture_output=True, text=True).stdout


def make(dest: Path, seed: int = 1) -> dict:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), str(dest), "--commits", str(COMMITS), "--revisions",
         str(REVISIONS), "--refs", str(REFS), "--seed", str(seed), "--json"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    dest = tmp_path_factory.mktemp("history") / "repo"
    return dest, make(dest)


def test_commit_and_ref_counts(repo: tuple[Path, dict]) -> None:
    path, summary = repo
    assert int(git(path, "rev-list", "--all", "--count")) == COMMITS
    assert summary["commits"] == COMMITS
    refs = git(path, "for-each-ref", "--format=%(refname)").splitlines()
    assert len(refs) == summary["refs"]
    extra = [r for r in refs if r.startswith(("refs/pull/", "refs/remotes/origin/feature-"))]
    assert len(extra) == REFS
    assert any(r.startswith("refs/pull/") and r.endswith("/head") for r in extra)
    assert any(r.startswith("refs/remotes/origin/feature-") for r in extra)
    assert any(r.startswith("refs/tags/") for r in refs)
    assert any(r.startswith("refs/heads/feature/") for r in refs)
    assert git(path, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert int(git(path, "rev-list", "--all", "--merges", "--count")) > 0
    git(path, "fsck", "--no-dangling")


def test_revision_files_moved_and_deleted(repo: tuple[Path, dict]) -> None:
    path, _ = repo
    log = git(path, "log", "--all", "--no-renames", "--name-status", "--format=")
    entries = [line.split("\t") for line in log.splitlines() if line]
    added = {p for s, p in entries if s == "A" and p.startswith(VERSIONS)}
    assert len(added) == REVISIONS
    archived = {p.rsplit("/", 1)[1] for s, p in entries if s == "A" and p.startswith(ARCHIVE)}
    removed = {p.rsplit("/", 1)[1] for s, p in entries if s == "D" and p.startswith(VERSIONS)}
    assert archived and archived <= removed            # moves are delete + add
    assert removed - archived                          # some deleted for good
    assert any(s == "M" and p.startswith(VERSIONS) for s, p in entries)
    assert any(p.endswith((".md", ".json", ".txt")) for _, p in entries)
    assert len({p for _, p in entries if p.endswith(".py") and not p.startswith((VERSIONS, ARCHIVE))}) > 150


def test_revision_chain(repo: tuple[Path, dict]) -> None:
    path, summary = repo
    objects = git(path, "rev-list", "--all", "--objects")
    blobs = "\n".join(line.split(" ", 1)[0] for line in objects.splitlines()
                      if line.endswith(".py") and (VERSIONS in line or ARCHIVE in line))
    text = git(path, "cat-file", "--batch", stdin=blobs + "\n")
    pairs = re.findall(r"^revision(?:: str)? = '([0-9a-f]{12})'\n^down_revision[^=]*= (.+)$", text, re.M)
    downs = {rev: re.findall(r"'([0-9a-f]{12})'", down) for rev, down in pairs}
    assert len(downs) == REVISIONS == summary["revisions"]
    assert "Revision ID: " in text and "Revises: " in text and "Create Date: " in text
    assert "def upgrade(" in text and "op.add_column(" in text
    assert all(parent in downs for parents in downs.values() for parent in parents)
    assert sum(not parents for parents in downs.values()) == 1          # one root
    assert any(len(parents) == 2 for parents in downs.values())        # merge revision


def test_deterministic(repo: tuple[Path, dict], tmp_path: Path) -> None:
    path, summary = repo
    again = make(tmp_path / "again")
    assert again["head"] == summary["head"] == git(path, "rev-parse", "HEAD").strip()
    assert git(tmp_path / "again", "for-each-ref") == git(path, "for-each-ref")
    other = make(tmp_path / "other", seed=2)
    assert other["head"] != summary["head"]


def test_refuses_non_empty_dest(tmp_path: Path) -> None:
    (tmp_path / "x").write_text("x")
    proc = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path), "--commits", "5"],
                          capture_output=True, text=True)
    assert proc.returncode == 1 and "not empty" in proc.stderr
