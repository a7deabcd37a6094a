"""Incremental bundles (``git bundle create x.bundle main~1..main``): read against the repository."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from gitfixture import GitRepo, revision_source
from migration_archaeologist.actions.restore import apply_restore, plan_restore
from migration_archaeologist.chain.scan import scan_repository

V = "alembic/versions"


def objects_listing(git_dir: Path) -> list[tuple[str, int]]:
    return sorted(
        (os.path.relpath(os.path.join(d, n), git_dir), os.stat(os.path.join(d, n)).st_mtime_ns)
        for d, _dirs, names in os.walk(git_dir / "objects")
        for n in names
    )


def colleague_bundle(repo: GitRepo, tmp_path: Path) -> tuple[Path, bytes]:
    """A colleague's clone adds b on top of the shared base and mails ``base..main`` as a bundle;
    the repository scanned has the base, then c (standing on b) is written by hand."""
    repo.commit("base", {f"{V}/a_base.py": revision_source("a", None, "base")})
    clone = GitRepo(tmp_path / "colleague")
    subprocess.run(["git", "clone", "-q", str(repo.path), str(clone.path)], check=True, capture_output=True)
    text = revision_source("b", "a", "next, from the colleague")
    clone.commit("next", {f"{V}/b_next.py": text})
    clone.commit("tweak", {"README": "hello\n"})
    bundle = tmp_path / "colleague.bundle"
    clone.git("bundle", "create", str(bundle), "main~2..main")
    repo.write(f"{V}/c_last.py", revision_source("c", "b", "last"))
    return bundle, text.encode()


def test_an_incremental_bundle_is_read_against_the_repository_and_restored(repo: GitRepo, tmp_path: Path) -> None:
    bundle, text = colleague_bundle(repo, tmp_path)
    before = objects_listing(repo.path / ".git")
    result = scan_repository(repo.path, versions=[V], archives=[bundle], cache=False)
    assert result.archive_issues == ()
    entry = result.catalog.entries["b"]
    assert [(s.source, s.path) for s in entry.chosen.sightings] == [("archive", f"{bundle}!{V}/b_next.py")]
    assert result.catalog.content(entry.chosen.blob) == text and entry.chosen.fidelity == "exact"
    # only what the bundle brings: the base it stands on is the repository's own
    assert "a" in result.catalog.entries
    assert not any(s.source == "archive" for c in result.catalog.entries["a"].candidates for s in c.sightings)
    assert objects_listing(repo.path / ".git") == before, "the user's object directory is never written"
    plan = plan_restore(result, ["b"])
    assert [(f.target.name, f.action, f.fidelity) for f in plan.files] == [("b_next.py", "write", "exact")]
    apply_restore(plan, result)
    assert (repo.path / V / "b_next.py").read_bytes() == text


def test_an_incremental_bundle_whose_prerequisite_is_missing_says_which(repo: GitRepo, tmp_path: Path) -> None:
    bundle, _text = colleague_bundle(repo, tmp_path)
    needed = GitRepo(tmp_path / "colleague").git("rev-parse", "main~2")
    other = GitRepo.init(tmp_path / "unrelated")
    other.commit("elsewhere", {f"{V}/a_base.py": revision_source("x", None, "another project")})
    result = scan_repository(other.path, versions=[V], archives=[bundle], cache=False)
    assert "b" not in result.catalog.entries
    [issue] = result.archive_issues
    assert issue.reason == (
        f"incremental bundle: it needs commit {needed} (1 of its 1 prerequisite(s) missing), which this "
        "repository does not hold: not read (fetch that history first)"
    )
