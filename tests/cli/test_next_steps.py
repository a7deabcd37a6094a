"""Every dead end names the way forward (issue 18, "next steps everywhere"), as a user sees it.

Real git repositories (gitfixture), real SQLite files and PostgreSQL databases, the command line
run as a user runs it.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa

from conftest import ma, one_line_error
from databases import create_database, driver_url, drop_database
from gitfixture import GitRepo, revision_source

V = "alembic/versions"
UNKNOWN = "deadbeef0000"


def _stamp(url: str, *revisions: str) -> None:
    engine = sa.create_engine(driver_url(url))
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
        for rev in revisions:
            conn.execute(sa.text("INSERT INTO alembic_version VALUES (:rev)"), {"rev": rev})
    engine.dispose()


@pytest.fixture
def chain(repo: GitRepo) -> GitRepo:
    """a <- b, both present."""
    repo.commit("base", {f"{V}/a_base.py": revision_source("a", None, "base")})
    repo.commit("next", {f"{V}/b_next.py": revision_source("b", "a", "next")})
    return repo


@pytest.fixture(params=["sqlite", "postgresql"])
def lost_stamp(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(url as given, with a password on PostgreSQL; its masked form) of a database stamped with a
    revision no source holds."""
    url = create_database(request.param, tmp_path)
    try:
        _stamp(url, UNKNOWN)
        if request.param == "postgresql":  # trust authentication: the password is sent, never checked
            given = sa.make_url(url).set(password="s3cret-pw").render_as_string(hide_password=False)
            yield given, sa.make_url(given).render_as_string(hide_password=True)
        else:
            yield url, url
    finally:
        drop_database(request.param, url)


# --------------------------------------------------------------------------- 1. a stamp nothing holds


def test_check_db_names_synthesize_for_a_stamp_nothing_holds(chain: GitRepo, lost_stamp: tuple[str, str]) -> None:
    url, masked = lost_stamp
    proc = ma("check", str(chain.path), "--db", url)
    assert proc.returncode == 1
    out = proc.stdout + proc.stderr
    assert "s3cret-pw" not in out
    hint = f"migration-archaeologist synthesize {UNKNOWN} {chain.path} --db {masked}"
    assert hint in proc.stdout.replace("'", ""), out
    doc = json.loads(ma("check", str(chain.path), "--db", url, "--json").stdout)
    message = next(p["message"] for p in doc["problems"] if p["kind"] == "stamped-but-missing")
    assert f"synthesize {UNKNOWN}" in message and "s3cret-pw" not in message


def test_verify_names_synthesize_for_a_stamp_nothing_holds(chain: GitRepo, lost_stamp: tuple[str, str]) -> None:
    url, masked = lost_stamp
    proc = ma("verify", str(chain.path), "--db", url)
    assert proc.returncode == 1
    assert "s3cret-pw" not in proc.stdout + proc.stderr
    assert f"heal with: migration-archaeologist synthesize {UNKNOWN} {chain.path} --db" in proc.stdout
    assert masked in proc.stdout
    doc = json.loads(ma("verify", str(chain.path), "--db", url, "--json").stdout)
    (resolution,) = doc["resolutions"]
    assert resolution["status"] == "lost"
    assert resolution["heal"].startswith(f"migration-archaeologist synthesize {UNKNOWN} ")
    assert masked in resolution["heal"] and "s3cret-pw" not in resolution["heal"]


def test_timeline_db_names_synthesize_for_a_stamp_nothing_holds(chain: GitRepo, lost_stamp: tuple[str, str]) -> None:
    url, masked = lost_stamp
    for fmt in ("markdown", "html", "json"):
        proc = ma("timeline", "--db", url, "--format", fmt, cwd=chain.path)
        assert proc.returncode == 0, proc.stderr
        assert "s3cret-pw" not in proc.stdout + proc.stderr
        assert f"migration-archaeologist synthesize {UNKNOWN} --db" in proc.stdout, fmt
    doc = json.loads(proc.stdout)
    entry = next(r for r in doc["revisions"] if r["revision"] == UNKNOWN)
    assert entry["status"] == "lost" and entry["stamp"] == "stamped"
    assert entry["next_step"].replace("'", "") == f"migration-archaeologist synthesize {UNKNOWN} --db {masked}"


