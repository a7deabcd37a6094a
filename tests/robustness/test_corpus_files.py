"""Bad input corpus, files (issue 8 point 1, part A): revision files committed to real repositories,
historic file names, archives and bytecode, each through the command line in a subprocess.

Every case asserts the exact line the tool prints (a problem, a note, or the one stderr line), the
exit code, that nothing was written (the repository, ``.git`` included, is fingerprinted; one run
with ``--no-cache`` must not write even the history cache), and that no traceback appears.

Revision files committed to history (ids shared by ``test_committed_file``, where the file is present
at HEAD and ``check`` gates on it, and ``test_history_only_file``, where it was deleted again):
  binary, empty-file, syntax-error, non-utf8-no-cookie, unknown-codec-cookie, non-text-codec-cookie,
  cookie-conflicts-with-bom, utf8-bom, utf8-bom-with-utf8-cookie, revision-assigned-twice,
  revision-assigned-twice-same-value, revision-computed, revision-computed-from-strings, id-11-chars,
  id-not-hex, id-with-dash, down-revision-list, down-revision-tuple, down-revision-annotated,
  down-revision-self, duplicate-ids, cycle

Historic file names (``test_historic_file_name``: scan shows the path as git holds it, ``restore
--apply`` writes only inside the versions directory or refuses):
  name-with-dotdot, hidden-name, newline-in-name, tab-in-name, unicode-name, leading-dash-name,
  backslash-dotdot-name, windows-drive-name (and ``test_historic_file_names_restored_together``);
  dotdot-tree-entry-versions-dir, dotdot-tree-entry-restore (``test_dotdot_tree_entry_*``: a tree
  entry named ``..``, no alembic.ini: the history's versions folder lies outside the repository)

Archives and bytecode (``test_archive_member``, one scan with every archive given by ``--archive``):
  tar-dotdot-member, tar-nested-dotdot-member, tar-absolute-member, tar-symlink-member,
  tar-hardlink-member, tar-fifo-member, tar-regular-member-read, zip-dotdot-member,
  zip-absolute-member, zip-symlink-member, zip-declared-4gb-member, tar-gz-bomb,
  pyc-bad-magic-in-pycache, pyc-truncated-header-in-pycache, pyc-truncated-body-in-pycache,
  pyc-good-in-pycache-read, pyc-truncated-body-given-with-archive, pyc-bad-magic-given-with-archive;
  and ``test_zip_bomb_stays_bounded`` (zip-bomb-3gb: 50 members of 60 MiB of zeros in a 3 MB zip)
"""

from __future__ import annotations

import importlib.util
import io
import marshal
import re
import shutil
import struct
import sys
import tarfile
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest

from corpus import V, cli, cli_many, error_line, fingerprint, git, isolated_git_env, measured, scan_json, stdout_lines
from gitfixture import GitRepo, revision_source, environment_files

INI = "[alembic]\nscript_location = alembic\n"


@pytest.fixture(scope="module")
def _module_git_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    yield from isolated_git_env(tmp_path_factory)


def handwritten(revision_line: str, down_line: str, message: str = "hand written") -> str:
    """A revision file as a person might edit it: any assignment lines, the template's shape around them."""
    return (
        f'"""{message}\n\n"""\nfrom alembic import op\nimport sqlalchemy as sa\n\n'
        f"{revision_line}\n{down_line}\nbranch_labels = None\ndepends_on = None\n\n\n"
        "def upgrade():\n    op.add_column('t', sa.Column('c', sa.Integer()))\n\n\n"
        "def downgrade():\n    pass\n"
    )


# --------------------------------------------------------------------------- revision files in history


@dataclass(frozen=True)
class FileCase:
    """Files added to ``alembic/versions`` on top of a base ``a`` <- ``b``.

    ``problems``: (kind, revisions, message); ``{where}`` stands for the file's path (present) or
    its path and the commit that added it (history only). ``revisions``: what the scan must accept,
    revision -> down_revisions. ``absent``: IDs that must not be taken for revisions.
    """

    id: str
    files: dict[str, bytes]
    problems: tuple[tuple[str, tuple[str, ...], str], ...] = ()
    history_problems: tuple[tuple[str, tuple[str, ...], str], ...] | None = None
    revisions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    absent: tuple[str, ...] = ()
    xfail_present: str | None = None
    xfail_history: str | None = None
    #: a bug case whose right wording does not exist yet: a problem whose message names this path
    expect_problem_naming: str | None = None


def _b(text: str) -> bytes:
    return text.encode("utf-8")


BOM = b"\xef\xbb\xbf"

