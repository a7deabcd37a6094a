"""The schema evolution timeline and the drawn chain: what a person reads, from real repositories."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run
from gitfixture import GitRepo, environment_files, revision_source
from migration_archaeologist.database.stamp import read_stamp
from migration_archaeologist.report.dot import render_dot
from migration_archaeologist.report.json_timeline import graph_document
from migration_archaeologist.report.markdown import render_markdown
from migration_archaeologist.report.mermaid import render_mermaid
from migration_archaeologist.chain.scan import scan_repository
from migration_archaeologist.chain.operations import summarize_operations
from migration_archaeologist.chain.story import build_timeline
from migration_archaeologist.parse.ops import read_ops

VERSIONS = "alembic/versions"
SAMPLE_ORDER = ["20251015_baseline", "48b01bf7ee65", "4de471a82333", "add_users_table", "84456d47e6aa", "b22b3b5a376f"]


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("migration-archaeologist")
    return run([str(script), *args], cwd=cwd)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory, builder):  # type: ignore[no-untyped-def]
    info = builder.build(tmp_path_factory.mktemp("timeline") / "TaskMan-v2")
    return info


# --------------------------------------------------------------------------- the founding scenario


def test_sample_timeline_tells_the_seed_story_by_date(sample) -> None:  # type: ignore[no-untyped-def]
    repo = Path(sample["repo"])
    text = render_markdown(build_timeline(scan_repository(repo), title="TaskMan-v2"))

    assert text.startswith("# TaskMan-v2 Schema Evolution Timeline")
    phases = re.findall(r"^## Phase (\d+): (.+) \((\w+ \d+, \d{4})\)$", text, re.MULTILINE)
    assert [p[2] for p in phases] == [
        "October 15, 2025", "October 18, 2025", "October 22, 2025",
        "October 25, 2025", "October 29, 2025", "October 31, 2025",
    ]
    assert [p[1] for p in phases][-2:] == ["add contextforge extended project schema", "expand action list status enum"]
    sections = _sections(text)
    # each revision's fate, where the sample hid it
    assert "recoverable from bytecode `TaskMan-v2/backend-api/alembic/versions/__pycache__/" in sections["October 15, 2025"]
    assert "(never committed)" in sections["October 15, 2025"]
    assert "create table tasks (64 columns)" in sections["October 15, 2025"]
    assert "recoverable from `HEAD@{13}` (exact)" in sections["October 22, 2025"]
    assert "recoverable from unreachable commit" in sections["October 25, 2025"]
    assert "sacred_geometry" in sections["October 29, 2025"]
    assert "add 19 columns to projects" in sections["October 29, 2025"]
    deleted = sample["commits"]
    assert re.search(r"- Deleted: 2025-11-\d\d \d\d:\d\d UTC by James Whitaker in `[0-9a-f]{10}`",
                     sections["October 29, 2025"])
    assert "recoverable from `stash@{1}` (exact)" in sections["October 31, 2025"]
    assert "CHECK constraint on action_lists.status changed" in sections["October 31, 2025"]
    assert deleted  # the builder's named story commits exist
    assert "**6 revisions**: 0 present, 6 recoverable, 0 retired, 0 lost. Head: `b22b3b5a376f`." in text


def test_sample_timeline_with_the_database_marks_what_is_applied(sample) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{sample['database']}"
    story = build_timeline(scan_repository(sample["repo"]), read_stamp(url))
    assert {e.revision: e.stamp for e in story.entries} == {
        **{rev: "applied" for rev in SAMPLE_ORDER[:-1]},
        "b22b3b5a376f": "stamped",
    }
    text = render_markdown(story)
    assert "is stamped `b22b3b5a376f`." in text
    assert text.count("✅ applied (the database is stamped past it)") == 5
    assert text.count("✅ the database is stamped at this revision") == 1


def test_sample_timeline_json_is_the_same_data(sample) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{sample['database']}"
    proc = cli("timeline", str(sample["repo"]), "--format", "json", "--db", url)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["schema"] == "migration-archaeologist/timeline/1"
    assert [r["revision"] for r in doc["revisions"]] == SAMPLE_ORDER
    assert [p["date"] for p in doc["phases"]] == [
        "2025-10-15", "2025-10-18", "2025-10-22", "2025-10-25", "2025-10-29", "2025-10-31"]
    by_rev = {r["revision"]: r for r in doc["revisions"]}
    assert by_rev["b22b3b5a376f"]["recoverable_from"][0]["label"] == "stash@{1}"
    assert by_rev["b22b3b5a376f"]["stamp"] == "stamped"
    assert by_rev["20251015_baseline"]["fidelity"] == "bytecode"
    assert by_rev["20251015_baseline"]["first_seen"]["commit"] is None
    assert by_rev["84456d47e6aa"]["deleted"]["author"] == "James Whitaker"
    assert by_rev["84456d47e6aa"]["first_seen"]["date"].startswith("2025-10-29")
    assert doc["counts"] == {"present": 0, "recoverable": 6, "retired": 0, "lost": 0}
    assert doc["database"]["stamped"] == ["b22b3b5a376f"]
    assert all(r["status"] == "recoverable" and r["needed"] for r in doc["revisions"])
    # the markdown and the JSON are one model: same phases, same order
    md = cli("timeline", str(sample["repo"]), "--db", url).stdout
    assert [m for m in re.findall(r"\(`([^`]+)`\)", md)] == SAMPLE_ORDER


def test_timeline_after_restore_shows_everything_present(builder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    info = builder.build(tmp_path / "tm")
    assert cli("restore", "b22b3b5a376f", str(info["repo"]), "--apply").returncode == 0
    out = tmp_path / "docs" / "schema-evolution-timeline.md"
    out.parent.mkdir()
    proc = cli("timeline", str(info["repo"]), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    text = out.read_text(encoding="utf-8")
    assert text.count("- Status: ✅ present in the versions directory") == 6
    assert "6 present, 0 recoverable, 0 retired, 0 lost" in text
    assert "migration-archaeologist-manifest.json" not in text  # our own record is not evidence
    assert text.count("restored from ") == 6 and "restored from bytecode (bytecode)" in text
    assert "♻️" not in text.split("## Documented revisions")[0]


# --------------------------------------------------------------------------- shapes of chains


def _branchy(repo: GitRepo) -> None:
    """base -> a -> (b, c) -> merge m; d depends_on b; e revises a lost ID; b deleted later."""
    files = {
        "base": revision_source("base", None, "create projects", create_date="2025-10-15 09:00:00",
                                body="    op.create_table('projects', sa.Column('id', sa.Integer()), sa.Column('name', sa.Text()))"),
        "a": revision_source("a", "base", "sacred geometry", create_date="2025-10-16 09:00:00",
                             body="    op.add_column('projects', sa.Column('sacred_geometry', sa.Text()))"),
        "b": revision_source("b", "a", "status check", create_date="2025-10-17 09:00:00",
                             body="    op.drop_constraint('ck_status', 'projects', type_='check')\n"
                                  "    op.create_check_constraint('ck_status', 'projects', \"status IN ('a', 'b')\")"),
        "c": revision_source("c", "a", "index name", create_date="2025-10-17 10:00:00",
                             body="    op.create_index('ix_name', 'projects', ['name'])"),
        "m": revision_source("m", ("b", "c"), "merge heads", create_date="2025-10-18 09:00:00", body="    pass"),
        "d": revision_source("d", "m", "uses b", depends_on="b", create_date="2025-10-19 09:00:00",
                             body="    op.execute('UPDATE projects SET name = lower(name)')"),
        "e": revision_source("e", "ghost0000001", "orphan", create_date="2025-10-20 09:00:00"),
    }
    for rev, text in files.items():
        repo.commit(f"add {rev}", {f"{VERSIONS}/{rev}_x.py": text})
    repo.git("config", "user.name", "Dana Deleter")
    repo.commit("drop b", remove=[f"{VERSIONS}/b_x.py"])


def test_merge_branch_depends_and_lost_parent(repo: GitRepo) -> None:
    _branchy(repo)
    story = build_timeline(scan_repository(repo.path, versions=[VERSIONS]))
    entries = {e.revision: e for e in story.entries}
    order = [e.revision for e in story.entries]
    for child, parent in (("a", "base"), ("b", "a"), ("c", "a"), ("m", "b"), ("m", "c"), ("d", "m"), ("d", "b"),
                          ("e", "ghost0000001")):
        assert order.index(parent) < order.index(child)
    assert entries["a"].branch_point and entries["a"].children == ("b", "c")
    assert entries["m"].merge_point and entries["m"].down_revisions == ("b", "c")
    assert entries["ghost0000001"].status == "lost" and entries["ghost0000001"].children == ("e",)
    assert entries["b"].status == "recoverable"
    assert entries["b"].deleted is not None and entries["b"].deleted.author == "Dana Deleter"
    assert entries["b"].operations == ("CHECK constraint on projects.status changed",)
    assert entries["a"].operations == ("add column projects.sacred_geometry",)
    assert entries["c"].operations == ("create index ix_name on projects (name)",)
    assert entries["base"].operations == ("create table projects (2 columns)",)
    assert entries["d"].operations == ("run SQL: UPDATE projects SET name = lower(name)",)
    text = render_markdown(story)
    assert "- Migration: `m_x.py` (`m`), merge point" in text
    assert "- Merges: `b`, `c`" in text
    assert "- Branches: `b`, `c` each revise it" in text
    assert "- Depends on: `b`" in text
    assert "❌ lost: no source holds it, only its ID is known (named by `e`)" in text
    assert "## Known only by reference" in text
    assert "**missing-parent**" in text and "**multiple-heads**" in text
    doc = graph_document(story)
    edges = {(e["revision"], e["needs"], e["kind"]) for e in doc["edges"]}
    assert ("d", "b", "depends_on") in edges and ("m", "c", "down_revision") in edges
    assert {n["revision"] for n in doc["nodes"] if n["head"]} == {"d", "e"}


def test_stamp_states_split_the_chain(repo: GitRepo, tmp_path: Path) -> None:
    _branchy(repo)
    db = tmp_path / "app.db"
    import sqlite3

    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES ('c')")
    story = build_timeline(scan_repository(repo.path, versions=[VERSIONS]), read_stamp(f"sqlite:///{db}"))
    states = {e.revision: e.stamp for e in story.entries}
    assert states["c"] == "stamped"
    assert states["a"] == states["base"] == "applied"
    assert states["b"] == states["m"] == states["d"] == "not-applied"


def test_a_stamp_nobody_knows_is_a_lost_entry(repo: GitRepo, tmp_path: Path) -> None:
    repo.commit("base", {f"{VERSIONS}/base_x.py": revision_source("base", None)})
    db = tmp_path / "app.db"
    import sqlite3

    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES ('feedfacecafe')")
    story = build_timeline(scan_repository(repo.path, versions=[VERSIONS]), read_stamp(f"sqlite:///{db}"))
    last = story.entries[-1]
    assert (last.revision, last.status, last.stamp) == ("feedfacecafe", "lost", "stamped")
    assert story.entry("base").stamp == "not-applied"


def test_hostile_messages_stay_text(repo: GitRepo) -> None:
    message = 'drop "users" <script>alert(1)</script> | *bold* `tick` & co'
    repo.commit("x", {f"{VERSIONS}/x1.py": revision_source("x1", None, message)})
    story = build_timeline(scan_repository(repo.path, versions=[VERSIONS]))
    md = render_markdown(story)
    assert "<script>" not in md and "\\<script\\>" in md and "\\|" in md
    mermaid = render_mermaid(story)
    assert "<script>" not in mermaid and '"users"' not in mermaid and "#quot;users#quot;" in mermaid
    dot = render_dot(story)
    assert 'drop \\"users\\"' in dot


# --------------------------------------------------------------------------- graph command


def test_graph_formats_from_the_cli(repo: GitRepo) -> None:
    _branchy(repo)
    mermaid = cli("graph", str(repo.path), "--versions", VERSIONS)
    assert mermaid.returncode == 0, mermaid.stderr
    lines = mermaid.stdout.splitlines()
    assert lines[0] == "flowchart TB"
    assert sum("-->" in line and "depends_on" not in line for line in lines) == 7  # down_revision edges
    assert sum("depends_on" in line for line in lines) == 1
    assert any(line.strip().startswith("n") and '{{"m<br/>merge heads"}}' in line for line in lines)
    assert any("class " in line and line.endswith(" lost") for line in lines)

    dot = cli("graph", str(repo.path), "--versions", VERSIONS, "--format", "dot").stdout
    assert dot.startswith("digraph alembic {") and dot.rstrip().endswith("}")
    assert '"b" -> "d" [style=dashed, label="depends_on"];' in dot
    assert '"ghost0000001" -> "e";' in dot
    if shutil.which("dot"):  # Graphviz, when the machine has it, must accept what we print
        svg = subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, text=True)
        assert svg.returncode == 0, svg.stderr

    doc = json.loads(cli("graph", str(repo.path), "--versions", VERSIONS, "--format", "json").stdout)
    assert doc["schema"] == "migration-archaeologist/graph/1"
    assert len(doc["nodes"]) == 8 and len(doc["edges"]) == 8


def test_graph_and_timeline_bad_input(repo: GitRepo, tmp_path: Path) -> None:
    repo.commit("base", {f"{VERSIONS}/base_x.py": revision_source("base", None)})
    bad = cli("graph", str(repo.path), "--format", "png")
    assert bad.returncode == 2 and "png" in bad.stderr
    nowhere = cli("timeline", str(repo.path), "-o", str(tmp_path / "no" / "such" / "dir" / "t.md"))
    assert nowhere.returncode == 2
    assert nowhere.stderr.strip().count("\n") == 0 and "cannot write" in nowhere.stderr
    assert "Traceback" not in nowhere.stderr
    not_repo = cli("timeline", str(tmp_path))
    assert not_repo.returncode == 3 and "not a git repository" in not_repo.stderr
    unreachable = cli("timeline", str(repo.path), "--db", "postgresql://u:sekret@127.0.0.1:1/x")
    assert unreachable.returncode == 3 and "sekret" not in unreachable.stderr


def test_rewriting_the_report_replaces_it_whole(repo: GitRepo, tmp_path: Path) -> None:
    repo.commit("base", {f"{VERSIONS}/base_x.py": revision_source("base", None, "first")})
    out = tmp_path / "t.md"
    out.write_text("stale report\n")
    assert cli("timeline", str(repo.path), "-o", str(out)).returncode == 0
    assert "stale" not in out.read_text() and "`base_x.py` (`base`)" in out.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["repo", "t.md"]  # no temp file left behind


# --------------------------------------------------------------------------- operation summary


def test_operation_summary_reads_what_upgrade_does() -> None:
    source = revision_source("s1", None, body="\n".join([
        "    op.create_table('t', sa.Column('id', sa.Integer()))",
        "    op.add_column('projects', sa.Column('mission', sa.Text()))",
        "    op.add_column('projects', sa.Column('vision', sa.Text()))",
        "    with op.batch_alter_table('tasks') as batch_op:",
        "        batch_op.drop_constraint('ck_tasks_status', type_='check')",
        "        batch_op.create_check_constraint('ck_tasks_status', \"\\\"status\\\" IN ('new', 'done')\")",
        "        batch_op.create_unique_constraint('uq_tasks_code', ['code'])",
        "    op.drop_constraint('fk_old', 'tasks', type_='foreignkey')",
        "    op.rename_table('old', 'new')",
        "    op.drop_table('gone')",
    ]))
    assert summarize_operations(read_ops(source.encode()).upgrade) == (
        "create table t (1 column)",
        "add 2 columns to projects: mission, vision",
        "CHECK constraint on tasks.status changed",
        "add unique constraint on tasks (code)",
        "drop constraint fk_old on tasks",
        "rename table old to new",
        "drop table gone",
    )


def _sections(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for block in re.split(r"^## ", text, flags=re.MULTILINE)[1:]:
        match = re.search(r"\((\w+ \d+, \d{4})\)", block.splitlines()[0])
        if match:
            out[match.group(1)] = block
    return out


def test_the_documented_example_is_what_the_command_prints(builder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """docs/examples/taskman-v2-schema-evolution-timeline.md stays true to the code."""
    info = builder.build(tmp_path / "taskman-v2")
    repo = Path(info["repo"])
    proc = cli("timeline", "--title", "TaskMan-v2", "--db", "sqlite:///TaskMan-v2/backend-api/taskman_v2.db", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    documented = (Path(__file__).resolve().parents[2] / "docs" / "examples" / "taskman-v2-schema-evolution-timeline.md")
    assert proc.stdout.replace(str(repo), "/tmp/taskman-v2") == documented.read_text(encoding="utf-8")


def test_order_keeps_its_shape_around_a_cycle_and_a_lost_id(repo: GitRepo) -> None:
    repo.commit("chain", {
        f"{VERSIONS}/r1.py": revision_source("r1", None, create_date="2025-10-01 00:00:00"),
        f"{VERSIONS}/r2.py": revision_source("r2", "r1", create_date="2025-10-09 00:00:00"),
        f"{VERSIONS}/r3.py": revision_source("r3", "r2", create_date="2025-10-03 00:00:00"),  # dated before its parent
        f"{VERSIONS}/c1.py": revision_source("c1", "c2", create_date="2025-10-05 00:00:00"),
        f"{VERSIONS}/c2.py": revision_source("c2", "c1", create_date="2025-10-04 00:00:00"),
        f"{VERSIONS}/o1.py": revision_source("o1", "lost00000001", create_date="2025-10-07 00:00:00"),
    })
    story = build_timeline(scan_repository(repo.path, versions=[VERSIONS]))
    order = [e.revision for e in story.entries]
    assert order.index("r1") < order.index("r2") < order.index("r3")  # a cycle elsewhere does not reorder the chain
    assert order.index("lost00000001") == order.index("o1") - 1
    assert {"c1", "c2"} <= set(order) and any(p.kind == "cycle" for p in story.problems)


def test_phases_follow_the_chain_when_a_child_is_dated_before_its_parent(repo: GitRepo) -> None:
    """A child dated before its parent (no Create Date header, so its first commit's date stands in;
    a cherry-pick keeping an older author date) still comes after it, in the markdown and the JSON."""
    repo.commit("base", {f"{VERSIONS}/base_x.py": revision_source("base", None, "create projects",
                                                                  create_date="2025-10-14 09:00:00")})
    repo.commit("parent", {f"{VERSIONS}/parent_x.py": revision_source("parent", "base", "add owner",
                                                                      create_date="2025-10-20 09:00:00")})
    # no header: the day is the first commit's, 2025-10-15 by the fixture's clock
    repo.commit("child", {f"{VERSIONS}/child_x.py": revision_source("child", "parent", "index owner",
                                                                    create_date=None)})
    repo.env = {"GIT_AUTHOR_DATE": "2025-10-01T12:00:00+00:00"}  # picked from an older commit
    repo.commit("grandchild", {f"{VERSIONS}/grandchild_x.py": revision_source("grandchild", "child", "drop owner",
                                                                              create_date=None)})
    repo.env = {}
    chain = ["base", "parent", "child", "grandchild"]
    days = ["2025-10-14", "2025-10-20", "2025-10-15", "2025-10-01"]

    proc = cli("timeline", str(repo.path), "--versions", VERSIONS, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert [r["revision"] for r in doc["revisions"]] == chain
    assert [r["date"] for r in doc["revisions"]] == days
    assert [(p["date"], p["revisions"]) for p in doc["phases"]] == [(d, [r]) for d, r in zip(days, chain)]

    md = cli("timeline", str(repo.path), "--versions", VERSIONS)
    assert md.returncode == 0, md.stderr
    phases = re.findall(r"^## Phase (\d+): (.+) \((\w+ \d+, \d{4})\)$", md.stdout, re.MULTILINE)
    assert phases == [
        ("1", "create projects", "October 14, 2025"),
        ("2", "add owner", "October 20, 2025"),
        ("3", "index owner", "October 15, 2025"),
        ("4", "drop owner", "October 1, 2025"),
    ]
    assert re.findall(r"\(`([^`]+)`\)", md.stdout) == chain


def test_a_lost_id_in_the_middle_of_the_chain_keeps_the_phase_numbers(repo: GitRepo) -> None:
    repo.commit("chain", {
        f"{VERSIONS}/r1.py": revision_source("r1", None, "first", create_date="2025-10-01 00:00:00"),
        f"{VERSIONS}/r3.py": revision_source("r3", "lost00000002", "third", create_date="2025-10-03 00:00:00"),
        f"{VERSIONS}/r4.py": revision_source("r4", "r3", "fourth", create_date="2025-10-04 00:00:00"),
    })
    text = render_markdown(build_timeline(scan_repository(repo.path, versions=[VERSIONS])))
    headings = re.findall(r"^## (.+)$", text, re.MULTILINE)
    assert headings[:4] == [
        "Phase 1: first (October 1, 2025)",
        "Known only by reference",
        "Phase 2: third (October 3, 2025)",
        "Phase 3: fourth (October 4, 2025)",
    ]


def test_alter_column_says_what_changed(repo: GitRepo) -> None:
    """``alter column t.c`` alone left out the change; the timeline names type, nullability, default, rename."""
    body = "\n".join([
        "    op.alter_column('t', 'c', type_=sa.String(200), existing_type=sa.String(80))",
        "    op.alter_column('t', 'd', nullable=False, existing_nullable=True, existing_type=sa.Integer())",
        "    op.alter_column('t', 'e', server_default=sa.text(\"'0'\"), existing_server_default=None)",
        "    op.alter_column('t', 'f', new_column_name='title')",
        "    with op.batch_alter_table('u') as batch_op:",
        "        batch_op.alter_column('g', nullable=True, type_=postgresql.ENUM('a', 'b', name='kind'))",
    ])
    repo.commit("x", {f"{VERSIONS}/x1.py": revision_source("x1", None, "widen", body=body)})
    expected = [
        "alter column t.c: String(80) → String(200)",
        "alter column t.d: NULL → NOT NULL",
        "alter column t.e: server default none → text(\"'0'\")",
        "alter column t.f: rename to title",
        "alter column u.g: type → ENUM('a', 'b', name='kind'), NOT NULL → NULL",
    ]
    md = cli("timeline", str(repo.path), "--versions", VERSIONS)
    assert md.returncode == 0, md.stderr
    for line in expected:
        assert f"  - {line}\n" in md.stdout, (line, md.stdout)
    doc = json.loads(cli("timeline", str(repo.path), "--versions", VERSIONS, "--format", "json").stdout)
    (entry,) = [e for e in doc["revisions"] if e["revision"] == "x1"]
    assert entry["operations"] == expected


def test_a_reverted_revision_is_not_a_head_of_the_timeline_or_the_scan(tmp_path: Path) -> None:
    """case history-heads (issue 23, item 6): a → b → c present; x, revising b, was added on a
    branch and reverted. Alembic at HEAD sees one head, c, and so does check; the timeline and the
    scan said "Head: c, x" and "'alembic upgrade head' will refuse". Now their heads are check's,
    and history's extra head is a warning that says what it is."""
    repo = GitRepo.init(tmp_path / "repo")
    repo.commit("chain", {
        "alembic.ini": "[alembic]\nscript_location = alembic\n",
        **environment_files(),
        f"{VERSIONS}/a_a.py": revision_source("a", None, "a"),
        f"{VERSIONS}/b_b.py": revision_source("b", "a", "b"),
        f"{VERSIONS}/c_c.py": revision_source("c", "b", "c"),
    })
    repo.commit("x", {f"{VERSIONS}/x_x.py": revision_source("x", "b", "x")})
    repo.commit("Revert x", remove=[f"{VERSIONS}/x_x.py"])
    result = scan_repository(repo.path)
    story = build_timeline(result)
    assert story.heads == ("c",)
    text = render_markdown(story)
    assert "Head: `c`." in text and "will refuse" not in text
    (warning,) = [p for p in story.problems if p.kind == "multiple-heads"]
    assert warning.warning and warning.message.startswith("History holds 1 more head(s) than the versions directory's chain: x")
    scan = cli("scan", str(repo.path), "--json")
    doc = json.loads(scan.stdout)
    assert scan.returncode == 0, scan.stderr
    assert doc["heads"] == ["c"]
    assert [p["level"] for p in doc["problems"] if p["kind"] == "multiple-heads"] == ["warning"]
    check = cli("check", str(repo.path))
    assert check.returncode == 0 and check.stdout.startswith("ok: 3 revisions, head c"), check.stdout


