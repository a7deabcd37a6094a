"""`synthesize` and `baseline` as a user runs them: a git repository, a real database, the proof."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any, Iterator

import pytest
import sqlalchemy as sa

from conftest import ma, one_line_error
from databases import create_database, driver_url, drop_database
from gitfixture import GitRepo, revision_source

V = "alembic/versions"
HEAD = "b22b3b5a376f"
LOST = "84456d47e6aa"


@pytest.fixture(params=["sqlite", "postgresql"])
def sample_db(request: pytest.FixtureRequest, builder: Any, tmp_path: Path) -> Iterator[str]:
    """The TaskMan-v2 database, migrated by all six revisions (so stamped b22b3b5a376f)."""
    url = create_database(request.param, tmp_path)
    try:
        builder.migrate(driver_url(url).render_as_string(hide_password=False), ("upgrade", HEAD))
        yield url
    finally:
        drop_database(request.param, url)


def _sample_without(repo: GitRepo, builder: Any, lost: str, *, delete_the_rest: bool) -> None:
    """The sample's revisions committed, except ``lost``, which no commit, stash or archive ever held."""
    files = {}
    for rev in builder.CHAIN:
        if rev != lost:
            files[f"{V}/{builder.REVISIONS[rev][0]}"] = builder.revision_path(rev).read_bytes()
    repo.commit("migrations", files)
    if delete_the_rest:
        repo.commit("cleanup", remove=list(files))


def test_lost_middle_revision_synthesized_applied_and_verified(repo: GitRepo, builder: Any, sample_db: str) -> None:
    """The issue's case: 84456d47e6aa lost everywhere, the rest only in history; the chain comes back whole."""
    _sample_without(repo, builder, LOST, delete_the_rest=True)
    dry = ma("synthesize", LOST, str(repo.path), "--db", sample_db, "--versions", V)
    assert dry.returncode == 0, dry.stderr
    assert f"revision: str = '{LOST}'" in dry.stdout and "down_revision: Union[str, Sequence[str], None] = 'add_users_table'" in dry.stdout
    assert "sacred_geometry" in dry.stdout and f"{LOST}: proven" in dry.stderr
    assert "data changes" in dry.stderr  # said, not hidden
    assert not (repo.path / V).exists()  # a dry run writes nothing

    applied = ma("synthesize", LOST, str(repo.path), "--db", sample_db, "--versions", V, "--apply", "--json")
    assert applied.returncode == 0, applied.stderr
    doc = json.loads(applied.stdout)
    assert doc["schema"] == "migration-archaeologist/synthesize/1"
    assert (doc["position"], doc["down_revisions"], doc["children"], doc["proven"]) == ("middle", ["add_users_table"], [HEAD], True)
    written = Path(doc["written"])
    assert written.parent == repo.path / V and written.read_text(encoding="utf-8") == doc["source"]
    manifest = json.loads((repo.path / V / "migration-archaeologist-manifest.json").read_text())
    assert [(r["revision"], r["fidelity"], r["source"]) for r in manifest["restored"]] == [(LOST, "synthesized", "synthesized")]

    assert ma("restore", HEAD, str(repo.path), "--versions", V, "--apply").returncode == 0
    assert ma("check", str(repo.path), "--versions", V).returncode == 0
    verify = ma("verify", str(repo.path), "--versions", V, "--db", sample_db)
    assert verify.returncode == 0 and "verified" in verify.stdout, verify.stdout + verify.stderr

    timeline = json.loads(ma("timeline", str(repo.path), "--versions", V, "--format", "json").stdout)
    entry = next(r for r in timeline["revisions"] if r["revision"] == LOST)
    assert (entry["status"], entry["fidelity"], entry["restored_from"]) == ("present", "synthesized", "synthesized")
    assert entry["date"] == "2025-10-31"  # placed before its child, not on the day it was synthesized
    markdown = ma("timeline", str(repo.path), "--versions", V).stdout
    assert "synthesized from the database on" in markdown

    again = ma("synthesize", LOST, str(repo.path), "--db", sample_db, "--versions", V)
    # present now: nothing to do, said plainly (exit 0, as restore of a present revision)
    assert again.returncode == 0 and one_line_error(again).endswith("_synthesized_from_the_database.py: nothing to synthesize")


