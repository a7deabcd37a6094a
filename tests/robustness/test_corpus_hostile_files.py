"""Corpus of hostile files and file systems (issue 19, items 1, 2, 4 and 8), each built for real.

A repository is input: it can carry a symlink, and a work tree can hold a FIFO or a device node,
where we expect a regular file. Every case runs the command line as a user does, in a subprocess
with a timeout (a hang fails the test instead of the suite), and asserts the exact line, the exit
code, no traceback, and that nothing changed: the repository, and the victim file a symlink points
to outside it.

Cases (ids):

- ``lock-symlink``: a committed symlink at the lock's name (``versions/.migration-archaeologist.lock``)
  to a file outside the repository: ``restore --apply`` refuses (exit 3), the victim keeps its bytes.
- ``lock-fifo``: a FIFO there: refused the same way.
- ``fifo-at-target``: a FIFO at a restored file's name: the documented conflict (exit 1), not a hang.
- ``manifest-symlink``, ``manifest-fifo``, ``manifest-device``, ``manifest-dev-zero``: the manifest's
  name is a symlink to a victim, a FIFO, a character device, a symlink to ``/dev/zero``:
  ``restore --apply`` refuses before writing anything (exit 3).
- ``manifest-dev-zero-read``, ``manifest-fifo-read``: ``timeline`` reads the manifest for provenance:
  it finishes at once with a warning naming the file.
- ``pyproject-fifo``, ``pyproject-dev-zero``, ``env-py-fifo``: configuration files read while looking
  for settings and environments: a warning (settings) or passed over (env.py), at once.
- ``pyc-fifo-in-pycache``, ``py-fifo-in-versions``: no option needed: a warning naming the file.
- ``archive-folder-fifos``: ``*.zip``, ``*.bundle``, ``*.py`` FIFOs in an ``--archive`` folder, and a
  FIFO given itself: a note for each.
- ``untracked-link-to-fifo``, ``untracked-link-to-dev-zero``: git lists no FIFO, but it lists an
  untracked symlink, which the default scan reads as an archive.
- ``output-dev-null``, ``output-fifo``, ``output-link-to-device``, ``output-dev-stdout``: ``graph -o``
  writes through to a character device, a FIFO (a reader receives the text) or a link to one, and to
  ``/dev/stdout`` as standard output; the device node, FIFO and link stay what they were.
- ``output-link-to-victim``, ``output-dangling-link``: ``graph -o`` refuses a symlink to a regular file
  or to nothing (exit 2): the victim keeps its bytes, nothing is created.
- ``walk-cut-short``: a versions directory and an archive folder of 200,001 entries: the walk stops
  with a warning saying so.
"""

from __future__ import annotations

import os
import resource
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from corpus import fingerprint, lost_chain
from gitfixture import GitRepo

V = "alembic/versions"
MANIFEST = "migration-archaeologist-manifest.json"
LOCK = ".migration-archaeologist.lock"
VICTIM_BYTES = b"someone's own file, outside the repository\n"
#: a hang fails here, long before pytest's own timeout
PROMPT = 60
#: address space for the command: reading /dev/zero without a cap fails here, not the machine
MEMORY = 4 * 1024**3


