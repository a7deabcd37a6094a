"""Corpus of bad inputs for the write path (``restore --apply``), each built for real.

Every case runs the command line as a user does and asserts (1) the exact one-line message,
(2) the exit code, (3) that nothing was written or changed (a fingerprint of the repository, the
versions directory and, where a symlink points elsewhere, of what it points to) and (4) that no
traceback is printed.

Cases (ids):

- ``symlinked-versions-dir``: the versions directory is a symlink to a folder outside the
  repository. Decided behaviour: written through, as Alembic's own ``alembic revision`` does; the
  link stays a link, and nothing but the restored files and the manifest appears anywhere.
- ``dangling-symlinked-versions-dir``: the versions directory is a symlink to nothing: refused
  (exit 3), the missing target is not created.
- ``symlink-at-target``: a symlink to someone's file already sits at the restored file's name:
  the documented conflict, never followed, never replaced.
- ``dangling-symlink-at-target``: a dangling symlink sits at that name: refused, its target is not
  created.
- ``read-only-versions-dir``: chmod 555; as root, where chmod does not stop writes, ``chattr +i``
  (else chmod 555 with the CLI under ``setpriv`` without CAP_DAC_OVERRIDE).
- ``versions-parent-is-a-file``: ``--versions`` below a regular file.
- ``disk-full-revision-file`` / ``disk-full-manifest``: a real write fails with EFBIG (the CLI runs
  under RLIMIT_FSIZE with SIGXFSZ ignored), on the first revision file or on the manifest: no
  partial or temp file, nothing left written.
- ``ctrl-c-during-restore``: SIGINT to a real ``restore --apply`` while it writes 40 revisions
  (fsync slowed to 50 ms so the signal lands between writes): exit 130 and the one line
  "interrupted: ...", no temp file, every file whole or absent, the manifest (if any) valid JSON.
- ``ctrl-c-restored-files-keep-provenance``: the same, and every file left behind has its manifest
  record.
- ``unknown-revision``: ``restore <id no source holds> --apply``.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import pytest

from corpus import lost_chain
from gitfixture import GitRepo

V = "alembic/versions"
MANIFEST = "migration-archaeologist-manifest.json"
LOCK = ".migration-archaeologist.lock"
INTERRUPTED = "interrupted: nothing was left half-written"
NOT_FOUND = "error: Can't locate revision identified by '{0}' in git history, reflogs, stashes or unreachable objects"


# --------------------------------------------------------------------------- helpers


def tree_state(root: Path) -> dict[str, str]:
    """Every entry under root, links not followed: files by content and mode, symlinks by target,
    folders as such. The history cache (``.git/migration-archaeologist``) may change."""
    out: dict[str, str] = {}
    if not root.exists() and not root.is_symlink():
        return out
    for folder, dirs, files in os.walk(root, followlinks=False):
        rel_folder = Path(folder).relative_to(root)
        if Path(folder).name == ".git" and "migration-archaeologist" in dirs:
            dirs.remove("migration-archaeologist")
        for name in dirs + files:
            path = Path(folder) / name
            rel = str(rel_folder / name)
            if path.is_symlink():
                out[rel] = "link -> " + os.readlink(path)
            elif path.is_dir():
                out[rel] = "dir"
            else:
                out[rel] = f"{oct(path.stat().st_mode)} {hashlib.sha1(path.read_bytes()).hexdigest()}"
    return out


def temp_files(*folders: Path) -> list[str]:
    """What atomic writes stage (``.ma-restore-*.tmp``, ``.ma-manifest-*.tmp``) and the lock file of a
    run (``.migration-archaeologist.lock``): none may be left once the command has ended."""
    return [p.name for f in folders if f.is_dir() for p in f.iterdir()
            if p.name.startswith(".ma-") or p.name == LOCK]


def run_ma(*args: str, preexec: Callable[[], None] | None = None, prefix: list[str] = []) -> subprocess.CompletedProcess[str]:  # noqa: B006
    env = {k: v for k, v in os.environ.items() if k != "MA_DEBUG"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.run([*prefix, sys.executable, "-m", "migration_archaeologist", *args], capture_output=True,
                          text=True, env=env, timeout=120, preexec_fn=preexec)


def error_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The one stderr line a failing command prints; never a traceback."""
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def cannot_write(folder: Path, reason: str) -> str:
    """The message of a versions directory that cannot be written (exit 3, environment), as restore's
    lock gives it for a read-only directory: ``error: cannot write into <dir>: <reason>``; the same
    for every other failing write (mkdir, a revision file, the manifest). A regex: ``reason`` is one."""
    return rf"error: cannot write into {re.escape(str(folder))}: {reason}"


