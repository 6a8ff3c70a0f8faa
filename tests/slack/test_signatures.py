"""Every request into /slack/events must carry Slack's v0 signature; nothing else gets in."""

from __future__ import annotations

import time

from tests.slack.harness import SlackSender
from tests.slack.mock_web_api import MockSlackWebApi
from tests.slack.signing import form_body


def test_signed_help_command_is_answered_with_an_ephemeral_help_text(
    slack: SlackSender, slack_api: MockSlackWebApi
) -> None:
    resp = slack.command("help")
    assert resp.status_code == 200
    body = resp.json()
    assert body["response_type"] == "ephemeral"
    assert "/dealcoach history" in body["text"]


def test_forged_signature_is_refused_and_nothing_is_opened(
    slack: SlackSender, slack_api: MockSlackWebApi
) -> None:
    body = form_body(slack.command_fields("Acme renewal"))
    resp = slack.signed(body, secret="not-the-signing-secret")
    assert resp.status_code == 401
    time.sleep(0.2)
    assert slack_api.calls_to("views.open") == []


def test_stale_timestamp_is_refused_even_with_a_correct_signature(
    slack: SlackSender, slack_api: MockSlackWebApi
) -> None:
    body = form_body(slack.command_fields("Acme renewal"))
    resp = slack.signed(body, timestamp=int(time.time()) - 60 * 10)
    assert resp.status_code == 401
    time.sleep(0.2)
    assert slack_api.calls_to("views.open") == []


def test_unsigned_request_is_refused(slack: SlackSender, slack_api: MockSlackWebApi) -> None:
    body = form_body(slack.command_fields("Acme renewal"))
    resp = slack.post(body, {"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status_code == 401
    assert slack_api.calls == []


def test_healthz_answers_without_a_signature(slack: SlackSender) -> None:
    resp = slack.http.get(f"{slack.server.url}/healthz")
    assert resp.status_code == 200
    assert resp.json()["status"] == "ok"
