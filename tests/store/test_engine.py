"""Engine settings and error translation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from dealcoach.errors import ConfigError, StoreUnavailable
from dealcoach.store import Store
from dealcoach.store.engine import make_engine, normalize_url
from dealcoach.store.models import Workspace


def test_sqlite_runs_in_wal_mode_with_foreign_keys_on(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path}/x.db")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_postgres_engine_is_pooled_with_pre_ping() -> None:
    engine = make_engine("postgresql://u@localhost/db")
    assert engine.dialect.driver == "psycopg"
    assert engine.pool._pre_ping  # type: ignore[attr-defined]
    engine.dispose()


def test_async_postgres_pool_replaces_a_killed_connection_without_a_ping(
    postgres_url: str,
) -> None:
    """No `SELECT 1` per checkout on the server's pool: a pooled connection whose backend
    was terminated is noticed at checkout (its socket is readable) and replaced."""
    import asyncio
    import uuid

    import psycopg
    from sqlalchemy import event
    from tests.conftest import _libpq_url

    from dealcoach.store.engine import make_async_engine

    name = f"dc_engine_{uuid.uuid4().hex[:8]}"

    async def scenario() -> tuple[int, list[str]]:
        engine = make_async_engine(f"{postgres_url}&application_name={name}")
        assert not engine.sync_engine.pool._pre_ping  # type: ignore[attr-defined]
        sent: list[str] = []
        connects: list[int] = []
        event.listen(engine.sync_engine, "connect", lambda *_: connects.append(1))
        event.listen(
            engine.sync_engine, "before_cursor_execute", lambda _c, _cu, sql, *_: sent.append(sql)
        )
        try:
            async with engine.connect() as conn:
                assert await conn.scalar(text("SELECT 41")) == 41
            with psycopg.connect(_libpq_url(postgres_url), autocommit=True) as side:
                side.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = %s",
                    (name,),
                )
            await asyncio.sleep(0.2)
            async with engine.connect() as conn:
                assert await conn.scalar(text("SELECT 42")) == 42
        finally:
            await engine.dispose()
        return len(connects), sent

    connects, sent = asyncio.run(scenario())
    assert connects == 2  # the dead one was replaced
    assert sent == ["SELECT 41", "SELECT 42"]  # and nothing else went over the wire


def test_unknown_database_url_is_one_clear_config_error() -> None:
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        normalize_url("mysql://x/y")
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        normalize_url("not a url")


def test_unreachable_database_raises_store_unavailable() -> None:
    store = Store("postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=1")
    with pytest.raises(StoreUnavailable, match="unavailable"), store.unit_of_work() as uow:
        uow.session.execute(text("SELECT 1"))
    assert store.ping() is False


def test_unmigrated_database_says_to_run_db_upgrade(database_url: str) -> None:
    store = Store(database_url)
    with pytest.raises(StoreUnavailable, match="dealcoach db upgrade"), store.unit_of_work() as uow:
        uow.workspaces.find("slack", "T1")
    store.dispose()


def test_timestamps_come_back_utc_aware(store: Store) -> None:
    amsterdam = timezone(timedelta(hours=1))
    with store.unit_of_work() as uow:
        ws = uow.workspaces.get_or_create("slack", "T1")
        ws.created_at = datetime(2026, 11, 23, 9, 30, tzinfo=amsterdam)
        uow.commit()
        wid = ws.id
    with store.unit_of_work() as uow:
        uow.session.expire_all()
        got = uow.session.get(Workspace, wid)
        assert got is not None
        assert got.created_at == datetime(2026, 11, 23, 8, 30, tzinfo=UTC)
        assert got.created_at.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(Exception, match="naive"), store.unit_of_work() as uow:
        ws = uow.workspaces.get_or_create("slack", "T1")
        ws.created_at = datetime(2026, 1, 1)
        uow.flush()
