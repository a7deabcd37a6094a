#!/usr/bin/env python3
"""Deterministic builder for the TaskMan-v2 sample repository.

Re-enacts the situation of ``/work/shared/seed/migration-validation-report.md``:
six Alembic revision files of ``TaskMan-v2/backend-api`` that are gone from
the working tree but still survive somewhere -- in ordinary history, only in
HEAD's reflog (deleted branch), only as an unreachable commit, only in a stash
entry, or (the baseline, never committed) only as the bytecode left in
``alembic/versions/__pycache__``; an untracked zip under ``archive/`` holds an
older version of 48b01bf7ee65.  See README.md next to this file for the story.

Usage::

    python sample_repos/taskman-v2/build.py DEST      # DEST absent or empty

or from Python (load this file with importlib; it is not a package)::

    info = build(pathlib.Path("/tmp/taskman"))

Every commit, stash and reflog entry gets a fixed author/committer identity
and date, and git's global/system configuration is ignored, so the resulting
object ids are identical on every run and machine.

Only the standard library, SQLAlchemy and Alembic are used; this script must
not import ``migration_archaeologist`` (it is the fixture the tool is tested
against).
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import os
import zipfile
import py_compile
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Iterator

HERE = Path(__file__).resolve().parent
REVISIONS_DIR = HERE / "revisions"
FILES_DIR = HERE / "files"

BACKEND = "TaskMan-v2/backend-api"
VERSIONS = f"{BACKEND}/alembic/versions"
ALEMBIC_INI = f"{BACKEND}/alembic.ini"
DB_RELPATH = f"{BACKEND}/taskman_v2.db"
HEAD_REVISION = "b22b3b5a376f"

AUTHOR_NAME = "James Whitaker"
AUTHOR_EMAIL = "james.whitaker@contextforge.example"

# revision id -> (file name, message, down_revision, where it survives)
REVISIONS: dict[str, tuple[str, str, str | None, str]] = {
    "20251015_baseline": (
        "20251015_64_field_baseline.py",
        "64 field baseline",
        None,
        "bytecode",
    ),
    "48b01bf7ee65": (
        "48b01bf7ee65_add_new_and_pending_to_task_status.py",
        "add new and pending to task status",
        "20251015_baseline",
        "history",
    ),
    "4de471a82333": (
        "4de471a82333_align_task_model_with_64_field_.py",
        "align task model with 64-field specification",
        "48b01bf7ee65",
        "reflog",
    ),
    "add_users_table": (
        "add_users_table_for_authentication.py",
        "add users table for authentication",
        "4de471a82333",
        "unreachable",
    ),
    "84456d47e6aa": (
        "84456d47e6aa_add_contextforge_extended_project_schema.py",
        "add contextforge extended project schema",
        "add_users_table",
        "history",
    ),
    "b22b3b5a376f": (
        "b22b3b5a376f_expand_action_list_status_enum.py",
        "expand action list status enum",
        "84456d47e6aa",
        "stash",
    ),
}
CHAIN = list(REVISIONS)  # down_revision order, base first

# The seed's docs/indexes/Loose-File-Index.md records these sizes.
EXPECTED_SIZES = {
    "84456d47e6aa_add_contextforge_extended_project_schema.py": 4167,
    "b22b3b5a376f_expand_action_list_status_enum.py": 1139,
}

# First committed (2025-10-18) version of 48b01bf7ee65, replaced on 2025-10-19.
SUPERSEDED_48B = REVISIONS_DIR / "superseded" / REVISIONS["48b01bf7ee65"][0]

# Untracked (ignored via ``archive/`` in .gitignore) zip made on 2025-10-18,
# after the first 48b01bf7ee65 commit: it holds that first version.
ARCHIVE_ZIP = f"{BACKEND}/archive/alembic-versions-2025-10-18.zip"
ARCHIVE_DATE = (2025, 10, 18, 17, 0, 0)

# Revisions whose compiled .pyc is left in alembic/versions/__pycache__/.
# 20251015_baseline survives *only* there: it was never committed.
# Each .pyc gets the modification time of the last local run that imported it.
PYC_REVISIONS = {
    "20251015_baseline": "2025-10-15 09:31:47 -0400",  # applied locally, never committed
    "48b01bf7ee65": "2025-10-19 10:07:26 -0400",
    "84456d47e6aa": "2025-10-29 10:36:12 -0400",
    "b22b3b5a376f": "2025-10-31 14:09:03 -0400",
}
# co_filename recorded in those .pyc files (the original developer machine).
PYC_SOURCE_DIR = (
    "C:\\Users\\James\\Documents\\Github\\GHrepos\\SCCMScripts\\"
    "TaskMan-v2\\backend-api\\alembic\\versions\\"
)

# Minimal env.py used to run the revision files (online mode only).
_ENV_PY = '''\
from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config
target_metadata = None

connectable = engine_from_config(
    config.get_section(config.config_ini_section, {}),
    prefix="sqlalchemy.",
    poolclass=pool.NullPool,
)
with connectable.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # autogenerate rendering only; runtime batch is in the files
    )
    with context.begin_transaction():
        context.run_migrations()
'''


class BuildError(RuntimeError):
    pass


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def _epoch(date: str) -> int:
    return int(_dt.datetime.strptime(date, "%Y-%m-%d %H:%M:%S %z").timestamp())


def git_blob_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def revision_path(rev: str) -> Path:
    return REVISIONS_DIR / REVISIONS[rev][0]


def _check_revision_files() -> None:
    for rev in CHAIN:
        path = revision_path(rev)
        text = path.read_text(encoding="utf-8")
        if f"revision: str = '{rev}'" not in text:
            raise BuildError(f"{path.name}: revision id {rev!r} not found")
    for name, size in EXPECTED_SIZES.items():
        actual = (REVISIONS_DIR / name).stat().st_size
        if actual != size:
            raise BuildError(
                f"{name} must be exactly {size} bytes (Loose-File-Index), is {actual}"
            )


class _Git:
    """Runs git in the sample repo with a pinned identity, date and config."""

    def __init__(self, repo: Path) -> None:
        self.repo = repo
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        env.update(
            GIT_CONFIG_GLOBAL=os.devnull,
            GIT_CONFIG_NOSYSTEM="1",
            GIT_TERMINAL_PROMPT="0",
            GIT_AUTHOR_NAME=AUTHOR_NAME,
            GIT_AUTHOR_EMAIL=AUTHOR_EMAIL,
            GIT_COMMITTER_NAME=AUTHOR_NAME,
            GIT_COMMITTER_EMAIL=AUTHOR_EMAIL,
            LC_ALL="C",
            LANG="C",
            TZ="UTC",
        )
        self._env = env

    def __call__(self, *args: str, date: str | None = None) -> str:
        env = dict(self._env)
        if date is not None:
            env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
        proc = subprocess.run(
            ["git", *args],
            cwd=self.repo,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            encoding="utf-8",
        )
        if proc.returncode != 0:
            raise BuildError(
                f"git {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}"
            )
        return proc.stdout.strip()

    def commit(self, date: str, message: str, *, add=(), rm=()) -> str:
        if add:
            self("add", "--", *add, date=date)
        if rm:
            self("rm", "-q", "--", *rm, date=date)
        self("commit", "-q", "--no-verify", "-m", message, date=date)
        return self("rev-parse", "HEAD")


class _Tree:
    """Writes files into the work tree with fixed modification times."""

    def __init__(self, repo: Path) -> None:
        self.repo = repo

    def put(self, rel: str, source: Path, date: str) -> str:
        data = source.read_bytes()
        if source.is_relative_to(FILES_DIR):
            data = _render_template(data)
        dest = self.repo / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
        ts = _epoch(date)
        os.utime(dest, (ts, ts))
        return rel

    def file(self, rel: str, date: str, variant: str = "") -> str:
        """Copy files/<variant>/<rel> (variant "" = final version)."""
        base = FILES_DIR / variant if variant else FILES_DIR
        return self.put(rel, base / rel, date)

    def revision(self, rev: str, date: str, source: Path | None = None) -> str:
        name = REVISIONS[rev][0]
        return self.put(f"{VERSIONS}/{name}", source or REVISIONS_DIR / name, date)


_TOKEN = re.compile(rb"\{sha256:([\w.-]+)\}")


def _render_template(data: bytes) -> bytes:
    def sub(m: re.Match) -> bytes:
        src = REVISIONS_DIR / m.group(1).decode()
        return hashlib.sha256(src.read_bytes()).hexdigest()[:16].encode()

    return _TOKEN.sub(sub, data)


# --------------------------------------------------------------------------
# the story
# --------------------------------------------------------------------------

def _make_history(g: _Git, w: _Tree) -> dict[str, str]:
    c: dict[str, str] = {}
    gitignore = FILES_DIR / "dot-gitignore"

    # 2025-10-14: application skeleton
    d = "2025-10-14 10:02:11 -0400"
    files = [
        w.put(".gitignore", gitignore, d),
        w.file("README.md", d, "_v1"),
        w.file(f"{BACKEND}/README.md", d, "_v1"),
        w.file(f"{BACKEND}/requirements.txt", d, "_v1"),
        w.file(f"{BACKEND}/app/__init__.py", d),
        w.file(f"{BACKEND}/app/database.py", d),
        w.file(f"{BACKEND}/app/models.py", d, "_v1"),
        w.file(f"{BACKEND}/app/main.py", d, "_v1"),
    ]
    c["skeleton"] = g.commit(d, "Initial TaskMan-v2 backend skeleton (FastAPI + SQLAlchemy)", add=files)

    # 2025-10-15: Alembic is introduced.  The 64-field baseline revision
    # (20251015_baseline) is generated and applied locally that day but never
    # committed: the file is not in any commit, stash or object, and only its
    # bytecode in alembic/versions/__pycache__/ (ignored) remains (_write_pycs).
    d = "2025-10-15 09:20:03 -0400"
    files = [
        w.file(ALEMBIC_INI, d),
        w.file(f"{BACKEND}/alembic/env.py", d),
        w.file(f"{BACKEND}/alembic/script.py.mako", d),
        w.file(f"{BACKEND}/alembic/README", d),
        w.file(f"{BACKEND}/requirements.txt", d),
    ]
    c["baseline"] = g.commit(
        d,
        "feat(db): introduce Alembic (alembic.ini, env.py, script template)\n\n"
        "The 64-field baseline is applied to the local database; its revision\n"
        "file will follow.",
        add=files,
    )

    d = "2025-10-16 15:48:30 -0400"
    c["design_doc_v1"] = g.commit(
        d, "docs: database design & implementation guide (draft)",
        add=[w.file("docs/05-Database-Design-Implementation.md", d, "_v1")],
    )

    d = "2025-10-17 11:26:54 -0400"
    c["task_crud"] = g.commit(
        d, "feat(api): task CRUD endpoints", add=[w.file(f"{BACKEND}/app/main.py", d)]
    )

    # 2025-10-18 / 19: 48b01bf7ee65, committed then fixed
    d = "2025-10-18 16:52:40 -0400"
    c["status_v1"] = g.commit(
        d, "feat(db): add 'new' and 'pending' task statuses (48b01bf7ee65)",
        add=[w.revision("48b01bf7ee65", d, SUPERSEDED_48B)],
    )
    d = "2025-10-19 10:05:12 -0400"
    c["status_v2"] = g.commit(
        d,
        "fix(db): 48b01bf7ee65 downgrade folds new statuses back; add 'blocked'\n\n"
        "The downgrade re-created the narrow CHECK constraint without moving\n"
        "rows that use the new statuses, which fails on a populated table.",
        add=[w.revision("48b01bf7ee65", d)],
    )

    d = "2025-10-20 14:30:00 -0400"
    c["api_tests"] = g.commit(
        d, "test: health endpoint smoke test", add=[w.file(f"{BACKEND}/tests/test_tasks_api.py", d)]
    )

    # 2025-10-22: 4de471a82333 on a feature branch that is deleted unmerged
    branch = "feature/task-model-alignment"
    g("checkout", "-q", "-b", branch, date="2025-10-22 10:58:02 -0400")
    d = "2025-10-22 11:15:48 -0400"
    c["task_alignment"] = g.commit(
        d, "feat(db): align task model with 64-field specification (4de471a82333)",
        add=[w.revision("4de471a82333", d)],
    )
    g("checkout", "-q", "main", date="2025-10-22 17:40:19 -0400")
    g("branch", "-q", "-D", branch, date="2025-10-22 17:40:31 -0400")

    d = "2025-10-23 09:41:07 -0400"
    c["backend_readme"] = g.commit(
        d, "docs(backend): how to run migrations", add=[w.file(f"{BACKEND}/README.md", d)]
    )

    # 2025-10-25: add_users_table committed on feature/auth, then the branch
    # is deleted and the reflog entry naming the commit is scrubbed, leaving
    # an unreachable commit (no ref, no reflog entry points at it).
    branch = "feature/auth"
    g("checkout", "-q", "-b", branch, date="2025-10-25 13:50:44 -0400")
    d = "2025-10-25 14:02:19 -0400"
    users = c["users_table"] = g.commit(
        d, "feat(auth): add users table for authentication",
        add=[w.revision("add_users_table", d)],
    )
    g("checkout", "-q", "main", date="2025-10-25 16:12:03 -0400")
    g("branch", "-q", "-D", branch, date="2025-10-25 16:12:10 -0400")
    _scrub_reflog_entry(g, "HEAD", users)

    # 2025-10-29: 84456d47e6aa on main + models, validation report
    d = "2025-10-29 10:31:05 -0400"
    c["project_schema"] = g.commit(
        d, "feat(db): ContextForge extended project schema (84456d47e6aa)",
        add=[w.revision("84456d47e6aa", d), w.file(f"{BACKEND}/app/models.py", d)],
    )
    d = "2025-10-29 17:12:44 -0400"
    c["pg_validation"] = g.commit(
        d, "docs: PostgreSQL validation complete (taskman_v2)",
        add=[w.file("TaskMan-v2/POSTGRES-VALIDATION-COMPLETE.md", d)],
    )

    # 2025-10-31: recovery plan, b22b3b5a376f written and applied locally,
    # loose-file index regenerated while it is on disk, then it is stashed.
    d = "2025-10-31 09:15:27 -0400"
    c["recovery_plan"] = g.commit(
        d, "docs: TaskMan-v2 recovery plan 2025-10-31",
        add=[w.file("TaskMan-v2/RECOVERY-PLAN-20251031.md", d)],
    )
    b22 = w.revision("b22b3b5a376f", "2025-10-31 14:07:52 -0400")
    d = "2025-10-31 18:44:02 -0400"
    c["loose_file_index"] = g.commit(
        d, "docs: regenerate loose file index",
        add=[w.file("docs/indexes/Loose-File-Index.md", d)],
    )
    d = "2025-10-31 18:52:10 -0400"
    g("add", "--", b22, date=d)
    g("stash", "push", "-q", "-m", "WIP expand action list status", date=d)

    d = "2025-11-01 10:20:36 -0400"
    c["design_doc"] = g.commit(
        d, "docs: Alembic migrations section in the database design guide",
        add=[w.file("docs/05-Database-Design-Implementation.md", d)],
    )

    # 2025-11-03: the cleanup that makes the files disappear
    d = "2025-11-03 09:05:33 -0500"
    stale = [f"{VERSIONS}/{REVISIONS[r][0]}" for r in CHAIN if REVISIONS[r][3] == "history"]
    c["cleanup"] = g.commit(
        d,
        "chore: remove stale alembic files (archive cleanup)\n\n"
        "Schema is applied on taskman_v2; the revision files and alembic.ini\n"
        "are no longer needed in the working tree.",
        rm=[*stale, ALEMBIC_INI],
    )

    # 2025-11-04: an unrelated WIP stash on top (b22 becomes stash@{1})
    d = "2025-11-04 16:20:51 -0500"
    w.file(f"{BACKEND}/app/main.py", d, "_stash")
    g("stash", "push", "-q", "-m", "WIP cors origins for staging", date=d)

    d = "2025-11-05 11:00:17 -0500"
    c["readme"] = g.commit(
        d, "docs: note the archive cleanup in the README", add=[w.file("README.md", d)]
    )
    return c


def _scrub_reflog_entry(g: _Git, ref: str, sha: str) -> None:
    """Delete the reflog entry whose new value is ``sha`` (rewriting the next
    entry's old value), then make sure no entry of any reflog names it."""
    lines = g("reflog", "show", "--format=%H", ref).splitlines()
    hits = [i for i, h in enumerate(lines) if h == sha]
    if len(hits) != 1:
        raise BuildError(f"expected one {ref} reflog entry for {sha}, found {len(hits)}")
    g("reflog", "delete", "--rewrite", f"{ref}@{{{hits[0]}}}")
    logs = g.repo / ".git" / "logs"
    for path in logs.rglob("*"):
        if path.is_file() and sha in path.read_text(encoding="utf-8"):
            raise BuildError(f"{sha} still named in {path.relative_to(g.repo)}")


# --------------------------------------------------------------------------
# Alembic
# --------------------------------------------------------------------------

@contextlib.contextmanager
def alembic_script_dir() -> Iterator[Path]:
    """A throw-away Alembic script directory (outside the sample repo) holding
    the six revision files and a minimal online-only env.py."""
    with tempfile.TemporaryDirectory(prefix="taskman-v2-alembic-") as tmp:
        root = Path(tmp) / "alembic"
        (root / "versions").mkdir(parents=True)
        (root / "env.py").write_text(_ENV_PY, encoding="utf-8")
        for rev in CHAIN:
            shutil.copyfile(revision_path(rev), root / "versions" / REVISIONS[rev][0])
        yield root


def alembic_config(script_dir: Path, url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(script_dir))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str, *steps: tuple[str, str]) -> None:
    """Run ``("upgrade"|"downgrade", target)`` steps against ``url`` with the
    sample's revision files, e.g. ``migrate(url, ("upgrade", "head"))``."""
    from alembic import command

    with alembic_script_dir() as script_dir:
        cfg = alembic_config(script_dir, url)
        for action, target in steps:
            if action == "upgrade":
                command.upgrade(cfg, target)
            elif action == "downgrade":
                command.downgrade(cfg, target)
            else:
                raise ValueError(f"unknown alembic action {action!r}")