def test_lost_head_is_found_from_the_stamp(repo: GitRepo, builder: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    builder.migrate(url, ("upgrade", HEAD))
    _sample_without(repo, builder, HEAD, delete_the_rest=False)
    proc = ma("synthesize", HEAD, str(repo.path), "--db", url, "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert (doc["position"], doc["down_revisions"], doc["proven"], doc["written"]) == ("head", [LOST], True, None)
    assert "create_check_constraint" in doc["source"] and "ck_action_lists_status" in doc["source"]


def test_what_nothing_needs_or_cannot_be_told_is_refused(repo: GitRepo, tmp_path: Path) -> None:
    repo.commit("two bases", {f"{V}/a.py": revision_source("a", None), f"{V}/b.py": revision_source("b", None)})
    url = f"sqlite:///{tmp_path / 'app.db'}"
    with sqlite3.connect(tmp_path / "app.db") as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES ('c')")
    nobody = ma("synthesize", "zzz", str(repo.path), "--db", url)
    assert nobody.returncode == 2 and "nothing needs zzz" in one_line_error(nobody)
    ambiguous = ma("synthesize", "c", str(repo.path), "--db", url)
    message = one_line_error(ambiguous)
    assert ambiguous.returncode == 2 and "--down-revision a --down-revision b" in message


def test_a_stand_in_that_cannot_be_proven_is_never_written(repo: GitRepo, tmp_path: Path) -> None:
    """An unnamed CHECK cannot be expressed by name: the proof fails, --apply writes nothing, exit 1."""
    repo.commit("r0", {f"{V}/r0.py": revision_source("r0", None, body="    op.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER)')")})
    db = tmp_path / "app.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER, CHECK (x > 0))")
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES ('r1')")
    proc = ma("synthesize", "r1", str(repo.path), "--db", f"sqlite:///{db}", "--apply")
    assert proc.returncode == 1
    assert "r1: not proven, 1 difference(s) from the live database: t: check (unnamed) CHECK (x > 0)" in proc.stderr
    assert "unnamed CHECK constraints differ" in proc.stderr and "nothing written" in proc.stderr
    assert sorted(p.name for p in (repo.path / V).iterdir()) == ["r0.py"]


def test_baseline_dry_run_apply_and_stamp(builder: Any, repo: GitRepo, sample_db: str, tmp_path: Path) -> None:
    _sample_without(repo, builder, LOST, delete_the_rest=False)  # an old chain the team gives up on
    fresh = tmp_path / "fresh-versions"
    refused = ma("baseline", str(repo.path), "--db", sample_db, "--stamp")
    assert refused.returncode == 2 and "--yes" in one_line_error(refused)

    dry = ma("baseline", str(repo.path), "--db", sample_db, "--revision-id", "000000000001", "--versions", str(fresh))
    assert dry.returncode == 0, dry.stderr
    assert "def upgrade()" in dry.stdout and "op.create_table('tasks'" in dry.stdout
    assert "alembic stamp --purge 000000000001" in dry.stderr and not fresh.exists()

    applied = ma("baseline", str(repo.path), "--db", sample_db, "--revision-id", "000000000001", "--versions", str(fresh),
                 "--apply", "--stamp", "--yes")
    assert applied.returncode == 0, applied.stderr
    assert f"replacing {HEAD}" in applied.stderr
    engine = sa.create_engine(driver_url(sample_db))
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all() == ["000000000001"]
    finally:
        engine.dispose()
    shutil.move(str(repo.path / V), str(tmp_path / "old-chain"))  # the team moves the old files aside
    verify = ma("verify", str(repo.path), "--versions", str(fresh), "--db", sample_db)
    assert verify.returncode == 0 and "verified" in verify.stdout, verify.stdout + verify.stderr


def test_a_revision_restored_while_synthesize_waits_for_the_lock_is_not_doubled(
    repo: GitRepo, builder: Any, tmp_path: Path
) -> None:
    """synthesize --apply writes under the versions directory's lock and looks again once it has it: the
    lost revision, brought back by someone else meanwhile (a restore from a backup), is not joined by a
    stand-in declaring the same ID."""
    import os
    import subprocess
    import sys
    import time

    from test_restore_lock import hold_lock, waiting
    from migration_archaeologist.actions.tool_files import LOCK_NAME

    url = create_database("sqlite", tmp_path)
    try:
        builder.migrate(driver_url(url).render_as_string(hide_password=False), ("upgrade", HEAD))
        _sample_without(repo, builder, LOST, delete_the_rest=False)
        versions = repo.path / V
        held = hold_lock(versions)
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "migration_archaeologist", "synthesize", LOST, str(repo.path),
                 "--db", url, "--versions", V, "--apply"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                env={k: v for k, v in os.environ.items() if k != "MA_DEBUG"},
            )
            deadline = time.monotonic() + 120
            while not waiting(proc, versions / LOCK_NAME):  # proven, and now waiting to write
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "synthesize never reached the lock"
                time.sleep(0.05)
            original = builder.REVISIONS[LOST][0]
            shutil.copyfile(builder.revision_path(LOST), versions / original)
        finally:
            os.close(held)
        out, err = proc.communicate(timeout=120)
        completed = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
        assert proc.returncode == 1, err
        assert one_line_error(completed) == (
            f"error: nothing written: {LOST} is in {V}/{original} now (restored while this run waited); "
            "it is no longer lost"
        )
        assert sorted(p.name for p in versions.iterdir() if LOST in p.name) == [original]
        assert not (versions / "migration-archaeologist-manifest.json").exists()
    finally:
        drop_database("sqlite", url)


def test_planted_lock_symlink_is_refused(repo: GitRepo, builder: Any, tmp_path: Path) -> None:
    """case planted-symlink-synthesize: a committed symlink at the versions directory's lock name,
    pointing at someone's file: ``synthesize --apply`` refuses in one line (exit 3) once the stand-in
    is proven, writes nothing, and the file the link points at keeps its bytes."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    builder.migrate(url, ("upgrade", HEAD))
    _sample_without(repo, builder, HEAD, delete_the_rest=False)
    somefile = tmp_path / "somefile"
    somefile.write_bytes(b"someone's bytes\n")
    lock = repo.path / V / ".migration-archaeologist.lock"
    lock.symlink_to(somefile)
    repo.git("add", f"{V}/{lock.name}")
    repo.git("commit", "-q", "-m", "a planted lock")
    before = sorted(p.name for p in (repo.path / V).iterdir())

    proc = ma("synthesize", HEAD, str(repo.path), "--db", url, "--apply")

    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert one_line_error(proc) == (f"error: refusing {lock}: it is a symbolic link, not a regular file; "
                                    "nothing was written (remove it)")
    assert somefile.read_bytes() == b"someone's bytes\n"
    assert sorted(p.name for p in (repo.path / V).iterdir()) == before