def _memory_cap() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def run_ma(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "MA_DEBUG"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    proc = subprocess.run([sys.executable, "-m", "migration_archaeologist", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=PROMPT, preexec_fn=_memory_cap)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    return proc


def error_line(proc: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def victim(tmp_path: Path) -> Path:
    path = tmp_path / "home" / "somefile"
    path.parent.mkdir()
    path.write_bytes(VICTIM_BYTES)
    return path


def refused(path: Path, kind: str) -> str:
    return f"error: refusing {path}: it is {kind}, not a regular file; nothing was written (remove it)"


def make_device(path: Path) -> None:
    """A character device node (the null device's numbers), as root can make one."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("cannot make a device node here (not root, or no CAP_MKNOD)")


# --------------------------------------------------------------------------- item 1: what we write


def planted_link(tmp_path: Path, name: str) -> tuple[GitRepo, Path, Path]:
    """A lost chain whose versions directory has a committed symlink ``name`` to a victim file
    outside the repository: (repository, the link, the victim)."""
    repo = lost_chain(tmp_path / "repo")[0]
    somefile = victim(tmp_path)
    link = repo.path / V / name
    link.symlink_to(somefile)
    repo.git("add", f"{V}/{name}")
    repo.git("commit", "-q", "-m", "a planted link")
    return repo, link, somefile


def test_committed_symlink_at_the_lock_name_is_refused(tmp_path: Path) -> None:
    """Before: ``restore --apply`` truncated the link's target and wrote its pid into it, exit 0."""
    repo, lock, somefile = planted_link(tmp_path, LOCK)
    before = fingerprint(tmp_path)

    proc = run_ma("restore", "r0002", str(repo.path), "--apply")

    assert error_line(proc) == refused(lock, "a symbolic link")
    assert proc.returncode == 3
    assert somefile.read_bytes() == VICTIM_BYTES
    assert fingerprint(tmp_path) == before


def test_fifo_at_the_lock_name_is_refused(tmp_path: Path) -> None:
    repo = lost_chain(tmp_path / "repo")[0]
    lock = repo.path / V / LOCK
    os.mkfifo(lock)
    before = fingerprint(tmp_path)

    proc = run_ma("restore", "r0002", str(repo.path), "--apply")

    assert error_line(proc) == refused(lock, "a FIFO")
    assert proc.returncode == 3
    assert fingerprint(tmp_path) == before


def test_fifo_at_a_restored_file_name_is_a_conflict(tmp_path: Path) -> None:
    """Before: the comparison of what is at the name with what would be written read the FIFO, and hung."""
    repo = lost_chain(tmp_path / "repo")[0]
    fifo = repo.path / V / "r0001_step.py"
    os.mkfifo(fifo)
    before = fingerprint(tmp_path)

    proc = run_ma("restore", "r0002", str(repo.path), "--apply")

    assert error_line(proc) == f"error: nothing written: r0001: cannot read it: [Errno 22] it is a FIFO, not a regular file: '{fifo}'"
    assert proc.returncode == 1
    assert fingerprint(tmp_path) == before


@pytest.mark.parametrize("kind", ["symlink", "fifo", "device", "dev-zero"])
def test_manifest_that_is_not_a_regular_file_is_refused(tmp_path: Path, kind: str) -> None:
    """Before: a symlink had its target read and the link replaced; a FIFO hung; ``/dev/zero`` filled memory."""
    repo = lost_chain(tmp_path / "repo")[0]
    somefile = victim(tmp_path)
    manifest = repo.path / V / MANIFEST
    words = {"symlink": "a symbolic link", "dev-zero": "a symbolic link", "fifo": "a FIFO", "device": "a character device"}
    if kind == "symlink":
        manifest.symlink_to(somefile)
    elif kind == "dev-zero":
        manifest.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(manifest)
    else:
        make_device(manifest)
    before = fingerprint(tmp_path)

    started = time.monotonic()
    proc = run_ma("restore", "r0002", str(repo.path), "--apply")

    assert error_line(proc) == refused(manifest, words[kind])
    assert proc.returncode == 3
    assert time.monotonic() - started < PROMPT
    assert somefile.read_bytes() == VICTIM_BYTES
    assert fingerprint(tmp_path) == before, "no revision file written, nothing replaced"


# --------------------------------------------------------------------------- item 4: what we read


@pytest.mark.parametrize("kind", ["dev-zero", "fifo"])
def test_manifest_read_for_provenance_is_bounded(tmp_path: Path, kind: str) -> None:
    """Before: ``timeline`` grew by about 1 GB/s on a manifest linked to /dev/zero, and hung on a FIFO."""
    repo = lost_chain(tmp_path / "repo")[0]
    manifest = repo.path / V / MANIFEST
    if kind == "fifo":
        os.mkfifo(manifest)
        reason = "it is a FIFO, not a regular file"
    else:
        manifest.symlink_to("/dev/zero")
        reason = "it is a symbolic link, not a regular file"
    before = fingerprint(tmp_path)

    proc = run_ma("timeline", str(repo.path))

    assert proc.returncode == 0, proc.stderr
    assert f"warning: {manifest} not read ({reason}): its provenance records are not shown" in proc.stderr.splitlines()
    assert fingerprint(tmp_path) == before


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_pyproject_that_is_not_a_regular_file_is_not_read(tmp_path: Path, kind: str) -> None:
    """Before: the settings read of ``pyproject.toml`` hung on a FIFO, and filled memory from /dev/zero."""
    repo = lost_chain(tmp_path / "repo")[0]
    pyproject = repo.path / "pyproject.toml"
    if kind == "fifo":
        os.mkfifo(pyproject)
        reason = "it is a FIFO, not a regular file"
    else:
        pyproject.symlink_to("/dev/zero")
        reason = "it is a character device, not a regular file"
    before = fingerprint(tmp_path)

    proc = run_ma("check", str(repo.path), "--versions", V)

    assert proc.returncode == 1, proc.stderr  # the lost revisions
    assert proc.stderr.splitlines()[0] == (
        f"warning: {pyproject} not read ({reason}): tool.migration-archaeologist settings are not applied"
    )
    assert fingerprint(tmp_path) == before


def test_fifo_env_py_does_not_hang_the_environment_search(tmp_path: Path) -> None:
    """Before: the look for Flask-Migrate's ``env.py`` (a folder with env.py and versions/) hung on a FIFO."""
    repo = lost_chain(tmp_path / "repo")[0]
    (repo.path / "db" / "versions").mkdir(parents=True)
    os.mkfifo(repo.path / "db" / "env.py")
    before = fingerprint(tmp_path)

    proc = run_ma("check", str(repo.path), "--versions", V)

    assert proc.returncode == 1, proc.stderr
    assert fingerprint(tmp_path) == before


# --------------------------------------------------------------------------- item 8: the scan's own walks


def test_fifo_pyc_in_pycache_and_fifo_py_in_versions_are_skipped(tmp_path: Path) -> None:
    """Before: a FIFO ``.pyc`` in ``__pycache__`` (read with no option) or ``.py`` in the versions dir hung the scan."""
    repo = lost_chain(tmp_path / "repo")[0]
    cache = repo.path / V / "__pycache__"
    cache.mkdir()
    os.mkfifo(cache / "r0001_step.cpython-311.pyc")
    os.mkfifo(repo.path / V / "r0009_fifo.py")
    before = fingerprint(tmp_path)

    proc = run_ma("scan", str(repo.path), "--versions", str(repo.path / V))

    assert proc.returncode == 1, proc.stderr  # the lost revisions
    warnings = proc.stdout.splitlines()
    assert f"warning: could not read {repo.path / V / 'r0009_fifo.py'}: it is a FIFO, not a regular file" in warnings
    assert f"warning: bytecode {V}/__pycache__/r0001_step.cpython-311.pyc: it is a FIFO, not a regular file" in warnings
    assert fingerprint(tmp_path) == before


def test_fifos_in_an_archive_folder_are_skipped(tmp_path: Path) -> None:
    """Before: a FIFO named ``*.zip``, ``*.bundle`` or ``*.py`` in an ``--archive`` folder hung the scan."""
    repo = lost_chain(tmp_path / "repo")[0]
    folder = tmp_path / "backups"
    folder.mkdir()
    for name in ("old.zip", "repo.bundle", "r0001_step.py"):
        os.mkfifo(folder / name)
    given = tmp_path / "given.tar.gz"
    os.mkfifo(given)
    before = fingerprint(tmp_path)

    proc = run_ma("scan", str(repo.path), "--archive", str(folder), "--archive", str(given))

    assert proc.returncode == 1, proc.stderr  # the lost revisions
    lines = proc.stdout.splitlines()
    for name in ("old.zip", "repo.bundle", "r0001_step.py"):
        assert f"archive: {folder / name}: it is a FIFO, not a regular file: not read" in lines, proc.stdout
    assert f"archive: {given}: it is a FIFO, not a regular file: not read" in lines, proc.stdout
    assert fingerprint(tmp_path) == before


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_untracked_link_to_a_fifo_or_dev_zero_is_skipped(tmp_path: Path, kind: str) -> None:
    """git lists no untracked FIFO, but it lists an untracked symlink, and the default scan reads untracked
    ``*.zip`` and ``*.py`` files as archives. Before: a link to a FIFO hung it, a link to /dev/zero filled memory."""
    repo = lost_chain(tmp_path / "repo")[0]
    if kind == "fifo":
        os.mkfifo(tmp_path / "fifo")
        link = repo.path / "backup.zip"
        link.symlink_to(tmp_path / "fifo")
        what = "a FIFO"
    else:
        link = repo.path / "backup.py"
        link.symlink_to("/dev/zero")
        what = "a character device"
    before = fingerprint(tmp_path)

    proc = run_ma("scan", str(repo.path))

    assert proc.returncode == 1, proc.stderr  # the lost revisions
    assert f"archive: {link}: it is {what}, not a regular file: not read" in proc.stdout.splitlines(), proc.stdout
    assert fingerprint(tmp_path) == before


def test_a_walk_of_a_huge_folder_is_cut_short(tmp_path: Path) -> None:
    """Before: ``--versions /`` walked (and read every ``*.py`` of) the whole disk; now each walk stops
    after 200,000 entries and says so. 200,001 empty files in one folder stand for the disk."""
    repo = lost_chain(tmp_path / "repo")[0]
    huge = tmp_path / "huge"
    huge.mkdir()
    for i in range(200_001):
        os.close(os.open(huge / f"f{i}", os.O_CREAT | os.O_WRONLY, 0o644))

    proc = run_ma("scan", str(repo.path), "--versions", str(huge), "--archive", str(huge))

    assert proc.returncode == 1, proc.stderr  # the lost revisions
    note = "more than 200,000 entries, so the walk was cut short: the rest is not read"
    assert f"warning: could not read {huge}: {note}" in proc.stdout.splitlines(), proc.stdout
    assert f"archive: {huge}: {note}" in proc.stdout.splitlines(), proc.stdout


# --------------------------------------------------------------------------- item 2: -o PATH


def test_output_to_dev_null_keeps_the_device(tmp_path: Path) -> None:
    """Before: ``graph -o /dev/null`` (as root) replaced the device node with a regular file. A node of
    our own with /dev/null's numbers stands for it, so a failing run cannot break the machine's."""
    repo = lost_chain(tmp_path / "repo")[0]
    null = tmp_path / "null"
    make_device(null)
    link = tmp_path / "link-to-null"
    link.symlink_to(null)

    for target in (null, link):
        proc = run_ma("graph", str(repo.path), "-o", str(target))
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr.splitlines()[-1].startswith(f"wrote {target} (")
    assert stat.S_ISCHR(os.lstat(null).st_mode) and os.lstat(null).st_rdev == os.makedev(1, 3)
    assert os.readlink(link) == str(null)


def test_output_to_a_fifo_is_written_through(tmp_path: Path) -> None:
    """Before: the FIFO was replaced by a regular file, and the reader waiting on it got nothing."""
    repo = lost_chain(tmp_path / "repo")[0]
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as handle:
            received.append(handle.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    proc = run_ma("graph", str(repo.path), "-o", str(fifo))
    reader.join(PROMPT)

    assert proc.returncode == 0, proc.stderr
    assert received and received[0].startswith(b"flowchart"), received
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_output_to_dev_stdout_is_standard_output(tmp_path: Path) -> None:
    """A link of our own made as /dev/stdout is (to /proc/self/fd/1), so that a regression replaces it and
    not the machine's /dev/stdout (the code before this fix did exactly that)."""
    repo = lost_chain(tmp_path / "repo")[0]
    stdout = tmp_path / "stdout"
    stdout.symlink_to("/proc/self/fd/1")
    plain = run_ma("graph", str(repo.path))

    proc = run_ma("graph", str(repo.path), "-o", str(stdout))

    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == plain.stdout and proc.stdout.startswith("flowchart")
    assert os.readlink(stdout) == "/proc/self/fd/1"


@pytest.mark.parametrize("kind", ["victim", "dangling"])
def test_output_symlink_to_a_file_is_refused(tmp_path: Path, kind: str) -> None:
    """Before: the link was replaced by a regular file. Decided: refused, so a link that leads to someone's
    file is neither followed (the victim) nor silently replaced (the link)."""
    repo = lost_chain(tmp_path / "repo")[0]
    somefile = victim(tmp_path)
    link = repo.path / "chain.mmd"
    link.symlink_to(somefile if kind == "victim" else tmp_path / "nowhere")
    before = fingerprint(tmp_path)

    proc = run_ma("graph", str(repo.path), "-o", str(link))

    what = "a regular file" if kind == "victim" else "nothing"
    assert error_line(proc) == (
        f"error: cannot write {link}: it is a symbolic link to {what}, which is never written through: name the file itself"
    )
    assert proc.returncode == 2
    assert somefile.read_bytes() == VICTIM_BYTES
    assert fingerprint(tmp_path) == before and not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize("planted", [LOCK, MANIFEST])
def test_planted_symlink_refused_by_recover(tmp_path: Path, planted: str) -> None:
    """case planted-symlink-recover: ``recover --apply`` writes environment files and revisions under the
    same lock and manifest as restore: a committed symlink at either name is refused before anything
    is written (no alembic.ini, env.py or revision appears), and the link's target keeps its bytes."""
    repo, link, somefile = planted_link(tmp_path, planted)
    before = fingerprint(tmp_path)

    proc = run_ma("recover", str(repo.path), "--apply")

    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert refused(link, "a symbolic link") in proc.stderr.splitlines()
    assert somefile.read_bytes() == VICTIM_BYTES
    assert fingerprint(tmp_path) == before