def _build_database(db_path: Path) -> str:
    if db_path.exists():
        db_path.unlink()
    migrate(f"sqlite:///{db_path.as_posix()}", ("upgrade", HEAD_REVISION))
    con = sqlite3.connect(db_path)
    try:
        rows = con.execute("SELECT version_num FROM alembic_version").fetchall()
        ck = con.execute(
            "SELECT sql FROM sqlite_master WHERE type='table' AND name='action_lists'"
        ).fetchone()[0]
    finally:
        con.close()
    if rows != [(HEAD_REVISION,)]:
        raise BuildError(f"database stamped {rows}, expected {HEAD_REVISION}")
    if "'in_progress'" not in ck or "ck_action_lists_status" not in ck:
        raise BuildError("b22b3b5a376f did not re-create ck_action_lists_status on SQLite")
    return HEAD_REVISION


def _write_archive(repo: Path) -> str:
    """The untracked 2025-10-18 zip of alembic/versions holding the first
    version of 48b01bf7ee65; byte-identical on every run (fixed date, stored)."""
    name = REVISIONS["48b01bf7ee65"][0]
    dest = repo / ARCHIVE_ZIP
    dest.parent.mkdir(parents=True, exist_ok=True)
    entry = zipfile.ZipInfo(f"versions/{name}", date_time=ARCHIVE_DATE)
    entry.compress_type = zipfile.ZIP_STORED  # no zlib-version dependence
    entry.create_system = 3
    entry.external_attr = 0o100644 << 16
    with zipfile.ZipFile(dest, "w") as zf:
        zf.writestr(entry, SUPERSEDED_48B.read_bytes())
    ts = _epoch("2025-10-18 17:00:00 -0400")
    os.utime(dest, (ts, ts))
    return ARCHIVE_ZIP


