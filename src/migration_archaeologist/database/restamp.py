"""The one write to a live database this tool can make, and only when told twice (``--stamp --yes``).

After a project adopts a synthesized baseline, its ``alembic_version`` still names revisions whose
files are gone; ``alembic stamp --purge`` replaces them. This does the same, in one transaction.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from migration_archaeologist.database.stamp import STAMP_TIMEOUT, bound_waits, reason, timeout_connect_args
from migration_archaeologist.database.urls import DatabaseUnreachable, engine, mask, parse


def restamp(
    url: str,
    revision: str,
    *,
    version_table: str = "alembic_version",
    version_table_schema: str | None = None,
    timeout: float = STAMP_TIMEOUT,
) -> tuple[str, ...]:
    """Make ``revision`` the only row of the version table (created as Alembic creates it if absent);
    returns the rows it replaced. A version table locked by a migration in progress, or a server
    that stops answering, ends the attempt after ``timeout`` seconds with nothing changed."""
    parsed = parse(url)
    shown = mask(parsed)
    eng = engine(parsed, poolclass=NullPool, connect_args=timeout_connect_args(parsed, timeout))
    try:
        with eng.begin() as conn:
            bound_waits(conn, parsed.get_backend_name(), timeout)
            meta = sa.MetaData(schema=version_table_schema)
            table = sa.Table(version_table, meta, sa.Column("version_num", sa.String(32), primary_key=True))
            table.create(conn, checkfirst=True)
            before = tuple(str(v) for v in conn.execute(sa.select(table.c.version_num)).scalars())
            conn.execute(sa.delete(table))
            conn.execute(sa.insert(table).values(version_num=revision))
            return before
    except sa.exc.DBAPIError as exc:
        raise DatabaseUnreachable(f"cannot stamp {shown}: {reason(exc, url, timeout)}") from None
    finally:
        eng.dispose()
