"""Restoring into a versions directory: byte-identical, atomic, never over anything, checked by Alembic."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from gitfixture import GitRepo, revision_source
from migration_archaeologist.errors import RestoreConflict, RevisionNotFound
from migration_archaeologist.actions.tool_files import MANIFEST_NAME
from migration_archaeologist.actions.restore import apply_restore, plan_restore
from migration_archaeologist.chain.scan import scan_repository

V = "alembic/versions"
APP_IMPORT = "from myapp.models import GUID  # the application is not importable where the tool runs\n"


def lost_chain(repo: GitRepo) -> dict[str, bytes]:
    files = {
        f"{V}/1_base.py": revision_source("r1", None, "base"),
        f"{V}/2_next.py": revision_source("r2", "r1", "next").replace("from alembic import op\n", "from alembic import op\n" + APP_IMPORT),
        f"{V}/3_last.py": revision_source("r3", "r2", "last"),
    }
    repo.commit("chain", files)
    repo.commit("v2 of r3", {f"{V}/3_last.py": files[f"{V}/3_last.py"] + "# tweaked\n"})
    repo.commit("cleanup", remove=list(files))
    (repo.path / V).mkdir(parents=True)
    return {
        "r1": files[f"{V}/1_base.py"].encode(),
        "r2": files[f"{V}/2_next.py"].encode(),
        "r3": (files[f"{V}/3_last.py"] + "# tweaked\n").encode(),
    }


def test_restore_writes_the_chain_byte_identical_and_alembic_agrees(repo: GitRepo) -> None:
    expected = lost_chain(repo)
    result = scan_repository(repo.path, versions=[V])
    plan = plan_restore(result, ["r3"])
    assert [f.revision for f in plan.files] == ["r1", "r2", "r3"]
    assert all(f.action == "write" for f in plan.files)
    assert not any((repo.path / V).iterdir()), "planning writes nothing"
    outcome = apply_restore(plan, result)
    for name, rev in (("1_base.py", "r1"), ("2_next.py", "r2"), ("3_last.py", "r3")):
        assert (repo.path / V / name).read_bytes() == expected[rev]
    assert outcome.our_heads == ("r3",)
    assert outcome.alembic is not None and outcome.alembic.heads == ("r3",)
    assert outcome.heads_agree is True
    assert "myapp" in outcome.alembic.stand_ins and "myapp.models" in outcome.alembic.stand_ins
    manifest = json.loads((repo.path / V / MANIFEST_NAME).read_text())
    rows = {row["revision"]: row for row in manifest["restored"]}
    assert rows["r3"]["blob"] == repo.blob_of(expected["r3"])
    assert rows["r3"]["original_path"] == f"{V}/3_last.py" and rows["r3"]["fidelity"] == "exact"
    # the recorded commit really holds these bytes
    assert repo.git("show", f"{rows['r3']['commit']}:{V}/3_last.py").encode() + b"\n" == expected["r3"]
    leftovers = [p.name for p in (repo.path / V).iterdir() if p.name.startswith(".ma-")]
    assert leftovers == []


def test_restore_only_what_is_missing(repo: GitRepo) -> None:
    expected = lost_chain(repo)
    (repo.path / V / "1_base.py").write_bytes(expected["r1"])
    result = scan_repository(repo.path, versions=[V])
    plan = plan_restore(result, ["r2"])
    assert [f.revision for f in plan.files] == ["r2"] and plan.already_present == ("r1",)


def test_existing_different_file_is_never_overwritten(repo: GitRepo) -> None:
    lost_chain(repo)
    mine = repo.path / V / "2_next.py"
    mine.write_text("# somebody's own work, not a revision file\n")
    result = scan_repository(repo.path, versions=[V])
    plan = plan_restore(result, ["r3"])
    assert [f.action for f in plan.files] == ["write", "conflict", "write"]
    with pytest.raises(RestoreConflict, match="already exists with different content"):
        apply_restore(plan, result)
    assert mine.read_text() == "# somebody's own work, not a revision file\n"
    assert sorted(p.name for p in (repo.path / V).iterdir()) == ["2_next.py"], "nothing else was written"


def test_identical_file_is_a_no_op(repo: GitRepo) -> None:
    expected = lost_chain(repo)
    result = scan_repository(repo.path, versions=[V])
    apply_restore(plan_restore(result, ["r3"]), result, check_with_alembic=False)
    stamp = os.stat(repo.path / V / "3_last.py").st_mtime_ns
    again = scan_repository(repo.path, versions=[V])
    plan = plan_restore(again, ["r3"])
    assert plan.files == () and set(plan.already_present) == {"r1", "r2", "r3"}
    assert os.stat(repo.path / V / "3_last.py").st_mtime_ns == stamp
    assert (repo.path / V / "3_last.py").read_bytes() == expected["r3"]


def test_historic_name_cannot_escape_the_versions_directory(repo: GitRepo) -> None:
    repo.commit("odd", {"weird/..hidden.py": revision_source("w1", None, "odd name")})
    repo.commit("gone", remove=["weird/..hidden.py"])
    (repo.path / V).mkdir(parents=True)
    result = scan_repository(repo.path, versions=[V])
    plan = plan_restore(result, ["w1"])
    assert plan.files[0].action == "conflict" and "not safe" in plan.files[0].note
    with pytest.raises(RestoreConflict):
        apply_restore(plan, result)
    assert not any((repo.path / V).iterdir())


def test_unknown_revision(repo: GitRepo) -> None:
    lost_chain(repo)
    result = scan_repository(repo.path, versions=[V])
    with pytest.raises(RevisionNotFound, match="Can't locate revision identified by '84456d47e6aa'"):
        plan_restore(result, ["84456d47e6aa"])


def test_dangling_blob_gets_an_alembic_style_name(repo: GitRepo) -> None:
    repo.commit("app", {"app.py": "x = 1\n"})
    text = revision_source("d1", None, "Add users table")
    blob = repo.git("hash-object", "-w", "--stdin", input=text)
    (repo.path / V).mkdir(parents=True)
    result = scan_repository(repo.path, versions=[V])
    plan = plan_restore(result, ["d1"])
    assert plan.files[0].target.name == "d1_add_users_table.py"
    apply_restore(plan, result, check_with_alembic=False)
    assert (repo.path / V / "d1_add_users_table.py").read_text() == text
    assert repo.blob_of(text) == blob


def test_an_ancestor_that_exists_nowhere_is_no_success(repo: GitRepo) -> None:
    """restore said "every revision asked for is present" and exited 0 while c's grandparent a exists
    nowhere (seen with a corrupt pack, an LFS pointer, foreign bytecode): the chain is still broken."""
    repo.commit("b and c", {"alembic/versions/b.py": "revision = 'b'\ndown_revision = 'a'\n",
                            "alembic/versions/c.py": "revision = 'c'\ndown_revision = 'b'\n"})
    for extra in ([], ["--apply"]):
        proc = subprocess.run([sys.executable, "-m", "migration_archaeologist", "restore", "c", str(repo.path), *extra],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "not found anywhere, cannot be restored: a" in proc.stdout
        assert "every revision asked for is present" not in proc.stdout
