"""Fixtures for the Teams adapter tests: the loopback Bot Connector stand-in (every Adaptive
Card the bot sends through it is checked against the official schema), a migrated database,
and the real ASGI app (`web.create_app`) served by uvicorn on loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from tests.teams.card_schema import card_problems
from tests.teams.connector_stub import ConnectorStub

from dealcoach.config import Settings

CARD_VERSION = "1.5"


@pytest.fixture
def connector() -> Iterator[ConnectorStub]:
    stub = ConnectorStub().start()
    try:
        yield stub
        problems = [
            f"card {index}: {problem}"
            for index, sent in enumerate(stub.cards())
            for problem in card_problems(sent, CARD_VERSION)
        ]
        assert not problems, "the bot sent invalid Adaptive Cards:\n" + "\n".join(problems)
    finally:
        stub.stop()


def make_settings(database_url: str, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        # Slack is mounted on the same app; it never gets a request in these tests.
        "slack_bot_token": "xoxb-1234-5678-teamstests",
        "slack_signing_secret": "8f742231b10e8888abcd99yyyzzz85a5",
        "slack_api_url": "http://127.0.0.1:9/api/",
        "dealcoach_scheduler": False,
        "teams_allow_anonymous": True,
        # The loopback Connector stand-in is the only Bot Connector these tests talk to.
        "teams_service_url_hosts": "127.0.0.1",
    }
    values.update(extra)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def migrated_url(database_url: str, migrate_head: Callable[[str], None]) -> str:
    migrate_head(database_url)  # = migrate(database_url, "head"), from the session's template
    return database_url


@pytest.fixture
def live(migrated_url: str, connector: ConnectorStub) -> Iterator[Any]:
    """The real ASGI app (Slack + Teams on one app) served by uvicorn on loopback."""
    from tests.slack.harness import LiveServer

    from dealcoach.bootstrap import build_services
    from dealcoach.web import create_app

    settings = make_settings(migrated_url)
    services = build_services(settings, migrate_sqlite=False)
    server = LiveServer(lambda: create_app(settings, services)).start()
    try:
        yield server
    finally:
        server.stop()
        services.close()
