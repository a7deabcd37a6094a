"""The scanned repository's own programs never run (issue 19 item 7).

A repository's ``.git/config`` can name programs git runs by itself: an fsmonitor hook (run by
``git ls-files --others``), a pager, an external diff, textconv and filter drivers, hooks, ssh and
``ext::`` transports, credential helpers. A repository someone hands you is not trusted, so every
git we start is told to run none of them. Each case configures a marker program for every such
setting; the marker touches a file named after the setting, and after ``scan``, ``check``,
``timeline``, ``restore --apply`` and ``recover`` no marker file may exist.

Cases (ids): repo-config-programs (``test_repository_programs_never_run``),
promisor-remote-ext-transport (``test_missing_blob_never_fetched_through_the_repositorys_transport``),
replace-refs (``test_replace_refs_do_not_change_what_is_read``),
git-dir-environment (``test_git_dir_in_the_environment_never_replaces_the_repo_argument``),
repo-config-programs-inside (``test_repository_programs_never_run_from_inside_the_repository``),
common-dir-environment (``test_common_dir_and_object_directory_in_the_environment_are_ignored``).
"""

from __future__ import annotations

import json
from pathlib import Path

from conftest import ma
from corpus import V, cli, git
from gitfixture import GitRepo, environment_files, revision_source

INI = "[alembic]\nscript_location = alembic\n"

#: setting -> marker name; every program a repository's config can make git run
PROGRAMS = {
    "core.fsmonitor": "fsmonitor",
    "core.pager": "pager",
    "pager.log": "pager-log",
    "pager.show": "pager-show",
    "pager.ls-files": "pager-ls-files",
    "diff.external": "diff-external",
    "diff.mark.textconv": "textconv",
    "diff.mark.command": "diff-driver",
    "filter.mark.smudge": "smudge",
    "filter.mark.clean": "clean",
    "filter.proc.process": "filter-process",
    "core.sshCommand": "ssh-command",
    "core.gitProxy": "git-proxy",
    "core.askPass": "askpass",
    "credential.helper": "credential",
    "core.editor": "editor",
    "sequence.editor": "sequence-editor",
    "gpg.program": "gpg",
    "gpg.ssh.program": "gpg-ssh",
    "core.alternateRefsCommand": "alternate-refs",
    "uploadpack.packObjectsHook": "pack-objects-hook",
    "remote.origin.uploadpack": "upload-pack",
    "remote.origin.receivepack": "receive-pack",
}
HOOKS = ("post-checkout", "post-index-change", "reference-transaction", "pre-auto-gc", "post-merge",
         "pre-commit", "post-rewrite", "fsmonitor-watchman", "push-to-checkout")


def _markers(root: Path) -> tuple[Path, Path]:
    """A folder of marker programs (one per setting and hook, each touching ``marks/<name>``)."""
    bin_dir, marks = root / "bin", root / "marks"
    bin_dir.mkdir()
    marks.mkdir()
    for name in [*PROGRAMS.values(), *HOOKS, "ext"]:
        program = bin_dir / name
        program.write_text(f"#!/bin/sh\ntouch '{marks / name}'\ncat >/dev/null 2>&1\nexit 0\n")
        program.chmod(0o755)
    return bin_dir, marks


def _arm(repo_path: Path, bin_dir: Path) -> None:
    """Name a marker for every setting in the repository's own config, after its history is built."""
    hooks = bin_dir.parent / "hooks"
    hooks.mkdir()
    for hook in HOOKS:
        (hooks / hook).symlink_to(bin_dir / hook)
    settings = {key: str(bin_dir / name) for key, name in PROGRAMS.items()}
    settings["credential.helper"] = f"!{bin_dir / 'credential'}"
    settings["core.hooksPath"] = str(hooks)
    settings["remote.origin.url"] = f"ext::{bin_dir / 'ext'} %S"
    settings["remote.other.url"] = "ssh://example.invalid/x.git"
    settings["protocol.ext.allow"] = "always"
    settings["protocol.allow"] = "always"
    settings["core.untrackedCache"] = "true"
    for key, value in settings.items():
        git("config", key, value, cwd=repo_path)


