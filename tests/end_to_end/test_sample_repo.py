"""Tests for the TaskMan-v2 sample repository builder (sample_repos/taskman-v2/build.py).

The builder is a standalone script; it is loaded from its path. Everything is
checked with plain git commands and sqlite/PostgreSQL, never with
migration_archaeologist itself.
"""
from __future__ import annotations

import ast
import hashlib
import importlib.util
import marshal
import os
import sqlite3
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_repos" / "taskman-v2"
BUILD_PY = SAMPLE / "build.py"
VERSIONS = "TaskMan-v2/backend-api/alembic/versions"
PG_URL = os.environ.get("MA_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")

FILES = {
    "20251015_baseline": "20251015_64_field_baseline.py",
    "48b01bf7ee65": "48b01bf7ee65_add_new_and_pending_to_task_status.py",
    "4de471a82333": "4de471a82333_align_task_model_with_64_field_.py",
    "add_users_table": "add_users_table_for_authentication.py",
    "84456d47e6aa": "84456d47e6aa_add_contextforge_extended_project_schema.py",
    "b22b3b5a376f": "b22b3b5a376f_expand_action_list_status_enum.py",
}


def _load_builder():
    spec = importlib.util.spec_from_file_location("taskman_v2_sample_build", BUILD_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


builder = _load_builder()


def git(repo, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1", LC_ALL="C")
    proc = subprocess.run(
        ["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True
    )
    return proc.stdout.strip()


def git_bytes(repo, *args: str) -> bytes:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1", LC_ALL="C")
    return subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, check=True).stdout


def revision_bytes(rev: str) -> bytes:
    return (SAMPLE / "revisions" / FILES[rev]).read_bytes()


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    dest = tmp_path_factory.mktemp("taskman") / "repo"
    info = builder.build(dest)
    return Path(info["repo"]), info


@pytest.fixture(scope="module")
def sample_again(tmp_path_factory):
    dest = tmp_path_factory.mktemp("taskman-again") / "repo"
    info = builder.build(dest)
    return Path(info["repo"]), info


# --------------------------------------------------------------------------
# builder contract
# --------------------------------------------------------------------------

def test_returned_dict_shape(sample):
    repo, info = sample
    assert info["repo"] == str(repo)
    assert Path(info["database"]) == repo / "TaskMan-v2/backend-api/taskman_v2.db"
    assert info["versions_dir"] == VERSIONS
    assert info["head_revision"] == info["stamped"] == "b22b3b5a376f"
    assert list(info["revisions"]) == list(FILES)
    expected_where = {
        "20251015_baseline": "bytecode",
        "48b01bf7ee65": "history",
        "4de471a82333": "reflog",
        "add_users_table": "unreachable",
        "84456d47e6aa": "history",
        "b22b3b5a376f": "stash",
    }
    down = None
    for rev, meta in info["revisions"].items():
        assert meta["file"] == FILES[rev]
        assert meta["survives_in"] == expected_where[rev]
        assert meta["down_revision"] == down
        data = revision_bytes(rev)
        assert meta["size"] == len(data)
        down = rev
        if rev == "20251015_baseline":  # never committed: no blob, no commit, only its .pyc
            assert meta["blob"] is None and meta["commit"] is None
            assert meta["pyc"] in info["pyc"]
            continue
        assert meta["blob"] == hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        assert meta["blob"] == git(repo, "hash-object", str(SAMPLE / "revisions" / FILES[rev]))
        assert git(repo, "cat-file", "-t", meta["blob"]) == "blob"
        assert meta["message"]
    assert info["revisions"]["84456d47e6aa"]["message"] == "add contextforge extended project schema"
    assert info["revisions"]["b22b3b5a376f"]["message"] == "expand action list status enum"


def test_revision_files_follow_alembic_template():
    for rev, name in FILES.items():
        text = (SAMPLE / "revisions" / name).read_text(encoding="utf-8")
        assert text.startswith('"""')
        assert f"\nRevision ID: {rev}\n" in text
        assert "\nRevises: " in text and "\nCreate Date: 2025-10-" in text
        assert "from typing import Sequence, Union\n\nfrom alembic import op\nimport sqlalchemy as sa\n" in text
        assert f"revision: str = '{rev}'\n" in text
        assert "down_revision: Union[str, None] = " in text
        assert "branch_labels: Union[str, Sequence[str], None] = None\n" in text
        assert "depends_on: Union[str, Sequence[str], None] = None\n" in text
        assert "def upgrade() -> None:\n" in text and "def downgrade() -> None:\n" in text
        ast.parse(text)


def test_builder_does_not_import_the_tool():
    tree = ast.parse(BUILD_PY.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    assert "migration_archaeologist" not in names
    allowed = set(sys.stdlib_module_names) | {"alembic", "sqlalchemy"}
    assert names <= allowed, names - allowed


def test_cli(tmp_path):
    dest = tmp_path / "cli"
    ok = subprocess.run([sys.executable, str(BUILD_PY), str(dest)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert len(ok.stdout.strip().splitlines()) == 1
    assert "b22b3b5a376f" in ok.stdout
    assert (dest / ".git").is_dir()

    again = subprocess.run([sys.executable, str(BUILD_PY), str(dest)], capture_output=True, text=True)
    assert again.returncode == 2
    assert len(again.stderr.strip().splitlines()) == 1 and again.stdout == ""

    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    bad = subprocess.run([sys.executable, str(BUILD_PY), str(a_file)], capture_output=True, text=True)
    assert bad.returncode == 2

    empty = tmp_path / "empty"
    empty.mkdir()
    assert subprocess.run([sys.executable, str(BUILD_PY), str(empty)],
                          capture_output=True, text=True).returncode == 0


def test_build_is_deterministic(sample, sample_again):
    (a, ia), (b, ib) = sample, sample_again
    assert a != b
    assert git(a, "rev-parse", "HEAD") == git(b, "rev-parse", "HEAD") == ia["head"] == ib["head"]
    assert git(a, "log", "--all", "--reflog", "--format=%H") == git(b, "log", "--all", "--reflog", "--format=%H")
    assert git(a, "stash", "list", "--format=%H") == git(b, "stash", "list", "--format=%H")
    assert git(a, "fsck", "--unreachable", "--no-reflogs") == git(b, "fsck", "--unreachable", "--no-reflogs")
    # raw reflogs carry the committer identity and date too
    for log in ("HEAD", "refs/heads/main", "refs/stash"):
        assert (a / ".git/logs" / log).read_bytes() == (b / ".git/logs" / log).read_bytes()
    assert ia["commits"] == ib["commits"]
    assert {r: m["blob"] for r, m in ia["revisions"].items()} == {r: m["blob"] for r, m in ib["revisions"].items()}
    for rel in [*ia["pyc"], ia["archive"]]:
        assert (a / rel).read_bytes() == (b / rel).read_bytes()
        assert (a / rel).stat().st_mtime == (b / rel).stat().st_mtime


# --------------------------------------------------------------------------
# the story, checked with git
# --------------------------------------------------------------------------

def test_final_state_of_main(sample):
    repo, info = sample
    assert git(repo, "symbolic-ref", "HEAD") == "refs/heads/main"
    assert git(repo, "for-each-ref", "--format=%(refname)") == "refs/heads/main\nrefs/stash"
    assert git(repo, "status", "--porcelain") == ""
    tracked = git(repo, "ls-tree", "-r", "--name-only", "HEAD").splitlines()
    assert not [p for p in tracked if p.startswith(VERSIONS + "/")]
    assert "TaskMan-v2/backend-api/alembic.ini" not in tracked
    assert "TaskMan-v2/backend-api/alembic/env.py" in tracked
    env_py = git(repo, "show", "HEAD:TaskMan-v2/backend-api/alembic/env.py")
    assert "from app.models import Base" in env_py
    # the cleanup commit deleted the files; HEAD is a later docs commit
    cleanup = info["commits"]["cleanup"]
    assert git(repo, "log", "-1", "--format=%s", cleanup) == \
        "chore: remove stale alembic files (archive cleanup)"
    assert git(repo, "log", "-1", "--format=%cI", cleanup).startswith("2025-11-03")
    deleted = git(repo, "show", "--diff-filter=D", "--name-only", "--format=", cleanup).splitlines()
    assert sorted(deleted) == sorted(
        [f"{VERSIONS}/{FILES[r]}" for r in ("48b01bf7ee65", "84456d47e6aa")]
        + ["TaskMan-v2/backend-api/alembic.ini"]
    )
    ini = git(repo, "show", f"{cleanup}^:TaskMan-v2/backend-api/alembic.ini")
    assert "script_location = alembic\n" in ini
    assert "sqlalchemy.url = postgresql://contextforge:contextforge@172.25.14.122:5432/taskman_v2" in ini
    assert git(repo, "rev-parse", "HEAD^") == cleanup
    # working tree: versions/ holds only __pycache__ with .pyc files
    versions = repo / VERSIONS
    assert [p.name for p in versions.iterdir()] == ["__pycache__"]
    pycs = sorted(p.name for p in (versions / "__pycache__").iterdir())
    tag = sys.implementation.cache_tag
    assert f"84456d47e6aa_add_contextforge_extended_project_schema.{tag}.pyc" in pycs
    assert f"b22b3b5a376f_expand_action_list_status_enum.{tag}.pyc" in pycs
    assert all(n.endswith(f".{tag}.pyc") for n in pycs)
    assert git(repo, "check-ignore", f"{VERSIONS}/__pycache__/{pycs[0]}")
    assert git(repo, "check-ignore", "TaskMan-v2/backend-api/taskman_v2.db")


def test_pycs_are_unchecked_hash_and_carry_the_revision(sample):
    repo, info = sample
    for rel in info["pyc"]:
        data = (repo / rel).read_bytes()
        flags = int.from_bytes(data[4:8], "little")
        assert flags == 0b01  # hash-based, check_source = False
        code = marshal.loads(data[16:])
        assert "revision" in code.co_names
        name = Path(rel).name.split(".")[0]
        rev = next(r for r, f in FILES.items() if f.startswith(name))
        assert rev in code.co_consts
        assert data[8:16] == importlib.util.source_hash(revision_bytes(rev))


def test_history_revisions(sample):
    repo, info = sample
    for rev in ("48b01bf7ee65", "84456d47e6aa"):
        path = f"{VERSIONS}/{FILES[rev]}"
        commits = git(repo, "log", "--format=%H", "main", "--", path).splitlines()
        assert commits, rev
        assert git(repo, "merge-base", "--is-ancestor", info["revisions"][rev]["commit"], "main") == ""
        assert git(repo, "rev-parse", f"{info['revisions'][rev]['commit']}:{path}") == info["revisions"][rev]["blob"]
    # 48b01bf7ee65 has two versions in history; the second one is the final file
    path = f"{VERSIONS}/{FILES['48b01bf7ee65']}"
    touching = git(repo, "log", "--format=%H %cs", "--reverse", "main", "--", path).splitlines()
    assert [t.split()[1] for t in touching] == ["2025-10-18", "2025-10-19", "2025-11-03"]
    v1 = git(repo, "rev-parse", f"{touching[0].split()[0]}:{path}")
    v2 = git(repo, "rev-parse", f"{touching[1].split()[0]}:{path}")
    assert v1 != v2
    assert v2 == info["revisions"]["48b01bf7ee65"]["blob"]
    assert info["revisions"]["48b01bf7ee65"]["earlier_blobs"] == [v1]
    assert git_bytes(repo, "cat-file", "blob", v2) == revision_bytes("48b01bf7ee65")
    assert b"'blocked'" in git_bytes(repo, "cat-file", "blob", v2)
    assert b"'blocked'" not in git_bytes(repo, "cat-file", "blob", v1)


def test_baseline_survives_only_as_bytecode(sample):
    repo, info = sample
    data = revision_bytes("20251015_baseline")
    blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
    # no commit anywhere (branches, reflogs, stashes) has a path naming it
    assert git(repo, "log", "--all", "--reflog", "--format=%H", "--", "*20251015*") == ""
    # no object in the store, reachable or not, has its content
    objects = git(repo, "cat-file", "--batch-all-objects", "--batch-check=%(objectname) %(objecttype)").splitlines()
    assert blob not in {o.split()[0] for o in objects}
    unreachable = [line.split()[2] for line in git(repo, "fsck", "--unreachable", "--no-reflogs").splitlines()]
    assert unreachable and blob not in unreachable
    for oid in unreachable:
        if git(repo, "cat-file", "-t", oid) == "blob":
            assert git_bytes(repo, "cat-file", "blob", oid) != data
    missing = subprocess.run(["git", "cat-file", "-e", blob], cwd=repo, capture_output=True)
    assert missing.returncode != 0
    # the Oct 15 commit introduced Alembic without the revision file
    files = git(repo, "show", "--name-only", "--format=", info["commits"]["baseline"]).splitlines()
    assert "TaskMan-v2/backend-api/alembic.ini" in files
    assert not [f for f in files if f.startswith(VERSIONS + "/")]
    # but its hash-based .pyc is in the (ignored) __pycache__, compiled from the exact source
    pyc = repo / info["revisions"]["20251015_baseline"]["pyc"]
    assert pyc.parent == repo / VERSIONS / "__pycache__"
    assert pyc.name == f"20251015_64_field_baseline.{sys.implementation.cache_tag}.pyc"
    raw = pyc.read_bytes()
    assert raw[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(raw[4:8], "little") == 0b01  # hash-based, unchecked
    assert raw[8:16] == importlib.util.source_hash(data)
    assert "20251015_baseline" in marshal.loads(raw[16:]).co_consts
    assert git(repo, "check-ignore", str(pyc.relative_to(repo)))
    assert git(repo, "log", "-1", "--format=%cs", f"{info['commits']['baseline']}") == "2025-10-15"


def test_archive_zip_holds_the_first_48b01_version(sample):
    repo, info = sample
    rel = info["archive"]
    assert rel == "TaskMan-v2/backend-api/archive/alembic-versions-2025-10-18.zip"
    # untracked and ignored (archive/ in .gitignore), so the work tree is clean
    assert git(repo, "ls-files", "--", rel) == ""
    assert git(repo, "check-ignore", rel) == rel
    assert "archive/" in git(repo, "show", "HEAD:.gitignore").splitlines()
    name = f"versions/{FILES['48b01bf7ee65']}"
    with zipfile.ZipFile(repo / rel) as zf:
        assert zf.namelist() == [name]
        member = zf.getinfo(name)
        assert member.date_time == (2025, 10, 18, 17, 0, 0)
        content = zf.read(name)
    first = (SAMPLE / "revisions" / "superseded" / FILES["48b01bf7ee65"]).read_bytes()
    assert content == first != revision_bytes("48b01bf7ee65")
    assert git_bytes(repo, "cat-file", "blob", info["revisions"]["48b01bf7ee65"]["earlier_blobs"][0]) == content


def test_documented_sizes(sample):
    repo, info = sample
    blob_84 = info["revisions"]["84456d47e6aa"]["blob"]
    assert git(repo, "cat-file", "-s", blob_84) == "4167"
    history_84 = git(repo, "rev-parse", f"{info['commits']['project_schema']}:{VERSIONS}/{FILES['84456d47e6aa']}")
    assert history_84 == blob_84
    stashed_b22 = git(repo, "rev-parse", f"stash@{{1}}:{VERSIONS}/{FILES['b22b3b5a376f']}")
    assert stashed_b22 == info["revisions"]["b22b3b5a376f"]["blob"]
    assert git(repo, "cat-file", "-s", stashed_b22) == "1139"


def test_stash_entries(sample):
    repo, info = sample
    entries = git(repo, "stash", "list", "--format=%gd|%gs|%H").splitlines()
    assert len(entries) == 2
    assert entries[0].split("|")[1] == "On main: WIP cors origins for staging"
    assert entries[1].split("|")[1] == "On main: WIP expand action list status"
    path = f"{VERSIONS}/{FILES['b22b3b5a376f']}"
    assert git_bytes(repo, "show", f"stash@{{1}}:{path}") == revision_bytes("b22b3b5a376f")
    assert git_bytes(repo, "show", f"stash@{{1}}^2:{path}") == revision_bytes("b22b3b5a376f")  # index
    assert git(repo, "log", "-1", "--format=%cI", "stash@{1}").startswith("2025-10-31")
    assert path not in git(repo, "ls-tree", "-r", "--name-only", "stash@{0}").splitlines()
    # never committed anywhere else: only the stash@{1} commits contain it
    candidates = git(repo, "rev-list", "--all", "--reflog").split()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    batch = subprocess.run(
        ["git", "cat-file", "--batch-check=%(objectname)"], cwd=repo, env=env, check=True,
        input="".join(f"{c}:{path}\n" for c in candidates), capture_output=True, text=True,
    ).stdout.splitlines()
    holders = {c for c, out in zip(candidates, batch) if not out.endswith("missing")}
    stash1 = git(repo, "rev-parse", "stash@{1}")
    assert holders == {stash1, git(repo, "rev-parse", "stash@{1}^2")}
    # stash@{1} is only reachable through the stash reflog
    assert stash1 not in git(repo, "rev-list", "--all").split()


def test_task_alignment_is_reflog_only(sample):
    repo, info = sample
    commit = info["commits"]["task_alignment"]
    blob = info["revisions"]["4de471a82333"]["blob"]
    assert commit in git(repo, "log", "--reflog", "--format=%H").split()
    assert commit not in git(repo, "log", "--all", "--format=%H").split()
    assert commit not in git(repo, "log", "--all", "--exclude=refs/stash", "--format=%H").split()
    objects_reflog = {line.split()[0] for line in git(repo, "rev-list", "--objects", "--reflog").splitlines()}
    objects_all = {line.split()[0] for line in git(repo, "rev-list", "--objects", "--all").splitlines()}
    assert blob in objects_reflog
    assert blob not in objects_all
    assert "feature/task-model-alignment" not in git(repo, "branch", "--list", "--all")
    assert "checkout: moving from feature/task-model-alignment to main" in git(repo, "reflog", "show", "HEAD")
    assert git_bytes(repo, "show", f"{commit}:{VERSIONS}/{FILES['4de471a82333']}") == revision_bytes("4de471a82333")
    assert git(repo, "log", "-1", "--format=%cs", commit) == "2025-10-22"


def test_users_table_is_unreachable(sample):
    repo, info = sample
    commit = info["commits"]["users_table"]
    blob = info["revisions"]["add_users_table"]["blob"]
    fsck = git(repo, "fsck", "--unreachable", "--no-reflogs").splitlines()
    assert f"unreachable commit {commit}" in fsck
    assert commit not in git(repo, "rev-list", "--all", "--reflog").split()
    everything = {line.split()[0] for line in git(repo, "rev-list", "--objects", "--all", "--reflog").splitlines()}
    assert blob not in everything
    assert git(repo, "cat-file", "-t", commit) == "commit"
    assert git_bytes(repo, "show", f"{commit}:{VERSIONS}/{FILES['add_users_table']}") == revision_bytes("add_users_table")
    assert git(repo, "log", "-1", "--format=%cs %s", commit) == \
        "2025-10-25 feat(auth): add users table for authentication"
    # no reflog file names it, old or new side
    for log in (repo / ".git" / "logs").rglob("*"):
        if log.is_file():
            assert commit not in log.read_text()
    # but git fsck with reflogs sees it as unreachable too (nothing references it)
    assert f"unreachable commit {commit}" in git(repo, "fsck", "--unreachable").splitlines()


def test_documentary_evidence(sample):
    repo, _ = sample
    design = git(repo, "show", "HEAD:docs/05-Database-Design-Implementation.md")
    section = design.split("### Alembic Migrations", 1)[1]
    for name in FILES.values():
        assert name in section
    validation = git(repo, "show", "HEAD:TaskMan-v2/POSTGRES-VALIDATION-COMPLETE.md")
    assert ("| **Schema Alignment** | ✅ PASSED | 1.00 | 29 columns synchronized, "
            "migration 84456d47e6aa applied |") in validation
    plan = git(repo, "show", "HEAD:TaskMan-v2/RECOVERY-PLAN-20251031.md")
    assert "# Expected: b22b3b5a376f" in plan
    index = git(repo, "show", "HEAD:docs/indexes/Loose-File-Index.md")
    assert "`84456d47e6aa_add_contextforge_extended_project_schema.py` — 4167 bytes, 2025-10-29" in index
    assert "`b22b3b5a376f_expand_action_list_status_enum.py` — 1139 bytes, 2025-10-31" in index
    for rev in ("84456d47e6aa", "b22b3b5a376f"):
        assert hashlib.sha256(revision_bytes(rev)).hexdigest()[:16] in index
    assert "{sha256:" not in index
    # history is not only migrations
    subjects = git(repo, "log", "--format=%s", "main").splitlines()
    assert len(subjects) >= 12
    assert any(s.startswith("feat(api)") for s in subjects)
    assert git(repo, "show", "HEAD:TaskMan-v2/backend-api/app/models.py").count("Column(") > 100


# --------------------------------------------------------------------------
# the database and the revision files themselves
# --------------------------------------------------------------------------

def _columns(con, table):
    return [r[1] for r in con.execute(f"PRAGMA table_info({table})")]


def _table_sql(con, table):
    return con.execute("SELECT sql FROM sqlite_master WHERE type='table' AND name=?", (table,)).fetchone()[0]


def test_sqlite_database(sample):
    repo, info = sample
    con = sqlite3.connect(info["database"])
    try:
        assert con.execute("SELECT version_num FROM alembic_version").fetchall() == [("b22b3b5a376f",)]
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"tasks", "projects", "sprints", "action_lists", "users", "alembic_version"} <= tables
        tasks = _columns(con, "tasks")
        assert len(tasks) == 66  # 64 baseline + 2 from 4de471a82333
        assert {"eisenhower_quadrant", "shape_confidence"} <= set(tasks)
        projects = _columns(con, "projects")
        assert len(projects) == 29
        assert {"sacred_geometry", "geometry_stage", "cof_dimensions", "ucl_compliant"} <= set(projects)
        assert {"email", "hashed_password", "is_active"} <= set(_columns(con, "users"))
        al_sql = _table_sql(con, "action_lists")
        assert "CONSTRAINT ck_action_lists_status CHECK (status IN ('active', 'in_progress', 'blocked', 'completed', 'archived'))" in al_sql
        tasks_sql = _table_sql(con, "tasks")
        # survived the 4de471a82333 batch re-create of tasks
        assert "CONSTRAINT ck_tasks_status CHECK (status IN ('new', 'todo', 'pending', 'in_progress', 'blocked', 'review', 'done', 'cancelled'))" in tasks_sql
        indexes = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='index'")}
        assert {"idx_tasks_status", "idx_tasks_assignee", "idx_tasks_project_id", "ix_users_email"} <= indexes
        with pytest.raises(sqlite3.IntegrityError):
            con.execute("INSERT INTO action_lists (title, status) VALUES ('x', 'bogus')")
        con.execute("INSERT INTO action_lists (title, status) VALUES ('x', 'blocked')")
        con.rollback()
    finally:
        con.close()


def test_sqlite_step_by_step_and_downgrade(tmp_path):
    db = tmp_path / "steps.db"
    url = f"sqlite:///{db.as_posix()}"
    builder.migrate(url, ("upgrade", "20251015_baseline"))
    con = sqlite3.connect(db)
    assert len(_columns(con, "tasks")) == 64
    assert len(_columns(con, "projects")) == 10
    assert "'pending'" not in _table_sql(con, "tasks")
    con.close()

    builder.migrate(url, ("upgrade", "48b01bf7ee65"))
    con = sqlite3.connect(db)
    assert "'pending'" in _table_sql(con, "tasks") and "'blocked'" in _table_sql(con, "tasks")
    con.close()

    builder.migrate(url, ("upgrade", "head"))
    con = sqlite3.connect(db)
    con.execute("INSERT INTO tasks (task_id, title, status) VALUES ('T-1', 'a', 'pending')")
    con.execute("INSERT INTO tasks (task_id, title, status) VALUES ('T-2', 'b', 'blocked')")
    con.execute("INSERT INTO action_lists (title, status) VALUES ('l', 'in_progress')")
    con.commit()
    con.close()

    builder.migrate(url, ("downgrade", "20251015_baseline"))
    con = sqlite3.connect(db)
    assert con.execute("SELECT version_num FROM alembic_version").fetchall() == [("20251015_baseline",)]
    assert len(_columns(con, "tasks")) == 64
    assert "users" not in {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
    assert dict(con.execute("SELECT task_id, status FROM tasks")) == {"T-1": "todo", "T-2": "in_progress"}
    assert con.execute("SELECT status FROM action_lists").fetchall() == [("active",)]
    assert "('active', 'completed', 'archived')" in _table_sql(con, "action_lists")
    assert "('todo', 'in_progress', 'review', 'done', 'cancelled')" in _table_sql(con, "tasks")
    con.close()

    builder.migrate(url, ("downgrade", "base"))
    con = sqlite3.connect(db)
    assert {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")} == {"alembic_version"}
    con.close()


def _pg_admin_engine_or_skip():
    require = os.environ.get("MA_REQUIRE_DBS") == "1"
    try:
        import psycopg  # noqa: F401
        import sqlalchemy as sa

        engine = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        return engine
    except Exception as exc:  # server down, driver missing, auth...
        if require:
            pytest.fail(f"PostgreSQL required (MA_REQUIRE_DBS=1) but unusable at {PG_URL}: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {PG_URL}: {exc}")


def test_postgresql_upgrade_and_downgrade():
    import sqlalchemy as sa

    admin = _pg_admin_engine_or_skip()
    name = "ma_taskman_" + uuid.uuid4().hex[:12]
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        builder.migrate(url, ("upgrade", "b22b3b5a376f"))
        engine = sa.create_engine(url)
        try:
            with engine.connect() as conn:
                assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").all() == [("b22b3b5a376f",)]
                insp = sa.inspect(conn)
                assert {"tasks", "projects", "sprints", "action_lists", "users"} <= set(insp.get_table_names())
                assert len(insp.get_columns("tasks")) == 66
                assert len(insp.get_columns("projects")) == 29
                checks = {c["name"]: c["sqltext"] for t in ("tasks", "action_lists")
                          for c in insp.get_check_constraints(t)}
                assert "in_progress" in checks["ck_action_lists_status"] and "blocked" in checks["ck_action_lists_status"]
                assert "pending" in checks["ck_tasks_status"]
                conn.exec_driver_sql("INSERT INTO action_lists (title, status) VALUES ('l', 'blocked')")
                conn.exec_driver_sql("INSERT INTO tasks (task_id, title, status) VALUES ('T-1', 't', 'new')")
                conn.commit()
                with pytest.raises(sa.exc.IntegrityError):
                    conn.exec_driver_sql("INSERT INTO action_lists (title, status) VALUES ('l', 'bogus')")
                conn.rollback()
        finally:
            engine.dispose()

        builder.migrate(url, ("downgrade", "base"))
        engine = sa.create_engine(url)
        try:
            with engine.connect() as conn:
                assert set(sa.inspect(conn).get_table_names()) == {"alembic_version"}
                assert conn.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar() == 0
        finally:
            engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
