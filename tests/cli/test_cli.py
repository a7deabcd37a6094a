"""The command line as a user meets it: exit codes, one-line errors, JSON contract, nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import ma, one_line_error
from gitfixture import GitRepo, revision_source

V = "alembic/versions"


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and ".git" not in p.parts}


def test_scan_json_contract(lost: GitRepo) -> None:
    proc = ma("scan", str(lost.path), "--json")
    assert proc.returncode == 1  # a needed revision is missing: a finding
    doc = json.loads(proc.stdout)
    assert doc["schema"] == "migration-archaeologist/scan/1"
    assert doc["repository"] == str(lost.path) and doc["head"] == lost.git("rev-parse", "HEAD")
    assert doc["versions_dirs"] == [V]
    b = next(r for r in doc["revisions"] if r["revision"] == "b")
    assert set(b) >= {"revision", "down_revisions", "branch_labels", "depends_on", "message", "create_date",
                      "present", "chosen", "candidates"}
    assert b["down_revisions"] == ["a"] and b["present"] is False and b["message"] == "next"
    cand = b["candidates"][0]
    assert cand["blob"] == b["chosen"] and cand["fidelity"] == "exact" and cand["size"] > 0
    assert [(s["source"], s["event"]) for s in cand["sightings"]] == [("history", "added"), ("history", "deleted")]
    assert set(cand["sightings"][0]) == {"source", "event", "commit", "ref", "path", "date"}
    assert cand["sightings"][0]["date"].startswith("2025-10-")
    assert doc["problems"] == [] and doc["missing"] == ["b"]


def test_scan_console_shows_table_tree_and_next_step(lost: GitRepo) -> None:
    proc = ma("scan", str(lost.path))
    assert proc.returncode == 1
    out = proc.stdout
    assert "Revisions" in out and "missing" in out and "present" in out
    assert "chain (base → head" in out
    deletion = lost.git("rev-parse", "--short=7", "HEAD")
    assert deletion in out  # deleted in which commit
    assert "migration-archaeologist restore b" in out


def test_check_exit_codes(lost: GitRepo) -> None:
    assert ma("check", str(lost.path)).returncode == 1
    lost.commit("restore by hand", {f"{V}/b_next.py": revision_source("b", "a", "next")})
    proc = ma("check", str(lost.path), "--json")
    assert proc.returncode == 0, proc.stdout
    doc = json.loads(proc.stdout)
    assert doc["ok"] is True and doc["heads"] == ["c"]


def test_restore_dry_run_then_apply(lost: GitRepo) -> None:
    before = snapshot(lost.path)
    dry = ma("restore", "b", str(lost.path))
    assert dry.returncode == 0 and "dry run: nothing written" in dry.stdout
    assert snapshot(lost.path) == before
    applied = ma("restore", "b", str(lost.path), "--apply", "--json")
    assert applied.returncode == 0, applied.stderr
    doc = json.loads(applied.stdout)
    assert doc["alembic"]["heads"] == ["c"] and doc["alembic"]["agrees"] is True
    assert (lost.path / V / "b_next.py").read_text() == revision_source("b", "a", "next")


def test_restore_refuses_to_overwrite_with_one_line(lost: GitRepo) -> None:
    (lost.path / V / "b_next.py").write_text("# mine\n")
    before = snapshot(lost.path)
    proc = ma("restore", "b", str(lost.path), "--apply")
    assert proc.returncode == 1
    assert "already exists with different content" in one_line_error(proc)
    assert snapshot(lost.path) == before


def test_same_revision_already_present_with_other_content(lost: GitRepo) -> None:
    (lost.path / V / "b_local.py").write_text(revision_source("b", "a", "my local edit"))
    before = snapshot(lost.path)
    proc = ma("restore", "b", str(lost.path), "--apply")
    assert proc.returncode == 0 and "already present: a, b" in proc.stdout
    assert snapshot(lost.path) == before


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda tmp: tmp, "not a git repository"),
        (lambda tmp: GitRepo.init(tmp / "empty").path, "no commits yet"),
        (lambda tmp: tmp / "nope", "no such file or directory"),
    ],
    ids=["not-a-repo", "empty-repo", "no-such-path"],
)
def test_environment_errors_are_one_line_exit_3(tmp_path: Path, make, expected: str) -> None:  # type: ignore[no-untyped-def]
    target = make(tmp_path)
    proc = ma("scan", str(target))
    assert proc.returncode == 3
    assert expected in one_line_error(proc)


def test_unknown_revision_and_bad_pick(lost: GitRepo) -> None:
    proc = ma("restore", "84456d47e6aa", str(lost.path))
    assert proc.returncode == 1
    assert "Can't locate revision identified by '84456d47e6aa'" in one_line_error(proc)
    bad = ma("scan", str(lost.path), "--pick", "b")
    assert bad.returncode == 2 and "expected REV=BLOB" in one_line_error(bad)
    none = ma("scan", str(lost.path), "--pick", "b=ffffff")
    assert none.returncode == 2 and "no candidate matches" in one_line_error(none)


def test_pick_overrides_the_choice(repo: GitRepo) -> None:
    repo.commit("a", {f"{V}/a.py": revision_source("a", None, "base")})
    old = revision_source("b", "a", "first draft")
    repo.commit("b1", {f"{V}/b.py": old})
    repo.commit("b2", {f"{V}/b.py": revision_source("b", "a", "final")})
    repo.commit("gone", remove=[f"{V}/b.py"])
    default = json.loads(ma("scan", str(repo.path), "--json").stdout)
    b = next(r for r in default["revisions"] if r["revision"] == "b")
    assert b["message"] == "final"
    picked = json.loads(ma("scan", str(repo.path), "--json", "--pick", f"b={repo.blob_of(old)[:8]}").stdout)
    b = next(r for r in picked["revisions"] if r["revision"] == "b")
    assert b["message"] == "first draft" and "--pick" in b["reason"]


def test_versions_default_from_alembic_ini(repo: GitRepo) -> None:
    repo.commit(
        "project",
        {
            "svc/alembic.ini": "[alembic]\nscript_location = %(here)s/migrations\nsqlalchemy.url = sqlite:///x.db\n",
            "svc/migrations/versions/a.py": revision_source("a", None, "base"),
        },
    )
    doc = json.loads(ma("scan", str(repo.path), "--json").stdout)
    assert doc["versions_dirs"] == ["svc/migrations/versions"]
    assert doc["revisions"][0]["present"] is True


def test_help_and_module_entry_point() -> None:
    proc = ma("--help")
    assert proc.returncode == 0 and "scan" in proc.stdout and "restore" in proc.stdout
    usage = ma("scan", "--bogus")
    assert usage.returncode == 2 and "Traceback" not in usage.stderr


def test_error_lines_keep_square_brackets(repo: GitRepo) -> None:
    """Messages are printed as text: a value in brackets is not swallowed as Rich markup."""
    repo.commit("base", {"alembic/versions/base.py": revision_source("base", None)})
    proc = ma("scan", str(repo.path), "--pick", "[bold]x[/bold]")
    assert proc.returncode == 2
    assert "--pick '[bold]x[/bold]': expected REV=BLOB" in proc.stderr


def drawn_chain(out: str) -> tuple[list[str], set[tuple[str, str]]]:
    """The chain as a user reads scan's drawing: each revision's parent is the nearest line above it
    at the same indent, or the X of the "branch from X:" line that opens its block; ``↳ → m`` is an
    edge to a merge listed elsewhere. Returns the revisions drawn (in order) and the edges read."""
    lines = out[out.index("chain (base → head"):].split("\n\n")[0].splitlines()[1:]
    drawn: list[str] = []
    edges: set[tuple[str, str]] = set()
    last_at: dict[int, str] = {}
    opened: dict[int, str] = {}
    for line in lines:
        content = line.lstrip("│ ")
        indent = len(line) - len(content)
        if content.startswith(("├─ branch from ", "└─ branch from ")):
            opened[indent + 3] = content[len("├─ branch from "):].rstrip(":")
            continue
        if not content.startswith("↳ "):
            rev = content.split("  ")[0]
            assert indent == 0, line  # a line without ↳ is a base
            drawn.append(rev)
            last_at = {0: rev}
            continue
        content = content[2:]
        parent = opened.pop(indent) if indent in opened else last_at[indent]
        rev = content.split("  ")[0]
        if rev.startswith("→ "):
            edges.add((parent, rev[2:]))
            continue
        edges.add((parent, rev))
        drawn.append(rev)
        last_at[indent] = rev
    return drawn, edges


def test_scan_console_nests_each_revision_under_its_parent(repo: GitRepo) -> None:
    """b and c of a -> b -> c used to be drawn as siblings under a."""
    repo.commit("chain", {f"{V}/a.py": revision_source("a", None, "base"), f"{V}/b.py": revision_source("b", "a", "next"),
                          f"{V}/c.py": revision_source("c", "b", "last")})
    proc = ma("scan", str(repo.path))
    assert proc.returncode == 0, proc.stderr
    tree = proc.stdout[proc.stdout.index("chain (base → head"):].splitlines()
    assert tree[1:4] == ["a  base  present", "↳ b  next  present", "↳ c  last  present  (head)"]
    assert drawn_chain(proc.stdout) == (["a", "b", "c"], {("a", "b"), ("b", "c")})


def test_scan_console_draws_branches_and_merges(repo: GitRepo) -> None:
    """A branch point's children are siblings under it; a merge sits on its first parent's line and
    the other line ends in an arrow to it."""
    files = {"a": ("a", None), "b": ("b", "a"), "c": ("c", "b"), "s": ("s", "b"), "s2": ("s2", "s"), "t": ("t", "b"),
             "m": ("m", ("c", "s2")), "n": ("n", "m")}
    repo.commit("chain", {f"{V}/{name}.py": revision_source(*args) for name, args in files.items()})
    proc = ma("scan", str(repo.path))
    edges = {(down, rev) for rev, (_, downs) in files.items() for down in ((downs,) if isinstance(downs, str) else downs or ())}
    drawn, read = drawn_chain(proc.stdout)
    assert sorted(drawn) == sorted(files) and read == edges
    assert "↳ m  a change  present  (merge of c, s2)" in proc.stdout and "↳ → m  (merge, listed below)" in proc.stdout


def test_scan_console_draws_a_long_chain_flat(repo: GitRepo) -> None:
    """1,200 revisions in one line (past Python's recursion limit) with one side branch: the line
    stays at one indent, each revision under the one it revises; the side branch is indented under
    its branch point and ends with an arrow to the merge."""
    revs = [f"r{i:04d}" for i in range(1200)]
    for i, rev in enumerate(revs):
        down: str | tuple[str, ...] | None = revs[i - 1] if i else None
        if rev == "r0502":
            down = ("r0501", "side")
        repo.write(f"{V}/{rev}_step.py", revision_source(rev, down, f"step {i}"))
    repo.write(f"{V}/side_branch.py", revision_source("side", "r0500", "side work"))
    repo.git("add", V)
    repo.git("commit", "-q", "-m", "a long chain")
    proc = ma("scan", str(repo.path), "--no-cache")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr == ""
    drawn, edges = drawn_chain(proc.stdout)
    assert drawn == revs[:501] + ["side"] + revs[501:]
    assert edges == {(a, b) for a, b in zip(revs, revs[1:])} | {("r0500", "side"), ("side", "r0502")}
    tree = proc.stdout[proc.stdout.index("chain (base → head"):].splitlines()
    assert {len(line) - len(line.lstrip("│ ")) for line in tree[1:] if "r0" in line.split("  ")[0]} == {0}
    assert "│  ↳ side  side work  present" in tree and "│  ↳ → r0502  (merge, listed below)" in tree
