"""The history scanner on real repositories: every place git can still hold a revision file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ma, run
from gitfixture import GitRepo, revision_source
from migration_archaeologist.errors import EmptyRepository, NotARepository
from migration_archaeologist.sources.git.repository import open_repository
from migration_archaeologist.chain.scan import scan_repository
from migration_archaeologist.sources.git.history import GitHistory

V = "app/alembic/versions"


def sightings_by_rev(result) -> dict[str, list[tuple[str, str, str | None]]]:
    out: dict[str, list[tuple[str, str, str | None]]] = {}
    for rev, entry in result.catalog.entries.items():
        out[rev] = [(s.source, s.event, s.path) for c in entry.candidates for s in c.sightings]
    return out


def base_history(repo: GitRepo) -> None:
    repo.commit("app", {"app/models.py": "class Task: pass\n"})
    repo.commit("base", {f"{V}/aaa_base.py": revision_source("aaa", None, "base")})
    repo.commit("next", {f"{V}/bbb_next.py": revision_source("bbb", "aaa", "next")})


def test_deleted_file_is_found_with_its_deletion(repo: GitRepo) -> None:
    base_history(repo)
    deleting = repo.commit("cleanup", remove=[f"{V}/bbb_next.py"])
    result = scan_repository(repo.path)
    entry = result.catalog.entries["bbb"]
    assert not entry.present
    assert result.missing == ()  # a deleted head nothing stands on was retired, not lost
    assert result.retired["bbb"].how == "deleted" and result.retired["bbb"].commit == deleting
    deletion = entry.deletion()
    assert deletion is not None and deletion.commit == deleting and deletion.source == "history"
    assert "deleted in" in entry.reason
    assert result.catalog.entries["aaa"].present


def git_deleters(repo: GitRepo, path: str) -> list[str]:
    """Git's own answer: the non-merge commits that deleted ``path``, on every ref."""
    return repo.git("log", "--all", "--full-history", "--no-renames", "--diff-filter=D", "--no-merges", "--format=%H",
                    "--", path).split()


def deletions_named(result, rev: str) -> set[str | None]:  # type: ignore[no-untyped-def]
    return {s.commit for c in result.catalog.entries[rev].candidates for s in c.sightings if s.event == "deleted"}


def test_a_deletion_merged_in_is_the_commit_that_deleted_the_file_not_the_merge(repo: GitRepo) -> None:
    base_history(repo)
    repo.commit("ccc", {f"{V}/ccc_more.py": revision_source("ccc", "bbb", "more")})
    repo.git("checkout", "-q", "-b", "feature")
    deleting = repo.commit("drop bbb on the branch", remove=[f"{V}/bbb_next.py"])
    repo.git("checkout", "-q", "main")
    repo.commit("work on main meanwhile", {"app/models.py": "class Task:\n    done = False\n"})
    repo.git("merge", "-q", "--no-ff", "feature", "-m", "merge feature")
    merge = repo.git("rev-parse", "HEAD")
    # and a deletion made on main itself: that commit, as before
    on_main = repo.commit("drop ccc on main", remove=[f"{V}/ccc_more.py"])
    assert git_deleters(repo, f"{V}/bbb_next.py") == [deleting]
    assert git_deleters(repo, f"{V}/ccc_more.py") == [on_main]

    for cache in (False, True, True):  # a full scan, the one stored, and the stored one read back
        result = scan_repository(repo.path, cache=cache)
        entry = result.catalog.entries["bbb"]
        assert not entry.present and not result.catalog.entries["ccc"].present
        deletion = entry.deletion()
        assert deletion is not None and (deletion.commit, deletion.source) == (deleting, "history")
        assert deletions_named(result, "bbb") == {deleting}  # the merge is named nowhere
        assert deletion.date == result.commits[deleting].date
        assert f"deleted in {deleting[:10]}" in entry.reason and merge[:10] not in entry.reason
        assert result.catalog.entries["ccc"].deletion().commit == on_main
        assert deletions_named(result, "ccc") == {on_main}
    assert result.cache == "unchanged"

    scan = ma("scan", str(repo.path), "--json")
    doc = json.loads(scan.stdout)
    sightings = [s for r in doc["revisions"] if r["revision"] == "bbb" for c in r["candidates"] for s in c["sightings"]]
    assert [s["commit"] for s in sightings if s["event"] == "deleted"] == [deleting]
    table = run([sys.executable, "-m", "migration_archaeologist", "scan", str(repo.path)], env={"COLUMNS": "200"})
    assert f"{deleting[:7]} " in table.stdout and merge[:7] not in table.stdout
    timeline = json.loads(ma("timeline", str(repo.path), "--format", "json").stdout)
    deleted = {r["revision"]: (r["deleted"] or {}).get("commit") for r in timeline["revisions"]}
    assert deleted == {"aaa": None, "bbb": deleting, "ccc": on_main}


