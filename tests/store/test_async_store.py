"""The async store on SQLite: concurrent transactions queue in arrival order, none is lost."""

from __future__ import annotations

import asyncio

from tests.store.conftest import make_person

from dealcoach.store.uow import AsyncStore, UnitOfWork


def _name_deal(uow: UnitOfWork, index: int) -> int:
    person = make_person(uow)
    return uow.deals.get_or_create(person, f"deal {index:03d}").id


async def _many(url: str, count: int) -> list[int]:
    store = AsyncStore(url)
    try:
        # Each task is created (and reaches the store) in order; all run at once.
        return list(await asyncio.gather(*(store.run(_name_deal, i) for i in range(count))))
    finally:
        await store.engine.dispose()


def test_concurrent_sqlite_transactions_are_served_in_arrival_order(migrated_url: str) -> None:
    ids = asyncio.run(_many(migrated_url, 30))
    assert len(set(ids)) == 30  # every transaction committed its own row
    if migrated_url.startswith("sqlite"):
        # One writer at a time, first come first served (no busy-handler lottery).
        assert ids == sorted(ids)
