"""Bad input corpus, repositories (issue 8 point 1, part A): each case a real repository (or what
is not one), built with real git commands, run through the command line in a subprocess.

Every case asserts the exact line the tool prints (the one stderr line when it stops, the note or
warning line when it goes on), the exit code, that nothing was written (the case's folder,
``.git`` and any remote included, is fingerprinted; the history cache folder
``.git/migration-archaeologist`` is the one documented exception, and a first run with
``--no-cache`` must not write even that) and that no traceback appears.

Cases (ids):
  stops with exit 3 (``test_unusable_repository``, for scan, scan --json, check --format github,
  timeline -o, restore --apply; graph and verify too for not-a-repo and empty-repo):
    not-a-repo, missing-path, path-is-a-file, empty-repo, empty-bare-repo;
    and ``test_restore_last_argument_missing_path`` (restore-last-argument-missing-path)
  goes on (``test_damaged_repository``: scan --json --no-cache, check --no-cache, scan, timeline, restore):
    bare-repo, mirror-without-config, shallow-clone, detached-head, partial-clone,
    partial-clone-remote-gone, partial-mirror, corrupt-loose-blob, corrupt-loose-tree,
    corrupt-loose-commit, corrupt-packed-blob;
    and ``test_partial_clone_never_fetches`` (partial-clone-no-lazy-fetch),
    ``test_corrupt_object_is_named`` (corrupt-loose-tree-named, corrupt-loose-commit-named),
    ``test_corrupt_packed_blob_costs_only_itself`` (corrupt-packed-blob-restore),
    ``test_restore_in_bare_repository_says_why`` (bare-repo-restore-message)
  scale: ``test_ten_thousand_refs`` (refs-10000)
"""

from __future__ import annotations

import json
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import pytest

from corpus import (
    V, cli, error_line, fingerprint, git, git_fatal, isolated_git_env, measured, scan_json, stdout_lines,
)
from gitfixture import GitRepo, revision_source, environment_files

INI = "[alembic]\nscript_location = alembic\n"


@pytest.fixture(scope="module")
def _module_git_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    yield from isolated_git_env(tmp_path_factory)


def lost_history(path: Path) -> GitRepo:
    """alembic.ini and revision a; b added, then deleted: b is the lost revision."""
    repo = GitRepo.init(path)
    repo.commit("base", {"alembic.ini": INI, **environment_files(), f"{V}/a_base.py": revision_source("a", None, "base")})
    repo.commit("next", {f"{V}/b_next.py": revision_source("b", "a", "next")})
    repo.commit("cleanup", remove=[f"{V}/b_next.py"])
    return repo


# --------------------------------------------------------------------------- unusable: exit 3


def _not_a_repo(root: Path) -> tuple[Path, str]:
    folder = root / "plain"
    folder.mkdir()
    (folder / "README.md").write_text("not a repository\n")
    return folder, f"error: {folder.resolve()}: not a git repository (git: {git_fatal(folder)})"


def _missing_path(root: Path) -> tuple[Path, str]:
    return root / "nowhere", f"error: {root / 'nowhere'}: no such file or directory"


def _path_is_a_file(root: Path) -> tuple[Path, str]:
    # not in docs/exit-codes.md: "<path>: not a directory" (gitrepo.open_repository)
    (root / "file.py").write_text("revision = 'a'\ndown_revision = None\n")
    return root / "file.py", f"error: {root / 'file.py'}: not a directory"


def _empty_repo(root: Path) -> tuple[Path, str]:
    GitRepo.init(root / "empty")
    return root / "empty", f"error: {(root / 'empty').resolve()}: the repository has no commits yet, nothing to scan"


def _empty_bare_repo(root: Path) -> tuple[Path, str]:
    GitRepo.init(root / "empty.git", "--bare")
    return root / "empty.git", f"error: {(root / 'empty.git').resolve()}: the repository has no commits yet, nothing to scan"


UNUSABLE: dict[str, Callable[[Path], tuple[Path, str]]] = {
    "not-a-repo": _not_a_repo,
    "missing-path": _missing_path,
    "path-is-a-file": _path_is_a_file,
    "empty-repo": _empty_repo,
    "empty-bare-repo": _empty_bare_repo,
}