FILE_CASES = [
    FileCase("binary", {"c1_binary.py": b"\x00\x01revision down_revision\x89PNG\r\n\x1a\n"},
             problems=(("unparseable", (), "{where}: binary content (NUL bytes)"),)),
    # An empty .py in a versions directory stops Alembic: "Could not determine revision id from
    # filename c2_empty.py" (alembic.script.base.Script._from_filename). Deleted from history, it is nothing.
    FileCase("empty-file", {"c2_empty.py": b""}, absent=("c2",), expect_problem_naming=f"{V}/c2_empty.py"),
    FileCase("syntax-error", {"c3_syntax.py": _b(handwritten("revision = 'c3'", "down_revision = 'b'").replace("def upgrade():", "def upgrade(:"))},
             problems=(("unparseable", ("c3",), "{where}: syntax error at line 13: invalid syntax"),)),
    FileCase("non-utf8-no-cookie", {"c4_latin1.py": _b(handwritten("revision = 'c4'", "down_revision = 'b'", "caf\x00")).replace(b"caf\x00", b"caf\xe9 au lait")},
             problems=(("unparseable", ("c4",), "{where}: not valid utf-8 at byte 6"),)),
    FileCase("unknown-codec-cookie", {"c5_klingon.py": b"# -*- coding: klingon -*-\n" + _b(handwritten("revision = 'c5'", "down_revision = 'b'"))},
             problems=(("unparseable", ("c5",), "{where}: unknown encoding 'klingon' in coding cookie"),)),
    FileCase("non-text-codec-cookie", {"c5_rot13.py": b"# coding: rot13\n" + _b(handwritten("revision = 'c5r'", "down_revision = 'b'"))},
             problems=(("unparseable", ("c5r",), "{where}: coding cookie names 'rot13', which is not a text encoding"),)),
    FileCase("cookie-conflicts-with-bom", {"c6_bomcookie.py": BOM + b"# -*- coding: latin-1 -*-\n" + _b(handwritten("revision = 'c6'", "down_revision = 'b'"))},
             problems=(("unparseable", ("c6",), "{where}: coding cookie conflicts with the UTF-8 BOM"),)),
    FileCase("utf8-bom", {"c7_bom.py": BOM + _b(revision_source("c7", "b", "with a bom: café"))}, revisions={"c7": ("b",)}),
    FileCase("utf8-bom-with-utf8-cookie", {"c7_bomcookie.py": BOM + b"# -*- coding: utf-8 -*-\n" + _b(revision_source("c7c", "b", "bom and cookie"))},
             revisions={"c7c": ("b",)}),
    FileCase("revision-assigned-twice", {"c8_twice.py": _b(handwritten("revision = 'c8'\nrevision = 'c9'", "down_revision = 'b'"))},
             problems=(("unparseable", ("c8",), "{where}: revision assigned twice (lines 7 and 8)"),)),
    FileCase("revision-assigned-twice-same-value", {"c8_same.py": _b(handwritten("revision = 'c8s'\nrevision = \"c8s\"", "down_revision = 'b'"))},
             revisions={"c8s": ("b",)}),
    FileCase("revision-computed", {"d1_computed.py": _b(handwritten("revision = ''.join(['d', '1'])", "down_revision = 'b'"))},
             problems=(("unparseable", (), "{where}: revision is not a literal (line 7): ''.join(['d', '1'])"),), absent=("d1",)),
    # The ID hint (revision.py _HINT_RE) takes only a literal that is the whole value: this file names
    # no revision (it once was reported as 'b', and dropped from history as a draft of the known 'b').
    FileCase("revision-computed-from-strings", {"d1_concat.py": _b(handwritten("revision = 'b' + '2'", "down_revision = 'b'"))},
             problems=(("unparseable", (), "{where}: revision is not a literal (line 7): 'b' + '2'"),), absent=("b2",)),
    FileCase("id-11-chars", {"d2_eleven.py": _b(revision_source("0123456789a", "b", "eleven characters"))}, revisions={"0123456789a": ("b",)}),
    # Alembic takes any string without '@', '-' or '+' as an ID (RevisionMap.verify_rev_id)
    FileCase("id-not-hex", {"d3_nonhex.py": _b(revision_source("zz_not_hex", "b", "not hex"))}, revisions={"zz_not_hex": ("b",)}),
    # ... but not '@', '-' or '+': it refuses the file with the words used here
    FileCase("id-with-dash", {"d3_dash.py": _b(revision_source("zz-with-dash", "b", "dash"))}, absent=("zz-with-dash",),
             problems=(("unparseable", ("zz-with-dash",),
                        "{where}: Character(s) '-' not allowed in revision identifier 'zz-with-dash' (as Alembic says)"),)),
    FileCase("down-revision-list", {"d4_list.py": _b(handwritten("revision = 'd4'", "down_revision = ['a', 'b']"))}, revisions={"d4": ("a", "b")}),
    FileCase("down-revision-tuple", {"d4_tuple.py": _b(handwritten("revision = 'd4t'", "down_revision = ('a', 'b')"))}, revisions={"d4t": ("a", "b")}),
    FileCase("down-revision-annotated", {"d5_annot.py": _b(handwritten("from typing import Union\nrevision: str = 'd5'", "down_revision: Union[str, None] = 'b'"))},
             revisions={"d5": ("b",)}),
    FileCase("down-revision-self", {"d6_self.py": _b(revision_source("d6", "d6", "revises itself"))}, revisions={"d6": ("d6",)},
             problems=(("cycle", ("d6",), "down_revision cycle: d6 -> d6"),)),
    FileCase("duplicate-ids", {"e1_dup.py": _b(revision_source("e1", "b", "one")), "e1_dup_copy.py": _b(revision_source("e1", "b", "two"))},
             # the two files in either order (the order of their contents' candidates)
             problems=(("duplicate-id", ("e1",), (f"Revision e1 is present more than once in the versions directory: {V}/e1_dup.py, {V}/e1_dup_copy.py",
                                                  f"Revision e1 is present more than once in the versions directory: {V}/e1_dup_copy.py, {V}/e1_dup.py")),),
             history_problems=(("duplicate-id", ("e1",), ("Revision e1 is declared by different files with different content: e1_dup.py; e1_dup_copy.py",
                                                          "Revision e1 is declared by different files with different content: e1_dup_copy.py; e1_dup.py")),)),
    FileCase("cycle", {"f1_cycle.py": _b(revision_source("f1", "f2", "one")), "f2_cycle.py": _b(revision_source("f2", "f1", "two"))},
             revisions={"f1": ("f2",), "f2": ("f1",)},
             problems=(("cycle", ("f1", "f2"), "down_revision cycle: f1 -> f2 -> f1"),)),
]


