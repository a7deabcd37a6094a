"""verify on the TaskMan-v2 sample: the database is the ground truth, and it is never written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from databases import create_database, driver_url, drop_database
from migration_archaeologist.actions.restore import apply_restore, plan_restore
from migration_archaeologist.chain.scan import scan_repository
from migration_archaeologist.actions.verify import verify

HEAD = "b22b3b5a376f"




@pytest.fixture
def restored(builder, tmp_path: Path) -> dict:  # type: ignore[no-untyped-def]
    """The sample with its chain restored, as a user would have it after `restore --apply`."""
    info = builder.build(tmp_path / "tm")
    result = scan_repository(info["repo"])
    apply_restore(plan_restore(result, [HEAD]), result, check_with_alembic=False)
    # the baseline was never committed: what restore wrote is its rebuild from __pycache__ bytecode,
    # so every verified verdict below also says that rebuild replays to the live schema
    baseline = Path(info["repo"]) / info["versions_dir"] / info["revisions"]["20251015_baseline"]["file"]
    assert baseline.read_text(encoding="utf-8").startswith("# Reconstructed from bytecode")
    return info


def ma(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "MA_DEBUG"}
    return subprocess.run([sys.executable, "-m", "migration_archaeologist", *args], capture_output=True, text=True,
                          env=env, timeout=600)


def one_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in proc.stdout + proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_sample_sqlite_database_is_verified(restored: dict) -> None:
    url = f"sqlite:///{restored['database']}"
    before = Path(restored["database"]).read_bytes()
    proc = ma("verify", restored["repo"], "--db", url, "--json", "--no-models")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["schema"] == "migration-archaeologist/verify/1"
    assert doc["verdict"] == "verified" and doc["differences"] == [] and doc["stamped"] == [HEAD]
    assert doc["steps"][0]["applied"][-1] == HEAD and len(doc["steps"][0]["applied"]) == 6
    assert Path(restored["database"]).read_bytes() == before, "the live database file was not touched"


def test_sample_sqlite_roundtrip(restored: dict) -> None:
    result = scan_repository(restored["repo"])
    verification = verify(result, f"sqlite:///{restored['database']}", roundtrip=True)
    assert verification.verdict == "verified", verification
    assert verification.roundtrip is not None and verification.roundtrip.ok


def test_stamp_unresolved_before_restore_names_the_healing_command(builder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    info = builder.build(tmp_path / "tm")
    url = f"sqlite:///{info['database']}"
    proc = ma("verify", info["repo"], "--db", url)
    assert proc.returncode == 1
    assert f"heal with: migration-archaeologist restore {HEAD} {info['repo']} --apply" in proc.stdout
    assert "unresolved-stamp" in proc.stdout
    check = ma("check", info["repo"], "--db", url, "--json")
    assert check.returncode == 1
    kinds = {(p["kind"], tuple(p["revisions"])) for p in json.loads(check.stdout)["problems"]}
    assert ("stamped-but-missing", (HEAD,)) in kinds


@pytest.fixture
def postgres_copy(builder, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A PostgreSQL database migrated by the sample's own chain: the 'live' database of the story."""
    url = create_database("postgresql", tmp_path)
    try:
        builder.migrate(driver_url(url).render_as_string(hide_password=False), ("upgrade", HEAD))
        yield url
    finally:
        drop_database("postgresql", url)


def test_sample_on_postgresql_is_verified_and_drift_is_named(restored: dict, postgres_copy: str) -> None:
    proc = ma("verify", restored["repo"], "--db", postgres_copy, "--json", "--no-models")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["verdict"] == "verified"

    engine = sa.create_engine(driver_url(postgres_copy))
    with engine.begin() as conn:  # someone's hand edits on the live database
        conn.execute(sa.text("ALTER TABLE projects ADD COLUMN hand_added_notes TEXT"))
        conn.execute(sa.text("DROP INDEX idx_tasks_status"))
    engine.dispose()
    proc = ma("verify", restored["repo"], "--db", postgres_copy, "--json", "--no-models")
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert doc["verdict"] == "drift"
    found = {(d["kind"], d["table"], d["column"] or d["name"]) for d in doc["differences"]}
    assert found == {("column-extra", "projects", "hand_added_notes"), ("index-missing", "tasks", "idx_tasks_status")}


