"""The archive source on real folders, zip/tar files, nested archives and git bundles built here."""

from __future__ import annotations

import io
import os
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

import pytest

from gitfixture import GitRepo, revision_source
from migration_archaeologist.parse.revision import RevisionFile
from migration_archaeologist.sources.archive.findings import ArchiveIssue
from migration_archaeologist.sources.archive.limits import Limits
from migration_archaeologist.sources.archive.source import ArchiveSource
from migration_archaeologist.sources.archive.untracked import untracked_files
from migration_archaeologist.sources.interface import git_blob_id

REV_A = revision_source("aaa111", None, "base").encode()
REV_B = revision_source("bbb222", "aaa111", "add column").encode()
MTIME = 1_760_500_000  # 2025-10-15T03:46:40Z
MTIME_ISO = "2025-10-15T03:46:40+00:00"


def scan(*paths: Path, root: Path | None = None, limits: Limits = Limits()) -> tuple[ArchiveSource, list]:
    source = ArchiveSource(list(paths), root=root, limits=limits)
    return source, list(source.iter_sightings())


def revisions(source: ArchiveSource, sightings: list) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for s in sightings:
        parsed = source.parsed(s.blob)
        assert isinstance(parsed, RevisionFile)
        out.setdefault(parsed.revision, set()).add(s.path)
    return out


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2024, 3, 1, 12, 30, 0)), data, zipfile.ZIP_DEFLATED)
    return path


def tar_bytes(members: dict[str, bytes], mode: str = "w") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = MTIME
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


# ---------------------------------------------------------------------- folders and single archives


def test_plain_folder_with_nested_subfolders(tmp_path: Path) -> None:
    backup = tmp_path / "backup"
    (backup / "2024" / "versions").mkdir(parents=True)
    (backup / "old").mkdir()
    (backup / "2024" / "versions" / "aaa111_base.py").write_bytes(REV_A)
    (backup / "old" / "bbb222_add.py.bak").write_bytes(REV_B)
    (backup / "old" / "notes.py").write_text("print('not a revision')\n")
    (backup / "old" / "aaa111_base.cpython-311.pyc").write_bytes(b"\x00" + REV_A)
    os.utime(backup / "2024" / "versions" / "aaa111_base.py", (MTIME, MTIME))

    source, sightings = scan(backup, root=tmp_path)

    assert revisions(source, sightings) == {
        "aaa111": {"backup/2024/versions/aaa111_base.py"},
        "bbb222": {"backup/old/bbb222_add.py.bak"},
    }
    first = next(s for s in sightings if s.path.endswith("aaa111_base.py"))
    assert (first.source, first.event, first.commit, first.ref, first.date) == ("archive", "seen", None, None, MTIME_ISO)
    assert source.content(first.blob) == REV_A
    assert source.issues == []


def test_zip(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "old.zip", {"proj/versions/aaa111_base.py": REV_A, "proj/README": b"hi", "proj/versions/": b""})
    source, sightings = scan(archive, root=tmp_path)
    assert [(s.path, s.date) for s in sightings] == [("old.zip!proj/versions/aaa111_base.py", "2024-03-01T12:30:00+00:00")]
    assert source.content(sightings[0].blob) == REV_A
    assert source.issues == []


@pytest.mark.parametrize(
    ("name", "mode"),
    [("r.tar", "w"), ("r.tar.gz", "w:gz"), ("r.tgz", "w:gz"), ("r.tar.bz2", "w:bz2"), ("r.tar.xz", "w:xz")],
)
def test_tar_flavours(tmp_path: Path, name: str, mode: str) -> None:
    archive = tmp_path / name
    archive.write_bytes(tar_bytes({"versions/aaa111_base.py": REV_A, "versions/bbb222_add.py": REV_B}, mode))
    source, sightings = scan(archive, root=tmp_path)
    assert revisions(source, sightings) == {
        "aaa111": {f"{name}!versions/aaa111_base.py"},
        "bbb222": {f"{name}!versions/bbb222_add.py"},
    }
    assert {s.date for s in sightings} == {MTIME_ISO}
    assert source.issues == []


def test_archive_outside_root_keeps_the_path_as_given(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "old.zip", {"x.py": REV_A})
    _, sightings = scan(archive, root=tmp_path / "elsewhere")
    assert [s.path for s in sightings] == [f"{archive.as_posix()}!x.py"]


def test_zip_inside_tar_gz_is_read_from_memory(tmp_path: Path) -> None:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("versions/x.py", REV_B)
    outer = tmp_path / "outer.tar.gz"
    outer.write_bytes(tar_bytes({"inner.zip": inner.getvalue()}, "w:gz"))
    before = sorted(p.name for p in tmp_path.iterdir())

    source, sightings = scan(outer, root=tmp_path)

    assert [s.path for s in sightings] == ["outer.tar.gz!inner.zip!versions/x.py"]
    assert source.content(sightings[0].blob) == REV_B
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing extracted
    assert source.issues == []