# --------------------------------------------------------------------------- 2, 3. timeline and HTML report


def test_timeline_names_the_restore_command_of_each_recoverable_revision(lost: GitRepo) -> None:
    command = "migration-archaeologist restore b --apply"
    markdown = ma("timeline", cwd=lost.path)
    assert markdown.returncode == 0, markdown.stderr
    assert f"- Restore with: `{command}`" in markdown.stdout
    html = ma("timeline", "--format", "html", cwd=lost.path)
    assert f'Restore with: <code class="command">{command}</code>' in html.stdout
    doc = json.loads(ma("timeline", "--format", "json", cwd=lost.path).stdout)
    steps = {r["revision"]: r["next_step"] for r in doc["revisions"]}
    assert steps == {"a": None, "b": command, "c": None}
    elsewhere = ma("timeline", str(lost.path), "--format", "json")  # the repository as given goes in
    assert {r["revision"]: r["next_step"] for r in json.loads(elsewhere.stdout)["revisions"]}["b"] == (
        f"migration-archaeologist restore b {lost.path} --apply"
    )


def test_pre_restore_html_report_counts_missing_revisions_as_problems(lost: GitRepo) -> None:
    html = ma("timeline", "--format", "html", cwd=lost.path).stdout
    assert "<dt>Problems</dt><dd>none</dd>" not in html
    assert "No problems found" not in html
    assert '<dt>Problems</dt><dd><a href="#problems">1</a></dd>' in html
    problems = html.split('<section id="problems">', 1)[1].split("</section>", 1)[0]
    assert '<td class="kind">missing</td>' in problems
    assert "migration-archaeologist restore b --apply" in problems
    # once restored, nothing is left to fix: the report says so
    assert ma("restore", "b", "--apply", cwd=lost.path).returncode == 0
    after = ma("timeline", "--format", "html", cwd=lost.path).stdout
    assert "<dt>Problems</dt><dd>none</dd>" in after and "migration-archaeologist restore" not in after


# --------------------------------------------------------------------------- 4. verify --offline --json


def test_verify_offline_json_is_a_json_document(chain: GitRepo) -> None:
    url = "postgresql://admin:hunter2secret@127.0.0.1:5999/prod"  # nothing listens: offline connects to nothing
    proc = ma("verify", str(chain.path), "--db", url, "--offline", "--json")
    assert proc.returncode == 0, proc.stderr
    assert "hunter2secret" not in proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["schema"] == "migration-archaeologist/offline-sql/1"
    assert (doc["database"], doc["dialect"], doc["target"]) == ("postgresql://admin:***@127.0.0.1:5999/prod", "postgresql", "b")
    assert "ALTER TABLE t ADD COLUMN c INTEGER" in doc["sql"]
    plain = ma("verify", str(chain.path), "--db", url, "--offline")
    assert plain.returncode == 0 and plain.stdout == doc["sql"]  # without --json: the SQL itself


# --------------------------------------------------------------------------- 5. synthesize of a present revision


def test_synthesize_a_present_revision_says_so_and_exits_0(chain: GitRepo) -> None:
    before = sorted(p.name for p in (chain.path / V).iterdir())
    proc = ma("synthesize", "b", str(chain.path))  # no database needed to see that nothing is to do
    assert proc.returncode == 0, proc.stderr
    assert one_line_error(proc) == f"b is present in {V}/b_next.py: nothing to synthesize"
    assert proc.stdout == ""
    doc = ma("synthesize", "b", str(chain.path), "--db", "sqlite:///nowhere.sqlite", "--json")
    assert doc.returncode == 0, doc.stderr
    assert json.loads(doc.stdout) == {
        "schema": "migration-archaeologist/synthesize/1", "revision": "b", "present": f"{V}/b_next.py",
        "proven": None, "written": None, "message": f"b is present in {V}/b_next.py: nothing to synthesize",
    }
    assert doc.stderr == ""
    assert sorted(p.name for p in (chain.path / V).iterdir()) == before