def _commands(target: Path, root: Path) -> dict[str, list[str]]:
    commands = {
        "scan": ["scan", str(target)],
        "scan --json": ["scan", str(target), "--json"],
        "check --format github": ["check", str(target), "--format", "github"],
        "timeline -o": ["timeline", str(target), "-o", str(root / "out" / "timeline.md")],
    }
    if target.name in ("plain", "empty"):  # the same opening as every command; each costs a Python start
        commands["graph"] = ["graph", str(target), "--format", "dot"]
        commands["verify"] = ["verify", str(target), "--db", f"sqlite:///{root / 'out' / 'app.db'}"]
    if target.is_dir():  # REVISION... [REPO]: only a directory is taken for the repository
        commands["restore --apply"] = ["restore", "a", str(target), "--apply"]
    return commands


@pytest.fixture(scope="module")
def unusable(tmp_path_factory: pytest.TempPathFactory, _module_git_env: None) -> dict:  # type: ignore[type-arg]
    cases = {}
    for case_id, make in UNUSABLE.items():
        root = tmp_path_factory.mktemp(case_id)
        (root / "out").mkdir()
        target, line = make(root)
        cases[case_id] = (root, target, line, _commands(target, root))
    before = {case_id: fingerprint(root, cache=True) for case_id, (root, *_x) in cases.items()}
    jobs = [(case_id, name, args, root) for case_id, (root, _t, _l, commands) in cases.items() for name, args in commands.items()]
    with ThreadPoolExecutor(max_workers=4) as pool:
        procs = list(pool.map(lambda job: cli(*job[2], cwd=job[3]), jobs))
    results: dict = {case_id: {"line": line, "procs": {}} for case_id, (_r, _t, line, _c) in cases.items()}
    for (case_id, name, _args, _root), proc in zip(jobs, procs):
        results[case_id]["procs"][name] = proc
    for case_id, (root, *_x) in cases.items():
        results[case_id]["untouched"] = fingerprint(root, cache=True) == before[case_id]
    return results


@pytest.mark.parametrize("case_id", list(UNUSABLE))
def test_unusable_repository(unusable: dict, case_id: str) -> None:  # type: ignore[type-arg]
    """Every command stops at once with the same documented line and exit 3, and writes nothing
    (no cache, no report file, no database file)."""
    case = unusable[case_id]
    assert case["untouched"]
    for name, proc in case["procs"].items():
        assert (name, proc.returncode) == (name, 3)
        assert (name, error_line(proc)) == (name, case["line"])


def test_restore_last_argument_missing_path(tmp_path: Path) -> None:
    """case restore-last-argument-missing-path: an ID never holds a '/', so this names a repository."""
    target = tmp_path / "checkouts" / "app"
    before = fingerprint(tmp_path, cache=True)
    proc = cli("restore", "a", str(target), "--apply", cwd=tmp_path)
    assert fingerprint(tmp_path, cache=True) == before
    assert proc.returncode == 3
    assert error_line(proc) == f"error: {target}: no such file or directory"


# --------------------------------------------------------------------------- damaged: goes on


@dataclass
class Damaged:
    """What a damaged repository must give. ``lines``: exact stdout lines of ``scan`` (text);
    ``check_lines``: of ``check``; ``restore``: a dry run's (revision, exit code, line, where:
    'stdout' (one of its lines), 'stderr' (its one line) or 'stderr-ending' (how that line ends))."""

    target: Path
    root: Path  # fingerprinted: the repository and whatever it came from
    revisions: set[str]
    scan_code: int
    check_code: int
    lines: list[str] = field(default_factory=list)
    check_lines: list[str] = field(default_factory=list)
    unreadable: list[dict] = field(default_factory=list)  # type: ignore[type-arg]
    unreadable_some: bool = False  # some, without saying which
    restore: tuple[str, int, str, str] | None = None
    repo: GitRepo | None = None
    facts: dict = field(default_factory=dict)  # type: ignore[type-arg]


