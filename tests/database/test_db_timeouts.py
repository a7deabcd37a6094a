"""Issue 19, item 9: a database that does not answer never hangs a command.

A version table locked by another session (a migration in progress) or an ``alembic_version``
view that takes its time made ``check --db``, ``verify`` and ``recover --db`` wait forever, and the
server kept running the query after the client gave up. Every read-only connection now has the
server cancel a statement, or a lock wait, longer than the timeout; the command says which one
fired, in one line, exit 3. Each run has a subprocess timeout, so a regression fails instead of
hanging the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa

from databases import create_database, driver_url, drop_database
from gitfixture import GitRepo, environment_files, revision_source

R0 = "aaaaaaaaaaa0"
V = "alembic/versions"


def _run(*args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {k: v for k, v in os.environ.items() if k not in ("MA_DEBUG", "DATABASE_URL")}
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "migration_archaeologist", *args], capture_output=True, text=True,
                          env=env, timeout=60)
    return proc, time.monotonic() - start


def _error_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in proc.stdout + proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    return lines[0]


def _repo(tmp_path: Path) -> Path:
    repo = GitRepo.init(tmp_path / "repo")
    repo.commit("migrations", {
        f"{V}/{R0}_create_t.py": revision_source(R0, None, "create t", body="    op.execute('CREATE TABLE t (id INTEGER)')"),
        "alembic.ini": "[alembic]\nscript_location = alembic\n",
        **environment_files(),
    })
    return repo.path


@pytest.fixture
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str, sa.Engine]]:
    """(kind, URL, an engine of a second session) for a fresh database stamped with R0."""
    kind = request.param
    url = create_database(kind, tmp_path)
    other = sa.create_engine(driver_url(url))
    try:
        with other.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (id INTEGER)")
            conn.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
            conn.exec_driver_sql(f"INSERT INTO alembic_version VALUES ('{R0}')")
        yield kind, url, other
    finally:
        other.dispose()
        drop_database(kind, url)


def _commands(repo: Path, url: str) -> list[tuple[str, ...]]:
    r = str(repo)
    return [("check", r, "--db", url, "--timeout", "2"), ("verify", r, "--db", url, "--timeout", "2"),
            ("recover", r, "--db", url, "--timeout", "2")]


@pytest.mark.parametrize("live", ["postgresql", "mysql"], indirect=True)
def test_a_locked_version_table_is_a_lock_timeout(live: tuple[str, str, sa.Engine], tmp_path: Path) -> None:
    kind, url, other = live
    repo = _repo(tmp_path)
    proc, _ = _run("check", str(repo), "--db", url, "--timeout", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with other.connect() as holder:  # a migration in progress: the table locked, the transaction open
        if kind == "postgresql":
            holder.exec_driver_sql("BEGIN")
            holder.exec_driver_sql("LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE")
        else:
            holder.exec_driver_sql("LOCK TABLES alembic_version WRITE")
        for args in _commands(repo, url):
            proc, took = _run(*args)
            line = _error_line(proc)
            assert proc.returncode == 3 and "lock timeout: waited 2 s" in line, (args, proc.stdout, proc.stderr)
            assert took < 30, (args, took)
        if kind == "mysql":
            holder.exec_driver_sql("UNLOCK TABLES")
        holder.rollback()


def _sleeping_view(kind: str, other: sa.Engine) -> None:
    with other.begin() as conn:
        conn.exec_driver_sql("DROP TABLE alembic_version")
        if kind == "postgresql":
            conn.exec_driver_sql(f"CREATE VIEW alembic_version AS SELECT CAST('{R0}' AS VARCHAR(32)) AS version_num "
                                 "FROM pg_sleep(30)")
        else:
            conn.exec_driver_sql(f"CREATE VIEW alembic_version AS SELECT CAST('{R0}' AS CHAR(32)) AS version_num "
                                 "FROM (SELECT SLEEP(30) AS s) AS slow")


def _still_sleeping(kind: str, other: sa.Engine) -> list[str]:
    with other.connect() as conn:
        if kind == "postgresql":
            sql = ("SELECT query FROM pg_stat_activity WHERE state = 'active' AND query LIKE :pattern "
                   "AND pid <> pg_backend_pid()")
        else:
            sql = ("SELECT info FROM information_schema.processlist WHERE command = 'Query' "
                   "AND info LIKE :pattern AND id <> CONNECTION_ID()")
        return [str(row) for row in conn.execute(sa.text(sql), {"pattern": "%alembic_version%"}).scalars()]


@pytest.mark.parametrize("live", ["postgresql", "mysql"], indirect=True)
def test_a_slow_version_view_is_a_statement_timeout(live: tuple[str, str, sa.Engine], tmp_path: Path) -> None:
    kind, url, other = live
    repo = _repo(tmp_path)
    _sleeping_view(kind, other)
    for args in _commands(repo, url):
        proc, took = _run(*args)
        line = _error_line(proc)
        assert proc.returncode == 3 and "statement timeout" in line and "2 s" in line, (args, proc.stdout, proc.stderr)
        assert took < 30, (args, took)
    # the server cancelled the query itself: nothing of ours is still sleeping there
    deadline = time.monotonic() + 5
    while _still_sleeping(kind, other) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _still_sleeping(kind, other)


def test_a_locked_sqlite_database_is_a_lock_timeout(tmp_path: Path) -> None:
    """SQLite: a writer holding an exclusive lock; the busy timeout is the wait."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    eng = sa.create_engine(url)
    with eng.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        conn.exec_driver_sql(f"INSERT INTO alembic_version VALUES ('{R0}')")
    repo = _repo(tmp_path)
    raw = eng.raw_connection()
    try:
        raw.execute("BEGIN EXCLUSIVE")  # type: ignore[attr-defined]
        proc, took = _run("check", str(repo), "--db", url, "--timeout", "1")
        assert proc.returncode == 3 and "lock timeout: waited 1 s" in _error_line(proc), proc.stderr
        assert took < 30
    finally:
        raw.rollback()
        raw.close()
        eng.dispose()


@pytest.mark.parametrize("live", ["postgresql", "mysql"], indirect=True)
def test_stamping_a_locked_version_table_gives_up(live: tuple[str, str, sa.Engine], tmp_path: Path) -> None:
    """baseline --stamp, the one write: a version table locked by a migration in progress ends the
    attempt after the stamp timeout (10 s) with the lock-timeout line, the stamp unchanged."""
    kind, url, other = live
    repo = _repo(tmp_path)
    with other.connect() as holder:
        if kind == "postgresql":
            holder.exec_driver_sql("BEGIN")
            holder.exec_driver_sql("LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE")
        else:
            holder.exec_driver_sql("LOCK TABLES alembic_version WRITE")
        proc, took = _run("baseline", str(repo), "--db", url, "--revision-id", "0000000000b1", "--versions",
                          str(tmp_path / "fresh"), "--apply", "--stamp", "--yes")
        if kind == "mysql":
            holder.exec_driver_sql("UNLOCK TABLES")
        holder.rollback()
    assert "Traceback" not in proc.stderr
    line = proc.stderr.strip().splitlines()[-1]  # after the proof and the file written
    assert proc.returncode == 3 and line.startswith("error: cannot stamp") and "lock timeout: waited 10 s" in line, proc.stderr
    assert took < 50
    with other.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all() == [R0]
