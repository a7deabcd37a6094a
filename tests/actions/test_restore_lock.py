"""Two `restore --apply` runs on one versions directory take turns (issue 8, point 4).

Real processes throughout: the command line is started twice with subprocess.Popen against one
repository. To make the interesting interleaving certain rather than likely, the test itself holds
the versions directory's lock (as a third run would) until both runs are waiting for it — seen in
/proc/<pid>/fd, where each has the lock file open — and then lets go: one run writes, the other must
re-check what the first wrote. Free-running rounds (no lock held by the test) follow.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

from conftest import one_line_error
from gitfixture import GitRepo, revision_source
from migration_archaeologist.errors import RestoreRefused, UsageError
from migration_archaeologist.actions.tool_files import MANIFEST_NAME
from migration_archaeologist.actions.restore import apply_restore, plan_restore
from migration_archaeologist.chain.scan import scan_repository
from migration_archaeologist.actions.tool_files import LOCK_NAME
from migration_archaeologist.actions.versions_lock import LOCK_TIMEOUT_ENV, lock_timeout_setting

V = "alembic/versions"
FILES = {
    "r1": "1_base.py", "r2": "2_next.py", "r3": "3_last.py",  # one chain
    "x1": "x1_other_base.py", "x2": "x2_other_next.py",  # a second base, independent of it
}
PROC_FD = Path("/proc/self/fd").is_dir()


@pytest.fixture
def lost(repo: GitRepo) -> Iterator[tuple[GitRepo, dict[str, bytes]]]:
    """Two lost chains: r1 <- r2 <- r3 and x1 <- x2, committed then deleted; an empty versions dir."""
    texts = {
        "r1": revision_source("r1", None, "base"),
        "r2": revision_source("r2", "r1", "next"),
        "r3": revision_source("r3", "r2", "last"),
        "x1": revision_source("x1", None, "other base"),
        "x2": revision_source("x2", "x1", "other next"),
    }
    paths = {f"{V}/{FILES[rev]}": text for rev, text in texts.items()}
    repo.commit("chains", paths)
    repo.commit("cleanup", remove=list(paths))
    (repo.path / V).mkdir(parents=True)
    yield repo, {rev: text.encode() for rev, text in texts.items()}


def start(repo: GitRepo, *args: str, timeout: float = 120) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "MA_DEBUG"}
    env[LOCK_TIMEOUT_ENV] = f"{timeout:g}"
    return subprocess.Popen(
        [sys.executable, "-m", "migration_archaeologist", "restore", *args, str(repo.path),
         "--versions", str(repo.path / V)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )


def hold_lock(folder: Path) -> int:
    """Take the lock as a run does: flock the lock file and write our pid into it."""
    fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o666)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def waiting(proc: subprocess.Popen[str], lock: Path) -> bool:
    """Whether ``proc`` has the lock file open, i.e. has scanned and is waiting for the lock."""
    target = os.path.realpath(lock)
    try:
        fds = os.listdir(f"/proc/{proc.pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{proc.pid}/fd/{fd}") == target:
                return True
        except OSError:
            continue
    return False


def wait_until_waiting(procs: list[subprocess.Popen[str]], lock: Path, limit: float = 90) -> None:
    deadline = time.monotonic() + limit
    pending = list(procs)
    while pending:
        for proc in list(pending):
            assert proc.poll() is None, f"exited before waiting for the lock: {proc.communicate()}"
            if waiting(proc, lock):
                pending.remove(proc)
        assert time.monotonic() < deadline, "the runs never reached the lock"
        time.sleep(0.02)


def finish(proc: subprocess.Popen[str]) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    out, err = proc.communicate(timeout=180)
    assert "Traceback" not in out and "Traceback" not in err, err
    assert proc.returncode == 0, (proc.returncode, err)
    return proc.returncode, json.loads(out), err


def check_directory(repo: GitRepo, expected: dict[str, bytes], revisions: set[str]) -> None:
    """Exactly these files, each the git blob's bytes, each listed once in a valid manifest; no lock, no temp."""
    versions = repo.path / V
    assert sorted(p.name for p in versions.iterdir()) == sorted([FILES[r] for r in revisions] + [MANIFEST_NAME])
    for rev in revisions:
        data = (versions / FILES[rev]).read_bytes()
        assert data == expected[rev]
        assert repo.blob_of(data) == repo.git("rev-parse", f"HEAD~1:{V}/{FILES[rev]}")
    manifest = json.loads((versions / MANIFEST_NAME).read_text())
    rows = manifest["restored"]
    assert sorted(row["revision"] for row in rows) == sorted(revisions), "every restored revision exactly once"
    for row in rows:
        assert row["blob"] == repo.blob_of(expected[row["revision"]]) and row["file"] == FILES[row["revision"]]


