"""check as a merge gate: annotations on the right file and line, GitHub's escaping, ignored kinds."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from conftest import ma
from gitfixture import GitRepo, revision_source
from migration_archaeologist.chain.check import Annotation, annotations, evaluate
from migration_archaeologist.report.github import command, escape_data, escape_property
from migration_archaeologist.chain.scan import scan_repository

V = "alembic/versions"
#: Where ``revision = ...`` is in the files revision_source writes.
REVISION_LINE = next(i + 1 for i, t in enumerate(revision_source("r", None).splitlines()) if t.startswith("revision"))


def line_of(repo: GitRepo, annotation: Annotation) -> str:
    """The source line an annotation points at."""
    assert annotation.file and annotation.line
    return (repo.path / annotation.file).read_text().splitlines()[annotation.line - 1]


def gate(repo: GitRepo, ignore: tuple[str, ...] = ()) -> tuple[object, tuple[Annotation, ...]]:
    result = scan_repository(repo.path)
    verdict = evaluate(result, ignore)
    return verdict, annotations(result, verdict)


@pytest.fixture
def two_heads(repo: GitRepo) -> GitRepo:
    repo.commit("base", {f"{V}/a1_base.py": revision_source("a1", None, "base")})
    repo.commit("left", {f"{V}/b2_left.py": revision_source("b2", "a1", "left")})
    repo.commit("right", {f"{V}/c3_right.py": revision_source("c3", "a1", "right")})
    return repo


def test_multiple_heads_point_at_each_heads_revision_line(two_heads: GitRepo) -> None:
    verdict, found = gate(two_heads)
    assert not verdict.passed  # type: ignore[attr-defined]
    heads = [a for a in found if a.title == "multiple-heads"]
    assert [(a.level, a.file) for a in heads] == [("error", f"{V}/b2_left.py"), ("error", f"{V}/c3_right.py")]
    for annotation in heads:
        assert line_of(two_heads, annotation).startswith("revision: str = ")
        assert "b2, c3" in annotation.message


def test_github_format_on_the_command_line(two_heads: GitRepo) -> None:
    proc = ma("check", str(two_heads.path / "alembic"), "--format", "github")  # a folder inside the repository
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    line = REVISION_LINE
    assert lines[0] == (
        f"::error file={V}/b2_left.py,line={line},title=multiple-heads::Multiple head revisions are present: b2, c3;"
        " 'alembic upgrade head' will refuse"
    )  # data escapes only %, CR and LF: the comma in the message stays
    assert lines[1].startswith(f"::error file={V}/c3_right.py,line={line},title=multiple-heads::")
    assert lines[-1] == "migration-archaeologist check failed: multiple-heads"
    assert len(lines) == 3


def test_missing_parent_points_at_down_revision_and_depends_on(repo: GitRepo) -> None:
    repo.commit(
        "orphans",
        {
            f"{V}/a1_base.py": revision_source("a1", None, "base"),
            f"{V}/b2_orphan.py": revision_source("b2", "gone", "orphan"),
            f"{V}/c3_depends.py": revision_source("c3", "b2", "needs a lost one", depends_on="lost"),
        },
    )
    _verdict, found = gate(repo)
    parents = {a.file: a for a in found if a.title == "missing-parent"}
    assert set(parents) == {f"{V}/b2_orphan.py", f"{V}/c3_depends.py"}
    assert line_of(repo, parents[f"{V}/b2_orphan.py"]).startswith("down_revision: ")
    assert line_of(repo, parents[f"{V}/c3_depends.py"]).startswith("depends_on: ")


def test_duplicate_id_points_at_each_copy(repo: GitRepo) -> None:
    repo.commit(
        "copy",
        {
            f"{V}/a1_base.py": revision_source("a1", None, "base"),
            f"{V}/a1_copy.py": revision_source("a1", None, "copied"),
        },
    )
    _verdict, found = gate(repo)
    copies = [a for a in found if a.title == "duplicate-id"]
    assert sorted(a.file for a in copies) == [f"{V}/a1_base.py", f"{V}/a1_copy.py"]  # type: ignore[type-var]
    assert all(line_of(repo, a).startswith("revision: str = 'a1'") for a in copies)


def test_header_mismatch_points_at_the_docstring_line(repo: GitRepo) -> None:
    repo.commit(
        "chain",
        {
            f"{V}/a1_base.py": revision_source("a1", None, "base"),
            f"{V}/b2_next.py": revision_source("b2", "a1", "next", revises_header="zz9"),
        },
    )
    _verdict, found = gate(repo)
    (mismatch,) = [a for a in found if a.title == "header-mismatch"]
    assert mismatch.file == f"{V}/b2_next.py" and line_of(repo, mismatch) == "Revises: zz9"


def test_unparseable_points_at_the_syntax_error(repo: GitRepo) -> None:
    broken = revision_source("b2", "a1", "broken", body="    op.add_column('t',\n    return")
    repo.commit(
        "broken",
        {f"{V}/a1_base.py": revision_source("a1", None, "base"), f"{V}/b2_broken.py": broken},
    )
    _verdict, found = gate(repo)
    (bad,) = [a for a in found if a.title == "unparseable"]
    assert bad.file == f"{V}/b2_broken.py"
    with pytest.raises(SyntaxError) as error:
        compile(broken, "b2_broken.py", "exec")
    assert bad.line == error.value.lineno and bad.line > 20


def test_missing_and_stamped_revisions_name_the_restore_command(repo: GitRepo, tmp_path: Path) -> None:
    repo.commit("base", {f"{V}/a1_base.py": revision_source("a1", None, "base")})
    repo.commit("next", {f"{V}/b2_next.py": revision_source("b2", "a1", "next")})
    repo.commit("lost", remove=[f"{V}/b2_next.py"])
    db = tmp_path / "app.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES ('b2')")
    conn.close()
    proc = ma("check", "--format", "github", "--db", f"sqlite:///{db}", cwd=repo.path)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    stamped = next(line for line in lines if "title=stamped-but-missing" in line)
    assert stamped.startswith("::error title=stamped-but-missing::")  # no file holds it
    assert "migration-archaeologist restore b2 --apply" in stamped
    missing = next(line for line in lines if "title=missing" in line)
    assert missing.startswith("::error title=missing::Revision b2 ") and missing.endswith(
        "Restore it with: migration-archaeologist restore b2 --apply"
    )
    assert lines[-1] == "migration-archaeologist check failed: stamped-but-missing, missing"


def test_escaping_follows_the_actions_toolkit() -> None:
    assert escape_data("100% done\r\nnext: a, b") == "100%25 done%0D%0Anext: a, b"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    annotation = Annotation("warning", "dir/x,1:2.py", 7, "kind:a,b", "two\nlines, 5% : done")
    assert command(annotation) == "::warning file=dir/x%2C1%3A2.py,line=7,title=kind%3Aa%2Cb::two%0Alines, 5%25 : done"
    assert command(Annotation("error", None, None, "missing", "m")) == "::error title=missing::m"


def test_escaping_of_a_real_problem(repo: GitRepo) -> None:
    """A file name with a comma and a percent sign, and a parent ID with a newline, colon, comma and percent."""
    name = f"{V}/b2_50%,off.py"
    repo.commit(
        "odd",
        {
            f"{V}/a1_base.py": revision_source("a1", None, "base"),
            name: revision_source("b2", "x%1,\n:y", "odd", revises_header="x"),
        },
    )
    proc = ma("check", str(repo.path), "--format", "github", "--ignore", "header-mismatch")
    assert proc.returncode == 1, proc.stderr
    (line,) = [line for line in proc.stdout.splitlines() if "title=missing-parent" in line]
    lineno = next(i + 1 for i, t in enumerate((repo.path / name).read_text().splitlines()) if t.startswith("down_revision"))
    assert line == (
        f"::error file={V}/b2_50%25%2Coff.py,line={lineno},title=missing-parent::"
        "Revision x%251,%0A:y referenced from b2 (down_revision) is not present anywhere"
    )
    assert any(line.startswith(f"::warning file={V}/b2_50%25%2Coff.py,") for line in proc.stdout.splitlines())


def test_ignored_kind_warns_and_passes(two_heads: GitRepo) -> None:
    proc = ma("check", str(two_heads.path), "--format", "github", "--ignore", "multiple-heads")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert [line.split("::")[1] for line in lines[:2]] == [
        f"warning file={V}/b2_left.py,line={REVISION_LINE},title=multiple-heads",
        f"warning file={V}/c3_right.py,line={REVISION_LINE},title=multiple-heads",
    ]
    assert lines[-1] == "migration-archaeologist check passed: 3 revisions, head b2, c3; ignored: multiple-heads"
    text = ma("check", str(two_heads.path), "--ignore", "multiple-heads")
    assert text.returncode == 0
    assert text.stdout.splitlines()[0] == "ok: 3 revisions, head b2, c3"
    assert "ignored multiple-heads: Multiple head revisions are present: b2, c3" in text.stdout


def test_ignore_missing_and_scan_warnings(repo: GitRepo) -> None:
    repo.commit("base", {f"{V}/a1_base.py": revision_source("a1", None, "base")})
    repo.commit("next", {f"{V}/b2_next.py": revision_source("b2", "a1", "next")})
    repo.commit("last", {f"{V}/c3_last.py": revision_source("c3", "b2", "last")})
    repo.commit("lose b2", remove=[f"{V}/b2_next.py"])
    assert ma("check", str(repo.path)).returncode == 1
    proc = ma("check", str(repo.path), "--format", "github", "--ignore", "missing", "--versions", V, "--versions", "nowhere")
    assert proc.returncode == 0, proc.stdout
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("::warning title=missing::Revision b2 ")
    assert any(line.startswith("::warning title=scan::versions directory ") and "nowhere" in line for line in lines)
    assert lines[-1].endswith("; ignored: missing")


def test_json_and_format_agree_and_conflict(two_heads: GitRepo) -> None:
    import json

    doc = json.loads(ma("check", str(two_heads.path), "--format", "json", "--ignore", "multiple-heads").stdout)
    assert doc["ok"] is True and doc["ignore"] == ["multiple-heads"] and doc["problems"][0]["kind"] == "multiple-heads"
    both = ma("check", str(two_heads.path), "--json", "--format", "github")
    assert both.returncode == 2 and "--json is --format json" in both.stderr
    bad = ma("check", str(two_heads.path), "--format", "xml")
    assert bad.returncode == 2 and "expected one of text, json, github" in bad.stderr
    unknown = ma("check", str(two_heads.path), "--ignore", "multiple-head")
    assert unknown.returncode == 2
    assert [line for line in unknown.stderr.splitlines() if line.strip()] == [
        "error: --ignore: 'multiple-head' is not a problem kind (one of: missing-parent, cycle, duplicate-id,"
        " conflicting-versions, multiple-heads, header-mismatch, duplicate-branch-label, unparseable,"
        " stamped-but-missing, environment-missing, external-revision, missing)"
    ]


def test_detached_head_is_no_annotation(two_heads: GitRepo) -> None:
    """CI checks a pull request out detached: the note stays in the text format, not on every run's annotations."""
    two_heads.git("checkout", "-q", "--detach", "HEAD")
    text = ma("check", str(two_heads.path), "--ignore", "multiple-heads")
    assert "warning: HEAD is detached at" in text.stdout
    github = ma("check", str(two_heads.path), "--format", "github", "--ignore", "multiple-heads")
    assert github.returncode == 0 and "detached" not in github.stdout
    assert [line.split(" ")[0] for line in github.stdout.splitlines()[:-1]] == ["::warning", "::warning"]


