"""Revision files lost in a git submodule's history, found by scanning the superproject, and restored
into the submodule's work tree.

Real submodules: ``git submodule add`` of a local repository (the file protocol allowed only in the
fixture's own command), a deletion committed inside the submodule."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ma
from gitfixture import GitRepo, environment_files, revision_source
from migration_archaeologist.actions.restore import apply_restore, plan_restore
from migration_archaeologist.actions.tool_files import MANIFEST_NAME
from migration_archaeologist.chain.check import evaluate
from migration_archaeologist.chain.scan import scan_repository
from migration_archaeologist.chain.scan_result import ScanResult

SUB = "libs/core"
V = "migrations/versions"
B_FILE = revision_source("b", "a", "next")


def _core(tmp_path: Path, *, with_ini: bool = True) -> GitRepo:
    """The submodule's upstream: a -> b -> c, alembic.ini / env.py / versions in it."""
    core = GitRepo.init(tmp_path / "core")
    files: dict[str, str | bytes] = {f"{V}/a_base.py": revision_source("a", None, "base"), **environment_files("migrations")}
    if with_ini:
        files["alembic.ini"] = "[alembic]\nscript_location = %(here)s/migrations\n"
    core.commit("base", files)
    core.commit("next", {f"{V}/b_next.py": B_FILE})
    core.commit("last", {f"{V}/c_last.py": revision_source("c", "b", "last")})
    return core


def _superproject(tmp_path: Path, core: GitRepo, files: dict[str, str | bytes] | None = None) -> tuple[GitRepo, GitRepo]:
    """A superproject with ``core`` as the submodule libs/core, b then deleted inside the submodule."""
    sup = GitRepo.init(tmp_path / "super")
    sup.commit("init", {"README.md": "the app\n", **(files or {})})
    sup.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(core.path), SUB)
    sup.git("commit", "-q", "-m", "add core")
    sub = GitRepo(sup.path / SUB, clock=max(sup.clock, core.clock))
    sub.commit("cleanup", remove=[f"{V}/b_next.py"])
    sup.git("commit", "-q", "-a", "-m", "bump core")
    return sup, sub


def _b_sightings(result: ScanResult) -> list[dict[str, str | None]]:
    entry = result.catalog.entries["b"]
    return [s.to_json() for c in entry.candidates for s in c.sightings]


def test_a_revision_deleted_in_a_submodule_is_found_from_the_superproject_and_judged_lost(tmp_path: Path) -> None:
    sup, sub = _superproject(tmp_path, _core(tmp_path))
    deleting = sub.git("rev-parse", "HEAD")
    result = scan_repository(sup.path)
    assert result.versions_dirs == (sup.path / SUB / V,)
    assert not result.catalog.entries["b"].present
    deleted = [s for s in _b_sightings(result) if s["event"] == "deleted"]
    assert [{**s, "date": None} for s in deleted] == [
        {
            "source": "history",
            "event": "deleted",
            "commit": deleting,
            "ref": None,
            "path": f"{SUB}/{V}/b_next.py",
            "date": None,
            "submodule": SUB,
        }
    ]
    assert result.missing == ("b",)
    assert result.deletion("b") is not None and result.deletion("b").commit == deleting  # type: ignore[union-attr]
    verdict = evaluate(result)
    assert not verdict.passed and verdict.missing == ("b",)
    # the superproject's own sightings carry no submodule field: JSON documents stay as they were
    a_paths = {s.path for c in result.catalog.entries["a"].candidates for s in c.sightings}
    assert a_paths == {f"{SUB}/{V}/a_base.py"}


def test_scan_and_check_on_the_command_line(tmp_path: Path) -> None:
    sup, _sub = _superproject(tmp_path, _core(tmp_path))
    scan = ma("scan", "--json", str(sup.path))
    assert scan.returncode == 1, scan.stderr
    document = json.loads(scan.stdout)
    b = next(r for r in document["revisions"] if r["revision"] == "b")
    assert b["status"] == "missing"
    assert {s["submodule"] for c in b["candidates"] for s in c["sightings"]} == {SUB}
    table = ma("scan", str(sup.path))
    row = next(line for line in table.stdout.splitlines() if line.startswith("│ b "))
    assert f"in {SUB}" in row and "missing" in row
    plan = ma("restore", "b", str(sup.path))
    assert plan.returncode == 0, plan.stderr
    assert f"in {SUB}" in next(line for line in plan.stdout.splitlines() if "b_next.py" in line)
    check = ma("check", str(sup.path))
    assert check.returncode == 1
    assert "missing from the versions directory: b" in check.stdout


