"""The file around a stand-in revision's operations, laid out like Alembic's ``script.py.mako``.

Alembic's ``render_python_code`` writes the operations; the header (message, identifiers, the
database it was synthesized from and how), the imports the operations need and the
``upgrade()``/``downgrade()`` functions around them are ours.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Sequence

from alembic.autogenerate import render_python_code
from alembic.migration import MigrationContext
from alembic.operations import ops

from migration_archaeologist.database.urls import mask

__all__ = ["render_body", "render_revision"]

_DIALECT_MODULES = ("postgresql", "mysql", "sqlite", "mssql", "oracle")


def render_body(operations: ops.UpgradeOps | ops.DowngradeOps, context: MigrationContext, batch: bool) -> str:
    code = render_python_code(operations, render_as_batch=batch, migration_context=context)
    lines = [
        line
        for line in code.splitlines()
        if "### commands auto generated" not in line and "### end Alembic commands" not in line
    ]
    text = "\n".join(lines).rstrip()
    return text if text.strip() else "    pass"


def _imports(*bodies: str) -> list[str]:
    """``from sqlalchemy.dialects import X`` for every dialect module the rendered code names."""
    used = sorted({m for m in _DIALECT_MODULES for b in bodies if re.search(rf"(?<![\w.]){m}\.", b)})
    return [f"from sqlalchemy.dialects import {m}" for m in used]


def render_revision(
    *,
    revision: str,
    down_revisions: Sequence[str],
    message: str,
    upgrade_body: str,
    downgrade_body: str,
    database: str,
    created: _dt.datetime,
    how: str,
) -> bytes:
    """The file around the rendered operations, laid out like Alembic's ``script.py.mako``."""
    downs = tuple(down_revisions)
    down_repr = repr(None if not downs else downs[0] if len(downs) == 1 else downs)
    revises = ", ".join(downs)
    imports = "".join(line + "\n" for line in _imports(upgrade_body, downgrade_body))
    doc_message = message.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return f'''"""{doc_message}

Revision ID: {revision}
Revises: {revises}
Create Date: {created.strftime("%Y-%m-%d %H:%M:%S.%f")}

Synthesized by migration-archaeologist from the database {mask(database)}
on {created.strftime("%Y-%m-%d %H:%M:%S %Z").strip()}: {how}
No copy of the original revision file was found; this one reproduces its schema changes only.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
{imports}

# revision identifiers, used by Alembic.
revision: str = {revision!r}
down_revision: Union[str, Sequence[str], None] = {down_repr}
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
{upgrade_body}


def downgrade() -> None:
{downgrade_body}
'''.encode()
