"""The history cache: a rescan of a repository that only grew reads only what is new, and every
answer is the one a full scan gives. Each step below changes a real repository the way people do
(commits, branches, stashes, amends, resets, deleted refs, gc) and compares the cached scan's JSON
with a scan that ignores the cache."""

from __future__ import annotations

import json
import shutil

import pytest

from conftest import ma
from gitfixture import GitRepo, revision_source
from migration_archaeologist.report.json_report import scan_document
from migration_archaeologist.chain.scan import scan_repository
from migration_archaeologist.sources.git.cache import cache_path
from migration_archaeologist.sources.interface import git_blob_id
from migration_archaeologist.sources.git.repository import open_repository

V = "alembic/versions"


def rev(repo: GitRepo, rev_id: str, down: str | None, message: str = "change") -> dict[str, str]:
    return {f"{V}/{rev_id}_{message.replace(' ', '_')}.py": revision_source(rev_id, down, message)}


def both(repo: GitRepo) -> tuple[str, dict, dict]:
    """(cache status, cached scan's document, full scan's document), documents without the cache field."""
    cached = scan_repository(repo.path, versions=[V])
    full = scan_repository(repo.path, versions=[V], cache=False)
    assert full.cache == "off"
    docs = []
    for result in (cached, full):
        doc = scan_document(result)
        doc.pop("cache")
        docs.append(doc)
    return cached.cache, docs[0], docs[1]


def same_as_full(repo: GitRepo, expected_status: str) -> dict:
    status, cached, full = both(repo)
    assert status.split(":")[0] == expected_status, status
    for key in full:
        assert cached[key] == full[key], key
    return cached


def sources_of(doc: dict, rev_id: str) -> set[str]:
    entry = next(r for r in doc["revisions"] if r["revision"] == rev_id)
    return {s["source"] for c in entry["candidates"] for s in c["sightings"]}


@pytest.fixture
def grown(repo: GitRepo) -> GitRepo:
    repo.commit("base", rev(repo, "aaaaaaaaaaa1", None, "base"))
    repo.commit("second", rev(repo, "aaaaaaaaaaa2", "aaaaaaaaaaa1", "second"))
    return repo


