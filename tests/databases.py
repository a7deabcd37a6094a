"""Real throwaway databases for tests: SQLite files, PostgreSQL and MariaDB databases created and dropped.

Servers come from MA_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres) and
MA_TEST_MYSQL_URL (default mysql+pymysql://root@127.0.0.1:3306/test). An unreachable server skips
the test, except with MA_REQUIRE_DBS=1 (set by .ci/run), where it fails it.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa

POSTGRES_SERVER = os.environ.get("MA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
MYSQL_SERVER = os.environ.get("MA_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
KINDS = ("sqlite", "postgresql", "mysql")


def driver_url(url: str) -> sa.URL:
    """psycopg 3 for plain postgresql:// URLs (SQLAlchemy would pick psycopg2)."""
    parsed = sa.make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _unavailable(kind: str, exc: Exception) -> None:
    message = f"{kind} server unreachable: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    if os.environ.get("MA_REQUIRE_DBS") == "1":
        pytest.fail(message + " (MA_REQUIRE_DBS=1: database tests must run)")
    pytest.skip(message)


def _server_engine(server: str) -> sa.Engine:
    return sa.create_engine(driver_url(server), isolation_level="AUTOCOMMIT", pool_pre_ping=True)


def create_database(kind: str, tmp_path: Path) -> str:
    """A new, empty database of ``kind``; returns its URL (plain driver names, as users write them)."""
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / f'db-{uuid.uuid4().hex[:8]}.sqlite'}"
    server = POSTGRES_SERVER if kind == "postgresql" else MYSQL_SERVER
    name = f"ma_test_{uuid.uuid4().hex[:12]}"
    try:
        engine = _server_engine(server)
        with engine.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE {name}"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server
        _unavailable(kind, exc)
    return sa.make_url(server).set(database=name).render_as_string(hide_password=False)


def drop_database(kind: str, url: str) -> None:
    if kind == "sqlite":
        Path(sa.make_url(url).database or "").unlink(missing_ok=True)
        return
    server = POSTGRES_SERVER if kind == "postgresql" else MYSQL_SERVER
    name = sa.make_url(url).database
    engine = _server_engine(server)
    with engine.connect() as conn:
        if kind == "postgresql":
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        else:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
    engine.dispose()


@pytest.fixture(params=KINDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(kind, url) of a fresh database, once per backend; dropped afterwards."""
    kind = request.param
    url = create_database(kind, tmp_path)
    try:
        yield kind, url
    finally:
        drop_database(kind, url)


@pytest.fixture
def postgres_database(tmp_path: Path) -> Iterator[str]:
    url = create_database("postgresql", tmp_path)
    try:
        yield url
    finally:
        drop_database("postgresql", url)


@pytest.fixture
def mysql_database(tmp_path: Path) -> Iterator[str]:
    url = create_database("mysql", tmp_path)
    try:
        yield url
    finally:
        drop_database("mysql", url)
