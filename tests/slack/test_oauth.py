"""Issue 6, part 4: the multi-workspace install, end to end against the Slack stand-in.

The real ASGI app runs on loopback with `SLACK_CLIENT_ID`/`SLACK_CLIENT_SECRET` set (and a
leftover `SLACK_BOT_TOKEN`, which OAuth mode must ignore). A browser is played with httpx:
`GET /slack/install` → Slack's authorize URL + state cookie; `GET /slack/oauth_redirect`
with the code Slack would hand back → the stand-in's `oauth.v2.access` gives that
workspace's bot token → the installation is in our database. Then signed Slack requests from
that workspace must use its token, and uninstall must delete it. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import sqlalchemy as sa
import yaml
from tests.slack.conftest import BOT_TOKEN, make_services
from tests.slack.driver import SCENARIOS, ReviewDriver, advice_messages
from tests.slack.harness import LiveServer, SlackSender
from tests.slack.mock_web_api import Call, MockSlackWebApi
from tests.slack.signing import SIGNING_SECRET

from dealcoach.config import Settings
from dealcoach.errors import DeliveryError
from dealcoach.observability import configure_logging
from dealcoach.slack.app import build_app
from dealcoach.slack.oauth import workspace_clients
from dealcoach.store import models
from dealcoach.store.engine import make_engine, migrate
from dealcoach.web import create_app

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "1234567890.0987654321"
CLIENT_SECRET = "c0ffee5ecret4oauthtests77"
PUBLIC_URL = "https://coach.example.org"
NEW_TEAM = "T_NEW"
NEW_TOKEN = "xoxb-777-888-newworkspacetoken"
NEW_CODE = "4724469134.4644010092847.code-for-t-new"
STATE_COOKIE = "slack-app-oauth-state"


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def oauth_settings(database_url: str, slack_api: MockSlackWebApi) -> Settings:
    migrate(database_url, "head")
    slack_api.set_app_credentials(CLIENT_ID, CLIENT_SECRET)
    return Settings(
        _env_file=None,
        database_url=database_url,
        slack_bot_token=BOT_TOKEN,  # left over from single-workspace mode: must be ignored
        slack_signing_secret=SIGNING_SECRET,
        slack_client_id=CLIENT_ID,
        slack_client_secret=CLIENT_SECRET,
        slack_api_url=slack_api.url,
        dealcoach_public_url=PUBLIC_URL,
        dealcoach_scheduler=False,
    )


@pytest.fixture
def server(oauth_settings: Settings) -> Iterator[LiveServer]:
    live = LiveServer(lambda: create_app(oauth_settings, make_services(oauth_settings))).start()
    yield live
    live.stop()


@pytest.fixture
def browser() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10, follow_redirects=False) as client:
        yield client


@pytest.fixture
def slack(server: LiveServer, slack_api: MockSlackWebApi) -> Iterator[SlackSender]:
    sender = SlackSender(server, secret=SIGNING_SECRET, response_url=slack_api.response_url)
    yield sender
    sender.close()


@pytest.fixture
def db(oauth_settings: Settings) -> Iterator[sa.Engine]:
    engine = make_engine(oauth_settings.database_url)
    yield engine
    engine.dispose()


# --- helpers --------------------------------------------------------------------------------


def start_install(browser: httpx.Client, server: LiveServer) -> tuple[httpx.Response, str]:
    """`GET /slack/install` → the redirect to Slack and the state it carries."""
    resp = browser.get(f"{server.url}/slack/install")
    assert resp.status_code == 302, resp.text
    state = parse_qs(urlsplit(resp.headers["location"]).query)["state"][0]
    return resp, state


def finish_install(
    browser: httpx.Client, server: LiveServer, *, code: str, state: str, cookie: str | None
) -> httpx.Response:
    """What Slack's authorize page does next: send the browser to the redirect URL."""
    headers = {"Cookie": f"{STATE_COOKIE}={cookie}"} if cookie is not None else {}
    return browser.get(
        f"{server.url}/slack/oauth_redirect",
        params={"code": code, "state": state},
        headers=headers,
    )


