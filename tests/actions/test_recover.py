"""The founding scenario, end to end with the real ``alembic`` command line: an application migrated
on a real database, then its ``alembic.ini``, ``env.py``, ``script.py.mako`` and every revision deleted
in one cleanup commit. ``recover --apply`` must leave Alembic working again: ``alembic current`` shows
the stamp, ``upgrade head`` and ``downgrade -1`` run, and every file that history held is back
byte-identical."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import alembic
import pytest

from databases import create_database, drop_database
from gitfixture import GitRepo

TEMPLATES = Path(alembic.__file__).parent / "templates" / "generic"
APP = "backend"
SCRIPT = f"{APP}/migrations"
VERSIONS = f"{SCRIPT}/versions"


def revision(rev: str, down: object, message: str, upgrade: str, downgrade: str, labels: object = None) -> str:
    return f'''"""{message}

Revision ID: {rev}
Revises: {down if not isinstance(down, tuple) else ", ".join(down)}
Create Date: 2025-10-15 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

revision = {rev!r}
down_revision = {down!r}
branch_labels = {labels!r}
depends_on = None


def upgrade():
{upgrade}


def downgrade():
{downgrade}
'''


#: a base, a branch point, two branches, their merge, and one more on top: the seed's shape, with a merge
REVISIONS = {
    "1a2b3c4d5e6f": ("1a2b3c4d5e6f_users.py", None, "users",
                     "    op.create_table('users', sa.Column('id', sa.Integer(), primary_key=True),"
                     " sa.Column('name', sa.String(80)))",
                     "    op.drop_table('users')"),
    "2b3c4d5e6f70": ("2b3c4d5e6f70_email.py", "1a2b3c4d5e6f", "user email",
                     "    op.add_column('users', sa.Column('email', sa.String(120), nullable=True))",
                     "    with op.batch_alter_table('users') as batch:\n        batch.drop_column('email')"),
    "3c4d5e6f7081": ("3c4d5e6f7081_projects.py", "2b3c4d5e6f70", "projects",
                     "    op.create_table('projects', sa.Column('id', sa.Integer(), primary_key=True))",
                     "    op.drop_table('projects')"),
    "4d5e6f708192": ("4d5e6f708192_tags.py", "2b3c4d5e6f70", "tags",
                     "    op.create_table('tags', sa.Column('id', sa.Integer(), primary_key=True))",
                     "    op.drop_table('tags')"),
    "5e6f708192a3": ("5e6f708192a3_merge.py", ("3c4d5e6f7081", "4d5e6f708192"), "merge projects and tags",
                     "    pass", "    pass"),
    "6f708192a3b4": ("6f708192a3b4_tasks.py", "5e6f708192a3", "tasks",
                     "    op.create_table('tasks', sa.Column('id', sa.Integer(), primary_key=True),"
                     " sa.Column('title', sa.String(200)))",
                     "    op.drop_table('tasks')"),
}
HEAD = "6f708192a3b4"


def ini(url: str) -> str:
    text = (TEMPLATES / "alembic.ini.mako").read_text()
    text = text.replace("${script_location}", "%(here)s/migrations")
    return text.replace("sqlalchemy.url = driver://user:pass@localhost/dbname", f"sqlalchemy.url = {url.replace('%', '%%')}")


def alembic_cli(repo: GitRepo, *args: str, config: str = "alembic.ini") -> subprocess.CompletedProcess[str]:
    """The real Alembic command line, run as a user runs it: from the application's folder."""
    return subprocess.run([sys.executable, "-m", "alembic", "-c", config, *args], cwd=repo.path / APP,
                          capture_output=True, text=True, timeout=120)


def ma(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "migration_archaeologist", *args], capture_output=True, text=True,
                          timeout=600)


def committed(repo: GitRepo, spec: str) -> bytes:
    return subprocess.run(["git", "show", spec], cwd=repo.path, capture_output=True, check=True).stdout


def app_url(kind: str, url: str) -> str:
    """As the application writes it: psycopg 3 named for PostgreSQL, pymysql for MariaDB."""
    if kind == "postgresql":
        return url.replace("postgresql://", "postgresql+psycopg://", 1)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    url = create_database(request.param, tmp_path)
    yield request.param, app_url(request.param, url)
    drop_database(request.param, url)


def build(tmp_path: Path, url: str, *, commit_ini: bool = True) -> tuple[GitRepo, dict[str, str], str]:
    """The application, migrated to head with the real Alembic CLI, then the cleanup commit.
    Returns the repository, path -> content of every file the cleanup deleted, and the cleanup commit."""
    repo = GitRepo.init(tmp_path / "repo")
    files = {
        f"{SCRIPT}/env.py": (TEMPLATES / "env.py").read_text(),
        f"{SCRIPT}/script.py.mako": (TEMPLATES / "script.py.mako").read_text(),
        f"{SCRIPT}/README": "Generic single-database configuration.\n",
        f"{APP}/app.py": "print('the application')\n",
        ".gitignore": "__pycache__/\n" + ("" if commit_ini else f"{APP}/alembic.ini\n"),
    }
    for rev, (name, down, message, up, back) in REVISIONS.items():
        files[f"{VERSIONS}/{name}"] = revision(rev, down, message, up, back)
    repo.commit("introduce the application and its migrations", files)
    repo.write(f"{APP}/alembic.ini", ini(url))
    if commit_ini:
        repo.commit("alembic.ini", {f"{APP}/alembic.ini": ini(url)})
    upgraded = alembic_cli(repo, "upgrade", "head")
    assert upgraded.returncode == 0, upgraded.stderr
    deleted = {path: text for path, text in files.items() if path.startswith(SCRIPT)}
    if commit_ini:
        deleted[f"{APP}/alembic.ini"] = ini(url)
    cleanup = repo.commit("chore: remove stale alembic files", remove=list(deleted))
    if not commit_ini:
        (repo.path / APP / "alembic.ini").unlink()  # never committed: gone with the working copy it lived in
    broken = alembic_cli(repo, "current")
    assert broken.returncode != 0  # the starting point: Alembic does not work
    return repo, deleted, cleanup


def test_recover_makes_alembic_work_again_with_the_real_cli(tmp_path: Path, database) -> None:  # type: ignore[no-untyped-def]
    kind, url = database
    repo, deleted, cleanup = build(tmp_path, url)

    check = ma("check", str(repo.path))
    assert check.returncode == 1
    assert "environment-missing" in check.stdout and f"{APP}/alembic.ini was deleted in {cleanup[:10]}" in check.stdout

    dry = ma("recover", str(repo.path), "--db", url, "--json")
    assert dry.returncode == 0, dry.stderr
    plan = json.loads(dry.stdout)
    assert plan["schema"] == "migration-archaeologist/recover/1" and plan["applied"] is False and plan["complete"]
    writes = {(a["kind"], a["subject"]): a for a in plan["actions"] if a["action"] == "write"}
    assert set(writes) == {("environment", r) for r in ("alembic.ini", "env.py", "script.py.mako", "README")} | {
        ("revision", rev) for rev in REVISIONS}
    assert all(a["fidelity"] == "exact" and a["source"].startswith("history") for a in writes.values())
    assert not (repo.path / APP / "alembic.ini").exists()  # a dry run writes nothing

    applied = ma("recover", str(repo.path), "--db", url, "--apply")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert f"Alembic works again: current {HEAD} (head)" in applied.stdout
    for path in deleted:  # byte-identical to the last version before the cleanup
        assert (repo.path / path).read_bytes() == committed(repo, f"{cleanup}^:{path}"), path

    current = alembic_cli(repo, "current")
    assert current.returncode == 0, current.stderr
    assert f"{HEAD} (head)" in current.stdout
    down = alembic_cli(repo, "downgrade", "-1")
    assert down.returncode == 0, down.stderr
    assert "5e6f708192a3 (mergepoint)" in alembic_cli(repo, "current").stdout
    up = alembic_cli(repo, "upgrade", "head")
    assert up.returncode == 0, up.stderr
    assert f"{HEAD} (head)" in alembic_cli(repo, "current").stdout

    manifest = json.loads((repo.path / VERSIONS / "migration-archaeologist-manifest.json").read_text())
    environment = {r["role"]: r for r in manifest["restored"] if r.get("kind") == "environment"}
    assert set(environment) == {"alembic.ini", "env.py", "script.py.mako", "README"}
    assert all(r["fidelity"] == "exact" and r["commit"] == cleanup for r in environment.values())
    again = ma("check", str(repo.path))
    assert again.returncode == 0, again.stdout
    after = json.loads(ma("recover", str(repo.path), "--db", url, "--json").stdout)
    assert after["complete"] and not [a for a in after["actions"] if a["action"] != "present"]  # nothing left to do


def test_an_ini_never_committed_is_generated_and_alembic_works(tmp_path: Path, database) -> None:  # type: ignore[no-untyped-def]
    kind, url = database
    repo, deleted, cleanup = build(tmp_path, url, commit_ini=False)

    applied = ma("recover", str(repo.path), "--db", url, "--apply", "--json")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    doc = json.loads(applied.stdout)
    assert doc["works"] and doc["verdict"] == f"Alembic works again: current {HEAD} (head)"
    assert doc["verification"]["verdict"] == "verified"
    generated = repo.path / APP / "alembic.ini"
    text = generated.read_text()
    assert text.startswith("# generated by migration-archaeologist")
    assert "script_location = %(here)s/migrations" in text
    assert f"sqlalchemy.url = {url.replace('%', '%%')}" in text  # --db carries no password: written
    for path, content in deleted.items():
        assert (repo.path / path).read_text() == content, path
    current = alembic_cli(repo, "current")
    assert current.returncode == 0 and f"{HEAD} (head)" in current.stdout, current.stderr
    assert alembic_cli(repo, "downgrade", "-1").returncode == 0
    assert alembic_cli(repo, "upgrade", "head").returncode == 0
    manifest = json.loads((repo.path / VERSIONS / "migration-archaeologist-manifest.json").read_text())
    ini_record = next(r for r in manifest["restored"] if r.get("role") == "alembic.ini")
    assert ini_record["fidelity"] == "generated" and ini_record["source"] == "alembic-template"
