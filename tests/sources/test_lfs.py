"""Git LFS: a revision committed through LFS is a pointer in git and its bytes in ``.git/lfs/objects``.

The fixtures are built by hand (no git-lfs program is needed or run): the pointer text is committed
as an ordinary blob and the object written where git-lfs would keep it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from gitfixture import GitRepo, revision_source
from migration_archaeologist.errors import RestoreConflict
from migration_archaeologist.actions.restore import apply_restore, plan_restore
from migration_archaeologist.chain.scan import scan_repository

V = "alembic/versions"


def pointer_of(data: bytes) -> tuple[str, bytes]:
    oid = hashlib.sha256(data).hexdigest()
    return oid, f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {len(data)}\n".encode()


def store(repo: GitRepo, data: bytes) -> Path:
    oid = hashlib.sha256(data).hexdigest()
    path = repo.path / ".git" / "lfs" / "objects" / oid[:2] / oid[2:4] / oid
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def lost_through_lfs(repo: GitRepo) -> bytes:
    """b was committed through LFS (a pointer in git), then deleted while c, present, stands on it."""
    real = revision_source("b", "a", "next, through LFS").encode()
    _oid, pointer = pointer_of(real)
    repo.commit("base", {f"{V}/a_base.py": revision_source("a", None, "base")})
    repo.commit("next", {f"{V}/b_next.py": pointer})
    repo.commit("last", {f"{V}/c_last.py": revision_source("c", "b", "last")})
    repo.commit("cleanup", remove=[f"{V}/b_next.py"])
    return real


def test_a_deleted_revision_committed_through_lfs_is_read_from_the_local_store_and_restored(repo: GitRepo) -> None:
    real = lost_through_lfs(repo)
    store(repo, real)
    result = scan_repository(repo.path, versions=[V])
    entry = result.catalog.entries["b"]
    assert entry.chosen.fidelity == "exact" and not entry.present
    assert result.catalog.content(entry.chosen.blob) == real
    assert entry.chosen.blob == repo.blob_of(real)  # known by the object's own blob id, not the pointer's
    assert [s.path for s in entry.chosen.sightings if s.event == "deleted"] == [f"{V}/b_next.py"]
    assert "b" in result.missing
    assert result.unreadable == ()
    plan = plan_restore(result, ["b"])
    assert [(f.target.name, f.action, f.fidelity) for f in plan.files] == [("b_next.py", "write", "exact")]
    outcome = apply_restore(plan, result)
    assert (repo.path / V / "b_next.py").read_bytes() == real
    assert outcome.heads_agree is True
    manifest = json.loads((repo.path / V / "migration-archaeologist-manifest.json").read_text())
    assert [(r["revision"], r["fidelity"]) for r in manifest["restored"]] == [("b", "exact")]
    # a second scan, answered by the stored history, still knows the bytes
    again = scan_repository(repo.path, versions=[V])
    assert again.cache == "unchanged" and "b" in again.catalog.entries and again.catalog.entries["b"].present


def test_a_pointer_whose_object_is_absent_is_reported_in_one_line_and_fetched_later(repo: GitRepo) -> None:
    real = lost_through_lfs(repo)
    oid, _pointer = pointer_of(real)
    result = scan_repository(repo.path, versions=[V])
    assert "b" not in result.catalog.entries
    [item] = result.unreadable
    assert item.path == f"{V}/b_next.py" and oid in item.reason
    assert "not fetched: the tool never goes to the network; `git lfs fetch` would bring it" in item.reason
    # `git lfs fetch` brings the object: the stored scan must notice and read it
    store(repo, real)
    again = scan_repository(repo.path, versions=[V])
    assert again.cache == "rebuilt: Git LFS objects were fetched"
    assert "b" in again.catalog.entries and again.catalog.content(again.catalog.entries["b"].chosen.blob) == real
    assert again.unreadable == ()


def test_an_lfs_object_that_does_not_match_its_pointer_is_an_issue_not_a_sighting(repo: GitRepo) -> None:
    real = lost_through_lfs(repo)
    oid, _pointer = pointer_of(real)
    forged = revision_source("b", "a", "next, forged").encode()
    path = store(repo, real)
    path.write_bytes(forged)  # same name, other bytes
    result = scan_repository(repo.path, versions=[V], cache=False)
    assert "b" not in result.catalog.entries
    [item] = result.unreadable
    assert item.path == f"{V}/b_next.py" and oid in item.reason and "does not match its pointer" in item.reason


def test_a_repository_without_lfs_reads_no_lfs_store(repo: GitRepo) -> None:
    """Plain .py files that merely start like a pointer but are longer than the spec's 1024 bytes stay files."""
    text = "version https://git-lfs.github.com/spec/v1\n" + "#" * 2000 + "\n"
    repo.commit("odd", {f"{V}/notes.py": text})
    result = scan_repository(repo.path, versions=[V], cache=False)
    assert result.unreadable == ()
    assert not (repo.path / ".git" / "lfs").exists()