def install(
    browser: httpx.Client,
    server: LiveServer,
    api: MockSlackWebApi,
    team_id: str = NEW_TEAM,
    *,
    token: str = NEW_TOKEN,
    code: str = NEW_CODE,
) -> httpx.Response:
    api.add_workspace(team_id, code=code, bot_token=token)
    _, state = start_install(browser, server)
    resp = finish_install(browser, server, code=code, state=state, cookie=state)
    assert resp.status_code == 200, resp.text
    return resp


def rows(db: sa.Engine, table: sa.Table, team_id: str) -> list[dict[str, Any]]:
    with db.connect() as conn:
        result = conn.execute(sa.select(table).where(table.c.team_id == team_id))
        return [dict(r) for r in result.mappings()]


def token_rows(db: sa.Engine, team_id: str) -> int:
    return len(rows(db, models.slack_installations, team_id)) + len(
        rows(db, models.slack_bots, team_id)
    )


def wait_until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def bearer(call: Call) -> str:
    return call.headers.get("authorization", "")


def command_from(
    slack: SlackSender, team_id: str, text: str = "Globex expansion"
) -> httpx.Response:
    fields = slack.command_fields(text)
    fields.update(team_id=team_id, team_domain=team_id.lower())
    return slack.command(fields=fields)


def event_from(slack: SlackSender, team_id: str, event: dict[str, Any]) -> httpx.Response:
    payload = {
        "token": "gIkuvaNzQIHg97ATvDxqgjtO",
        "team_id": team_id,
        "api_app_id": "A0DEALCOACH",
        "event": {**event, "event_ts": f"{time.time():.6f}"},
        "type": "event_callback",
        "event_id": f"Ev{int(time.time() * 1000)}",
        "event_time": int(time.time()),
    }
    return slack.signed(json.dumps(payload), content_type="application/json")


def manifest_bot_scopes() -> list[str]:
    manifest = yaml.safe_load((ROOT / "deploy/slack/manifest.yaml").read_text("utf-8"))
    return list(manifest["oauth_config"]["scopes"]["bot"])


# --- install --------------------------------------------------------------------------------


