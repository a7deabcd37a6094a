"""Locate a repository and run git against it the way it actually is (bare, mirror, shallow, detached).

GitPython is the repository handle: its ``git.cmd.Git`` runs the short git commands (``run``,
and ``rev-parse`` when a repository is opened), always with ``git_env()`` and ``GIT_CONFIG_ARGS``,
and its ``git.Repo`` reads the repository's config (partial clones) and a linked worktree's
common directory from the files, without starting git. The bulk streams (``git log --raw``,
``cat-file --batch``: ``Repository.popen``) stay plain ``subprocess``: they are the scan's hot path.

GitPython's ``Repo`` guesses bareness from the config file, and a mirror copied without its config
is then taken for a work tree; git's own ``rev-parse`` never guesses, so it decides here.

GitPython reads git's location variables from ``os.environ`` by itself (``Repo`` follows
``GIT_DIR``, ``GIT_COMMON_DIR``, ``GIT_OBJECT_DIRECTORY``, ``GIT_WORK_TREE``; ``Git.execute``
starts each environment from ``os.environ`` and can add to it but not take away). While one of
them is set, GitPython is not used: git runs through ``subprocess`` with ``git_env()``, which
drops them, and the config is read by git (``_gitpython_safe``).
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    import git

from migration_archaeologist.errors import EmptyRepository, GitFailed, NotARepository

#: Keep git from paging, prompting, fetching lazily, or reading the user's config in ways that change output.
#: GIT_NO_REPLACE_OBJECTS: ``refs/replace`` would make git hand us other objects than the ids we
#: read and write (a restored file must be the blob history names); a replacement commit (``git
#: replace --graft``) is still walked: ``refs/replace/*`` are refs, and ``--all`` walks them.
#: GIT_ASKPASS/SSH_ASKPASS empty, with the terminal prompt off: nothing ever asks for a password.
GIT_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_NO_LAZY_FETCH": "1",
    "GIT_NO_REPLACE_OBJECTS": "1",
    "GIT_PROTOCOL_FROM_USER": "0",
    "GIT_ASKPASS": "",
    "SSH_ASKPASS": "",
    "GIT_PAGER": "cat",
    "LC_ALL": "C",
}
#: A scanned repository is not trusted, and its own config can name programs git runs by itself
#: (``git ls-files --others`` runs ``core.fsmonitor``; a pager, hooks, transports and credential
#: helpers can run too). We only read local objects, refs and the index, so every git we start runs
#: with these, at command-line precedence (``GIT_CONFIG_COUNT``: it reaches every git, also those
#: started without ``GIT_CONFIG_ARGS``). No transport is allowed: a ``protocol.<name>.allow`` in the
#: repository's config outranks ``protocol.allow``, hence one per protocol. Filters, textconv and
#: external diffs only run for content or patch output of the work tree, which we never ask for
#: (``log`` is also given ``--no-ext-diff --no-textconv``). Fetching a user-given bundle allows
#: ``file`` for that one command (sources/archive.py).
GIT_HARDENING = (
    ("core.fsmonitor", "false"),
    ("core.untrackedCache", "false"),
    ("core.hooksPath", "/dev/null"),
    ("core.pager", "cat"),
    ("core.sshCommand", "false"),
    ("core.askPass", ""),
    ("credential.helper", ""),
    ("protocol.allow", "never"),
    *((f"protocol.{name}.allow", "never") for name in ("file", "git", "ssh", "http", "https", "ext", "fd")),
    ("gc.auto", "0"),
    ("maintenance.auto", "false"),
)
#: packedGit*: git maps pack files in windows, and on a 600 MB pack its RSS grew to the whole pack
#: (780 MB for git log on 200,000 commits); smaller windows cost no time there and keep it at 320 MB.
GIT_CONFIG_ARGS = (
    "-c",
    "core.quotepath=off",
    "-c",
    "log.showSignature=false",
    "-c",
    "color.ui=false",
    "-c",
    "core.packedGitLimit=128m",
    "-c",
    "core.packedGitWindowSize=16m",
)


#: Hex digits of an object id in the repository this process reads: 40 (SHA-1) or 64 (SHA-256,
#: ``git init --object-format=sha256``). Set by ``open_repository``: a process reads one
#: repository's history, and the parsers of git's fixed-width output and ``git_blob_id`` follow it.
_HEXSZ = [40]


def hexsz() -> int:
    """Hex digits of an object id in the repository opened last (40 until one is opened)."""
    return _HEXSZ[0]


def null_id() -> bytes:
    """git's all-zero id ("no object", e.g. the old side of an addition), at the current width."""
    return b"0" * _HEXSZ[0]