def _params(mode: str) -> list:  # type: ignore[type-arg]
    out = []
    for case in FILE_CASES:
        reason = case.xfail_present if mode == "present" else case.xfail_history
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param(case, id=case.id, marks=marks))
    return out


def _base(repo: GitRepo) -> None:
    repo.commit("base", {"alembic.ini": INI, **environment_files(), f"{V}/a_base.py": revision_source("a", None, "base"),
                         f"{V}/b_next.py": revision_source("b", "a", "next")})


def _expected(problems: tuple, where: dict[str, str]) -> list[tuple[str, tuple[str, ...], str]]:  # type: ignore[type-arg]
    place = next(iter(where.values()))
    return [(kind, revs, message if isinstance(message, tuple) else message.format(where=place)) for kind, revs, message in problems]


def _matches(message: str, expected: str | tuple[str, ...]) -> bool:
    """The expected message (or one of several, when the tool's order is not fixed); a cycle may be
    entered at any of its members: f1 -> f2 -> f1 is f2 -> f1 -> f2."""
    if isinstance(expected, tuple):
        return any(_matches(message, one) for one in expected)
    if not expected.startswith("down_revision cycle: "):
        return message == expected
    ring = lambda text: text.split(": ", 1)[1].split(" -> ")[:-1]  # noqa: E731
    got, want = ring(message), ring(expected)
    return len(got) == len(want) and any(got[i:] + got[:i] == want for i in range(len(got)))


def _problems(doc: dict, kinds: set[str]) -> list[tuple[str, tuple[str, ...], str]]:  # type: ignore[type-arg]
    return [(p["kind"], tuple(p["revisions"]), p["message"]) for p in doc["problems"] if p["kind"] in kinds]


def _assert_problems(doc: dict, expected: list, text: list[str]) -> None:  # type: ignore[type-arg]
    kinds = {"unparseable", "cycle", "duplicate-id", "missing-parent", "header-mismatch", "conflicting-versions"}
    got = _problems(doc, kinds)
    assert len(got) == len(expected), got
    for kind, revs, message in expected:
        match = [p for p in got if p[0] == kind and p[1] == revs and _matches(p[2], message)]
        assert match, (kind, revs, message, got)
        assert f"  {kind}: {match[0][2]}" in text, text


def _assert_revisions(doc: dict, case: FileCase) -> None:  # type: ignore[type-arg]
    found = {r["revision"]: tuple(r["down_revisions"]) for r in doc["revisions"]}
    for rev, downs in case.revisions.items():
        assert found.get(rev) == downs, (rev, found)
    for rev in case.absent:
        assert rev not in found


@pytest.fixture(scope="module")
def present(tmp_path_factory: pytest.TempPathFactory, _module_git_env: None) -> dict:  # type: ignore[type-arg]
    """A repository per case, the case's files committed on top of the base and present at HEAD;
    all of them scanned at once (each run is a subprocess: the cores share the work).
    Per repository: ``scan --json --no-cache`` must write nothing at all, then ``check`` (cache
    on) nothing but the history cache."""
    root = tmp_path_factory.mktemp("present")
    repos = {}
    for case in FILE_CASES:
        repo = GitRepo.init(root / case.id / "repo")
        _base(repo)
        repo.commit(f"add {case.id}", {f"{V}/{name}": data for name, data in case.files.items()})
        repos[case.id] = repo.path

    def run(case_id: str) -> dict:  # type: ignore[type-arg]
        folder, repo = root / case_id, repos[case_id]
        everything = fingerprint(folder, cache=True)
        doc_proc = cli("scan", str(repo), "--json", "--no-cache", cwd=folder)
        untouched = fingerprint(folder, cache=True) == everything
        check_proc = cli("check", str(repo), cwd=folder)
        return {"doc_proc": doc_proc, "check_proc": check_proc, "untouched": untouched,
                "cache_only": fingerprint(folder) == everything}

    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(zip(repos, pool.map(run, repos)))


