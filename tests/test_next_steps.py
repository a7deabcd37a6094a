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
