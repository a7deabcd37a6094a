"""Time our graph + integrity check of a versions directory against Alembic's own loader (issue #7).

    python benchmarks/bench_graph.py [--n 10000] [--seed 7] [--repeat 3] [--keep DIR]
                                     [--generate-only] [--profile] [--profile-cli]

Generates (deterministically, from ``--seed``) a git repository holding ``--n`` Alembic revision
files in Alembic's real templates -- ``alembic.ini``, ``alembic/env.py``, ``alembic/versions/*.py``,
one commit -- then times, wall clock, best of ``--repeat``, every run in a fresh subprocess:

a. Alembic: ``ScriptDirectory(script_location)``, ``revision_map.heads`` and
   ``list(walk_revisions())``; cold (no ``versions/__pycache__``) and warm (the bytecode the cold
   run wrote). Alembic imports each file with ``SourceFileLoader``, which writes ``__pycache__``.
b. Ours, library: ``build_catalog([WorkTree(root, [versions])])`` + ``analyse_catalog(catalog)``.
c. Ours, command line: ``migration-archaeologist check REPO --versions alembic/versions
   --format json``, a cold run (no ``.git/migration-archaeologist/`` cache) and the warm run
   straight after it.

For a and b the child also prints its in-process time, imports excluded. A reference child that
only reads and ``ast.parse``-s every file gives the parsing floor. The script prints a table and the
ratios Alembic / ours, and fails (exit 1) unless Alembic, our library and our CLI name the same heads.

``--profile`` profiles b in a child with cProfile (top functions by cumulative time) and, when it is
installed, pyinstrument; ``--profile-cli`` does the same for the whole ``check`` command in process.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

VERSIONS = "alembic/versions"

# --------------------------------------------------------------------------- generation

_CLASSIC = '''"""{message}

Revision ID: {rev}
Revises: {revises}
Create Date: {date}

"""
from alembic import op
import sqlalchemy as sa
{imports}

# revision identifiers, used by Alembic.
revision = {rev!r}
down_revision = {down!r}
branch_labels = {labels!r}
depends_on = {depends!r}


def upgrade():
{upgrade}


def downgrade():
{downgrade}
'''

_TYPED = '''"""{message}

Revision ID: {rev}
Revises: {revises}
Create Date: {date}

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
{imports}

# revision identifiers, used by Alembic.
revision: str = {rev!r}
down_revision: Union[str, None] = {down!r}
branch_labels: Union[str, Sequence[str], None] = {labels!r}
depends_on: Union[str, Sequence[str], None] = {depends!r}


def upgrade() -> None:
{upgrade}


def downgrade() -> None:
{downgrade}
'''

_INI = """# A generic, single database configuration.

[alembic]
script_location = alembic
prepend_sys_path = .
version_path_separator = os
sqlalchemy.url = sqlite:///bench.db

[loggers]
keys = root,sqlalchemy,alembic

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARN
handlers = console
qualname =

[logger_sqlalchemy]
level = WARN
handlers =
qualname = sqlalchemy.engine

[logger_alembic]
level = INFO
handlers =
qualname = alembic

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
datefmt = %H:%M:%S
"""

_ENV = '''from logging.config import fileConfig

from sqlalchemy import engine_from_config, pool

