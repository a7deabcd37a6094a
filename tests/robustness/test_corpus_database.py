"""Corpus of bad inputs for the database paths (``verify`` and ``check --db``), on real databases.

Each case builds its repository and its live database (SQLite file, PostgreSQL or MariaDB database
created and dropped by tests/databases.py), runs the command line as a user does and asserts the
exact one-line message (docs/exit-codes.md), the exit code, no traceback, and that the live database
was never written: its schema and every row of every table (SQLite: also the file's bytes) are
the same afterwards, and no scratch database is left on the server.

Cases (ids; [backends]):

- ``unreachable-server`` [postgresql, mysql]: a port nothing listens on; exit 3, password masked.
- ``sqlite-file-missing`` [sqlite]: exit 3, the file is not created.
- ``wrong-password`` [mysql]: root with a wrong password; exit 3, the password never printed.
- ``unknown-role`` [postgresql] (trust auth takes any password): exit 3.
- ``unknown-database`` [postgresql]: exit 3, the database is not created.
- ``no-version-table`` [sqlite, postgresql, mysql]: exit 1, the documented message.
- ``several-heads-stamped`` [sqlite, postgresql, mysql]: a legitimate multi-head stamp (two
  branches, one row each) is verified; its scratch database is dropped.
- ``duplicate-stamp-rows`` [sqlite]: the same revision in two rows (a version
  table without Alembic's primary key), which makes Alembic's next upgrade fail ("expected to match
  one row"): verify and check must say so.
- ``overlapping-stamps`` [sqlite]: a revision and its own ancestor stamped, which Alembic refuses
  ("Requested revision B overlaps with other requested revisions A"): verify must say so.
- ``unknown-stamp`` [sqlite, postgresql, mysql]: a revision no source holds: unresolved-stamp /
  stamped-but-missing, exit 1, no scratch database made.
- ``unknown-stamp-named-as-alembic`` [sqlite]: and the message names it as Alembic does,
  "Can't locate revision identified by '<id>'".
- ``ctrl-c-during-replay`` [sqlite, postgresql, mysql]: SIGINT while a revision's upgrade() runs in
  the scratch database: exit 130, the scratch database (named by the revision itself) is dropped,
  the replay process is gone.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from conftest import one_line_error
from databases import MYSQL_SERVER, POSTGRES_SERVER, create_database, driver_url, drop_database
from gitfixture import GitRepo, revision_source
from migration_archaeologist.database.urls import mask

V = "alembic/versions"
A, B, C = "a1a1a1a1a1a1", "b2b2b2b2b2b2", "c3c3c3c3c3c3"
UNKNOWN = "deadbeef0000"
TABLE = "    op.create_table('{0}', sa.Column('id', sa.Integer(), primary_key=True))"
INTERRUPTED = "interrupted: nothing was left half-written"
BACKENDS = ("sqlite", "postgresql", "mysql")
COMMANDS = ("verify", "check")


# --------------------------------------------------------------------------- helpers


def chain_repo(root: Path, revisions: dict[str, tuple[str | None, str]]) -> GitRepo:
    """``{rev: (down_revision, upgrade body)}`` committed and present in alembic/versions."""
    repo = GitRepo.init(root)
    repo.commit("revisions", {f"{V}/{rev}_rev.py": revision_source(rev, down, f"rev {rev}", body=body)
                              for rev, (down, body) in revisions.items()})
    return repo


def linear_repo(root: Path) -> GitRepo:
    """A -> B, creating a_t and b_t."""
    return chain_repo(root, {A: (None, TABLE.format("a_t")), B: (A, TABLE.format("b_t"))})


def make_live(url: str, tables: tuple[str, ...], stamps: tuple[str, ...] | None, *, primary_key: bool = True) -> None:
    """Tables as the revisions create them, and alembic_version (as Alembic makes it, or without its
    primary key) holding ``stamps`` in that order; ``stamps=None``: no version table at all."""
    engine = sa.create_engine(driver_url(url), poolclass=NullPool)
    metadata = sa.MetaData()
    for name in tables:
        sa.Table(name, metadata, sa.Column("id", sa.Integer(), primary_key=True))
    with engine.begin() as conn:
        metadata.create_all(conn)
        if "a_t" in tables:  # rows too, so a write to them would show
            conn.execute(sa.text("INSERT INTO a_t (id) VALUES (1), (2)"))
        if stamps is not None:
            key = ", CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)" if primary_key else ""
            conn.execute(sa.text(f"CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL{key})"))
            for stamp in stamps:
                conn.execute(sa.text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": stamp})
    engine.dispose()


def live_state(url: str) -> dict[str, Any]:
    """Schema and every row of every table (and, for SQLite, the file's bytes)."""
    parsed = sa.make_url(url)
    state: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        state["file sha1"] = hashlib.sha1(Path(parsed.database or "").read_bytes()).hexdigest()
    engine = sa.create_engine(driver_url(url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            quote = conn.dialect.identifier_preparer.quote
            for table in sorted(inspector.get_table_names()):
                state[table] = {
                    "columns": [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)],
                    "primary key": inspector.get_pk_constraint(table).get("constrained_columns"),
                    "indexes": sorted((i["name"] or "", tuple(i["column_names"])) for i in inspector.get_indexes(table)),
                    "rows": sorted(repr(tuple(row)) for row in conn.execute(sa.text(f"SELECT * FROM {quote(table)}"))),
                }
            state["views"] = sorted(inspector.get_view_names())
    finally:
        engine.dispose()
    return state


def server_databases(kind: str) -> set[str]:
    server = POSTGRES_SERVER if kind == "postgresql" else MYSQL_SERVER
    engine = sa.create_engine(driver_url(server), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            sql = "SELECT datname FROM pg_database" if kind == "postgresql" else "SHOW DATABASES"
            return set(conn.execute(sa.text(sql)).scalars())
    finally:
        engine.dispose()


def scratch_gone(kind: str, scratch_url: str) -> bool:
    """The scratch database a run reported (masked URL) no longer exists."""
    name = sa.make_url(scratch_url).database or ""
    if kind == "sqlite":
        return not Path(name).exists() and not Path(name).parent.exists()
    return name not in server_databases(kind)


def shown(url: str) -> str:
    """The URL as messages show it: our default driver filled in, the password masked."""
    parsed = sa.make_url(url)
    drivers = {"postgresql": "postgresql+psycopg", "mysql": "mysql+pymysql"}
    parsed = parsed.set(drivername=drivers.get(parsed.drivername, parsed.drivername))
    return parsed.render_as_string(hide_password=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_ma(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "MA_DEBUG"}
    return subprocess.run([sys.executable, "-m", "migration_archaeologist", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def error_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    assert "internal error" not in proc.stderr, proc.stderr


#: the live database is tests/databases.py's ``database`` fixture (created and dropped per test),
#: on every backend or, parametrized indirectly, on some
backends = pytest.mark.parametrize("database", BACKENDS, indirect=True)


# --------------------------------------------------------------------------- cannot connect


@pytest.mark.parametrize("kind", ["postgresql", "mysql"])
def test_unreachable_server(tmp_path: Path, kind: str) -> None:
    repo = linear_repo(tmp_path / "repo")
    port = free_port()
    scheme = "postgresql" if kind == "postgresql" else "mysql"
    url = f"{scheme}://ma_user:s3cret-pw-91@127.0.0.1:{port}/live"
    for command in COMMANDS:
        proc = run_ma(command, str(repo.path), "--db", url)
        assert error_line(proc) == f"error: cannot connect to {shown(url)}: connection refused", command
        assert proc.returncode == 3
        assert "s3cret-pw-91" not in proc.stdout + proc.stderr


def test_sqlite_file_missing(tmp_path: Path) -> None:
    repo = linear_repo(tmp_path / "repo")
    missing = tmp_path / "no-such.sqlite"
    for command in COMMANDS:
        proc = run_ma(command, str(repo.path), "--db", f"sqlite:///{missing}")
        assert error_line(proc) == f"error: cannot open sqlite:///{missing}: database file does not exist", command
        assert proc.returncode == 3
        assert not missing.exists(), "never created"


@pytest.mark.parametrize("database", ["mysql"], indirect=True)
def test_wrong_password(tmp_path: Path, database: tuple[str, str]) -> None:
    kind, url = database
    repo = linear_repo(tmp_path / "repo")
    make_live(url, ("a_t", "b_t"), (B,))
    before = live_state(url)
    wrong = sa.make_url(url).set(password="wrong-pw-5e1").render_as_string(hide_password=False)
    user = sa.make_url(url).username
    for command in COMMANDS:
        proc = run_ma(command, str(repo.path), "--db", wrong)
        line = error_line(proc)
        prefix = f"error: cannot connect to {shown(wrong)}: Access denied for user '{user}'@'"
        assert line.startswith(prefix) and line.endswith("' (using password: YES)"), line
        assert "'" not in line[len(prefix):-len("' (using password: YES)")], line  # only the client's host between
        assert proc.returncode == 3
        assert "wrong-pw-5e1" not in proc.stdout + proc.stderr
    assert live_state(url) == before


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_unknown_role(tmp_path: Path, database: tuple[str, str]) -> None:
    kind, url = database
    repo = linear_repo(tmp_path / "repo")
    make_live(url, ("a_t", "b_t"), (B,))
    before = live_state(url)
    role = f"ma_norole_{uuid.uuid4().hex[:8]}"
    as_nobody = sa.make_url(url).set(username=role, password="any-pw-3c").render_as_string(hide_password=False)
    for command in COMMANDS:
        proc = run_ma(command, str(repo.path), "--db", as_nobody)
        assert error_line(proc) == f'error: cannot connect to {shown(as_nobody)}: role "{role}" does not exist'
        assert proc.returncode == 3
        assert "any-pw-3c" not in proc.stdout + proc.stderr
    assert live_state(url) == before


def test_unknown_database(tmp_path: Path) -> None:
    repo = linear_repo(tmp_path / "repo")
    # skips (or fails with MA_REQUIRE_DBS=1) when the server is down; the database itself is not needed
    drop_database("postgresql", create_database("postgresql", tmp_path))
    name = f"ma_missing_{uuid.uuid4().hex[:8]}"
    url = sa.make_url(POSTGRES_SERVER).set(database=name).render_as_string(hide_password=False)
    for command in COMMANDS:
        proc = run_ma(command, str(repo.path), "--db", url)
        assert error_line(proc) == f'error: cannot connect to {shown(url)}: database "{name}" does not exist'
        assert proc.returncode == 3
    assert name not in server_databases("postgresql"), "never created"


# --------------------------------------------------------------------------- the version table


@backends
def test_no_version_table(tmp_path: Path, database: tuple[str, str]) -> None:
    kind, url = database
    repo = linear_repo(tmp_path / "repo")
    make_live(url, ("a_t", "b_t"), None)
    before = live_state(url)
    for command in COMMANDS:
        proc = run_ma(command, str(repo.path), "--db", url)
        assert error_line(proc) == (
            f"error: {shown(url)} has no table alembic_version: the database was never stamped (or use --version-table)"
        ), command
        assert proc.returncode == 1
    assert live_state(url) == before


@backends
def test_several_heads_stamped(tmp_path: Path, database: tuple[str, str]) -> None:
    """Two branches, one row per head, as Alembic stamps them: legitimate, verified."""
    kind, url = database
    repo = chain_repo(tmp_path / "repo", {A: (None, TABLE.format("a_t")), B: (A, TABLE.format("b_t")),
                                          C: (A, TABLE.format("c_t"))})
    make_live(url, ("a_t", "b_t", "c_t"), (B, C))
    before = live_state(url)

    proc = run_ma("verify", str(repo.path), "--db", url, "--json")
    no_traceback(proc)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["verdict"] == "verified" and sorted(doc["stamped"]) == [B, C]
    assert [r["status"] for r in doc["resolutions"]] == ["present", "present"]
    assert scratch_gone(kind, doc["scratch"])

    check = run_ma("check", str(repo.path), "--db", url, "--json")
    no_traceback(check)
    kinds = {p["kind"] for p in json.loads(check.stdout)["problems"]}
    assert kinds == {"multiple-heads"}, "both stamps are present: no stamped-but-missing"
    assert live_state(url) == before


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)  # reading the rows is covered on every backend above
def test_duplicate_stamp_rows(tmp_path: Path, database: tuple[str, str]) -> None:
    kind, url = database
    repo = linear_repo(tmp_path / "repo")
    make_live(url, ("a_t", "b_t"), (B, B), primary_key=False)
    before = live_state(url)

    verify = run_ma("verify", str(repo.path), "--db", url)
    check = run_ma("check", str(repo.path), "--db", url)
    for proc in (verify, check):
        no_traceback(proc)
    assert live_state(url) == before

    for proc in (verify, check):
        output = (proc.stdout + proc.stderr).replace(str(tmp_path), "<tmp>")  # the test's own name says duplicate
        lines = [ln for ln in output.splitlines() if B in ln and "duplicate" in ln.lower()]
        assert lines, output
        assert proc.returncode == 1


def test_overlapping_stamps(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.sqlite'}"
    repo = linear_repo(tmp_path / "repo")
    make_live(url, ("a_t", "b_t"), (A, B), primary_key=False)
    before = live_state(url)

    proc = run_ma("verify", str(repo.path), "--db", url)
    no_traceback(proc)
    assert live_state(url) == before
    assert f"Requested revision {B} overlaps with other requested revisions {A}" in proc.stdout + proc.stderr
    assert proc.returncode == 1


@backends
def test_unknown_stamp(tmp_path: Path, database: tuple[str, str]) -> None:
    kind, url = database
    repo = linear_repo(tmp_path / "repo")
    make_live(url, ("a_t", "b_t"), (UNKNOWN,))
    before = live_state(url)

    verify = run_ma("verify", str(repo.path), "--db", url, "--json")
    no_traceback(verify)
    assert verify.returncode == 1 and verify.stderr.strip() == ""
    doc = json.loads(verify.stdout)
    assert doc["verdict"] == "unresolved-stamp" and doc["stamped"] == [UNKNOWN]
    # nothing holds it: the way forward is a stand-in written from the database
    heal = f"migration-archaeologist synthesize {UNKNOWN} {repo.path} --db {mask(url)}"
    assert [(r["revision"], r["status"], r["heal"]) for r in doc["resolutions"]] == [(UNKNOWN, "lost", heal)]
    assert doc["scratch"] is None and doc["steps"] == [], "nothing replayed towards a revision we do not have"

    check = run_ma("check", str(repo.path), "--db", url, "--json")
    no_traceback(check)
    assert check.returncode == 1 and check.stderr.strip() == ""
    problems = [(p["kind"], p["revisions"]) for p in json.loads(check.stdout)["problems"]]
    assert problems == [("stamped-but-missing", [UNKNOWN])]
    assert live_state(url) == before


def test_unknown_stamp_named_as_alembic_does(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.sqlite'}"
    repo = linear_repo(tmp_path / "repo")
    make_live(url, ("a_t", "b_t"), (UNKNOWN,))
    before = live_state(url)
    for command in COMMANDS:
        proc = run_ma(command, str(repo.path), "--db", url)
        no_traceback(proc)
        assert proc.returncode == 1
        assert live_state(url) == before
        assert f"Can't locate revision identified by '{UNKNOWN}'" in proc.stdout + proc.stderr, command


# --------------------------------------------------------------------------- Ctrl-C


def sleepy_revision(marker: Path) -> str:
    """upgrade() writes the database it runs in and its pid to ``marker``, then sleeps."""
    body = (
        "    import os, time\n"
        f"    marker = {str(marker)!r}\n"
        "    with open(marker + '.tmp', 'w') as handle:\n"
        "        handle.write(f'{op.get_bind().engine.url.database}\\n{os.getpid()}\\n')\n"
        "    os.replace(marker + '.tmp', marker)\n"
        "    time.sleep(60)"
    )
    return revision_source(A, None, "sleeps in the scratch database", body=body)


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@backends
def test_ctrl_c_during_replay(tmp_path: Path, database: tuple[str, str]) -> None:
    kind, url = database
    marker = tmp_path / "replay-started"
    repo = GitRepo.init(tmp_path / "repo")
    repo.commit("sleepy", {f"{V}/{A}_sleepy.py": sleepy_revision(marker)})
    make_live(url, ("a_t",), (A,))
    before = live_state(url)

    env = {k: v for k, v in os.environ.items() if k != "MA_DEBUG"}
    proc = subprocess.Popen([sys.executable, "-m", "migration_archaeologist", "verify", str(repo.path), "--db", url],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    scratch, child = "", 0
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the replay never reached upgrade()"
            time.sleep(0.02)
        scratch, pid = marker.read_text().split()
        child = int(pid)
        if kind == "sqlite":
            assert Path(scratch).exists()
        else:
            assert scratch.startswith("ma_scratch_") and scratch in server_databases(kind)
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the foreground process group
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if child and alive(child):
            os.killpg(child, signal.SIGKILL)

    try:
        assert "Traceback" not in stdout + stderr
        # Typer turns Ctrl-C inside a command into a silent exit 130; cli.main says what happened
        assert stderr.strip() == INTERRUPTED, stderr
        assert proc.returncode == 130
        assert not alive(child), "the replay process does not outlive verify"
        if kind == "sqlite":
            assert not Path(scratch).exists() and not Path(scratch).parent.exists()
        else:
            assert scratch not in server_databases(kind), "the scratch database is dropped"
        assert live_state(url) == before
    finally:
        if kind != "sqlite" and scratch and scratch in server_databases(kind):
            drop_database(kind, sa.make_url(url).set(database=scratch).render_as_string(hide_password=False))


def test_duplicate_stamp_rows_stop_synthesize_and_are_a_warning_in_views(tmp_path: Path) -> None:
    """The lost revision stamped in two rows: synthesize refuses before replaying anything (Alembic could
    not upgrade that database whatever file it is given); timeline and graph still draw, with a warning."""
    url = f"sqlite:///{tmp_path / 'live.sqlite'}"
    repo = linear_repo(tmp_path / "repo")
    lost = "c0ffee000003"
    make_live(url, ("a_t", "b_t"), (lost, lost), primary_key=False)
    before = live_state(url)

    synthesize = run_ma("synthesize", lost, str(repo.path), "--db", url, "--apply")
    no_traceback(synthesize)
    assert synthesize.returncode == 1
    assert one_line_error(synthesize).startswith(f"error: {url}: alembic_version stamps {lost} in 2 rows (a duplicate stamp")
    assert not list((repo.path / "alembic" / "versions").glob(f"{lost}*")), "nothing written"

    for command in ("timeline", "graph"):
        proc = run_ma(command, str(repo.path), "--db", url)
        no_traceback(proc)
        assert proc.returncode == 0, proc.stderr
        assert f"warning: {url}: alembic_version stamps {lost} in 2 rows" in proc.stderr
        assert lost in proc.stdout  # drawn as the lost stamp it is
    assert live_state(url) == before
