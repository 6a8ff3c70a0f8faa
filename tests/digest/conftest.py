"""Digest fixtures: a migrated store per test (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

# The Slack harness (Web API stand-in, live ASGI app, signed requests) for test_slack_manager.
from tests.slack.conftest import app_factory, live, settings, slack, slack_api  # noqa: F401

from dealcoach.store import Store, migrate


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    migrate(database_url, "head")
    s = Store(database_url)
    try:
        yield s
    finally:
        s.dispose()
