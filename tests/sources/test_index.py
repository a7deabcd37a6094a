"""Revision files staged but never committed: the index, and what ``git rm --cached`` leaves dangling."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone

from conftest import ma
from gitfixture import GitRepo, revision_source
from migration_archaeologist.actions.restore import apply_restore, plan_restore
from migration_archaeologist.chain.scan import scan_repository

V = "alembic/versions"


def staged_then_deleted(repo: GitRepo) -> bytes:
    """b is ``git add``-ed, never committed, then deleted from the work tree; c (committed) stands on it."""
    repo.commit("base", {f"{V}/a_base.py": revision_source("a", None, "base")})
    staged = revision_source("b", "a", "next, staged only").encode()
    repo.write(f"{V}/b_next.py", staged)
    repo.git("add", f"{V}/b_next.py")
    (repo.path / V / "b_next.py").unlink()
    repo.write(f"{V}/c_last.py", revision_source("c", "b", "last"))
    return staged


def test_a_revision_staged_and_never_committed_is_an_index_sighting_and_is_restored(repo: GitRepo) -> None:
    staged = staged_then_deleted(repo)
    result = scan_repository(repo.path, versions=[V])
    entry = result.catalog.entries["b"]
    assert not entry.present and entry.chosen.fidelity == "exact"
    assert [(s.source, s.path) for s in entry.chosen.sightings] == [("index", f"{V}/b_next.py")]
    assert entry.reason == f"staged in the index as {V}/b_next.py, never committed"
    assert result.catalog.content(entry.chosen.blob) == staged
    assert "b" in result.missing
    plan = plan_restore(result, ["b"])
    assert [(f.target.name, f.action, f.fidelity) for f in plan.files] == [("b_next.py", "write", "exact")]
    assert plan.files[0].origin.startswith("index 20")  # the day the index was written
    outcome = apply_restore(plan, result)
    assert (repo.path / V / "b_next.py").read_bytes() == staged
    assert outcome.heads_agree is True


def test_a_cached_scan_sees_a_file_staged_after_it(repo: GitRepo) -> None:
    repo.commit("base", {f"{V}/a_base.py": revision_source("a", None, "base")})
    first = scan_repository(repo.path, versions=[V])
    assert first.cache == "new" and "b" not in first.catalog.entries
    staged_then_deleted(repo)
    again = scan_repository(repo.path, versions=[V])
    assert [s.source for s in again.catalog.entries["b"].chosen.sightings] == ["index"]
    # the index changes without any object changing: unstaged again, it is dangling, and unreachable
    repo.git("rm", "-q", "--cached", f"{V}/b_next.py")
    third = scan_repository(repo.path, versions=[V])
    assert third.cache == "unchanged"
    assert [s.source for s in third.catalog.entries["b"].chosen.sightings] == ["unreachable"]


def test_a_blob_dangling_after_rm_cached_is_an_unreachable_sighting(repo: GitRepo) -> None:
    staged_then_deleted(repo)
    repo.git("rm", "-q", "--cached", f"{V}/b_next.py")
    result = scan_repository(repo.path, versions=[V], cache=False)
    entry = result.catalog.entries["b"]
    assert [(s.source, s.path) for s in entry.chosen.sightings] == [("unreachable", None)]
    assert entry.reason == "found only as an unreachable (dangling) blob"


def test_scan_json_names_the_index_source(repo: GitRepo) -> None:
    staged_then_deleted(repo)
    proc = ma("scan", str(repo.path), "--versions", V, "--json")
    assert proc.returncode in (0, 1), proc.stderr
    doc = json.loads(proc.stdout)
    [b] = [r for r in doc["revisions"] if r["revision"] == "b"]
    [sighting] = b["candidates"][0]["sightings"]
    mtime = datetime.fromtimestamp((repo.path / ".git" / "index").stat().st_mtime, tz=timezone.utc)
    assert sighting == {
        "source": "index", "event": "seen", "commit": None, "ref": None, "path": f"{V}/b_next.py",
        "date": mtime.isoformat(timespec="seconds"),
    }
    assert b["status"] == "missing" and b["reason"] == f"staged in the index as {V}/b_next.py, never committed"


def age_index(repo: GitRepo) -> None:
    """Make the index older than the racy window, as any index is a few seconds after it was written."""
    index = repo.path / ".git" / "index"
    stat = index.stat()
    os.utime(index, ns=(stat.st_atime_ns, stat.st_mtime_ns - 3_600_000_000_000))


def test_the_staged_listing_is_kept_under_the_index_identity_and_head(repo: GitRepo) -> None:
    staged_then_deleted(repo)
    age_index(repo)
    first = scan_repository(repo.path, versions=[V])
    assert [s.source for s in first.catalog.entries["b"].chosen.sightings] == ["index"]
    kept = json.loads((repo.path / ".git" / "migration-archaeologist" / "staged.json").read_text())
    [entry] = kept["entries"].values()
    assert list(entry["staged"].values()) == [[f"{V}/b_next.py"]]
    again = scan_repository(repo.path, versions=[V])  # from the stored listing: the same answer
    assert [s.source for s in again.catalog.entries["b"].chosen.sightings] == ["index"]
    # committed, then HEAD moved back without the index being written: staged again
    repo.git("commit", "-q", "-m", "b")
    age_index(repo)
    committed = scan_repository(repo.path, versions=[V])
    assert {s.source for s in committed.catalog.entries["b"].chosen.sightings} == {"history"}
    repo.git("reset", "-q", "--soft", "HEAD~1")
    back = scan_repository(repo.path, versions=[V])
    assert "index" in {s.source for s in back.catalog.entries["b"].chosen.sightings}
    # unstaged: the index is rewritten, its identity changes, the stored listing is not used
    repo.git("rm", "-q", "--cached", f"{V}/b_next.py")
    age_index(repo)
    unstaged = scan_repository(repo.path, versions=[V])
    assert "index" not in {s.source for c in unstaged.catalog.entries["b"].candidates for s in c.sightings}


def test_the_staged_version_beats_the_one_an_earlier_add_left_dangling(repo: GitRepo) -> None:
    staged_then_deleted(repo)  # b, first draft, staged
    second = revision_source("b", "a", "next, second draft").encode()
    repo.write(f"{V}/b_next.py", second)
    repo.git("add", f"{V}/b_next.py")  # the first draft's blob is dangling now
    (repo.path / V / "b_next.py").unlink()
    result = scan_repository(repo.path, versions=[V], cache=False)
    entry = result.catalog.entries["b"]
    assert sorted(s.source for c in entry.candidates for s in c.sightings) == ["index", "unreachable"]
    assert result.catalog.content(entry.chosen.blob) == second
    assert entry.reason == f"staged in the index as {V}/b_next.py, never committed (newest of 2 versions)"


def test_a_corrupt_index_is_one_warning_and_the_scan_goes_on(repo: GitRepo) -> None:
    staged_then_deleted(repo)
    index = repo.path / ".git" / "index"
    index.write_bytes(b"DIRC" + b"\x00" * 40)
    result = scan_repository(repo.path, versions=[V], cache=False)
    assert "a" in result.catalog.entries and "c" in result.catalog.entries
    [warning] = [w for w in result.warnings if "index" in w]
    assert warning.startswith("the index could not be read, staged files are not looked at: ")
    assert "\n" not in warning
