"""The database fixtures themselves: each backend really creates and drops a database."""

from __future__ import annotations

import sqlalchemy as sa

from databases import driver_url


def test_fresh_database_is_empty_and_writable(database: tuple[str, str]) -> None:
    kind, url = database
    engine = sa.create_engine(driver_url(url))
    with engine.begin() as conn:
        assert sa.inspect(conn).get_table_names() == []
        conn.execute(sa.text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
    with engine.connect() as conn:
        assert sa.inspect(conn).get_table_names() == ["t"]
    engine.dispose()