@pytest.mark.parametrize("case", _params("present"))
def test_committed_file(present: dict, case: FileCase) -> None:  # type: ignore[type-arg]
    """The file committed and present at HEAD: scan and check both report it; exit 1 iff a problem."""
    result = present[case.id]
    assert result["untouched"] and result["cache_only"]
    doc_proc, check_proc = result["doc_proc"], result["check_proc"]
    doc = scan_json(doc_proc)
    codes = (doc_proc.returncode, check_proc.returncode)
    if case.expect_problem_naming:
        assert any(case.expect_problem_naming in p["message"] or case.expect_problem_naming in p["revisions"]
                   for p in doc["problems"]), doc["problems"]
        assert codes == (1, 1)
        return
    expected = _expected(case.problems, {name: f"{V}/{name}" for name in case.files})
    _assert_problems(doc, expected, stdout_lines(check_proc))
    _assert_revisions(doc, case)
    assert codes == ((1, 1) if expected else (0, 0))
    assert check_proc.stderr == ""
    if not expected:
        assert stdout_lines(check_proc)[0].startswith("ok: ")
    assert doc["warnings"] == [] and doc["unreadable"] == []


@pytest.fixture(scope="module")
def history_only(tmp_path_factory: pytest.TempPathFactory, _module_git_env: None) -> dict:  # type: ignore[type-arg]
    """Every case's files in one commit, deleted by the next: only history holds them. Scanned once."""
    root = tmp_path_factory.mktemp("history-only")
    repo = GitRepo.init(root / "repo")
    _base(repo)
    files = {f"{V}/{name}": data for case in FILE_CASES for name, data in case.files.items()}
    added = repo.commit("add every case", files)
    repo.commit("delete them again", remove=list(files))
    everything = fingerprint(root, cache=True)
    doc_proc, check_proc = cli_many([["scan", str(repo.path), "--json", "--no-cache"],
                                     ["check", str(repo.path), "--json", "--no-cache"]], cwd=root)
    assert fingerprint(root, cache=True) == everything
    text_proc = cli("scan", str(repo.path), cwd=root)
    assert fingerprint(root) == everything
    return {"added": added, "doc": scan_json(doc_proc), "check": scan_json(check_proc), "text": stdout_lines(text_proc),
            "codes": (doc_proc.returncode, text_proc.returncode, check_proc.returncode)}


@pytest.mark.parametrize("case", _params("history"))
def test_history_only_file(history_only: dict, case: FileCase) -> None:  # type: ignore[type-arg]
    """Deleted again: scan still finds and reports it, naming the commit that added it; the gate
    (check) only judges what the versions directory holds and needs, so history's broken files pass."""
    doc, text = history_only["doc"], history_only["text"]
    commit = history_only["added"][:10]
    problems = case.history_problems if case.history_problems is not None else case.problems
    expected = _expected(problems, {name: f"{V}/{name} (commit {commit})" for name in case.files})
    got = [p for p in _problems(doc, {"unparseable", "cycle", "duplicate-id"})
           if any(name in p[2] for name in case.files) or set(p[1]) & (set(case.revisions) | {r for _k, rs, _m in expected for r in rs})]
    assert len(got) == len(expected), got
    for kind, revs, message in expected:
        assert any(p[0] == kind and p[1] == revs and _matches(p[2], message) for p in got), (expected, got)
        assert any(line.startswith(f"  {kind}: ") and _matches(line.split(": ", 1)[1], message) for line in text)
    _assert_revisions(doc, case)
    # scan lists history's broken files as warnings; the revisions deleted next to a and b are heads
    # nothing present stands on, so they were retired, not lost: neither scan nor check fails
    assert all(p["level"] == "warning" for p in doc["problems"]), doc["problems"]
    assert history_only["codes"] == (0, 0, 0)
    gate = history_only["check"]
    assert not [p for p in gate["problems"] if p["kind"] in ("unparseable", "cycle")]
    assert gate["ok"] is True and not gate["missing"]


# --------------------------------------------------------------------------- historic file names

ODD_NAMES = [
    # id, revision, historic name, file restore writes (None: refused), xfail reason
    ("name-with-dotdot", "g1", "a..b_dots.py", None, None),
    ("hidden-name", "g8", ".hidden.py", None, None),
    # Alembic's file pattern stops at a newline: such a file would never load, so it is refused
    ("newline-in-name", "g2", "new\nline.py", None, None),
    ("tab-in-name", "g3", "tab\tname.py", "tab\tname.py", None),
    ("unicode-name", "g4", "ünïcödé_名前.py", "ünïcödé_名前.py", None),
    ("leading-dash-name", "g5", "-dash.py", "-dash.py", None),
    ("backslash-dotdot-name", "g6", "..\\..\\..\\evil.py", "evil.py", None),
    ("windows-drive-name", "g7", "C:\\abs.py", "abs.py", None),
]