def _write_pycs(repo: Path) -> list[str]:
    out = []
    cache = repo / VERSIONS / "__pycache__"
    cache.mkdir(parents=True, exist_ok=True)
    for rev, date in PYC_REVISIONS.items():
        name = REVISIONS[rev][0]
        cfile = cache / f"{Path(name).stem}.{sys.implementation.cache_tag}.pyc"
        py_compile.compile(
            str(revision_path(rev)),
            cfile=str(cfile),
            dfile=PYC_SOURCE_DIR + name,
            doraise=True,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
        ts = _epoch(date)
        os.utime(cfile, (ts, ts))
        out.append(cfile.relative_to(repo).as_posix())
    return out


# --------------------------------------------------------------------------
# self-check of the story
# --------------------------------------------------------------------------

def _verify(g: _Git, info: dict) -> None:
    revs = info["revisions"]
    commits = info["commits"]
    all_refs = set(g("rev-list", "--all").split())
    all_and_reflogs = set(g("rev-list", "--all", "--reflog").split())
    reflog_only = set(g("rev-list", "--reflog").split())

    def need(cond: bool, msg: str) -> None:
        if not cond:
            raise BuildError("story check failed: " + msg)

    users = commits["users_table"]
    need(users not in all_and_reflogs, "add_users_table commit is reachable")
    fsck = g("fsck", "--unreachable", "--no-reflogs")
    need(f"unreachable commit {users}" in fsck, "add_users_table commit not reported by fsck")
    alignment = commits["task_alignment"]
    need(alignment in reflog_only and alignment not in all_refs,
         "4de471a82333 commit is not reflog-only")
    stashes = g("stash", "list", "--format=%gd %s").splitlines()
    need(len(stashes) == 2, f"expected 2 stash entries, got {stashes}")
    need(stashes[1].startswith("stash@{1} On main: WIP expand action list status"),
         f"unexpected stash@{{1}}: {stashes[1]}")
    tracked = g("ls-files").splitlines()
    need(not any(p.startswith(VERSIONS + "/") for p in tracked), "versions/ still tracked")
    need(ALEMBIC_INI not in tracked, "alembic.ini still tracked")
    need(g("status", "--porcelain") == "", "working tree not clean")
    for rev, meta in revs.items():
        if meta["blob"] is not None:
            need(g("cat-file", "-t", meta["blob"]) == "blob", f"{rev} blob missing")
    # the baseline was never committed: no path in any commit (history, reflogs,
    # stashes) names it and no object anywhere has its content
    baseline = REVISIONS["20251015_baseline"][0]
    need(g("log", "--all", "--reflog", "--format=%H", "--", f"*{Path(baseline).stem}*") == "",
         "20251015_baseline committed somewhere")
    objects = set(g("cat-file", "--batch-all-objects", "--batch-check=%(objectname)").split())
    need(git_blob_sha(revision_path("20251015_baseline").read_bytes()) not in objects,
         "20251015_baseline content is a git object")
    need(ARCHIVE_ZIP not in tracked and g("check-ignore", ARCHIVE_ZIP) == ARCHIVE_ZIP,
         "archive zip is not ignored")


# --------------------------------------------------------------------------
# entry points
# --------------------------------------------------------------------------

def build(dest: Path) -> dict:
    """Build the sample repository at ``dest`` (must be absent or empty)."""
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise FileExistsError(f"destination {dest} exists and is not an empty directory")
    _check_revision_files()
    dest.mkdir(parents=True, exist_ok=True)
    dest = dest.resolve()

    g = _Git(dest)
    g("init", "-q", "-b", "main", ".")
    for key, value in (
        ("init.defaultBranch", "main"),
        ("commit.gpgsign", "false"),
        ("tag.gpgsign", "false"),
        ("core.autocrlf", "false"),
        ("core.logAllRefUpdates", "true"),
        # keep the evidence: no auto-gc, no reflog expiry, no pruning
        ("gc.auto", "0"),
        ("gc.reflogExpire", "never"),
        ("gc.reflogExpireUnreachable", "never"),
        ("gc.pruneExpire", "never"),
    ):
        g("config", key, value)

    commits = _make_history(g, _Tree(dest))

    # where the final version of each revision file lives
    holder = {
        "20251015_baseline": None,  # never committed: bytecode only
        "48b01bf7ee65": commits["status_v2"],
        "4de471a82333": commits["task_alignment"],
        "add_users_table": commits["users_table"],
        "84456d47e6aa": commits["project_schema"],
        "b22b3b5a376f": g("rev-parse", "stash@{1}"),
    }
    revisions = {}
    for rev in CHAIN:
        name, message, down, where = REVISIONS[rev]
        data = revision_path(rev).read_bytes()
        blob = holder[rev] and g("rev-parse", f"{holder[rev]}:{VERSIONS}/{name}")
        if blob is not None and blob != git_blob_sha(data):
            raise BuildError(f"{rev}: blob in git {blob} != revision file")
        revisions[rev] = {
            "file": name,
            "message": message,
            "down_revision": down,
            "survives_in": where,
            "blob": blob,
            "commit": holder[rev],
            "size": len(data),
        }
    revisions["48b01bf7ee65"]["earlier_blobs"] = [
        g("rev-parse", f"{commits['status_v1']}:{VERSIONS}/{REVISIONS['48b01bf7ee65'][0]}")
    ]

    db_path = dest / DB_RELPATH
    stamped = _build_database(db_path)
    pycs = _write_pycs(dest)
    archive = _write_archive(dest)
    baseline = revisions["20251015_baseline"]
    baseline["pyc"] = next(p for p in pycs if Path(p).name.startswith(Path(baseline["file"]).stem + "."))

    info = {
        "repo": str(dest),
        "database": str(db_path),
        "versions_dir": VERSIONS,
        "revisions": revisions,
        "chain": list(CHAIN),
        "head_revision": HEAD_REVISION,
        "stamped": stamped,
        "head": g("rev-parse", "HEAD"),
        "branch": "main",
        "commits": commits,
        "stashes": [g("rev-parse", "stash@{0}"), g("rev-parse", "stash@{1}")],
        "pyc": pycs,
        "archive": archive,
    }
    _verify(g, info)
    return info


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or argv[0] in ("-h", "--help"):
        print("usage: build.py DEST  (DEST must not exist or be an empty directory)",
              file=sys.stderr)
        return 2
    dest = Path(argv[0])
    try:
        info = build(dest)
    except FileExistsError as exc:
        print(f"build.py: {exc}", file=sys.stderr)
        return 2
    n = len(_Git(Path(info["repo"]))("rev-list", "main").split())
    print(
        f"built TaskMan-v2 sample at {info['repo']}: {n} commits on main, "
        f"HEAD {info['head'][:12]}, 2 stash entries, {len(info['revisions'])} lost revisions, "
        f"database stamped {info['stamped']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