def _header(display: Path, head: str, versions: str) -> str:
    return f"{display}  HEAD {head[:10]}  {versions}"


NOT_FOUND = "error: Can't locate revision identified by 'b' in git history, reflogs, stashes or unreachable objects"
#: the same, when some object at a revision path could not be read: it may have been b
NOT_FOUND_UNREAD = NOT_FOUND + "; 1 object(s) could not be read: 'scan' lists them"


def _bare(root: Path, *, mirror: bool = False) -> Damaged:
    src = lost_history(root / "src")
    target = root / ("mirror" if mirror else "bare.git")
    git("clone", "-q", "--mirror" if mirror else "--bare", str(src.path), str(target))
    if mirror:
        (target / "config").unlink()
    head = src.git("rev-parse", "HEAD")
    return Damaged(
        target, root, {"a", "b"}, 1, 1,
        lines=[_header(target.resolve(), head, "versions: none (none)"),
               "2 revision(s) missing from the versions directory, all recoverable. Preview the restore with:",
               "  migration-archaeologist restore b"],
        check_lines=["2 revision(s) missing from the versions directory: a, b"],
        # no working tree, no versions directory: a usage error (its wording: test_restore_in_bare_repository_says_why)
        restore=("b", 2, "pass --versions DIR", "stderr-ending"),
    )


def _shallow(root: Path) -> Damaged:
    src = lost_history(root / "src")
    target = root / "shallow"
    git("clone", "-q", "--depth", "1", f"file://{src.path}", str(target))
    head = src.git("rev-parse", "HEAD")
    warning = ("warning: shallow clone: history is truncated, revisions older than the shallow boundary may be missing "
               "(run 'git fetch --unshallow' for a full scan)")
    return Damaged(
        target, root, {"a"}, 0, 0,
        lines=[_header(target, head, "versions: alembic/versions (config alembic.ini)"), warning],
        check_lines=["ok: 1 revisions, head a", warning],
        restore=("b", 1, NOT_FOUND, "stderr"),
    )


def _detached(root: Path) -> Damaged:
    repo = lost_history(root / "repo")
    repo.git("checkout", "-q", "--detach", "HEAD~1")
    head = repo.git("rev-parse", "HEAD")
    warning = f"warning: HEAD is detached at {head[:10]}; 'HEAD's history' means that commit's ancestry"
    return Damaged(
        repo.path, root, {"a", "b"}, 0, 0,
        lines=[_header(repo.path, head, "versions: alembic/versions (config alembic.ini)"), warning],
        check_lines=["ok: 2 revisions, head b", warning],
        restore=("a", 0, "Nothing to restore: every revision asked for is present.", "stdout"),
    )


def _partial(root: Path, *, remote_gone: bool = False, mirror: bool = False) -> Damaged:
    """``--filter=blob:none`` from a file:// remote: the clone holds HEAD's blobs only (a mirror: none)."""
    src = lost_history(root / "src")
    src.git("config", "uploadpack.allowFilter", "true")
    target = root / ("partial.git" if mirror else "partial")
    args = ["clone", "-q", "--filter=blob:none"] + (["--mirror"] if mirror else [])
    git(*args, f"file://{src.path}", str(target))
    cleanup = src.git("rev-parse", "HEAD")
    b_blob = src.git("rev-parse", f"HEAD~1:{V}/b_next.py")
    a_blob = src.git("rev-parse", f"HEAD:{V}/a_base.py")
    if remote_gone:
        shutil.rmtree(src.path)
    reason = "object missing from the repository (partial clone)"
    unreadable = [{"blob": b_blob, "path": f"{V}/b_next.py", "commit": cleanup, "reason": reason}]
    if mirror:
        base = git("rev-list", "--max-parents=0", "HEAD", cwd=target)
        env_blob = src.git("rev-parse", "HEAD:alembic/env.py")  # the base commit's env.py, as old as a_base.py
        unreadable.append({"blob": env_blob, "path": "alembic/env.py", "commit": base, "reason": reason})
        unreadable.append({"blob": a_blob, "path": f"{V}/a_base.py", "commit": base, "reason": reason})
    lines = ["warning: %d object(s) could not be read:" % len(unreadable)]
    lines += [f"  {u['blob']} ({u['path']} in {u['commit'][:10]}): {reason}" for u in unreadable]
    if mirror:
        lines.append("No Alembic revision files found anywhere in this repository's history.")
    return Damaged(
        target, root, set() if mirror else {"a"}, 0, 0, lines=lines,
        check_lines=([] if mirror else ["ok: 1 revisions, head a"]) + lines[: len(unreadable) + 1],
        unreadable=unreadable,
        restore=None if mirror else ("b", 1, NOT_FOUND_UNREAD, "stderr"),
        facts={"missing_objects": _missing_objects(target)},
    )