def test_install_redirects_to_slack_with_our_client_id_scopes_and_a_state_cookie(
    server: LiveServer, browser: httpx.Client, db: sa.Engine
) -> None:
    resp, state = start_install(browser, server)

    location = urlsplit(resp.headers["location"])
    assert (location.scheme, location.netloc, location.path) == (
        "https",
        "slack.com",
        "/oauth/v2/authorize",
    )
    query = parse_qs(location.query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["scope"][0].split(",") == manifest_bot_scopes()
    assert query["redirect_uri"] == [f"{PUBLIC_URL}/slack/oauth_redirect"]
    assert not query.get("user_scope", [""])[0]
    cookie = resp.headers["set-cookie"]
    assert cookie.startswith(f"{STATE_COOKIE}={state};")
    assert "Secure" in cookie and "HttpOnly" in cookie
    # The state is in our database (any replica can finish the flow), not in memory.
    with db.connect() as conn:
        stored = conn.execute(sa.select(models.slack_oauth_states.c.state)).scalars().all()
    assert stored == [state]


def test_oauth_redirect_exchanges_the_code_through_slack_api_url_and_stores_the_installation(
    server: LiveServer, browser: httpx.Client, slack_api: MockSlackWebApi, db: sa.Engine
) -> None:
    install(browser, server, slack_api)

    exchange = slack_api.calls_to("oauth.v2.access")
    assert len(exchange) == 1
    assert exchange[0].params["code"] == NEW_CODE
    assert exchange[0].params["redirect_uri"] == f"{PUBLIC_URL}/slack/oauth_redirect"
    basic = base64.b64decode(bearer(exchange[0]).removeprefix("Basic ")).decode()
    assert basic == f"{CLIENT_ID}:{CLIENT_SECRET}"
    # Bolt asks auth.test for the new bot's id, with the new token.
    assert [bearer(c) for c in slack_api.calls_to("auth.test")] == [f"Bearer {NEW_TOKEN}"]

    (installation,) = rows(db, models.slack_installations, NEW_TEAM)
    assert installation["bot_token"] == NEW_TOKEN
    assert installation["client_id"] == CLIENT_ID
    assert installation["bot_id"] == f"BBOT{NEW_TEAM}"
    assert installation["bot_scopes"].split(",") == manifest_bot_scopes()
    (bot,) = rows(db, models.slack_bots, NEW_TEAM)
    assert bot["bot_token"] == NEW_TOKEN
    # The state was used up.
    with db.connect() as conn:
        assert (
            conn.execute(sa.select(sa.func.count()).select_from(models.slack_oauth_states)).scalar()
            == 0
        )


def test_a_command_from_the_new_workspace_is_answered_with_that_workspaces_token(
    server: LiveServer,
    browser: httpx.Client,
    slack: SlackSender,
    slack_api: MockSlackWebApi,
) -> None:
    install(browser, server, slack_api)
    slack_api.reset()

    resp = command_from(slack, NEW_TEAM)

    assert resp.status_code == 200, resp.text
    (opened,) = slack_api.wait_for("views.open", 1)
    slack_api.wait_for("views.update", 1)
    assert bearer(opened) == f"Bearer {NEW_TOKEN}"
    assert all(
        bearer(c) == f"Bearer {NEW_TOKEN}" for c in slack_api.calls if c.method != "response_url"
    )
    assert not [c for c in slack_api.calls if BOT_TOKEN in bearer(c)], "SLACK_BOT_TOKEN was used"


def test_a_full_review_runs_in_a_workspace_installed_through_oauth(
    server: LiveServer,
    browser: httpx.Client,
    slack: SlackSender,
    slack_api: MockSlackWebApi,
) -> None:
    # The payload fixtures come from workspace T0ACME: install the app there.
    acme_token = "xoxb-100-200-acmeviaoauth"
    install(browser, server, slack_api, "T0ACME", token=acme_token, code="code-for-acme")
    slack_api.reset()

    driver = ReviewDriver(slack, slack_api)
    driver.start("Acme renewal")
    driver.run(SCENARIOS["pursue"])
    (advice,) = slack_api.wait_for(
        "chat.postMessage", 1, where=lambda c: c in advice_messages(slack_api)
    )

    assert bearer(advice) == f"Bearer {acme_token}"
    assert {bearer(c) for c in slack_api.calls if c.method != "response_url"} == {
        f"Bearer {acme_token}"
    }


def test_a_workspace_that_never_installed_is_refused_without_any_token(
    server: LiveServer, slack: SlackSender, slack_api: MockSlackWebApi, db: sa.Engine
) -> None:
    resp = command_from(slack, "T_STRANGER")

    assert resp.status_code == 200
    slack_api.wait_for("response_url", 1)  # Bolt tells the user to install the app first
    time.sleep(0.2)
    assert not slack_api.calls_to("views.open")
    assert not [c for c in slack_api.calls if c.headers.get("authorization")]


# --- uninstall ------------------------------------------------------------------------------


def test_app_uninstalled_deletes_the_workspaces_tokens_and_later_commands_are_not_served(
    server: LiveServer,
    browser: httpx.Client,
    slack: SlackSender,
    slack_api: MockSlackWebApi,
    db: sa.Engine,
) -> None:
    install(browser, server, slack_api)
    install(browser, server, slack_api, "T_OTHER", token="xoxb-9-9-otherteam", code="code-other")
    assert token_rows(db, NEW_TEAM) == 2
    slack_api.revoke(NEW_TOKEN)  # what Slack does when the app is removed

    resp = event_from(slack, NEW_TEAM, {"type": "app_uninstalled"})

    assert resp.status_code == 200
    wait_until(lambda: token_rows(db, NEW_TEAM) == 0)
    assert token_rows(db, "T_OTHER") == 2, "another workspace's install was touched"

    slack_api.reset()
    resp = command_from(slack, NEW_TEAM)
    assert resp.status_code == 200
    slack_api.wait_for("response_url", 1)
    time.sleep(0.2)
    assert not slack_api.calls_to("views.open")
    assert not [c for c in slack_api.calls if NEW_TOKEN in bearer(c)], "the old token was used"

    # The other workspace keeps working.
    resp = command_from(slack, "T_OTHER")
    (opened,) = slack_api.wait_for("views.open", 1)
    assert bearer(opened) == "Bearer xoxb-9-9-otherteam"


def test_tokens_revoked_for_the_bot_deletes_the_workspaces_tokens(
    server: LiveServer,
    browser: httpx.Client,
    slack: SlackSender,
    slack_api: MockSlackWebApi,
    db: sa.Engine,
) -> None:
    install(browser, server, slack_api)

    event = {"type": "tokens_revoked", "tokens": {"bot": [f"UBOT{NEW_TEAM}"]}}
    resp = event_from(slack, NEW_TEAM, event)

    assert resp.status_code == 200
    wait_until(lambda: token_rows(db, NEW_TEAM) == 0)


def test_uninstall_in_single_workspace_mode_is_acknowledged(
    live: LiveServer, slack_api: MockSlackWebApi
) -> None:
    sender = SlackSender(live, secret=SIGNING_SECRET, response_url=slack_api.response_url)
    try:
        resp = event_from(sender, "T0ACME", {"type": "app_uninstalled"})
    finally:
        sender.close()
    assert resp.status_code == 200


# --- refused flows --------------------------------------------------------------------------


def test_a_state_that_was_never_issued_is_refused(
    server: LiveServer, browser: httpx.Client, slack_api: MockSlackWebApi, db: sa.Engine
) -> None:
    slack_api.add_workspace(NEW_TEAM, code=NEW_CODE, bot_token=NEW_TOKEN)
    forged = "0b3c1d2e-forged-state"

    resp = finish_install(browser, server, code=NEW_CODE, state=forged, cookie=forged)

    assert resp.status_code == 401
    assert not slack_api.calls_to("oauth.v2.access")
    assert token_rows(db, NEW_TEAM) == 0


def test_a_state_without_its_browser_cookie_is_refused(
    server: LiveServer, browser: httpx.Client, slack_api: MockSlackWebApi, db: sa.Engine
) -> None:
    slack_api.add_workspace(NEW_TEAM, code=NEW_CODE, bot_token=NEW_TOKEN)
    _, state = start_install(browser, server)

    no_cookie = finish_install(browser, server, code=NEW_CODE, state=state, cookie=None)
    other_cookie = finish_install(browser, server, code=NEW_CODE, state=state, cookie="other")

    assert (no_cookie.status_code, other_cookie.status_code) == (400, 400)
    assert not slack_api.calls_to("oauth.v2.access")
    assert token_rows(db, NEW_TEAM) == 0


def test_an_expired_state_is_refused(
    server: LiveServer, browser: httpx.Client, slack_api: MockSlackWebApi, db: sa.Engine
) -> None:
    slack_api.add_workspace(NEW_TEAM, code=NEW_CODE, bot_token=NEW_TOKEN)
    _, state = start_install(browser, server)
    with db.begin() as conn:  # eleven minutes later
        table = models.slack_oauth_states
        conn.execute(
            table.update().values(expire_at=table.c.expire_at - sa.text("INTERVAL '11 minutes'"))
            if db.dialect.name == "postgresql"
            else table.update().values(expire_at=sa.func.datetime(table.c.expire_at, "-11 minutes"))
        )

    resp = finish_install(browser, server, code=NEW_CODE, state=state, cookie=state)

    assert resp.status_code == 401
    assert not slack_api.calls_to("oauth.v2.access")
    assert token_rows(db, NEW_TEAM) == 0


def test_a_state_cannot_be_used_twice(
    server: LiveServer, browser: httpx.Client, slack_api: MockSlackWebApi
) -> None:
    slack_api.add_workspace(NEW_TEAM, code=NEW_CODE, bot_token=NEW_TOKEN)
    _, state = start_install(browser, server)
    first = finish_install(browser, server, code=NEW_CODE, state=state, cookie=state)

    replay = finish_install(browser, server, code=NEW_CODE, state=state, cookie=state)

    assert (first.status_code, replay.status_code) == (200, 401)
    assert len(slack_api.calls_to("oauth.v2.access")) == 1


def test_a_code_slack_refuses_stores_nothing(
    server: LiveServer, browser: httpx.Client, slack_api: MockSlackWebApi, db: sa.Engine
) -> None:
    _, state = start_install(browser, server)

    resp = finish_install(browser, server, code="not-a-code", state=state, cookie=state)

    assert resp.status_code == 401
    assert [c.params["code"] for c in slack_api.calls_to("oauth.v2.access")] == ["not-a-code"]
    with db.connect() as conn:
        count = sa.select(sa.func.count()).select_from(models.slack_installations)
        assert conn.execute(count).scalar() == 0


def test_a_flow_started_on_one_replica_finishes_on_another(
    oauth_settings: Settings,
    server: LiveServer,
    browser: httpx.Client,
    slack_api: MockSlackWebApi,
    db: sa.Engine,
) -> None:
    slack_api.add_workspace(NEW_TEAM, code=NEW_CODE, bot_token=NEW_TOKEN)
    other = LiveServer(lambda: create_app(oauth_settings, make_services(oauth_settings))).start()
    try:
        _, state = start_install(browser, server)
        resp = finish_install(browser, other, code=NEW_CODE, state=state, cookie=state)
    finally:
        other.stop()
    assert resp.status_code == 200
    assert token_rows(db, NEW_TEAM) == 2


# --- tokens outside a request ---------------------------------------------------------------


def test_workspace_clients_gives_each_installed_workspace_its_own_token(
    oauth_settings: Settings,
    server: LiveServer,
    browser: httpx.Client,
    slack_api: MockSlackWebApi,
    settings: Settings,
) -> None:
    install(browser, server, slack_api)

    async def check() -> None:
        services = make_services(oauth_settings)
        try:
            client_for = workspace_clients(build_app(oauth_settings, services))
            assert client_for is not None
            client = await client_for(NEW_TEAM)
            assert client.token == NEW_TOKEN
            assert client.base_url == slack_api.url
            with pytest.raises(DeliveryError, match="T_NOWHERE"):
                await client_for("T_NOWHERE")
            single = make_services(settings)
            try:
                assert workspace_clients(build_app(settings, single)) is None
            finally:
                await single.aclose()
        finally:
            await services.aclose()

    asyncio.run(check())


# --- logs -----------------------------------------------------------------------------------


class _RawRecords(logging.Handler):
    """Every record as logged, before any redaction (added before the redacting handler)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(("httpx", "httpcore")):
            return  # the test's own browser (the app's Web API client is aiohttp)
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.lines.append(f"{record.name}: {text} {record.__dict__}")


def test_the_install_and_uninstall_flow_logs_no_token_secret_code_or_state(
    oauth_settings: Settings,
    server: LiveServer,
    browser: httpx.Client,
    slack: SlackSender,
    slack_api: MockSlackWebApi,
    db: sa.Engine,
) -> None:
    root = logging.getLogger()
    saved_level, saved_handlers = root.level, list(root.handlers)
    raw = _RawRecords()
    root.addHandler(raw)
    stream = io.StringIO()
    configure_logging(oauth_settings, level="DEBUG", json_format=True, stream=stream)
    try:
        slack_api.add_workspace(NEW_TEAM, code=NEW_CODE, bot_token=NEW_TOKEN)
        _, state = start_install(browser, server)
        finish_install(browser, server, code=NEW_CODE, state=state, cookie=state)
        _, bad_state = start_install(browser, server)
        finish_install(browser, server, code="refused-code", state=bad_state, cookie=bad_state)
        command_from(slack, NEW_TEAM)
        slack_api.wait_for("views.update", 1)
        event_from(slack, NEW_TEAM, {"type": "app_uninstalled"})
        wait_until(lambda: token_rows(db, NEW_TEAM) == 0)
        command_from(slack, NEW_TEAM)
        slack_api.wait_for("response_url", 1)
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)

    output = stream.getvalue()
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    messages = [r["message"] for r in lines]
    assert any("slack workspace installed" in m for m in messages)
    assert any("slack install refused: invalid_code" in m for m in messages)
    assert any("slack workspace uninstalled" in m for m in messages)
    for secret in (NEW_TOKEN, CLIENT_SECRET, SIGNING_SECRET, BOT_TOKEN, NEW_CODE, state):
        assert secret not in output, f"{secret!r} reached the configured log"
    # Not only redacted on the way out: nothing at INFO or above logs them in the first place.
    for secret in (NEW_TOKEN, CLIENT_SECRET, SIGNING_SECRET, BOT_TOKEN, NEW_CODE, state):
        leaks = [line for line in raw.lines if secret in line]
        assert not leaks, f"{secret!r} was logged: {leaks[:2]}"
