"""alembic_view: real revision files, real Alembic, real subprocesses."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from migration_archaeologist.project.alembic_check import PROBE_PATH, AlembicView, alembic_view


def write_rev(
    versions: Path,
    rev: str,
    down: str | tuple[str, ...] | None,
    *,
    slug: str = "change",
    header: str = "",
    body: str = "",
) -> Path:
    """Write a revision file shaped like Alembic's generic template."""
    path = versions / f"{rev}_{slug}.py"
    down_src = repr(down)
    path.write_text(
        textwrap.dedent(
            '''\
            """{slug}

            Revision ID: {rev}
            Revises: {down}
            Create Date: 2023-05-01 12:00:00.000000

            """
            from typing import Sequence, Union

            from alembic import op
            import sqlalchemy as sa
            '''
        ).format(slug=slug, rev=rev, down=down or "")
        + textwrap.dedent(header)
        + textwrap.dedent(
            f'''
            # revision identifiers, used by Alembic.
            revision: str = {rev!r}
            down_revision: Union[str, Sequence[str], None] = {down_src}
            branch_labels: Union[str, Sequence[str], None] = None
            depends_on: Union[str, Sequence[str], None] = None
            '''
        )
        + textwrap.dedent(body)
        + textwrap.dedent(
            """

            def upgrade() -> None:
                op.add_column("users", sa.Column("x", sa.Integer(), nullable=True))


            def downgrade() -> None:
                op.drop_column("users", "x")
            """
        ),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def versions(tmp_path: Path) -> Path:
    d = tmp_path / "migrations" / "versions"
    d.mkdir(parents=True)
    return d


def test_linear_chain(versions: Path) -> None:
    write_rev(versions, "1a2b3c4d5e6f", None, slug="create_users")
    write_rev(versions, "2b3c4d5e6f70", "1a2b3c4d5e6f", slug="add_email")
    write_rev(versions, "3c4d5e6f7081", "2b3c4d5e6f70", slug="add_index")

    view = alembic_view([versions])

    assert view.error is None, view
    assert view.heads == ("3c4d5e6f7081",)
    assert view.revisions == ("1a2b3c4d5e6f", "2b3c4d5e6f70", "3c4d5e6f7081")
    assert view.stand_ins == ()
    assert view.warnings == ()
    assert view.conclusive


def test_missing_application_gets_stand_ins(versions: Path) -> None:
    write_rev(
        versions,
        "aaa111",
        None,
        header="""
        from myapp.models import db
        from app.db.types import GUID
        """,
        body="""
        users = sa.table("users", sa.column("id", GUID()), sa.column("name", sa.String))
        accounts = sa.Table(
            "accounts",
            sa.MetaData(),
            sa.Column("id", GUID(), primary_key=True),
            sa.Column("owner", db.String(80), nullable=False),
        )
        """,
    )
    write_rev(
        versions,
        "bbb222",
        "aaa111",
        header="""
        import app.types as app_types
        from app.types import Base


        class JSONText(app_types.Base):
            impl = sa.Text
            cache_ok = True

            def process_bind_param(self, value, dialect):
                return value


        class ShortGUID(Base, sa.types.TypeDecorator):
            impl = sa.CHAR(22)
            cache_ok = True
        """,
        body="""
        payload = sa.table("events", sa.column("data", JSONText()))
        short = ShortGUID()
        """,
    )
    write_rev(
        versions,
        "ccc333",
        "bbb222",
        header="""
        from flask_sqlalchemy import SQLAlchemy
        from app import settings
        from app.utils import with_schema

        db = SQLAlchemy()
        SCHEMA = settings.DB_SCHEMA or "public"
        print("top-level print must not reach stdout")
        """,
        body="""
        class AuditLog(db.Model):
            __tablename__ = "audit_log"
            id = db.Column(db.Integer, primary_key=True)


        for table in db.Model.metadata.sorted_tables:
            pass
        """,
    )

    view = alembic_view([versions])

    assert view.error is None, view
    assert view.warnings == (), view.warnings
    assert view.conclusive
    assert view.heads == ("ccc333",)
    assert view.revisions == ("aaa111", "bbb222", "ccc333")
    for name in (
        "myapp",
        "myapp.models",
        "app",
        "app.db",
        "app.db.types",
        "app.types",
        "app.utils",
        "flask_sqlalchemy",
    ):
        assert name in view.stand_ins
    assert "sqlalchemy" not in view.stand_ins
    assert list(view.stand_ins) == sorted(view.stand_ins)


def test_branch_has_two_heads_and_merge_has_one(versions: Path) -> None:
    write_rev(versions, "base0001", None)
    write_rev(versions, "left0002", "base0001", slug="left")
    write_rev(versions, "right0003", "base0001", slug="right")

    view = alembic_view([versions])
    assert view.conclusive, view
    assert view.heads == ("left0002", "right0003")

    write_rev(versions, "merge0004", ("left0002", "right0003"), slug="merge")
    view = alembic_view([versions])
    assert view.conclusive, view
    assert view.heads == ("merge0004",)
    assert len(view.revisions) == 4


@pytest.mark.parametrize(
    "header, needles",
    [
        ('raise RuntimeError("needs DATABASE_URL")', ["RuntimeError: needs DATABASE_URL"]),
        (
            # the module exists but lacks the name: a stand-in must not hide that
            "from sqlalchemy import does_not_exist",
            [
                "ImportError: cannot import name 'does_not_exist' from 'sqlalchemy'",
                "stand-ins cannot help",
            ],
        ),
    ],
)
def test_file_that_fails_to_load_is_a_warning(
    versions: Path, header: str, needles: list[str]
) -> None:
    write_rev(versions, "f00001", None)
    bad = write_rev(versions, "f00002", "f00001", slug="broken", header=header)
    write_rev(versions, "f00003", "f00002")

    view = alembic_view([versions])

    assert not view.conclusive
    assert view.failed_files == (f"versions/{bad.name}",)
    [warning] = [w for w in view.warnings if bad.name in w]
    for needle in needles:
        assert needle in warning
    assert "\n" not in warning
    # The broken file's identifiers are plain literals, so Alembic still gets
    # the whole chain and the heads stay meaningful.
    assert view.error is None
    assert view.heads == ("f00003",)
    assert view.revisions == ("f00001", "f00002", "f00003")


def test_unloadable_file_without_literal_revision_is_skipped(versions: Path) -> None:
    write_rev(versions, "g00001", None)
    bad = versions / "g00002_dynamic.py"
    bad.write_text(
        "import os\nrevision = os.environ['REV']\ndown_revision = 'g00001'\n",
        encoding="utf-8",
    )

    view = alembic_view([versions])

    assert not view.conclusive
    assert view.error is None
    assert view.heads == ("g00001",)
    assert any("g00002_dynamic.py" in w and "KeyError" in w for w in view.warnings)


def test_missing_parent_is_an_error(versions: Path) -> None:
    write_rev(versions, "h00001", None)
    write_rev(versions, "h00003", "deadbeef0002")

    view = alembic_view([versions])

    assert view.error is not None
    assert "deadbeef0002" in view.error
    assert "\n" not in view.error
    assert not view.conclusive


def test_duplicate_revision_is_alembic_warning(tmp_path: Path) -> None:
    one = tmp_path / "one" / "versions"
    two = tmp_path / "two" / "versions"
    one.mkdir(parents=True)
    two.mkdir(parents=True)
    write_rev(one, "dup0001", None)
    write_rev(two, "dup0001", None, slug="again")

    view = alembic_view([one, two])

    assert any("dup0001" in w and "more than once" in w for w in view.warnings), view


def test_no_pycache_written(versions: Path) -> None:
    write_rev(versions, "p00001", None, header="from myapp.models import db\n")
    write_rev(versions, "p00002", "p00001")

    view = alembic_view([versions])

    assert view.conclusive, view
    assert not list(versions.rglob("__pycache__"))
    assert not list(versions.rglob("*.pyc"))


def test_timeout_is_an_error(versions: Path) -> None:
    write_rev(versions, "t00001", None, header="while True:\n    pass\n")

    start = time.monotonic()
    view = alembic_view([versions], timeout=3)

    assert time.monotonic() - start < 30
    assert view.error is not None and "timed out" in view.error
    assert not view.conclusive


def test_missing_directory_and_bad_interpreter(tmp_path: Path) -> None:
    view = alembic_view([tmp_path / "nope"])
    assert view.error is not None and "does not exist" in view.error

    view = alembic_view([tmp_path], python=str(tmp_path / "no-such-python"))
    assert view.error is not None and "could not run" in view.error


def test_non_json_output_is_an_error(tmp_path: Path) -> None:
    # An interpreter "wrapper" that prints garbage instead of running the probe.
    fake = tmp_path / "fakepython"
    fake.write_text("#!/bin/sh\necho 'not json'\necho 'boom' >&2\nexit 3\n")
    fake.chmod(0o755)

    view = alembic_view([tmp_path], python=str(fake))

    assert view.error is not None
    assert "exit code 3" in view.error and "boom" in view.error


def test_probe_runs_without_our_package(versions: Path) -> None:
    """The probe is run by path and imports only stdlib + alembic, so it must
    not depend on migration_archaeologist being importable."""
    write_rev(versions, "q00001", None)
    out = subprocess.run(
        [sys.executable, "-c", _BLOCK_OUR_PACKAGE, str(PROBE_PATH), str(versions)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert '"heads": ["q00001"]' in out.stdout


_BLOCK_OUR_PACKAGE = """
import runpy, sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] == 'migration_archaeologist':
            raise ImportError('blocked')
sys.meta_path.insert(0, Block())
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name='__main__')
"""


def test_view_is_frozen() -> None:
    view = AlembicView(("a",), ("a",), (), (), None)
    assert view.conclusive
    with pytest.raises(AttributeError):
        view.heads = ()  # type: ignore[misc]