def test_live_postgresql_database_is_never_written(restored: dict, postgres_copy: str) -> None:
    """verify as a role that may only SELECT on the live database, and count writes on its tables."""
    role = f"ma_select_only_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(driver_url(postgres_copy), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        db = conn.execute(sa.text("SELECT current_database()")).scalar()
        conn.execute(sa.text(f"CREATE ROLE {role} LOGIN CREATEDB"))  # may create its scratch database, nothing more
        conn.execute(sa.text(f"GRANT CONNECT ON DATABASE {db} TO {role}"))
        conn.execute(sa.text(f"GRANT USAGE ON SCHEMA public TO {role}"))
        conn.execute(sa.text(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"))
        before = conn.execute(sa.text(
            "SELECT sum(n_tup_ins + n_tup_upd + n_tup_del) FROM pg_stat_user_tables")).scalar()
    try:
        live_as_role = sa.make_url(postgres_copy).set(username=role).render_as_string(hide_password=False)
        proc = ma("verify", restored["repo"], "--db", live_as_role, "--json")
        # the chain replays to the live schema; env.py's models (built in a scratch database of their
        # own, by this role too) lag behind it, which is the sample's truth
        assert proc.returncode == 1, proc.stdout + proc.stderr
        doc = json.loads(proc.stdout)
        assert doc["verdict"] == "models-drift" and doc["differences"] == [] and doc["models"]["differences"]
        assert [line["status"] for line in doc["three_way"]] == ["ok", "failed", "ok"]
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT pg_stat_clear_snapshot()"))
            after = conn.execute(sa.text(
                "SELECT sum(n_tup_ins + n_tup_upd + n_tup_del) FROM pg_stat_user_tables")).scalar()
            stamped = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
        assert after == before and stamped == [HEAD]
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"REASSIGN OWNED BY {role} TO postgres"))
            conn.execute(sa.text(f"DROP OWNED BY {role}"))
            conn.execute(sa.text(f"DROP ROLE {role}"))
        admin.dispose()


def test_failing_revision_names_itself_and_drops_the_scratch(restored: dict) -> None:
    versions = Path(restored["repo"]) / restored["versions_dir"]
    victim = versions / restored["revisions"]["84456d47e6aa"]["file"]
    victim.write_text(victim.read_text().replace("def upgrade() -> None:\n", "def upgrade() -> None:\n    raise RuntimeError('boom in 84456')\n", 1))
    proc = ma("verify", restored["repo"], "--db", f"sqlite:///{restored['database']}", "--json")
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert doc["verdict"] == "replay-failed" and "84456d47e6aa" in doc["error"] and "boom in 84456" in doc["error"]


def test_unreachable_database_is_exit_3_with_the_password_masked(restored: dict) -> None:
    proc = ma("verify", restored["repo"], "--db", "postgresql://admin:hunter2secret@127.0.0.1:5999/prod")
    assert proc.returncode == 3
    line = one_line(proc)
    assert "hunter2secret" not in proc.stdout + proc.stderr and "***" in line


def test_no_version_table_and_unknown_stamp(restored: dict, tmp_path: Path) -> None:
    empty = tmp_path / "empty.sqlite"
    sa.create_engine(f"sqlite:///{empty}").connect().close()
    proc = ma("verify", restored["repo"], "--db", f"sqlite:///{empty}")
    assert proc.returncode == 1 and "alembic_version" in one_line(proc)
    odd = tmp_path / "odd.sqlite"
    engine = sa.create_engine(f"sqlite:///{odd}")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
        conn.execute(sa.text("INSERT INTO alembic_version VALUES ('deadbeef0000')"))
    engine.dispose()
    proc = ma("verify", restored["repo"], "--db", f"sqlite:///{odd}", "--json")
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert doc["verdict"] == "unresolved-stamp" and doc["resolutions"][0]["status"] == "lost"


def test_offline_renders_sql_without_a_database(restored: dict) -> None:
    proc = ma("verify", restored["repo"], "--db", "postgresql://nobody@127.0.0.1:5999/none", "--offline")
    assert proc.returncode == 0, proc.stderr
    assert "CREATE TABLE tasks" in proc.stdout and "ck_action_lists_status" in proc.stdout


@pytest.fixture
def mysql_copy(builder, tmp_path: Path):  # type: ignore[no-untyped-def]
    url = create_database("mysql", tmp_path)
    try:
        builder.migrate(driver_url(url).render_as_string(hide_password=False), ("upgrade", HEAD))
        yield url
    finally:
        drop_database("mysql", url)


def test_sample_on_mariadb_is_verified(restored: dict, mysql_copy: str) -> None:
    proc = ma("verify", restored["repo"], "--db", mysql_copy, "--json", "--no-models")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["verdict"] == "verified" and doc["differences"] == []


def test_wrong_password_is_exit_3_and_never_printed(restored: dict, mysql_copy: str) -> None:
    user = f"ma_pw_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(driver_url(mysql_copy), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE USER '{user}'@'%' IDENTIFIED BY 'right-secret-1'"))
        conn.execute(sa.text(f"CREATE USER '{user}'@'localhost' IDENTIFIED BY 'right-secret-1'"))
    try:
        wrong = sa.make_url(mysql_copy).set(username=user, password="wrong-secret-2").render_as_string(hide_password=False)
        for command in (["verify"], ["check"]):
            proc = ma(*command, restored["repo"], "--db", wrong, "--json")
            assert proc.returncode == 3
            line = one_line(proc)
            assert "Access denied" in line and "***" in line
            assert "wrong-secret-2" not in proc.stdout + proc.stderr
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP USER IF EXISTS '{user}'@'%'"))
            conn.execute(sa.text(f"DROP USER IF EXISTS '{user}'@'localhost'"))
        admin.dispose()


