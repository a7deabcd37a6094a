"""Revision files rebuilt from the bytecode of whichever Python runs the tests (3.10 to 3.13).

Each version compiles the same source with its own idioms (3.10's CALL_FUNCTION_KW/CALL_METHOD and
SETUP_WITH, 3.11's PRECALL/KW_NAMES, 3.12's inlined comprehensions and method-bit LOAD_ATTR, 3.13's
CALL_KW, superinstructions and FORMAT_SIMPLE); run under each version, these tests prove the stack
machine reads them all: a complete rebuild compiles back to the very same bytecode.
"""

from __future__ import annotations

import py_compile
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from gitfixture import GitRepo, revision_source
from migration_archaeologist.actions.restore import apply_restore, plan_restore
from migration_archaeologist.chain.scan import scan_repository
from migration_archaeologist.parse.ops import read_ops
from migration_archaeologist.parse.revision import RevisionFile, parse_revision
from migration_archaeologist.sources.bytecode.rebuild import Rebuilt, rebuild
from migration_archaeologist.sources.bytecode.verification import find_python
from test_bytecode import HAND_WRITTEN, SAMPLES, SOURCES

IDIOMS = '''"""every idiom an Alembic revision leans on

Revision ID: 0a1b2c3d4e5f
Revises: ffeeddccbbaa
Create Date: 2024-05-01 10:00:00.000000

"""
from typing import Sequence, Union

from alembic import op, context
import sqlalchemy as sa
import sqlalchemy.dialects.postgresql
from sqlalchemy.dialects import postgresql as pg

revision: str = '0a1b2c3d4e5f'
down_revision: Union[str, None] = 'ffeeddccbbaa'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None
STATUSES = ('new', 'pending', 'done')
TABLES = [t.upper() for t in ('orders', 'invoices')]
COLUMNS = {c for c in STATUSES}
SCHEMA = {'schema': None}
WIDTH = 5


def _name(table: str, *parts: str, sep: str = '_', **extra: str) -> str:
    return sep.join([table, *parts, *extra.values()])


def upgrade() -> None:
    status = sa.Enum(*STATUSES, name='task_status', create_type=False)
    status.create(op.get_bind(), checkfirst=True)
    with op.batch_alter_table('tasks', **SCHEMA) as batch_op:
        batch_op.add_column(sa.Column('status', status, nullable=True))
        with op.batch_alter_table('other') as inner:
            inner.drop_column('x')
        batch_op.create_index(_name('ix', 'tasks', 'status'), ['status'], unique=False)
    op.execute(f"UPDATE tasks SET status = {STATUSES[0]!r} WHERE status IS NULL")
    op.execute(f"COMMENT ON TABLE {TABLES[-1]:>{WIDTH}} IS {context.get_context().dialect.name!s}")
    op.bulk_insert(sa.table('t', sa.column('x')), [{'x': i, **SCHEMA} for i in range(3)])
    op.create_table('wide', *[sa.Column(n, sa.Text()) for n in TABLES], sa.Column('id', sa.Integer()), **SCHEMA)
    op.create_index('ix_wide', 'wide', list((n.lower() for n in TABLES)), postgresql_using='gin')
    keys = [*TABLES, 'tail']
    merged = {**SCHEMA, 'name': TABLES[0][1:3], 'odd': TABLES[::2], 'neg': -WIDTH, 'pos': +WIDTH}
    op.execute(sa.text(' '.join(keys)).bindparams(merged=merged, flag=WIDTH is not None, x='x' not in keys))
    op.alter_column('tasks', 'status', existing_type=pg.ENUM(*STATUSES, name='task_status'), nullable=not WIDTH)
    sqlalchemy.dialects.postgresql.ENUM(name='old').drop(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    """Undo, in reverse."""
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index(_name('ix', 'tasks', 'status', sep='-', x='y'))
        batch_op.drop_column('status')
    sa.Enum(name='task_status').drop(op.get_bind(), checkfirst=True)
    return None
'''

