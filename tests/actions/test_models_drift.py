"""verify --models: the application's models against the live database, and the three-way verdict.

Each test builds a small application in a real git repository (a ``shop`` package with its models,
an Alembic environment whose env.py names ``target_metadata``, one revision), migrates a real
database with Alembic's own command line, then runs ``verify`` and ``recover`` as a user would.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from conftest import ma, one_line_error
from databases import create_database, driver_url, drop_database
from gitfixture import GitRepo, environment_files, revision_source

MODELS = '''import sqlalchemy as sa
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Author(Base):
    __tablename__ = "authors"
    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(sa.String(80), nullable=False)


class Book(Base):
    __tablename__ = "books"
    __table_args__ = (sa.CheckConstraint("pages > 0", name="ck_books_pages"),)
    id = sa.Column(sa.Integer, primary_key=True)
    title = sa.Column(sa.String(200), nullable=False)
    pages = sa.Column(sa.Integer, nullable=False, server_default="1")
    author_id = sa.Column(sa.Integer, sa.ForeignKey("authors.id"), nullable=False, index=True)
'''

CREATE = """    op.create_table('authors', sa.Column('id', sa.Integer(), primary_key=True),
                    sa.Column('name', sa.String(80), nullable=False))
    op.create_table('books', sa.Column('id', sa.Integer(), primary_key=True),
                    sa.Column('title', sa.String(200), nullable=False),
                    sa.Column('pages', sa.Integer(), nullable=False, server_default='1'),
                    sa.Column('author_id', sa.Integer(), sa.ForeignKey('authors.id'), nullable=False),
                    sa.CheckConstraint('pages > 0', name='ck_books_pages'))
    op.create_index('ix_books_author_id', 'books', ['author_id'])"""

LOGGING = """
[loggers]
keys = root

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARN
handlers = console

[handler_console]
class = StreamHandler
args = (sys.stderr,)
formatter = generic

