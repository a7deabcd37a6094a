"""Synthesized revisions (baseline, lost head) and their proof, against real databases.

Each synthesized file is proven the only way that counts: replayed by Alembic in a scratch
database and compared with the live one by ``schema_drift``.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest
import sqlalchemy as sa

from databases import create_database, driver_url, drop_database
from migration_archaeologist.database.stand_in.middle import synthesize_middle
from migration_archaeologist.database.stand_in.proof import prove
from migration_archaeologist.database.stand_in.schema import SynthesizedRevision, baseline_revision, synthesize_head
from migration_archaeologist.parse.revision import RevisionFile, parse_revision
from migration_archaeologist.parse.ops import read_ops

HEAD = "b22b3b5a376f"
PARENT = "84456d47e6aa"
NOW = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)


def plain(url: str) -> str:
    return driver_url(url).render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def sample_db(request: pytest.FixtureRequest, builder: Any, tmp_path: Path) -> Iterator[str]:
    """The TaskMan-v2 sample's database (all six revisions applied), on SQLite, PostgreSQL and MariaDB."""
    url = create_database(request.param, tmp_path)
    try:
        builder.migrate(plain(url), ("upgrade", HEAD))
        yield url
    finally:
        drop_database(request.param, url)


def test_baseline_of_the_sample_replays_to_zero_drift(sample_db: str) -> None:
    sqlite_file = Path(sa.make_url(sample_db).database or "") if sample_db.startswith("sqlite") else None
    before = sqlite_file.read_bytes() if sqlite_file else None
    synthesized = baseline_revision(sample_db, revision_id="000000baseline", message="baseline", now=NOW)
    text = synthesized.source.decode()
    assert synthesized.fidelity == "synthesized" and synthesized.down_revisions == ()
    assert "ck_tasks_status" in text and "ck_action_lists_status" in text and "alembic_version" not in text
    assert text.index("op.create_table('projects'") < text.index("op.create_table('tasks'")  # FK order
    parsed = parse_revision(synthesized.source)
    assert isinstance(parsed, RevisionFile)
    assert parsed.revision == "000000baseline" and parsed.down_revisions == ()
    proof = prove(synthesized, sample_db)
    assert proof.proven, proof.summary
    assert proof.differences == () and proof.left_after_downgrade == ()
    if sqlite_file:
        assert sqlite_file.read_bytes() == before, "the live database was only read"


def test_header_says_synthesized_from_where_and_when(tmp_path: Path) -> None:
    url = create_database("sqlite", tmp_path)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    engine.dispose()
    synthesized = baseline_revision(url, revision_id="abc123", message="start over", down_revision="0ld", now=NOW)
    text = synthesized.source.decode()
    assert text.startswith('"""start over\n\nRevision ID: abc123\nRevises: 0ld\nCreate Date: 2026-01-02 03:04:05')
    assert "Synthesized by migration-archaeologist from the database sqlite:///" in text
    assert "2026-01-02 03:04:05 UTC" in text
    assert "revision: str = 'abc123'" in text and "down_revision: Union[str, Sequence[str], None] = '0ld'" in text
    assert "branch_labels" in text and "depends_on" in text
    parsed = parse_revision(synthesized.source)
    assert isinstance(parsed, RevisionFile)
    assert (parsed.revision, parsed.down_revisions, parsed.message) == ("abc123", ("0ld",), "start over")
    assert synthesized.filename == "abc123_start_over.py"


def test_password_is_masked_in_the_header(postgres_database: str) -> None:
    with_password = sa.make_url(postgres_database).set(password="s3cret-pw").render_as_string(hide_password=False)
    synthesized = baseline_revision(with_password, revision_id="abc", now=NOW)  # trust auth ignores the password
    assert b"s3cret-pw" not in synthesized.source and b"***" in synthesized.source


