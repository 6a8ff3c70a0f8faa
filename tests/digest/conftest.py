"""Digest fixtures: a migrated store per test (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

# The Slack harness (Web API stand-in, live ASGI app, signed requests) for test_slack_manager.
from tests.slack.conftest import app_factory, live, settings, slack, slack_api  # noqa: F401

from dealcoach.store import Store


@pytest.fixture
def store(database_url: str, migrate_head: Callable[[str], None]) -> Iterator[Store]:
    migrate_head(database_url)  # = migrate(database_url, "head"), from the session's template
    s = Store(database_url)
    try:
        yield s
    finally:
        s.dispose()
