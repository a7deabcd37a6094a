"""Revision files of older projects in a real repository: Python 2 syntax (2014-2015) and branch labels
named by another module's constant (OpenStack neutron). Each is cataloged as present, kept by the
history cache and restored byte-identical."""

from __future__ import annotations

from pathlib import Path

from gitfixture import GitRepo, revision_source
from migration_archaeologist.report.json_report import scan_document
from migration_archaeologist.actions.restore import apply_restore, plan_restore
from migration_archaeologist.parse.revision import PYTHON2_NOTE, RevisionFile
from migration_archaeologist.chain.scan import scan_repository
from migration_archaeologist.chain.scan_result import ScanResult

V = "alembic/versions"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PY2_FLAGS = (FIXTURES / "python2" / "1c2d3e4f5a6b_add_legacy_flags.py2").read_bytes()
PY2_MERGE = (FIXTURES / "python2" / "2a3b4c5d6e7f_merge_heads.py2").read_bytes()
NEUTRON_EXPAND = (FIXTURES / "neutron" / "30018084ed99_initial.py").read_bytes()


def python2_history(repo: GitRepo) -> None:
    """Two Python 3 revisions, two Python 2 ones on top, a Python 3 one on them; the Python 2 files
    are deleted while the last one stands on them, so they are lost (needed), not retired."""
    repo.commit("base", {
        f"{V}/4b1f2e3d5c6a_base.py": revision_source("4b1f2e3d5c6a", None, "base"),
        f"{V}/0f9e8d7c6b5a_other.py": revision_source("0f9e8d7c6b5a", "4b1f2e3d5c6a", "other"),
    })
    repo.commit("2014: flags", {f"{V}/1c2d3e4f5a6b_add_legacy_flags.py": PY2_FLAGS})
    repo.commit("2015: merge", {f"{V}/2a3b4c5d6e7f_merge_heads.py": PY2_MERGE})
    repo.commit("2016: on top", {f"{V}/3e4f5a6b7c8d_on_top.py": revision_source("3e4f5a6b7c8d", "2a3b4c5d6e7f", "on top")})
    repo.commit("drop the Python 2 files", remove=[f"{V}/1c2d3e4f5a6b_add_legacy_flags.py", f"{V}/2a3b4c5d6e7f_merge_heads.py"])


def parsed_of(result: ScanResult, rev: str) -> RevisionFile:
    return result.catalog.entries[rev].parsed


def test_python2_revisions_are_cataloged_with_their_parents_and_a_note(repo: GitRepo) -> None:
    python2_history(repo)
    result = scan_repository(repo.path, versions=[V])
    assert result.catalog.unparseable == ()
    flags, merge = parsed_of(result, "1c2d3e4f5a6b"), parsed_of(result, "2a3b4c5d6e7f")
    assert flags.down_revisions == ("4b1f2e3d5c6a",) and flags.python2
    assert merge.down_revisions == ("1c2d3e4f5a6b", "0f9e8d7c6b5a") and merge.branch_labels == ("legacy",)
    assert PYTHON2_NOTE in flags.notes and PYTHON2_NOTE in merge.notes
    assert not parsed_of(result, "4b1f2e3d5c6a").python2
    entries = result.catalog.entries
    assert not entries["1c2d3e4f5a6b"].present and not entries["2a3b4c5d6e7f"].present
    assert set(result.missing) >= {"1c2d3e4f5a6b", "2a3b4c5d6e7f"}
    assert result.chain.heads == ("3e4f5a6b7c8d",)


def test_python2_revisions_are_restored_byte_identical(repo: GitRepo) -> None:
    python2_history(repo)
    result = scan_repository(repo.path, versions=[V])
    plan = plan_restore(result, ["2a3b4c5d6e7f"])
    assert [(f.revision, f.action) for f in plan.files] == [("1c2d3e4f5a6b", "write"), ("2a3b4c5d6e7f", "write")]
    outcome = apply_restore(plan, result)
    assert (repo.path / V / "1c2d3e4f5a6b_add_legacy_flags.py").read_bytes() == PY2_FLAGS
    assert (repo.path / V / "2a3b4c5d6e7f_merge_heads.py").read_bytes() == PY2_MERGE
    assert outcome.our_heads == ("3e4f5a6b7c8d",)
    # what the note warns of: Alembic on Python 3 cannot load them as they are
    assert outcome.alembic is not None and set(outcome.alembic.failed_files) == {
        "versions/1c2d3e4f5a6b_add_legacy_flags.py", "versions/2a3b4c5d6e7f_merge_heads.py"
    }
    # present again, and read from the work tree as from git
    again = scan_repository(repo.path, versions=[V])
    assert again.catalog.entries["2a3b4c5d6e7f"].present and parsed_of(again, "2a3b4c5d6e7f").python2
    assert again.missing == ()


def test_a_label_from_another_repository_leaves_the_revision_present(repo: GitRepo) -> None:
    """neutron-vpnaas's 30018084ed99 names ``cli.EXPAND_BRANCH`` of neutron: the label is unknown, the file is there."""
    repo.commit("kilo", {f"{V}/kilo_release.py": revision_source("kilo", None, "kilo")})
    repo.commit("liberty expand", {f"{V}/liberty/expand/30018084ed99_initial.py": NEUTRON_EXPAND})
    result = scan_repository(repo.path, versions=[V, f"{V}/liberty/expand"])
    assert result.catalog.unparseable == ()
    entry = result.catalog.entries["30018084ed99"]
    assert entry.present and entry.parsed.down_revisions == ("kilo",)
    assert entry.parsed.branch_labels == ()
    assert entry.parsed.unresolved == (("branch_labels", "neutron.db.migration.cli.EXPAND_BRANCH"),)
    assert "30018084ed99" not in result.missing and result.chain.heads == ("30018084ed99",)


def test_the_history_cache_keeps_the_new_fields(repo: GitRepo) -> None:
    python2_history(repo)
    repo.commit("liberty expand", {f"{V}/30018084ed99_initial.py": NEUTRON_EXPAND.replace(b"'kilo'", b"'0f9e8d7c6b5a'")})
    repo.commit("gone", remove=[f"{V}/30018084ed99_initial.py"])
    first = scan_repository(repo.path, versions=[V])
    second = scan_repository(repo.path, versions=[V])
    assert (first.cache, second.cache) == ("new", "unchanged")
    for rev in ("1c2d3e4f5a6b", "2a3b4c5d6e7f", "30018084ed99"):
        assert [c.revision for c in second.catalog.entries[rev].candidates] == [
            c.revision for c in first.catalog.entries[rev].candidates
        ]
    assert parsed_of(second, "2a3b4c5d6e7f").python2
    assert parsed_of(second, "30018084ed99").unresolved == (("branch_labels", "neutron.db.migration.cli.EXPAND_BRANCH"),)
    docs = [scan_document(result) for result in (first, second)]
    for doc in docs:
        doc.pop("cache")
    assert docs[0] == docs[1]