CONDITIONS = '''"""branch on the dialect, offline mode and None"""
from alembic import op, context
import sqlalchemy as sa

revision = '1b2c3d4e5f60'
down_revision = '0a1b2c3d4e5f'
if context.is_offline_mode():
    SCHEMA = 'x'
else:
    SCHEMA = None


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        op.execute("SET lock_timeout = '5s'")
    op.drop_column('orders', 'legacy')
    if bind.dialect.name != 'sqlite':
        with op.batch_alter_table('t') as batch_op:
            if SCHEMA is None:
                batch_op.drop_column('x')
            batch_op.drop_column('y')
    else:
        op.drop_column('t', 'x')
    op.f()


def downgrade():
    if context.get_context().dialect.name == 'sqlite':
        op.a()
    elif context.get_context().dialect.name in ('mysql', 'mariadb'):
        op.b()
    else:
        op.c()


def last(x):
    if not x:
        return 1
    if x is not None:
        op.a()
    return x
'''

LOOPS = '''"""loops over tables, and/or in a dialect check"""
from alembic import op, context
import sqlalchemy as sa

revision = '2c3d4e5f6071'
down_revision = '1b2c3d4e5f60'
TABLES = ('a', 'b')
for t in TABLES:
    print(t)


def upgrade():
    for table in TABLES:
        op.drop_table(table)
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column('x')
    if context.get_context().dialect.name == 'postgresql' and not context.is_offline_mode():
        for name in ['x', 'y']:
            op.execute(f"DROP TYPE {name}")
    op.x()


def downgrade():
    for table in TABLES:
        op.create_table(table, sa.Column('id', sa.Integer()))
    for table in TABLES:
        if table != 'b':
            op.drop_index(f"ix_{table}")
        else:
            op.drop_index('ix_b', table_name=table)
    for table in TABLES:
        if table == 'a':
            op.execute('x')
    for table in TABLES:
        if table != 'a' and table not in ('x', 'y'):
            op.drop_table(table)
'''

EARLY_RETURN = '''"""nothing to do offline"""
from alembic import op, context

revision = '3d4e5f607182'
down_revision = '2c3d4e5f6071'


def upgrade():
    if context.is_offline_mode():
        return
    op.execute('x')
    op.execute('y')


def downgrade():
    x = op.get_bind()
    if x is None:
        op.a()
        return
    op.b()
'''

NESTED_IFS = '''"""nested dialect checks"""
revision = '4e5f60718293'
down_revision = '3d4e5f607182'


def upgrade():
    if context.get_context().dialect.name == 'postgresql':
        if not context.is_offline_mode():
            if op.get_bind() is not None:
                op.execute('VACUUM')


def downgrade():
    if context.get_context().dialect.name == 'postgresql':
        if not context.is_offline_mode():
            op.execute('VACUUM')
        op.g()
    op.h()
'''

EITHER = '''"""either condition"""
revision = '5f6071829304'
down_revision = '4e5f60718293'


def upgrade():
    if context.is_offline_mode() or op.get_bind().dialect.name == 'sqlite':
        op.execute('a')
    if not x or y is None:
        op.b()
    op.c()


def downgrade():
    if a is None or b:
        op.f()
    else:
        op.g()
    op.h()
'''

FOUND_ON_STDLIB = '''"""found by rebuilding the standard library

Revision ID: 60718293a4b5
"""
from alembic import op, context

revision = '60718293a4b5'
down_revision = '5f6071829304'


def upgrade():
    """Upgrade.

    The docstring's own lines keep their indentation.
    """
    if context.is_offline_mode() and op.get_context().as_sql:
        kind = 'sql'
    elif op.get_bind() is not None:
        kind = 'online'
    else:
        return None
    op.execute(f"-- {kind}")


def downgrade():
    pass
'''

SWAP = '''"""a, b = x, y: 3.11+ drops the swap and stores in reverse"""
revision = '718293a4b5c6'
down_revision = None


def upgrade():
    first, second = op.get_bind(), context.get_context()
    op.execute(first, second)
'''

