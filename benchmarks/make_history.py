"""Generate a synthetic, deterministic monorepo history with Alembic revisions.

The whole history is written through ONE ``git fast-import`` stream, so tens of
thousands of commits take seconds rather than minutes::

    python benchmarks/make_history.py DEST --commits 20000 --revisions 500 \\
        [--refs 2000] [--docs N] [--long-lived N] [--merge-share 0.2] [--seed 1] \\
        [--no-repack] [--json]

What the history contains:

* ~300 ordinary ``.py`` files in application folders (models, views, utils,
  services, tests ...), many modified over time, plus ``.md``/``.json``/``.txt``
  files;
* ``--revisions`` Alembic revision files added over time under
  ``app/alembic/versions/``, chained through ``down_revision`` with occasional
  branch points and merge revisions (tuple ``down_revision``).  Some revisions
  that start a new branch carry ``branch_labels`` (a tuple such as
  ``('reporting',)``, every third one a plain string), each label used once; a
  few carry ``depends_on`` naming an earlier revision on another branch (not
  an ancestor) that is never archived or deleted, so it is in every tree the
  dependent revision is in.  Some revisions are edited later, some moved to
  ``archive/old_migrations/`` (delete + add in one commit), some deleted for
  good, and some only exist on unmerged branches;
* merge commits at about ``--merge-share`` (0.20, the median of 8 real
  repositories) of the commits: feature branches (most merged with merge
  commits, some never merged), and ``--long-lived`` branches (``develop``,
  ``stable/1.x`` ...) with about 12 % of the commits, revision files included,
  merged into main about 8 times each (the first-parent diff re-lists what the
  branch changed since the merge base) and synced from main
  (``Merge branch 'main' into develop``); tags (annotated and lightweight),
  ``release/*`` branches;
* ``--docs`` Markdown/RST pages under ``docs/<section>/<topic>/``, added and
  edited over time, 5 % with an upgrade note naming revision ids, and
  ``docs/releases/<tag>.md`` per tag with a table of its revisions; about 60 %
  of the ``.py`` files (30 % of the revision files) start with a license block;
* exactly ``--refs`` extra refs: ``refs/pull/<n>/head`` and
  ``refs/remotes/origin/feature-<n>``;
* what a developer's clone leaves behind, beyond the refs (for ``--commits`` of
  50 or more; 3 stashes, 2 reflog-only events, 2 force-pushed pull requests and
  3 dangling blobs below 10,000 commits, one more stash, reflog-only event and
  dangling blob per doubling from 10,000 on):

  - ``refs/stash`` with 3+ entries (its reflog ``logs/refs/stash``), each a
    real stash: ``W`` = merge-like commit with parents (base commit on main,
    index commit ``I``), ``git stash -u`` entries with a third, parentless
    "untracked files" commit.  Some stashes hold a revision file found nowhere
    else (staged, or untracked);
  - ``logs/HEAD`` and ``logs/refs/heads/main``: a clone, pulls, local commits,
    checkouts of feature branches, and *reflog-only* commits that no ref
    reaches: commits amended away (``commit (amend)``) or reset away
    (``reset: moving to HEAD~1``), most holding a revision file found nowhere
    else.  (fast-import itself runs with ``core.logAllRefUpdates=false``: it
    would log every ref it writes with the wall-clock time);
  - *unreachable* commits that neither a ref nor a reflog names: a dropped
    stash and commits of pull requests that were force-pushed over, some
    holding a revision file found nowhere else;
  - *dangling blobs*: revision files found nowhere else, an earlier draft of
    an existing revision file, a draft of an ordinary ``.py`` file.

  The repack keeps them (``git repack -a -d --keep-unreachable``) and the
  repository's config sets ``gc.reflogExpire``, ``gc.reflogExpireUnreachable``
  and ``gc.pruneExpire`` to ``never`` so a later ``git gc`` does not drop them
  either (the history is dated 2017 onwards, long past git's default expiry).

Author, dates (strictly increasing), reflog timestamps and content are derived
from ``--seed`` only, so the same arguments always give the same commit ids and
the same reflogs.  Commit counts:

* ``git rev-list --all --count`` is exactly ``--commits``.  ``--all`` includes
  ``refs/stash``, so the 2 (or 3) commits of ``stash@{0}`` are part of
  ``--commits``;
* on top of that come ``extra_commits`` (reported separately in the summary):
  the commits of the older stash entries (reachable only through the stash
  reflog), the reflog-only commits and the unreachable commits.  So
  ``git rev-list --all --reflog --count`` is ``--commits`` + older stash
  commits + ``reflog_only_commits``, and the repository holds ``--commits`` +
  ``extra_commits`` commit objects in all.

``--revisions`` counts the revision files reachable from the branches, tags
and pull/remote refs; the revisions found only in a stash, a reflog-only
commit, an unreachable commit or a dangling blob are additional and listed by
id in the summary (``stash_only_revisions`` ...).  ``blobs``/``py_blobs``
count every blob written, hidden ones included.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO

AUTHOR = b"Bench Author <bench@example.com>"
START_EPOCH = 1_500_000_000
VERSIONS_DIR = "app/alembic/versions"
ARCHIVE_DIR = "archive/old_migrations"
SCRATCH_REF = "refs/make-history/scratch"   # hidden commits are written here, deleted afterwards
CLONE_URL = "https://github.com/acme/monorepo.git"
ZERO_SHA = "0" * 40
LABEL_NAMES = [   # branch labels: never valid hex, so never mistaken for a revision id
    "reporting", "billing", "search", "analytics", "audit", "tenancy", "notifications",
    "inventory", "payments", "shipping", "catalog", "support", "exports", "webhooks",
]
STASH_NOTES = [
    "wip reporting migration", "try index on orders", "half-done billing refactor",
    "debug prints", "before rebase", "experiment with partitioning",
]
STASH_ROLES = ["untracked_revision", "staged_revision", "edits"]   # cycled, oldest stash first
DANGLING_ROLES = ["revision", "revision_draft", "py_draft"]        # cycled

APPS = [
    "accounts", "billing", "catalog", "inventory", "orders", "payments",
    "shipping", "notifications", "search", "reports", "analytics", "support",
]
APP_MODULES = [
    "__init__.py", "models.py", "views.py", "utils.py", "serializers.py",
    "forms.py", "admin.py", "urls.py", "signals.py", "tasks.py",
    "permissions.py", "constants.py", "api/__init__.py", "api/handlers.py",
    "api/schemas.py", "services/__init__.py", "services/{app}_service.py",
    "tests/__init__.py", "tests/test_models.py", "tests/test_views.py",
    "tests/test_utils.py",
]
EXTRA_PY = [
    "app/__init__.py", "app/config.py", "app/db.py", "app/alembic/env.py",
    "libs/common/__init__.py", "libs/common/db.py", "libs/common/cache.py",
    "libs/common/logging_utils.py", "libs/common/http.py",
    "libs/common/retry.py", "libs/common/timeutils.py", "libs/common/money.py",
    "libs/common/validators.py", "libs/common/pagination.py",
    "libs/common/feature_flags.py", "services/api/__init__.py",
    "services/api/main.py", "services/api/deps.py",
    "services/api/middleware.py", "services/api/auth.py",
    "services/api/routes.py", "services/api/config.py",
    "services/worker/__init__.py", "services/worker/main.py",
    "services/worker/queue.py", "services/worker/jobs.py",
    "services/worker/scheduler.py", "services/worker/config.py",
    "scripts/backfill_orders.py", "scripts/rotate_keys.py",
    "scripts/export_reports.py", "scripts/seed_dev_db.py",
]
OTHER_FILES = [
    "README.md", "CHANGELOG.md", "docs/architecture.md", "docs/deployment.md",
    "docs/onboarding.md", "docs/api.md", "config/settings.json",
    "config/logging.json", "config/feature_flags.json", "requirements.txt",
    "requirements-dev.txt", "alembic.ini", "app/alembic/script.py.mako",
    "app/alembic/README", "package.json", "notes/todo.txt",
] + [f"app/{a}/README.md" for a in APPS] + [f"app/{a}/fixtures/initial.json" for a in APPS]

NOUNS = [
    "invoice", "customer", "order", "account", "payment", "shipment",
    "product", "report", "session", "token", "user", "item", "cart", "refund",
    "address", "coupon", "ticket", "event", "message", "batch", "warehouse",
    "supplier", "discount", "subscription", "webhook", "audit", "tenant",
]
VERBS = [
    "get", "create", "update", "delete", "validate", "compute", "load", "sync",
    "render", "parse", "build", "fetch", "apply", "normalize", "export",
    "import", "merge", "archive", "notify", "schedule",
]
ADJS = [
    "active", "pending", "stale", "recent", "primary", "cached", "expired",
    "draft", "visible", "billable", "overdue", "verified", "default", "legacy",
]
COLS = [
    "status", "email", "name", "amount", "currency", "created_at", "updated_at",
    "external_id", "priority", "notes", "country", "quantity", "sku", "due_date",
    "is_active", "owner_id", "tenant_id", "reference", "score", "metadata",
]
SA_TYPES = [
    "sa.String(length=255)", "sa.Integer()", "sa.Boolean()", "sa.Text()",
    "sa.DateTime(timezone=True)", "sa.Numeric(precision=12, scale=2)",
    "sa.JSON()", "sa.BigInteger()", "sa.String(length=64)",
]
WORDS = (
    "the service now handles retries and the cache is warmed on startup while "
    "legacy handlers are kept for compatibility until the migration completes "
    "please update your local settings before running the worker"
).split()
LONG_LIVED = ["develop", "stable/1.x", "next", "stable/2.x", "integration", "stable/3.x"]
LONG_LIVED_SHARE = 0.12     # chance that a step is a commit on a long-lived branch
LONG_LIVED_MERGES = 8       # merges into main each long-lived branch aims for
MERGE_SHARE = 0.20          # default merges / commits: the median of 8 real repositories (2 % to 45 %)
DOCS_CAP = 5000             # --docs default: commits // 10, at most this
DOC_EDIT_SHARE = 0.10       # share of the files an ordinary commit edits that are doc pages
DOC_MENTION_SHARE = 0.05    # doc pages created with a note naming revision ids
LICENSE_SHARE = 0.6         # .py files (revision files: half that) with a license header
DOC_SECTIONS = ["user", "admin", "install", "dev", "api", "ops", "howto", "design",
                "tutorials", "reference"]
LICENSE = """# Copyright {year} Acme Corp.
# All Rights Reserved.
#
#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.
"""


@dataclass
class Summary:
    """What was generated."""

    dest: str
    commits: int                 # reachable from the refs: == git rev-list --all --count
    py_blobs: int
    blobs: int
    refs: int
    extra_refs: int
    branches: int
    tags: int
    revisions: int               # revision files reachable from branches/tags/pull/remote refs
    revisions_modified: int
    revisions_archived: int
    revisions_deleted: int
    revisions_unmerged: int
    branch_labels: int           # revisions with branch_labels
    depends_on: int              # revisions with depends_on
    stashes: int                 # entries of refs/stash (git stash list)
    stash_commits: int           # commits of all those entries (stash@{0}'s are in `commits`)
    reflog_only_commits: int     # named only by logs/HEAD and logs/refs/heads/main
    unreachable_commits: int     # named by no ref and no reflog
    extra_commits: int           # commit objects on top of `commits`
    dangling_blobs: int
    head_reflog_entries: int
    merges: int                  # == git rev-list --all --merges --count (stash@{0}'s W included)
    long_lived_branches: int
    long_lived_commits: int      # non-merge commits on long-lived branches
    long_lived_revisions: int    # revision files added on long-lived branches
    long_lived_merges: int       # long-lived branch merged into main
    sync_merges: int             # main merged into a long-lived branch
    docs: int                    # generated doc pages (docs/<section>/...), all in HEAD's tree
    release_notes: int           # docs/releases/<tag>.md, all in HEAD's tree
    docs_files: int              # files under docs/ in HEAD's tree (4 scaffolding pages included)
    docs_naming_revisions: int   # of those, files naming a revision id of the history
    licensed_files: int          # .py files (revision files included) with a license header
    stash_only_revisions: list[str]
    reflog_only_revisions: list[str]
    unreachable_only_revisions: list[str]
    dangling_blob_revisions: list[str]
    head: str
    seconds: float

    def line(self) -> str:
        """One-line human summary."""
        return (
            f"make_history: {self.commits} commits (+{self.extra_commits} not reachable from refs), "
            f"{self.py_blobs} distinct .py blobs "
            f"({self.blobs} blobs total), {self.refs} refs ({self.extra_refs} extra, "
            f"{self.branches} branches, {self.tags} tags), {self.revisions} revisions "
            f"({self.revisions_modified} modified, {self.revisions_archived} archived, "
            f"{self.revisions_deleted} deleted, {self.revisions_unmerged} only on unmerged "
            f"branches, {self.branch_labels} with branch_labels, {self.depends_on} with depends_on), "
            f"{self.merges} merges ({self.long_lived_branches} long-lived branches, "
            f"{self.long_lived_merges} merged into main, {self.sync_merges} syncs from main), "
            f"{self.docs_files} docs files ({self.docs_naming_revisions} naming revisions), "
            f"{self.stashes} stashes, {self.reflog_only_commits} reflog-only and "
            f"{self.unreachable_commits} unreachable commits, {self.dangling_blobs} dangling blobs, "
            f"{len(self.stash_only_revisions)}/{len(self.reflog_only_revisions)}/"
            f"{len(self.unreachable_only_revisions)}/{len(self.dangling_blob_revisions)} revisions "
            f"only in a stash/reflog/unreachable commit/dangling blob, "
            f"{self.seconds:.1f} s -> {self.dest}"
        )


@dataclass(eq=False)
class TextFile:
    """Content state of one ordinary file (shared by all branches)."""

    path: str
    kind: str
    sections: list[str] = field(default_factory=list)
    fixed: int = 1          # leading sections edits never touch (header, license, revision note)


@dataclass(eq=False)
class Revision:
    """One Alembic revision file."""

    rev: str
    down: str | tuple[str, ...] | None
    slug: str
    typed: bool
    ops: list[tuple[str, str]]
    create_date: str
    path: str
    mark: int = 0
    gone: bool = False      # deleted for good on main
    labels: str | tuple[str, ...] | None = None
    depends: str | tuple[str, ...] | None = None
    licensed: bool = False


@dataclass(eq=False)
class Branch:
    """A feature branch: forked from main, maybe merged back later."""

    name: str
    pr: int
    base_revs: list[str]
    tip: int = 0
    changes: dict[str, int] = field(default_factory=dict)
    revs: list[str] = field(default_factory=list)
    merge: bool = True
    merged: bool = False


@dataclass(eq=False)
class LongLived:
    """A long-lived branch (``develop``, ``stable/*``): many commits, merged into main again and again.

    Its tree is tracked so that syncs from main (``Merge branch 'main' into develop``)
    can list exactly the files that differ.  ``pending`` is what it changed since its
    last merge into main, the merge base's diff that the next merge re-lists.
    """

    name: str
    tip: int
    tree: dict[str, int]
    known: list[str]                    # revisions in its tree, in order
    merge_every: int
    pending: dict[str, int] = field(default_factory=dict)
    pending_revs: list[str] = field(default_factory=list)
    since_merge: int = 0
    since_sync: int = 0
    next_merge: int = 0
    next_sync: int = 0


def blob_sha(data: bytes) -> str:
    """The object id git gives a blob with this content."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _plural(word: str) -> str:
    return word + ("es" if word.endswith(("s", "x", "ch")) else "s")


def _camel(word: str) -> str:
    return "".join(part.capitalize() for part in word.split("_"))


class HistoryWriter:
    """Builds the fast-import stream and tracks what has been emitted."""

    def __init__(self, sink: IO[bytes], rng: random.Random, source: IO[bytes] | None = None) -> None:
        self.sink = sink
        self.source = source        # fast-import's stdout, for get-mark answers
        self.rng = rng
        self.buf: list[bytes] = []
        self.buf_len = 0
        self.next_mark = 1
        self.blob_marks: dict[str, int] = {}
        self.py_blobs: set[str] = set()
        self.commit_marks: list[int] = []   # commits that refs may point at
        self.hidden_marks: list[int] = []   # stash, reflog-only and unreachable commits
        self.shas: dict[int, str] = {}
        self.when = START_EPOCH

    # -- low level -----------------------------------------------------------------
    def _write(self, chunk: bytes) -> None:
        self.buf.append(chunk)
        self.buf_len += len(chunk)
        if self.buf_len > 1 << 20:
            self.flush()

    def flush(self) -> None:
        """Send buffered stream data to fast-import."""
        if self.buf:
            self.sink.write(b"".join(self.buf))
            self.buf.clear()
            self.buf_len = 0

    def _mark(self) -> int:
        mark = self.next_mark
        self.next_mark += 1
        return mark

    def sha_of(self, marks: list[int]) -> dict[int, str]:
        """Object ids of marks already emitted (``get-mark``, in chunks the pipes can hold)."""
        assert self.source is not None, "no fast-import output to read object ids from"
        todo = sorted({m for m in marks if m and m not in self.shas})
        if todo:
            self.flush()
        for i in range(0, len(todo), 500):
            chunk = todo[i:i + 500]
            self.sink.write(b"".join(b"get-mark :%d\n" % m for m in chunk))
            self.sink.flush()
            for m in chunk:
                self.shas[m] = self.source.readline().decode().strip()
        return {m: self.shas[m] for m in marks if m}

    def blob(self, text: str, path: str) -> int:
        """Emit a blob (deduplicated by content) and return its mark."""
        data = text.encode()
        sha = blob_sha(data)
        if path.endswith(".py"):
            self.py_blobs.add(sha)
        mark = self.blob_marks.get(sha)
        if mark is None:
            mark = self._mark()
            self.blob_marks[sha] = mark
            self._write(b"blob\nmark :%d\ndata %d\n%s\n" % (mark, len(data), data))
        return mark

    def commit(
        self,
        message: str,
        parents: list[int],
        changes: list[tuple[str, str, int]],
        hidden: bool = False,
    ) -> int:
        """Emit a commit with explicit parents and return its mark.

        Visible commits are written on the scratch ref ``refs/heads/main`` (the final
        refs are set at the end); ``hidden`` ones (stash, reflog-only, unreachable) on
        :data:`SCRATCH_REF`, which is deleted afterwards, and never become targets of
        the generated refs.  ``changes`` holds ``("M", path, blob_mark)`` /
        ``("D", path, 0)`` in order.
        """
        self.when += self.rng.randint(1800, 12600)
        mark = self._mark()
        msg = message.encode()
        ref = SCRATCH_REF.encode() if hidden else b"refs/heads/main"
        out = [] if parents or not hidden else [b"reset %s\n\n" % ref]   # a parentless commit
        out += [
            b"commit %s\nmark :%d\n" % (ref, mark),
            b"author %s %d +0000\n" % (AUTHOR, self.when),
            b"committer %s %d +0000\n" % (AUTHOR, self.when),
            b"data %d\n%s\n" % (len(msg), msg),
        ]
        if parents:
            out.append(b"from :%d\n" % parents[0])
            out.extend(b"merge :%d\n" % p for p in parents[1:])
        for op, path, blob_mark in changes:
            if op == "D":
                out.append(b"D %s\n" % path.encode())
            else:
                out.append(b"M 100644 :%d %s\n" % (blob_mark, path.encode()))
        out.append(b"\n")
        self._write(b"".join(out))
        (self.hidden_marks if hidden else self.commit_marks).append(mark)
        return mark

    def ref(self, name: str, mark: int) -> None:
        """Point ``name`` at a commit mark."""
        self._write(b"reset %s\nfrom :%d\n\n" % (name.encode(), mark))

    def annotated_tag(self, name: str, mark: int, message: str) -> None:
        """Emit an annotated tag object."""
        msg = message.encode()
        self._write(
            b"tag %s\nfrom :%d\ntagger %s %d +0000\ndata %d\n%s\n"
            % (name.encode(), mark, AUTHOR, self.when, len(msg), msg)
        )


class Generator:
    """Plans the history and drives :class:`HistoryWriter`."""

    def __init__(self, writer: HistoryWriter, rng: random.Random, commits: int,
                 revisions: int, refs: int, docs: int = 0, long_lived: int = 0,
                 merge_share: float = MERGE_SHARE) -> None:
        self.w = writer
        self.rng = rng
        self.n_commits = commits
        self.n_revisions = revisions
        self.n_refs = refs
        self.n_docs = docs
        self.n_long_lived = long_lived
        self.merge_share = merge_share
        # merges, long-lived branches, docs
        self.main_tree: dict[str, int] = {}     # path -> blob mark at main's tip
        self.long_lived: list[LongLived] = []
        self.ll_forks: list[tuple[int, str]] = []   # (commit index, name), in order
        self.merge_count = 0                    # merge commits written so far (all kinds)
        self.ll_start = 0                       # commit index the first long-lived branch forked at
        self.pending_docs: list[str] = []
        self.doc_pool: list[str] = []
        self.doc_carry = 0
        self.doc_slots: Counter = Counter()
        self.release_queue: list[tuple[str, int]] = []  # (tag, main_revs index at the previous tag)
        self.tag_rev_index = 0
        self.files: dict[str, TextFile] = {}
        self.pending_files: list[str] = []
        self.py_pool: list[str] = []        # existing .py paths, repeated by weight
        self.other_pool: list[str] = []
        self.revs: dict[str, Revision] = {}
        self.main_revs: list[str] = []      # every revision ever added on main, in order
        self.events: list[tuple[int, str, str]] = []  # (due commit index, kind, rev)
        self.branches: list[Branch] = []
        self.open_branches: list[Branch] = []
        self.tags: list[tuple[str, int, bool]] = []
        self.release_branches: list[tuple[str, int]] = []
        self.emitted = 0
        self.main_tip = 0
        self.rev_carry = 0
        self.file_carry = 0
        self.rev_slots: Counter = Counter()
        self.file_slots: Counter = Counter()
        self.pr_counter = 0
        self.fate_acc = {"modify": 0.6, "archive": 0.6, "delete": 0.6}
        self.stats = Counter()
        # branch_labels / depends_on
        self.main_rev_set: set[str] = set()     # landed on main
        self.doomed: set[str] = set()           # archived or deleted later: never a depends_on target
        self.label_slots: set[int] = set()
        self.depends_slots: set[int] = set()
        self.want_label = 0
        self.want_depends = 0
        # what a developer's clone adds: reflogs, stashes, hidden commits and blobs
        self.n_main = commits                   # visible commits written by the main loop
        self.main_subject = ""
        self.hidden_ids: set[str] = set()
        self.side_events: list[tuple[int, str]] = []
        self.stash_roles: list[str] = []
        self.stash_log: list[tuple[int, int, int, str]] = []     # (old W, new W, when, message)
        self.stash_commits: list[list[int]] = []
        self.head_log: list[tuple[int, int, int, str, bool]] = []  # (old, new, when, msg, on main)
        self.head_at = 0
        self.clone_at = 1
        self.cloned = False
        self.log_rate = 1.0
        self.reflog_only: list[int] = []
        self.unreachable: list[int] = []
        self.dangling: list[str] = []
        self.only_in: dict[str, list[str]] = {"stash": [], "reflog": [], "unreachable": [], "dangling": []}

    # -- content ---------------------------------------------------------------------
    def _py_kind(self, path: str) -> str:
        name = path.rsplit("/", 1)[-1]
        if name == "__init__.py":
            return "init"
        if "/tests/" in path:
            return "test"
        for key in ("models", "views", "handlers", "service", "schemas", "serializers"):
            if key in name:
                return key.rstrip("s") if key != "service" else "service"
        return "util"

    def _py_header(self, f: TextFile) -> str:
        module = f.path[:-3].replace("/", ".")
        lines = [f'"""{module}: {self.rng.choice(WORDS)} {self.rng.choice(NOUNS)} helpers."""', ""]
        if f.kind == "model":
            lines += ["from sqlalchemy import Column, DateTime, Integer, String, func",
                      "", "from app.db import Base"]
        elif f.kind in ("view", "handler"):
            lines += ["from http import HTTPStatus", "",
                      "from libs.common.http import JsonResponse, get_object_or_404",
                      "from libs.common.validators import PermissionDenied"]
        elif f.kind == "test":
            lines += ["import pytest", "", "from tests.factories import make_object"]
        else:
            lines += ["from __future__ import annotations", "", "import logging",
                      "", "log = logging.getLogger(__name__)"]
        return "\n".join(lines)

    def _py_section(self, kind: str) -> str:
        r = self.rng
        noun, verb, adj, col = r.choice(NOUNS), r.choice(VERBS), r.choice(ADJS), r.choice(COLS)
        k = r.randint(1, 999)
        if kind == "model":
            c2 = r.choice(COLS)
            return (
                f"class {_camel(adj)}{_camel(noun)}{k}(Base):\n"
                f'    __tablename__ = "{noun}_{adj}_{k}"\n\n'
                f"    id = Column(Integer, primary_key=True)\n"
                f"    {col} = Column(String({r.choice([32, 64, 128, 255])}), nullable={r.choice(['True', 'False'])})\n"
                f"    {c2}_{k} = Column(Integer, default={r.randint(0, 9)})\n"
                f"    created_at = Column(DateTime, server_default=func.now())\n\n"
                f"    def __repr__(self) -> str:\n"
                f'        return f"<{_camel(noun)} {{self.id}} {{self.{col}!r}}>"'
            )
        if kind in ("view", "handler"):
            return (
                f"def {verb}_{noun}_{k}_view(request, {noun}_id: int):\n"
                f'    """{verb.capitalize()} a {adj} {noun} for the current user."""\n'
                f"    {noun} = get_object_or_404(\"{noun}\", pk={noun}_id)\n"
                f'    if not request.user.has_perm("{verb}_{noun}"):\n'
                f"        raise PermissionDenied({k})\n"
                f"    data = {{\"id\": {noun}.id, \"{col}\": {noun}.{col}}}\n"
                f"    return JsonResponse(data, status=HTTPStatus.{r.choice(['OK', 'CREATED', 'ACCEPTED'])})"
            )
        if kind == "test":
            return (
                f"def test_{verb}_{noun}_{adj}_{k}():\n"
                f'    obj = make_object("{noun}", {col}={k})\n'
                f"    assert obj.{col} == {k}\n"
                f"    assert obj.{r.choice(COLS)} is not None"
            )
        if kind in ("service", "schema", "serializer"):
            return (
                f"class {_camel(noun)}{_camel(verb)}{k}:\n"
                f'    """{_camel(adj)} {noun} {verb} step."""\n\n'
                f"    fields = ({', '.join(repr(c) for c in r.sample(COLS, 3))})\n\n"
                f"    def run(self, {noun}, *, dry_run: bool = False) -> dict:\n"
                f"        if dry_run or not {noun}.{col}:\n"
                f"            return {{}}\n"
                f'        log.info("{verb} {noun} %s", {noun}.id)\n'
                f"        return {{name: getattr({noun}, name) for name in self.fields}}"
            )
        if kind == "init":
            return f"__all__ = [{', '.join(repr(f'{v}_{noun}') for v in r.sample(VERBS, 2))}]"
        op = r.choice(["<", ">", "==", ">=", "!="])
        return (
            f"def {verb}_{noun}_{adj}_{k}(items, *, limit: int = {r.randint(5, 500)}):\n"
            f'    """Return {adj} {noun}s, at most ``limit``."""\n'
            f"    result = []\n"
            f"    for item in items:\n"
            f"        if item.{col} {op} {r.randint(0, 100)}:\n"
            f"            result.append(item)\n"
            f"        if len(result) >= limit:\n"
            f"            break\n"
            f"    return result"
        )

    def _other_text(self, f: TextFile) -> str:
        if f.path.endswith(".json"):
            return json.dumps({"version": len(f.sections), "entries": f.sections[-25:]}, indent=2)
        return "\n".join(f.sections[-60:])

    def _other_line(self, f: TextFile) -> str:
        r = self.rng
        if f.path.endswith(".json"):
            return f"{r.choice(NOUNS)}.{r.choice(COLS)}={r.randint(0, 9999)}"
        if "requirements" in f.path or f.path.endswith(".txt"):
            return f"{r.choice(NOUNS)}-{r.choice(VERBS)}=={r.randint(0, 9)}.{r.randint(0, 30)}.{r.randint(0, 9)}"
        return f"- {' '.join(r.sample(WORDS, 8))} ({r.choice(NOUNS)} #{r.randint(1, 9999)})"

    def _new_file(self, path: str) -> tuple[str, str, int]:
        """Create a file's initial content; returns an ``M`` change."""
        if path.endswith(".py"):
            f = TextFile(path, "")
            f.kind = self._py_kind(path)
            n = 1 if f.kind == "init" else self.rng.randint(2, 6)
            f.sections = [self._py_header(f)] + [self._py_section(f.kind) for _ in range(n)]
            if self.rng.random() < LICENSE_SHARE:
                f.sections[0] = self._license() + "\n" + f.sections[0]
                self.stats["licensed"] += 1
            weight = {"init": 1, "test": 2, "util": 3}.get(f.kind, 5)
            self.py_pool.extend([path] * weight)
        else:
            f = TextFile(path, "other")
            f.sections = [f"# {path}"] + [self._other_line(f) for _ in range(5)]
            self.other_pool.extend([path] * (6 if path == "CHANGELOG.md" else 1))
        self.files[path] = f
        return ("M", path, self._file_blob(f))

    def _license(self) -> str:
        """An Apache license comment block dated like the commit (as in OpenStack's files)."""
        return LICENSE.format(year=datetime.fromtimestamp(self.w.when, tz=timezone.utc).year)

    # -- docs --------------------------------------------------------------------------
    def _doc_paths(self, count: int) -> list[str]:
        """Unique doc page paths in ``docs/<section>/<topic>/``: Markdown and RST by section."""
        r = self.rng
        paths: list[str] = []
        seen: set[str] = set()
        while len(paths) < count:
            i = r.randrange(len(DOC_SECTIONS))
            topic = r.choice(APPS + NOUNS)
            name = f"{r.choice(VERBS)}-{r.choice(ADJS)}-{r.choice(NOUNS)}"
            path = f"docs/{DOC_SECTIONS[i]}/{topic}/{name}.{'rst' if i % 2 else 'md'}"
            if path in seen:
                path = path.replace(f"/{name}.", f"/{name}-{len(paths)}.")
            seen.add(path)
            paths.append(path)
        return paths

    def _prose(self, sentences: int) -> str:
        r = self.rng
        out = []
        for _ in range(sentences):
            words = r.sample(WORDS, r.randint(6, 12))
            words.insert(r.randrange(len(words)), f"{r.choice(ADJS)} {r.choice(NOUNS)}")
            out.append(" ".join(words).capitalize() + ".")
        return " ".join(out)

    def _heading(self, text: str, rst: bool, level: int) -> str:
        if rst:
            return f"{text}\n{'=-~'[level] * len(text)}"
        return f"{'#' * (level + 1)} {text}"

    def _code_block(self, rst: bool) -> str:
        r = self.rng
        noun, verb = r.choice(NOUNS), r.choice(VERBS)
        if r.random() < 0.5:
            lang, lines = "sh", [f"$ ./manage.py {verb}_{_plural(noun)} --{r.choice(ADJS)}",
                                 f"$ curl -s localhost:8000/api/{_plural(noun)}/{r.randint(1, 999)}"]
        else:
            lang, lines = "python", [f"from app.{r.choice(APPS)}.services import {verb}_{noun}",
                                     "", f"result = {verb}_{noun}({r.choice(COLS)}={r.randint(1, 99)})",
                                     f"assert result.{r.choice(COLS)} is not None"]
        if rst:
            return f".. code-block:: {lang}\n\n" + "\n".join(f"   {ln}" if ln else "" for ln in lines)
        return f"```{lang}\n" + "\n".join(lines) + "\n```"

    def _doc_section(self, f: TextFile) -> str:
        """Prose mostly; some sub-headings, bullet lists and code blocks."""
        r = self.rng
        rst = f.path.endswith(".rst")
        roll = r.random()
        if roll < 0.45:
            return self._prose(r.randint(2, 6))
        if roll < 0.7:
            title = f"{r.choice(VERBS).capitalize()} {r.choice(ADJS)} {_plural(r.choice(NOUNS))}"
            return self._heading(title, rst, 1) + "\n\n" + self._prose(r.randint(1, 4))
        if roll < 0.85:
            return self._prose(1) + "\n\n" + self._code_block(rst)
        return "\n".join(f"- {self._prose(1)}" for _ in range(r.randint(2, 5)))

    def _doc_note(self, f: TextFile) -> str | None:
        """An upgrade note naming one to three revision ids in main's tree (``alembic upgrade ...``)."""
        live = [rid for rid in self.main_revs[-40:] if not self.revs[rid].gone]
        if not live:
            return None
        r = self.rng
        rids = r.sample(live, min(len(live), r.randint(1, 3)))
        tick = "``" if f.path.endswith(".rst") else "`"
        first = self.revs[rids[0]]
        text = (f"This needs the database schema at revision {tick}{first.rev}{tick} or later "
                f"({tick}{first.path}{tick}):\n\n" + self._cli_block(f, f"alembic upgrade {first.rev}"))
        for rid in rids[1:]:
            text += f"\n\nIf you run the {r.choice(NOUNS)} worker, revision {tick}{rid}{tick} is needed too."
        if isinstance(first.down, str):
            text += f" To roll back, run {tick}alembic downgrade {first.down}{tick}."
        return self._heading("Upgrading", f.path.endswith(".rst"), 1) + "\n\n" + text

    def _cli_block(self, f: TextFile, line: str) -> str:
        if f.path.endswith(".rst"):
            return f".. code-block:: sh\n\n   $ {line}"
        return f"```sh\n$ {line}\n```"

    def _new_doc(self, path: str) -> tuple[str, str, int]:
        r = self.rng
        f = TextFile(path, "doc")
        title = path.rsplit("/", 1)[1].rsplit(".", 1)[0].replace("-", " ").capitalize()
        f.sections = [self._heading(title, path.endswith(".rst"), 0) + "\n\n" + self._prose(2)]
        note = self._doc_note(f) if r.random() < DOC_MENTION_SHARE else None
        if note:
            f.sections.append(note)
            f.fixed = 2
            self.stats["doc_mentions"] += 1
        f.sections += [self._doc_section(f) for _ in range(r.randint(3, 10))]
        self.files[path] = f
        self.doc_pool.append(path)
        self.stats["docs"] += 1
        return ("M", path, self._file_blob(f))

    def _release_note(self, tag: str, since: int) -> tuple[str, str, int]:
        """``docs/releases/<tag>.md``: a table of the revisions that reached main since the last tag."""
        rows = [self.revs[rid] for rid in self.main_revs[since:]]
        text = [f"# Release {tag}", "", self._prose(2), "", "## Database migrations", ""]
        if rows:
            text += ["| Revision | File |", "|---|---|"]
            text += [f"| `{rv.rev}` | `{rv.path.rsplit('/', 1)[1]}` |" for rv in rows]
            text += ["", "Run `alembic upgrade heads` after deploying."]
            self.stats["release_mentions"] += 1
        else:
            text.append("No database migrations in this release.")
        self.stats["release_notes"] += 1
        path = f"docs/releases/{tag}.md"
        return ("M", path, self.w.blob("\n".join(text) + "\n", path))

    def _doc_changes(self) -> list[tuple[str, str, int]]:
        """Doc pages due by now and release notes of tags made since main's last commit."""
        take = min(self.doc_carry, len(self.pending_docs))
        self.doc_carry -= take
        changes = [self._new_doc(self.pending_docs.pop(0)) for _ in range(take)]
        changes += [self._release_note(tag, since) for tag, since in self.release_queue]
        self.release_queue = []
        return changes

    def _file_blob(self, f: TextFile) -> int:
        if f.kind == "doc":
            return self.w.blob("\n\n".join(f.sections) + "\n", f.path)
        if f.kind == "other":
            return self.w.blob(self._other_text(f) + "\n", f.path)
        return self.w.blob("\n\n\n".join(f.sections) + "\n", f.path)

    def _modify_file(self, path: str) -> tuple[str, str, int]:
        f = self.files[path]
        r = self.rng
        if f.kind == "other":
            f.sections.append(self._other_line(f))
        elif f.kind == "doc":
            self._edit_doc(f)
        else:
            body = f.sections[1:]
            roll = r.random()
            if roll < 0.3 and len(body) < 24 or not body:
                body.append(self._py_section(f.kind))
            elif roll < 0.75:
                body[r.randrange(len(body))] = self._py_section(f.kind)
            elif roll < 0.9:
                i = r.randrange(len(body))
                body[i] += f"\n    # TODO(#{r.randint(1, 9999)}): {' '.join(r.sample(WORDS, 5))}"
            elif len(body) > 3:
                del body[r.randrange(len(body))]
            else:
                body.append(self._py_section(f.kind))
            f.sections[1:] = body
        return ("M", path, self._file_blob(f))

    def _edit_doc(self, f: TextFile) -> None:
        """Add, rewrite or drop a section; the title and any revision note stay."""
        r = self.rng
        body = len(f.sections) - f.fixed
        roll = r.random()
        if roll < 0.4 or body < 3:
            f.sections.insert(r.randint(f.fixed, len(f.sections)), self._doc_section(f))
        elif roll < 0.85:
            f.sections[r.randrange(f.fixed, len(f.sections))] = self._doc_section(f)
        else:
            del f.sections[r.randrange(f.fixed, len(f.sections))]

    # -- alembic ---------------------------------------------------------------------
    def _rev_text(self, rv: Revision) -> str:
        if isinstance(rv.down, tuple):
            revises = ", ".join(rv.down)
            down_src = "(" + ", ".join(f"'{d}'" for d in rv.down) + ")"
        else:
            revises = rv.down or ""
            down_src = f"'{rv.down}'" if rv.down else "None"
        head = [f'"""{rv.slug.replace("_", " ")}', "", f"Revision ID: {rv.rev}",
                f"Revises: {revises}", f"Create Date: {rv.create_date}", "", '"""']
        if rv.typed:
            head += ["from typing import Sequence, Union", "", "from alembic import op",
                     "import sqlalchemy as sa", "", "",
                     "# revision identifiers, used by Alembic.",
                     f"revision: str = '{rv.rev}'",
                     f"down_revision: Union[str, Sequence[str], None] = {down_src}",
                     f"branch_labels: Union[str, Sequence[str], None] = {rv.labels!r}",
                     f"depends_on: Union[str, Sequence[str], None] = {rv.depends!r}"]
            sig = " -> None"
        else:
            head += ["from alembic import op", "import sqlalchemy as sa", "", "",
                     "# revision identifiers, used by Alembic.",
                     f"revision = '{rv.rev}'", f"down_revision = {down_src}",
                     f"branch_labels = {rv.labels!r}", f"depends_on = {rv.depends!r}"]
            sig = ""
        ups = [u for u, _ in rv.ops] or ["pass"]
        downs = [d for _, d in reversed(rv.ops)] or ["pass"]
        body = (
            [f"def upgrade(){sig}:", "    # ### commands auto generated by Alembic - please adjust! ###"]
            + [f"    {line}" for u in ups for line in u.split("\n")]
            + ["    # ### end Alembic commands ###", "", "",
               f"def downgrade(){sig}:", "    # ### commands auto generated by Alembic - please adjust! ###"]
            + [f"    {line}" for d in downs for line in d.split("\n")]
            + ["    # ### end Alembic commands ###"]
        )
        licence = self._license_at(rv.create_date) if rv.licensed else ""
        return licence + "\n".join(head) + "\n\n\n" + "\n".join(body) + "\n"

    @staticmethod
    def _license_at(create_date: str) -> str:
        return LICENSE.format(year=create_date[:4]) + "\n"

    def _rev_op(self) -> tuple[str, str, str]:
        """Return (slug, upgrade source, downgrade source) for one operation."""
        r = self.rng
        table = f"{r.choice(APPS)}_{_plural(r.choice(NOUNS))}"
        col = f"{r.choice(COLS)}_{r.randint(1, 99)}"
        typ = r.choice(SA_TYPES)
        kind = r.choice(["add_column", "add_column", "create_table", "create_index",
                         "alter_column", "drop_column"])
        if kind == "add_column":
            return (f"add_{col}_to_{table}",
                    f"op.add_column('{table}', sa.Column('{col}', {typ}, nullable=True))",
                    f"op.drop_column('{table}', '{col}')")
        if kind == "drop_column":
            return (f"drop_{col}_from_{table}",
                    f"op.drop_column('{table}', '{col}')",
                    f"op.add_column('{table}', sa.Column('{col}', {typ}, autoincrement=False, nullable=True))")
        if kind == "create_index":
            ix = f"ix_{table}_{col}"
            return (f"add_index_on_{table}_{col}",
                    f"op.create_index(op.f('{ix}'), '{table}', ['{col}'], unique={r.choice(['False', 'True'])})",
                    f"op.drop_index(op.f('{ix}'), table_name='{table}')")
        if kind == "alter_column":
            return (f"make_{table}_{col}_not_null",
                    f"op.alter_column('{table}', '{col}',\n               existing_type={typ},\n               nullable=False)",
                    f"op.alter_column('{table}', '{col}',\n               existing_type={typ},\n               nullable=True)")
        cols = r.sample(COLS, r.randint(2, 5))
        lines = [f"op.create_table('{table}',", "sa.Column('id', sa.Integer(), nullable=False),"]
        lines += [f"sa.Column('{c}', {r.choice(SA_TYPES)}, nullable=True)," for c in cols]
        lines += ["sa.PrimaryKeyConstraint('id')", ")"]
        return (f"create_{table}_table", "\n".join(lines), f"op.drop_table('{table}')")

    def _heads(self, revs: list[str]) -> list[str]:
        parents: set[str] = set()
        for rid in revs:
            down = self.revs[rid].down
            if isinstance(down, tuple):
                parents.update(down)
            elif down:
                parents.add(down)
        return [rid for rid in revs if rid not in parents]

    def _fresh_id(self) -> str:
        r = self.rng
        rid = f"{r.getrandbits(48):012x}"
        while rid in self.revs or rid in self.hidden_ids:
            rid = f"{r.getrandbits(48):012x}"
        return rid

    def _ancestors(self, downs: tuple[str, ...]) -> set[str]:
        seen: set[str] = set()
        todo = list(downs)
        while todo:
            rid = todo.pop()
            if rid in seen:
                continue
            seen.add(rid)
            down = self.revs[rid].down
            if isinstance(down, tuple):
                todo.extend(down)
            elif down:
                todo.append(down)
        return seen

    def _depends_target(self, down: str, known: list[str]) -> str | None:
        """A revision on another branch (not an ancestor) that stays in every later tree.

        It is on main already (so in this commit's tree, on main or on a branch forked
        from main) and will never be archived or deleted.
        """
        ancestors = self._ancestors((down,))
        cands = [k for k in known if k in self.main_rev_set and k not in self.doomed
                 and k not in ancestors]
        return self.rng.choice(cands[-20:]) if cands else None

    def _next_label(self) -> str | tuple[str, ...]:
        i = self.stats["labels"]
        self.stats["labels"] += 1
        name = LABEL_NAMES[i % len(LABEL_NAMES)]
        if i >= len(LABEL_NAMES):
            name += f"_{i // len(LABEL_NAMES) + 1}"
        return name if i % 3 == 1 else (name,)

    def _new_revision(self, known: list[str]) -> Revision:
        r = self.rng
        rid = self._fresh_id()
        ordinal = len(self.revs)
        self.want_label += ordinal in self.label_slots
        self.want_depends += ordinal in self.depends_slots
        heads = self._heads(known)
        down: str | tuple[str, ...] | None
        ops: list[tuple[str, str]] = []
        labels = depends = None
        if not heads:
            down, slug = None, "initial_schema"
            for _ in range(3):
                s, u, d = self._rev_op()
                ops.append((u, d))
        elif len(heads) >= 2 and r.random() < 0.6:
            down, slug = tuple(heads[:2]), "merge_heads"
        else:
            force = len(known) > 4 and bool(self.want_label or self.want_depends)
            if len(known) > 4 and (force or r.random() < 0.05):
                # branch point: second child of an older revision
                older = known[-6:-1]
                if force:
                    older = [k for k in older if k not in heads] or older
                down = r.choice(older)
                if self.want_label:
                    self.want_label -= 1
                    labels = self._next_label()
            else:
                down = heads[-1]
            if self.want_depends:
                depends = self._depends_target(down, known)
                if depends:
                    self.want_depends -= 1
                    self.stats["depends"] += 1
                    if self.stats["depends"] % 4 == 3:
                        depends = (depends,)
            slug = ""
            for _ in range(r.choice([1, 1, 1, 2, 3])):
                s, u, d = self._rev_op()
                slug = slug or s
                ops.append((u, d))
        date = datetime.fromtimestamp(self.w.when, tz=timezone.utc)
        create_date = date.strftime("%Y-%m-%d %H:%M:%S") + f".{r.randint(0, 999999):06d}"
        slug = slug[:60]
        rv = Revision(rid, down, slug, r.random() < 0.3, ops, create_date,
                      f"{VERSIONS_DIR}/{rid}_{slug}.py", labels=labels, depends=depends,
                      licensed=r.random() < LICENSE_SHARE / 2)
        rv.mark = self.w.blob(self._rev_text(rv), rv.path)
        self.revs[rid] = rv
        return rv

    def _hidden_revision(self) -> Revision | None:
        """A revision file generated locally and never committed to any ref.

        Its id is unique; it revises main's current head (as ``alembic revision`` would).
        """
        if not self.main_revs:
            return None
        r = self.rng
        rid = self._fresh_id()
        self.hidden_ids.add(rid)
        ops, slug = [], ""
        for _ in range(r.choice([1, 1, 2])):
            s, u, d = self._rev_op()
            slug = slug or s
            ops.append((u, d))
        date = datetime.fromtimestamp(self.w.when, tz=timezone.utc)
        create_date = date.strftime("%Y-%m-%d %H:%M:%S") + f".{r.randint(0, 999999):06d}"
        rv = Revision(rid, self._heads(self.main_revs)[-1], slug[:60], r.random() < 0.3, ops,
                      create_date, f"{VERSIONS_DIR}/{rid}_{slug[:60]}.py")
        rv.mark = self.w.blob(self._rev_text(rv), rv.path)
        return rv

    def _land_on_main(self, rv: Revision) -> None:
        """Record that a revision is now in main's tree and decide its later fate."""
        self.main_revs.append(rv.rev)
        self.main_rev_set.add(rv.rev)
        rates = {"modify": 0.15, "archive": 0.10, "delete": 0.08}
        for kind, rate in rates.items():
            self.fate_acc[kind] += rate
        remaining = self.n_main - self.emitted
        if remaining < 3:
            return
        if self.fate_acc["modify"] >= 1:
            self.fate_acc["modify"] -= 1
            self.events.append((self.emitted + self.rng.randint(1, max(1, remaining // 3)), "modify", rv.rev))
        for kind in ("archive", "delete"):
            if self.fate_acc[kind] >= 1:
                self.fate_acc[kind] -= 1
                lo = remaining // 3
                self.events.append((self.emitted + self.rng.randint(lo + 1, max(lo + 1, remaining - 1)), kind, rv.rev))
                self.doomed.add(rv.rev)
                break

    def _due_events(self) -> list[tuple[str, str, int]]:
        changes: list[tuple[str, str, int]] = []
        keep = []
        for due, kind, rid in self.events:
            if due > self.emitted:
                keep.append((due, kind, rid))
                continue
            rv = self.revs[rid]
            if rv.gone:
                continue
            if any(c[1] == rv.path for c in changes):
                keep.append((due, kind, rid))   # one change per path and commit
                continue
            if kind == "modify":
                s, u, d = self._rev_op()
                rv.ops.append((u, d))
                rv.mark = self.w.blob(self._rev_text(rv), rv.path)
                changes.append(("M", rv.path, rv.mark))
                self.stats["modified"] += 1
            elif kind == "archive":
                if rv.path.startswith(ARCHIVE_DIR):
                    continue
                changes.append(("D", rv.path, 0))
                rv.path = f"{ARCHIVE_DIR}/{rv.path.rsplit('/', 1)[1]}"
                rv.mark = self.w.blob(self._rev_text(rv), rv.path)
                changes.append(("M", rv.path, rv.mark))
                self.stats["archived"] += 1
            else:
                changes.append(("D", rv.path, 0))
                rv.gone = True
                self.stats["deleted"] += 1
        self.events = keep
        return changes

    # -- commits ---------------------------------------------------------------------
    def _ordinary_changes(self, allow_new: bool,
                          tree: dict[str, int] | None = None) -> list[tuple[str, str, int]]:
        """New files due (``allow_new``: main only) and edits of existing ones (in ``tree`` if given)."""
        r = self.rng
        changes: list[tuple[str, str, int]] = []
        touched: set[str] = set()
        if allow_new and self.file_carry and self.pending_files:
            take = min(self.file_carry, len(self.pending_files))
            self.file_carry -= take
            for _ in range(take):
                path = self.pending_files.pop(0)
                changes.append(self._new_file(path))
                touched.add(path)
        for _ in range(r.choice([1, 1, 2, 2, 2, 3, 4])):
            roll = r.random()
            pool = (self.doc_pool if roll < DOC_EDIT_SHARE and self.doc_pool
                    else self.py_pool if roll < 0.87 else self.other_pool)
            path = r.choice(pool)
            if path in touched or tree is not None and path not in tree:
                continue
            touched.add(path)
            changes.append(self._modify_file(path))
        return changes

    def _message(self, changes: list[tuple[str, str, int]]) -> str:
        r = self.rng
        path = changes[0][1] if changes else "app"
        area = path.split("/")[1] if path.count("/") > 1 else path.split("/")[0]
        text = f"{area}: {r.choice(VERBS)} {r.choice(ADJS)} {r.choice(NOUNS)} handling"
        if r.random() < 0.3:
            text += f" (#{r.randint(100, 20000)})"
        if r.random() < 0.2:
            text += "\n\n" + " ".join(r.sample(WORDS, 12)) + "."
        return text

    def _tick(self) -> None:
        """Collect the new-file and doc-page quotas scheduled for the commit about to be written."""
        self.file_carry += self.file_slots.get(self.emitted, 0)
        self.doc_carry += self.doc_slots.get(self.emitted, 0)

    def _take_revisions(self, known: list[str]) -> list[Revision]:
        count = self.rev_slots.get(self.emitted, 0) + self.rev_carry
        self.rev_carry = 0
        out = []
        for _ in range(count):
            rv = self._new_revision(known)
            known.append(rv.rev)
            out.append(rv)
        return out

    def _plan_extras(self) -> None:
        """Decide labels, depends_on, stashes, reflog-only and unreachable commits up front."""
        r = self.rng
        n = self.n_commits
        if self.n_revisions >= 8:
            span = range(5, max(6, self.n_revisions * 2 // 3))
            n_labels = min(len(span), max(2, self.n_revisions // 50))
            n_depends = min(len(span), max(2, self.n_revisions // 80))
            self.label_slots = set(r.sample(span, n_labels))
            self.depends_slots = set(r.sample(span, n_depends))
        if n < 50:          # too small for a clone's leftovers: only a HEAD reflog
            self.clone_at = max(1, n // 10)
            return
        scale = int(math.log2(max(1, n // 5000)))    # 0 up to 10k commits, +1 per doubling
        n_stash = 3 + scale
        self.stash_roles = [STASH_ROLES[i % len(STASH_ROLES)] for i in range(n_stash)]
        top = 3 if self.stash_roles[-1] == "untracked_revision" else 2
        self.n_main = n - top           # stash@{0}'s commits are reachable from refs/stash
        self.clone_at = max(1, self.n_main // 10)
        kinds = (["stash"] * n_stash + ["dropped_stash"]
                 + ["amend" if i % 2 == 0 else "reset" for i in range(2 + scale)]
                 + ["force_push"] * (2 + scale // 2))
        r.shuffle(kinds)
        when = sorted(r.sample(range(self.clone_at + 1, self.n_main - 1), len(kinds)))
        self.side_events = list(zip(when, kinds))
        target = 150 + n // 100     # HEAD reflog entries, roughly
        self.log_rate = min(1.0, target / max(1, self.n_main - self.clone_at))

    def run(self) -> None:
        """Emit the whole history."""
        r = self.rng
        self._plan_extras()
        n = self.n_main
        all_py = [p for p in EXTRA_PY]
        for app in APPS:
            all_py += [f"app/{app}/{m.format(app=app)}" for m in APP_MODULES]
        initial = sorted(r.sample(all_py, max(1, len(all_py) * 35 // 100)))
        if "app/alembic/env.py" not in initial:
            initial.append("app/alembic/env.py")
        later = [p for p in all_py if p not in initial]
        r.shuffle(later)
        self.pending_files = later
        self.file_slots = Counter(r.randrange(1, max(2, n * 7 // 10)) for _ in later)
        # The initial schema is in the root commit, so every branch forks with a revision to
        # build on and there is one root however the others fall on branches.
        self.rev_slots = (Counter([0] + [r.randrange(1, n) for _ in range(self.n_revisions - 1)])
                          if n > 1 and self.n_revisions else Counter({0: self.n_revisions}))
        self.pending_docs = self._doc_paths(self.n_docs)
        self.doc_slots = Counter(r.randrange(1, max(2, n * 9 // 10)) for _ in self.pending_docs)
        self.ll_forks = [(max(1, int(n * (0.02 + 0.4 * i / max(1, self.n_long_lived)))), LONG_LIVED[i])
                         for i in range(self.n_long_lived)]
        tag_every = max(50, n // 24)
        next_tag = tag_every

        # Root commit: scaffolding and the first files.
        changes = [self._new_file(p) for p in initial + OTHER_FILES]
        revs = self._take_revisions(self.main_revs[:])
        for rv in revs:
            changes.append(("M", rv.path, rv.mark))
        self.main_subject = "Initial import of the monorepo"
        self._commit_main(self.main_subject, [], changes)
        for rv in revs:
            self._land_on_main(rv)
        self.emitted = 1

        while self.emitted < n:
            if not self.cloned and self.emitted >= self.clone_at:
                self._clone()
            while self.ll_forks and self.ll_forks[0][0] <= self.emitted:
                self._fork_long_lived(self.ll_forks.pop(0)[1])
            amended = self._side_events()
            self._step(n - self.emitted, amended)
            if self.emitted >= next_tag and self.emitted < n:
                next_tag += tag_every
                number = len(self.tags) + 1
                name = f"v{1 + number // 10}.{number % 10}.0"
                self.tags.append((name, self.main_tip, number % 2 == 0))
                if self.n_docs:
                    self.release_queue.append((name, self.tag_rev_index))
                    self.tag_rev_index = len(self.main_revs)
                if number % 6 == 0:
                    self.release_branches.append((f"release/{1 + number // 10}.{number % 10}", self.main_tip))
        if not self.cloned:
            self._clone()
        self._side_events(final=True)
        self._sync_head()
        self._finish_refs()
        self._dangling_blobs()
        if self.stash_roles:
            assert len(self.stash_commits) == len(self.stash_roles)
            assert len(self.stash_commits[-1]) == self.n_commits - self.n_main
        assert len(self.w.commit_marks) == self.n_main

    def _step(self, remaining: int, amended: int) -> None:
        """Write the next commit(s): main, a feature branch or its merge, or a long-lived branch.

        Feature branches are opened and merged so that merges stay near ``merge_share``
        of the commits written so far, and long-lived branches get about
        ``LONG_LIVED_SHARE`` of the commits since the first one forked (a step writes
        one commit there); the last commit is always on main (it flushes the files and
        doc pages still due).
        """
        r = self.rng
        lag = self.merge_share * self.emitted - self.merge_count
        ready = [b for b in self.open_branches if b.merge]
        ll_lag = LONG_LIVED_SHARE * (self.emitted - self.ll_start) - self.stats["ll_steps"]
        if amended or remaining == 1:
            self._main_commit(amended)
        elif self.long_lived and ll_lag > 0 and r.random() < 0.5:
            self.stats["ll_steps"] += 1
            self._long_lived_step()
        elif ready and lag > 0 and r.random() < 0.6:
            self._merge(ready[0])
        elif remaining > 3 and lag > len(ready) - 1 and r.random() < 0.5:
            self._feature_branch(min(r.choice([1, 1, 1, 1, 2, 2, 3, 5]), remaining - 2))
        else:
            self._main_commit()

    # -- the HEAD reflog ---------------------------------------------------------------
    def _log_head(self, old: int, new: int, message: str, on_main: bool = True) -> None:
        """Append a HEAD reflog entry (``on_main``: also one of ``refs/heads/main``)."""
        self.head_log.append((old, new, self.w.when, message, on_main))
        self.head_at = new

    def _clone(self) -> None:
        self._log_head(0, self.main_tip, f"clone: from {CLONE_URL}")
        self.cloned = True

    def _sync_head(self) -> None:
        """``git pull`` up to main's tip if the reflog is behind it (HEAD is on main)."""
        if self.cloned and self.head_at != self.main_tip:
            self._log_head(self.head_at, self.main_tip, "pull: Fast-forward")

    def _logged(self) -> bool:
        """Does this step of main show in the reflog (a pull or a local commit)?"""
        return self.cloned and self.rng.random() < self.log_rate

    # -- a developer's leftovers: stashes, amended/reset commits, dropped work -----------------
    def _side_events(self, final: bool = False) -> int:
        """Run the side events due; return the mark of a commit the next main commit amends."""
        while self.side_events and (final or self.side_events[0][0] <= self.emitted):
            _, kind = self.side_events.pop(0)
            if kind == "stash":
                self._stash(self.stash_roles[len(self.stash_commits)], keep=True)
            elif kind == "dropped_stash":
                self._stash("staged_revision", keep=False)
            elif kind == "force_push":
                self._force_pushed()
            elif kind == "amend" and not final:
                return self._lost(1, amend=True)
            else:
                self._lost(self.rng.choice([1, 2]), amend=False)
        return 0

    def _draft_changes(self, count: int) -> list[tuple[str, str, int]]:
        """Edits of tracked files that are never committed (the file state is unchanged)."""
        r = self.rng
        out: list[tuple[str, str, int]] = []
        seen: set[str] = set()
        for _ in range(count):
            path = r.choice(self.py_pool if r.random() < 0.85 else self.other_pool)
            if path in seen:
                continue
            seen.add(path)
            f = self.files[path]
            saved = f.sections[:]
            out.append(self._modify_file(path))
            f.sections = saved
        return out

    def _hidden_rev_change(self, where: str) -> list[tuple[str, str, int]]:
        rv = self._hidden_revision()
        if rv is None:
            return []
        self.only_in[where].append(rv.rev)
        return [("M", rv.path, rv.mark)]

    def _stash(self, role: str, keep: bool) -> None:
        """``git stash`` (``-u`` for ``untracked_revision``) on main's tip; ``keep=False``: dropped."""
        r = self.rng
        self._sync_head()
        base = self.main_tip
        abbrev = self.w.sha_of([base])[base][:7]
        on = f"on main: {abbrev} {self.main_subject}"
        where = "stash" if keep else "unreachable"
        edits = self._draft_changes(r.randint(1, 3))
        staged = edits[:1] if r.random() < 0.5 else []
        revision = self._hidden_rev_change(where) if role != "edits" else []
        if role == "staged_revision":
            staged = staged + revision
        commits = [self.w.commit(f"index {on}", [base], staged, hidden=True)]
        parents = [base, commits[0]]
        if role == "untracked_revision":
            untracked = revision or [self._draft_new_py()]
            commits.append(self.w.commit(f"untracked files {on}", [], untracked, hidden=True))
            parents.append(commits[-1])
        message = (f"On main: {r.choice(STASH_NOTES)}" if r.random() < 0.3 else f"WIP {on}")
        worktree = edits + (revision if role == "staged_revision" else [])
        commits.append(self.w.commit(message, parents, worktree, hidden=True))
        if keep:
            old = self.stash_log[-1][1] if self.stash_log else 0
            self.stash_log.append((old, commits[-1], self.w.when, message))
            self.stash_commits.append(commits)
            if self.cloned:
                self._log_head(base, base, "reset: moving to HEAD")
        else:
            self.unreachable.extend(commits)

    def _draft_new_py(self) -> tuple[str, str, int]:
        r = self.rng
        path = f"scratch/{r.choice(VERBS)}_{r.choice(NOUNS)}_{r.randint(1, 999)}.py"
        f = TextFile(path, "util", [])
        f.sections = [self._py_header(f), self._py_section("util")]
        return ("M", path, self._file_blob(f))

    def _lost(self, count: int, amend: bool) -> int:
        """Commits on main that were amended or reset away: only the reflogs name them."""
        self._sync_head()
        parent = self.main_tip
        for i in range(count):
            revision = (self._hidden_rev_change("reflog")
                        if i == 0 and (not self.reflog_only or self.rng.random() < 0.7) else [])
            changes = self._draft_changes(self.rng.randint(1, 2)) + revision
            msg = self._message(changes)
            if revision:
                rid = self.only_in["reflog"][-1]
                msg = f"Add migration {rid}\n\n{msg}"
            commit = self.w.commit(msg, [parent], changes, hidden=True)
            self._log_head(parent, commit, f"commit: {msg.splitlines()[0]}")
            self.reflog_only.append(commit)
            parent = commit
        if amend:
            return parent
        self._log_head(parent, self.main_tip, f"reset: moving to HEAD~{count}")
        return 0

    def _force_pushed(self) -> None:
        """Commits of a pull request before it was force-pushed: nothing names them any more."""
        r = self.rng
        parent = self.main_tip
        for i in range(r.randint(1, 3)):
            revision = (self._hidden_rev_change("unreachable")
                        if i == 0 and (not self.only_in["unreachable"] or r.random() < 0.5) else [])
            changes = self._draft_changes(r.randint(1, 3)) + revision
            parent = self.w.commit(self._message(changes), [parent], changes, hidden=True)
            self.unreachable.append(parent)

    def _dangling_blobs(self) -> None:
        """Blobs no tree names: staged once, then changed or unstaged before any commit."""
        if not self.stash_roles:
            return
        r = self.rng
        count = len(self.stash_roles)
        for i in range(count * 4):
            if len(self.dangling) == count:
                break
            role = DANGLING_ROLES[len(self.dangling) % len(DANGLING_ROLES)]
            if role != "py_draft" and not self.main_revs:
                role = "py_draft"
            if role == "revision":      # written by _hidden_revision, named by no tree
                rv = self._hidden_revision()
                assert rv is not None
                self.only_in["dangling"].append(rv.rev)
                self.dangling.append(blob_sha(self._rev_text(rv).encode()))
                continue
            if role == "revision_draft":
                rv = self.revs[r.choice(self.main_revs)]
                s, u, d = self._rev_op()
                text = self._rev_text(Revision(rv.rev, rv.down, rv.slug, rv.typed, rv.ops + [(u, d)],
                                               rv.create_date, rv.path, labels=rv.labels,
                                               depends=rv.depends, licensed=rv.licensed))
            else:
                f = self.files[r.choice(self.py_pool)]
                text = "\n\n\n".join(f.sections + [self._py_section(f.kind)]) + "\n"
            sha = blob_sha(text.encode())
            if sha in self.w.blob_marks:    # it is in some tree after all
                continue
            self.w.blob(text, "dangling.py")
            self.dangling.append(sha)

    def _main_commit(self, amends: int = 0) -> None:
        self._tick()
        changes = self._due_events()
        revs = self._take_revisions(self.main_revs[:])
        if changes and not revs and self.rng.random() < 0.5:
            msg = ("Archive old migrations" if any(c[1].startswith(ARCHIVE_DIR) for c in changes)
                   else "Clean up alembic versions")
        else:
            changes += self._ordinary_changes(allow_new=True)
            msg = self._message(changes)
        for rv in revs:
            changes.append(("M", rv.path, rv.mark))
        if revs:
            msg = f"Add migration {revs[0].rev}: {revs[0].slug.replace('_', ' ')}\n\n" + msg
        changes += self._doc_changes()
        parent = self.main_tip
        self._commit_main(msg, [parent], changes)
        self.main_subject = msg.splitlines()[0]
        if amends:
            self._log_head(amends, self.main_tip, f"commit (amend): {self.main_subject}")
        elif self._logged():
            self._log_head(self.head_at, self.main_tip,
                           f"commit: {self.main_subject}" if self.head_at == parent else "pull: Fast-forward")
        for rv in revs:
            self._land_on_main(rv)
        self.emitted += 1

    def _feature_branch(self, length: int) -> None:
        r = self.rng
        self.pr_counter += 1
        b = Branch(f"feature/{r.choice(VERBS)}-{r.choice(NOUNS)}-{self.pr_counter}",
                   self.pr_counter, self.main_revs[:])
        b.merge = r.random() < 0.85
        checkout = self._logged() and r.random() < 0.3
        if checkout:
            self._sync_head()
            self._log_head(self.main_tip, self.main_tip, f"checkout: moving from main to {b.name}", False)
        parent = self.main_tip
        for i in range(length):
            self._tick()
            changes = self._ordinary_changes(allow_new=False)
            revs = self._take_revisions(b.base_revs + b.revs)
            for rv in revs:
                changes.append(("M", rv.path, rv.mark))
                b.revs.append(rv.rev)
            for _, path, mark in changes:
                b.changes[path] = mark
            msg = ("WIP: " if i < length - 1 and r.random() < 0.3 else "") + self._message(changes)
            commit = self.w.commit(msg, [parent], changes)
            if checkout:
                self._log_head(parent, commit, f"commit: {msg.splitlines()[0]}", False)
            parent = commit
            self.emitted += 1
        b.tip = parent
        if checkout:
            self._log_head(b.tip, self.main_tip, f"checkout: moving from {b.name} to main", False)
        self.branches.append(b)
        if b.merge:
            self.open_branches.append(b)
        else:
            self.stats["unmerged_revs"] += len(b.revs)

    def _merge(self, b: Branch) -> None:
        self.open_branches.remove(b)
        self._tick()
        self.rev_carry += self.rev_slots.get(self.emitted, 0)   # merges add no revision files
        changes = [("M", path, mark) for path, mark in b.changes.items()]
        msg = f"Merge pull request #{b.pr} from acme/{b.name}\n\n{self._message(changes)}"
        self._commit_main(msg, [self.main_tip, b.tip], changes)
        self.main_subject = msg.splitlines()[0]
        if self._logged():
            self._log_head(self.head_at, self.main_tip, "pull: Fast-forward")
        b.merged = True
        for rid in b.revs:
            self._land_on_main(self.revs[rid])
        self.emitted += 1

    def _commit_main(self, msg: str, parents: list[int], changes: list[tuple[str, str, int]]) -> None:
        """A commit on main (``parents[0]`` is main's tip); keeps :attr:`main_tree` up to date."""
        self.main_tip = self.w.commit(msg, parents, changes)
        _apply(self.main_tree, changes)
        self.merge_count += len(parents) > 1

    # -- long-lived branches ---------------------------------------------------------------
    def _fork_long_lived(self, name: str) -> None:
        """Branch off main's tip; merged back every ``merge_every`` of its commits, give or take half."""
        expected = LONG_LIVED_SHARE * self.n_main / max(1, self.n_long_lived)
        every = max(4, round(expected / LONG_LIVED_MERGES))
        b = LongLived(name, self.main_tip, dict(self.main_tree), self.main_revs[:], every)
        if not self.long_lived:
            self.ll_start = self.emitted
        self._plan_next(b)
        self.long_lived.append(b)

    def _plan_next(self, b: LongLived, merge: bool = True, sync: bool = True) -> None:
        r = self.rng
        if merge:
            b.since_merge, b.next_merge = 0, r.randint((b.merge_every + 1) // 2, b.merge_every * 3 // 2)
        if sync:
            b.since_sync, b.next_sync = 0, r.randint(b.merge_every, b.merge_every * 2)

    def _long_lived_step(self) -> None:
        """One commit on a long-lived branch: a merge into main, a sync from main, or its own work."""
        b = self.rng.choice(self.long_lived)
        if b.since_merge >= b.next_merge and b.pending:
            self._merge_long_lived(b)
        elif b.since_sync >= b.next_sync:
            self._sync_long_lived(b)
        else:
            self._long_lived_commit(b)

    def _long_lived_commit(self, b: LongLived) -> None:
        self._tick()
        changes = self._ordinary_changes(allow_new=False, tree=b.tree)
        for rv in self._take_revisions(b.known):      # b.known grows with them
            changes.append(("M", rv.path, rv.mark))
            b.pending_revs.append(rv.rev)
            self.stats["ll_revisions"] += 1
        b.tip = self.w.commit(self._message(changes), [b.tip], changes)
        _apply(b.tree, changes)
        b.pending.update((path, mark) for _, path, mark in changes)
        b.since_merge += 1
        b.since_sync += 1
        self.stats["ll_commits"] += 1
        self.emitted += 1

    def _merge_long_lived(self, b: LongLived) -> None:
        """Merge into main: the result is main's tree plus what the branch changed since the merge base."""
        self._tick()
        self.rev_carry += self.rev_slots.get(self.emitted, 0)   # merges add no revision files
        changes = [("M", path, mark) for path, mark in b.pending.items()]
        msg = f"Merge branch '{b.name}'\n\n{self._message(changes)}"
        self._commit_main(msg, [self.main_tip, b.tip], changes)
        self.main_subject = msg.splitlines()[0]
        if self._logged():
            self._log_head(self.head_at, self.main_tip, "pull: Fast-forward")
        for rid in b.pending_revs:
            self._land_on_main(self.revs[rid])
        b.pending, b.pending_revs = {}, []
        self._plan_next(b, sync=False)
        self.stats["ll_merges"] += 1
        self.emitted += 1

    def _sync_long_lived(self, b: LongLived) -> None:
        """Merge main into the branch: main's tree, the branch's own pending changes on top."""
        self._tick()
        self.rev_carry += self.rev_slots.get(self.emitted, 0)
        tree = {**self.main_tree, **b.pending}
        changes = [("M", path, mark) for path, mark in sorted(tree.items()) if b.tree.get(path) != mark]
        changes += [("D", path, 0) for path in sorted(b.tree.keys() - tree.keys())]
        b.tip = self.w.commit(f"Merge branch 'main' into {b.name}", [b.tip, self.main_tip], changes)
        self.merge_count += 1
        b.tree = tree
        b.known = self.main_revs + b.pending_revs
        self._plan_next(b, merge=False)
        self.stats["sync_merges"] += 1
        self.emitted += 1

    def _finish_refs(self) -> None:
        r = self.rng
        for b in self.open_branches:       # never got merged: becomes an unmerged branch
            b.merge = False
            self.stats["unmerged_revs"] += len(b.revs)
        self.open_branches = []
        heads: dict[str, int] = {"refs/heads/main": self.main_tip}
        for ll in self.long_lived:
            heads[f"refs/heads/{ll.name}"] = ll.tip
            self.stats["unmerged_revs"] += len(ll.pending_revs)
        for name, mark in self.release_branches:
            heads[f"refs/heads/{name}"] = mark
        unmerged = [b for b in self.branches if not b.merged]
        merged = [b for b in self.branches if b.merged]
        headless = []
        for b in unmerged:
            if r.random() < 0.5:
                heads[f"refs/heads/{b.name}"] = b.tip
            else:
                headless.append(b)
        for b in merged:
            if r.random() < 0.05:       # merged but the branch was never deleted
                heads[f"refs/heads/{b.name}"] = b.tip
        n_pull = (self.n_refs * 3 + 3) // 4
        n_remote = self.n_refs - n_pull
        # Unmerged branches without a head: only a PR ref keeps them alive (if we have enough).
        for b in headless[n_pull:]:
            heads[f"refs/heads/{b.name}"] = b.tip
        pull_targets = [(b.pr, b.tip) for b in headless[:n_pull]]
        covered = {id(b) for b in headless[:n_pull]}
        others = [b for b in self.branches if id(b) not in covered]
        for b in others[: n_pull - len(pull_targets)]:
            pull_targets.append((b.pr, b.tip))
        pr = self.pr_counter
        while len(pull_targets) < n_pull:  # bot PRs whose branch is some main commit
            pr += 1
            pull_targets.append((pr, r.choice(self.w.commit_marks)))
        extra = {f"refs/pull/{num}/head": mark for num, mark in sorted(pull_targets)}
        for i in range(1, n_remote + 1):
            if self.branches and r.random() < 0.7:
                mark = r.choice(self.branches).tip
            else:
                mark = r.choice(self.w.commit_marks)
            extra[f"refs/remotes/origin/feature-{i}"] = mark
        for name, mark in list(heads.items()) + list(extra.items()):
            self.w.ref(name, mark)
        if self.stash_commits:
            self.w.ref("refs/stash", self.stash_commits[-1][-1])
        for name, mark, annotated in self.tags:
            if annotated:
                self.w.annotated_tag(name, mark, f"Release {name}")
            else:
                self.w.ref(f"refs/tags/{name}", mark)
        self.stats["heads"] = len(heads)
        self.stats["extra_refs"] = len(extra)


def _apply(tree: dict[str, int], changes: list[tuple[str, str, int]]) -> None:
    """Apply fast-import file changes to a path -> blob mark tree."""
    for op, path, mark in changes:
        if op == "D":
            tree.pop(path, None)
        else:
            tree[path] = mark


def _git(dest: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(dest), *args], check=True,
                          capture_output=True, text=True).stdout


def _write_reflogs(dest: Path, gen: Generator, writer: HistoryWriter) -> None:
    """Write ``logs/HEAD``, ``logs/refs/heads/main`` and ``logs/refs/stash`` in git's format.

    fast-import runs with ``core.logAllRefUpdates=false`` (it would log one entry per
    ref with the wall-clock time); these reflogs are what a developer's clone has.
    """
    marks = [m for e in gen.head_log for m in e[:2]] + [m for e in gen.stash_log for m in e[:2]]
    sha = {0: ZERO_SHA, **writer.sha_of(marks)}
    ident = AUTHOR.decode()

    def lines(entries: list[tuple[int, int, int, str]]) -> str:
        return "".join(f"{sha[old]} {sha[new]} {ident} {when} +0000\t{msg}\n"
                       for old, new, when, msg in entries)

    logs = dest / ".git" / "logs"
    (logs / "refs" / "heads").mkdir(parents=True, exist_ok=True)
    (logs / "HEAD").write_text(lines([e[:4] for e in gen.head_log]))
    main_log = [e[:4] for e in gen.head_log if e[4]]
    (logs / "refs" / "heads" / "main").write_text(lines(main_log))
    if gen.stash_log:
        (logs / "refs" / "stash").write_text(lines(gen.stash_log))


def default_docs(commits: int) -> int:
    """``--docs`` default: a page per ten commits, at most :data:`DOCS_CAP`."""
    return min(DOCS_CAP, commits // 10)


def default_long_lived(commits: int) -> int:
    """``--long-lived`` default: none below 100 commits, then 2, one more per 10,000 commits, at most 6."""
    return 0 if commits < 100 else min(len(LONG_LIVED), 2 + commits // 10000)


def generate(dest: Path, commits: int = 20000, revisions: int = 500, refs: int = 2000,
             seed: int = 1, repack: bool = True, docs: int | None = None,
             long_lived: int | None = None, merge_share: float = MERGE_SHARE) -> Summary:
    """Create the repository at ``dest`` (must not exist or be empty).

    ``docs`` and ``long_lived`` default to :func:`default_docs` and :func:`default_long_lived`.
    """
    docs = default_docs(commits) if docs is None else docs
    long_lived = default_long_lived(commits) if long_lived is None else long_lived
    if commits < 1 or revisions < 0 or refs < 0 or docs < 0:
        raise ValueError("need commits >= 1, revisions >= 0, refs >= 0, docs >= 0")
    if not 0 <= long_lived <= len(LONG_LIVED) or not 0 <= merge_share <= 0.45:
        raise ValueError(f"need 0 <= long-lived <= {len(LONG_LIVED)}, 0 <= merge-share <= 0.45")
    started = time.perf_counter()
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise FileExistsError(f"{dest} exists and is not empty")
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "--initial-branch=main", str(dest)], check=True)
    for key in ("gc.reflogExpire", "gc.reflogExpireUnreachable", "gc.pruneExpire"):
        _git(dest, "config", key, "never")      # a later gc keeps the hidden objects and reflogs
    proc = subprocess.Popen(["git", "-C", str(dest), "-c", "core.logAllRefUpdates=false",
                             "fast-import", "--quiet", "--done"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    rng = random.Random(seed)
    writer = HistoryWriter(proc.stdin, rng, proc.stdout)
    gen = Generator(writer, rng, commits, revisions, refs, docs, long_lived, merge_share)
    try:
        gen.run()
        writer.sha_of([m for e in gen.head_log for m in e[:2]]
                      + [m for e in gen.stash_log for m in e[:2]])
        writer._write(b"done\n")
        writer.flush()
        proc.stdin.close()
    except BrokenPipeError:
        pass
    if proc.wait() != 0:
        raise RuntimeError(f"git fast-import failed with exit code {proc.returncode}")
    proc.stdout.close()
    if writer.hidden_marks:
        _git(dest, "update-ref", "-d", SCRATCH_REF)
        scratch_dir = dest / ".git" / SCRATCH_REF.rsplit("/", 1)[0]
        if scratch_dir.is_dir() and not any(scratch_dir.iterdir()):
            scratch_dir.rmdir()
    _write_reflogs(dest, gen, writer)
    if repack:
        _git(dest, "repack", "-a", "-d", "-q", "--keep-unreachable")
        _git(dest, "pack-refs", "--all")
    head = _git(dest, "rev-parse", "HEAD").strip()
    n_refs = len(_git(dest, "for-each-ref", "--format=%(refname)").splitlines())
    stash_commits = sum(len(c) for c in gen.stash_commits)
    top_stash = len(gen.stash_commits[-1]) if gen.stash_commits else 0
    labelled = [rv for rv in gen.revs.values() if rv.labels]
    doc_mentions = gen.stats["doc_mentions"] + gen.stats["release_mentions"]
    return Summary(
        dest=str(dest),
        commits=len(writer.commit_marks) + top_stash,
        py_blobs=len(writer.py_blobs),
        blobs=len(writer.blob_marks),
        refs=n_refs,
        extra_refs=gen.stats["extra_refs"],
        branches=gen.stats["heads"],
        tags=len(gen.tags),
        revisions=len(gen.revs),
        revisions_modified=gen.stats["modified"],
        revisions_archived=gen.stats["archived"],
        revisions_deleted=gen.stats["deleted"],
        revisions_unmerged=gen.stats["unmerged_revs"],
        branch_labels=len(labelled),
        depends_on=sum(1 for rv in gen.revs.values() if rv.depends),
        stashes=len(gen.stash_commits),
        stash_commits=stash_commits,
        reflog_only_commits=len(gen.reflog_only),
        unreachable_commits=len(gen.unreachable),
        extra_commits=stash_commits - top_stash + len(gen.reflog_only) + len(gen.unreachable),
        dangling_blobs=len(gen.dangling),
        head_reflog_entries=len(gen.head_log),
        merges=gen.merge_count + (1 if gen.stash_commits else 0),
        long_lived_branches=len(gen.long_lived),
        long_lived_commits=gen.stats["ll_commits"],
        long_lived_revisions=gen.stats["ll_revisions"],
        long_lived_merges=gen.stats["ll_merges"],
        sync_merges=gen.stats["sync_merges"],
        docs=gen.stats["docs"],
        release_notes=gen.stats["release_notes"],
        docs_files=sum(1 for path in gen.main_tree if path.startswith("docs/")),
        docs_naming_revisions=doc_mentions,
        licensed_files=gen.stats["licensed"] + sum(1 for rv in gen.revs.values() if rv.licensed),
        stash_only_revisions=sorted(gen.only_in["stash"]),
        reflog_only_revisions=sorted(gen.only_in["reflog"]),
        unreachable_only_revisions=sorted(gen.only_in["unreachable"]),
        dangling_blob_revisions=sorted(gen.only_in["dangling"]),
        head=head,
        seconds=time.perf_counter() - started,
    )


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dest", type=Path, help="directory to create (must not exist or be empty)")
    parser.add_argument("--commits", type=int, default=20000)
    parser.add_argument("--revisions", type=int, default=500)
    parser.add_argument("--refs", type=int, default=2000, help="extra refs (pull/remote)")
    parser.add_argument("--docs", type=int, default=None,
                        help=f"doc pages under docs/ (default: commits // 10, at most {DOCS_CAP}; 0: none)")
    parser.add_argument("--long-lived", type=int, default=None,
                        help="long-lived branches merged into main repeatedly (default: 0 below 100 "
                             f"commits, else 2 + commits // 10000, at most {len(LONG_LIVED)})")
    parser.add_argument("--merge-share", type=float, default=MERGE_SHARE,
                        help=f"merge commits / commits to aim for (default {MERGE_SHARE}, at most 0.45)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repack", action=argparse.BooleanOptionalAction, default=True,
                        help="run 'git repack -a -d --keep-unreachable' and 'git pack-refs --all' afterwards")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    try:
        summary = generate(args.dest, args.commits, args.revisions, args.refs, args.seed, args.repack,
                           args.docs, args.long_lived, args.merge_share)
    except (FileExistsError, ValueError, RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"make_history: error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(asdict(summary)) if args.json else summary.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