# --------------------------------------------------------------------------- 6. the same sources everywhere


@pytest.fixture
def archived(repo: GitRepo, tmp_path: Path) -> tuple[GitRepo, Path, bytes]:
    """c revises b, which no commit ever held: only a .zip outside the repository has it."""
    b_source = revision_source("b", "a", "next").encode()
    repo.commit("base", {f"{V}/a_base.py": revision_source("a", None, "base")})
    repo.commit("last", {f"{V}/c_last.py": revision_source("c", "b", "last")})
    backup = tmp_path / "backup.zip"
    with zipfile.ZipFile(backup, "w") as zf:
        zf.writestr(f"app/{V}/b_next.py", b_source)
    return repo, backup, b_source


def test_every_command_reads_the_archive_scan_read(archived: tuple[GitRepo, Path, bytes], tmp_path: Path) -> None:
    repo, backup, b_source = archived
    at, archive = str(repo.path), str(backup)
    scan = json.loads(ma("scan", at, "--archive", archive, "--json").stdout)
    assert scan["missing"] == ["b"]  # found, and needed

    before = json.loads(ma("check", at, "--json").stdout)  # without the archive: only its ID is known
    assert before["missing"] == [] and any(p["kind"] == "missing-parent" for p in before["problems"])
    check = ma("check", at, "--archive", archive, "--json")
    assert check.returncode == 1 and json.loads(check.stdout)["missing"] == ["b"]
    github = ma("check", at, "--archive", archive, "--format", "github")
    assert f"Restore it with: migration-archaeologist restore b {at} --archive {archive} --apply" in github.stdout

    doc = json.loads(ma("timeline", at, "--archive", archive, "--format", "json").stdout)
    b = next(r for r in doc["revisions"] if r["revision"] == "b")
    assert b["status"] == "recoverable" and b["recoverable_from"][0]["source"] == "archive"
    assert b["next_step"] == f"migration-archaeologist restore b {at} --archive {archive} --apply"
    graph = json.loads(ma("graph", at, "--archive", archive, "--format", "json").stdout)
    assert {n["revision"]: n["status"] for n in graph["nodes"]}["b"] == "recoverable"

    db = tmp_path / "app.sqlite"
    _stamp(f"sqlite:///{db}", "b")
    verify = json.loads(ma("verify", at, "--db", f"sqlite:///{db}", "--archive", archive, "--json").stdout)
    assert verify["resolutions"][0]["status"] == "recoverable"
    assert verify["resolutions"][0]["heal"] == f"migration-archaeologist restore b {at} --archive {archive} --apply"

    # the command the reports name is the one that works
    restore = ma(*b["next_step"].split()[1:])
    assert restore.returncode == 0, restore.stdout + restore.stderr
    assert (repo.path / V / "b_next.py").read_bytes() == b_source
    after = ma("check", at, "--json")
    assert after.returncode == 0 and json.loads(after.stdout)["ok"] is True


def test_restore_reads_an_archive_folder(archived: tuple[GitRepo, Path, bytes], tmp_path: Path) -> None:
    repo, backup, b_source = archived
    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(backup) as zf:
        zf.extractall(folder)
    proc = ma("restore", "b", str(repo.path), "--archive", str(folder), "--no-thorough", "--no-cache", "--apply", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["written"] == [str(repo.path / V / "b_next.py")]
    assert (repo.path / V / "b_next.py").read_bytes() == b_source