FILTERED = '''"""filtered comprehensions"""
from alembic import op
import sqlalchemy as sa

revision = '8293a4b5c6d7'
down_revision = '718293a4b5c6'
COLUMNS = [c for c in ('id', 'name', 'note') if c != 'id']


def upgrade():
    op.create_table('t', *[sa.Column(c, sa.Text()) for c in COLUMNS if not c.startswith('_')])
    op.bulk_insert(sa.table('t'), [{'name': n} for n in COLUMNS if n is not None])
    op.execute(' '.join((c for c in COLUMNS if c)))
    keep = {c for c in COLUMNS if c is None}


def downgrade():
    op.drop_table('t')
'''

TERNARY = '''"""conditional expressions"""
from alembic import op, context
import sqlalchemy as sa

revision = '93a4b5c6d7e8'
down_revision = '8293a4b5c6d7'
IS_PG = context.get_context().dialect.name == 'postgresql' if not context.is_offline_mode() else False


def upgrade():
    op.add_column('t', sa.Column('at', sa.DateTime(), server_default=sa.text('now()') if IS_PG else None, nullable=True))
    kind = 'jsonb' if IS_PG else 'json'
    op.execute(f"ALTER TABLE t ADD COLUMN meta {kind}")


def downgrade():
    op.drop_column('t', 'at')
'''

RAISES = '''"""irreversible downgrade, and a guard (the raise idioms of CTFd, indico, neutron)"""
from alembic import op, context
import sqlalchemy as sa

revision = 'a4b5c6d7e8f9'
down_revision = '93a4b5c6d7e8'


class Irreversible(Exception):
    pass


def upgrade():
    if context.get_context().dialect.name not in ('postgresql', 'sqlite'):
        raise RuntimeError(f"unsupported dialect {context.get_context().dialect.name}")
    op.add_column('t', sa.Column('flag', sa.Boolean(), nullable=True))


def downgrade():
    raise NotImplementedError('This migration cannot be reversed') from None
'''

RAISE_ONLY = '''"""one-way, and a guard"""
from alembic import op, context

revision = 'b5c6d7e8f9a0'
down_revision = 'a4b5c6d7e8f9'


def upgrade():
    if context.is_offline_mode():
        raise RuntimeError('run this migration online')
    op.drop_table('legacy')


def downgrade():
    raise NotImplementedError()
'''

#: every source the tests know: the samples, the test sources, the idioms above
ALL = {
    **{f"sample_{p.stem}": p.read_text(encoding="utf-8") for p in sorted(SAMPLES.glob("*.py"))},
    **SOURCES,
    "hand_written": HAND_WRITTEN,
    "idioms": IDIOMS,
    "conditions": CONDITIONS,
    "loops": LOOPS,
    "early_return": EARLY_RETURN,
    "nested_ifs": NESTED_IFS,
    "either": EITHER,
    "found_on_stdlib": FOUND_ON_STDLIB,
    "filtered": FILTERED,
    "ternary": TERNARY,
    "raise_only": RAISE_ONLY,
}
RUNNING = f"{sys.version_info.major}.{sys.version_info.minor}"


def _rebuilt(tmp_path: Path, name: str, text: str) -> Rebuilt:
    src = tmp_path / f"{name}.py"
    src.write_text(text, encoding="utf-8")
    pyc = tmp_path / "__pycache__" / f"{name}.{sys.implementation.cache_tag}.pyc"
    py_compile.compile(str(src), cfile=str(pyc), doraise=True)
    result = rebuild(pyc.read_bytes(), pyc_name=pyc.name)
    assert isinstance(result, Rebuilt), result
    return result


@pytest.mark.parametrize("name", sorted(ALL))
def test_every_known_revision_rebuilds_with_bytecode_fidelity(tmp_path: Path, name: str) -> None:
    result = _rebuilt(tmp_path, name, ALL[name])
    assert (result.fidelity, result.differences, result.python) == ("bytecode", (), RUNNING)
    a, b = parse_revision(ALL[name].encode()), parse_revision(result.source)
    assert isinstance(a, RevisionFile) and isinstance(b, RevisionFile)
    assert replace(b, encoding=a.encoding) == a


_COMPILE_ALL = (
    "import py_compile, sys\n"
    "for src in sys.argv[1:]:\n"
    "    py_compile.compile(src, cfile=src + 'c', doraise=True,\n"
    "                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)\n"
)