def test_two_levels_of_nesting_are_not_opened(tmp_path: Path) -> None:
    deepest = tar_bytes({"x.py": REV_A})
    middle = tar_bytes({"deep.tar": deepest})
    outer = tmp_path / "outer.tar"
    outer.write_bytes(tar_bytes({"middle.tar": middle}))
    source, sightings = scan(outer)
    assert sightings == []
    assert [(i.member, "nested more than one level" in i.reason) for i in source.issues] == [("deep.tar", True)]


def test_same_content_in_two_archives_is_one_blob_two_sightings(tmp_path: Path) -> None:
    first = make_zip(tmp_path / "a.zip", {"versions/aaa111_base.py": REV_A})
    second = tmp_path / "b.tar.gz"
    second.write_bytes(tar_bytes({"backup/aaa111_base.py": REV_A}, "w:gz"))
    source, sightings = scan(first, second, root=tmp_path)
    assert {s.blob for s in sightings} == {git_blob_id(REV_A)}
    assert [s.path for s in sightings] == ["a.zip!versions/aaa111_base.py", "b.tar.gz!backup/aaa111_base.py"]
    assert source.content(git_blob_id(REV_A)) == REV_A


def test_folder_holding_archives_opens_them(tmp_path: Path) -> None:
    folder = tmp_path / "dump"
    folder.mkdir()
    make_zip(folder / "release.zip", {"v/aaa111_base.py": REV_A})
    _, sightings = scan(folder, root=tmp_path)
    assert [s.path for s in sightings] == ["dump/release.zip!v/aaa111_base.py"]


# ---------------------------------------------------------------------- git bundles


def test_git_bundle_reads_history_and_leaves_the_repo_alone(repo: GitRepo, tmp_path: Path) -> None:
    v = "app/alembic/versions"
    repo.commit("base", {f"{v}/aaa111_base.py": REV_A.decode()})
    repo.commit("next", {f"{v}/bbb222_add.py": REV_B.decode()})
    repo.commit("lose it", remove=[f"{v}/bbb222_add.py"])
    bundle = tmp_path / "x.bundle"
    repo.git("bundle", "create", str(bundle), "--all")
    snapshot = _repo_state(repo)
    temp_before = set(os.listdir(tempfile.gettempdir()))

    source, sightings = scan(bundle, root=tmp_path)

    assert revisions(source, sightings) == {
        "aaa111": {f"x.bundle!{v}/aaa111_base.py"},
        "bbb222": {f"x.bundle!{v}/bbb222_add.py"},  # deleted at the tip, still in the bundle's history
    }
    assert source.content(git_blob_id(REV_B)) == REV_B
    assert source.issues == []
    assert _repo_state(repo) == snapshot
    leftovers = set(os.listdir(tempfile.gettempdir())) - temp_before
    assert not any(name.startswith("archaeologist-bundle-") for name in leftovers)


def _repo_state(repo: GitRepo) -> tuple[str, str, str]:
    return (
        repo.git("for-each-ref"),
        repo.git("count-objects", "-v"),
        repo.git("status", "--porcelain", "--ignored"),
    )


def test_not_a_bundle(tmp_path: Path) -> None:
    fake = tmp_path / "fake.bundle"
    fake.write_bytes(b"this is not a bundle\n")
    source, sightings = scan(fake)
    assert sightings == []
    assert len(source.issues) == 1 and "not an archive git or Python can read" in source.issues[0].reason


# ---------------------------------------------------------------------- guards