def test_deleted_names_the_commit_on_heads_history(tmp_path: Path) -> None:
    """case deleted-column (issue 23, item 6): b was deleted on HEAD's history by "cleanup"; an
    abandoned branch deleted it too, a day later. The scan's "deleted" column and the timeline named
    the later one (newest by date); the commit that took b from the versions directory is the one."""
    repo = GitRepo.init(tmp_path / "repo")
    repo.commit("chain", {
        "alembic.ini": "[alembic]\nscript_location = alembic\n",
        **environment_files(),
        f"{VERSIONS}/a_a.py": revision_source("a", None, "a"),
        f"{VERSIONS}/b_b.py": revision_source("b", "a", "b"),
    })
    cleanup = repo.commit("cleanup", remove=[f"{VERSIONS}/b_b.py"])
    repo.git("checkout", "-q", "-b", "abandoned", "HEAD~1")  # each commit is dated after the last one
    other = repo.commit("drop b on a branch", remove=[f"{VERSIONS}/b_b.py"])
    repo.git("checkout", "-q", "main")
    repo.git("branch", "-D", "abandoned")
    scan = cli("scan", str(repo.path))
    row = next(line for line in scan.stdout.splitlines() if line.startswith("│ b "))
    assert cleanup[:7] in row and other[:7] not in row, row
    result = scan_repository(repo.path)
    assert build_timeline(result).entry("b").deleted.commit == cleanup  # type: ignore[union-attr]