def test_script_location_in_the_superproject_pointing_into_the_submodule(tmp_path: Path) -> None:
    core = _core(tmp_path, with_ini=False)
    ini = {"alembic.ini": f"[alembic]\nscript_location = {SUB}/migrations\n"}
    sup, sub = _superproject(tmp_path, core, ini)
    result = scan_repository(sup.path)
    assert result.versions_dirs == (sup.path / SUB / V,)
    assert result.missing == ("b",)
    assert any(s["event"] == "deleted" and s["commit"] == sub.git("rev-parse", "HEAD") for s in _b_sightings(result))


def test_restore_writes_the_same_bytes_into_the_submodules_work_tree(tmp_path: Path) -> None:
    core = _core(tmp_path)
    sup, sub = _superproject(tmp_path, core)
    expected = B_FILE.encode()
    result = scan_repository(sup.path)
    plan = plan_restore(result, ["b"])
    assert [(f.revision, f.target, f.action) for f in plan.files] == [("b", sup.path / SUB / V / "b_next.py", "write")]
    # the same plan as scanning the submodule as a repository of its own
    alone = plan_restore(scan_repository(sup.path / SUB), ["b"])
    assert [(f.revision, f.blob, f.target, f.fidelity) for f in alone.files] == [
        (f.revision, f.blob, f.target, f.fidelity) for f in plan.files
    ]
    outcome = apply_restore(plan, result)
    assert outcome.written == (sup.path / SUB / V / "b_next.py",)
    assert (sup.path / SUB / V / "b_next.py").read_bytes() == expected
    assert outcome.heads_agree is True
    manifest = json.loads((sup.path / SUB / V / MANIFEST_NAME).read_text())
    # only b: the submodule's own tracked files are not taken for an interrupted restore's
    assert [row["revision"] for row in manifest["restored"]] == ["b"]
    row = manifest["restored"][0]
    assert row["original_path"] == f"{SUB}/{V}/b_next.py" and row["fidelity"] == "exact"
    assert row["submodule"] == SUB
    # the recorded commit holds these bytes in the submodule
    assert sub.git("show", f"{row['commit']}:{V}/b_next.py").encode() + b"\n" == expected
    # nothing was written into the superproject's own tree
    assert sup.git("status", "--porcelain", "--ignore-submodules=all") == ""
    assert scan_repository(sup.path).missing == ()


def test_a_revision_only_in_the_submodules_reflog_or_unreachable(tmp_path: Path) -> None:
    sup, sub = _superproject(tmp_path, _core(tmp_path))
    dropped = sub.commit("d", {f"{V}/d_more.py": revision_source("d", "c", "more")})
    sub.git("reset", "-q", "--hard", "HEAD~1")  # d is now only in the submodule's reflog
    sub.write(f"{V}/e_loose.py", revision_source("e", "c", "loose"))
    sub.git("add", f"{V}/e_loose.py")
    tree = sub.git("write-tree")
    loose = sub.git("commit-tree", tree, "-p", "HEAD", "-m", "e")  # a commit no ref or reflog ever named
    sub.git("rm", "-q", "--cached", f"{V}/e_loose.py")
    (sub.path / V / "e_loose.py").unlink()
    result = scan_repository(sup.path)

    def seen(rev: str) -> set[tuple[str | None, ...]]:
        found = [s.to_json() for c in result.catalog.entries[rev].candidates for s in c.sightings]
        return {(s["source"], s["commit"], s["path"], s["submodule"]) for s in found}

    assert ("reflog", dropped, f"{SUB}/{V}/d_more.py", SUB) in seen("d")
    assert ("unreachable", loose, f"{SUB}/{V}/e_loose.py", SUB) in seen("e")