def test_zip_bomb_is_refused_before_reading(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("versions/bomb.py", b"\0" * (50 * 1024 * 1024))
        archive.writestr("versions/aaa111_base.py", REV_A)
    assert bomb.stat().st_size < 200_000

    started = time.monotonic()
    source, sightings = scan(bomb, root=tmp_path)
    elapsed = time.monotonic() - started

    assert [s.path for s in sightings] == ["bomb.zip!versions/aaa111_base.py"]  # the rest of the archive still read
    [issue] = source.issues
    assert issue.member == "versions/bomb.py"
    assert "zip bomb guard: compression ratio 1:" in issue.reason and "over the 1:200 limit" in issue.reason
    assert elapsed < 1.0  # refused from the central directory, never decompressed


def test_tar_gz_bomb_stops_while_streaming(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.tar.gz"
    bomb.write_bytes(tar_bytes({"zeros.bin": b"\0" * (50 * 1024 * 1024), "x.py": REV_A}, "w:gz"))
    source, sightings = scan(bomb)
    assert sightings == []
    [issue] = source.issues
    assert "zip bomb guard: compression ratio" in issue.reason


def test_member_and_total_size_limits(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "big.zip", {"a.py": REV_A, "b.py": REV_B})
    source, sightings = scan(archive, limits=Limits(max_member_bytes=100))
    assert sightings == [] and len(source.issues) == 2
    assert all("over the 100 byte limit" in i.reason for i in source.issues)

    source, sightings = scan(archive, limits=Limits(max_total_bytes=len(REV_A) + 10))
    assert len(sightings) == 1
    assert [("total uncompressed size" in i.reason) for i in source.issues] == [True]

    source, sightings = scan(archive, limits=Limits(max_entries=1))
    assert sightings == [] and "entry count" in source.issues[0].reason


def test_tar_with_escaping_absolute_and_symlink_members(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name in ("../evil.py", "/tmp/x.py"):
            info = tarfile.TarInfo(name)
            info.size = len(REV_A)
            archive.addfile(info, io.BytesIO(REV_A))
        link = tarfile.TarInfo("x.py")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        archive.addfile(link)
    work = tmp_path / "work"
    work.mkdir()
    evil = work / "evil.tar.gz"
    evil.write_bytes(buffer.getvalue())

    source, sightings = scan(evil, root=work)

    assert sightings == []
    assert [i.member for i in source.issues] == ["../evil.py", "/tmp/x.py", "x.py"]
    reasons = [i.reason for i in source.issues]
    assert "escapes the archive" in reasons[0]
    assert "absolute path" in reasons[1]
    assert reasons[2] == "symlink member 'x.py' -> '/etc/passwd': not followed"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]
    assert [p.name for p in work.iterdir()] == ["evil.tar.gz"]


def test_corrupt_zip_is_one_issue_and_scanning_goes_on(tmp_path: Path) -> None:
    corrupt = tmp_path / "broken.zip"
    corrupt.write_bytes(os.urandom(4096))
    truncated = tmp_path / "cut.tar.gz"
    truncated.write_bytes(tar_bytes({"x.py": REV_A}, "w:gz")[:40])
    good = make_zip(tmp_path / "good.zip", {"aaa111_base.py": REV_A})

    source, sightings = scan(corrupt, truncated, good, tmp_path / "missing.zip", root=tmp_path)

    assert [s.path for s in sightings] == ["good.zip!aaa111_base.py"]
    archives = [i.archive for i in source.issues]
    assert archives == [str(corrupt), str(truncated), str(tmp_path / "missing.zip")]
    assert "not an archive git or Python can read" in source.issues[0].reason
    assert all(isinstance(i, ArchiveIssue) and "\n" not in i.reason for i in source.issues)


# ---------------------------------------------------------------------- untracked files


def test_untracked_files_lists_untracked_and_ignored(repo: GitRepo) -> None:
    repo.commit("init", {".gitignore": "archive/\n.venv/\n", "app/models.py": "x = 1\n"})
    repo.write("backup/abc_rev.py", REV_A)
    (repo.path / "archive").mkdir()
    make_zip(repo.path / "archive" / "old.zip", {"v/aaa111_base.py": REV_A})
    repo.write(".venv/lib/python3.11/site-packages/alembic/script.py", "x")
    repo.write("app/__pycache__/models.cpython-311.pyc", b"\0")

    found = untracked_files(repo.path)

    root = repo.path.resolve()
    assert found == [root / "archive" / "old.zip", root / "backup" / "abc_rev.py"]

    source, sightings = scan(*found, root=repo.path)
    assert revisions(source, sightings) == {"aaa111": {"archive/old.zip!v/aaa111_base.py", "backup/abc_rev.py"}}


def test_untracked_files_outside_a_repository(tmp_path: Path) -> None:
    assert untracked_files(tmp_path) == []


def test_zip_symlink_and_escaping_members_are_not_read(tmp_path: Path) -> None:
    archive = tmp_path / "links.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        link = zipfile.ZipInfo("versions/link.py")
        link.create_system = 3
        link.external_attr = (0o120777) << 16  # S_IFLNK
        zf.writestr(link, "/etc/passwd")
        zf.writestr("../../up.py", REV_A)
        zf.writestr("C:/windows/x.py", REV_A)
        zf.writestr("ok/aaa111_base.py", REV_A)
    source, sightings = scan(archive, root=tmp_path)
    assert [s.path for s in sightings] == ["links.zip!ok/aaa111_base.py"]
    assert [(i.member, i.reason.split(" ")[0]) for i in source.issues] == [
        ("versions/link.py", "symlink"),
        ("../../up.py", "member"),
        ("C:/windows/x.py", "member"),
    ]
    assert "escapes the archive" in source.issues[1].reason and "absolute" in source.issues[2].reason


def test_tar_hardlink_and_device_members_are_not_read(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        hard = tarfile.TarInfo("v/hard.py")
        hard.type = tarfile.LNKTYPE
        hard.linkname = "etc/shadow"
        archive.addfile(hard)
        dev = tarfile.TarInfo("v/dev.py")
        dev.type = tarfile.CHRTYPE
        archive.addfile(dev)
        info = tarfile.TarInfo("v/link-to-nothing.txt")  # not a candidate: not reported
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/passwd"
        archive.addfile(info)
    path = tmp_path / "odd.tar"
    path.write_bytes(buffer.getvalue())
    source, sightings = scan(path)
    assert sightings == []
    assert [i.reason for i in source.issues] == [
        "hardlink member 'v/hard.py' -> 'etc/shadow': not followed",
        "device or special member 'v/dev.py': not read",
    ]