PG_SCHEMA = [
    "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
    "CREATE TYPE unused_kind AS ENUM ('a', 'b')",
    "CREATE TABLE people (id SERIAL PRIMARY KEY, name VARCHAR(80) NOT NULL, feeling mood NOT NULL DEFAULT 'ok',"
    " created TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT ck_people_name CHECK (length(name) > 1))",
    "CREATE TABLE notes (id SERIAL PRIMARY KEY, person_id INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,"
    " mood_then mood, body TEXT NOT NULL DEFAULT '', score NUMERIC(5, 2) DEFAULT 0,"
    " CONSTRAINT uq_notes_person_body UNIQUE (person_id, body))",
    "CREATE INDEX ix_notes_person_mood ON notes (person_id, mood_then)",
]


def test_postgres_enum_fk_composite_index_and_defaults_round_trip(postgres_database: str) -> None:
    engine = sa.create_engine(driver_url(postgres_database))
    with engine.begin() as conn:
        for statement in PG_SCHEMA:
            conn.exec_driver_sql(statement)
    engine.dispose()
    synthesized = baseline_revision(postgres_database, revision_id="pgbase", now=NOW)
    text = synthesized.source.decode()
    assert text.count("CREATE TYPE") == 1  # only the enum no table uses; mood comes with its first table
    assert "DROP TYPE IF EXISTS mood" in text and "DROP TYPE IF EXISTS unused_kind" in text
    assert "from sqlalchemy.dialects import postgresql" in text
    proof = prove(synthesized, postgres_database)
    assert proof.proven, proof.summary
    assert proof.left_after_downgrade == ()  # tables and both enum types are gone after downgrade


GENERIC_SCHEMA = [
    "CREATE TABLE owners (id INTEGER NOT NULL PRIMARY KEY, email VARCHAR(120) NOT NULL,"
    " status VARCHAR(20) NOT NULL DEFAULT 'new', CONSTRAINT uq_owners_email UNIQUE (email),"
    " CONSTRAINT ck_owners_status CHECK (status IN ('new', 'active')))",
    "CREATE TABLE pets (id INTEGER NOT NULL PRIMARY KEY, owner_id INTEGER NOT NULL, name VARCHAR(50) NOT NULL,"
    " legs INTEGER DEFAULT 4 CHECK (legs >= 0), CONSTRAINT fk_pets_owner FOREIGN KEY (owner_id) REFERENCES owners (id))",
    "CREATE INDEX ix_pets_owner_name ON pets (owner_id, name)",
]


def test_baseline_round_trips_on_every_backend(database: tuple[str, str]) -> None:
    kind, url = database
    engine = sa.create_engine(driver_url(url))
    with engine.begin() as conn:
        for statement in GENERIC_SCHEMA:
            conn.exec_driver_sql(statement)
    engine.dispose()
    synthesized = baseline_revision(url, revision_id=f"{kind}base", now=NOW)
    assert "ck_owners_status" in synthesized.source.decode()
    proof = prove(synthesized, url)
    assert proof.proven, proof.summary


def damaged(synthesized: SynthesizedRevision, old: bytes, new: bytes) -> SynthesizedRevision:
    assert old in synthesized.source
    return SynthesizedRevision(synthesized.revision, synthesized.down_revisions, synthesized.message,
                               synthesized.source.replace(old, new, 1), notes=synthesized.notes)


def test_proof_fails_and_names_the_difference_when_the_file_is_damaged(tmp_path: Path, builder: Any) -> None:
    url = create_database("sqlite", tmp_path)
    builder.migrate(url, ("upgrade", HEAD))
    synthesized = baseline_revision(url, revision_id="b0", now=NOW)
    text = synthesized.source.decode()
    check_line = next(line for line in text.splitlines() if "name='ck_tasks_status'" in line)
    proof = prove(damaged(synthesized, check_line.encode() + b"\n", b""), url)
    assert not proof.proven and proof.error is None
    assert [(d.kind, d.table, d.name) for d in proof.differences] == [("check-extra", "tasks", "ck_tasks_status")]
    assert "ck_tasks_status" in proof.summary and "not proven" in proof.summary

    default_gone = damaged(synthesized, b"server_default=sa.text(\"'todo'\"), ", b"")
    proof = prove(default_gone, url)
    assert not proof.proven
    assert [(d.kind, d.table, d.column) for d in proof.differences] == [("column-default", "tasks", "status")]