def _history(path: Path) -> GitRepo:
    """a, b, then c on b; b deleted (lost: c needs it); .gitattributes names the textconv/filter drivers."""
    repo = GitRepo.init(path)
    repo.commit("base", {"alembic.ini": INI, **environment_files(), ".gitattributes": "*.py diff=mark filter=mark\n*.ini filter=proc\n",
                         f"{V}/a_base.py": revision_source("a", None, "base")})
    repo.commit("next", {f"{V}/b_next.py": revision_source("b", "a", "next")})
    repo.commit("last", {f"{V}/c_last.py": revision_source("c", "b", "last")})
    repo.commit("cleanup", remove=[f"{V}/b_next.py"])
    return repo


def _run_everything(target: Path, cwd: Path) -> dict[str, object]:
    scan = cli("scan", str(target), "--json", "--no-cache", cwd=cwd)
    runs = {
        "scan": scan,
        "scan-text": cli("scan", str(target), cwd=cwd),
        "check": cli("check", str(target), cwd=cwd),
        "timeline": cli("timeline", str(target), cwd=cwd),
        "recover": cli("recover", str(target), cwd=cwd),
        "restore --apply": cli("restore", "b", str(target), "--apply", cwd=cwd),
        "recover --apply": cli("recover", str(target), "--apply", cwd=cwd),
        "scan-after": cli("scan", str(target), "--json", cwd=cwd),
    }
    return runs


def test_repository_programs_never_run(tmp_path: Path) -> None:
    """case repo-config-programs: every program the repository's config names stays unrun, and the
    commands work as on any repository (b is found and restored byte-identical)."""
    bin_dir, marks = _markers(tmp_path)
    repo = _history(tmp_path / "repo")
    _arm(repo.path, bin_dir)
    (repo.path / "untracked.txt").write_text("an untracked file, so ls-files --others has work\n")
    runs = _run_everything(repo.path, tmp_path)
    assert sorted(p.name for p in marks.iterdir()) == []
    doc = json.loads(runs["scan"].stdout)  # type: ignore[attr-defined]
    assert {r["revision"]: r["status"] for r in doc["revisions"]} == {"a": "present", "b": "missing", "c": "present"}
    assert runs["restore --apply"].returncode == 0, runs["restore --apply"].stderr  # type: ignore[attr-defined]
    restored = repo.path / V / "b_next.py"
    assert restored.read_text() == revision_source("b", "a", "next")
    after = json.loads(runs["scan-after"].stdout)  # type: ignore[attr-defined]
    assert {r["revision"]: r["status"] for r in after["revisions"]} == {"a": "present", "b": "present", "c": "present"}


def test_missing_blob_never_fetched_through_the_repositorys_transport(tmp_path: Path) -> None:
    """case promisor-remote-ext-transport: a partial clone whose promisor remote is an ``ext::``
    command (and whose config allows ext): the missing blob is reported, the command never runs."""
    bin_dir, marks = _markers(tmp_path)
    src = _history(tmp_path / "src")
    src.git("config", "uploadpack.allowFilter", "true")
    target = tmp_path / "partial"
    git("clone", "-q", "--filter=blob:none", f"file://{src.path}", str(target))
    _arm(target, bin_dir)
    lost_blob = src.git("rev-parse", f"HEAD~1:{V}/b_next.py")
    doc_proc = cli("scan", str(target), "--json", "--no-cache", cwd=tmp_path)
    restore = cli("restore", "b", str(target), "--apply", cwd=tmp_path)
    check = cli("check", str(target), cwd=tmp_path)
    assert sorted(p.name for p in marks.iterdir()) == []
    doc = json.loads(doc_proc.stdout)
    assert lost_blob in {u["blob"] for u in doc["unreadable"]}
    assert restore.returncode == 1 and check.returncode == 1  # c needs b, which cannot be read