@dataclass(frozen=True)
class Repository:
    """A git repository as git sees it."""

    git_dir: Path
    common_dir: Path  # differs from git_dir in a linked worktree: refs, logs and objects live here
    work_tree: Path | None  # None for bare repositories and config-less mirrors
    head: str | None  # commit sha HEAD points at
    head_ref: str | None  # e.g. refs/heads/main; None when HEAD is detached
    shallow: bool
    partial: bool  # a promisor remote is configured: blobs may be missing on purpose

    @property
    def display_path(self) -> Path:
        return self.work_tree or self.git_dir

    def command(self, *args: str) -> list[str]:
        base = ["git", "--git-dir", str(self.git_dir)]
        if self.work_tree is not None:
            base += ["--work-tree", str(self.work_tree)]
        return base + list(GIT_CONFIG_ARGS) + list(args)

    def run(self, *args: str, input: bytes | None = None, check: bool = True) -> bytes:
        """Run a short git command (GitPython's ``git.cmd.Git``, hardened) and return its stdout."""
        status, stdout, stderr = execute(self.command(*args), input=input)
        if check and status != 0:
            raise GitFailed(f"git {args[0]} failed: {first_line(stderr)}")
        return stdout

    def popen(self, *args: str, stdin: int | None = None) -> subprocess.Popen[bytes]:
        """Start a streaming git command (log, cat-file --batch)."""
        proc = subprocess.Popen(
            self.command(*args),
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=git_env(),
            bufsize=1 << 16,
        )
        _widen_pipe(proc.stdout)
        return proc

    def gitpython(self) -> git.Repo:
        """GitPython's ``Repo`` on this repository; the commands it runs get ``git_env()`` and
        ``GIT_CONFIG_ARGS`` as ours do. Raises ``GitFailed`` while a location variable is set in
        the environment (``GIT_DIR`` ...): ``Repo`` would follow it to another repository."""
        if not _gitpython_safe():
            raise GitFailed(
                "GitPython is not used while git's location variables are set: "
                + ", ".join(_location_variables_present())
            )
        import git

        handle = git.Repo(str(self.git_dir), search_parent_directories=False)
        handle.git.update_environment(**git_env())
        handle.git.set_persistent_git_options(c=list(GIT_CONFIG_ARGS[1::2]))
        return handle


def _widen_pipe(stream: object) -> None:
    """A 1 MiB pipe lets git keep producing while Python parses the previous chunk (Linux only)."""
    try:
        import fcntl

        fcntl.fcntl(stream.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)  # type: ignore[attr-defined]
    except (ImportError, OSError, AttributeError, ValueError):
        pass


#: git's own variables that say which repository, work tree, index or object store to use. The
#: repository is the one the user names (REPO, default the current folder); a ``GIT_DIR`` left in the
#: shell (a hook, a ``git rebase --exec``, a script) would silently make git read another repository,
#: and ``GIT_INDEX_FILE`` or ``GIT_OBJECT_DIRECTORY`` another index or object store, so none reach git.
#: The command line says so (``ignored_location_variables``).
GIT_LOCATION_VARIABLES = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_COMMON_DIR",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
)


def ignored_location_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """The git location variables set (non-empty) in ``environ``: each one is ignored."""
    environ = os.environ if environ is None else environ
    return [name for name in GIT_LOCATION_VARIABLES if environ.get(name)]