@pytest.fixture(scope="module")
def odd_names(tmp_path_factory: pytest.TempPathFactory, _module_git_env: None) -> dict:  # type: ignore[type-arg]
    """Revision files committed under odd names, then deleted. Scanned once; the names restore may
    write are restored together, with --apply, into a copy (Alembic then loads the folder)."""
    root = tmp_path_factory.mktemp("odd-names")
    repo = GitRepo.init(root / "repo")
    repo.commit("base", {"alembic.ini": INI, **environment_files(), f"{V}/a_base.py": revision_source("a", None, "base")})
    files = {f"{V}/{name}": revision_source(rev, "a", rev) for _id, rev, name, _w, _x in ODD_NAMES}
    repo.commit("odd names", files)
    repo.commit("delete them", remove=list(files))
    before = fingerprint(root, cache=True)
    doc = scan_json(cli("scan", str(repo.path), "--json", "--no-cache", cwd=root))
    assert fingerprint(root, cache=True) == before
    copy = root / "restored"
    shutil.copytree(repo.path, copy, symlinks=True)
    safe = [rev for _id, rev, _name, written, bug in ODD_NAMES if written is not None]
    before = fingerprint(root)
    proc = cli("restore", *safe, str(copy), "--apply", "--allow-new-head", cwd=root)  # deleted heads: retired
    after = fingerprint(root)
    assert proc.returncode == 0 and proc.stderr == "", proc.stdout + proc.stderr
    assert f"Alembic's ScriptDirectory sees head(s) {', '.join(safe)}, as we do." in stdout_lines(proc)
    assert {k: v for k, v in after.items() if k in before} == before
    return {"repo": repo.path, "doc": doc, "new": set(after) - set(before)}


@pytest.mark.parametrize(
    "case_id, rev, name, written, bug",
    [pytest.param(*row, id=row[0], marks=[pytest.mark.xfail(strict=True, reason=row[4])] if row[4] else []) for row in ODD_NAMES],
)
def test_historic_file_name(tmp_path: Path, odd_names: dict, case_id: str, rev: str, name: str,  # type: ignore[type-arg]
                            written: str | None, bug: str | None) -> None:
    """scan shows the path as git holds it; restore --apply writes the file's own name inside the
    versions directory, or refuses the whole restore with the documented line and writes nothing."""
    entry = next(r for r in odd_names["doc"]["revisions"] if r["revision"] == rev)
    paths = {s["path"] for c in entry["candidates"] for s in c["sightings"]}
    assert paths == {f"{V}/{name}"}
    assert entry["status"] == "retired"  # deleted heads nothing stands on
    if written is not None:
        assert f"restored/{V}/{written}" in odd_names["new"]
        return
    repo = tmp_path / "repo"
    shutil.copytree(odd_names["repo"], repo, symlinks=True)
    before = fingerprint(tmp_path)
    proc = cli("restore", rev, str(repo), "--apply", "--allow-new-head", cwd=tmp_path)
    assert fingerprint(tmp_path) == before
    assert proc.returncode == 1
    assert error_line_after_plan(proc) == (
        f"error: nothing written: {rev}: historic file name {f'{V}/{name}'!r} is not safe to write into a versions directory"
    )


def test_historic_file_names_restored_together(odd_names: dict) -> None:  # type: ignore[type-arg]
    """Exactly the safe names and the manifest were written, all inside the versions directory."""
    expected = {f"restored/{V}/{written}" for *_x, written, _bug in ODD_NAMES if written is not None}
    assert odd_names["new"] == expected | {f"restored/{V}/migration-archaeologist-manifest.json"}


def error_line_after_plan(proc) -> str:  # type: ignore[no-untyped-def]
    """restore prints its plan on stdout first; the refusal is the one stderr line."""
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def _dotdot_repo(root: Path) -> Path:
    """No alembic.ini; history holds the revision files only under a tree entry named '..'
    (``git mktree`` takes it; git fsck only warns: hasDotdot), so the path is ``../versions/x.py``."""
    repo = GitRepo.init(root / "deep" / "repo")
    a = git("hash-object", "-w", "--stdin", cwd=repo.path, input=revision_source("a", None, "base").encode())
    b = git("hash-object", "-w", "--stdin", cwd=repo.path, input=revision_source("b", "a", "next").encode())
    versions = git("mktree", cwd=repo.path, input=f"100644 blob {a}\ta_base.py\n100644 blob {b}\tb_next.py\n".encode())
    dotdot = git("mktree", cwd=repo.path, input=f"040000 tree {versions}\tversions\n".encode())
    top = git("mktree", cwd=repo.path, input=f"040000 tree {dotdot}\t..\n".encode())
    commit = repo.git("commit-tree", "-m", "paths with ..", top)
    repo.git("update-ref", "refs/heads/main", commit)
    return repo.path


def test_dotdot_tree_entry_versions_dir_stays_inside(tmp_path: Path) -> None:
    repo = _dotdot_repo(tmp_path)
    proc = cli("scan", str(repo), "--json", "--no-cache", cwd=tmp_path)
    doc = scan_json(proc)
    assert {s["path"] for r in doc["revisions"] for c in r["candidates"] for s in c["sightings"]} == {
        "../versions/a_base.py", "../versions/b_next.py"}
    for folder in doc["versions_dirs"]:
        resolved = (repo / folder).resolve()
        assert resolved == repo or repo in resolved.parents, folder


