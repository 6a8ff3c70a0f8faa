"""Fixtures for the Slack tests: the Web API stand-in, settings, and the live ASGI server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from tests.slack.harness import LiveServer, SlackSender
from tests.slack.mock_web_api import MockSlackWebApi
from tests.slack.signing import SIGNING_SECRET

from dealcoach.config import Settings

BOT_TOKEN = "xoxb-1234-5678-dealcoachtest"


@pytest.fixture
def slack_api() -> Iterator[MockSlackWebApi]:
    with MockSlackWebApi() as api:
        yield api


def make_settings(database_url: str, slack_api: MockSlackWebApi, **extra: Any) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack_api.url,
        dealcoach_scheduler=False,
        **extra,
    )


def make_services(settings: Settings) -> Any:
    from dealcoach.bootstrap import build_services

    return build_services(settings, migrate_sqlite=False)


@pytest.fixture
def settings(
    database_url: str, slack_api: MockSlackWebApi, migrate_head: Callable[[str], None]
) -> Settings:
    migrate_head(database_url)  # = migrate(database_url, "head"), from the session's template
    return make_settings(database_url, slack_api)


@pytest.fixture
def app_factory(settings: Settings) -> Callable[[], Any]:
    from dealcoach.web import create_app

    return lambda: create_app(settings, make_services(settings))


@pytest.fixture
def live(app_factory: Callable[[], Any]) -> Iterator[LiveServer]:
    server = LiveServer(app_factory).start()
    yield server
    server.stop()


@pytest.fixture
def slack(live: LiveServer, slack_api: MockSlackWebApi) -> Iterator[SlackSender]:
    sender = SlackSender(live, secret=SIGNING_SECRET, response_url=slack_api.response_url)
    yield sender
    sender.close()