def test_every_way_a_repository_grows_is_followed_and_matches_a_full_scan(grown: GitRepo) -> None:
    repo = grown
    same_as_full(repo, "new")
    assert cache_path(open_repository(repo.path)).is_file()
    same_as_full(repo, "unchanged")

    repo.commit("third", rev(repo, "aaaaaaaaaaa3", "aaaaaaaaaaa2", "third"))
    assert both(repo)[0] == "updated: 1 new commit(s) read"
    same_as_full(repo, "unchanged")

    # a branch with its own revision, and a merge back
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("feature work", rev(repo, "bbbbbbbbbbb1", "aaaaaaaaaaa3", "feature"))
    repo.git("checkout", "-q", "main")
    doc = same_as_full(repo, "updated")
    # the branch's revision is read (by the update as by a full scan); the heads are check's, of main
    assert "bbbbbbbbbbb1" in {r["revision"] for r in doc["revisions"]} and doc["heads"] == ["aaaaaaaaaaa3"]
    repo.git("merge", "-q", "--no-ff", "feature", "-m", "merge feature")
    same_as_full(repo, "updated")

    # a stash holding a revision nobody committed
    repo.write(f"{V}/ccccccccccc1_stashed.py", revision_source("ccccccccccc1", "bbbbbbbbbbb1", "stashed"))
    repo.git("add", V)
    repo.git("stash", "push", "-q", "-m", "wip")
    doc = same_as_full(repo, "updated")
    assert sources_of(doc, "ccccccccccc1") == {"stash"}

    # an amended commit: its first version lives on in the reflog only
    repo.commit("fourth", rev(repo, "ddddddddddd1", "bbbbbbbbbbb1", "fourth"))
    repo.write(f"{V}/ddddddddddd1_fourth.py", revision_source("ddddddddddd1", "bbbbbbbbbbb1", "fourth amended"))
    first = repo.git("rev-parse", "HEAD")
    same_as_full(repo, "updated")  # the cache knows the first version as history, then it is amended
    repo.git("commit", "-q", "-a", "--amend", "-m", "fourth, amended")
    doc = same_as_full(repo, "updated")
    entry = next(r for r in doc["revisions"] if r["revision"] == "ddddddddddd1")
    assert {s["source"] for c in entry["candidates"] for s in c["sightings"] if s["commit"] == first} == {"reflog"}
    # a reset away: the amended commit is reflog-only now
    repo.git("reset", "-q", "--hard", "HEAD~1")
    doc = same_as_full(repo, "updated")
    assert sources_of(doc, "ddddddddddd1") == {"reflog"}
    # a branch made to rescue it: history again (no new object, only a new ref)
    repo.git("branch", "rescue", "HEAD@{1}")
    assert "history" in sources_of(same_as_full(repo, "updated"), "ddddddddddd1")
    repo.git("branch", "-D", "rescue")
    assert sources_of(same_as_full(repo, "rebuilt"), "ddddddddddd1") == {"reflog"}

    # a ref without a reflog (as refs/pull/* are), then deleted: its commit becomes unreachable
    blob = repo.git("hash-object", "-w", "--stdin", input=revision_source("eeeeeeeeeee1", "aaaaaaaaaaa3", "pr"))
    pr_tree = repo.git("mktree", input=f"100644 blob {blob}\teeeeeeeeeee1_pr.py\n")
    pr = repo.git("commit-tree", pr_tree, "-p", "HEAD", "-m", "pull request")
    repo.git("update-ref", "refs/pull/1/head", pr)
    assert sources_of(same_as_full(repo, "updated"), "eeeeeeeeeee1") == {"history"}
    repo.git("update-ref", "-d", "refs/pull/1/head")
    assert sources_of(same_as_full(repo, "updated"), "eeeeeeeeeee1") == {"unreachable"}

    # a dangling blob (git add, then the file dropped) and a commit nothing points at
    repo.git("hash-object", "-w", "--stdin", input=revision_source("fffffffffff1", "aaaaaaaaaaa3", "dangling"))
    orphan_blob = repo.git("hash-object", "-w", "--stdin", input=revision_source("fffffffffff2", None, "orphan"))
    orphan_tree = repo.git("mktree", input=f"100644 blob {orphan_blob}\tfffffffffff2_orphan.py\n")
    repo.git("commit-tree", orphan_tree, "-m", "orphan")
    doc = same_as_full(repo, "updated")
    assert sources_of(doc, "fffffffffff1") == {"unreachable"}
    assert sources_of(doc, "fffffffffff2") == {"unreachable"}

    # a deletion from HEAD: the revision is missing now
    repo.commit("drop third", remove=[f"{V}/aaaaaaaaaaa3_third.py"])
    doc = same_as_full(repo, "updated")
    assert "aaaaaaaaaaa3" in doc["missing"]
    same_as_full(repo, "unchanged")


def deleted_by(doc: dict, rev_id: str) -> list[str]:
    entry = next(r for r in doc["revisions"] if r["revision"] == rev_id)
    return [s["commit"] for c in entry["candidates"] for s in c["sightings"] if s["event"] == "deleted"]