def file_size_limit(limit: int) -> Callable[[], None]:
    """preexec_fn: writes past ``limit`` bytes fail with EFBIG (SIGXFSZ ignored, so no core dump)."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@contextmanager
def read_only(folder: Path) -> Iterator[tuple[str, list[str]]]:
    """Make ``folder`` refuse new entries for real; yields (the reason a write gets, a command prefix
    to run the CLI with).

    chmod 555 for ordinary users. Root ignores permission bits, so as root the folder is made
    immutable with ``chattr +i`` (needs CAP_LINUX_IMMUTABLE and a file system with the flag); failing
    that, chmod 555 and the CLI runs under ``setpriv`` without CAP_DAC_OVERRIDE, so the bits count."""
    mode = folder.stat().st_mode & 0o7777
    probe = folder / ".probe"
    undo, prefix = "chmod", []
    chattr = shutil.which("chattr")
    if os.geteuid() == 0 and chattr and subprocess.run([chattr, "+i", str(folder)], capture_output=True).returncode == 0:
        undo = "chattr"
    elif os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if not setpriv:
            pytest.skip("running as root, where chmod 555 does not stop writes, and neither chattr +i nor setpriv "
                        "(to drop CAP_DAC_OVERRIDE) works here; versions-parent-is-a-file covers an unwritable "
                        "versions directory as root")
        prefix = [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--"]
        folder.chmod(0o555)
    else:
        folder.chmod(0o555)
    try:
        attempt = subprocess.run([*prefix, sys.executable, "-c", f"open({str(probe)!r}, 'x')"], capture_output=True, text=True)
        if attempt.returncode == 0:
            probe.unlink()
            pytest.skip(f"could not make {folder} read-only here ({undo}, prefix {prefix})")
        reason = os.strerror(errno.EACCES) if "Permission denied" in attempt.stderr else os.strerror(errno.EPERM)
        yield reason, prefix
    finally:
        if undo == "chattr":
            subprocess.run([chattr or "chattr", "-i", str(folder)], check=True)
        folder.chmod(mode)


# --------------------------------------------------------------------------- symlinks


def test_symlinked_versions_dir_is_written_through(tmp_path: Path) -> None:
    """Decided: a versions directory that is a symlink (shared migrations, a monorepo) is written
    through, as ``alembic revision`` would, once the user names it; the link itself and everything
    else stay as they are. Guessed from history alone, a folder that leads out of the repository
    is not used (a cloned repository can carry such a link), and nothing is written."""
    repo, expected = lost_chain(tmp_path / "repo")
    shared = tmp_path / "shared-migrations"
    shared.mkdir()
    (repo.path / V).rmdir()
    (repo.path / V).symlink_to(shared, target_is_directory=True)
    repo_before = tree_state(repo.path)
    around_before = tree_state(tmp_path)

    guessed = run_ma("restore", "r0002", str(repo.path), "--apply")
    assert guessed.returncode == 2 and "pass --versions DIR" in guessed.stderr, guessed.stderr
    assert tree_state(tmp_path) == around_before

    proc = run_ma("restore", "r0002", str(repo.path), "--apply", "--versions", V)

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr and proc.stderr.strip() == ""
    assert tree_state(repo.path) == repo_before, "the link is still the same link; nothing else in the repository"
    assert sorted(p.name for p in shared.iterdir()) == sorted([*expected, MANIFEST])
    for name, data in expected.items():
        assert (shared / name).read_bytes() == data
    manifest = json.loads((shared / MANIFEST).read_text())
    assert sorted(r["file"] for r in manifest["restored"]) == sorted(expected)
    new = {k for k in tree_state(tmp_path).keys() - around_before.keys()}
    assert new == {f"shared-migrations/{name}" for name in [*expected, MANIFEST]}, "nothing written anywhere else"


def test_dangling_symlinked_versions_dir_is_refused(tmp_path: Path) -> None:
    repo, _ = lost_chain(tmp_path / "repo")
    nowhere = tmp_path / "nowhere"
    (repo.path / V).rmdir()
    (repo.path / V).symlink_to(nowhere, target_is_directory=True)
    before = tree_state(tmp_path)

    # named by the user (guessed from history, a link out of the repository is not used at all)
    proc = run_ma("restore", "r0002", str(repo.path), "--apply", "--versions", V)

    assert re.fullmatch(cannot_write(repo.path / V, reason=".+"), error_line(proc))
    assert proc.returncode == 3
    assert tree_state(tmp_path) == before and not nowhere.exists()


def test_symlink_at_the_target_name_is_never_followed(tmp_path: Path) -> None:
    repo, expected = lost_chain(tmp_path / "repo")
    theirs = tmp_path / "elsewhere" / "notes.py"
    theirs.parent.mkdir()
    theirs.write_text("# someone's own file, reached through a symlink\n")
    link = repo.path / V / "r0001_step.py"
    link.symlink_to(theirs)
    before = tree_state(tmp_path)

    proc = run_ma("restore", "r0002", str(repo.path), "--apply")

    assert error_line(proc) == (
        f"error: nothing written: r0001: {link} already exists with different content "
        f"(blob {repo.blob_of(theirs.read_bytes())[:10]}, recovered blob {repo.blob_of(expected['r0001_step.py'])[:10]}); "
        "it is never overwritten: move it aside or use --versions"
    )
    assert proc.returncode == 1
    assert tree_state(tmp_path) == before, "neither the link, its target, nor anything else changed"


def test_dangling_symlink_at_the_target_name_is_never_followed(tmp_path: Path) -> None:
    repo, _ = lost_chain(tmp_path / "repo")
    target = tmp_path / "elsewhere" / "created-through-the-link.py"
    link = repo.path / V / "r0001_step.py"
    link.symlink_to(target)
    before = tree_state(tmp_path)

    proc = run_ma("restore", "r0002", str(repo.path), "--apply")

    assert error_line(proc) == f"error: nothing written: r0001: cannot read it: [Errno 2] No such file or directory: '{link}'"
    assert proc.returncode == 1
    assert tree_state(tmp_path) == before and not target.parent.exists()


# --------------------------------------------------------------------------- unwritable directories


def test_read_only_versions_dir(tmp_path: Path) -> None:
    repo, _ = lost_chain(tmp_path / "repo")
    versions = repo.path / V
    before = tree_state(tmp_path)
    with read_only(versions) as (reason, prefix):
        proc = run_ma("restore", "r0002", str(repo.path), "--apply", prefix=prefix)
    assert error_line(proc) == f"error: cannot write into {versions}: {reason}"
    assert proc.returncode == 3
    assert tree_state(tmp_path) == before


def test_versions_parent_is_a_file(tmp_path: Path) -> None:
    repo, _ = lost_chain(tmp_path / "repo")
    (repo.path / "alembic" / "notes").write_text("a file, not a folder\n")
    versions = repo.path / "alembic" / "notes" / "versions"
    before = tree_state(tmp_path)

    proc = run_ma("restore", "r0002", str(repo.path), "--apply", "--versions", str(versions))

    assert re.fullmatch(cannot_write(versions, reason="Not a directory"), error_line(proc))
    assert proc.returncode == 3
    assert tree_state(tmp_path) == before


# --------------------------------------------------------------------------- disk full


def test_disk_full_on_a_revision_file(tmp_path: Path) -> None:
    repo, expected = lost_chain(tmp_path / "repo")
    versions = repo.path / V
    before = tree_state(tmp_path)
    limit = min(len(data) for data in expected.values()) // 2

    proc = run_ma("restore", "r0002", str(repo.path), "--apply", "--no-cache", "--no-alembic-check",
                  preexec=file_size_limit(limit))

    assert temp_files(versions) == [], "the staged temp file is removed"
    assert tree_state(tmp_path) == before, "no partial file, nothing written"
    assert re.fullmatch(cannot_write(versions, reason="File too large"), error_line(proc))
    assert proc.returncode == 3


def test_disk_full_on_the_manifest(tmp_path: Path) -> None:
    repo, expected = lost_chain(tmp_path / "repo")
    versions = repo.path / V
    before = tree_state(tmp_path)
    limit = max(len(data) for data in expected.values()) + 100  # every revision file fits, the manifest does not

    proc = run_ma("restore", "r0002", str(repo.path), "--apply", "--no-cache", "--no-alembic-check",
                  preexec=file_size_limit(limit))

    assert temp_files(versions) == []
    assert re.fullmatch(cannot_write(versions, reason="File too large"), error_line(proc))
    assert proc.returncode == 3
    assert tree_state(tmp_path) == before, "all or nothing: no restored file is left without its record"


# --------------------------------------------------------------------------- Ctrl-C

#: The CLI with every fsync 50 ms slower: the writes are real, only slow enough to be interrupted.
SLOW_FSYNC = (
    "import os, runpy, time\n"
    "_fsync = os.fsync\n"
    "def _slow(fd):\n"
    "    time.sleep(0.05)\n"
    "    _fsync(fd)\n"
    "os.fsync = _slow\n"
    "runpy.run_module('migration_archaeologist', run_name='__main__', alter_sys=True)\n"
)


def interrupted_restore(tmp_path: Path, count: int = 40) -> tuple[GitRepo, dict[str, bytes], subprocess.CompletedProcess[str]]:
    """SIGINT (to the whole process group, as a terminal's Ctrl-C) once a few files are written."""
    repo, expected = lost_chain(tmp_path / "repo", count)
    versions = repo.path / V
    env = {k: v for k, v in os.environ.items() if k != "MA_DEBUG"}
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_FSYNC, "restore", f"r{count - 1:04d}", str(repo.path), "--apply", "--no-cache"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while sum(1 for p in versions.iterdir() if p.name.endswith(".py")) < 3:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "restore never started writing"
            time.sleep(0.005)
        os.killpg(proc.pid, signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return repo, expected, subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def test_ctrl_c_during_restore(tmp_path: Path) -> None:
    repo, expected, proc = interrupted_restore(tmp_path)
    versions = repo.path / V

    assert "Traceback" not in proc.stdout + proc.stderr
    # Typer turns Ctrl-C inside a command into a silent exit 130; cli.main says what happened
    assert proc.stderr.strip() == INTERRUPTED, proc.stderr
    assert proc.returncode == 130
    assert temp_files(versions) == [], "no staged temp file is left"
    present = sorted(p.name for p in versions.iterdir() if p.name != MANIFEST)
    assert 3 <= len(present) < len(expected), "the signal landed while restore was writing"
    assert present == list(expected)[: len(present)], "written in chain order, nothing else"
    for name in present:
        assert (versions / name).read_bytes() == expected[name], f"{name} is whole"
    if (versions / MANIFEST).exists():
        doc = json.loads((versions / MANIFEST).read_text())
        assert doc["schema"] == "migration-archaeologist/manifest/1" and isinstance(doc["restored"], list)
    assert repo.git("status", "--porcelain", "--untracked-files=no") == "", "nothing tracked changed"


def test_ctrl_c_restored_files_keep_their_provenance(tmp_path: Path) -> None:
    repo, expected, proc = interrupted_restore(tmp_path)
    versions = repo.path / V
    assert proc.returncode == 130
    present = sorted(p.name for p in versions.iterdir() if p.name.endswith(".py"))
    assert present, "some files were written before the signal"
    doc = json.loads((versions / MANIFEST).read_text())
    recorded = {r["file"]: r["blob"] for r in doc["restored"]}
    assert {name: recorded.get(name) for name in present} == {name: repo.blob_of(expected[name]) for name in present}


# --------------------------------------------------------------------------- a revision no source holds


def test_unknown_revision(tmp_path: Path) -> None:
    repo, _ = lost_chain(tmp_path / "repo")
    before = tree_state(tmp_path)
    proc = run_ma("restore", "deadbeef0000", str(repo.path), "--apply")
    assert error_line(proc) == NOT_FOUND.format("deadbeef0000")
    assert proc.returncode == 1
    assert tree_state(tmp_path) == before


# --------------------------------------------------------------------------- kill -9, then run again

#: The CLI, killed for real (SIGKILL, nothing runs after it) the ``n``-th time it calls ``os.<call>``:
#: ``link`` puts a staged revision file in place, ``replace`` puts the manifest in place.
KILLED_AT = (
    "import os, runpy, signal, sys\n"
    "call, n = sys.argv.pop(1), int(sys.argv.pop(1))\n"
    "real, seen = getattr(os, call), [0]\n"
    "def killer(*args, **kwargs):\n"
    "    seen[0] += 1\n"
    "    if seen[0] == n:\n"
    "        os.kill(os.getpid(), signal.SIGKILL)\n"
    "    return real(*args, **kwargs)\n"
    "setattr(os, call, killer)\n"
    "runpy.run_module('migration_archaeologist', run_name='__main__', alter_sys=True)\n"
)


def killed_restore(repo: GitRepo, call: str, n: int, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "MA_DEBUG"}
    return subprocess.run([sys.executable, "-c", KILLED_AT, call, str(n), *args], capture_output=True, text=True,
                          env=env, timeout=120)


def late_records(versions: Path) -> dict[str, str]:
    doc = json.loads((versions / MANIFEST).read_text())
    return {r["file"]: r["reason"] for r in doc["restored"]}


def test_kill_9_while_writing_then_restore_again_repairs(tmp_path: Path) -> None:
    """case kill-9-mid-restore: killed while linking the third file into place: two files are written
    without their manifest records and the third one's temp file is left (what a real kill -9 leaves;
    before, a rerun left both so for ever). The next ``restore --apply`` removes the temp file,
    records the two late (saying what is known: untracked, history's exact bytes) and writes the rest."""
    repo, expected = lost_chain(tmp_path / "repo", 5)
    versions = repo.path / V
    killed = killed_restore(repo, "link", 3, "restore", "r0004", str(repo.path), "--apply", "--no-cache")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert sorted(p.name for p in versions.glob("*.py")) == ["r0000_step.py", "r0001_step.py"]
    (left,) = [name for name in temp_files(versions) if name != LOCK]  # the lock file is left too
    assert left.startswith(".ma-restore-") and not (versions / MANIFEST).exists()

    proc = run_ma("restore", "r0004", str(repo.path), "--apply", "--no-cache")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert temp_files(versions) == []
    assert f"note: removed {versions / left}: a temp file left by an interrupted run" in proc.stderr
    for name, data in expected.items():
        assert (versions / name).read_bytes() == data
    reasons = late_records(versions)
    assert sorted(reasons) == sorted(expected)
    late = sorted(name for name, reason in reasons.items() if reason.startswith("recorded by a later run"))
    assert late == ["r0000_step.py", "r0001_step.py"]
    assert all(f"note: recorded {versions / name} in the manifest" in proc.stderr for name in late)

    again = run_ma("restore", "r0004", str(repo.path), "--apply", "--no-cache")
    assert again.returncode == 0 and "note:" not in again.stderr, again.stderr  # repaired once, then quiet
    assert late_records(versions) == reasons


def test_kill_9_before_the_manifest_then_nothing_left_to_write_still_records(tmp_path: Path) -> None:
    """case kill-9-before-manifest: every file written, killed as the manifest is put in place: no
    record at all, and the manifest's temp file left. A rerun has nothing to write ("every revision
    asked for is present"), and still removes the temp file and records every file; a file the
    repository tracks, or one whose bytes no history holds, is never recorded as restored."""
    repo, expected = lost_chain(tmp_path / "repo", 3)
    versions = repo.path / V
    (versions / "mine_new.py").write_text("# someone's new revision, not in history\nrevision = 'zzz'\n")
    killed = killed_restore(repo, "replace", 1, "restore", "r0002", str(repo.path), "--apply", "--no-cache",
                            "--allow-new-head")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    (left,) = [name for name in temp_files(versions) if name != LOCK]
    assert left.startswith(".ma-manifest-") and not (versions / MANIFEST).exists()
    repo.git("add", f"{V}/r0000_step.py")  # this one the user has added to git since: the repository's own

    proc = run_ma("restore", "r0002", str(repo.path), "--apply", "--no-cache", "--allow-new-head")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Nothing to restore: every revision asked for is present." in proc.stdout
    assert temp_files(versions) == []
    assert sorted(late_records(versions)) == ["r0001_step.py", "r0002_step.py"]
    assert (versions / "r0000_step.py").read_bytes() == expected["r0000_step.py"]
