"""Tests for benchmarks/make_history.py (the synthetic history generator)."""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from alembic.script.revision import Revision, RevisionMap

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "make_history.py"
COMMITS, REVISIONS, REFS = 300, 20, 30
VERSIONS, ARCHIVE = "app/alembic/versions/", "archive/old_migrations/"
LICENSE = "Licensed under the Apache License, Version 2.0"
HEX12 = re.compile(r"(?<![0-9a-f])[0-9a-f]{12}(?![0-9a-f])")
ZERO = "0" * 40
REFLOG_LINE = re.compile(r"^([0-9a-f]{40}) ([0-9a-f]{40}) Bench Author <bench@example\.com> (\d+) \+0000\t(.+)$")
REV_HEADER = re.compile(
    r"^revision(?:: str)? = '([0-9a-f]{12})'\n"
    r"^down_revision[^=]*= (.+)\n^branch_labels[^=]*= (.+)\n^depends_on[^=]*= (.+)$", re.M)
REVISION_ID = re.compile(rb"^revision(?:: str)? = '([0-9a-f]{12})'$", re.M)


def git(repo: Path, *args: str, stdin: str | None = None) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], input=stdin, check=True,
                          capture_output=True, text=True).stdout


def make(dest: Path, seed: int = 1, commits: int = COMMITS, revisions: int = REVISIONS, *extra: str) -> dict:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), str(dest), "--commits", str(commits), "--revisions",
         str(revisions), "--refs", str(REFS), "--seed", str(seed), "--json", *extra],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def cat_batch(repo: Path, names: list[str]) -> dict[str, bytes]:
    """Contents of objects (``git cat-file --batch``), keyed by the name asked for."""
    out = subprocess.run(["git", "-C", str(repo), "cat-file", "--batch"], check=True,
                         input="".join(f"{n}\n" for n in names).encode(), capture_output=True).stdout
    result, pos = {}, 0
    for name in names:
        end = out.index(b"\n", pos)
        header = out[pos:end].split()
        if header[-1] == b"missing":
            pos = end + 1
            continue
        size = int(header[2])
        result[name] = out[end + 1:end + 1 + size]
        pos = end + 1 + size + 1
    return result


def objects(repo: Path, *revs: str) -> set[str]:
    """Every object reachable from ``revs`` (commits, trees, blobs)."""
    return {line.split(" ", 1)[0] for line in rev_list_objects(repo, revs).splitlines()}


def rev_list_objects(repo: Path, revs: list[str] | tuple[str, ...]) -> str:
    """``git rev-list --objects``: options on the command line, commit ids on stdin."""
    opts = [r for r in revs if r.startswith("--")]
    ids = [r for r in revs if not r.startswith("--")]
    if not opts and not ids:
        return ""
    return git(repo, "rev-list", "--objects", *opts, "--stdin", stdin="".join(f"{i}\n" for i in ids))


