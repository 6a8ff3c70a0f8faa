"""The CRM link end to end over signed Slack HTTP (the real ASGI app on loopback, the Slack
Web API stand-in, the HubSpot / Salesforce stand-ins): connect, pick a deal in the first
step (options within 3 s), prefill, review, Save to CRM twice (one note), revoke → the
review goes on and the rep is told in one line. No secret in the logs or in /metrics."""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from tests.crm.conftest import SECRET_KEY
from tests.crm.standins import HubSpotStandIn, SalesforceStandIn
from tests.slack.driver import BASE, USER, ReviewDriver, advice_messages, sent_view, validate_blocks
from tests.slack.harness import LiveServer, SlackSender, load_payload
from tests.slack.mock_web_api import MockSlackWebApi
from tests.slack.signing import SIGNING_SECRET, interactive_body

from dealcoach.config import Settings

SECOND_PERSON = {
    "agenda.2.role": "technical",
    "agenda.2.interests": ["easier_life"],
    "agenda.2.certainty": "assumed",
    "agenda.2.translation": "Less on-call work",
    "agenda.2.new_in_role": "no",
    "agenda.2.competitor_relationship": "no",
}


@pytest.fixture
def slack_api() -> Iterator[MockSlackWebApi]:
    with MockSlackWebApi() as api:
        yield api


def _settings(database_url: str, api: MockSlackWebApi, hubspot_url: str) -> Settings:
    from tests.slack.conftest import make_settings

    from dealcoach.store.engine import migrate

    migrate(database_url, "head")
    return make_settings(
        database_url, api, dealcoach_secret_key=SECRET_KEY, dealcoach_hubspot_url=hubspot_url,
        dealcoach_admins=[USER],
    )


@pytest.fixture
def server_for(
    database_url: str, slack_api: MockSlackWebApi
) -> Iterator[Callable[[str], tuple[LiveServer, SlackSender]]]:
    started: list[tuple[LiveServer, SlackSender]] = []

    def start(hubspot_url: str) -> tuple[LiveServer, SlackSender]:
        from tests.slack.conftest import make_services

        from dealcoach.slack.listeners import crm as crm_listener
        from dealcoach.web import create_app

        crm_listener._providers.clear()
        settings = _settings(database_url, slack_api, hubspot_url)
        live = LiveServer(lambda: create_app(settings, make_services(settings))).start()
        sender = SlackSender(live, secret=SIGNING_SECRET, response_url=slack_api.response_url)
        started.append((live, sender))
        return live, sender

    yield start
    for live, sender in started:
        sender.close()
        live.stop()


def _replies(api: MockSlackWebApi) -> list[str]:
    return [str(c.params.get("text")) for c in api.calls_to("response_url")]


def _wait_reply(api: MockSlackWebApi, count: int) -> str:
    api.wait_for("response_url", count, timeout=10)
    return _replies(api)[count - 1]


def options(slack: SlackSender, view: dict[str, Any], query: str) -> tuple[list[Any], float]:
    payload = {
        "type": "block_suggestion",
        "user": {"id": USER, "username": "sam", "name": "sam", "team_id": "T0ACME"},
        "team": {"id": "T0ACME", "domain": "acme"},
        "api_app_id": "A0DEALCOACH",
        "token": "x",
        "container": {"type": "view", "view_id": view["id"]},
        "action_id": "crm_deal_pick",
        "block_id": "crm_deal",
        "value": query,
        "view": {**copy.deepcopy(view), "state": {"values": {}}},
    }
    started = time.monotonic()
    resp = slack.signed(interactive_body(payload))
    took = time.monotonic() - started
    assert resp.status_code == 200, resp.text
    return resp.json()["options"], took


def pick(slack: SlackSender, view: dict[str, Any], deal_id: str, label: str) -> httpx.Response:
    payload = load_payload("block_actions_view")
    current = payload["view"]
    current.update(copy.deepcopy(view))
    current["state"] = {"values": {}}
    payload["container"]["view_id"] = view["id"]
    payload["actions"] = [{
        "type": "external_select", "block_id": "crm_deal", "action_id": "crm_deal_pick",
        "selected_option": {"text": {"type": "plain_text", "text": label}, "value": deal_id},
        "action_ts": "1548426417.840180",
    }]
    return slack.signed(interactive_body(payload))