def _missing_objects(target: Path) -> list[str]:
    out = git("rev-list", "--objects", "--missing=print", "--all", cwd=target)
    return sorted(line for line in out.splitlines() if line.startswith("?"))


def _corrupt(root: Path, what: str) -> Damaged:
    """Overwrite one loose object's bytes with garbage (objects are read-only files: chmod first)."""
    repo = lost_history(root / "repo")
    spec = {"blob": f"HEAD~1:{V}/b_next.py", "tree": "HEAD~1^{tree}", "commit": "HEAD~1"}[what]
    sha = repo.git("rev-parse", spec)
    loose = repo.path / ".git" / "objects" / sha[:2] / sha[2:]
    os.chmod(loose, 0o644)
    loose.write_bytes(b"garbage, not zlib \x00\xff\xfe" * 4)
    head = repo.git("rev-parse", "HEAD")
    damaged = Damaged(repo.path, root, {"a"}, 0, 0, check_lines=["ok: 1 revisions, head a"], repo=repo,
                      restore=("a", 0, "Nothing to restore: every revision asked for is present.", "stdout"),
                      facts={"corrupt": sha})
    if what == "blob":
        reason = "object missing from the repository or unreadable"
        damaged.unreadable = [{"blob": sha, "path": f"{V}/b_next.py", "commit": head, "reason": reason}]
        damaged.lines = ["warning: 1 object(s) could not be read:", f"  {sha} ({V}/b_next.py in {head[:10]}): {reason}"]
        damaged.restore = ("b", 1, NOT_FOUND_UNREAD, "stderr")
    else:
        # the blob of b is still there, dangling once the commit or tree holding it is unreadable
        damaged.revisions = {"a", "b"}
        damaged.unreadable_some = True
        damaged.check_lines = ["ok: 1 revisions, head a (1 more only elsewhere in git: see scan)"]
    return damaged


def _corrupt_head_commit(root: Path) -> Damaged:
    """HEAD's own commit object is garbage: not even its type can be read, so the object inventory
    does not list it; it is named as unreadable, and the rest of history is still walked."""
    repo = lost_history(root / "repo")
    head = repo.git("rev-parse", "HEAD")
    loose = repo.path / ".git" / "objects" / head[:2] / head[2:]
    os.chmod(loose, 0o644)
    loose.write_bytes(b"garbage")
    return Damaged(repo.path, root, {"a", "b"}, 0, 0, repo=repo, unreadable_some=True,
                   check_lines=["ok: 1 revisions, head a (1 more only elsewhere in git: see scan)"],
                   lines=["warning: 1 object(s) could not be read:"], facts={"corrupt": head})


def _oversize(root: Path) -> Damaged:
    """b's file is a valid revision padded past 8 MiB with a comment: not read whole, and said so
    (too large), never called missing from the repository."""
    repo = GitRepo.init(root / "repo")
    repo.commit("base", {"alembic.ini": INI, **environment_files(), f"{V}/a_base.py": revision_source("a", None, "base")})
    big = revision_source("b", "a", "next") + "#" + "x" * (9 << 20) + "\n"
    repo.commit("next", {f"{V}/b_next.py": big})
    cleanup = repo.commit("cleanup", remove=[f"{V}/b_next.py"])
    blob = repo.git("rev-parse", f"HEAD~1:{V}/b_next.py")
    reason = f"too large to be a revision file ({len(big):,} bytes; files over 8 MiB are not read)"
    unreadable = [{"blob": blob, "path": f"{V}/b_next.py", "commit": cleanup, "reason": reason}]
    lines = ["warning: 1 object(s) could not be read:", f"  {blob} ({V}/b_next.py in {cleanup[:10]}): {reason}"]
    return Damaged(repo.path, root, {"a"}, 0, 0, lines=lines, check_lines=["ok: 1 revisions, head a", *lines],
                   unreadable=unreadable, restore=("b", 1, NOT_FOUND_UNREAD, "stderr"), repo=repo)