def empty(repo: GitRepo) -> None:
    for path in (repo.path / V).iterdir():
        path.unlink()


def two_at_once(repo: GitRepo, a: str, b: str, *, forced: bool) -> tuple[dict, dict, str, str]:  # type: ignore[type-arg]
    """Run `restore a --apply` and `restore b --apply` at once; with ``forced``, both wait for the lock first.
    The two chains are two heads together, so a run that restores x2 says it wants that (--allow-new-head)."""
    versions = repo.path / V
    held = hold_lock(versions) if forced else None
    allow = ("--allow-new-head",) if "x2" in (a, b) else ()
    try:
        procs = [start(repo, a, "--apply", "--json", *allow), start(repo, b, "--apply", "--json", *allow)]
        if held is not None:
            wait_until_waiting(procs, versions / LOCK_NAME)
    finally:
        if held is not None:
            os.close(held)  # let go, as a run that has finished does (the winner removes the file)
    (_, doc_a, err_a), (_, doc_b, err_b) = finish(procs[0]), finish(procs[1])
    return doc_a, doc_b, err_a, err_b


def written(doc: dict) -> set[str]:  # type: ignore[type-arg]
    return {Path(p).name for p in doc["written"]}


needs_proc = pytest.mark.skipif(not PROC_FD, reason="needs /proc to see that both runs wait for the lock")


@needs_proc
def test_same_revision_twice_at_once_is_written_once(lost: tuple[GitRepo, dict[str, bytes]]) -> None:
    repo, expected = lost
    doc_a, doc_b, err_a, err_b = two_at_once(repo, "r3", "r3", forced=True)
    check_directory(repo, expected, {"r1", "r2", "r3"})
    # both planned all three before either wrote; the one that got the lock second found them there
    first, second = (doc_a, doc_b) if doc_a["written"] else (doc_b, doc_a)
    later_err = err_b if first is doc_a else err_a
    assert written(first) == {"1_base.py", "2_next.py", "3_last.py"} and second["written"] == []
    assert second["manifest"] is None and second["heads"] == ["r3"] == first["heads"]
    for rev, name in (("r1", "1_base.py"), ("r2", "2_next.py"), ("r3", "3_last.py")):
        assert f"note: {rev}: appeared meanwhile as {V}/{name} (the same content), not written again" in later_err
    assert first["alembic"]["agrees"] is True and second["alembic"]["agrees"] is True


@needs_proc
def test_different_revisions_at_once_are_both_written_and_recorded(lost: tuple[GitRepo, dict[str, bytes]]) -> None:
    repo, expected = lost
    doc_a, doc_b, _, _ = two_at_once(repo, "r3", "x2", forced=True)
    assert written(doc_a) == {"1_base.py", "2_next.py", "3_last.py"}
    assert written(doc_b) == {"x1_other_base.py", "x2_other_next.py"}
    check_directory(repo, expected, set(FILES))  # the manifest lost neither run's records


@needs_proc
def test_overlapping_restores_at_once_share_the_ancestors(lost: tuple[GitRepo, dict[str, bytes]]) -> None:
    repo, expected = lost
    doc_a, doc_b, _, _ = two_at_once(repo, "r2", "r3", forced=True)
    assert written(doc_a) | written(doc_b) == {"1_base.py", "2_next.py", "3_last.py"}
    assert not written(doc_a) & written(doc_b)
    check_directory(repo, expected, {"r1", "r2", "r3"})


def test_free_running_rounds(lost: tuple[GitRepo, dict[str, bytes]]) -> None:
    """No help from the test: whatever the interleaving, the result is that of one run after the other."""
    repo, expected = lost
    for a, b, revisions in (("r3", "r3", {"r1", "r2", "r3"}), ("r3", "x2", set(FILES)), ("r2", "r3", {"r1", "r2", "r3"})):
        for _ in range(2):
            doc_a, doc_b, _, _ = two_at_once(repo, a, b, forced=False)
            assert not written(doc_a) & written(doc_b)
            check_directory(repo, expected, revisions)
            empty(repo)


def test_lock_held_too_long_refuses_and_writes_nothing(lost: tuple[GitRepo, dict[str, bytes]]) -> None:
    repo, _ = lost
    versions = repo.path / V
    held = hold_lock(versions)
    try:
        began = time.monotonic()
        proc = start(repo, "r3", "--apply", timeout=1)
        out, err = proc.communicate(timeout=120)
        completed = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
        assert one_line_error(completed) == (
            f"error: another restore is writing into {versions} (pid {os.getpid()}); try again when it has finished"
        )
        assert proc.returncode == 3
        assert time.monotonic() - began >= 1
        assert [p.name for p in versions.iterdir()] == [LOCK_NAME], "nothing written"
        assert (versions / LOCK_NAME).read_text() == f"{os.getpid()}\n", "another run's lock file is left alone"
    finally:
        os.close(held)