def test_dotdot_tree_entry_restore_writes_nothing_outside(tmp_path: Path) -> None:
    repo = _dotdot_repo(tmp_path)
    before = fingerprint(tmp_path)
    proc = cli("restore", "b", str(repo), "--apply", cwd=tmp_path)
    outside = fingerprint(tmp_path)
    assert not (tmp_path / "deep" / "versions").exists()
    assert outside == before
    assert proc.returncode == 2
    assert error_line(proc) == "error: no versions directory known (no alembic.ini, none in history): pass --versions DIR"


# --------------------------------------------------------------------------- archives and bytecode

PYC_TAG = sys.implementation.cache_tag
MiB = 1024 * 1024


def _pyc(source: str, name: str) -> bytes:
    """Real bytecode of this interpreter, as py_compile writes it (timestamp header); not compiled
    under this module's ``from __future__ import annotations``."""
    return importlib.util.MAGIC_NUMBER + b"\x00" * 12 + marshal.dumps(compile(source, name, "exec", dont_inherit=True))


def _tar(path: Path, members: list[tuple[str, bytes | None, bytes, str]]) -> None:
    with tarfile.open(path, "w:gz", format=tarfile.GNU_FORMAT) as tar:
        for name, data, kind, link in members:
            info = tarfile.TarInfo(name)
            info.type, info.linkname, info.mtime = kind, link, 1_760_500_000
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)


def _tar_gz_bomb(path: Path) -> None:
    """One member declared 3 GiB; 8 MiB of zeros follow, gzip'd to a few KB (a stream, never seeked)."""
    info = tarfile.TarInfo("versions/huge.py")
    info.size, info.mtime = 3 * 1024**3, 1_760_500_000
    squeeze = zlib.compressobj(9, zlib.DEFLATED, 31)
    data = squeeze.compress(info.tobuf(format=tarfile.GNU_FORMAT))
    for _ in range(8):
        data += squeeze.compress(bytes(MiB))
    path.write_bytes(data + squeeze.flush())