def test_an_uninitialised_submodule_is_a_one_line_note(tmp_path: Path) -> None:
    sup, _sub = _superproject(tmp_path, _core(tmp_path))
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(sup.path), str(clone)], check=True)
    assert not (clone / ".git" / "modules").exists()
    result = scan_repository(clone, versions=[f"{SUB}/{V}"])
    notes = [w for w in result.warnings if w.startswith(f"submodule {SUB}:")]
    assert notes == [f"submodule {SUB}: not initialised (no .git in it, nothing under .git/modules): nothing to read"]
    proc = ma("scan", str(clone), "--versions", f"{SUB}/{V}")
    assert "Traceback" not in proc.stderr + proc.stdout and proc.returncode in (0, 1)


def test_a_gitdir_leading_outside_the_superproject_is_refused(tmp_path: Path) -> None:
    core = _core(tmp_path)
    sup, _sub = _superproject(tmp_path, core)
    elsewhere = GitRepo.init(tmp_path / "elsewhere")
    elsewhere.commit("x", {f"{V}/z_other.py": revision_source("z", None, "other")})
    (sup.path / SUB / ".git").write_text(f"gitdir: {elsewhere.path / '.git'}\n")
    result = scan_repository(sup.path)
    assert "z" not in result.catalog.entries
    assert [w for w in result.warnings if w.startswith(f"submodule {SUB}:")] == [
        f"submodule {SUB}: .git points outside .git/modules and its own folder ({elsewhere.path / '.git'}): not read"
    ]


def test_a_submodule_git_file_that_is_a_link_is_refused(tmp_path: Path) -> None:
    sup, _sub = _superproject(tmp_path, _core(tmp_path))
    dotgit = sup.path / SUB / ".git"
    dotgit.unlink()
    os.symlink(sup.path / ".git" / "modules" / SUB, dotgit)
    result = scan_repository(sup.path)
    assert "b" not in result.catalog.entries
    assert f"submodule {SUB}: .git is a symbolic link: not read" in result.warnings


def test_a_submodule_folder_behind_a_link_is_refused(tmp_path: Path) -> None:
    sup, _sub = _superproject(tmp_path, _core(tmp_path))
    moved = tmp_path / "moved-core"
    shutil.move(str(sup.path / SUB), moved)
    os.symlink(moved, sup.path / SUB)
    result = scan_repository(sup.path, versions=[str(moved / V)])
    assert "b" not in result.catalog.entries
    assert f"submodule {SUB}: its folder is a symbolic link (or lies behind one): not read" in result.warnings


@pytest.mark.parametrize("path", ["../outside", "/abs", "a/../../b"])
def test_a_gitmodules_path_leading_out_is_not_read(tmp_path: Path, path: str) -> None:
    sup, _sub = _superproject(tmp_path, _core(tmp_path))
    sup.git("config", "--file", ".gitmodules", f"submodule.{SUB}.path", path)
    result = scan_repository(sup.path, versions=[f"{SUB}/{V}"])
    assert "b" not in result.catalog.entries
    assert any("unsafe name or path" in w for w in result.warnings), result.warnings