def git_env() -> dict[str, str]:
    """The environment of every git we start: ``GIT_ENV``, and ``GIT_HARDENING`` after any
    ``GIT_CONFIG_COUNT`` settings of the user's own (later ones win); no location variables."""
    env = {key: value for key, value in os.environ.items() if key not in GIT_LOCATION_VARIABLES}
    env.update(GIT_ENV)
    try:
        start = max(int(env.get("GIT_CONFIG_COUNT") or 0), 0)
    except ValueError:
        start = 0  # git would refuse to run with a bogus count
    for index, (key, value) in enumerate(GIT_HARDENING, start):
        env[f"GIT_CONFIG_KEY_{index}"] = key
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    env["GIT_CONFIG_COUNT"] = str(start + len(GIT_HARDENING))
    return env


def _location_variables_present() -> list[str]:
    """The location variables in ``os.environ``, empty ones too (GitPython tests presence)."""
    return [name for name in GIT_LOCATION_VARIABLES if name in os.environ]


def _gitpython_safe() -> bool:
    """Whether GitPython may run git or read the repository: not while a location variable is set."""
    return not _location_variables_present()


@functools.cache
def _git_cmd() -> git.cmd.Git:
    """GitPython's command runner, imported on first use: ``--version``, ``--help`` and commands that
    never open a repository skip ``import git`` (about 30 ms, and the ``git version`` it runs then).
    No working dir: git runs in our current folder, as ``subprocess`` would; our commands name the
    repository with ``--git-dir`` or ``-C``. Without a runnable git, GitPython's import fails with a
    page of advice; a user gets one line (exit 3)."""
    try:
        import git
    except ImportError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise GitFailed(f"git cannot be run ({reason}): is git installed and on PATH?") from None
    return git.cmd.Git()


def execute(command: list[str], input: bytes | None = None) -> tuple[int, bytes, bytes]:
    """Run a short git command to its end: (exit status, stdout, stderr), stdout as git wrote it.

    Through GitPython's ``git.cmd.Git.execute`` with ``git_env()`` (``GIT_HARDENING``, nothing
    prompts) and stdin from ``input`` or else empty: git never reads our terminal. While a location
    variable is set, through ``subprocess``: ``Git.execute`` would pass it on (``_gitpython_safe``).
    """
    env = git_env()
    if not _gitpython_safe():
        proc = subprocess.run(
            command,
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            capture_output=True,
            env=env,
            check=False,
        )
        return proc.returncode, proc.stdout, proc.stderr
    runner = _git_cmd()
    reader = writer = None
    feeder: threading.Thread | None = None
    if input is not None:
        # Git.execute reads stdin from a file: a pipe fed by a thread (git may stop reading early)
        read_fd, write_fd = os.pipe()
        reader, writer = os.fdopen(read_fd, "rb"), os.fdopen(write_fd, "wb")
        feeder = threading.Thread(target=_feed, args=(writer, input), daemon=True)
        feeder.start()
    try:
        status, stdout, stderr = runner.execute(
            command,
            istream=reader,
            env=env,
            with_extended_output=True,
            with_exceptions=False,
            stdout_as_string=False,
            strip_newline_in_stdout=False,
        )
    finally:
        if reader is not None:
            reader.close()
        if feeder is not None:
            feeder.join()
    # GitPython decodes stderr (file system encoding, surrogateescape): its bytes again
    return status, stdout, os.fsencode(stderr)


def _feed(writer: BinaryIO, data: bytes) -> None:
    try:
        with writer:
            writer.write(data)
    except (BrokenPipeError, ValueError, OSError):
        pass  # git exited without reading everything: its status says why


def first_line(stderr: bytes) -> str:
    text = stderr.decode("utf-8", "replace").strip()
    lines = [line for line in text.splitlines() if line.strip()]
    # git prints "hint:" lines, and often "error:" lines (e.g. "error: inflate: data stream error"),
    # before the real "fatal:" line; the fatal one is what a user needs: it names what failed
    # ("fatal: loose object <sha> (stored in ...) is corrupt"). Without one, the first "error:" line.
    for prefix in ("fatal:", "error:"):
        for line in lines:
            if line.startswith(prefix):
                return line
    return lines[-1] if lines else "no output"