def test_a_merge_that_resolves_a_conflict_by_deleting_the_file_is_the_deleting_commit(repo: GitRepo) -> None:
    base_history(repo)
    path = f"{V}/bbb_next.py"
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("bbb on the branch", {path: revision_source("bbb", "aaa", "next, as the branch has it")})
    repo.git("checkout", "-q", "main")
    repo.commit("bbb on main", {path: revision_source("bbb", "aaa", "next, as main has it")})
    repo.git("merge", "-q", "--no-ff", "feature", "-m", "merge feature", check=False)  # a conflict
    repo.git("rm", "-q", path)  # the conflict resolved by dropping the file
    repo.git("commit", "-q", "-m", "merge feature, without bbb")
    merge = repo.git("rev-parse", "HEAD")
    assert repo.git("rev-parse", "HEAD^2") == repo.git("rev-parse", "feature")  # a real merge
    assert git_deleters(repo, path) == []  # no commit but the merge deleted it
    result = scan_repository(repo.path, cache=False)
    assert result.catalog.entries["bbb"].deletion().commit == merge
    assert deletions_named(result, "bbb") == {merge}


def test_a_deletion_carried_through_two_merges_and_into_a_branch_names_the_deleting_commit(repo: GitRepo) -> None:
    base_history(repo)
    repo.commit("ccc", {f"{V}/ccc_more.py": revision_source("ccc", "bbb", "more")})
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("feature work", {"app/views.py": "VIEWS = []\n"})
    repo.git("checkout", "-q", "-b", "cleanup")
    deleting = repo.commit("drop bbb", remove=[f"{V}/bbb_next.py"])
    repo.git("checkout", "-q", "feature")
    repo.commit("more feature work", {"app/views.py": "VIEWS = [1]\n"})
    repo.git("merge", "-q", "--no-ff", "cleanup", "-m", "merge cleanup into feature")
    repo.git("checkout", "-q", "-b", "other", "main")
    repo.commit("other work", {"app/other.py": "OTHER = 1\n"})
    repo.git("checkout", "-q", "main")
    repo.commit("main work", {"app/models.py": "class Task:\n    done = False\n"})
    repo.git("merge", "-q", "--no-ff", "feature", "-m", "merge feature into main")
    # a branch catching up with main: its merge carries the deletion in again
    repo.git("checkout", "-q", "other")
    repo.git("merge", "-q", "--no-ff", "main", "-m", "merge main into other")
    repo.git("checkout", "-q", "main")
    shown = repo.git("log", "--all", "--diff-merges=first-parent", "--diff-filter=D", "--name-only",
                     "--format=%H", "--", f"{V}/bbb_next.py").split()[::2]
    assert len(shown) == 4 and deleting in shown  # three merges show it deleted, against their first parents
    assert git_deleters(repo, f"{V}/bbb_next.py") == [deleting]
    result = scan_repository(repo.path, cache=False)
    assert deletions_named(result, "bbb") == {deleting}
    assert result.catalog.entries["bbb"].deletion().commit == deleting