def _logging_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``git`` first on PATH that writes each command line to a log, then runs the real git."""
    real = shutil.which("git")
    assert real is not None
    folder = tmp_path / "bin"
    folder.mkdir()
    log = tmp_path / "git.log"
    script = folder / "git"
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{log}"\nexec "{real}" "$@"\n')
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    return log


def test_no_gitmodules_no_submodule_scan(repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo.commit("base", {"alembic/versions/a.py": revision_source("a", None)})
    log = _logging_git(tmp_path, monkeypatch)
    result = scan_repository(repo.path, versions=["alembic/versions"])
    assert not any(w.startswith("submodule") for w in result.warnings)
    assert all(s.submodule is None for e in result.catalog.entries.values() for c in e.candidates for s in c.sightings)
    commands = log.read_text().splitlines()
    assert commands and not [c for c in commands if "config --file" in c or "/.gitmodules" in c]


def test_git_is_never_asked_to_update_or_fetch_a_submodule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sup, _sub = _superproject(tmp_path, _core(tmp_path))
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(sup.path), str(clone)], check=True)
    log = _logging_git(tmp_path, monkeypatch)
    scan_repository(sup.path)
    scan_repository(clone, versions=[f"{SUB}/{V}"])
    commands = log.read_text().splitlines()
    assert any("config --file" in c and c.endswith(r"^submodule\..*\.path$") for c in commands)  # the log sees it
    assert not [c for c in commands if any(word in c.split() for word in ("submodule", "fetch", "clone", "checkout"))]


def test_a_linked_worktree_of_the_superproject_reads_its_own_submodules(tmp_path: Path) -> None:
    core = _core(tmp_path)
    core.commit("cleanup", remove=[f"{V}/b_next.py"])  # upstream: the linked worktree's submodule clones it
    sup = GitRepo.init(tmp_path / "super")
    sup.commit("init", {"README.md": "the app\n"})
    sup.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(core.path), SUB)
    sup.git("commit", "-q", "-m", "add core")
    linked = tmp_path / "linked"
    sup.git("worktree", "add", "-q", str(linked))
    sup.git("-C", str(linked), "-c", "protocol.file.allow=always", "submodule", "update", "--init", "-q")
    assert "worktrees" in (linked / SUB / ".git").read_text()  # .git/worktrees/linked/modules/libs/core
    result = scan_repository(linked)
    assert result.missing == ("b",)
    assert not [w for w in result.warnings if w.startswith("submodule")]


def test_a_submodule_inside_a_submodule(tmp_path: Path) -> None:
    inner = GitRepo.init(tmp_path / "inner")
    inner.commit("base", {f"{V}/x_base.py": revision_source("x", None, "base")})
    inner.commit("next", {f"{V}/y_next.py": revision_source("y", "x", "next")})
    inner.commit("last", {f"{V}/z_last.py": revision_source("z", "y", "last")})
    core = _core(tmp_path)
    core.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(inner.path), "vendor/inner")
    core.git("commit", "-q", "-m", "vendor inner")
    sup = GitRepo.init(tmp_path / "super")
    sup.commit("init", {"README.md": "the app\n"})
    sup.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(core.path), SUB)
    sup.git("-c", "protocol.file.allow=always", "submodule", "update", "--init", "--recursive", "-q")
    sup.git("commit", "-q", "-m", "add core")
    nested = GitRepo(sup.path / SUB / "vendor/inner", clock=max(sup.clock, inner.clock))
    deleting = nested.commit("cleanup", remove=[f"{V}/y_next.py"])
    where = f"{SUB}/vendor/inner/{V}"
    result = scan_repository(sup.path, versions=[where])
    assert result.missing == ("y",)
    deleted = [s for c in result.catalog.entries["y"].candidates for s in c.sightings if s.event == "deleted"]
    assert [(s.commit, s.path, s.submodule) for s in deleted] == [(deleting, f"{where}/y_next.py", f"{SUB}/vendor/inner")]


def test_a_constant_a_submodules_revision_names_is_read_from_the_submodules_commit(tmp_path: Path) -> None:
    """``branch_labels = (cli.EXPAND_BRANCH,)`` in a revision deleted in a submodule: the module is read
    as it stood at the submodule's commit, in the submodule (the superproject holds neither)."""
    core = _core(tmp_path)
    revision = (
        '"""expand"""\nfrom myapp.db import cli\n\nrevision = "e1"\ndown_revision = "c"\n'
        "branch_labels = (cli.EXPAND_BRANCH,)\ndepends_on = None\n"
    )
    core.commit("labels", {
        "myapp/__init__.py": "", "myapp/db/__init__.py": "", "myapp/db/cli.py": "EXPAND_BRANCH = 'expand'\n",
        f"{V}/e1_expand.py": revision,
    })
    sup, sub = _superproject(tmp_path, core)
    sub.commit("gone", {"myapp/db/cli.py": "EXPAND_BRANCH = 'grow'\n"}, remove=[f"{V}/e1_expand.py"])
    result = scan_repository(sup.path, evidence=False)
    assert {c.revision.branch_labels for c in result.catalog.entries["e1"].candidates} == {("expand",)}
    assert result.catalog.entries["e1"].chosen.revision.unresolved == ()