[formatter_generic]
format = %%(levelname)s %%(message)s
"""
HEAD = "a1c0ffee0001"
VERSIONS = "migrations/versions"


def _shop(repo: GitRepo, url: str) -> None:
    env = environment_files("migrations")
    env["migrations/env.py"] = env["migrations/env.py"].replace(
        "target_metadata = None", "from shop.models import Base\n\ntarget_metadata = Base.metadata"
    )
    repo.commit(
        "the shop",
        {
            "alembic.ini": f"[alembic]\nscript_location = migrations\nprepend_sys_path = .\nsqlalchemy.url = {url}\n" + LOGGING,
            **env,
            "shop/__init__.py": "",
            "shop/models.py": MODELS,
            f"{VERSIONS}/{HEAD}_create.py": revision_source(HEAD, None, "create", body=CREATE),
        },
    )


def _alembic(repo: GitRepo, *args: str) -> None:
    """Alembic's own command line on the project, as its developers run it (env.py imports the models)."""
    proc = subprocess.run([sys.executable, "-m", "alembic", *args], cwd=repo.path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.fixture(params=["sqlite", "postgresql"])
def shop(request: pytest.FixtureRequest, repo: GitRepo, tmp_path: Path) -> Iterator[tuple[GitRepo, str]]:
    """(repository, live database URL): the shop migrated to its head, its models in sync."""
    url = create_database(request.param, tmp_path)
    try:
        _shop(repo, driver_url(url).render_as_string(hide_password=False).replace("%", "%%"))
        _alembic(repo, "upgrade", "head")
        yield repo, url
    finally:
        drop_database(request.param, url)


def verify_json(repo: GitRepo, url: str, *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    proc = ma("verify", str(repo.path), "--db", url, "--json", *args)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def statuses(doc: dict) -> list[str]:  # type: ignore[type-arg]
    return [line["status"] for line in doc["three_way"]]


def models_found(doc: dict) -> set[tuple[str, str, str]]:  # type: ignore[type-arg]
    return {(d["kind"], d["table"], d["column"] or d["name"]) for d in doc["models"]["differences"]}


def _execute(url: str, statement: str) -> None:
    engine = sa.create_engine(driver_url(url))
    with engine.begin() as conn:
        conn.execute(sa.text(statement))
    engine.dispose()


def test_models_in_sync_verify_exit_0_and_the_live_database_is_untouched(shop: tuple[GitRepo, str]) -> None:
    repo, url = shop
    live = sa.make_url(url).database if url.startswith("sqlite") else None
    before = Path(live).read_bytes() if live else None
    code, doc = verify_json(repo, url)
    assert code == 0, doc
    assert doc["verdict"] == "verified" and statuses(doc) == ["ok", "ok", "ok"]
    m = doc["models"]
    assert (m["models"], m["origin"], m["compared"], m["tables"]) == (
        "shop.models:Base.metadata", "migrations/env.py", True, 2)  # fmt: skip
    assert m["differences"] == [] and doc["differences"] == []
    if live:
        assert Path(live).read_bytes() == before
    # the same models named on the command line
    code, doc = verify_json(repo, url, "--models", "shop.models:Base")
    assert code == 0 and doc["models"]["origin"] == "--models" and statuses(doc) == ["ok", "ok", "ok"]


def test_a_column_only_in_the_models_is_models_drift_with_the_autogenerate_suggestion(
    shop: tuple[GitRepo, str],
) -> None:
    repo, url = shop
    repo.commit("isbn", {"shop/models.py": MODELS + "    isbn = sa.Column(sa.String(13))\n"})
    code, doc = verify_json(repo, url)
    assert code == 1
    assert doc["verdict"] == "models-drift" and doc["differences"] == []  # the chain still builds the database
    assert models_found(doc) == {("column-missing", "books", "isbn")}
    (found,) = doc["models"]["differences"]
    assert found["against"] == "models" and "the models define this column" in found["message"]
    assert statuses(doc) == ["ok", "failed", "ok"]
    assert "alembic revision --autogenerate" in doc["three_way"][1]["todo"]
    text = ma("verify", str(repo.path), "--db", url).stdout
    assert "FAILED models = database: 1 difference(s)" in text and "to do: 1 only in the models" in text
    assert text.rstrip().endswith("models-drift")


def test_a_column_only_in_the_database_is_reported_against_the_chain_and_the_models(
    shop: tuple[GitRepo, str],
) -> None:
    repo, url = shop
    _execute(url, "ALTER TABLE books ADD COLUMN notes TEXT")  # a hand edit on the live database
    code, doc = verify_json(repo, url)
    assert code == 1 and doc["verdict"] == "drift"
    assert {(d["kind"], d["column"], d["against"]) for d in doc["differences"]} == {("column-extra", "notes", "chain")}
    assert models_found(doc) == {("column-extra", "books", "notes")}
    assert statuses(doc) == ["failed", "failed", "ok"]
    chain, models, _head = doc["three_way"]
    assert "changed outside the chain" in chain["todo"]
    assert "add them to the models" in models["todo"]


def test_models_that_cannot_be_imported_are_one_line_and_exit_3(repo: GitRepo, tmp_path: Path) -> None:
    url = create_database("sqlite", tmp_path)
    _shop(repo, url)
    _alembic(repo, "upgrade", "head")
    repo.commit("broken", {"shop/broken.py": "import not_installed_anywhere\n", "shop/loud.py": "print('hello')\n"})
    proc = ma("verify", str(repo.path), "--db", url, "--models", "shop.broken:Base")
    assert proc.returncode == 3
    assert one_line_error(proc) == (
        "error: the models shop.broken:Base cannot be imported: they import 'not_installed_anywhere', which"
        f" {sys.executable} does not have (run with --python /path/to/your/project/venv/bin/python, or install it)"
    )
    proc = ma("verify", str(repo.path), "--db", url, "--models", "shop.nowhere:Base")
    assert proc.returncode == 3 and "no module 'shop.nowhere'" in one_line_error(proc)
    proc = ma("verify", str(repo.path), "--db", url, "--models", "shop.models:Nope")
    assert proc.returncode == 3 and "the models shop.models:Nope cannot be found" in one_line_error(proc)
    proc = ma("verify", str(repo.path), "--db", url, "--models", "shop.models:Book.__tablename__")
    assert proc.returncode == 3 and "is a str, not a MetaData" in one_line_error(proc)
    proc = ma("verify", str(repo.path), "--db", url, "--models", "shop.loud:Base")  # prints while imported
    assert proc.returncode == 3 and "the models shop.loud:Base cannot be found" in one_line_error(proc)
    proc = ma("verify", str(repo.path), "--db", url, "--models", "shop.models")
    assert proc.returncode == 2 and "give MODULE:ATTR" in one_line_error(proc)
    proc = ma("verify", str(repo.path), "--db", url, "--models", "shop.models:Base", "--no-models")
    assert proc.returncode == 2 and "contradict" in one_line_error(proc)


def test_env_py_models_that_cannot_be_imported_are_a_note_not_an_error(repo: GitRepo, tmp_path: Path) -> None:
    """Nobody asked for env.py's models by name: the chain's verdict stands, the models line says why not."""
    url = create_database("sqlite", tmp_path)
    _shop(repo, url)
    _alembic(repo, "upgrade", "head")
    repo.commit("needs flask now", {"shop/models.py": "import flask_not_here\n" + MODELS})
    code, doc = verify_json(repo, url)
    assert code == 0 and doc["verdict"] == "verified"
    assert statuses(doc) == ["ok", "not checked", "ok"]
    assert doc["models"]["compared"] is False
    assert "they import 'flask_not_here'" in doc["models"]["note"] and "migrations/env.py" in doc["models"]["note"]


def test_models_that_hang_are_killed_at_the_timeout(repo: GitRepo, tmp_path: Path) -> None:
    url = create_database("sqlite", tmp_path)
    _shop(repo, url)
    _alembic(repo, "upgrade", "head")
    repo.commit("slow", {"shop/slow.py": "import time\ntime.sleep(120)\n"})
    proc = ma("verify", str(repo.path), "--db", url, "--models", "shop.slow:Base", "--timeout", "3")
    assert proc.returncode == 3
    assert "were not imported and created within 3 s" in one_line_error(proc)


def test_models_are_imported_by_the_python_given_not_by_the_tool(repo: GitRepo, tmp_path: Path) -> None:
    """--python names the project's interpreter: one without SQLAlchemy cannot import these models."""
    from migration_archaeologist.sources.bytecode.verification import find_python

    found = [str(p) for v in ("3.10", "3.12", "3.13") if (p := find_python(v)) is not None]
    bare = next((p for p in found if subprocess.run([p, "-c", "import sqlalchemy"], capture_output=True).returncode), None)
    if bare is None:
        pytest.skip("no Python 3.10-3.13 without SQLAlchemy on this machine")
    url = create_database("sqlite", tmp_path)
    _shop(repo, url)
    _alembic(repo, "upgrade", "head")
    proc = ma("verify", str(repo.path), "--db", url, "--models", "shop.models:Base", "--python", bare)
    assert proc.returncode == 3
    assert f"they import 'sqlalchemy', which {bare} does not have" in one_line_error(proc)


def test_a_database_below_the_head_fails_the_stamp_line_with_upgrade_head(repo: GitRepo, tmp_path: Path) -> None:
    url = create_database("sqlite", tmp_path)
    _shop(repo, url)
    _alembic(repo, "upgrade", "head")
    later = "    op.add_column('books', sa.Column('isbn', sa.String(13)))"
    repo.commit("isbn", {f"{VERSIONS}/b2_isbn.py": revision_source("b2c0ffee0002", HEAD, "isbn", body=later),
                         "shop/models.py": MODELS + "    isbn = sa.Column(sa.String(13))\n"})  # fmt: skip
    code, doc = verify_json(repo, url)
    assert code == 1 and doc["verdict"] == "models-drift"  # the models are at the head, the database is not
    assert statuses(doc) == ["ok", "failed", "failed"]
    head = doc["three_way"][2]
    assert head["found"] == f"the database is stamped {HEAD}; the chain's head is b2c0ffee0002"
    assert head["todo"].startswith("'alembic upgrade head'")
    code, doc = verify_json(repo, url, "--no-models")
    assert code == 1 and doc["verdict"] == "behind-head" and doc["models"] is None
    _alembic(repo, "upgrade", "head")
    code, doc = verify_json(repo, url)
    assert code == 0 and statuses(doc) == ["ok", "ok", "ok"]


def test_recover_apply_ends_with_the_three_way_verdict(repo: GitRepo, tmp_path: Path) -> None:
    url = create_database("sqlite", tmp_path)
    _shop(repo, url)
    _alembic(repo, "upgrade", "head")
    repo.commit("cleanup", remove=[f"{VERSIONS}/{HEAD}_create.py"])
    repo.commit("isbn", {"shop/models.py": MODELS + "    isbn = sa.Column(sa.String(13))\n"})
    proc = ma("recover", str(repo.path), "--db", url, "--apply")
    assert proc.returncode == 0, proc.stdout + proc.stderr  # Alembic works again; the models are the application's
    lines = proc.stdout.rstrip().splitlines()
    verdict_at = max(i for i, line in enumerate(lines) if line == "three-way verdict:")
    assert lines[verdict_at - 1] == f"Alembic works again: current {HEAD} (head)"
    marks = [line.split(":")[0].strip() for line in lines[verdict_at + 1 :] if not line.startswith("       ")]
    assert marks == ["ok chain = database", "FAILED models = database", "ok chain head = stamp"]
    assert "alembic revision --autogenerate" in proc.stdout


@pytest.mark.parametrize(
    ("env_py", "expected"),
    [
        ("from app.models import Base\ntarget_metadata = Base.metadata\n", ("app.models:Base.metadata",)),
        ("from app.db import metadata as md\ntarget_metadata = md\n", ("app.db:metadata",)),
        ("import app.models\ntarget_metadata = app.models.Base.metadata\n", ("app:models.Base.metadata",)),
        ("import app.db as db\ntarget_metadata = db.metadata\n", ("app.db:metadata",)),
        ("from a import A\nfrom b import B\ntarget_metadata = [A.metadata, B.metadata]\n",
         ("a:A.metadata", "b:B.metadata")),
        ("try:\n    from app import db\nexcept ImportError:\n    raise\ntarget_metadata = db.metadata\n",
         ("app:db.metadata",)),
        ("target_metadata = None\n", "target_metadata = None"),
        ("from flask import current_app\ntarget_metadata = current_app.extensions['migrate'].db.metadata\n",
         "not a module-level object"),
        ("from sqlalchemy import MetaData\nMetaData = 1\ntarget_metadata = MetaData\n", "not a module-level object"),
        ("from .models import Base\ntarget_metadata = Base.metadata\n", "not a module-level object"),
        ("def run():\n    x = 1\n", "names no target_metadata"),
        ("from warehouse import db\ndef run():\n    context.configure(url=u, target_metadata=db.metadata)\n",
         ("warehouse:db.metadata",)),
        ("target_metadata = (\n", "cannot be read"),
    ],
)  # fmt: skip
def test_env_py_target_metadata_is_read_without_running_it(tmp_path: Path, env_py: str, expected: object) -> None:
    from migration_archaeologist.project.target_metadata import ModelsSpec, NoModels, from_env_py

    path = tmp_path / "env.py"
    path.write_text("raise SystemExit('env.py must never run')\n" + env_py)
    found = from_env_py(path, [tmp_path])
    if isinstance(expected, tuple):
        assert isinstance(found, ModelsSpec) and found.targets == expected and found.origin == "env.py"
    else:
        assert isinstance(found, NoModels) and str(expected) in found.reason


LOAN_MODELS = '''import sqlalchemy as sa
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Author(Base):
    __tablename__ = "authors"
    id = sa.Column(sa.Integer, primary_key=True)


class Loan(Base):
    __tablename__ = "loans"
    __table_args__ = (sa.UniqueConstraint("reader", "day"), sa.UniqueConstraint("reader", "title"))
    id = sa.Column(sa.Integer, primary_key=True)
    author_id = sa.Column(sa.Integer, sa.ForeignKey("authors.id"))
    reader = sa.Column(sa.String(50))
    title = sa.Column(sa.String(50))
    day = sa.Column(sa.String(10))
'''

LOANS = """    from shop.names import LOANS  # the application's own module, as CTFd's revisions import CTFd.models

    op.create_table('authors', sa.Column('id', sa.Integer(), primary_key=True))
    op.create_table(LOANS, sa.Column('id', sa.Integer(), primary_key=True), sa.Column('author_id', sa.Integer()),
                    sa.Column('reader', sa.String(50)), sa.Column('title', sa.String(50)),
                    sa.Column('day', sa.String(10)),
                    sa.UniqueConstraint('reader', 'title'), sa.UniqueConstraint('reader', 'day'))
    op.create_foreign_key(None, LOANS, 'authors', ['author_id'], ['id'])"""


@pytest.mark.parametrize("kind", ["postgresql", "mysql"])  # SQLite cannot add a foreign key later
def test_models_made_by_create_all_match_a_database_made_by_migrations(repo: GitRepo, tmp_path: Path, kind: str) -> None:
    """CTFd on MariaDB, in small: its migrations add foreign keys after the table (MySQL names their
    indexes after the constraint) and make unnamed unique constraints in another order than the
    models (MySQL names them reader, reader_2 in creation order); and its revisions import the
    application. Alembic's autogenerate sees no difference there: neither may we."""
    url = create_database(kind, tmp_path)
    try:
        _shop(repo, driver_url(url).render_as_string(hide_password=False).replace("%", "%%"))
        repo.commit("loans", {"shop/models.py": LOAN_MODELS, "shop/names.py": "LOANS = 'loans'\n",
                              f"{VERSIONS}/{HEAD}_create.py": revision_source(HEAD, None, "create", body=LOANS)})  # fmt: skip
        _alembic(repo, "upgrade", "head")
        code, doc = verify_json(repo, url)
        assert code == 0, doc
        assert doc["differences"] == [] and doc["models"]["differences"] == [] and statuses(doc) == ["ok"] * 3
    finally:
        drop_database(kind, url)


def test_the_models_are_found_on_the_configurations_prepend_sys_path(repo: GitRepo, tmp_path: Path) -> None:
    """The package lives in backend/, which only alembic.ini's prepend_sys_path puts on the path."""
    url = create_database("sqlite", tmp_path)
    _shop(repo, url)
    _alembic(repo, "upgrade", "head")
    ini = (repo.path / "alembic.ini").read_text().replace("prepend_sys_path = .", "prepend_sys_path = backend")
    repo.commit("the package moves", {"alembic.ini": ini, "backend/shop/__init__.py": "", "backend/shop/models.py": MODELS},
                remove=["shop/__init__.py", "shop/models.py"])  # fmt: skip
    code, doc = verify_json(repo, url)
    assert code == 0, doc
    assert doc["models"]["models"] == "shop.models:Base.metadata" and statuses(doc) == ["ok", "ok", "ok"]