def fsck(repo: Path, *args: str) -> list[tuple[str, str, str]]:
    """``git fsck`` lines as (kind, type, sha), e.g. ('unreachable', 'commit', ...)."""
    out = subprocess.run(["git", "-C", str(repo), "fsck", *args], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return [tuple(line.split()) for line in out.stdout.splitlines()]  # type: ignore[misc]


def reflog(repo: Path, ref: str) -> list[tuple[str, str, int, str]]:
    """The reflog file of ``ref``, oldest first, every line checked against git's format."""
    lines = (repo / ".git" / "logs" / ref).read_text().splitlines()
    entries = []
    for line in lines:
        m = REFLOG_LINE.match(line)
        assert m, line
        entries.append((m[1], m[2], int(m[3]), m[4]))
    return entries


def revisions_in(repo: Path, revs: list[str]) -> dict[str, tuple]:
    """Revision header values (down, labels, depends) of revision files reachable from ``revs``."""
    out = rev_list_objects(repo, revs)
    blobs = [line.split(" ", 1)[0] for line in out.splitlines()
             if line.endswith(".py") and (VERSIONS in line or ARCHIVE in line)]
    text = "".join(data.decode() for data in cat_batch(repo, blobs).values())
    return {m[1]: tuple(ast.literal_eval(g) for g in m.groups()[1:]) for m in REV_HEADER.finditer(text)}


def as_tuple(value: str | tuple | None) -> tuple:
    return () if value is None else (value,) if isinstance(value, str) else tuple(value)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    dest = tmp_path_factory.mktemp("history") / "repo"
    return dest, make(dest)


@pytest.fixture(scope="module")
def graph(repo: tuple[Path, dict]) -> dict[str, tuple]:
    """Revisions reachable from branches, tags and pull/remote refs (not refs/stash)."""
    path, _ = repo
    return revisions_in(path, ["--exclude=refs/stash", "--all"])


def test_commit_and_ref_counts(repo: tuple[Path, dict]) -> None:
    path, summary = repo
    assert int(git(path, "rev-list", "--all", "--count")) == COMMITS
    assert summary["commits"] == COMMITS
    refs = git(path, "for-each-ref", "--format=%(refname)").splitlines()
    assert len(refs) == summary["refs"]
    extra = [r for r in refs if r.startswith(("refs/pull/", "refs/remotes/origin/feature-"))]
    assert len(extra) == REFS
    assert any(r.startswith("refs/pull/") and r.endswith("/head") for r in extra)
    assert any(r.startswith("refs/remotes/origin/feature-") for r in extra)
    assert any(r.startswith("refs/tags/") for r in refs)
    assert any(r.startswith("refs/heads/feature/") for r in refs)
    assert "refs/stash" in refs
    assert git(path, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert int(git(path, "rev-list", "--all", "--merges", "--count")) > 0
    git(path, "fsck", "--no-dangling")


def test_extra_commit_counts(repo: tuple[Path, dict]) -> None:
    path, s = repo
    assert s["stashes"] >= 3 and s["reflog_only_commits"] >= 2 and s["unreachable_commits"] >= 3
    assert s["dangling_blobs"] >= 3
    top = len(git(path, "rev-list", "refs/stash", "--not", "--exclude=refs/stash", "--all").split())
    assert top in (2, 3)
    assert s["extra_commits"] == s["stash_commits"] - top + s["reflog_only_commits"] + s["unreachable_commits"]
    types = git(path, "cat-file", "--batch-all-objects", "--batch-check=%(objecttype)").split()
    assert types.count("commit") == COMMITS + s["extra_commits"]
    with_reflogs = int(git(path, "rev-list", "--all", "--reflog", "--count"))
    assert with_reflogs == COMMITS + s["stash_commits"] - top + s["reflog_only_commits"]
    # repacked into one pack, hidden objects included
    counts = dict(line.split(": ") for line in git(path, "count-objects", "-v").splitlines())
    assert counts["count"] == "0" and counts["packs"] == "1"


def test_revision_files_moved_and_deleted(repo: tuple[Path, dict]) -> None:
    path, _ = repo
    log = git(path, "log", "--exclude=refs/stash", "--all", "--no-renames", "--name-status", "--format=")
    entries = [line.split("\t") for line in log.splitlines() if line]
    added = {p for s, p in entries if s == "A" and p.startswith(VERSIONS)}
    assert len(added) == REVISIONS
    archived = {p.rsplit("/", 1)[1] for s, p in entries if s == "A" and p.startswith(ARCHIVE)}
    removed = {p.rsplit("/", 1)[1] for s, p in entries if s == "D" and p.startswith(VERSIONS)}
    assert archived and archived <= removed            # moves are delete + add
    assert removed - archived                          # some deleted for good
    assert any(s == "M" and p.startswith(VERSIONS) for s, p in entries)
    assert any(p.endswith((".md", ".json", ".txt")) for _, p in entries)
    assert len({p for _, p in entries if p.endswith(".py") and not p.startswith((VERSIONS, ARCHIVE))}) > 150


def test_revision_chain(repo: tuple[Path, dict], graph: dict[str, tuple]) -> None:
    path, summary = repo
    objs = git(path, "rev-list", "--exclude=refs/stash", "--all", "--objects")
    blobs = "\n".join(line.split(" ", 1)[0] for line in objs.splitlines()
                      if line.endswith(".py") and (VERSIONS in line or ARCHIVE in line))
    text = git(path, "cat-file", "--batch", stdin=blobs + "\n")
    assert "Revision ID: " in text and "Revises: " in text and "Create Date: " in text
    assert "def upgrade(" in text and "op.add_column(" in text
    downs = {rev: as_tuple(down) for rev, (down, _, _) in graph.items()}
    assert len(downs) == REVISIONS == summary["revisions"]
    assert all(parent in downs for parents in downs.values() for parent in parents)
    assert sum(not parents for parents in downs.values()) == 1          # one root
    assert any(len(parents) == 2 for parents in downs.values())        # merge revision


def test_branch_labels_and_depends_on(repo: tuple[Path, dict], graph: dict[str, tuple]) -> None:
    _, summary = repo
    labelled = {rev: labels for rev, (_, labels, _) in graph.items() if labels is not None}
    depends = {rev: as_tuple(dep) for rev, (_, _, dep) in graph.items() if dep is not None}
    assert len(labelled) == summary["branch_labels"] >= 2
    assert len(depends) == summary["depends_on"] >= 2
    assert any(isinstance(v, tuple) for v in labelled.values())
    assert any(isinstance(v, str) for v in labelled.values())
    names = [name for v in labelled.values() for name in as_tuple(v)]
    assert len(names) == len(set(names))                               # each label used once
    children: dict[str, int] = {}
    for down, _, _ in graph.values():
        for parent in as_tuple(down):
            children[parent] = children.get(parent, 0) + 1
    for rev in labelled:                        # a label starts a new branch
        (parent,) = as_tuple(graph[rev][0])
        assert children[parent] >= 2

    def ancestors(rev: str) -> set[str]:
        seen, todo = set(), list(as_tuple(graph[rev][0]))
        while todo:
            r = todo.pop()
            if r not in seen:
                seen.add(r)
                todo.extend(as_tuple(graph[r][0]))
        return seen

    for rev, targets in depends.items():        # an existing revision on another branch
        assert targets and all(t in graph and t not in ancestors(rev) for t in targets)

    # Alembic loads the whole graph, labels and dependencies included.
    rmap = RevisionMap(lambda: [Revision(rev, down, dependencies=dep, branch_labels=labels)
                                for rev, (down, labels, dep) in graph.items()])
    assert rmap.heads
    for rev, labels in labelled.items():
        assert rmap.get_revision(as_tuple(labels)[0]).revision == rev
    assert len(list(rmap.iterate_revisions(rmap.heads, "base"))) == REVISIONS


def test_depends_on_targets_in_every_tree(repo: tuple[Path, dict], graph: dict[str, tuple]) -> None:
    """Wherever a revision with depends_on is in the versions folder, its target is too."""
    path, _ = repo
    depends = {rev: as_tuple(dep) for rev, (_, _, dep) in graph.items() if dep is not None}
    commits = git(path, "rev-list", "--exclude=refs/stash", "--all").split()
    trees = cat_batch(path, [f"{c}:{VERSIONS.rstrip('/')}" for c in commits])
    checked = 0
    for data in trees.values():
        present = set(m.decode() for m in re.findall(rb" ([0-9a-f]{12})_[^\0]*\.py\0", data))
        for rev in present & depends.keys():
            assert set(depends[rev]) <= present
            checked += 1
    assert checked


def test_stashes(repo: tuple[Path, dict]) -> None:
    path, s = repo
    listed = git(path, "stash", "list").splitlines()
    assert len(listed) == s["stashes"] >= 3
    assert all(re.match(r"stash@\{\d+\}: (WIP on main: [0-9a-f]{7} |On main: )", line) for line in listed)
    shown = git(path, "reflog", "show", "--format=%H", "refs/stash").split()
    assert len(shown) == s["stashes"]
    entries = reflog(path, "refs/stash")
    assert [e[1] for e in reversed(entries)] == shown
    assert entries[0][0] == ZERO
    assert all(a[1] == b[0] and a[2] <= b[2] for a, b in zip(entries, entries[1:]))
    assert git(path, "rev-parse", "refs/stash").strip() == entries[-1][1]
    main = git(path, "rev-parse", "main").strip()
    total = 0
    parent_counts = []
    for i, w in enumerate(shown):
        parents = git(path, "rev-list", "--parents", "-n1", w).split()[1:]
        parent_counts.append(len(parents))
        base, index = parents[:2]
        assert git(path, "rev-list", "--parents", "-n1", index).split()[1:] == [base]
        assert git(path, "log", "-1", "--format=%s", index).startswith("index on main: ")
        subprocess.run(["git", "-C", str(path), "merge-base", "--is-ancestor", base, main], check=True)
        if len(parents) == 3:       # git stash -u: a parentless commit of the untracked files
            assert git(path, "rev-list", "--parents", "-n1", parents[2]).split()[1:] == []
            assert git(path, "log", "-1", "--format=%s", parents[2]).startswith("untracked files on main: ")
        git(path, "stash", "show", "--include-untracked", "-p", f"stash@{{{i}}}")
        total += len(parents)       # W, I (and U)
    assert set(parent_counts) == {2, 3}
    assert total == s["stash_commits"]


def test_head_reflog(repo: tuple[Path, dict]) -> None:
    path, s = repo
    for ref in ("HEAD", "refs/heads/main"):
        entries = reflog(path, ref)
        assert entries[0][0] == ZERO and entries[0][3].startswith("clone: from ")
        assert all(a[1] == b[0] and a[2] <= b[2] for a, b in zip(entries, entries[1:]))
        assert entries[-1][1] == git(path, "rev-parse", "HEAD").strip()
        messages = " | ".join(e[3] for e in entries)
        assert "commit (amend): " in messages and "reset: moving to HEAD~" in messages
        assert "pull: Fast-forward" in messages and "commit: " in messages
    head = reflog(path, "HEAD")
    assert len(head) == s["head_reflog_entries"]
    assert len(git(path, "reflog", "--format=%H").split()) == len(head)


def test_reflog_only_commits(repo: tuple[Path, dict]) -> None:
    path, s = repo
    reachable = set(git(path, "rev-list", "--all").split())
    for ref in ("HEAD", "main"):
        named = set(git(path, "reflog", "show", "--format=%H", ref).split())
        assert len(named - reachable) == s["reflog_only_commits"]
    # the stash reflog adds its older entries' commits; the rest is what fsck calls unreachable
    no_reflogs = {sha for kind, typ, sha in fsck(path, "--unreachable", "--no-reflogs") if typ == "commit"}
    assert len(no_reflogs) == s["extra_commits"]


def test_unreachable_commits_and_dangling_blobs(repo: tuple[Path, dict]) -> None:
    path, s = repo
    lines = fsck(path, "--unreachable")
    unreachable = [sha for kind, typ, sha in lines if typ == "commit"]
    assert len(unreachable) == s["unreachable_commits"]
    dangling = [sha for kind, typ, sha in fsck(path) if kind == "dangling" and typ == "blob"]
    assert len(dangling) == s["dangling_blobs"]
    named = set(git(path, "reflog", "--format=%H").split()) | set(git(path, "rev-list", "--all").split())
    assert not named & set(unreachable)
    # a dropped stash is among them
    subjects = git(path, "log", "--no-walk", "--format=%s", *unreachable).splitlines()
    assert any(line.startswith(("WIP on main: ", "On main: ")) for line in subjects)


def test_hidden_revisions_exist_only_there(repo: tuple[Path, dict]) -> None:
    """Each revision listed as stash/reflog/unreachable/dangling-only is in no other place."""
    path, s = repo
    kinds = git(path, "cat-file", "--batch-all-objects", "--batch-check=%(objectname) %(objecttype)")
    blobs = [line.split()[0] for line in kinds.splitlines() if line.endswith(" blob")]
    where: dict[str, set[str]] = {}
    for sha, data in cat_batch(path, blobs).items():
        for rid in REVISION_ID.findall(data):
            where.setdefault(rid.decode(), set()).add(sha)
    refs = objects(path, "--exclude=refs/stash", "--all")
    stash = objects(path, *git(path, "reflog", "show", "--format=%H", "refs/stash").split())
    logged = objects(path, *git(path, "reflog", "show", "--format=%H", "HEAD").split(),
                     *git(path, "reflog", "show", "--format=%H", "main").split())
    unreachable = {sha for _, _, sha in fsck(path, "--unreachable")}
    dangling = {sha for kind, typ, sha in fsck(path) if kind == "dangling" and typ == "blob"}
    places = {"stash": stash, "reflog": logged, "unreachable": unreachable - dangling, "dangling": dangling}
    keys = {"stash": "stash_only_revisions", "reflog": "reflog_only_revisions",
            "unreachable": "unreachable_only_revisions", "dangling": "dangling_blob_revisions"}
    hidden: set[str] = set()
    for place, key in keys.items():
        assert s[key], key
        for rid in s[key]:
            found = where[rid]
            assert found <= places[place], (key, rid)
            others = refs.union(*(v for k, v in places.items() if k != place))
            assert not found & others, (key, rid)
            hidden.add(rid)
    assert len(where) == s["revisions"] + len(hidden)
    assert {rid for rid, found in where.items() if found & refs} == set(where) - hidden


def test_hidden_objects_survive_gc(repo: tuple[Path, dict], tmp_path: Path) -> None:
    path, s = repo
    copy = tmp_path / "copy"
    shutil.copytree(path, copy)
    git(copy, "gc", "--quiet")
    assert len(git(copy, "stash", "list").splitlines()) == s["stashes"]
    assert len(reflog(copy, "HEAD")) == s["head_reflog_entries"]
    assert len([1 for _, typ, _ in fsck(copy, "--unreachable", "--no-reflogs") if typ == "commit"]) \
        == s["extra_commits"]
    assert len([1 for kind, typ, _ in fsck(copy) if kind == "dangling" and typ == "blob"]) == s["dangling_blobs"]


def test_deterministic(repo: tuple[Path, dict], tmp_path: Path) -> None:
    path, summary = repo
    again = make(tmp_path / "again")
    assert again["head"] == summary["head"] == git(path, "rev-parse", "HEAD").strip()
    assert {k: v for k, v in again.items() if k not in ("dest", "seconds")} == \
        {k: v for k, v in summary.items() if k not in ("dest", "seconds")}
    assert git(tmp_path / "again", "for-each-ref") == git(path, "for-each-ref")
    for log in ("HEAD", "refs/heads/main", "refs/stash"):
        assert (tmp_path / "again" / ".git" / "logs" / log).read_text() == \
            (path / ".git" / "logs" / log).read_text()
    assert sorted(fsck(tmp_path / "again", "--unreachable", "--no-reflogs")) == \
        sorted(fsck(path, "--unreachable", "--no-reflogs"))
    other = make(tmp_path / "other", seed=2)
    assert other["head"] != summary["head"]


@pytest.mark.parametrize("commits, revisions", [(1, 0), (5, 3), (60, 0), (60, 10)])
def test_small_sizes(tmp_path: Path, commits: int, revisions: int) -> None:
    dest = tmp_path / "small"
    s = make(dest, commits=commits, revisions=revisions)
    assert int(git(dest, "rev-list", "--all", "--count")) == commits == s["commits"]
    assert reflog(dest, "HEAD")[0][0] == ZERO
    assert len(git(dest, "stash", "list").splitlines()) == s["stashes"]
    types = git(dest, "cat-file", "--batch-all-objects", "--batch-check=%(objecttype)").split()
    assert types.count("commit") == commits + s["extra_commits"]
    git(dest, "fsck", "--no-dangling")
    if commits < 50:
        assert s["extra_commits"] == s["stashes"] == s["dangling_blobs"] == 0
    else:
        assert s["stashes"] >= 3 and s["unreachable_commits"] and s["dangling_blobs"] >= 3


def long_lived(path: Path) -> dict[str, list[str]]:
    """Each long-lived branch's own first-parent commits (newest first), down to where it forked."""
    on_main = set(git(path, "rev-list", "--first-parent", "main").split())
    heads = git(path, "for-each-ref", "--format=%(refname:short)", "refs/heads").split()
    out = {}
    for name in heads:
        if name == "main" or name.startswith(("feature/", "release/")):
            continue
        own = []
        for sha in git(path, "rev-list", "--first-parent", name).split():
            if sha in on_main:
                break
            own.append(sha)
        out[name] = own
    return out


def parents(path: Path, sha: str) -> list[str]:
    return git(path, "rev-list", "--parents", "-n1", sha).split()[1:]


def test_merge_share(repo: tuple[Path, dict]) -> None:
    """About a fifth of the commits are merges (the median of the real repositories measured)."""
    path, s = repo
    merges = int(git(path, "rev-list", "--all", "--merges", "--count"))
    assert merges == s["merges"]
    assert 0.15 * COMMITS <= merges <= 0.25 * COMMITS
    # two parents each, but for git stash -u's W commit
    assert git(path, "rev-list", "--exclude=refs/stash", "--all", "--min-parents=3") == ""
    pull = git(path, "for-each-ref", "--format=%(refname)", "refs/pull").split()
    assert pull and all(re.fullmatch(r"refs/pull/\d+/head", ref) for ref in pull)


def test_long_lived_branches(repo: tuple[Path, dict]) -> None:
    """Long-lived branches: own commits, merged into main again and again, main merged into them."""
    path, s = repo
    branches = long_lived(path)
    assert set(branches) == {"develop", "stable/1.x"} and s["long_lived_branches"] == 2
    own = [sha for shas in branches.values() for sha in shas]
    commits = [sha for sha in own if len(parents(path, sha)) == 1]
    assert len(commits) == s["long_lived_commits"] >= 10
    syncs = 0
    for name, shas in branches.items():
        for sha in shas:
            ps = parents(path, sha)
            if len(ps) == 2:        # a sync: main's commit as second parent
                assert git(path, "log", "-1", "--format=%s", sha).strip() == f"Merge branch 'main' into {name}"
                assert git(path, "merge-base", "--is-ancestor", ps[1], "main") == ""
                syncs += 1
    assert syncs == s["sync_merges"] >= 1
    merged = Counter()
    for line in git(path, "log", "--first-parent", "--merges", "--format=%H %s", "main").splitlines():
        sha, subject = line.split(" ", 1)
        m = re.fullmatch(r"Merge branch '(.+)'", subject)
        if m:
            assert m[1] in branches
            assert parents(path, sha)[1] in git(path, "rev-list", m[1]).split()
            merged[m[1]] += 1
    assert sum(merged.values()) == s["long_lived_merges"]
    assert all(merged[name] >= 2 for name in branches)      # merged back more than once
    added = git(path, "diff-tree", "--no-commit-id", "-r", "--root", "--diff-filter=A", "--name-only",
                "--stdin", stdin="".join(f"{c}\n" for c in commits)).split()
    assert len([p for p in added if p.startswith(VERSIONS)]) == s["long_lived_revisions"] >= 1


def test_long_lived_merge_relists_the_branch(repo: tuple[Path, dict]) -> None:
    """A merge's first-parent diff is everything the branch changed since the merge base."""
    path, _ = repo
    sizes = []
    for sha in git(path, "log", "--first-parent", "--merges", "--grep=^Merge branch '", "--format=%H",
                   "main").split():
        first, second = parents(path, sha)
        (base,) = git(path, "merge-base", "--all", first, second).split()
        listed = set(git(path, "diff", "--name-only", first, sha).split())
        assert listed == set(git(path, "diff", "--name-only", base, second).split())
        sizes.append(len(listed))
    assert max(sizes) >= 8


def test_docs_tree(repo: tuple[Path, dict]) -> None:
    path, s = repo
    files = git(path, "ls-tree", "-r", "--name-only", "HEAD", "--", "docs").split()
    assert len(files) == s["docs_files"] == s["docs"] + s["release_notes"] + 4
    assert s["docs"] == COMMITS // 10 and s["release_notes"] == s["tags"]
    pages = [f for f in files if f.count("/") == 3]             # docs/<section>/<topic>/<page>
    assert len(pages) == s["docs"]
    assert {f.rsplit(".", 1)[1] for f in pages} == {"md", "rst"}
    text = cat_batch(path, [f"HEAD:{f}" for f in pages])
    assert any(b"```" in t for t in text.values()) and any(b".. code-block::" in t for t in text.values())
    edited = git(path, "log", "--all", "--diff-filter=M", "--name-only", "--format=", "--", "docs/").split()
    assert len(set(edited) & set(pages)) >= 5                   # edited over the history


def test_docs_name_revisions(repo: tuple[Path, dict], graph: dict[str, tuple]) -> None:
    """Some docs name revision ids the history holds: upgrade notes and release-notes tables."""
    path, s = repo
    files = git(path, "ls-tree", "-r", "--name-only", "HEAD", "--", "docs").split()
    text = {name[5:]: data.decode() for name, data in cat_batch(path, [f"HEAD:{f}" for f in files]).items()}
    naming = {f for f, t in text.items() if set(HEX12.findall(t)) & graph.keys()}
    assert len(naming) == s["docs_naming_revisions"]
    assert 0 < len(naming) < len(files) // 2
    upgrades = [m for t in text.values() for m in re.findall(r"alembic upgrade ([0-9a-f]{12})", t)]
    assert upgrades and set(upgrades) <= graph.keys()
    rows = [m for f, t in text.items() if f.startswith("docs/releases/")
            for m in re.findall(r"^\| `([0-9a-f]{12})` \| `([0-9a-f]{12})_\w+\.py` \|$", t, re.M)]
    assert rows and all(rev == name and rev in graph for rev, name in rows)


def test_license_headers(repo: tuple[Path, dict]) -> None:
    """Ordinary .py files (all in HEAD's tree) and revision files wherever they are."""
    path, s = repo
    ordinary = [line.split(":", 1)[1] for line in git(path, "grep", "-l", LICENSE, "HEAD", "--", "*.py").split()
                if not line.split(":", 1)[1].startswith((VERSIONS, ARCHIVE))]
    assert all(git(path, "show", f"HEAD:{f}").startswith("# Copyright 20") for f in ordinary[:5])
    out = rev_list_objects(path, ["--exclude=refs/stash", "--all"])
    blobs = [line.split(" ", 1)[0] for line in out.splitlines() if VERSIONS in line or ARCHIVE in line]
    licensed = {REVISION_ID.search(data)[1] for data in cat_batch(path, blobs).values()
                if LICENSE.encode() in data}
    assert ordinary and licensed
    assert len(ordinary) + len(licensed) == s["licensed_files"]


def test_docs_and_long_lived_off(tmp_path: Path) -> None:
    dest = tmp_path / "plain"
    s = make(dest, 1, COMMITS, REVISIONS, "--docs", "0", "--long-lived", "0", "--merge-share", "0.1")
    assert s["docs"] == s["release_notes"] == 0 and s["long_lived_branches"] == 0
    assert len(git(dest, "ls-tree", "-r", "--name-only", "HEAD", "--", "docs").split()) == s["docs_files"] == 4
    assert not long_lived(dest)
    merges = int(git(dest, "rev-list", "--all", "--merges", "--count"))
    assert merges == s["merges"] and 0.05 * COMMITS <= merges <= 0.15 * COMMITS


@pytest.mark.parametrize("option", [["--docs", "-1"], ["--long-lived", "7"], ["--merge-share", "0.5"]])
def test_refuses_bad_options(tmp_path: Path, option: list[str]) -> None:
    proc = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path / "x"), "--commits", "5", *option],
                          capture_output=True, text=True)
    assert proc.returncode == 1 and "make_history: error: need" in proc.stderr


def test_refuses_non_empty_dest(tmp_path: Path) -> None:
    (tmp_path / "x").write_text("x")
    proc = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path), "--commits", "5"],
                          capture_output=True, text=True)
    assert proc.returncode == 1 and "not empty" in proc.stderr