def test_a_versions_file_that_is_a_pointer_is_not_present_and_restore_never_overwrites_it(repo: GitRepo) -> None:
    """A clone without git-lfs: smudge never ran, the versions directory holds the pointer text."""
    real = revision_source("b", "a", "next, through LFS").encode()
    _oid, pointer = pointer_of(real)
    repo.commit("base", {f"{V}/a_base.py": revision_source("a", None, "base")})
    repo.commit("next", {f"{V}/b_next.py": pointer})
    repo.commit("last", {f"{V}/c_last.py": revision_source("c", "b", "last")})
    store(repo, real)
    result = scan_repository(repo.path, versions=[V])
    entry = result.catalog.entries["b"]
    assert not entry.present and "b" in result.missing
    assert result.catalog.content(entry.chosen.blob) == real
    [bad] = result.catalog.unparseable
    assert [s.path for s in bad.sightings] == [f"{V}/b_next.py"]
    assert bad.reason.startswith("a Git LFS pointer (sha256:") and "smudge never ran" in bad.reason
    plan = plan_restore(result, ["b"])
    [planned] = plan.files
    assert planned.action == "conflict"
    assert "is the Git LFS pointer of this very file" in planned.note and "never overwritten" in planned.note
    with pytest.raises(RestoreConflict):
        apply_restore(plan, result)
    assert (repo.path / V / "b_next.py").read_bytes() == pointer


def test_pointers_in_a_stash_and_in_the_index_are_read_from_the_store_too(repo: GitRepo) -> None:
    repo.commit("base", {f"{V}/a_base.py": revision_source("a", None, "base")})
    stashed = revision_source("s", "a", "stashed through LFS").encode()
    staged = revision_source("t", "a", "staged through LFS").encode()
    for data in (stashed, staged):
        store(repo, data)
    repo.write(f"{V}/s_stashed.py", pointer_of(stashed)[1])
    repo.git("add", f"{V}/s_stashed.py")
    repo.git("stash", "-q")
    repo.write(f"{V}/t_staged.py", pointer_of(staged)[1])
    repo.git("add", f"{V}/t_staged.py")
    (repo.path / V / "t_staged.py").unlink()
    result = scan_repository(repo.path, versions=[V], cache=False)
    s, t = result.catalog.entries["s"], result.catalog.entries["t"]
    assert result.catalog.content(s.chosen.blob) == stashed and result.catalog.content(t.chosen.blob) == staged
    assert {x.source for x in s.chosen.sightings} == {"stash"}
    assert [(x.source, x.path) for x in t.chosen.sightings] == [("index", f"{V}/t_staged.py")]
    assert s.chosen.fidelity == t.chosen.fidelity == "exact"
    assert result.unreadable == ()


def test_a_dangling_pointer_is_an_unreachable_sighting_of_the_object(repo: GitRepo) -> None:
    repo.commit("base", {f"{V}/a_base.py": revision_source("a", None, "base")})
    real = revision_source("t", "a", "staged through LFS, then unstaged").encode()
    store(repo, real)
    repo.write(f"{V}/t_staged.py", pointer_of(real)[1])
    repo.git("add", f"{V}/t_staged.py")
    repo.git("rm", "-q", "--cached", f"{V}/t_staged.py")
    (repo.path / V / "t_staged.py").unlink()
    result = scan_repository(repo.path, versions=[V], cache=False)
    t = result.catalog.entries["t"]
    assert [x.source for x in t.chosen.sightings] == ["unreachable"]
    assert t.chosen.blob == repo.blob_of(real) and result.catalog.content(t.chosen.blob) == real


def test_hostile_lfs_objects_are_issues_never_read_through(repo: GitRepo, tmp_path: Path) -> None:
    """An object that is a link (to a file outside), and a pointer claiming a huge size: one line each."""
    real = lost_through_lfs(repo)
    oid, _pointer = pointer_of(real)
    outside = tmp_path / "outside.py"
    outside.write_bytes(real)  # the right bytes, even: a link is still not followed
    path = repo.path / ".git" / "lfs" / "objects" / oid[:2] / oid[2:4] / oid
    path.parent.mkdir(parents=True)
    path.symlink_to(outside)
    huge = "version https://git-lfs.github.com/spec/v1\noid sha256:" + "ab" * 32 + "\nsize 99999999999\n"
    repo.commit("huge", {f"{V}/d_huge.py": huge})
    result = scan_repository(repo.path, versions=[V], cache=False)
    reasons = sorted(u.reason for u in result.unreadable)
    assert len(reasons) == 2 and "b" not in result.catalog.entries
    assert reasons[0].startswith(f"Git LFS object sha256:{oid} not read: ") and "symbolic link" in reasons[0]
    assert reasons[1] == (
        f"Git LFS object sha256:{'ab' * 32} is 99,999,999,999 bytes: too large to be a revision file "
        "(over 8 MiB), not read"
    )