def _corrupt_packed_object(root: Path, what: str) -> Damaged:
    """Everything packed, then bytes flipped inside the packed tree or commit of the commit that
    added b: the walk goes on commit by commit, names the object, and still finds b (its blob is
    sound, reached as an unreachable object); a stays present, the check passes."""
    repo = lost_history(root / "repo")
    sha = repo.git("rev-parse", {"tree": "HEAD~1^{tree}", "commit": "HEAD~1"}[what])
    _flip_packed(repo, sha)
    return Damaged(repo.path, root, {"a", "b"}, 0, 0, repo=repo, unreadable_some=True,
                   check_lines=["ok: 1 revisions, head a (1 more only elsewhere in git: see scan)"],
                   restore=("a", 0, "Nothing to restore: every revision asked for is present.", "stdout"),
                   facts={"corrupt": sha})


def _flip_packed(repo: GitRepo, sha: str) -> Path:
    """Pack everything (no deltas), then flip four bytes in the middle of ``sha``'s zlib stream."""
    repo.git("repack", "-a", "-d", "-q", "--window=0")
    repo.git("prune-packed")
    (idx,) = (repo.path / ".git" / "objects" / "pack").glob("*.idx")
    row = next(line.split() for line in repo.git("verify-pack", "-v", str(idx)).splitlines() if line.startswith(sha))
    in_pack, offset = int(row[3]), int(row[4])
    pack = idx.with_suffix(".pack")
    os.chmod(pack, 0o644)
    data = bytearray(pack.read_bytes())
    for at in range(offset + in_pack // 2, offset + in_pack // 2 + 4):
        data[at] ^= 0xFF
    pack.write_bytes(bytes(data))
    os.chmod(pack, 0o444)
    return pack


def _corrupt_packed(root: Path) -> Damaged:
    """Everything packed (no deltas), then bytes flipped in the middle of one blob's zlib stream:
    cat-file prints that blob's header and dies, and every blob asked after it was lost. c was
    edited, then b, c and d were deleted (e, present, needs them); c's edited version is the bad
    one, the first read (by the deletion), so its older version is all there is of c."""
    repo = GitRepo.init(root / "repo")
    repo.commit("base", {"alembic.ini": INI, **environment_files(), f"{V}/a_base.py": revision_source("a", None, "base")})
    for rev, down in (("b", "a"), ("c", "b"), ("d", "c"), ("e", "d")):
        repo.commit(f"add {rev}", {f"{V}/{rev}_rev.py": revision_source(rev, down, f"rev {rev}")})
    repo.commit("edit c", {f"{V}/c_rev.py": revision_source("c", "b", "rev c, edited")})
    cleanup = repo.commit("cleanup", remove=[f"{V}/{rev}_rev.py" for rev in "bcd"])
    sha = repo.git("rev-parse", f"HEAD~1:{V}/c_rev.py")
    pack = _flip_packed(repo, sha)
    head = repo.git("rev-parse", "HEAD")
    reason = f"packed object {sha} (stored in {pack}) is corrupt"
    unreadable = [{"blob": sha, "path": f"{V}/c_rev.py", "commit": cleanup, "reason": reason}]
    return Damaged(
        repo.path, root, {"a", "b", "c", "d", "e"}, 1, 1, repo=repo,
        lines=[_header(repo.path, head, "versions: alembic/versions (config alembic.ini)"),
               "3 revision(s) missing from the versions directory, all recoverable. Preview the restore with:",
               "warning: 1 object(s) could not be read:"],  # the object's line: its reason is in the JSON, exactly
        check_lines=["warning: 1 object(s) could not be read:"],
        unreadable=unreadable,
        restore=("b", 0, "dry run: nothing written. Run again with --apply to write 1 file(s).", "stdout"),
        facts={"corrupt": sha, "heads": ["e"]},
    )


DAMAGED: dict[str, Callable[[Path], Damaged]] = {
    "bare-repo": _bare,
    "mirror-without-config": lambda root: _bare(root, mirror=True),
    "shallow-clone": _shallow,
    "detached-head": _detached,
    "partial-clone": _partial,
    "partial-clone-remote-gone": lambda root: _partial(root, remote_gone=True),
    "partial-mirror": lambda root: _partial(root, mirror=True),
    "corrupt-loose-blob": lambda root: _corrupt(root, "blob"),
    "corrupt-loose-tree": lambda root: _corrupt(root, "tree"),
    "corrupt-loose-commit": lambda root: _corrupt(root, "commit"),
    "corrupt-packed-blob": _corrupt_packed,
    "corrupt-packed-tree": lambda root: _corrupt_packed_object(root, "tree"),
    "corrupt-packed-commit": lambda root: _corrupt_packed_object(root, "commit"),
    "oversize-blob": _oversize,
    "corrupt-head-commit": _corrupt_head_commit,
}


@pytest.fixture(scope="module")
def damaged(tmp_path_factory: pytest.TempPathFactory, _module_git_env: None) -> dict:  # type: ignore[type-arg]
    """Every damaged repository, run through the commands at once (a case's own runs in order)."""
    cases = {case_id: make(tmp_path_factory.mktemp(case_id)) for case_id, make in DAMAGED.items()}

    def run(case_id: str) -> dict:  # type: ignore[type-arg]
        case = cases[case_id]
        target, cwd = str(case.target), case.root
        everything = fingerprint(case.root, cache=True)
        doc = cli("scan", target, "--json", "--no-cache", cwd=cwd)
        check = cli("check", target, "--no-cache", cwd=cwd)
        no_cache_untouched = fingerprint(case.root, cache=True) == everything
        text = cli("scan", target, cwd=cwd)  # writes the history cache
        later = {"timeline": cli("timeline", target, cwd=cwd)}
        if case.restore:
            later["restore"] = cli("restore", case.restore[0], target, cwd=cwd)
        return {"doc": doc, "check": check, "text": text, **later, "no_cache_untouched": no_cache_untouched,
                "cache_only": fingerprint(case.root) == {k: v for k, v in everything.items()},
                "missing_objects": _missing_objects(case.target) if "missing_objects" in case.facts else None}

    with ThreadPoolExecutor(max_workers=3) as pool:
        results = dict(zip(cases, pool.map(run, cases)))
    return {case_id: (cases[case_id], results[case_id]) for case_id in cases}


@pytest.mark.parametrize("case_id", list(DAMAGED))
def test_damaged_repository(damaged: dict, case_id: str) -> None:  # type: ignore[type-arg]
    """The scan goes on: the documented warning or note, the exit code, the revisions it could
    read; nothing written but the history cache (and with --no-cache, not even that)."""
    case, result = damaged[case_id]
    assert result["no_cache_untouched"] and result["cache_only"]
    doc = scan_json(result["doc"])
    assert {r["revision"] for r in doc["revisions"]} == case.revisions
    assert (result["doc"].returncode, result["text"].returncode, result["check"].returncode) == (
        case.scan_code, case.scan_code, case.check_code)
    assert result["text"].stderr == result["check"].stderr == ""
    text = stdout_lines(result["text"])
    for line in case.lines:
        assert line in text, (line, text)
    check = stdout_lines(result["check"])
    for line in case.check_lines:
        assert line in check, (line, check)
    if case.unreadable:
        assert doc["unreadable"] == case.unreadable
    elif case.unreadable_some:
        assert doc["unreadable"], doc  # which ones: test_corrupt_object_is_named
        assert f"warning: {len(doc['unreadable'])} object(s) could not be read:" in text
    else:
        assert doc["unreadable"] == []
    timeline = result["timeline"]
    assert timeline.returncode == 0 and timeline.stderr == "" and timeline.stdout.startswith("# ")
    if case.restore:
        rev, code, line, stream = case.restore
        proc = result["restore"]
        assert proc.returncode == code, proc.stdout + proc.stderr
        if stream == "stderr":
            assert error_line(proc) == line
        elif stream == "stderr-ending":
            assert error_line(proc).startswith("error: ") and error_line(proc).endswith(line)
        else:
            assert proc.stderr == "" and line in stdout_lines(proc)


@pytest.mark.parametrize("case_id", ["partial-clone", "partial-clone-remote-gone", "partial-mirror"])
def test_partial_clone_never_fetches(damaged: dict, case_id: str) -> None:  # type: ignore[type-arg]
    """case partial-clone-no-lazy-fetch: the missing blobs are reported, never fetched (the clone's
    object database is as it was: same missing objects, no new pack), with the remote there or gone."""
    case, result = damaged[case_id]
    assert result["missing_objects"] == case.facts["missing_objects"]
    assert {u["blob"] for u in case.unreadable} <= {m[1:] for m in case.facts["missing_objects"]}
    assert result["cache_only"]


@pytest.mark.parametrize("case_id", ["corrupt-loose-tree", "corrupt-loose-commit", "corrupt-packed-tree",
                                     "corrupt-packed-commit"])
def test_corrupt_object_is_named(damaged: dict, case_id: str) -> None:  # type: ignore[type-arg]
    """cases corrupt-loose-tree-named, corrupt-loose-commit-named: a person must be told which object is broken."""
    case, result = damaged[case_id]
    doc = scan_json(result["doc"])
    corrupt = case.facts["corrupt"]
    assert any(u["blob"] == corrupt or corrupt in u["reason"] for u in doc["unreadable"]), doc["unreadable"]
    head = case.repo.git("rev-parse", "HEAD")
    assert head not in {u["blob"] for u in doc["unreadable"]}  # HEAD's own commit object is sound


def test_corrupt_head_commit_is_named(damaged: dict) -> None:  # type: ignore[type-arg]
    """case corrupt-head-commit-named: git cannot even tell HEAD's type; before, the fallback walk
    never tried it and said "0 commit(s) could not be read"."""
    case, result = damaged["corrupt-head-commit"]
    doc = scan_json(result["doc"])
    assert [u["blob"] for u in doc["unreadable"]] == [case.facts["corrupt"]]
    assert "is corrupt" in doc["unreadable"][0]["reason"]
    assert any(w.endswith("scanned commit by commit instead, 1 commit(s) could not be read") for w in doc["warnings"])


def test_nothing_readable_is_exit_3(tmp_path: Path) -> None:
    """case corrupt-every-object: every object is garbage, so not one commit can be read. A verdict
    from the work tree alone would pass for one on the history (before: "ok", exit 0); every
    command says in one line that git could read no commit, and changes nothing."""
    repo = lost_history(tmp_path / "repo")
    for loose in (repo.path / ".git" / "objects").glob("??/*"):
        os.chmod(loose, 0o644)
        loose.write_bytes(b"garbage")
    before = fingerprint(tmp_path, cache=True)
    for args in (["scan"], ["check"], ["scan", "--json"], ["restore", "b"], ["recover"], ["timeline"]):
        proc = cli(*args, str(repo.path), "--no-cache", cwd=tmp_path) if args[0] != "recover" else \
            cli(*args, str(repo.path), cwd=tmp_path)
        assert proc.returncode == 3, (args, proc.stdout, proc.stderr)
        line = error_line(proc)
        assert line.startswith("error: git could not read any commit of this repository: fatal: loose object "), line
        assert line.endswith("is corrupt ('git fsck' lists what is damaged)"), line
    assert fingerprint(tmp_path, cache=True) == before


def test_corrupt_packed_blob_costs_only_itself(damaged: dict, tmp_path: Path) -> None:  # type: ignore[type-arg]
    """case corrupt-packed-blob: cat-file dies on the bad blob and is started again after it: every
    other version is read (c's earlier one too), the head is e, and the lost revisions restore
    byte-identical, c as its one readable version (on a copy: the module's repository stays as it was)."""
    case, result = damaged["corrupt-packed-blob"]
    doc = scan_json(result["doc"])
    assert doc["heads"] == case.facts["heads"] and doc["problems"] == []
    assert {r["revision"]: r["status"] for r in doc["revisions"]} == {
        "a": "present", "b": "missing", "c": "missing", "d": "missing", "e": "present"}
    copy = tmp_path / "repo"
    shutil.copytree(case.target, copy)
    proc = cli("restore", "b", "c", "d", str(copy), "--apply", "--no-cache", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for rev in "bcd":
        wanted = git("cat-file", "blob", f"HEAD~2:{V}/{rev}_rev.py", cwd=copy)  # before c's edit
        assert (copy / V / f"{rev}_rev.py").read_text().strip() == wanted
    check = cli("check", str(copy), cwd=tmp_path)
    assert check.returncode == 0, check.stdout
    assert stdout_lines(check)[0] == "ok: 5 revisions, head e"


def test_restore_in_bare_repository_says_why(damaged: dict) -> None:  # type: ignore[type-arg]
    """case bare-repo-restore-message."""
    _case, result = damaged["bare-repo"]
    line = error_line(result["restore"])
    assert result["restore"].returncode == 2 and line.endswith("pass --versions DIR")
    assert "none in history" not in line and "no alembic.ini" not in line


# --------------------------------------------------------------------------- scale: 10,000 refs

REFS = 10_000


@pytest.fixture(scope="module")
def many_refs(tmp_path_factory: pytest.TempPathFactory, _module_git_env: None) -> dict:  # type: ignore[type-arg]
    """10,000 branches in ``packed-refs``, as a clone or a mirror of a big project holds them, pointing
    round robin at the commits of the lost history (written directly: ``update-ref --stdin`` takes
    seconds creating 10,000 loose refs and reflogs)."""
    root = tmp_path_factory.mktemp("refs")
    repo = lost_history(root / "repo")
    commits = repo.git("rev-list", "HEAD").split()
    repo.git("pack-refs", "--all")
    packed = repo.path / ".git" / "packed-refs"
    header, *entries = packed.read_text().splitlines(keepends=True)
    entries += [f"{commits[i % len(commits)]} refs/heads/feature/{i:05d}\n" for i in range(REFS - 1)]
    packed.write_text(header + "".join(sorted(entries, key=lambda line: line.split()[1])))  # "sorted", as the header says
    assert len(repo.git("for-each-ref", "--format=%(refname)").split()) == REFS
    return {"root": root, "repo": repo, "head": commits[0]}


def test_ten_thousand_refs(many_refs: dict) -> None:  # type: ignore[type-arg]
    """case refs-10000: works, and in reasonable time; the history cache then serves the next run."""
    root, repo = many_refs["root"], many_refs["repo"]
    before = fingerprint(root, cache=True)
    first = measured("scan", str(repo.path), "--json", "--no-cache", cwd=root)
    assert fingerprint(root, cache=True) == before
    assert first["returncode"] == 0 and first["stderr"] == ""
    assert first["seconds"] < 30, first["seconds"]
    doc = json.loads(first["stdout"])
    assert {r["revision"]: r["status"] for r in doc["revisions"]} == {"a": "present", "b": "retired"}  # a head nothing needs
    assert doc["missing"] == [] and doc["problems"] == [] and doc["warnings"] == [] and doc["unreadable"] == []
    check = measured("check", str(repo.path), cwd=root)
    assert check["returncode"] == 0 and check["seconds"] < 30, check["seconds"]
    assert check["stdout"].splitlines()[0] == "ok: 1 revisions, head a (1 more only elsewhere in git: see scan)"
    again = measured("scan", str(repo.path), "--json", cwd=root)
    assert again["seconds"] < 30 and json.loads(again["stdout"])["cache"] == "unchanged"
    assert fingerprint(root) == {k: v for k, v in before.items()}