@pytest.mark.parametrize("version", ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13"])
def test_every_known_revision_compiled_by_each_python_rebuilds_with_bytecode_fidelity(
    tmp_path: Path, version: str
) -> None:
    """The same property for the bytecode of every CPython 3.8-3.13 installed here: each version's
    own idioms are read, and that version's compiler proves the rebuild (only our sources are compiled)."""
    python = find_python(version)
    if python is None:
        pytest.skip(f"no Python {version} here")
    sources = []
    for name, text in ALL.items():
        sources.append(tmp_path / f"{name}.py")
        sources[-1].write_text(text, encoding="utf-8")
    subprocess.run([str(python), "-I", "-S", "-c", _COMPILE_ALL, *map(str, sources)], check=True, timeout=120)
    failures = {}
    for src in sources:
        result = rebuild(Path(f"{src}c").read_bytes(), pyc_name=f"{src.stem}.pyc")
        if not isinstance(result, Rebuilt) or result.fidelity != "bytecode" or result.python != version:
            failures[src.stem] = getattr(result, "differences", result)
    assert failures == {}


def test_idioms_rebuild_to_readable_source(tmp_path: Path) -> None:
    text = _rebuilt(tmp_path, "idioms", IDIOMS).source.decode()
    for line in (
        "status = sa.Enum(*STATUSES, name='task_status', create_type=False)",
        "with op.batch_alter_table('tasks', **SCHEMA) as batch_op:",
        "        with op.batch_alter_table('other') as inner:",
        "TABLES = [t.upper() for t in ('orders', 'invoices')]",
        "op.execute(f'UPDATE tasks SET status = {STATUSES[0]!r} WHERE status IS NULL')",
        "op.create_index('ix_wide', 'wide', list((n.lower() for n in TABLES)), postgresql_using='gin')",
        "def _name(table: str, *parts: str, sep: str='_', **extra: str) -> str:",
    ):
        assert line in text, line
    ops = read_ops(text.encode())
    assert [o.name for o in ops.downgrade] == ["batch_alter_table", "drop_index", "drop_column"]


def test_conditions_rebuild_as_if_elif_else(tmp_path: Path) -> None:
    text = _rebuilt(tmp_path, "conditions", CONDITIONS).source.decode()
    assert "if context.is_offline_mode():\n    SCHEMA = 'x'\nelse:\n    SCHEMA = None\n" in text
    assert "    elif context.get_context().dialect.name in ('mysql', 'mariadb'):\n        op.b()\n    else:\n" in text
    assert "            if SCHEMA is None:\n                batch_op.drop_column('x')\n" in text
    assert "    if not x:\n        return 1\n" in text


def test_loops_rebuild_as_for_statements(tmp_path: Path) -> None:
    text = _rebuilt(tmp_path, "loops", LOOPS).source.decode()
    assert "for t in TABLES:\n    print(t)\n" in text
    assert "    for table in TABLES:\n        op.drop_table(table)\n        with op.batch_alter_table(table) as batch_op:\n" in text
    assert "    if context.get_context().dialect.name == 'postgresql' and (not context.is_offline_mode()):\n" in text
    assert "        if table != 'a' and table not in ('x', 'y'):\n            op.drop_table(table)\n" in text
    assert [o.name for o in read_ops(text.encode()).downgrade] == ["create_table", "drop_index", "drop_index", "execute", "drop_table"]


def test_early_return_is_kept_as_written(tmp_path: Path) -> None:
    text = _rebuilt(tmp_path, "early_return", EARLY_RETURN).source.decode()
    assert "    if context.is_offline_mode():\n        return\n    op.execute('x')\n" in text


def test_or_conditions_rebuild_as_written(tmp_path: Path) -> None:
    text = _rebuilt(tmp_path, "either", EITHER).source.decode()
    assert "    if context.is_offline_mode() or op.get_bind().dialect.name == 'sqlite':\n" in text
    assert "    if not x or y is None:\n" in text
    assert "    if a is None or b:\n        op.f()\n    else:\n        op.g()\n    op.h()\n" in text


def test_multiline_docstring_and_early_else_return_are_exact(tmp_path: Path) -> None:
    text = _rebuilt(tmp_path, "found_on_stdlib", FOUND_ON_STDLIB).source.decode()
    assert '    """Upgrade.\n\n    The docstring\'s own lines keep their indentation.\n    """\n' in text
    assert "    if context.is_offline_mode() and op.get_context().as_sql:\n" in text
    assert "    else:\n        return\n    op.execute(f'-- {kind}')\n" in text


def test_tuple_assignment_gives_up_instead_of_reordering(tmp_path: Path) -> None:
    """Stored in reverse after the swap is optimised away: read naively it would evaluate
    ``context.get_context()`` first; the rebuilder says what it does not read instead."""
    result = _rebuilt(tmp_path, "swap", SWAP)
    assert result.fidelity == "bytecode-partial"
    assert len(result.differences) == 1  # 3.10 says ROT_TWO, 3.11+ UNPACK_SEQUENCE
    assert result.differences[0].startswith("upgrade(): not rebuilt: chained or unpacking assignment (")
    assert "raise NotImplementedError" in result.source.decode()


def test_filtered_comprehensions_rebuild_as_written(tmp_path: Path) -> None:
    text = _rebuilt(tmp_path, "filtered", FILTERED).source.decode()
    assert "COLUMNS = [c for c in ('id', 'name', 'note') if c != 'id']\n" in text
    assert "    keep = {c for c in COLUMNS if c is None}\n" in text
    assert "[{'name': n} for n in COLUMNS if n is not None]" in text


def test_conditional_expressions_rebuild_as_written(tmp_path: Path) -> None:
    text = _rebuilt(tmp_path, "ternary", TERNARY).source.decode()
    assert "    kind = 'jsonb' if IS_PG else 'json'\n" in text
    assert "server_default=sa.text('now()') if IS_PG else None" in text


def test_idioms_survive_scan_and_restore_byte_for_byte(repo: GitRepo, tmp_path: Path) -> None:
    """Only the .pyc is left: scan picks the rebuild, restore writes exactly the rebuilt bytes."""
    versions = "alembic/versions"
    repo.commit("base", {f"{versions}/ffeeddccbbaa_base.py": revision_source("ffeeddccbbaa", None, "base")})
    result = _rebuilt(tmp_path, "0a1b2c3d4e5f_idioms", IDIOMS)
    cache = repo.path / versions / "__pycache__"
    cache.mkdir()
    pyc = cache / f"0a1b2c3d4e5f_idioms.{sys.implementation.cache_tag}.pyc"
    pyc.write_bytes((tmp_path / "__pycache__" / pyc.name).read_bytes())
    (repo.path / ".gitignore").write_text("__pycache__/\n")
    scanned = scan_repository(repo.path, versions=[versions])
    entry = scanned.catalog.entries["0a1b2c3d4e5f"]
    assert entry.chosen.fidelity == "bytecode"
    plan = plan_restore(scanned, ["0a1b2c3d4e5f"])
    assert [f.target.name for f in plan.files] == ["0a1b2c3d4e5f_idioms.py"]
    outcome = apply_restore(plan, scanned)
    written = (repo.path / versions / "0a1b2c3d4e5f_idioms.py").read_bytes()
    assert written == scanned.catalog.content(entry.chosen.blob)
    assert pyc.name in written.splitlines()[0].decode()  # the header names the .pyc, by its path in the repo
    assert written.splitlines()[1:] == result.source.splitlines()[1:]
    assert outcome.heads_agree is True


def test_raise_statements_rebuild_as_written(tmp_path: Path) -> None:
    text = _rebuilt(tmp_path, "raise_only", RAISE_ONLY).source.decode()
    assert "def downgrade():\n    raise NotImplementedError()\n" in text
    assert "        raise RuntimeError('run this migration online')\n" in text
    result = _rebuilt(tmp_path, "raises", RAISES)
    text = result.source.decode()
    assert "    raise NotImplementedError('This migration cannot be reversed') from None\n" in text
    assert "raise RuntimeError(f" in text
    # the class body is still given up, and said so; the functions around it are rebuilt
    assert result.fidelity == "bytecode-partial" and "LOAD_BUILD_CLASS" in " ".join(result.differences)