def test_proof_reports_a_file_that_does_not_run(tmp_path: Path) -> None:
    url = create_database("sqlite", tmp_path)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    engine.dispose()
    synthesized = baseline_revision(url, revision_id="b1", now=NOW)
    broken = damaged(synthesized, b"def upgrade() -> None:\n", b"def upgrade() -> None:\n    raise RuntimeError('boom')\n")
    proof = prove(broken, url)
    assert not proof.proven and proof.error is not None and "boom" in proof.error
    assert "replay failed" in proof.summary


def test_lost_head_of_the_sample_is_synthesized_and_proven(sample_db: str, builder: Any, tmp_path: Path) -> None:
    known = tmp_path / "versions"
    known.mkdir()
    for rev in builder.CHAIN[:-1]:  # every revision but the head survived
        shutil.copyfile(builder.revision_path(rev), known / builder.REVISIONS[rev][0])
    assert builder.CHAIN[-1] == HEAD and builder.CHAIN[-2] == PARENT
    synthesized = synthesize_head([known], sample_db, revision_id=HEAD, down_revision=PARENT,
                                  message="expand action list status enum", now=NOW)
    text = synthesized.source.decode()
    assert "drop_constraint('ck_action_lists_status'" in text and "'in_progress'" in text
    assert any("invisible to a schema comparison" in note for note in synthesized.notes)
    parsed = parse_revision(synthesized.source)
    assert isinstance(parsed, RevisionFile)
    assert parsed.revision == HEAD and parsed.down_revisions == (PARENT,)
    proof = prove(synthesized, sample_db, versions_dirs=[known])
    assert proof.proven, proof.summary  # upgrade gives the live schema; downgrade gives the parent's
    assert proof.steps[0].applied[-1] == HEAD and len(proof.steps[0].applied) == 6
    assert proof.downgrade_differences == () and proof.steps[1].applied == (HEAD,)


def test_lost_head_that_changed_only_data_says_so(tmp_path: Path, builder: Any) -> None:
    """A revision whose schema equals its parent's: the file is empty and the notes say why."""
    url = create_database("sqlite", tmp_path)
    builder.migrate(url, ("upgrade", PARENT))
    known = tmp_path / "versions"
    known.mkdir()
    for rev in builder.CHAIN[:-1]:
        shutil.copyfile(builder.revision_path(rev), known / builder.REVISIONS[rev][0])
    synthesized = synthesize_head([known], url, revision_id="data0nly", down_revision=PARENT, now=NOW)
    assert "def upgrade() -> None:\n    pass" in synthesized.source.decode()
    assert any("changed no schema" in note for note in synthesized.notes)
    assert prove(synthesized, url, versions_dirs=[known]).proven


R1_SQL = [
    "CREATE TYPE mood AS ENUM ('sad', 'ok')",
    "CREATE TYPE old_kind AS ENUM ('x', 'y')",
    "CREATE TABLE people (id SERIAL PRIMARY KEY, name VARCHAR(80) NOT NULL, feeling mood,"
    " CONSTRAINT ck_people_name CHECK (length(name) > 0))",
    "CREATE TABLE legacy (id INTEGER PRIMARY KEY, kind old_kind NOT NULL)",
]
LOST_R2_SQL = [
    "ALTER TYPE mood ADD VALUE 'happy'",
    "ALTER TYPE mood ADD VALUE 'meh' BEFORE 'sad'",
    "CREATE TYPE color AS ENUM ('red', 'blue')",
    "CREATE TABLE pets (id SERIAL PRIMARY KEY, person_id INTEGER NOT NULL REFERENCES people (id),"
    " favourite mood DEFAULT 'ok', color color)",
    "ALTER TABLE people ADD COLUMN eyes color",
    "DROP TABLE legacy",
    "DROP TYPE old_kind",
    "ALTER TABLE people DROP CONSTRAINT ck_people_name",
    "ALTER TABLE people ADD CONSTRAINT ck_people_name CHECK (length(name) > 1)",
    "CREATE INDEX ix_people_name_feeling ON people (name, feeling)",
]