def test_a_reverted_revision_is_retired_in_every_timeline_view(tmp_path: Path) -> None:
    """case timeline-retired (issue 23, item 6): the reverted x is "retired", as scan calls it, in the
    counts, the Markdown, the JSON and the Mermaid classes, with its restore command asking for
    --allow-new-head; before, the timeline counted it "recoverable" (redash: "50 recoverable")."""
    repo = GitRepo.init(tmp_path / "repo")
    repo.commit("chain", {
        "alembic.ini": "[alembic]\nscript_location = alembic\n",
        **environment_files(),
        f"{VERSIONS}/a_a.py": revision_source("a", None, "a"),
        f"{VERSIONS}/b_b.py": revision_source("b", "a", "b"),
    })
    repo.commit("x", {f"{VERSIONS}/x_x.py": revision_source("x", "b", "x")})
    repo.commit("Revert x", remove=[f"{VERSIONS}/x_x.py"])
    story = build_timeline(scan_repository(repo.path), repo_arg=str(repo.path))
    x = story.entry("x")
    assert (x.status, x.needed) == ("retired", False)
    assert x.next_step == f"migration-archaeologist restore x {repo.path} --apply --allow-new-head"
    assert story.to_fix == ()
    text = render_markdown(story)
    assert "**3 revisions**: 2 present, 0 recoverable, 1 retired, 0 lost." in text
    assert "retired: gone from the versions directory and nothing there needs it" in text
    classes = [line.split() for line in render_mermaid(story).splitlines() if line.strip().startswith("class ")]
    assert [c[2] for c in classes if len(c) == 3 and c[1] == f"n{[e.revision for e in story.entries].index('x')}"] == [
        "retired"
    ]
    doc = json.loads(cli("timeline", str(repo.path), "-f", "json").stdout)
    assert doc["counts"] == {"present": 2, "recoverable": 0, "retired": 1, "lost": 0}