def test_dry_run_takes_no_lock(lost: tuple[GitRepo, dict[str, bytes]]) -> None:
    repo, _ = lost
    versions = repo.path / V
    held = hold_lock(versions)
    try:
        proc = start(repo, "r3", timeout=0)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "dry run: nothing written" in out
        assert [p.name for p in versions.iterdir()] == [LOCK_NAME]
    finally:
        os.close(held)


@needs_proc
def test_ctrl_c_while_waiting(lost: tuple[GitRepo, dict[str, bytes]]) -> None:
    repo, expected = lost
    versions = repo.path / V
    held = hold_lock(versions)
    try:
        proc = start(repo, "r3", "--apply", timeout=120)
        wait_until_waiting([proc], versions / LOCK_NAME)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 130 and err.strip() == "interrupted: nothing was left half-written", err
        assert [p.name for p in versions.iterdir()] == [LOCK_NAME]
    finally:
        os.close(held)
    proc = start(repo, "r3", "--apply", "--json", timeout=0)
    finish(proc)
    check_directory(repo, expected, {"r1", "r2", "r3"})


def test_lock_of_a_killed_run_holds_nothing(lost: tuple[GitRepo, dict[str, bytes]]) -> None:
    """kill -9 leaves the lock file behind, but the kernel has released the lock: the next run takes it."""
    repo, expected = lost
    versions = repo.path / V
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import fcntl, os, sys, time\n"
         f"fd = os.open({str(versions / LOCK_NAME)!r}, os.O_RDWR | os.O_CREAT)\n"
         "fcntl.flock(fd, fcntl.LOCK_EX)\n"
         "os.write(fd, b'%d\\n' % os.getpid())\n"
         "print('locked', flush=True)\n"
         "time.sleep(600)\n"],
        stdout=subprocess.PIPE, text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
    holder.kill()
    holder.wait()
    holder.stdout.close()
    assert (versions / LOCK_NAME).exists()
    finish(start(repo, "r3", "--apply", "--json", timeout=0))
    check_directory(repo, expected, {"r1", "r2", "r3"})  # and the stale lock file is gone


def test_without_flock_a_warning_and_the_restore_goes_on(
    lost: tuple[GitRepo, dict[str, bytes]], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file system without locks (some NFS, SMB, FUSE mounts) cannot be had in a test: flock is made
    to fail as it does there."""
    repo, expected = lost

    def no_locks(fd: int, operation: int) -> None:
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    result = scan_repository(repo.path, versions=[V])
    monkeypatch.setattr(fcntl, "flock", no_locks)
    outcome = apply_restore(plan_restore(result, ["r3"]), result, check_with_alembic=False)
    assert len(outcome.written) == 3
    err = capsys.readouterr().err
    assert f"warning: cannot lock {repo.path / V / LOCK_NAME} ({os.strerror(errno.ENOLCK)})" in err
    check_directory(repo, expected, {"r1", "r2", "r3"})


def test_lock_timeout_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LOCK_TIMEOUT_ENV, raising=False)
    assert lock_timeout_setting() == 30
    monkeypatch.setenv(LOCK_TIMEOUT_ENV, "2.5")
    assert lock_timeout_setting() == 2.5
    for bad in ("soon", "-1", "nan", "inf"):
        monkeypatch.setenv(LOCK_TIMEOUT_ENV, bad)
        with pytest.raises(UsageError, match=f"{LOCK_TIMEOUT_ENV}='{bad}': expected a number of seconds, 0 or more"):
            lock_timeout_setting()


def test_a_head_written_while_waiting_is_seen_under_the_lock(lost: tuple[GitRepo, dict[str, bytes]]) -> None:
    """A plan made against an empty folder adds no head; by the time it holds the lock another run has
    restored the r chain, so x2 would now be a second head: refused under the lock, nothing written."""
    repo, _expected = lost
    versions = repo.path / V
    stale = scan_repository(repo.path, versions=[versions])
    late = plan_restore(stale, ["x2"])
    assert [f.revision for f in late.to_write] == ["x1", "x2"]
    first = scan_repository(repo.path, versions=[versions])
    apply_restore(plan_restore(first, ["r3"]), first, check_with_alembic=False)
    before = sorted(p.name for p in versions.iterdir())
    with pytest.raises(RestoreRefused, match="gives Alembic another head"):
        apply_restore(late, stale, check_with_alembic=False)
    assert sorted(p.name for p in versions.iterdir()) == before