def test_moved_to_another_folder_is_found_by_content(repo: GitRepo) -> None:
    base_history(repo)
    (repo.path / "archive" / "old").mkdir(parents=True)
    repo.git("mv", f"{V}/bbb_next.py", "archive/old/bbb_next.py")
    repo.git("mv", "archive/old", "legacy")  # and moved again, to a folder nobody would search
    repo.commit("archive old migrations")
    result = scan_repository(repo.path, versions=[V])
    paths = {p for _src, _ev, p in sightings_by_rev(result)["bbb"]}
    assert "legacy/bbb_next.py" in paths and f"{V}/bbb_next.py" in paths
    assert len(result.catalog.entries["bbb"].candidates) == 1  # one content, many places
    assert not result.catalog.entries["bbb"].present


def test_renamed_file_keeps_one_candidate(repo: GitRepo) -> None:
    base_history(repo)
    repo.git("mv", f"{V}/bbb_next.py", f"{V}/bbb_renamed_next.py")
    repo.commit("rename")
    result = scan_repository(repo.path, versions=[V])
    entry = result.catalog.entries["bbb"]
    assert entry.present and entry.chosen.present_paths == (f"{V}/bbb_renamed_next.py",)
    events = {(ev, p) for _s, ev, p in sightings_by_rev(result)["bbb"]}
    assert ("deleted", f"{V}/bbb_next.py") in events and ("added", f"{V}/bbb_renamed_next.py") in events


def test_deleted_branch_survives_in_reflog(repo: GitRepo) -> None:
    base_history(repo)
    repo.git("checkout", "-q", "-b", "feature/x")
    repo.commit("ccc on a branch", {f"{V}/ccc_feature.py": revision_source("ccc", "bbb", "feature")})
    repo.git("checkout", "-q", "main")
    repo.git("branch", "-q", "-D", "feature/x")
    result = scan_repository(repo.path)
    sources = {(s.source, s.ref) for c in result.catalog.entries["ccc"].candidates for s in c.sightings}
    assert sources == {("reflog", "HEAD@{1}")}
    assert "in the reflog (HEAD@{1})" in result.catalog.entries["ccc"].reason


def test_every_stash_entry_is_scanned(repo: GitRepo) -> None:
    base_history(repo)
    repo.write(f"{V}/ddd_stashed.py", revision_source("ddd", "bbb", "stashed first"))
    repo.git("add", f"{V}/ddd_stashed.py")
    repo.git("stash", "push", "-q", "-m", "wip ddd")
    repo.write(f"{V}/eee_untracked.py", revision_source("eee", "bbb", "untracked in a stash"))
    repo.git("stash", "push", "-q", "--include-untracked", "-m", "wip eee")
    result = scan_repository(repo.path)
    ddd = {(s.source, s.ref) for c in result.catalog.entries["ddd"].candidates for s in c.sightings}
    eee = {(s.source, s.ref) for c in result.catalog.entries["eee"].candidates for s in c.sightings}
    assert ("stash", "stash@{1}") in ddd  # not only refs/stash: the older entry too
    assert ("stash", "stash@{0}") in eee  # the untracked-files commit of a stash
    assert "in a stash (stash@{1})" in result.catalog.entries["ddd"].reason