def _zip_declaring(path: Path, name: str, data: bytes, declared: int) -> None:
    """A zip whose central directory claims ``declared`` uncompressed bytes for its one member."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    raw = bytearray(buffer.getvalue())
    central = raw.rindex(b"PK\x01\x02")
    struct.pack_into("<I", raw, central + 24, declared)
    path.write_bytes(bytes(raw))


def _zip_bomb(path: Path, members: int, size: int) -> int:
    """``members`` entries of ``size`` zero bytes each, deflated once and stored ``members`` times
    (no overlap tricks: a plain zip any unzip would expand). Returns the compressed size of one."""
    squeeze = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = squeeze.compress(bytes(size)) + squeeze.flush()
    crc = zlib.crc32(bytes(size))
    out, central = io.BytesIO(), []
    for i in range(members):
        name = f"versions/bomb_{i:02d}.py".encode()
        offset = out.tell()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(packed), size, len(name), 0) + name + packed)
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(packed), size,
                                   len(name), 0, 0, 0, 0, 0, offset) + name)
    start = out.tell()
    out.write(b"".join(central))
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, members, members, out.tell() - start, start, 0))
    path.write_bytes(out.getvalue())
    return len(packed)


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory, _module_git_env: None) -> dict:  # type: ignore[type-arg]
    """A repository (base 'a', broken bytecode in its versions __pycache__) and, beside it, archives
    with every kind of hostile member. One scan reads them all, from a folder two levels down, so a
    '../' extraction would land inside the fingerprinted area."""
    root = tmp_path_factory.mktemp("archives")
    repo = GitRepo.init(root / "repo")
    repo.commit("base", {"alembic.ini": INI, **environment_files(), f"{V}/a_base.py": revision_source("a", None, "base")})
    cache = repo.path / V / "__pycache__"
    cache.mkdir()
    good = _pyc(revision_source("p1", "a", "rebuilt from bytecode"), "p1_pyc.py")
    (cache / f"p0_bad.{PYC_TAG}.pyc").write_bytes(b"\x00\x00\x00\x00" + good[4:])
    (cache / f"p0_head.{PYC_TAG}.pyc").write_bytes(good[:10])
    (cache / f"p0_body.{PYC_TAG}.pyc").write_bytes(good[:60])
    (cache / f"p1_pyc.{PYC_TAG}.pyc").write_bytes(good)
    store = root / "archives"
    store.mkdir()
    rev = lambda rid: revision_source(rid, "a", f"from an archive {rid}").encode()  # noqa: E731
    absolute = str(root / "abs" / "evil_abs.py")
    _tar(store / "evil.tar.gz", [
        ("versions/c_ok.py", rev("c"), tarfile.REGTYPE, ""),
        ("../evil_up.py", rev("d"), tarfile.REGTYPE, ""),
        ("versions/../../evil_mid.py", rev("d2"), tarfile.REGTYPE, ""),
        (absolute, rev("e"), tarfile.REGTYPE, ""),
        ("versions/link.py", None, tarfile.SYMTYPE, "/etc/passwd"),
        ("versions/hard.py", None, tarfile.LNKTYPE, "versions/c_ok.py"),
        ("versions/fifo.py", None, tarfile.FIFOTYPE, ""),
    ])
    with zipfile.ZipFile(store / "evil.zip", "w") as archive:
        archive.writestr("versions/f_ok.py", rev("f"))
        archive.writestr("../../evil_zip.py", rev("g"))
        archive.writestr("/abs_zip.py", rev("h"))
        link = zipfile.ZipInfo("versions/zlink.py")
        link.external_attr = 0o120777 << 16
        archive.writestr(link, "/etc/passwd")
    _zip_declaring(store / "declared.zip", "versions/big.py", rev("i"), 0xFFFFFF00)
    _tar_gz_bomb(store / "bomb.tar.gz")
    (store / f"q_bad.{PYC_TAG}.pyc").write_bytes(b"\x00\x00\r\n" + _pyc(revision_source("q1", "a", "q1"), "q.py")[4:])
    (store / f"q_body.{PYC_TAG}.pyc").write_bytes(_pyc(revision_source("q2", "a", "q2"), "q.py")[:-40])
    work = root / "work" / "deep"
    work.mkdir(parents=True)
    given = ["evil.tar.gz", "evil.zip", "declared.zip", "bomb.tar.gz", f"q_bad.{PYC_TAG}.pyc", f"q_body.{PYC_TAG}.pyc"]
    args = [arg for name in given for arg in ("--archive", str(store / name))]
    before = fingerprint(root, cache=True)
    doc_proc = cli("scan", str(repo.path), *args, "--json", "--no-cache", cwd=work)
    assert fingerprint(root, cache=True) == before
    text_proc = cli("scan", str(repo.path), *args, cwd=work)
    assert fingerprint(root) == before
    assert not (root / "abs").exists() and not Path("/abs_zip.py").exists()
    return {"store": store.resolve(), "repo": repo.path, "absolute": absolute, "doc": scan_json(doc_proc),
            "text": stdout_lines(text_proc), "codes": (doc_proc.returncode, text_proc.returncode)}


ARCHIVE_CASES = [
    ("tar-dotdot-member", "evil.tar.gz", "../evil_up.py", "member '../evil_up.py' escapes the archive: not read", "d"),
    ("tar-nested-dotdot-member", "evil.tar.gz", "versions/../../evil_mid.py",
     "member 'versions/../../evil_mid.py' escapes the archive: not read", "d2"),
    ("tar-absolute-member", "evil.tar.gz", "{absolute}", "member '{absolute}' has an absolute path: not read", "e"),
    ("tar-symlink-member", "evil.tar.gz", "versions/link.py", "symlink member 'versions/link.py' -> '/etc/passwd': not followed", None),
    ("tar-hardlink-member", "evil.tar.gz", "versions/hard.py",
     "hardlink member 'versions/hard.py' -> 'versions/c_ok.py': not followed", None),
    ("tar-fifo-member", "evil.tar.gz", "versions/fifo.py", "device or special member 'versions/fifo.py': not read", None),
    ("zip-dotdot-member", "evil.zip", "../../evil_zip.py", "member '../../evil_zip.py' escapes the archive: not read", "g"),
    ("zip-absolute-member", "evil.zip", "/abs_zip.py", "member '/abs_zip.py' has an absolute path: not read", "h"),
    ("zip-symlink-member", "evil.zip", "versions/zlink.py", "symlink member 'versions/zlink.py': not followed", None),
    ("zip-declared-4gb-member", "declared.zip", "versions/big.py",
     "member of 4294967040 bytes over the 67108864 byte limit: not read", "i"),
    ("tar-gz-bomb", "bomb.tar.gz", "versions/huge.py", "member of 3221225472 bytes over the 67108864 byte limit: not read", None),
]


@pytest.mark.parametrize("case_id, archive, member, reason, refused", ARCHIVE_CASES, ids=[c[0] for c in ARCHIVE_CASES])
def test_archive_member(archives: dict, case_id: str, archive: str, member: str, reason: str, refused: str | None) -> None:  # type: ignore[type-arg]
    """Each hostile member is refused with its own note and never read; nothing is extracted anywhere."""
    member = member.format(absolute=archives["absolute"])
    reason = reason.format(absolute=archives["absolute"])
    line = f"archive: {archives['store'] / archive}!{member}: {reason}"
    assert line in archives["text"]
    assert {"archive": str(archives["store"] / archive), "member": member, "reason": reason} in archives["doc"]["archive_issues"]
    if refused:
        assert refused not in {r["revision"] for r in archives["doc"]["revisions"]}


def test_archive_tar_gz_bomb_stops_reading(archives: dict) -> None:  # type: ignore[type-arg]
    """case tar-gz-bomb, second note: skipping the 3 GiB member means inflating it; the ratio guard stops that."""
    reasons = [i["reason"] for i in archives["doc"]["archive_issues"] if i["archive"].endswith("bomb.tar.gz") and i["member"] is None]
    assert len(reasons) == 1
    assert re.fullmatch(r"zip bomb guard: compression ratio 1:\d+ over the 1:200 limit: rest of the archive not read", reasons[0])
    assert f"archive: {archives['store'] / 'bomb.tar.gz'}: {reasons[0]}" in archives["text"]


def test_archive_regular_members_are_read(archives: dict) -> None:  # type: ignore[type-arg]
    """case tar-regular-member-read: the scan goes on past every refusal; regular members are read in memory."""
    doc = archives["doc"]
    paths = {r["revision"]: {s["path"] for c in r["candidates"] for s in c["sightings"]} for r in doc["revisions"]}
    assert paths["c"] == {f"{archives['store'] / 'evil.tar.gz'}!versions/c_ok.py"}
    assert paths["f"] == {f"{archives['store'] / 'evil.zip'}!versions/f_ok.py"}
    # the rest of the scan: the heads the archives add (a -> c, a -> f, a -> p1) are only a warning:
    # nothing present stands on them, so they are retired, and the chain Alembic loads has one head
    assert archives["codes"] == (0, 0)
    assert [(p["kind"], p["level"]) for p in doc["problems"]] == [("multiple-heads", "warning")]


PYC_CASES = [
    ("pyc-bad-magic-in-pycache", f"p0_bad.{PYC_TAG}.pyc", "not a .pyc (bad magic number)"),
    ("pyc-truncated-header-in-pycache", f"p0_head.{PYC_TAG}.pyc", "truncated .pyc: 10 bytes, shorter than its header"),
    ("pyc-truncated-body-in-pycache", f"p0_body.{PYC_TAG}.pyc", "truncated or corrupt .pyc body: marshal data too short"),
]


@pytest.mark.parametrize("case_id, name, reason", PYC_CASES, ids=[c[0] for c in PYC_CASES])
def test_pycache_bytecode(archives: dict, case_id: str, name: str, reason: str) -> None:  # type: ignore[type-arg]
    line = f"bytecode {V}/__pycache__/{name}: {reason}"
    assert line in archives["doc"]["warnings"]
    assert f"warning: {line}" in archives["text"]


def test_pycache_good_bytecode_is_still_read(archives: dict) -> None:  # type: ignore[type-arg]
    """case pyc-good-in-pycache-read: the broken .pyc files beside it stop nothing."""
    entry = next(r for r in archives["doc"]["revisions"] if r["revision"] == "p1")
    assert [c["fidelity"] for c in entry["candidates"]] == ["bytecode"]
    assert len([w for w in archives["doc"]["warnings"] if w.startswith("bytecode ")]) == len(PYC_CASES)


def test_pyc_truncated_body_given_with_archive_is_noted(archives: dict) -> None:  # type: ignore[type-arg]
    """case pyc-truncated-body-given-with-archive: noted, and nothing taken from it."""
    path = archives["store"] / f"q_body.{PYC_TAG}.pyc"
    issues = [i for i in archives["doc"]["archive_issues"] if i["archive"] == str(path)]
    assert [i["reason"] for i in issues] == ["truncated or corrupt .pyc body: marshal data too short"]
    assert "q2" not in {r["revision"] for r in archives["doc"]["revisions"]}


def test_pyc_truncated_body_given_with_archive_note_names_it_once(archives: dict) -> None:  # type: ignore[type-arg]
    """case pyc-truncated-body-given-with-archive, its line."""
    path = archives["store"] / f"q_body.{PYC_TAG}.pyc"
    reason = "truncated or corrupt .pyc body: marshal data too short"
    assert {"archive": str(path), "member": None, "reason": reason} in archives["doc"]["archive_issues"]
    assert f"archive: {path}: {reason}" in archives["text"]


def test_pyc_bad_magic_given_with_archive(archives: dict) -> None:  # type: ignore[type-arg]
    """case pyc-bad-magic-given-with-archive."""
    path = archives["store"] / f"q_bad.{PYC_TAG}.pyc"
    assert {"archive": str(path), "member": None, "reason": "not a .pyc (bad magic number)"} in archives["doc"]["archive_issues"]


def test_zip_bomb_stays_bounded(tmp_path: Path) -> None:
    """case zip-bomb-3gb: 50 members of 60 MiB of zeros (3 GiB) in a 3 MB zip. Each is refused by
    the ratio guard before a byte is inflated: the scan stays small and quick, and says so per member."""
    repo = GitRepo.init(tmp_path / "repo")
    repo.commit("base", {"alembic.ini": INI, **environment_files(), f"{V}/a_base.py": revision_source("a", None, "base")})
    bomb = tmp_path / "bomb.zip"
    packed = _zip_bomb(bomb, 50, 60 * MiB)
    assert bomb.stat().st_size < 4 * MiB
    before = fingerprint(tmp_path, cache=True)
    run = measured("scan", str(repo.path), "--archive", str(bomb), "--no-cache", cwd=tmp_path)
    assert fingerprint(tmp_path, cache=True) == before
    assert run["returncode"] == 0 and run["stderr"] == ""
    assert run["seconds"] < 20, run["seconds"]
    assert run["rss_mb"] < 300, run["rss_mb"]
    ratio = 60 * MiB // packed
    lines = [line.rstrip() for line in run["stdout"].splitlines()]
    for i in range(50):
        assert (f"archive: {bomb.resolve()}!versions/bomb_{i:02d}.py: zip bomb guard: compression ratio 1:{ratio} "
                f"over the 1:200 limit: not read") in lines