def test_an_update_names_the_commit_that_deleted_what_a_new_merge_carries_in(grown: GitRepo) -> None:
    repo = grown
    repo.commit("third", rev(repo, "aaaaaaaaaaa3", "aaaaaaaaaaa2", "third"))
    same_as_full(repo, "new")
    repo.git("checkout", "-q", "-b", "feature")
    deleting = repo.commit("drop second on the branch", remove=[f"{V}/aaaaaaaaaaa2_second.py"])
    repo.git("checkout", "-q", "main")
    repo.commit("main work", {"app.py": "x = 1\n"})
    assert deleted_by(same_as_full(repo, "updated"), "aaaaaaaaaaa2") == [deleting]  # on the branch
    # the merge is new; the commit that deleted the file was read by the stored scan
    repo.git("merge", "-q", "--no-ff", "feature", "-m", "merge feature")
    doc = same_as_full(repo, "updated")
    assert deleted_by(doc, "aaaaaaaaaaa2") == [deleting]
    assert "aaaaaaaaaaa2" in doc["missing"]
    # and a merge that resolves a conflict by deleting the file is the commit that deleted it
    repo.git("checkout", "-q", "-b", "other", "HEAD~1")
    third = f"{V}/aaaaaaaaaaa3_third.py"
    repo.commit("third on other", {third: revision_source("aaaaaaaaaaa3", "aaaaaaaaaaa2", "third, other")})
    repo.git("checkout", "-q", "main")
    repo.commit("third on main", {third: revision_source("aaaaaaaaaaa3", "aaaaaaaaaaa2", "third, main")})
    repo.git("merge", "-q", "--no-ff", "other", "-m", "merge other", check=False)
    repo.git("rm", "-q", third)
    repo.git("commit", "-q", "-m", "merge other, without third")
    merge = repo.git("rev-parse", "HEAD")
    doc = same_as_full(repo, "updated")
    assert set(deleted_by(doc, "aaaaaaaaaaa3")) == {merge}
    same_as_full(repo, "unchanged")


def test_rewritten_history_is_scanned_again_in_full(grown: GitRepo) -> None:
    repo = grown
    repo.write(f"{V}/ccccccccccc1_stashed.py", revision_source("ccccccccccc1", "aaaaaaaaaaa2", "stashed"))
    repo.git("add", V)
    repo.git("stash", "push", "-q")
    same_as_full(repo, "new")
    # dropping a stash rewrites its reflog: entries went away, and with them what only they held
    repo.git("stash", "drop", "-q")
    doc = same_as_full(repo, "rebuilt")
    assert sources_of(doc, "ccccccccccc1") == {"stash"}  # a dropped stash, still in the object database
    # gc packs and prunes objects: the loose objects the cache knew are gone
    repo.git("gc", "-q", "--prune=now")
    same_as_full(repo, "rebuilt")
    repo.commit("after gc", rev(repo, "aaaaaaaaaaa3", "aaaaaaaaaaa2", "after gc"))
    same_as_full(repo, "updated")


def test_a_cache_that_does_not_read_back_is_ignored_and_replaced(grown: GitRepo) -> None:
    repo = grown
    same_as_full(repo, "new")
    path = cache_path(open_repository(repo.path))
    path.write_bytes(path.read_bytes()[:100])  # torn
    same_as_full(repo, "new")
    path.write_text('{"format": 1, "tool": "0.1.0", "thorough": false, "state": {"head": 1}}')  # hand-edited
    same_as_full(repo, "new")
    same_as_full(repo, "unchanged")
    # --thorough reads more than the stored scan did: it is not taken for one
    assert scan_repository(repo.path, versions=[V], thorough=True).cache == "new"


def test_deleting_the_cache_is_safe_and_an_unwritable_git_dir_only_costs_speed(grown: GitRepo) -> None:
    repo = grown
    same_as_full(repo, "new")
    folder = cache_path(open_repository(repo.path)).parent
    shutil.rmtree(folder)
    same_as_full(repo, "new")
    # where the cache cannot be written (here a file stands in the way; as root, modes do not stop writes)
    shutil.rmtree(folder)
    folder.write_text("not a folder")
    same_as_full(repo, "new")
    same_as_full(repo, "new")
    assert folder.read_text() == "not a folder"