def test_other_branches_work_does_not_fail_the_gate(repo) -> None:  # type: ignore[no-untyped-def]
    """CI fetches every branch: a revision another open branch adds is not a gap in this one."""
    versions = "alembic/versions"
    repo.commit("base", {f"{versions}/base.py": revision_source("base", None),
                         f"{versions}/a.py": revision_source("a", "base")})
    for branch in ("feature-x", "feature-y"):
        repo.git("checkout", "-q", "-b", branch, "main")
        repo.commit(branch, {f"{versions}/{branch[-1]}.py": revision_source(branch[-1], "a")})
    repo.git("checkout", "-q", "main")

    gate = ma("check", str(repo.path), "--versions", versions)
    assert gate.returncode == 0, gate.stdout + gate.stderr
    assert "ok: 2 revisions, head a" in gate.stdout and "2 more only elsewhere in git" in gate.stdout
    scan = ma("scan", str(repo.path), "--versions", versions, "--json")
    doc = json.loads(scan.stdout)
    assert {r["revision"] for r in doc["revisions"]} == {"base", "a", "x", "y"}  # scan still shows them

    # a head this branch's own history deleted, which nothing needs, was retired on purpose: no gap;
    # once a present file stands on it, it is lost
    repo.commit("drop a", remove=[f"{versions}/a.py"])
    gate = ma("check", str(repo.path), "--versions", versions, "--format", "json")
    assert gate.returncode == 0 and json.loads(gate.stdout)["missing"] == []
    repo.commit("c on a", {f"{versions}/c.py": revision_source("c", "a")})
    doc = json.loads(ma("check", str(repo.path), "--versions", versions, "--format", "json").stdout)
    assert doc["missing"] == ["a"] and doc["heads"] == ["c"] and doc["problems"] == []