def test_commits_off_every_ref_shown_beside_the_walk_give_the_same_scan(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many unreachable commits (a mirror's pull requests) are shown by a git log that runs beside
    the walk's: the scan is the one a log after the walk gives, down to each sighting's order."""
    from migration_archaeologist.report.json_report import scan_document
    from migration_archaeologist.sources.git import log_ahead

    base_history(repo)
    lost = []
    for n in range(6):  # force-pushed pull requests: each a few commits no ref reaches any more
        repo.git("checkout", "-q", "-b", f"pr{n}", "main")
        for k in range(3):
            rev_id = f"f{n}{k}"
            lost.append(repo.commit(rev_id, {f"{V}/{rev_id}.py": revision_source(rev_id, "bbb", f"pull {n}"),
                                             f"docs/pr{n}.md": f"Revision {rev_id} of pull request {n}.\n"}))
        repo.git("checkout", "-q", "main")
        repo.git("branch", "-q", "-D", f"pr{n}")
    repo.git("reflog", "expire", "--expire=now", "--all")

    def scanned() -> dict:
        doc = scan_document(scan_repository(repo.path, cache=False))
        doc.pop("cache", None)
        return doc

    after = scanned()
    monkeypatch.setattr(log_ahead, "LOG_AHEAD_MIN", 1)
    beside = scanned()
    assert beside == after
    unreachable = {s["commit"] for r in beside["revisions"] for v in r["candidates"] for s in v["sightings"]
                   if s["source"] == "unreachable"}
    assert set(lost) <= unreachable


def test_unreachable_commit_and_dangling_blob(repo: GitRepo) -> None:
    base_history(repo)
    lost = repo.commit("fff", {f"{V}/fff_lost.py": revision_source("fff", "bbb", "lost commit")})
    repo.git("reset", "-q", "--hard", "HEAD~1")
    repo.git("reflog", "expire", "--expire=now", "--all")
    dangling = revision_source("ggg", "bbb", "only ever staged")
    repo.write(f"{V}/ggg.py", dangling)
    repo.git("add", f"{V}/ggg.py")
    repo.git("rm", "-q", "--cached", f"{V}/ggg.py")
    (repo.path / V / "ggg.py").unlink()
    result = scan_repository(repo.path)
    fff = [s for c in result.catalog.entries["fff"].candidates for s in c.sightings]
    assert {(s.source, s.commit) for s in fff} == {("unreachable", lost)}
    ggg = [s for c in result.catalog.entries["ggg"].candidates for s in c.sightings]
    assert [(s.source, s.event, s.path, s.commit) for s in ggg] == [("unreachable", "seen", None, None)]
    assert result.catalog.entries["ggg"].chosen.blob == repo.blob_of(dangling)
    assert "dangling" in result.catalog.entries["ggg"].reason


def test_each_blob_is_read_once(repo: GitRepo) -> None:
    base_history(repo)
    for i in range(5):  # the same content on many branches and paths
        repo.git("branch", f"copy{i}")
    (repo.path / "elsewhere").mkdir()
    repo.git("mv", f"{V}/aaa_base.py", "elsewhere/aaa_base.py")
    repo.commit("move")
    history = GitHistory(open_repository(repo.path))
    scan = history.result()
    py_blobs = set(repo.git("rev-list", "--all", "--objects").split())  # superset; count distinct .py blobs
    distinct = {
        line.split()[0]
        for line in repo.git("rev-list", "--all", "--objects").splitlines()
        if line.endswith(".py")
    }
    assert scan.blobs_read == len(distinct) and py_blobs


def test_not_a_repository_and_empty_repository(tmp_path: Path) -> None:
    with pytest.raises(NotARepository, match="not a git repository"):
        scan_repository(tmp_path)
    GitRepo.init(tmp_path / "empty")
    with pytest.raises(EmptyRepository, match="no commits yet"):
        scan_repository(tmp_path / "empty")


def test_detached_head(repo: GitRepo) -> None:
    base_history(repo)
    first = repo.git("rev-parse", "HEAD~1")
    repo.git("checkout", "-q", "--detach", first)
    result = scan_repository(repo.path, versions=[V])
    assert any("detached" in w for w in result.warnings)
    assert result.catalog.entries["aaa"].present and not result.catalog.entries["bbb"].present
    assert "bbb" in result.catalog.entries and "branch or tag outside HEAD" in result.catalog.entries["bbb"].reason


def test_bare_repository_and_mirror_without_config(repo: GitRepo, tmp_path: Path) -> None:
    base_history(repo)
    repo.commit("cleanup", remove=[f"{V}/bbb_next.py"])
    subprocess.run(["git", "clone", "-q", "--bare", str(repo.path), str(tmp_path / "bare.git")], check=True)
    subprocess.run(["git", "clone", "-q", "--mirror", str(repo.path), str(tmp_path / "mirror")], check=True)
    (tmp_path / "mirror" / "config").unlink()
    for where in (tmp_path / "bare.git", tmp_path / "mirror"):
        result = scan_repository(where)
        assert result.repository.work_tree is None
        assert set(result.catalog.entries) == {"aaa", "bbb"}
        assert not any(e.present for e in result.catalog.entries.values())


def test_shallow_clone_warns_that_history_is_truncated(repo: GitRepo, tmp_path: Path) -> None:
    base_history(repo)
    repo.commit("more", {"app/views.py": "x = 1\n"})
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo.path}", str(clone)], check=True)
    result = scan_repository(clone)
    assert any("shallow clone: history is truncated" in w for w in result.warnings)
    assert {"aaa", "bbb"} <= set(result.catalog.entries)  # the boundary commit's tree is still read


def test_missing_blob_is_listed_and_the_scan_goes_on(repo: GitRepo) -> None:
    base_history(repo)
    repo.commit("ccc", {f"{V}/ccc.py": revision_source("ccc", "bbb", "third")})
    repo.commit("cleanup", remove=[f"{V}/ccc.py"])
    blob = repo.git("rev-parse", f"HEAD~1:{V}/ccc.py")
    loose = repo.path / ".git" / "objects" / blob[:2] / blob[2:]
    loose.unlink()
    result = scan_repository(repo.path)
    assert "ccc" not in result.catalog.entries
    assert {"aaa", "bbb"} <= set(result.catalog.entries)
    assert any(u.blob == blob and u.path == f"{V}/ccc.py" for u in result.unreadable)


def test_binary_and_broken_files_do_not_stop_the_scan(repo: GitRepo) -> None:
    base_history(repo)
    repo.commit(
        "junk",
        {
            f"{V}/broken.py": revision_source("hhh", "bbb", "broken").replace("def upgrade()", "def upgrade("),
            f"{V}/latin.py": b"# no cookie\nrevision = 'iii'\ndown_revision = 'bbb'\n# caf\xe9\n",
            f"{V}/binary.py": b"\x89PNG\r\n\x1a\n\x00\x00revision down_revision",
        },
    )
    result = scan_repository(repo.path, versions=[V])
    kinds = {(p.kind, p.revisions) for p in result.chain.problems}
    assert ("unparseable", ("hhh",)) in kinds and ("unparseable", ("iii",)) in kinds
    messages = " ".join(p.message for p in result.chain.problems)
    assert "syntax error" in messages and "binary" in messages
    assert {"aaa", "bbb"} <= set(result.catalog.entries)


def test_thorough_reads_a_file_turned_into_a_revision_in_place(repo: GitRepo) -> None:
    base_history(repo)
    repo.commit("helper", {"app/helpers.py": "def helper():\n    return 1\n"})
    # someone pastes a revision into an existing application module (never seen in practice)
    repo.commit("paste", {"app/helpers.py": revision_source("ppp", "bbb", "pasted")})
    default = scan_repository(repo.path, versions=[V])
    thorough = scan_repository(repo.path, versions=[V], thorough=True)
    assert "ppp" not in default.catalog.entries and default.skipped_versions == 1
    assert "ppp" in thorough.catalog.entries and thorough.skipped_versions == 0
    # a revision file edited in place at an ordinary path is followed: the path held a revision when added
    repo.commit("moved", {"app/x.py": revision_source("qqq", "bbb", "v1")})
    repo.commit("edit", {"app/x.py": revision_source("qqq", "bbb", "v2")})
    again = scan_repository(repo.path, versions=[V])
    assert len(again.catalog.entries["qqq"].candidates) == 2


def test_missing_tree_is_stepped_over_commit_by_commit(repo: GitRepo) -> None:
    repo.commit("aaa", {f"{V}/aaa_base.py": revision_source("aaa", None, "base")})
    broken = repo.commit("bbb", {f"{V}/bbb_next.py": revision_source("bbb", "aaa", "next")})
    repo.commit("ccc", {f"{V}/ccc.py": revision_source("ccc", "bbb", "third")})
    repo.commit("cleanup", {"NOTES.txt": "cleaned\n"}, remove=[f"{V}/ccc.py"])
    tree = repo.git("rev-parse", f"{broken}^{{tree}}")
    (repo.path / ".git" / "objects" / tree[:2] / tree[2:]).unlink()
    result = scan_repository(repo.path, versions=[V])
    assert {"aaa", "bbb", "ccc"} <= set(result.catalog.entries)  # nothing readable is lost
    assert any(u.commit == broken and "unable to read tree" in u.reason for u in result.unreadable)
    assert len(result.unreadable) == 2  # the broken commit and its child, which diffs against it
    assert any("scanned commit by commit instead" in w for w in result.warnings)
    ccc = result.catalog.entries["ccc"]
    assert any(s.event == "deleted" for c in ccc.candidates for s in c.sightings)


def test_versions_from_other_time_zones_are_ordered_by_instant(repo: GitRepo) -> None:
    repo.commit("a", {f"{V}/aaa_base.py": revision_source("aaa", None, "base")})
    repo.env = {"GIT_AUTHOR_DATE": "2025-10-20T12:00:00+00:00", "GIT_COMMITTER_DATE": "2025-10-20T12:00:00+00:00"}
    repo.commit("v1", {f"{V}/bbb.py": revision_source("bbb", "aaa", "first, London noon")})
    repo.env = {"GIT_AUTHOR_DATE": "2025-10-20T09:00:00-05:00", "GIT_COMMITTER_DATE": "2025-10-20T09:00:00-05:00"}
    repo.commit("v2", {f"{V}/bbb.py": revision_source("bbb", "aaa", "second, New York 9am = 14:00 UTC")})
    repo.env = {}
    repo.commit("gone", remove=[f"{V}/bbb.py"])
    entry = scan_repository(repo.path, versions=[V]).catalog.entries["bbb"]
    assert entry.parsed.message == "second, New York 9am = 14:00 UTC"
    assert all(s.date.endswith("+00:00") for c in entry.candidates for s in c.sightings if s.date)


def test_last_version_before_deletion_wins_over_a_skewed_clock(repo: GitRepo) -> None:
    repo.commit("a", {f"{V}/aaa_base.py": revision_source("aaa", None, "base")})
    repo.env = {"GIT_AUTHOR_DATE": "2025-10-20T12:00:00+00:00", "GIT_COMMITTER_DATE": "2025-10-20T12:00:00+00:00"}
    repo.commit("v1", {f"{V}/bbb.py": revision_source("bbb", "aaa", "first")})
    repo.env = {"GIT_AUTHOR_DATE": "2025-10-01T12:00:00+00:00", "GIT_COMMITTER_DATE": "2025-10-01T12:00:00+00:00"}
    repo.commit("v2 from a laptop with a wrong clock", {f"{V}/bbb.py": revision_source("bbb", "aaa", "second")})
    repo.env = {}
    deleting = repo.commit("gone", remove=[f"{V}/bbb.py"])
    entry = scan_repository(repo.path, versions=[V]).catalog.entries["bbb"]
    assert entry.parsed.message == "second"
    assert entry.reason.startswith(f"last version in HEAD's history, deleted in {deleting[:10]}")


def test_reflog_files_read_directly_match_git_log_walk_reflogs(repo: GitRepo) -> None:
    from migration_archaeologist.sources.git.reflog import reflog_entries as _reflog_entries
    from migration_archaeologist.sources.git.reflog import reflog_entries_from_git as _reflog_entries_from_git

    base_history(repo)
    repo.git("checkout", "-q", "-b", "feature/x")
    repo.commit("on x", {"app/x.py": "x = 1\n"})
    repo.git("checkout", "-q", "main")
    repo.git("branch", "-q", "-D", "feature/x")
    repo.git("branch", "-q", "keep")
    for i in range(3):
        repo.write(f"notes{i}.txt", "wip\n")
        repo.git("add", f"notes{i}.txt")
        repo.git("stash", "push", "-q", "-m", f"wip {i}")
    repo.git("worktree", "add", "-q", str(repo.path.parent / "wt"), "keep")
    opened = open_repository(repo.path)
    direct = sorted(_reflog_entries(opened), key=lambda e: (e.full_selector, e.commit))
    from_git = sorted(_reflog_entries_from_git(opened), key=lambda e: (e.full_selector, e.commit))
    assert direct and direct == from_git
    assert {e.selector for e in direct if e.is_stash} == {"stash@{0}", "stash@{1}", "stash@{2}"}


def test_sha256_repository_scans_and_restores(tmp_path: Path) -> None:
    """A SHA-256 repository (``git init --object-format=sha256``): 64-hex ids everywhere. The lost
    revision is found in history (not "unreachable"), with its path and deletion, the present
    files are the same candidates as their history versions, the history cache reads it back the
    same, and restore writes it byte-identical; never a traceback."""
    from gitfixture import environment_files

    repo = GitRepo.init(tmp_path / "repo", "--object-format=sha256")
    v = "alembic/versions"
    repo.commit("base", {"alembic.ini": "[alembic]\nscript_location = alembic\n", **environment_files(),
                         f"{v}/a_base.py": revision_source("a", None, "base")})
    repo.commit("next", {f"{v}/b_next.py": revision_source("b", "a", "next")})
    repo.commit("last", {f"{v}/c_last.py": revision_source("c", "b", "last")})
    cleanup = repo.commit("cleanup", remove=[f"{v}/b_next.py"])
    assert len(cleanup) == 64
    runs = [ma("scan", str(repo.path), "--json", *extra) for extra in (["--no-cache"], [], [])]
    docs = []
    for proc in runs:
        assert proc.returncode == 1 and proc.stderr == "" and "Traceback" not in proc.stdout, proc.stdout + proc.stderr
        docs.append(json.loads(proc.stdout))
    assert docs[2]["cache"] == "unchanged"
    for doc in docs:
        revisions = {r["revision"]: r for r in doc["revisions"]}
        assert {rev: r["status"] for rev, r in revisions.items()} == {"a": "present", "b": "missing", "c": "present"}
        assert doc["heads"] == ["c"] and doc["unreadable"] == [] and doc["warnings"] == []
        (lost,) = revisions["b"]["candidates"]
        assert lost["blob"] == repo.git("rev-parse", f"{cleanup}~1:{v}/b_next.py")
        assert {(s["source"], s["event"], s["path"]) for s in lost["sightings"]} == {
            ("history", "added", f"{v}/b_next.py"), ("history", "deleted", f"{v}/b_next.py")}
        assert revisions["b"]["retired"] is None and revisions["b"]["reason"].startswith("last version in HEAD's history")
        assert [len(c["candidates"]) for c in revisions.values()] == [1, 1, 1]  # the present file is its history version
    restore = ma("restore", "b", str(repo.path), "--apply")
    assert restore.returncode == 0, restore.stdout + restore.stderr
    assert (repo.path / v / "b_next.py").read_text() == revision_source("b", "a", "next")
    check = ma("check", str(repo.path))
    assert check.returncode == 0 and check.stdout.splitlines()[0] == "ok: 3 revisions, head c", check.stdout