from alembic import context

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)
target_metadata = None


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = engine_from_config(config.get_section(config.config_ini_section, {}),
                                     prefix="sqlalchemy.", poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
'''

_MAKO = '''"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
${imports if imports else ""}

# revision identifiers, used by Alembic.
revision: str = ${repr(up_revision)}
down_revision: Union[str, None] = ${repr(down_revision)}
branch_labels: Union[str, Sequence[str], None] = ${repr(branch_labels)}
depends_on: Union[str, Sequence[str], None] = ${repr(depends_on)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
'''

_NOUNS = ("user", "account", "order", "invoice", "payment", "product", "customer", "address", "session",
          "token", "audit_log", "subscription", "plan", "team", "project", "task", "comment", "tag",
          "attachment", "notification", "webhook", "event", "report", "shipment", "warehouse", "coupon",
          "refund", "tenant", "role", "permission", "api_key", "export_job", "feature_flag", "metric")
_COLUMNS = ("name", "email", "status", "created_at", "updated_at", "deleted_at", "amount", "currency",
            "description", "title", "is_active", "priority", "external_id", "metadata", "slug", "kind",
            "position", "note", "score", "quantity", "owner_id", "parent_id", "due_at", "url", "hash")
_TYPES = ("sa.Integer()", "sa.BigInteger()", "sa.String(length=255)", "sa.String(length=64)", "sa.Text()",
          "sa.Boolean()", "sa.DateTime(timezone=True)", "sa.Numeric(precision=12, scale=2)", "sa.Date()",
          "postgresql.JSONB(astext_type=sa.Text())", "postgresql.UUID(as_uuid=True)")
_AUTOGEN = "    # ### commands auto generated by Alembic - please adjust! ###"
_AUTOGEN_END = "    # ### end Alembic commands ###"


@dataclass
class Summary:
    n: int = 0
    heads: tuple[str, ...] = ()
    bases: int = 0
    merges: int = 0
    branch_points: int = 0
    labels: list[str] = field(default_factory=list)
    depends: int = 0
    classic: int = 0
    typed: int = 0
    ops: int = 0
    biggest_ops: int = 0
    bytes: int = 0

    def line(self) -> str:
        return (f"generated: {self.n} revision files ({self.classic} classic, {self.typed} typed template), "
                f"{len(self.heads)} heads, {self.bases} bases, {self.merges} merges, {self.branch_points} branch points, "
                f"{len(self.labels)} branch labels, {self.depends} with depends_on, {self.ops} ops "
                f"(max {self.biggest_ops} in one file), {self.bytes / 1e6:.1f} MB")


class _Ops:
    """upgrade()/downgrade() bodies in the shape autogenerate writes them."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.tables: list[str] = []
        self.counter = 0

    def _table(self) -> str:
        if not self.tables or self.rng.random() < 0.08:
            self.counter += 1
            name = f"{self.rng.choice(_NOUNS)}_{self.counter}"
            self.tables.append(name)
            return name
        return self.rng.choice(self.tables[-200:])

    def _column(self, name: str, nullable: bool = True) -> str:
        return f"sa.Column({name!r}, {self.rng.choice(_TYPES)}, nullable={nullable})"

    def one(self) -> tuple[list[str], list[str]]:
        """One op as (upgrade lines, downgrade lines)."""
        r = self.rng.random()
        if r < 0.18:
            self.counter += 1
            table = f"{self.rng.choice(_NOUNS)}_{self.counter}"
            self.tables.append(table)
            cols = self.rng.sample(_COLUMNS, self.rng.randint(2, 14))
            lines = [f"    op.create_table({table!r},", "    sa.Column('id', sa.Integer(), nullable=False),"]
            lines += [f"    {self._column(c, self.rng.random() < 0.6)}," for c in cols]
            if self.rng.random() < 0.3 and len(self.tables) > 1:
                other = self.rng.choice(self.tables[:-1])
                lines.append(f"    sa.ForeignKeyConstraint(['owner_id'], ['{other}.id'], ondelete='CASCADE'),")
            lines += ["    sa.PrimaryKeyConstraint('id')", "    )"]
            return lines, [f"    op.drop_table({table!r})"]
        table = self._table()
        column = self.rng.choice(_COLUMNS)
        if r < 0.48:
            return ([f"    op.add_column({table!r}, {self._column(column)})"],
                    [f"    op.drop_column({table!r}, {column!r})"])
        if r < 0.66:
            index = f"ix_{table}_{column}"
            unique = self.rng.random() < 0.2
            return ([f"    op.create_index(op.f({index!r}), {table!r}, [{column!r}], unique={unique})"],
                    [f"    op.drop_index(op.f({index!r}), table_name={table!r})"])
        if r < 0.78:
            return ([f"    op.execute(\"UPDATE {table} SET {column} = DEFAULT WHERE {column} IS NULL\")"],
                    [f"    op.execute(\"UPDATE {table} SET {column} = NULL\")"])
        if r < 0.88:
            return ([f"    op.alter_column({table!r}, {column!r},", "               existing_type=sa.String(length=64),",
                     "               type_=sa.String(length=255),", "               existing_nullable=True)"],
                    [f"    op.alter_column({table!r}, {column!r},", "               existing_type=sa.String(length=255),",
                     "               type_=sa.String(length=64),", "               existing_nullable=True)"])
        if r < 0.95:
            other = self._table()
            fk = f"fk_{table}_{other}"[:60]
            return ([f"    op.create_foreign_key({fk!r}, {table!r}, {other!r}, ['{column}_id'], ['id'])"],
                    [f"    op.drop_constraint({fk!r}, {table!r}, type_='foreignkey')"])
        return ([f"    with op.batch_alter_table({table!r}, schema=None) as batch_op:",
                 f"        batch_op.add_column({self._column(column)})",
                 f"        batch_op.create_index(batch_op.f('ix_{table}_{column}'), [{column!r}], unique=False)"],
                [f"    with op.batch_alter_table({table!r}, schema=None) as batch_op:",
                 f"        batch_op.drop_index(batch_op.f('ix_{table}_{column}'))",
                 f"        batch_op.drop_column({column!r})"])

    def bodies(self) -> tuple[str, str, int]:
        r = self.rng.random()
        count = self.rng.randint(1, 4) if r < 0.7 else self.rng.randint(5, 12) if r < 0.95 else self.rng.randint(20, 40)
        ups: list[str] = [_AUTOGEN]
        downs: list[list[str]] = []
        for _ in range(count):
            up, down = self.one()
            ups += up
            downs.append(down)
        ups.append(_AUTOGEN_END)
        down_lines = [_AUTOGEN] + [line for d in reversed(downs) for line in d] + [_AUTOGEN_END]
        return "\n".join(ups), "\n".join(down_lines), count


def generate(repo: Path, n: int, seed: int) -> Summary:
    """A git repository with ``n`` revision files: mostly linear, feature branches merged back, labelled
    second bases (``analytics``, ``audit``) that stay separate heads, a few ``depends_on``."""
    rng = random.Random(seed)
    versions = repo / VERSIONS
    versions.mkdir(parents=True)
    (repo / "alembic.ini").write_text(_INI)
    (repo / "alembic" / "env.py").write_text(_ENV)
    (repo / "alembic" / "script.py.mako").write_text(_MAKO)
    (repo / "alembic" / "README").write_text("Generic single-database configuration.\n")
    ops = _Ops(rng)
    summary = Summary(n=n)
    used: set[str] = set()
    children: dict[str, int] = {}
    date = datetime(2018, 3, 1, 9, 0, 0)
    typed_from = int(n * 0.55)

    def new_id() -> str:
        while True:
            rev = f"{rng.getrandbits(48):012x}"
            if rev not in used:
                used.add(rev)
                return rev

    main_line: list[str] = []
    main_head: str | None = None
    branches: list[dict] = []  # {"head", "left"}
    bases: dict[str, dict] = {}  # label -> {"head"}
    base_at = {int(n * 0.3): "analytics", int(n * 0.6): "audit"}
    feature = 0

    def write(down: tuple[str, ...], message: str, labels: tuple[str, ...] = (), depends: tuple[str, ...] = (),
              merge: bool = False) -> str:
        nonlocal date
        rev = new_id()
        index = summary.classic + summary.typed
        date += timedelta(minutes=rng.randint(20, 60 * 60))
        stamp = date.strftime("%Y-%m-%d %H:%M:%S.") + f"{rng.randint(0, 999999):06d}"
        template = _TYPED if index >= typed_from and rng.random() < 0.9 else _CLASSIC
        if template is _TYPED:
            summary.typed += 1
        else:
            summary.classic += 1
        if merge:
            upgrade, downgrade, count = "    pass", "    pass", 0
        else:
            upgrade, downgrade, count = ops.bodies()
        summary.ops += count
        summary.biggest_ops = max(summary.biggest_ops, count)
        imports = "from sqlalchemy.dialects import postgresql" if "postgresql." in upgrade + downgrade else ""
        down_value = None if not down else down[0] if len(down) == 1 else down
        depends_value = None if not depends else depends[0] if len(depends) == 1 and rng.random() < 0.5 else depends
        text = template.format(message=message, rev=rev, revises=", ".join(down), date=stamp, imports=imports,
                               down=down_value, labels=labels or None, depends=depends_value,
                               upgrade=upgrade, downgrade=downgrade)
        slug = re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")[:40].rstrip("_")
        data = text.encode()
        (versions / f"{rev}_{slug}.py").write_bytes(data)
        summary.bytes += len(data)
        for parent in down:
            children[parent] = children.get(parent, 0) + 1
        summary.merges += len(down) > 1
        summary.depends += bool(depends)
        summary.labels.extend(labels)
        return rev

    def message() -> str:
        verb = rng.choice(("add", "create", "drop", "alter", "backfill", "index", "rename", "split", "extend"))
        return f"{verb} {rng.choice(_NOUNS).replace('_', ' ')} {rng.choice(_COLUMNS).replace('_', ' ')}"

    i = 0
    while i < n:
        left = n - i
        if i in base_at and left > 20:
            label = base_at[i]
            bases[label] = {"head": write((), f"create {label} schema", labels=(label,))}
            i += 1
            continue
        done = [b for b in branches if b["left"] <= 0]
        if done and main_head is not None and (rng.random() < 0.5 or left <= len(done) + 1):
            merged = done[:3] if rng.random() < 0.1 else done[:1]
            for b in merged:
                branches.remove(b)
            main_head = write((main_head, *(b["head"] for b in merged)), "merge heads", merge=True)
            main_line.append(main_head)
            i += 1
            continue
        r = rng.random()
        if branches and r < 0.25 and left > 5:
            b = rng.choice(branches)
            b["head"] = write((b["head"],), message())
            b["left"] -= 1
        elif bases and 0.25 <= r < 0.30:
            label = rng.choice(sorted(bases))
            depends: tuple[str, ...] = ()
            if rng.random() < 0.06 and len(main_line) > 10:
                depends = tuple(sorted(set(rng.sample(main_line[:-5], rng.choice((1, 1, 1, 2))))))
            bases[label]["head"] = write((bases[label]["head"],), message(), depends=depends)
        elif main_head is not None and 0.30 <= r < 0.306 and left > 30:
            feature += 1
            parent = rng.choice(main_line[-4:])
            labels = (f"feature_{feature}",) if rng.random() < 0.3 else ()
            head = write((parent,), message(), labels=labels)
            branches.append({"head": head, "left": rng.randint(1, 25)})
        else:
            depends = ()
            if rng.random() < 0.002 and len(main_line) > 10:
                depends = (rng.choice(main_line[:-5]),)
            main_head = write((main_head,) if main_head else (), message() if main_head else "initial schema",
                              depends=depends)
            main_line.append(main_head)
        i += 1
        # branches whose remaining budget no longer fits are merged as soon as possible
        if n - i <= len(branches) + 1:
            for b in branches:
                b["left"] = 0
    heads = [main_head, *(b["head"] for b in bases.values()), *(b["head"] for b in branches)]
    summary.heads = tuple(sorted(h for h in heads if h))
    summary.bases = 1 + len(bases)
    summary.branch_points = sum(1 for c in children.values() if c > 1)
    _commit(repo)
    return summary


def _commit(repo: Path) -> None:
    env = dict(os.environ, GIT_AUTHOR_NAME="Bench", GIT_AUTHOR_EMAIL="bench@example.com",
               GIT_COMMITTER_NAME="Bench", GIT_COMMITTER_EMAIL="bench@example.com",
               GIT_AUTHOR_DATE="2026-01-01T00:00:00+00:00", GIT_COMMITTER_DATE="2026-01-01T00:00:00+00:00")
    for cmd in (["git", "init", "-q", "-b", "main", str(repo)], ["git", "-C", str(repo), "add", "."],
                ["git", "-C", str(repo), "commit", "-q", "-m", "migrations"]):
        subprocess.run(cmd, check=True, env=env, capture_output=True)


# --------------------------------------------------------------------------- children

_ALEMBIC_CHILD = r"""
import json, sys, time
from alembic.script import ScriptDirectory
# what the revision files import, so that the timed part is loading, not importing libraries
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
import typing
started = time.perf_counter()
script = ScriptDirectory(sys.argv[1])
heads = script.revision_map.heads
walked = list(script.walk_revisions())
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "heads": sorted(heads), "revisions": len(walked),
                  "dont_write_bytecode": sys.dont_write_bytecode}))
"""

_OURS_CHILD = r"""
import json, sys, time
from pathlib import Path
from migration_archaeologist.chain.catalog import build_catalog
from migration_archaeologist.chain.graph import analyse_catalog
from migration_archaeologist.sources.worktree import WorkTree
import networkx
root = Path(sys.argv[1])
started = time.perf_counter()
catalog = build_catalog([WorkTree(root, [root / sys.argv[2]])])
chain = analyse_catalog(catalog)
seconds = time.perf_counter() - started
kinds = {}
for p in chain.problems:
    kinds[p.kind] = kinds.get(p.kind, 0) + 1
print(json.dumps({"seconds": seconds, "heads": sorted(chain.heads), "revisions": len(catalog.entries),
                  "merges": len(chain.merge_points), "branch_points": len(chain.branch_points),
                  "labels": len(chain.branch_labels), "problems": kinds}))
"""

_PARSE_CHILD = r"""
import ast, json, os, sys, time
started = time.perf_counter()
versions = sys.argv[1]
count = 0
for name in sorted(os.listdir(versions)):
    if name.endswith(".py"):
        with open(os.path.join(versions, name), "rb") as f:
            ast.parse(f.read())
        count += 1
print(json.dumps({"seconds": time.perf_counter() - started, "files": count}))
"""

_PROFILE_CHILD = r"""
import cProfile, io, pstats, sys, time
from pathlib import Path
from migration_archaeologist.chain.catalog import build_catalog
from migration_archaeologist.chain.graph import analyse_catalog
from migration_archaeologist.sources.worktree import WorkTree
import networkx
root = Path(sys.argv[1])
def run():
    return analyse_catalog(build_catalog([WorkTree(root, [root / sys.argv[2]])]))
if sys.argv[3] == "cprofile":
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.runcall(run)
    print(f"cProfile, in-process library path: {time.perf_counter() - started:.3f} s under the profiler")
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(int(sys.argv[4]))
    print(out.getvalue())
else:
    from pyinstrument import Profiler
    profiler = Profiler(interval=0.0005)
    profiler.start()
    run()
    profiler.stop()
    print("pyinstrument, in-process library path")
    print(profiler.output_text(unicode=False, color=False, show_all=False))
"""

_PROFILE_CLI_CHILD = r"""
import contextlib, cProfile, io, pstats, sys, time
repo, versions, mode, limit = sys.argv[1:5]
sys.argv = ["migration-archaeologist", "check", repo, "--versions", versions, "--format", "json"]
from migration_archaeologist import cli
import typer, rich, networkx
code = None
def run():
    global code
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            cli.main()
        except SystemExit as exc:
            code = exc.code
started = time.perf_counter()
if mode == "cprofile":
    profile = cProfile.Profile()
    profile.runcall(run)
    print(f"cProfile, check command in process, exit code {code} (imports of cli/typer/rich/networkx excluded): "
          f"{time.perf_counter() - started:.3f} s under the profiler")
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(int(limit))
    print(out.getvalue())
else:
    from pyinstrument import Profiler
    profiler = Profiler(interval=0.001)
    profiler.start()
    run()
    profiler.stop()
    print(f"pyinstrument, check command in process, exit code {code}")
    print(profiler.output_text(unicode=False, color=False, show_all=False))
if code not in (0, 1):
    sys.exit(f"check exited with {code}")
"""


class Failed(Exception):
    pass


def _child_env() -> dict[str, str]:
    """The user's environment, minus PYTHONDONTWRITEBYTECODE: a first Alembic load writes bytecode."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_child(cmd: list[str], ok: tuple[int, ...] = (0,)) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, env=_child_env())
    elapsed = time.perf_counter() - started
    if proc.returncode not in ok:
        raise Failed(f"{' '.join(cmd[:3])} ... exited with {proc.returncode}:\n"
                     f"{proc.stderr.decode(errors='replace')[-4000:]}")
    return elapsed, proc.stdout.decode(errors="replace")


def _json(cmd: list[str], out: str) -> dict:
    try:
        return json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError) as exc:
        raise Failed(f"{' '.join(cmd[:3])} ...: output is not JSON ({exc}): {out[:2000]!r}") from None


def cli_command() -> list[str]:
    script = Path(sys.executable).with_name("migration-archaeologist")
    return [str(script)] if script.exists() else [sys.executable, "-m", "migration_archaeologist"]


def clear_bytecode(repo: Path) -> None:
    shutil.rmtree(repo / VERSIONS / "__pycache__", ignore_errors=True)


def pyc_count(repo: Path) -> int:
    cache = repo / VERSIONS / "__pycache__"
    return sum(1 for _ in cache.iterdir()) if cache.is_dir() else 0


def clear_cache(repo: Path) -> bool:
    cache = repo / ".git" / "migration-archaeologist"
    existed = cache.exists()
    shutil.rmtree(cache, ignore_errors=True)
    return existed


def machine() -> str:
    try:
        nproc = len(os.sched_getaffinity(0))
    except AttributeError:
        nproc = os.cpu_count() or 0
    git = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()
    alembic = subprocess.run([sys.executable, "-c", "import alembic; print(alembic.__version__)"],
                             capture_output=True, text=True).stdout.strip()
    return (f"machine: nproc={nproc}, python {platform.python_version()}, {git}, alembic {alembic}, "
            f"{platform.system()} {platform.machine()}")


def load() -> str:
    """Other work on the machine skews every number: say how busy it was."""
    try:
        return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "load average unknown"


def source_state() -> str:
    """Which of our commits is measured, and whether src/ had uncommitted edits."""
    project = Path(__file__).resolve().parents[1]
    head = subprocess.run(["git", "-C", str(project), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(project), "status", "--porcelain", "--", "src"],
                           capture_output=True, text=True)
    if head.returncode != 0:
        return "ours: not a git checkout"
    edits = len(dirty.stdout.splitlines())
    return f"ours: {head.stdout.strip()}" + (f" + {edits} uncommitted file(s) in src/" if edits else ", src/ clean")


def _fmt(seconds: float) -> str:
    return f"{seconds:.3f} s"


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b > 0 else "n/a"


def measure(repo: Path, repeat: int) -> int:
    py = sys.executable
    versions = repo / VERSIONS
    alembic_cmd = [py, "-c", _ALEMBIC_CHILD, str(repo / "alembic")]
    ours_cmd = [py, "-c", _OURS_CHILD, str(repo), VERSIONS]
    parse_cmd = [py, "-c", _PARSE_CHILD, str(versions)]
    check_cmd = [*cli_command(), "check", str(repo), "--versions", VERSIONS, "--format", "json"]
    bare_cmd = [py, "-c", "pass"]

    # Prime the interpreter's own bytecode for the libraries each child imports (not timed).
    for cmd in (alembic_cmd, ours_cmd):
        run_child(cmd)
        clear_bytecode(repo)
    run_child(check_cmd, (0, 1))
    clear_bytecode(repo)
    cache_seen = clear_cache(repo)

    rows: dict[str, list[tuple[float, float | None]]] = {k: [] for k in (
        "python -c pass", "parse floor", "alembic cold", "alembic warm", "ours lib", "ours cli cold", "ours cli warm")}
    alembic_heads: list[str] = []
    ours_doc: dict = {}
    cli_heads: list[str] = []
    pycs_written = 0
    revisions = 0
    for _ in range(repeat):
        rows["python -c pass"].append((run_child(bare_cmd)[0], None))
        t, out = run_child(parse_cmd)
        rows["parse floor"].append((t, _json(parse_cmd, out)["seconds"]))

        clear_bytecode(repo)
        t, out = run_child(alembic_cmd)
        doc = _json(alembic_cmd, out)
        if doc["dont_write_bytecode"]:
            raise Failed("the Alembic child runs with sys.dont_write_bytecode: cold/warm would be the same")
        rows["alembic cold"].append((t, doc["seconds"]))
        alembic_heads, revisions = doc["heads"], doc["revisions"]
        pycs_written = pyc_count(repo)
        t, out = run_child(alembic_cmd)
        rows["alembic warm"].append((t, _json(alembic_cmd, out)["seconds"]))
        clear_bytecode(repo)  # our check would read Alembic's __pycache__ as a source of its own

        t, out = run_child(ours_cmd)
        ours_doc = _json(ours_cmd, out)
        rows["ours lib"].append((t, ours_doc["seconds"]))

        cache_seen = clear_cache(repo) or cache_seen
        t, out = run_child(check_cmd, (0, 1))
        cli_heads = _json(check_cmd, out)["heads"]
        rows["ours cli cold"].append((t, None))
        t, out = run_child(check_cmd, (0, 1))
        if _json(check_cmd, out)["heads"] != cli_heads:
            raise Failed("the warm check run names other heads than the cold one")
        rows["ours cli warm"].append((t, None))

    if not (sorted(alembic_heads) == sorted(ours_doc["heads"]) == sorted(cli_heads)):
        raise Failed(f"heads disagree: alembic {alembic_heads}, ours (library) {ours_doc['heads']}, "
                     f"ours (check) {cli_heads}")
    if revisions != ours_doc["revisions"]:
        raise Failed(f"Alembic walked {revisions} revisions, our catalog holds {ours_doc['revisions']}")

    def best(key: str, which: int) -> float:
        values = [r[which] for r in rows[key] if r[which] is not None]
        return min(values) if values else float("nan")

    print()
    print(f"  revisions: {revisions} (Alembic walked them all; our catalog holds {ours_doc['revisions']})")
    print(f"  heads: {len(alembic_heads)} ({', '.join(alembic_heads)}); Alembic, our library and our check agree")
    print(f"  merges: {ours_doc['merges']}, branch points: {ours_doc['branch_points']}, "
          f"branch labels: {ours_doc['labels']}")
    print(f"  our problems: {ours_doc['problems'] or 'none'}")
    print(f"  Alembic's cold run wrote {pycs_written} .pyc files to versions/__pycache__ (warm runs read them)")
    print(f"  .git/migration-archaeologist cache: {'present, removed before each cold run' if cache_seen else 'never created'}")
    print()
    header = f"  {'best of ' + str(repeat) + ', wall clock':<58} {'subprocess':>11} {'in-process':>11}"
    print(header)
    print("  " + "-" * (len(header) - 2))
    labels = {
        "python -c pass": "python -c pass (interpreter start-up)",
        "parse floor": "floor: read + ast.parse every file",
        "alembic cold": "a. Alembic ScriptDirectory + heads + walk, cold (no pyc)",
        "alembic warm": "a. Alembic, warm (__pycache__ from the cold run)",
        "ours lib": "b. ours: build_catalog(WorkTree) + analyse_catalog",
        "ours cli cold": "c. ours: check --format json, cold (first run)",
        "ours cli warm": "c. ours: check --format json, warm (second run)",
    }
    for key, label in labels.items():
        inproc = best(key, 1)
        print(f"  {label:<58} {_fmt(best(key, 0)):>11} {(_fmt(inproc) if inproc == inproc else '-'):>11}")
    print()
    a_cold, a_warm, ours, ours_in = best("alembic cold", 0), best("alembic warm", 0), best("ours lib", 0), best("ours lib", 1)
    a_cold_in, a_warm_in = best("alembic cold", 1), best("alembic warm", 1)
    cli_cold, cli_warm = best("ours cli cold", 0), best("ours cli warm", 0)
    ratios = [
        ("in-process: Alembic cold / ours library", _ratio(a_cold_in, ours_in)),
        ("in-process: Alembic warm / ours library", _ratio(a_warm_in, ours_in)),
        ("subprocess: Alembic cold / ours library", _ratio(a_cold, ours)),
        ("subprocess: Alembic warm / ours library", _ratio(a_warm, ours)),
        ("subprocess: Alembic cold / ours check, cold", _ratio(a_cold, cli_cold)),
        ("subprocess: Alembic warm / ours check, warm", _ratio(a_warm, cli_warm)),
        ("target (issue #7)", "5.00x"),
    ]
    for label, value in ratios:
        print(f"  {label:<58} {value:>11}")
    print()
    for key, label in labels.items():
        runs = ", ".join(f"{s:.3f}" + (f"/{i:.3f}" if i is not None else "") for s, i in rows[key])
        print(f"  runs {key}: {runs}")
    print("  (runs: subprocess seconds, /in-process seconds where the child reports them)")
    return 0


def profile(repo: Path, limit: int, cli: bool) -> None:
    """cProfile (exact call counts, inflated cost of small calls), then pyinstrument (sampling) if installed."""
    py = sys.executable
    child = _PROFILE_CLI_CHILD if cli else _PROFILE_CHILD
    has_pyinstrument = subprocess.run([py, "-c", "import pyinstrument"], capture_output=True).returncode == 0
    modes = ["cprofile", "pyinstrument"] if has_pyinstrument else ["cprofile"]
    for mode in modes:
        clear_bytecode(repo)
        if cli:
            clear_cache(repo)  # profile the cold run: no history cache
        print()
        print(run_child([py, "-c", child, str(repo), VERSIONS, mode, str(limit)])[1])
    if not has_pyinstrument:
        print("(pyinstrument is not installed: pip install pyinstrument for a sampling profile too)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10000, help="revision files to generate")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; best is reported")
    parser.add_argument("--keep", type=Path, default=None,
                        help="reuse this repository if it exists, else generate into it and keep it")
    parser.add_argument("--generate-only", action="store_true", help="generate (into --keep) and stop")
    parser.add_argument("--profile", action="store_true", help="also profile our library path")
    parser.add_argument("--profile-cli", action="store_true", help="also profile the check command in process")
    parser.add_argument("--profile-limit", type=int, default=15, help="rows of the cProfile table")
    parser.add_argument("--no-measure", action="store_true", help="skip the timings (with --profile*)")
    args = parser.parse_args(argv)
    if args.generate_only and args.keep is None:
        parser.error("--generate-only needs --keep DIR")

    print(machine())
    print(source_state())
    print(f"{load()} (before)")
    workdir = Path(tempfile.mkdtemp(prefix="ma-graph-bench-"))
    try:
        if args.keep is not None and args.keep.exists() and any(args.keep.iterdir()):
            repo = args.keep.resolve()
            if not (repo / VERSIONS).is_dir():
                raise Failed(f"{repo} has no {VERSIONS}")
            print(f"repo: reusing {repo} (generation options ignored)")
        else:
            repo = (args.keep or workdir / "repo").resolve()
            print(f"repo: generating {args.n} revision files (seed {args.seed}) in {repo} ...", flush=True)
            started = time.perf_counter()
            summary = generate(repo, args.n, args.seed)
            print(f"{summary.line()} in {time.perf_counter() - started:.1f} s")
        if args.generate_only:
            return 0
        status = 0 if args.no_measure else measure(repo, max(1, args.repeat))
        if not args.no_measure:
            print(f"  {load()} (after)")
        if args.profile:
            profile(repo, args.profile_limit, cli=False)
        if args.profile_cli:
            profile(repo, args.profile_limit, cli=True)
        return status
    except Failed as exc:
        print(f"bench_graph: FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