def _initial(view: dict[str, Any], block_id: str) -> Any:
    for block in view["blocks"]:
        if block.get("block_id") == block_id:
            element = block["element"]
            if "initial_option" in element:
                return element["initial_option"]["value"]
            return element.get("initial_value")
    raise AssertionError(f"no block {block_id}")


def _save_button(message: Any) -> dict[str, Any]:
    for block in message.json_param("blocks"):
        for element in block.get("elements") or []:
            if element.get("action_id") == "crm_save":
                return dict(element)
    raise AssertionError("no Save to CRM button on the advice")


def _review_with_pick(
    slack: SlackSender, api: MockSlackWebApi, deal_id: str, label: str,
    driver: ReviewDriver | None = None,
) -> tuple[ReviewDriver, dict[str, Any]]:
    if driver is None:
        driver = ReviewDriver(slack, api)
        driver.start("")
    assert driver.view is not None
    view = driver.view
    assert any(b.get("block_id") == "crm_deal" for b in view["blocks"])
    before = len(api.calls_to("views.update"))
    assert pick(slack, view, deal_id, label).status_code == 200
    updated = sent_view(api.wait_for("views.update", before + 1, timeout=10)[-1])
    driver.view = {**updated, "id": view["id"]}
    return driver, updated


def test_hubspot_connect_pick_prefill_review_save_twice_then_revoke(
    server_for: Callable[[str], tuple[LiveServer, SlackSender]],
    slack_api: MockSlackWebApi,
    hubspot: HubSpotStandIn,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    live, slack = server_for(hubspot.url)
    assert slack.command(f"crm connect hubspot {hubspot.token}").status_code == 200
    assert "HubSpot is connected" in _wait_reply(slack_api, 1)

    driver = ReviewDriver(slack, slack_api)
    view = driver.start("")
    found, took = options(slack, view, "acme")
    assert took < 3.0
    assert [o["value"] for o in found] == ["101"]

    driver, updated = _review_with_pick(
        slack, slack_api, "101", found[0]["text"]["text"], driver
    )
    assert _initial(updated, "deal.name") == "Acme renewal"
    assert _initial(updated, "deal.account") == "Acme Corp"
    assert _initial(updated, "deal.value") == "48000"
    assert _initial(updated, "deal.stage") == "proposal"
    notice = next(b for b in updated["blocks"] if b.get("block_id") == "crm_notice")
    assert "Ann Buyer (CFO)" in notice["elements"][0]["text"]

    # The rep types none of the deal's name, amount, stage or people.
    answers = {k: v for k, v in BASE.items() if not k.startswith("deal.")
               and k != "agenda.1.who"}
    driver.run({**answers, **SECOND_PERSON})
    [advice] = advice_messages(slack_api)
    validate_blocks(advice.json_param("blocks"))
    review_id = _save_button(advice)["value"]

    slack.message_action("crm_save", value=review_id)  # the advice's Save to CRM
    assert "Saved to HubSpot as a note on Acme renewal" in _wait_reply(slack_api, 2)
    slack.command(f"crm save {review_id}")
    assert "Updated the note" in _wait_reply(slack_api, 3)
    [note] = hubspot.notes_on("101")
    assert "Recommendation" in note["properties"]["hs_note_body"]

    # Revoked: the picker says so in one line, the review goes on, Save reports failure.
    hubspot.revoked = True
    driver2 = ReviewDriver(slack, slack_api)
    view2 = driver2.start("")
    failed, took = options(slack, view2, "")
    assert took < 3.0 and "type the deal yourself" in failed[0]["text"]["text"]
    before = len(slack_api.calls_to("views.update"))
    pick(slack, view2, "101", "Acme renewal")
    shown = sent_view(slack_api.wait_for("views.update", before + 1, timeout=10)[-1])
    notice = next(b for b in shown["blocks"] if b.get("block_id") == "crm_notice")
    assert "access refused" in notice["elements"][0]["text"]
    assert _initial(shown, "deal.name") in (None, "")
    slack.message_action("crm_save", value=review_id)  # the advice's Save to CRM
    assert "Could not save to HubSpot" in _wait_reply(slack_api, 4)
    assert len(hubspot.notes_on("101")) == 1

    metrics = httpx.get(f"{live.url}/metrics").text
    for secret in (hubspot.token, SECRET_KEY):
        assert secret not in caplog.text
        assert secret not in metrics


def test_salesforce_pick_and_save_a_task_once(
    server_for: Callable[[str], tuple[LiveServer, SlackSender]],
    slack_api: MockSlackWebApi,
    salesforce: SalesforceStandIn,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    _, slack = server_for("http://127.0.0.1:9")
    s = salesforce
    slack.command(
        f"crm connect salesforce {s.username} {s.password}{s.security_token} "
        f"{s.consumer_key} {s.consumer_secret} <{s.url}>"
    )
    assert "Salesforce is connected" in _wait_reply(slack_api, 1)
    driver, updated = _review_with_pick(slack, slack_api, "006000000000001AAA", "Initech")
    assert _initial(updated, "deal.stage") == "negotiation"
    answers = {k: v for k, v in BASE.items() if not k.startswith("deal.")
               and k != "agenda.1.who"}
    driver.run({**answers, **SECOND_PERSON})
    [advice] = advice_messages(slack_api)
    value = _save_button(advice)["value"]
    slack.message_action("crm_save", value=value)
    assert "Saved to Salesforce" in _wait_reply(slack_api, 2)
    slack.command("crm save")
    assert "Updated the note" in _wait_reply(slack_api, 3)
    assert len(s.tasks_on("006000000000001AAA")) == 1
    for secret in (s.password, s.consumer_secret, s.security_token):
        assert secret not in caplog.text


def test_uninstalling_the_app_deletes_the_crm_credentials(
    server_for: Callable[[str], tuple[LiveServer, SlackSender]],
    slack_api: MockSlackWebApi,
    hubspot: HubSpotStandIn,
    database_url: str,
) -> None:
    import json

    from sqlalchemy import text
    from tests.slack.signing import signed_headers

    from dealcoach.store import Store

    _, slack = server_for(hubspot.url)
    slack.command(f"crm connect hubspot {hubspot.token}")
    assert "HubSpot is connected" in _wait_reply(slack_api, 1)
    body = json.dumps({
        "token": "x", "team_id": "T0ACME", "api_app_id": "A0DEALCOACH",
        "event": {"type": "app_uninstalled"}, "type": "event_callback",
        "event_id": "Ev0UNINSTALL", "event_time": int(time.time()),
    })
    resp = slack.post(body, signed_headers(body, content_type="application/json",
                                           secret=SIGNING_SECRET))
    assert resp.status_code == 200
    store = Store(database_url)
    try:
        deadline = time.monotonic() + 5
        while store.run(lambda uow: uow.session.execute(
                text("SELECT count(*) FROM crm_connection")).scalar_one()):
            assert time.monotonic() < deadline, "credentials kept after the uninstall"
            time.sleep(0.05)
    finally:
        store.dispose()


def test_only_admins_connect(
    server_for: Callable[[str], tuple[LiveServer, SlackSender]],
    slack_api: MockSlackWebApi,
    hubspot: HubSpotStandIn,
) -> None:
    _, slack = server_for(hubspot.url)
    slack.command(f"crm connect hubspot {hubspot.token}", user="U0NOTADMIN")
    assert "Only workspace admins" in _wait_reply(slack_api, 1)
    slack.command("crm")
    assert "No CRM is connected" in _wait_reply(slack_api, 2)


def test_a_slow_or_rate_limited_crm_still_answers_the_picker_within_3_seconds(
    server_for: Callable[[str], tuple[LiveServer, SlackSender]],
    slack_api: MockSlackWebApi,
    hubspot: HubSpotStandIn,
) -> None:
    _, slack = server_for(hubspot.url)
    slack.command(f"crm connect hubspot {hubspot.token}")
    assert "HubSpot is connected" in _wait_reply(slack_api, 1)
    view = ReviewDriver(slack, slack_api).start("")
    hubspot.search_delay = 5.0
    slow, took = options(slack, view, "acme")
    assert took < 3.0
    assert "HubSpot is not answering right now" in slow[0]["text"]["text"]
    hubspot.search_delay = 0.0
    hubspot.faults.status, hubspot.faults.times, hubspot.faults.retry_after = 429, 1, "10"
    limited, took = options(slack, view, "acme")
    assert took < 3.0 and limited[0]["value"] == "-"
    found, _ = options(slack, view, "acme")
    assert [o["value"] for o in found] == ["101"]