def test_lost_head_with_postgres_enums_and_checks(postgres_database: str, tmp_path: Path) -> None:
    known = tmp_path / "versions"
    known.mkdir()
    statements = "".join(f"    op.execute({s!r})\n" for s in R1_SQL)
    (known / "r1_start.py").write_text(
        f'"""start\n\nRevision ID: r1\nRevises:\n"""\nfrom alembic import op\n\nrevision = "r1"\ndown_revision = None\n\n\n'
        f"def upgrade():\n{statements}\n\ndef downgrade():\n    pass\n", encoding="utf-8")
    engine = sa.create_engine(driver_url(postgres_database))
    with engine.begin() as conn:
        for statement in R1_SQL:
            conn.exec_driver_sql(statement)
    with engine.begin() as conn:  # new enum labels must be committed before they are used
        for statement in LOST_R2_SQL:
            conn.exec_driver_sql(statement)
    engine.dispose()
    synthesized = synthesize_head([known], postgres_database, revision_id="r2", down_revision="r1", now=NOW)
    text = synthesized.source.decode()
    assert "ALTER TYPE mood ADD VALUE 'meh' BEFORE 'sad'" in text and "ADD VALUE 'happy' AFTER 'ok'" in text
    assert "DROP TYPE IF EXISTS old_kind" in text and "DROP TYPE IF EXISTS color" in text
    assert any("stay after a downgrade" in note for note in synthesized.notes)
    proof = prove(synthesized, postgres_database, versions_dirs=[known])
    assert proof.upgrade_proven, proof.summary
    # everything but the added labels is undone: PostgreSQL cannot remove enum labels, and the proof says so
    assert not proof.proven and proof.downgrade_differences is not None
    assert [(d.kind, d.name) for d in proof.downgrade_differences] == [("enum-values", "mood")]
    assert "does not return to its parent's schema" in proof.summary


def write_revision(directory: Path, rev: str, down: str | tuple[str, ...] | None, statements: list[str]) -> None:
    body = "".join(f"    op.execute({s!r})\n" for s in statements) or "    pass\n"
    (directory / f"{rev}.py").write_text(
        f'"""{rev}"""\nfrom alembic import op\n\nrevision = {rev!r}\ndown_revision = {down!r}\n\n\n'
        f"def upgrade():\n{body}\n\ndef downgrade():\n    pass\n", encoding="utf-8")


def test_lost_merge_revision_with_two_parents(tmp_path: Path) -> None:
    known = tmp_path / "versions"
    known.mkdir()
    write_revision(known, "r0", None, ["CREATE TABLE a (id INTEGER PRIMARY KEY)"])
    write_revision(known, "r1a", "r0", ["CREATE TABLE b (id INTEGER PRIMARY KEY)"])
    write_revision(known, "r1b", "r0", ["CREATE TABLE c (id INTEGER PRIMARY KEY)"])
    url = create_database("sqlite", tmp_path)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for statement in ["CREATE TABLE a (id INTEGER PRIMARY KEY, label VARCHAR(20) DEFAULT 'x' NOT NULL)",
                          "CREATE TABLE b (id INTEGER PRIMARY KEY)", "CREATE TABLE c (id INTEGER PRIMARY KEY)",
                          "CREATE TABLE d (id INTEGER PRIMARY KEY, b_id INTEGER REFERENCES b (id))",
                          "CREATE INDEX ix_d_b ON d (b_id, id)"]:
            conn.exec_driver_sql(statement)
    engine.dispose()
    synthesized = synthesize_head([known], url, revision_id="m", down_revision=("r1a", "r1b"), now=NOW)
    parsed = parse_revision(synthesized.source)
    assert isinstance(parsed, RevisionFile) and parsed.down_revisions == ("r1a", "r1b")
    assert "Revises: r1a, r1b" in synthesized.source.decode()
    proof = prove(synthesized, url, versions_dirs=[known])
    assert proof.proven, proof.summary
    assert proof.downgrade_differences == ()


