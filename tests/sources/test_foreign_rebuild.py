"""Revision files rebuilt from the bytecode of another CPython (3.8-3.13), proven by that version's
own compiler, scanned and restored like any other source.

The Rebuilder reads ``ForeignCode`` through ``instructions()`` with each version's idioms
(branch ``bc-idioms``, merged).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gitfixture import GitRepo, revision_source
from migration_archaeologist.actions.restore import apply_restore, plan_restore
from migration_archaeologist.chain.scan import scan_repository
from migration_archaeologist.parse.ops import read_ops
from migration_archaeologist.parse.revision import RevisionFile, parse_revision
from migration_archaeologist.sources.bytecode.rebuild import Rebuilt, rebuild
from migration_archaeologist.sources.bytecode.verification import find_python

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bytecode"
SOURCE = FIXTURES / "a1b2c3d4e5f6_add_orders.py"
VERSIONS = ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13")
MAGIC = {"3.8": 3413, "3.9": 3425, "3.10": 3439, "3.11": 3495, "3.12": 3531, "3.13": 3571}
V = "alembic/versions"


def _pyc(version: str) -> Path:
    return FIXTURES / f"a1b2c3d4e5f6_add_orders.cpython-{version.replace('.', '')}.pyc"


def _assert_is_the_revision(source: bytes) -> None:
    parsed = parse_revision(source)
    assert isinstance(parsed, RevisionFile)
    assert parsed.revision == "a1b2c3d4e5f6" and parsed.down_revisions == ("0f9e8d7c6b5a",)
    ops = read_ops(source)
    assert [op.name for op in ops.upgrade] == ["create_table", "create_index"]
    assert [op.name for op in ops.downgrade] == ["drop_index", "drop_table"]


@pytest.mark.parametrize("version", VERSIONS)
def test_pyc_of_each_python_is_rebuilt_and_proven_by_that_python(version: str) -> None:
    if find_python(version) is None:
        pytest.skip(f"no Python {version} here")
    result = rebuild(_pyc(version).read_bytes(), pyc_name=_pyc(version).name)
    assert isinstance(result, Rebuilt), result
    assert result.differences == () and result.fidelity == "bytecode" and result.python == version
    text = result.source.decode()
    assert f"# Python {version} bytecode (magic {MAGIC[version]}), unchecked hash-based" in text
    assert "compiling this file gives the same bytecode." in text
    _assert_is_the_revision(result.source)


def test_without_an_interpreter_of_that_version_the_rebuild_says_not_proven(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no python3.8 on PATH
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path))  # and none in pyenv
    find_python.cache_clear()
    try:
        result = rebuild(_pyc("3.8").read_bytes(), pyc_name="orders.pyc")
    finally:
        find_python.cache_clear()
    assert isinstance(result, Rebuilt), result
    assert result.fidelity == "bytecode-partial"
    line = "not proven: no Python 3.8 found to compile the rebuilt file with (looked on PATH and in pyenv)"
    assert result.differences == (line,)
    text = result.source.decode()
    assert "NOT PROVEN" in text and "INCOMPLETE" not in text and f"#   {line}\n" in text
    _assert_is_the_revision(result.source)


def test_revision_surviving_as_python_38_bytecode_is_restored_as_from_git(repo: GitRepo, tmp_path: Path) -> None:
    if find_python("3.8") is None:
        pytest.skip("no Python 3.8 here")
    base = {f"{V}/0f9e8d7c6b5a_base.py": revision_source("0f9e8d7c6b5a", None, "base")}
    after = {f"{V}/c3c3c3c3c3c3_next.py": revision_source("c3c3c3c3c3c3", "a1b2c3d4e5f6", "stands on the lost one")}
    repo.commit("base and the revision after the lost one", {**base, **after})
    cache = repo.path / V / "__pycache__"
    cache.mkdir()
    shutil.copy(_pyc("3.8"), cache / _pyc("3.8").name)
    (repo.path / ".gitignore").write_text("__pycache__/\n")
    result = scan_repository(repo.path, versions=[V])
    entry = result.catalog.entries["a1b2c3d4e5f6"]
    assert entry.chosen.fidelity == "bytecode"
    plan = plan_restore(result, ["a1b2c3d4e5f6"])

    # the same revision lost from git history: the plan must be the same
    other = GitRepo.init(tmp_path / "from-git")
    other.commit("base", base)
    other.commit("orders", {f"{V}/a1b2c3d4e5f6_add_orders.py": SOURCE.read_text()})
    other.commit("next", after)
    other.commit("cleanup", remove=[f"{V}/a1b2c3d4e5f6_add_orders.py"])
    git_plan = plan_restore(scan_repository(other.path, versions=[V]), ["a1b2c3d4e5f6"])
    shape = [(f.revision, f.target.relative_to(repo.path), f.action) for f in plan.files]
    assert shape == [(f.revision, f.target.relative_to(other.path), f.action) for f in git_plan.files]
    assert shape == [("a1b2c3d4e5f6", Path(V) / "a1b2c3d4e5f6_add_orders.py", "write")]

    outcome = apply_restore(plan, result)
    written = (repo.path / V / "a1b2c3d4e5f6_add_orders.py").read_bytes()
    assert written == result.catalog.content(entry.chosen.blob)  # byte for byte what the sighting holds
    assert outcome.heads_agree is True
    _assert_is_the_revision(written)