def open_repository(path: Path | str) -> Repository:
    """Open the repository at or above ``path``; raise NotARepository / EmptyRepository with one line."""
    path = Path(path)
    if not path.exists():
        raise NotARepository(f"{path}: no such file or directory")
    if not path.is_dir():
        raise NotARepository(f"{path}: not a directory")

    def rev_parse(*args: str) -> tuple[int, bytes, bytes]:
        # -C, not a working dir: git says why it cannot enter the folder (GitPython's Git.execute
        # would run in our own folder instead, and git could find another repository there)
        return execute(["git", "-C", str(path), *GIT_CONFIG_ARGS, "rev-parse", *args])

    status, out, err = rev_parse("--is-bare-repository", "--absolute-git-dir")
    if status != 0:
        raise NotARepository(f"{path.resolve()}: not a git repository (git: {first_line(err)})")
    bare_text, git_dir_text = out.decode().split("\n")[:2]
    git_dir = Path(git_dir_text)
    work_tree: Path | None = None
    if bare_text.strip() != "true":
        status, out, _ = rev_parse("--show-toplevel")
        if status == 0 and out.strip():
            work_tree = Path(out.decode().strip())

    def quick(*args: str) -> tuple[int, bytes, bytes]:
        return execute(["git", "--git-dir", str(git_dir), *GIT_CONFIG_ARGS, *args])

    handle = _repo_handle(git_dir)
    if handle is not None:
        common_dir = Path(handle.common_dir)  # the git dir's "commondir" file, as git reads it
    else:
        common = quick("rev-parse", "--git-common-dir")[1].decode().strip()
        common_dir = Path(common) if common and Path(common).is_absolute() else git_dir / (common or ".")
    # One call for HEAD, its symbolic name and shallowness.
    status, out, _ = quick(
        "rev-parse", "--is-shallow-repository", "--show-object-format", "HEAD", "--symbolic-full-name", "HEAD"
    )
    lines = [line.strip() for line in out.decode().split("\n")]
    shallow = lines[0] == "true"
    _HEXSZ[0] = 64 if len(lines) > 1 and lines[1] == "sha256" else 40
    lines = lines[:1] + lines[2:]
    head = lines[1] if status == 0 and len(lines) > 2 and re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", lines[1]) else None
    symref = lines[2] if head and lines[2].startswith("refs/") else None
    if head is None and not quick("for-each-ref", "--count=1", "--format=%(objectname)")[1].strip():
        raise EmptyRepository(f"{path.resolve()}: the repository has no commits yet, nothing to scan")
    partial = _partial_clone(handle)
    if partial is None:
        partial = bool(quick("config", "--get-regexp", r"^(remote\..*\.promisor|extensions\.partialclone)$")[1].strip())
    return Repository(
        git_dir=git_dir,
        common_dir=Path(os.path.normpath(common_dir)),
        work_tree=work_tree,
        head=head,
        head_ref=symref if head else None,
        shallow=shallow,
        partial=partial,
    )


def _repo_handle(git_dir: Path) -> git.Repo | None:
    """GitPython's ``Repo`` on the git dir rev-parse found (not searched for; never asked whether
    it is bare), or None when it may not be used or does not take the folder for a git dir."""
    if not _gitpython_safe():
        return None
    import git

    try:
        return git.Repo(str(git_dir), search_parent_directories=False)
    except (git.exc.GitError, OSError, ValueError):
        return None


#: Config keys (lower-cased section and name, as git compares them) that make a partial clone.
_PROMISOR_KEY = re.compile(r"remote\..*\.promisor|extensions\.partialclone")


def _partial_clone(handle: git.Repo | None) -> bool | None:
    """Whether a promisor remote is configured (any value, as ``git config --get-regexp`` would
    list it), read by GitPython from the system, user and repository config and their includes;
    None when there is no handle or GitPython cannot parse a file: then git reads the config."""
    if handle is None:
        return None
    try:
        reader = handle.config_reader()
        for section in reader.sections():
            name, _, sub = section.partition(" ")  # 'remote "origin"': section and subsection
            sub = sub.strip().strip('"')
            prefix = f"{name.lower()}.{sub}" if sub else name.lower()
            if any(_PROMISOR_KEY.fullmatch(f"{prefix}.{option.lower()}") for option in reader.options(section)):
                return True
        return False
    except Exception:  # noqa: BLE001 - configparser's and GitPython's errors both mean "ask git"
        return None
