# ruff: noqa: F811 - pytest fixtures imported from test_oauth are used as arguments
"""The OAuth install paths against anonymous use (issue #11, items 1 and 11): anonymous
`GET /slack/install` leaves one state row each, which `dealcoach prune` removes once expired;
the redirect's `error` parameter (anyone's text) is not copied into the log."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa
from tests.slack.harness import LiveServer
from tests.slack.test_oauth import (  # noqa: F401 - fixtures, re-exported for pytest
    browser,
    db,
    oauth_settings,
    server,
    start_install,
)

from dealcoach.config import Settings
from dealcoach.services.privacy import prune_drafts
from dealcoach.store import Store
from dealcoach.store.models import slack_oauth_states


@pytest.fixture
def store(oauth_settings: Settings) -> Iterator[Store]:
    s = Store(oauth_settings.database_url)
    yield s
    s.dispose()


def _states(db: sa.Engine) -> int:
    with db.connect() as conn:
        return int(conn.scalar(sa.select(sa.func.count()).select_from(slack_oauth_states)) or 0)


def test_prune_removes_the_expired_states_of_abandoned_install_links(
    server: LiveServer, browser: httpx.Client, db: sa.Engine, store: Store
) -> None:
    for _ in range(25):  # anonymous visitors open the install link and never finish
        start_install(browser, server)
    assert _states(db) == 25
    assert prune_drafts(store, 30).oauth_states == 0  # not expired yet: kept
    with db.begin() as conn:  # ten minutes later (STATE_EXPIRATION_SECONDS = 600)
        conn.execute(
            sa.update(slack_oauth_states).values(
                expire_at=slack_oauth_states.c.expire_at - sa.text("interval '11 minutes'")
                if db.dialect.name == "postgresql"
                else sa.func.datetime(slack_oauth_states.c.expire_at, "-11 minutes")
            )
        )
    _, live_state = start_install(browser, server)  # one link still in use
    assert prune_drafts(store, 30).oauth_states == 25
    with db.connect() as conn:
        assert list(conn.scalars(sa.select(slack_oauth_states.c.state))) == [live_state]


def test_the_redirects_error_parameter_is_not_logged(
    server: LiveServer, browser: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="dealcoach")
    hostile = "access_denied\n2026-01-01 CRITICAL forged line " + "x" * 5000
    resp = browser.get(f"{server.url}/slack/oauth_redirect", params={"error": hostile})
    assert resp.status_code < 500
    refused = [r.getMessage() for r in caplog.records if "install refused" in r.getMessage()]
    assert refused, [r.getMessage()[:100] for r in caplog.records]
    assert all("forged" not in m and len(m) < 200 for m in refused), refused
