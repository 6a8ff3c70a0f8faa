"""Shared test fixtures.

`database_url` gives each test an empty database of its own, on SQLite and — when
`DEALCOACH_TEST_POSTGRES_URL` is set (`.ci/run` sets it) — on PostgreSQL too. PostgreSQL
isolation is a fresh schema per test (selected through libpq's `search_path` option in the
URL), dropped afterwards, so tests (and the processes they start) never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest

PG_ENV = "DEALCOACH_TEST_POSTGRES_URL"
PG_SKIP_REASON = (
    f"{PG_ENV} is not set, so the PostgreSQL variant is skipped "
    "(.ci/run sets it to postgresql+psycopg://postgres@127.0.0.1:5432/test)"
)


def postgres_base_url() -> str | None:
    return os.environ.get(PG_ENV) or None


def _libpq_url(sqlalchemy_url: str) -> str:
    # psycopg.connect() wants a plain libpq URL, without SQLAlchemy's "+driver".
    return sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1)


def create_pg_schema(base_url: str) -> tuple[str, str]:
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(_libpq_url(base_url), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in base_url else "?"
    return schema, f"{base_url}{sep}options={quote(f'-csearch_path={schema}')}"


def drop_pg_schema(base_url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(_libpq_url(base_url), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An empty database for this test: SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "dealcoach.db"
        yield f"sqlite:///{path}"
        return
    base = postgres_base_url()
    if base is None:
        pytest.skip(PG_SKIP_REASON)
    schema, url = create_pg_schema(base)
    try:
        yield url
    finally:
        drop_pg_schema(base, schema)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL schema only (for tests that are about PostgreSQL behaviour)."""
    base = postgres_base_url()
    if base is None:
        pytest.skip(PG_SKIP_REASON)
    schema, url = create_pg_schema(base)
    try:
        yield url
    finally:
        drop_pg_schema(base, schema)
