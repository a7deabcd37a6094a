"""Archives, bytecode and documents, through scan and restore: what a cleanup left behind still counts."""

from __future__ import annotations

import json
import py_compile
import sys
import zipfile
from pathlib import Path

from conftest import ma
from gitfixture import GitRepo, revision_source
from migration_archaeologist.actions.restore import apply_restore, plan_restore
from migration_archaeologist.chain.scan import scan_repository
from migration_archaeologist.parse.ops import read_ops

V = "alembic/versions"
BODY = (
    "    op.create_table('users', sa.Column('id', sa.Integer(), nullable=False),\n"
    "                    sa.Column('email', sa.String(length=255), nullable=False),\n"
    "                    sa.PrimaryKeyConstraint('id'))\n"
    "    op.create_index(op.f('ix_users_email'), 'users', ['email'], unique=True)"
)


def test_revision_surviving_only_as_bytecode_is_rebuilt_and_restored(repo: GitRepo, tmp_path: Path) -> None:
    repo.commit("base", {f"{V}/a_base.py": revision_source("a", None, "base")})
    original = revision_source("u1", "a", "add users table", body=BODY)
    source = tmp_path / "u1_add_users_table.py"
    source.write_text(original)
    cache = repo.path / V / "__pycache__"
    cache.mkdir()
    pyc = cache / f"u1_add_users_table.{sys.implementation.cache_tag}.pyc"
    py_compile.compile(str(source), cfile=str(pyc), invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    (repo.path / ".gitignore").write_text("__pycache__/\n")
    result = scan_repository(repo.path, versions=[V])
    entry = result.catalog.entries["u1"]
    assert entry.chosen.fidelity == "bytecode" and "bytecode rebuild" in entry.reason
    assert entry.parsed.down_revisions == ("a",) and entry.parsed.message == "add users table"
    assert [op.name for op in read_ops(result.catalog.content(entry.chosen.blob)).upgrade] == ["create_table", "create_index"]
    plan = plan_restore(result, ["u1"])
    assert [f.target.name for f in plan.files] == ["u1_add_users_table.py"]
    outcome = apply_restore(plan, result)
    rebuilt = (repo.path / V / "u1_add_users_table.py").read_text()
    assert "reconstructed from bytecode" in rebuilt.lower() and pyc.name in rebuilt
    assert outcome.heads_agree is True and outcome.alembic is not None and outcome.alembic.heads == ("u1",)
    # compiled, the rebuilt file is the original bytecode (instructions and constants)
    from migration_archaeologist.sources.bytecode.rebuild import rebuild

    assert rebuild(pyc.read_bytes(), pyc_name=pyc.name).complete  # type: ignore[union-attr]


def test_archives_given_and_untracked_backups_are_read(repo: GitRepo, tmp_path: Path) -> None:
    repo.commit("base", {f"{V}/a_base.py": revision_source("a", None, "base")})
    older = revision_source("b", "a", "next, first draft")
    archive = tmp_path / "backup-2025-10.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("migrations/versions/b_next.py", older)
    (repo.path / "backup").mkdir()
    (repo.path / "backup" / "c_third.py").write_text(revision_source("c", "b", "third, never committed"))
    default = scan_repository(repo.path, versions=[V])
    c = default.catalog.entries["c"]
    assert {(s.source, s.path) for cand in c.candidates for s in cand.sightings} == {("archive", "backup/c_third.py")}
    given = scan_repository(repo.path, versions=[V], archives=[archive])
    b = given.catalog.entries["b"]
    assert {s.path for cand in b.candidates for s in cand.sightings} == {f"{archive}!migrations/versions/b_next.py"}
    plan = plan_restore(given, ["b"])
    assert plan.files[0].target.name == "b_next.py"


def test_zip_bomb_is_refused_with_a_message(repo: GitRepo, tmp_path: Path) -> None:
    repo.commit("base", {f"{V}/a_base.py": revision_source("a", None, "base")})
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("versions/huge.py", b"\0" * (40 * 1024 * 1024))
    proc = ma("scan", str(repo.path), "--archive", str(bomb), "--json")
    assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr
    issues = json.loads(proc.stdout)["archive_issues"]
    assert len(issues) == 1 and "ratio" in issues[0]["reason"]


def test_evidence_table_reports_a_documented_revision_that_exists_nowhere(repo: GitRepo) -> None:
    repo.commit("base", {f"{V}/a_base.py": revision_source("a", None, "base")})
    repo.commit(
        "docs",
        {
            "docs/migrations.md": "| Migration File | Purpose |\n|---|---|\n"
            "| `a_base.py` | the base |\n| `deadbeef0123_add_audit_log.py` | audit log |\n",
        },
    )
    doc = json.loads(ma("scan", str(repo.path), "--json").stdout)
    rows = {e["revision"]: e for e in doc["evidence"]}
    assert rows["deadbeef0123"]["status"] == "lost"
    assert rows["deadbeef0123"]["mentions"][0]["path"] == "docs/migrations.md"
    assert rows["a"]["status"] == "present"


def test_big_ignored_archives_are_left_for_an_explicit_archive_option(repo: GitRepo) -> None:
    import migration_archaeologist.chain.scan_sources as scan_module

    repo.commit("base", {f"{V}/a_base.py": revision_source("a", None, "base"), ".gitignore": "dumps/\n"})
    (repo.path / "dumps").mkdir()
    with zipfile.ZipFile(repo.path / "dumps" / "nightly.zip", "w") as z:
        z.writestr("versions/b_next.py", revision_source("b", "a", "next"))
    old = scan_module.UNTRACKED_ARCHIVE_LIMIT
    scan_module.UNTRACKED_ARCHIVE_LIMIT = 10  # bytes: the zip above counts as big
    try:
        result = scan_repository(repo.path, versions=[V])
    finally:
        scan_module.UNTRACKED_ARCHIVE_LIMIT = old
    assert "b" not in result.catalog.entries
    assert [i.archive for i in result.archive_issues] == ["dumps/nightly.zip"]
    assert "pass --archive" in result.archive_issues[0].reason
    assert "b" in scan_repository(repo.path, versions=[V]).catalog.entries  # small enough by default


def test_committed_pycache_is_rebuilt_from_history(repo: GitRepo, tmp_path: Path) -> None:
    """Someone committed __pycache__, then deleted the source: the history's bytecode still counts."""
    repo.commit("base", {f"{V}/a_base.py": revision_source("a", None, "base")})
    source = tmp_path / "u1_users.py"
    source.write_text(revision_source("u1", "a", "add users table", body=BODY))
    pyc_rel = f"{V}/__pycache__/u1_users.{sys.implementation.cache_tag}.pyc"
    (repo.path / pyc_rel).parent.mkdir(parents=True)
    py_compile.compile(str(source), cfile=str(repo.path / pyc_rel),
                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    repo.git("add", "-f", pyc_rel)
    repo.commit("oops, bytecode")
    repo.commit("remove bytecode", remove=[pyc_rel])
    result = scan_repository(repo.path, versions=[V])
    entry = result.catalog.entries["u1"]
    assert entry.chosen.fidelity == "bytecode" and entry.parsed.down_revisions == ("a",)
    assert {(s.source, s.event) for s in entry.chosen.sightings} == {("history", "added"), ("history", "deleted")}
    assert plan_restore(result, ["u1"]).files[0].target.name == "u1_users.py"


def test_bytecode_of_another_python_is_named_in_a_warning(repo: GitRepo) -> None:
    repo.commit("base", {f"{V}/a_base.py": revision_source("a", None, "base")})
    cache = repo.path / V / "__pycache__"
    cache.mkdir()
    # a Python 3.9 header (magic 3425) on a body this interpreter must not unmarshal
    (cache / "b_next.cpython-39.pyc").write_bytes((3425).to_bytes(2, "little") + b"\r\n" + bytes(12) + b"\xe3garbage")
    result = scan_repository(repo.path, versions=[V])
    assert any("Python 3.9" in w and "b_next.cpython-39.pyc" in w for w in result.warnings), result.warnings
    assert set(result.catalog.entries) == {"a"}


def test_bytecode_inside_an_archive_is_rebuilt(repo: GitRepo, tmp_path: Path) -> None:
    repo.commit("base", {f"{V}/a_base.py": revision_source("a", None, "base")})
    source = tmp_path / "u1_users.py"
    source.write_text(revision_source("u1", "a", "add users table", body=BODY))
    pyc = tmp_path / "u1_users.pyc"
    py_compile.compile(str(source), cfile=str(pyc), invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    archive = tmp_path / "deploy-artifact.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(pyc, f"app/alembic/versions/__pycache__/u1_users.{sys.implementation.cache_tag}.pyc")
    result = scan_repository(repo.path, versions=[V], archives=[archive])
    entry = result.catalog.entries["u1"]
    assert entry.chosen.fidelity == "bytecode"
    assert [s.source for s in entry.chosen.sightings] == ["archive"]
    assert plan_restore(result, ["u1"]).files[0].target.name == "u1_users.py"


def test_thorough_reads_every_committed_version_of_a_document(repo: GitRepo) -> None:
    repo.commit("base", {f"{V}/a_base.py": revision_source("a", None, "base")})
    repo.commit("notes", {"docs/ops.md": "Applied migration cafe0000beef to production on 2025-10-20.\n"})
    repo.commit("rewrite notes", {"docs/ops.md": "Operations notes (rewritten).\n"})
    default = {e.revision for e in scan_repository(repo.path, versions=[V]).evidence}
    thorough = scan_repository(repo.path, versions=[V], thorough=True)
    assert "cafe0000beef" not in default
    row = next(e for e in thorough.evidence if e.revision == "cafe0000beef")
    assert row.status == "lost" and row.mentions[0].commit is not None