def test_proof_of_a_head_checks_its_downgrade(builder: Any, tmp_path: Path) -> None:
    sample_db = create_database("sqlite", tmp_path)
    builder.migrate(sample_db, ("upgrade", HEAD))
    known = tmp_path / "versions"
    known.mkdir()
    for rev in builder.CHAIN[:-1]:
        shutil.copyfile(builder.revision_path(rev), known / builder.REVISIONS[rev][0])
    synthesized = synthesize_head([known], sample_db, revision_id=HEAD, down_revision=PARENT, now=NOW)
    downgrade = synthesized.source.split(b"def downgrade()")[1]
    assert b"create_check_constraint('ck_action_lists_status'" in downgrade  # the intact file restores the old one
    broken = damaged(synthesized, b"def downgrade() -> None:\n", b"def downgrade() -> None:\n    return\n")
    proof = prove(broken, sample_db, versions_dirs=[known])
    assert proof.upgrade_proven and not proof.proven
    assert proof.downgrade_differences and {d.kind for d in proof.downgrade_differences} == {"check-changed"}


def test_lost_middle_revision_of_the_sample(sample_db: str, builder: Any, tmp_path: Path) -> None:
    """The issue's own case: 84456d47e6aa is lost everywhere, its descendant b22b3b5a376f survives."""
    known = tmp_path / "versions"
    known.mkdir()
    for rev in builder.CHAIN:
        if rev != PARENT:
            shutil.copyfile(builder.revision_path(rev), known / builder.REVISIONS[rev][0])
    grandparent = builder.CHAIN[builder.CHAIN.index(PARENT) - 1]
    synthesized = synthesize_middle([known], sample_db, revision_id=PARENT, down_revision=grandparent,
                                    message="add contextforge extended project schema", now=NOW)
    assert any(f"undoing its known descendants ({HEAD})" in note for note in synthesized.notes)
    parsed = parse_revision(synthesized.source)
    assert isinstance(parsed, RevisionFile)
    assert parsed.revision == PARENT and parsed.down_revisions == (grandparent,)
    original = parse_revision(builder.revision_path(PARENT).read_bytes())
    assert isinstance(original, RevisionFile)

    def changes(ops: Any) -> set[tuple[str, str | None, str | None]]:
        return {(op.name, op.table, op.detail) for op in ops if op.name != "batch_alter_table"}

    assert changes(read_ops(synthesized.source).upgrade) == changes(read_ops(builder.revision_path(PARENT).read_bytes()).upgrade)  # the same columns and index, no more
    proof = prove(synthesized, sample_db, versions_dirs=[known], target=HEAD)
    assert proof.upgrade_proven, proof.summary
    assert proof.steps[0].applied == tuple(builder.CHAIN)


def test_what_cannot_be_expressed_is_noted_and_fails_the_proof(tmp_path: Path) -> None:
    """An unnamed CHECK cannot be dropped or created by name: a note, and a proof that names it."""
    known = tmp_path / "versions"
    known.mkdir()
    write_revision(known, "r0", None, ["CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER)"])
    url = create_database("sqlite", tmp_path)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER, CHECK (x > 0))")
    engine.dispose()
    synthesized = synthesize_head([known], url, revision_id="r1", down_revision="r0", now=NOW)
    assert any("t: unnamed CHECK constraints differ" in note for note in synthesized.notes)
    proof = prove(synthesized, url, versions_dirs=[known])
    assert not proof.proven and not proof.upgrade_proven
    assert [(d.kind, d.table) for d in proof.differences] == [("check-extra", "t")]
    assert "not proven" in proof.summary and "x > 0" in proof.summary
