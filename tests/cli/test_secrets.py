"""Secrets (issue 8, point 3): a password in a database URL never reaches any output.

Every command that takes a database URL runs as a user runs it (a subprocess), with the URL given
as ``--db``, as ``DATABASE_URL``, as ``sqlalchemy.url`` in alembic.ini and as ``--scratch-url``,
against a port nothing listens on, a real server that refuses the credentials or the database, a
driver that is not installed, a URL whose password was not escaped, and a real PostgreSQL and
MariaDB database that accepts them. After each run, stdout, stderr and every file under the test's
folders and HOME that we did not plant ourselves (reports written with ``-o``, the manifest,
synthesized revision files, the history cache, temp files: TMPDIR points into the test folder)
are searched for the password: as given, percent-decoded, HTML-unescaped, and for fragments of it.
Failures also run with ``MA_DEBUG=1``, which turns internal errors into tracebacks.
"""

from __future__ import annotations

import html
import json
import os
import socket
import subprocess
import sys
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from importlib.util import find_spec
from pathlib import Path
from typing import Iterator, Sequence

import pytest
import sqlalchemy as sa

import databases
from databases import MYSQL_SERVER, POSTGRES_SERVER, create_database, driver_url, drop_database
from gitfixture import GitRepo, environment_files

PASSWORD = "S3cr3t-pa55w0rd"
TRICKY = "p@ss:w0rd-7Zq"  # written p%40ss%3Aw0rd-7Zq in a URL
TRICKY_ESCAPED = urllib.parse.quote(TRICKY, safe="")
#: none of these may appear in any output: the passwords, their escaped forms, and the fragments a
#: parser splitting an unescaped password at its @ or : would put in a host or port
FORBIDDEN = (PASSWORD, "S3cr3t", "pa55w0rd", TRICKY, TRICKY_ESCAPED, "ss:w0rd", "w0rd-7Zq")

V = "alembic/versions"
R0, R1, LOST = "aaaaaaaaaaa0", "bbbbbbbbbbb1", "ccccccccccc2"
T_SQL = "CREATE TABLE t (id INTEGER PRIMARY KEY, name VARCHAR(50))"
U_SQL = "CREATE TABLE u (id INTEGER PRIMARY KEY, t_id INTEGER)"
V_SQL = "CREATE TABLE v (id INTEGER PRIMARY KEY)"
VERSION_SQL = "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"
INI_PLACEHOLDER = "driver://user:pass@localhost/dbname"  # Alembic's template value, never used
#: a deploy note quoting a URL with a password: its line is evidence for R1, quoted by scan --json
NOTE = (f"2025-10-20 deploy: alembic upgrade {R1} against postgresql://deploy:{PASSWORD}@db.internal/prod "
        f"(replica: postgresql://deploy@db.internal/replica?sslmode=require&password={PASSWORD})\n")


def _revision(rev: str, down: str | None, create: str, table: str) -> str:
    return f'''"""create {table}

Revision ID: {rev}
Revises: {down or ""}
Create Date: 2025-10-15 10:00:00.000000

"""
from alembic import op

revision = {rev!r}
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute({create!r})


def downgrade() -> None:
    op.execute("DROP TABLE {table}")
'''


# --------------------------------------------------------------------------- running and searching


