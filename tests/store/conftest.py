"""Fresh report store per test: a tmp SQLite file, and the same tests on a fresh PostgreSQL
database (marked ``postgres``; skipped with the reason when the server is unreachable)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.store import Store

PG_HOST = os.environ.get("BOSAI_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("BOSAI_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("BOSAI_TEST_PG_USER", "postgres")


def _pg_admin():
    import psycopg2

    conn = psycopg2.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", connect_timeout=3
    )
    conn.autocommit = True
    return conn


@pytest.fixture
def pg_url() -> Iterator[str]:
    """URL of a fresh PostgreSQL database, dropped after the test."""
    try:
        admin = _pg_admin()
    except Exception as exc:  # psycopg2.OperationalError, missing driver
        pytest.skip(f"PostgreSQL not reachable on {PG_HOST}:{PG_PORT} as {PG_USER}: {exc}")
    name = f"bosai_test_{uuid.uuid4().hex[:12]}"
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg2://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


# The two databases a store test runs on (``request.param`` of a fixture using fresh_store).
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def fresh_store(request: pytest.FixtureRequest, tmp_path: Path, secret: bytes) -> Iterator[Store]:
    """A migrated store on a tmp SQLite file or, for the ``postgres`` param, on a fresh PostgreSQL
    database (the ``pg_url`` fixture); disposed after the test. For fixtures parametrised with
    :data:`BACKENDS`: ``yield from fresh_store(request, tmp_path, b"...")``."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'reports.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    s = Store(url, photo_dir=tmp_path / "photos", secret=secret)
    s.upgrade()
    yield s
    s.dispose()


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    yield from fresh_store(request, tmp_path, b"test-secret")