def test_the_command_line_says_what_the_cache_did_and_no_cache_leaves_none(grown: GitRepo) -> None:
    repo = grown
    first = ma("scan", str(repo.path), "--no-cache", "--json")
    assert json.loads(first.stdout)["cache"] == "off"
    assert not (repo.path / ".git" / "migration-archaeologist").exists()
    ma("scan", str(repo.path))
    again = ma("scan", str(repo.path))
    assert again.returncode == 0, again.stderr
    assert "nothing changed since the last scan: read from the history cache" in again.stdout
    assert json.loads(ma("scan", str(repo.path), "--json").stdout)["cache"] == "unchanged"
    # pyproject can turn it off for everyone
    repo.commit("settings", {"pyproject.toml": "[tool.migration-archaeologist]\ncache = false\n"})
    assert json.loads(ma("scan", str(repo.path), "--json").stdout)["cache"] == "off"
    assert json.loads(ma("scan", str(repo.path), "--json", "--cache").stdout)["cache"].startswith("updated")


def test_the_cache_is_plain_json_naming_each_parsed_blob_whose_bytes_git_gives_back(grown: GitRepo) -> None:
    repo = grown
    same_as_full(repo, "new")
    data = cache_path(open_repository(repo.path)).read_bytes()
    doc = json.loads(data)
    assert doc["thorough"] is False and doc["tool"]
    # sizes for every parsed blob; the bytes themselves stay in git (only rebuilt bytecode is kept)
    assert set(doc["scan"]["parsed"]) == set(doc["scan"]["sizes"]) and doc["scan"]["contents"] == {}
    # a restore from the cached scan reads them back from git, byte for byte
    result = scan_repository(repo.path, versions=[V])
    assert result.cache == "unchanged"
    for blob, size in doc["scan"]["sizes"].items():
        content = result.catalog.content(blob)
        assert len(content) == size and git_blob_id(content) == blob


def found_in(repo: GitRepo, rev_id: str, *options: str) -> tuple[set[tuple[str, str | None]], str]:
    """What scan --json says held a revision, and the "found in" cell of its row in scan's table."""
    doc = json.loads(ma("scan", str(repo.path), "--json", *options).stdout)
    entry = next(r for r in doc["revisions"] if r["revision"] == rev_id)
    table = ma("scan", str(repo.path), *options).stdout
    row = next(line for line in table.splitlines() if line.startswith(f"│ {rev_id} "))
    return {(s["source"], s["ref"]) for c in entry["candidates"] for s in c["sightings"]}, row.split("│")[4].strip()


@pytest.mark.parametrize("cache", ["--no-cache", "--cache"])
@pytest.mark.parametrize("how", ["reflog expire", "reflog delete", "stash drop"])
def test_a_stash_out_of_its_reflog_is_still_called_a_stash(grown: GitRepo, how: str, cache: str) -> None:
    """A stash whose reflog entry expired was labelled history (refs/stash still names it) or, dropped,
    unreachable: it is a stash, with refs/stash where that still names it."""
    repo = grown
    repo.write(f"{V}/ccccccccccc1_stashed.py", revision_source("ccccccccccc1", "aaaaaaaaaaa2", "stashed"))
    repo.git("add", V)
    repo.git("stash", "push", "-q")
    assert found_in(repo, "ccccccccccc1", cache) == ({("stash", "stash@{0}")}, "stash@{0}")
    if how == "reflog expire":
        repo.git("reflog", "expire", "--expire=now", "--expire-unreachable=now", "--all")
    elif how == "reflog delete":
        repo.git("reflog", "delete", "refs/stash@{0}")
    else:
        repo.git("stash", "drop", "-q")
    assert repo.git("cat-file", "-t", "HEAD") == "commit"
    if how == "stash drop":
        assert repo.git("stash", "list") == "" and "refs/stash" not in repo.git("show-ref")
        expected = ({("stash", None)}, "dropped stash")
    else:
        assert repo.git("stash", "list") == "" and "refs/stash" in repo.git("show-ref")
        expected = ({("stash", "refs/stash")}, "refs/stash")
    for _ in range(2):  # the cache built, then read back
        assert found_in(repo, "ccccccccccc1", cache) == expected
    repo.commit("more", rev(repo, "aaaaaaaaaaa3", "aaaaaaaaaaa2", "more"))
    assert found_in(repo, "ccccccccccc1", cache) == expected  # and updated