class Outputs:
    """Runs the CLI and searches everything it printed or wrote for the passwords."""

    def __init__(self, tmp_path: Path) -> None:
        self.roots = [tmp_path, Path(os.environ["HOME"])]
        self.tmpdir = tmp_path / "tmpdir"
        self.tmpdir.mkdir(exist_ok=True)
        self.planted: set[Path] = set()  # files we wrote with a password in them on purpose
        self.runs = 0

    def plant(self, path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.planted.add(path.resolve())

    def run(self, *args: str, env: dict[str, str] | None = None, debug: bool = False) -> subprocess.CompletedProcess[str]:
        """conftest.ma, with a chosen environment: DATABASE_URL only when given, MA_DEBUG on request,
        temp files inside the test folder (so any left behind are searched too)."""
        base = {k: v for k, v in os.environ.items() if k not in ("MA_DEBUG", "DATABASE_URL")}
        base.update({"TMPDIR": str(self.tmpdir), **(env or {})})
        if debug:
            base["MA_DEBUG"] = "1"
        proc = subprocess.run([sys.executable, "-m", "migration_archaeologist", *args], capture_output=True,
                              text=True, env=base, timeout=300)
        self.runs += 1
        label = f"{'MA_DEBUG=1 ' if debug else ''}{' '.join(args)} (env {sorted((env or {}))})"
        assert not _leaks(proc.stdout), f"password on stdout of {label}:\n{proc.stdout}"
        assert not _leaks(proc.stderr), f"password on stderr of {label}:\n{proc.stderr}"
        return proc

    def assert_files_clean(self) -> int:
        """Every file under the roots, except the ones we planted; returns how many were read."""
        read = 0
        for root in self.roots:
            for dirpath, _dirs, names in os.walk(root):
                for name in names:
                    path = Path(dirpath, name)
                    if path.is_symlink() or path.resolve() in self.planted:
                        continue
                    text = path.read_bytes().decode("utf-8", errors="replace")
                    read += 1
                    found = _leaks(text)
                    assert not found, f"{found} in {path}:\n{text[:2000]}"
        return read


def _leaks(text: str) -> list[str]:
    forms = {text, urllib.parse.unquote(text), html.unescape(text)}
    return [secret for secret in FORBIDDEN if any(secret in form for form in forms)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _with_password(url: str, username: str, password: str) -> str:
    return sa.make_url(url).set(username=username, password=password).render_as_string(hide_password=False)


def _one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in proc.stdout + proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    return lines[0]


# --------------------------------------------------------------------------- the repository


def _project(tmp_path: Path, out: Outputs, name: str = "repo", ini_url: str | None = None) -> GitRepo:
    """Two revisions committed and present, alembic.ini (committed with Alembic's placeholder URL,
    then given ``ini_url`` in the work tree) and a deploy note quoting a URL with a password."""
    repo = GitRepo.init(tmp_path / name)
    repo.commit("migrations", {
        f"{V}/{R0}_create_t.py": _revision(R0, None, T_SQL, "t"),
        f"{V}/{R1}_create_u.py": _revision(R1, R0, U_SQL, "u"),
        "alembic.ini": f"[alembic]\nscript_location = alembic\nsqlalchemy.url = {INI_PLACEHOLDER}\n",
        **environment_files(),
    })
    out.plant(repo.path / "docs" / "deploy-notes.md", NOTE)
    repo.git("add", "docs/deploy-notes.md")
    repo.git("commit", "-q", "-m", "deploy notes")
    if ini_url is not None:
        _set_ini(repo, out, ini_url)
    return repo


def _set_ini(repo: GitRepo, out: Outputs, url: str) -> None:
    # alembic.ini is read with interpolation: a % is written %% (p%%40ss%%3Aword), as Alembic needs
    out.plant(repo.path / "alembic.ini", f"[alembic]\nscript_location = alembic\nsqlalchemy.url = {url.replace('%', '%%')}\n")


# --------------------------------------------------------------------------- URLs that fail


def _commands(repo: Path, url: str, out_dir: Path, tag: str) -> list[tuple[tuple[str, ...], dict[str, str]]]:
    """Each command that connects to ``url``, given in each way (option, environment, alembic.ini)."""
    r = str(repo)
    return [
        (("check", r, "--db", url, "--json"), {}),
        (("verify", r), {"DATABASE_URL": url}),
        (("synthesize", LOST, r), {}),  # sqlalchemy.url in alembic.ini
        (("baseline", r, "--db", url), {}),
        (("timeline", r, "--db", url, "-f", "html", "-o", str(out_dir / f"{tag}-timeline.html")), {}),
        (("graph", r, "--db", url, "-f", "json", "-o", str(out_dir / f"{tag}-graph.json")), {}),
    ]


def _run_failures(tmp_path: Path, out: Outputs, cases: Sequence[tuple[str, str, str]], *, full: Sequence[str]) -> int:
    """Run commands for each ``(tag, url, reason)`` in parallel: every command, and check and verify
    again with MA_DEBUG=1, for tags in ``full``; two of them (one with MA_DEBUG=1), taken in turn,
    for the others. Each must fail with exit 3 and one line naming the masked URL and ``reason``.
    Returns how many ran."""
    jobs = []
    for index, (tag, url, reason) in enumerate(cases):
        repo = _project(tmp_path, out, f"repo-{tag}", ini_url=url)
        commands = _commands(repo.path, url, tmp_path / "out", tag)
        if tag in full:
            jobs += [(reason, args, env, False) for args, env in commands]
            jobs += [(reason, args, env, True) for args, env in commands[:2]]
        else:
            jobs.append((reason, *commands[index % len(commands)], False))
            jobs.append((reason, *commands[(index + 3) % len(commands)], True))
    (tmp_path / "out").mkdir(exist_ok=True)

    def one(job):  # type: ignore[no-untyped-def]
        reason, args, env, debug = job
        proc = out.run(*args, env=env, debug=debug)
        assert proc.returncode == 3, (args, proc.returncode, proc.stdout, proc.stderr)
        line = _one_error_line(proc)
        assert "***" in line and reason in line, (args, line)

    with ThreadPoolExecutor(max_workers=max(2, min(4, os.cpu_count() or 2))) as pool:
        for future in [pool.submit(one, job) for job in jobs]:
            future.result()
    out.assert_files_clean()
    assert not list((tmp_path / "out").iterdir()), "a failed command wrote a report"
    return len(jobs)


def test_unreachable_server_missing_driver_and_unescaped_password(tmp_path: Path) -> None:
    out = Outputs(tmp_path)
    port = _free_port()
    at = f"127.0.0.1:{port}"
    psycopg2 = "no driver" if find_spec("psycopg2") is None else "connection refused"
    mysqldb = "no driver" if find_spec("MySQLdb") is None else "connection refused"
    cases = [
        ("pg-down", f"postgresql://app:{PASSWORD}@{at}/app", "connection refused"),
        ("mysql-down", f"mysql+pymysql://app:{TRICKY_ESCAPED}@{at}/app", "connection refused"),
        ("mariadb-down", f"mariadb://app:{PASSWORD}@{at}/app", "connection refused"),
        ("psycopg2", f"postgresql+psycopg2://app:{TRICKY_ESCAPED}@{at}/app", psycopg2),
        ("mysqldb", f"mysql+mysqldb://app:{PASSWORD}@{at}/app", mysqldb),
        ("unknown-driver", f"postgresql+nosuch://app:{PASSWORD}@{at}/app", "Can't load plugin"),
        # not escaped: ':' after the '@' makes the rest a "port", '@' makes the rest part of the host
        ("colon", f"postgresql://app:{TRICKY}@{at}/app", "not a database URL"),
        ("at-sign", f"mysql+pymysql://app:S3cr3t@pa55w0rd@{at}/app", "not a database URL"),
    ]
    assert _run_failures(tmp_path, out, cases, full=("pg-down",)) == 8 + 7 * 2
    # --offline connects to nothing: only the dialect reaches the child process
    offline = out.run("verify", str(tmp_path / "repo-pg-down"), "--offline", "--db", cases[0][1])
    assert offline.returncode == 0 and "CREATE TABLE t" in offline.stdout, offline.stderr
    bad = out.run("verify", str(tmp_path / "repo-colon"), "--offline", "--db", cases[6][1], debug=True)
    assert bad.returncode == 2 and "not a database URL" in _one_error_line(bad)


def _require(kind: str) -> None:
    server = POSTGRES_SERVER if kind == "postgresql" else MYSQL_SERVER
    try:
        engine = sa.create_engine(driver_url(server))
        with engine.connect():
            pass
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server
        databases._unavailable(kind, exc)


def test_real_servers_refusing_the_credentials_or_the_database(tmp_path: Path) -> None:
    """PostgreSQL (trust auth takes any password): a database or user that does not exist.
    MariaDB: root with a password it does not have."""
    _require("postgresql")
    _require("mysql")
    out = Outputs(tmp_path)
    missing = f"ma_missing_{uuid.uuid4().hex[:8]}"
    pg = sa.make_url(POSTGRES_SERVER)
    cases = [
        ("pg-nodb", _with_password(pg.set(database=missing).render_as_string(False), pg.username or "postgres", PASSWORD),
         "does not exist"),
        ("pg-nouser", _with_password(POSTGRES_SERVER, f"{missing}_user", TRICKY), "does not exist"),
        ("mysql-root", _with_password(MYSQL_SERVER, "root", PASSWORD), "Access denied"),
        ("mysql-root-tricky", _with_password(MYSQL_SERVER, "root", TRICKY), "Access denied"),
    ]
    assert _run_failures(tmp_path, out, cases, full=("mysql-root-tricky",)) == 8 + 3 * 2


# --------------------------------------------------------------------------- databases that work


@contextmanager
def _postgres_login(tmp_path: Path) -> Iterator[tuple[str, str, sa.Engine]]:
    """A role with a password (and CREATEDB, for scratch databases) owning a fresh database:
    (its URL with the password, the role, a superuser engine). Under trust auth the password is
    accepted and ignored; under password auth it is the one that works."""
    role = f"ma_secret_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(driver_url(POSTGRES_SERVER), isolation_level="AUTOCOMMIT")
    url = create_database("postgresql", tmp_path)
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN CREATEDB PASSWORD '{PASSWORD}'")
            conn.exec_driver_sql(f"ALTER DATABASE {sa.make_url(url).database} OWNER TO {role}")
        yield _with_password(url, role, PASSWORD), role, admin
    finally:
        drop_database("postgresql", url)
        with admin.connect() as conn:  # anything the role still owns (a scratch database a failure left)
            left = conn.execute(sa.text("SELECT datname FROM pg_database d JOIN pg_roles r ON d.datdba = r.oid "
                                        "WHERE r.rolname = :role"), {"role": role}).scalars().all()
            for name in left:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")
        admin.dispose()


@contextmanager
def _mariadb_login(tmp_path: Path) -> Iterator[tuple[str, str, sa.Engine]]:
    """A user whose password needs escaping in a URL (p@ss:w0rd-7Zq), allowed to create databases."""
    user = f"ma_secret_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(driver_url(MYSQL_SERVER), isolation_level="AUTOCOMMIT")
    url = create_database("mysql", tmp_path)
    try:
        with admin.connect() as conn:
            for host in ("%", "localhost"):  # 'localhost' beats an anonymous ''@'localhost'
                conn.execute(sa.text(f"CREATE USER '{user}'@'{host}' IDENTIFIED BY :pw"), {"pw": TRICKY})
                conn.execute(sa.text(f"GRANT ALL PRIVILEGES ON *.* TO '{user}'@'{host}'"))
        yield _with_password(url, user, TRICKY), user, admin
    finally:
        drop_database("mysql", url)
        with admin.connect() as conn:
            for host in ("%", "localhost"):
                conn.execute(sa.text(f"DROP USER IF EXISTS '{user}'@'{host}'"))
        admin.dispose()


def _execute(url: str, *statements: str) -> None:
    engine = sa.create_engine(driver_url(url))
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


@pytest.mark.parametrize("kind", ["postgresql", "mysql"])
def test_working_database_with_a_password(kind: str, tmp_path: Path) -> None:
    """Every command, to the end, against a database that takes the password; and --scratch-url."""
    _require(kind)
    out = Outputs(tmp_path)
    login = _postgres_login if kind == "postgresql" else _mariadb_login
    with login(tmp_path) as (live, user, admin):
        password = sa.make_url(live).password
        assert password in (PASSWORD, TRICKY) and (PASSWORD in live or TRICKY_ESCAPED in live)
        _execute(live, T_SQL, U_SQL, VERSION_SQL, f"INSERT INTO alembic_version VALUES ('{R1}')")
        repo = _project(tmp_path, out)
        r = str(repo.path)
        reports = tmp_path / "reports"
        reports.mkdir()

        # the chain and the database agree: every command succeeds
        for fmt in ("text", "github"):  # json: below, once a stamp is missing
            proc = out.run("check", r, "--db", live, "--format", fmt)
            assert proc.returncode == 0, proc.stdout + proc.stderr
        proc = out.run("verify", r, "--db", live, "--json", "--roundtrip")
        doc = json.loads(proc.stdout)
        assert (proc.returncode, doc["verdict"]) == (0, "verified"), proc.stdout + proc.stderr
        assert f"{user}:***@" in doc["database"] and f"{user}:***@" in doc["scratch"]
        assert out.run("verify", r, "--offline", "--db", live).returncode == 0
        proc = out.run("verify", r, env={"DATABASE_URL": live})
        assert proc.returncode == 0 and "verified" in proc.stdout and f"{user}:***@" in proc.stdout, proc.stdout
        _set_ini(repo, out, live)
        assert out.run("verify", r, "--json").returncode == 0
        for args in (("timeline", "-f", "html", "-o", str(reports / "timeline.html")),
                     ("timeline", "-f", "json", "-o", str(reports / "timeline.json")),
                     ("graph", "-f", "mermaid", "-o", str(reports / "graph.mmd"))):
            proc = out.run(args[0], r, "--db", live, *args[1:])
            assert proc.returncode == 0, proc.stderr
        assert f"{user}:***@" in (reports / "timeline.json").read_text(encoding="utf-8")

        # --scratch-url: a second database with the password; the live one; one that is down
        scratch_db = create_database(kind, tmp_path)
        try:
            with admin.connect() as conn:
                name = sa.make_url(scratch_db).database
                if kind == "postgresql":
                    conn.exec_driver_sql(f"ALTER DATABASE {name} OWNER TO {user}")
            scratch = _with_password(scratch_db, user, password)
            proc = out.run("verify", r, "--db", live, "--scratch-url", scratch, "--json")
            assert proc.returncode == 0 and json.loads(proc.stdout)["scratch"].count("***") == 1, proc.stdout + proc.stderr
        finally:
            drop_database(kind, scratch_db)
        proc = out.run("verify", r, "--db", live, "--scratch-url", live)
        assert proc.returncode == 2 and "***" in _one_error_line(proc)
        down = sa.make_url(live).set(port=_free_port()).render_as_string(hide_password=False)
        proc = out.run("verify", r, "--db", live, "--scratch-url", down, debug=True)
        assert proc.returncode == 3 and "***" in _one_error_line(proc)

        if kind == "postgresql":  # the server refuses CREATE DATABASE: the scratch database message
            with admin.connect() as conn:
                conn.exec_driver_sql(f"ALTER ROLE {user} NOCREATEDB")
            try:
                proc = out.run("verify", r, "--db", live, debug=True)
                assert proc.returncode == 3 and "cannot create a scratch database" in _one_error_line(proc)
            finally:
                with admin.connect() as conn:
                    conn.exec_driver_sql(f"ALTER ROLE {user} CREATEDB")

        # a revision lost everywhere: the database is stamped with it
        _execute(live, V_SQL, f"UPDATE alembic_version SET version_num = '{LOST}'")
        proc = out.run("check", r, "--db", live, "--json")
        assert proc.returncode == 1 and f"{user}:***@" in proc.stdout, proc.stdout + proc.stderr
        proc = out.run("verify", r, "--db", live)
        assert proc.returncode == 1 and "unresolved-stamp" in proc.stdout, proc.stdout + proc.stderr
        proc = out.run("synthesize", LOST, r, "--db", live, "--json")
        assert proc.returncode == 0 and json.loads(proc.stdout)["proven"], proc.stdout + proc.stderr
        proc = out.run("synthesize", LOST, r, "--db", live, "--apply")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        written = list((repo.path / V).glob(f"{LOST}_*.py"))
        assert len(written) == 1 and f"{user}:***@" in written[0].read_text(encoding="utf-8")
        manifest = repo.path / V / "migration-archaeologist-manifest.json"
        assert f"{user}:***@" in manifest.read_text(encoding="utf-8")

        # a baseline, written and stamped into the live database
        fresh = tmp_path / "fresh-versions"
        proc = out.run("baseline", r, "--db", live, "--revision-id", "0000000000b1", "--versions", str(fresh),
                       "--apply", "--stamp", "--yes")
        assert proc.returncode == 0 and f"stamped {kind}" in proc.stderr and "***" in proc.stderr, proc.stderr
        assert (fresh / "migration-archaeologist-manifest.json").exists()
        assert out.assert_files_clean() > 10


def test_restore_scan_and_reports_with_passwords_in_the_configuration(tmp_path: Path) -> None:
    """Commands that take no URL still run where one is configured (DATABASE_URL, alembic.ini) and
    where a document quotes one: restore's manifest, scan's evidence, the reports."""
    out = Outputs(tmp_path)
    env = {"DATABASE_URL": f"postgresql://app:{TRICKY_ESCAPED}@127.0.0.1:{_free_port()}/app"}
    repo = _project(tmp_path, out, ini_url=f"mysql+pymysql://app:{PASSWORD}@127.0.0.1:{_free_port()}/app")
    r1 = next((repo.path / V).glob(f"{R1}_*.py"))
    r1.unlink()  # lost from the work tree, still in history
    for args in (("restore", R1, str(repo.path)), ("restore", R1, str(repo.path), "--apply", "--json")):
        proc = out.run(*args, env=env, debug=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    assert r1.exists() and (repo.path / V / "migration-archaeologist-manifest.json").exists()
    proc = out.run("scan", str(repo.path), "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "postgresql://deploy:***@db.internal/prod" in proc.stdout  # the note's line is quoted, masked
    assert "replica?sslmode=require&password=***" in proc.stdout
    assert out.run("scan", str(repo.path), env=env).returncode == 0
    assert out.run("check", str(repo.path), "--json", env=env).returncode == 0
    reports = tmp_path / "reports"
    reports.mkdir()
    for fmt in ("html", "json", "markdown"):
        assert out.run("timeline", str(repo.path), "-f", fmt, "-o", str(reports / f"t.{fmt}"), env=env).returncode == 0
    assert out.assert_files_clean() > 10


# --------------------------------------------------------------------------- the password in the query string


def _query_password(url: str, password: str, key: str) -> str:
    """``url`` without user:password@ but with ``?<key>=<password>`` (and a harmless sslkey path)."""
    u = sa.make_url(url)
    parsed = sa.URL.create(u.drivername, u.username, None, u.host, u.port, u.database)
    return parsed.update_query_dict({key: password}).render_as_string(hide_password=False)


@pytest.mark.parametrize("kind", ["postgresql", "mysql"])
def test_password_in_the_query_string(kind: str, tmp_path: Path) -> None:
    """Issue 19, item 5: ``?password=`` (and ``?passwd=``, ``?sslpassword=``) is a credential too:
    every command that connects, to the end and on the way out, never prints it."""
    _require(kind)
    out = Outputs(tmp_path)
    login = _postgres_login if kind == "postgresql" else _mariadb_login
    with login(tmp_path) as (live, user, _admin):
        password = str(sa.make_url(live).password)
        key = "password" if kind == "postgresql" else "passwd"
        url = _query_password(live, password, key)
        assert password in urllib.parse.unquote(url) and ":" + urllib.parse.quote(password, safe="") + "@" not in url
        _execute(url, T_SQL, U_SQL, V_SQL, VERSION_SQL, f"INSERT INTO alembic_version VALUES ('{LOST}')")
        repo = _project(tmp_path, out)
        r = str(repo.path)
        reports = tmp_path / "reports"
        reports.mkdir()
        proc = out.run("check", r, "--db", url, "--json")
        assert proc.returncode == 1 and f"{key}=***" in proc.stdout, proc.stdout + proc.stderr
        proc = out.run("verify", r, "--db", url, "--json")
        assert proc.returncode == 1 and f"{key}=***" in json.loads(proc.stdout)["database"], proc.stdout + proc.stderr
        for args in (("timeline", "-f", "json", "-o", str(reports / "timeline.json")),
                     ("timeline", "-f", "html", "-o", str(reports / "timeline.html")),
                     ("graph", "-f", "json", "-o", str(reports / "graph.json"))):
            proc = out.run(args[0], r, "--db", url, *args[1:])
            assert proc.returncode == 0, proc.stderr
        assert f"{key}=***" in (reports / "timeline.json").read_text(encoding="utf-8")
        proc = out.run("synthesize", LOST, r, "--db", url, "--json")
        assert proc.returncode == 0 and json.loads(proc.stdout)["proven"], proc.stdout + proc.stderr
        proc = out.run("recover", r, "--db", url, "--json")
        assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr, proc.stdout + proc.stderr
        proc = out.run("recover", r, "--db", url, "--apply")
        assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr, proc.stdout + proc.stderr
        written = list((repo.path / V).glob(f"{LOST}_*.py"))
        assert len(written) == 1 and f"{key}=***" in written[0].read_text(encoding="utf-8")
        proc = out.run("baseline", r, "--db", url, "--revision-id", "0000000000b1", "--versions",
                       str(tmp_path / "fresh-versions"), "--apply")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        if kind == "postgresql":  # libpq's sslpassword (unused without a client key): masked as well
            extra = sa.make_url(url).update_query_dict({"sslpassword": PASSWORD}).render_as_string(hide_password=False)
            proc = out.run("verify", r, "--db", extra, "--json")
            assert "sslpassword=***" in json.loads(proc.stdout)["database"], proc.stdout + proc.stderr
        assert out.assert_files_clean() > 5

    # the server down, a wrong password in the query string: one line, masked, exit 3
    down = sa.make_url(url).set(port=_free_port()).render_as_string(hide_password=False)
    r = str(_project(tmp_path, out, "repo-down").path)  # LOST still missing: synthesize connects
    for args in (("check", r, "--db", down, "--json"), ("verify", r, "--db", down, "--json"),
                 ("recover", r, "--db", down), ("synthesize", LOST, r, "--db", down),
                 ("baseline", r, "--db", down), ("graph", r, "--db", down, "-f", "json")):
        proc = out.run(*args, debug=True)
        assert proc.returncode == 3 and f"{key}=***" in _one_error_line(proc), (args, proc.stdout, proc.stderr)
    if kind == "mysql":
        wrong = sa.make_url(url).update_query_dict({key: PASSWORD}).render_as_string(hide_password=False)
        proc = out.run("check", r, "--db", wrong, "--json")
        assert proc.returncode == 3 and "Access denied" in _one_error_line(proc), proc.stderr
        # a parameter PyMySQL has no argument for (libpq's sslpassword): one line, exit 3, masked
        other = sa.make_url(url).update_query_dict({"sslpassword": PASSWORD}).render_as_string(hide_password=False)
        proc = out.run("check", r, "--db", other, "--json")
        line = _one_error_line(proc)
        assert proc.returncode == 3 and "takes no query parameter 'sslpassword'" in line and "sslpassword=***" in line