def test_replace_refs_do_not_change_what_is_read(tmp_path: Path) -> None:
    """case replace-refs: ``git replace`` swaps b's blob for another; the history names b's own
    blob, so that is what is read and restored (GIT_NO_REPLACE_OBJECTS), byte-identical."""
    repo = _history(tmp_path / "repo")
    original = repo.git("rev-parse", f"HEAD~2:{V}/b_next.py")
    forged = git("hash-object", "-w", "--stdin", cwd=repo.path,
                 input=revision_source("b", "a", "forged", body="    op.drop_table('users')").encode())
    repo.git("replace", original, forged)
    proc = cli("restore", "b", str(repo.path), "--apply", "--no-cache", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (repo.path / V / "b_next.py").read_text() == revision_source("b", "a", "next")


def test_git_dir_in_the_environment_never_replaces_the_repo_argument(tmp_path: Path) -> None:
    """case git-dir-environment: a ``GIT_DIR`` (and ``GIT_INDEX_FILE``) left in the shell names
    another repository; the REPO argument is what is read, restored into and reported, and stderr
    says the variables were ignored. Before, git followed ``GIT_DIR`` and the other repository's
    history was scanned under REPO's name."""
    repo = _history(tmp_path / "repo")
    other = GitRepo.init(tmp_path / "other")
    other.commit("other", {"alembic.ini": INI, **environment_files(),
                           f"{V}/x_other.py": revision_source("x", None, "other")})
    env = {"GIT_DIR": str(other.path / ".git"), "GIT_INDEX_FILE": str(other.path / ".git" / "index")}
    scan = ma("scan", str(repo.path), "--json", "--no-cache", cwd=tmp_path, env=env)
    assert scan.returncode == 1, scan.stderr  # b is missing: the repository's own verdict
    doc = json.loads(scan.stdout)
    assert {r["revision"]: r["status"] for r in doc["revisions"]} == {"a": "present", "b": "missing", "c": "present"}
    assert "note: GIT_DIR, GIT_INDEX_FILE set in the environment and ignored" in scan.stderr
    restore = ma("restore", "b", str(repo.path), "--apply", cwd=tmp_path, env=env)
    assert restore.returncode == 0, restore.stdout + restore.stderr
    assert (repo.path / V / "b_next.py").read_text() == revision_source("b", "a", "next")
    assert not (other.path / V / "b_next.py").exists()
    assert other.git("status", "--porcelain") == ""  # the other repository and its index untouched


def test_repository_programs_never_run_from_inside_the_repository(tmp_path: Path) -> None:
    """case repo-config-programs-inside: the commands started in the armed repository's own folder
    (REPO ``.``), where GitPython runs its ``git version`` at import and every git starts: no
    marker runs, and the verdict is the repository's."""
    bin_dir, marks = _markers(tmp_path)
    repo = _history(tmp_path / "repo")
    _arm(repo.path, bin_dir)
    git("config", "pager.version", str(bin_dir / "pager"), cwd=repo.path)
    (repo.path / "untracked.txt").write_text("an untracked file, so ls-files --others has work\n")
    scan = cli("scan", ".", "--json", "--no-cache", cwd=repo.path)
    check = cli("check", ".", cwd=repo.path)
    assert sorted(p.name for p in marks.iterdir()) == []
    doc = json.loads(scan.stdout)
    assert {r["revision"]: r["status"] for r in doc["revisions"]} == {"a": "present", "b": "missing", "c": "present"}
    assert check.returncode == 1, check.stdout + check.stderr


def test_common_dir_and_object_directory_in_the_environment_are_ignored(tmp_path: Path) -> None:
    """case common-dir-environment: ``GIT_COMMON_DIR``, ``GIT_OBJECT_DIRECTORY`` and ``GIT_WORK_TREE``
    name another repository (GitPython's ``Repo`` would follow them, and its ``Git.execute`` pass
    them on); REPO is what is scanned, and stderr says they were ignored."""
    repo = _history(tmp_path / "repo")
    other = GitRepo.init(tmp_path / "other")
    other.commit("other", {"alembic.ini": INI, **environment_files(),
                           f"{V}/x_other.py": revision_source("x", None, "other")})
    env = {"GIT_COMMON_DIR": str(other.path / ".git"), "GIT_OBJECT_DIRECTORY": str(other.path / ".git" / "objects"),
           "GIT_WORK_TREE": str(other.path)}
    scan = ma("scan", str(repo.path), "--json", "--no-cache", cwd=tmp_path, env=env)
    assert scan.returncode == 1, scan.stderr
    doc = json.loads(scan.stdout)
    assert {r["revision"]: r["status"] for r in doc["revisions"]} == {"a": "present", "b": "missing", "c": "present"}
    assert "note: GIT_WORK_TREE, GIT_COMMON_DIR, GIT_OBJECT_DIRECTORY set in the environment and ignored" in scan.stderr