def test_a_damaged_submodule_is_a_one_line_note_and_the_scan_goes_on(tmp_path: Path) -> None:
    sup, _sub = _superproject(tmp_path, _core(tmp_path))
    objects = sup.path / ".git" / "modules" / SUB / "objects"
    for item in [p for p in objects.rglob("*") if p.is_file() and p.parent.name not in ("info",)]:
        item.unlink()  # hard links into the upstream's objects: replaced, never written through
        item.write_bytes(b"garbage")
    result = scan_repository(sup.path, cache=False)
    notes = [w for w in result.warnings if w.startswith(f"submodule {SUB}:")]
    assert len(notes) == 1 and "not read" in notes[0] and "\n" not in notes[0], result.warnings
    assert "b" not in result.catalog.entries and result.catalog.entries["a"].present
    proc = ma("scan", str(sup.path))
    assert "Traceback" not in proc.stderr + proc.stdout and proc.returncode == 1
    assert f"warning: submodule {SUB}: not read" in proc.stdout + proc.stderr


def test_a_submodules_own_programs_never_run(tmp_path: Path) -> None:
    """The submodule's git config (in .git/modules/libs/core) and the superproject's name a marker
    program for every setting git could run one for: scan, check, timeline, restore --apply and
    recover read and restore through the submodule, and no marker ever runs."""
    from test_git_safety import _arm, _markers, _run_everything

    bin_dir, marks = _markers(tmp_path)
    sup, _sub = _superproject(tmp_path, _core(tmp_path))
    _arm(sup.path / SUB, bin_dir)  # git config in the submodule: its own config file
    (sup.path / SUB / "untracked.txt").write_text("so that git has untracked files to look for\n")
    runs = _run_everything(sup.path, tmp_path)
    assert sorted(p.name for p in marks.iterdir()) == []
    assert runs["restore --apply"].returncode == 0, runs["restore --apply"].stderr  # type: ignore[attr-defined]
    assert (sup.path / SUB / V / "b_next.py").read_text() == B_FILE
    after = json.loads(runs["scan-after"].stdout)  # type: ignore[attr-defined]
    assert {r["revision"]: r["status"] for r in after["revisions"]} == {"a": "present", "b": "present", "c": "present"}


def test_a_submodule_whose_config_names_another_work_tree_is_refused(tmp_path: Path) -> None:
    sup, _sub = _superproject(tmp_path, _core(tmp_path))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    subprocess.run(["git", "config", "--file", str(sup.path / ".git/modules" / SUB / "config"), "core.worktree",
                    str(elsewhere)], check=True)
    result = scan_repository(sup.path)
    assert "b" not in result.catalog.entries
    assert [w for w in result.warnings if w.startswith(f"submodule {SUB}:")] == [
        f"submodule {SUB}: git names another git directory or work tree for it (core.worktree?): not read"
    ]


def test_a_submodule_named_twice_is_read_once(tmp_path: Path) -> None:
    sup, _sub = _superproject(tmp_path, _core(tmp_path))
    sup.git("config", "--file", ".gitmodules", "submodule.again.path", SUB)
    result = scan_repository(sup.path)
    deleted = [s for c in result.catalog.entries["b"].candidates for s in c.sightings if s.event == "deleted"]
    assert len(deleted) == 1


def test_without_any_configuration_the_submodules_history_says_where_revisions_live(tmp_path: Path) -> None:
    core = GitRepo.init(tmp_path / "core")
    core.commit("base", {f"{V}/a_base.py": revision_source("a", None, "base")})
    core.commit("next", {f"{V}/b_next.py": B_FILE})
    core.commit("last", {f"{V}/c_last.py": revision_source("c", "b", "last")})
    sup, _sub = _superproject(tmp_path, core)
    result = scan_repository(sup.path)
    assert (result.versions_dirs, result.versions_origin) == ((sup.path / SUB / V,), "history")
    assert result.missing == ("b",)


def test_check_judges_the_superprojects_environment_and_the_submodules_each_on_its_own(tmp_path: Path) -> None:
    own = {
        "alembic.ini": "[alembic]\nscript_location = alembic\n",
        **environment_files("alembic"),
        "alembic/versions/x1_own.py": revision_source("x1", None, "own"),
    }
    sup, _sub = _superproject(tmp_path, _core(tmp_path), own)
    proc = ma("check", str(sup.path))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert "ok: 1 revisions, head x1" in lines
    assert "1 revision(s) missing from the versions directory: b" in lines
    assert scan_repository(sup.path, config_file=sup.path / "alembic.ini").missing == ()
    assert scan_repository(sup.path, config_file=sup.path / SUB / "alembic.ini").missing == ("b",)


