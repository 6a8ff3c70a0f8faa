"""Store fixtures: a migrated database per test (SQLite and PostgreSQL via `database_url`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from dealcoach.store import Store
from dealcoach.store.models import Person, Workspace
from dealcoach.store.uow import UnitOfWork


@pytest.fixture
def migrated_url(database_url: str, migrate_head: Callable[[str], None]) -> str:
    migrate_head(database_url)  # = migrate(database_url, "head"), from the session's template
    return database_url


@pytest.fixture
def store(migrated_url: str) -> Iterator[Store]:
    s = Store(migrated_url)
    try:
        yield s
    finally:
        s.dispose()


def make_person(uow: UnitOfWork, user_id: str = "U1", workspace: str = "T1") -> Person:
    ws: Workspace = uow.workspaces.get_or_create("slack", workspace, name="Acme")
    return uow.people.get_or_create(ws, user_id, display_name=user_id.lower())