def test_missing_database_is_exit_3(restored: dict) -> None:
    from databases import POSTGRES_SERVER

    url = sa.make_url(POSTGRES_SERVER).set(database=f"ma_missing_{uuid.uuid4().hex[:8]}").render_as_string(hide_password=False)
    proc = ma("verify", restored["repo"], "--db", url)
    assert proc.returncode == 3 and "does not exist" in one_line(proc)


def test_no_permission_for_a_scratch_database_suggests_scratch_url(restored: dict, postgres_copy: str) -> None:
    role = f"ma_nocreate_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(driver_url(postgres_copy), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE ROLE {role} LOGIN NOCREATEDB"))
        conn.execute(sa.text(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"))
    try:
        live = sa.make_url(postgres_copy).set(username=role).render_as_string(hide_password=False)
        proc = ma("verify", restored["repo"], "--db", live)
        assert proc.returncode == 3 and "--scratch-url" in one_line(proc)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP OWNED BY {role}"))
            conn.execute(sa.text(f"DROP ROLE {role}"))
        admin.dispose()


def test_several_stamped_heads_all_resolve(repo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from gitfixture import revision_source
    from migration_archaeologist.database.replay import run_alembic
    from migration_archaeologist.database.scratch import scratch_database

    versions = "alembic/versions"
    table = "    op.create_table('{0}', sa.Column('id', sa.Integer(), primary_key=True))"
    repo.commit(
        "branches",
        {
            f"{versions}/a.py": revision_source("a", None, "base", body=table.format("base_t")),
            f"{versions}/b.py": revision_source("b", "a", "left", body=table.format("left_t")),
            f"{versions}/c.py": revision_source("c", "a", "right", body=table.format("right_t")),
        },
    )
    live = tmp_path / "live.sqlite"
    with scratch_database(f"sqlite:///{tmp_path / 'other.sqlite'}", scratch_url=f"sqlite:///{live}") as target:
        for head in ("b", "c"):
            run_alembic([repo.path / versions], target, "upgrade", head, live_url=f"sqlite:///{tmp_path / 'other.sqlite'}")
    proc = ma("verify", str(repo.path), "--db", f"sqlite:///{live}", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert sorted(doc["stamped"]) == ["b", "c"] and doc["verdict"] == "verified"


def test_python_option_runs_the_replay_where_the_application_imports(repo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Revision files import their application; --python names an interpreter that has it."""
    from gitfixture import revision_source

    app = tmp_path / "app_src" / "myapp"
    app.mkdir(parents=True)
    (app / "__init__.py").write_text("")
    (app / "types.py").write_text("import sqlalchemy as sa\n\nclass GUID(sa.types.TypeDecorator):\n"
                                  "    impl = sa.String(36)\n    cache_ok = True\n")
    body = "    op.create_table('things', sa.Column('id', myapp.types.GUID(), primary_key=True))"
    source = revision_source("t1", None, "things", body=body).replace(
        "import sqlalchemy as sa\n", "import sqlalchemy as sa\nimport myapp.types\n")
    repo.commit("things", {"alembic/versions/t1_things.py": source})
    live = tmp_path / "live.sqlite"
    engine = sa.create_engine(f"sqlite:///{live}")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE things (id VARCHAR(36) NOT NULL PRIMARY KEY)"))
        conn.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
        conn.execute(sa.text("INSERT INTO alembic_version VALUES ('t1')"))
    engine.dispose()
    without = ma("verify", str(repo.path), "--db", f"sqlite:///{live}", "--json")
    assert without.returncode == 1
    error = json.loads(without.stdout)["error"]
    assert "myapp" in error and "t1" in error and "--python" in error
    wrapper = tmp_path / "project-python"  # stands for the project's own venv interpreter
    wrapper.write_text(f"#!/bin/sh\nPYTHONPATH={app.parent} exec {sys.executable} \"$@\"\n")
    wrapper.chmod(0o755)
    with_python = ma("verify", str(repo.path), "--db", f"sqlite:///{live}", "--python", str(wrapper), "--json")
    assert with_python.returncode == 0, with_python.stdout + with_python.stderr
    assert json.loads(with_python.stdout)["verdict"] == "verified"


def test_a_scratch_url_given_is_said_to_be_kept_not_dropped(restored: dict, tmp_path: Path) -> None:  # type: ignore[type-arg]
    """--scratch-url names the user's own empty database: the replay leaves its schema there, and
    the report must not say "(dropped)" of a database it keeps."""
    given = tmp_path / "scratch.sqlite"
    proc = ma("verify", restored["repo"], "--db", f"sqlite:///{restored['database']}", "--scratch-url", f"sqlite:///{given}",
             "--no-models")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "(kept, as given with --scratch-url)" in proc.stdout and "(dropped)" not in proc.stdout
    assert given.is_file()
    doc = json.loads(ma("verify", restored["repo"], "--db", f"sqlite:///{restored['database']}", "--json").stdout)
    assert doc["scratch_kept"] is False