def test_recover_brings_back_an_env_py_lost_in_the_submodule_byte_identical(tmp_path: Path) -> None:
    """env.py deleted in the submodule's history: ``recover --apply`` writes the submodule's last
    version of it (not Alembic's template) and b, both into the submodule's work tree."""
    sup, sub = _superproject(tmp_path, _core(tmp_path))
    custom = environment_files("migrations")["migrations/env.py"] + "# the project's own env.py\n"
    sub.commit("custom env", {"migrations/env.py": custom})
    sub.commit("lose env", remove=["migrations/env.py"])
    dry = ma("recover", str(sup.path))
    row = next(line for line in dry.stdout.splitlines() if "env.py" in line and "write" in line)
    assert "exact" in row and f"in {SUB}" in row, dry.stdout
    proc = ma("recover", str(sup.path), "--apply")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (sup.path / SUB / "migrations/env.py").read_text() == custom
    assert (sup.path / SUB / V / "b_next.py").read_text() == B_FILE
    manifest = json.loads((sup.path / SUB / V / MANIFEST_NAME).read_text())
    env_row = next(row for row in manifest["restored"] if row.get("role") == "env.py")
    assert env_row["fidelity"] == "exact" and env_row["submodule"] == SUB
    assert env_row["original_path"] == f"{SUB}/migrations/env.py"


def test_a_revision_only_the_submodules_reflog_holds_is_lost_and_restored(tmp_path: Path) -> None:
    """In the submodule, b and c were committed, then the branch rewritten with c alone: c (present)
    needs b, which only the submodule's reflog still reaches."""
    core = GitRepo.init(tmp_path / "core")
    core.commit("base", {"alembic.ini": "[alembic]\nscript_location = %(here)s/migrations\n",
                         **environment_files("migrations"), f"{V}/a_base.py": revision_source("a", None, "base")})
    sup = GitRepo.init(tmp_path / "super")
    sup.commit("init", {"README.md": "the app\n"})
    sup.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(core.path), SUB)
    sup.git("commit", "-q", "-m", "add core")
    sub = GitRepo(sup.path / SUB, clock=max(sup.clock, core.clock))
    held = sub.commit("next", {f"{V}/b_next.py": B_FILE})
    sub.commit("last", {f"{V}/c_last.py": revision_source("c", "b", "last")})
    sub.git("reset", "-q", "--soft", "HEAD~2")
    sub.git("rm", "-q", "--cached", f"{V}/b_next.py")
    (sub.path / V / "b_next.py").unlink()
    sub.git("commit", "-q", "-m", "last, rewritten")
    result = scan_repository(sup.path)
    assert result.missing == ("b",)
    sightings = {(s.source, s.commit, s.path, s.submodule) for c in result.catalog.entries["b"].candidates
                 for s in c.sightings}
    assert ("reflog", held, f"{SUB}/{V}/b_next.py", SUB) in sightings
    outcome = apply_restore(plan_restore(result, ["b"]), result)
    assert outcome.written == (sup.path / SUB / V / "b_next.py",)
    assert outcome.written[0].read_bytes() == B_FILE.encode()
    assert outcome.heads_agree is True


def test_a_ci_checkout_without_submodules_gets_no_annotation_for_them(tmp_path: Path) -> None:
    """GitHub's checkout leaves submodules uninitialised unless asked: the gate must not nag every run."""
    app = {
        "alembic.ini": "[alembic]\nscript_location = %(here)s/migrations\n",
        **environment_files("migrations"),
        f"{V}/a_base.py": revision_source("a", None, "base"),
    }
    sup, _sub = _superproject(tmp_path, _core(tmp_path), app)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(sup.path), str(clone)], check=True)
    github = ma("check", str(clone), "--format", "github")
    assert github.returncode == 0, github.stdout + github.stderr
    assert SUB not in github.stdout
    text = ma("check", str(clone))
    assert f"submodule {SUB}: not initialised" in text.stdout  # people still read it
