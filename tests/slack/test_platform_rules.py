"""DESIGN.md's platform rules, over real HTTP: retries, escaping, rate limits, restarts."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from tests.slack.conftest import make_services
from tests.slack.driver import SCENARIOS, USER, ReviewDriver, advice_messages, sent_view
from tests.slack.harness import LiveServer, SlackSender
from tests.slack.mock_web_api import MockSlackWebApi

from dealcoach.config import Settings


def mrkdwn_texts(node: Any) -> list[str]:
    """Every mrkdwn text object's text in a block tree."""
    found: list[str] = []
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
            found.append(node["text"])
        for value in node.values():
            found += mrkdwn_texts(value)
    elif isinstance(node, list):
        for value in node:
            found += mrkdwn_texts(value)
    return found


def review_count(settings: Settings, status: str | None = None) -> int:
    services = make_services(settings)
    try:
        return int(services.store.run(lambda uow: uow.reviews.count(status=status)))
    finally:
        services.close()


def test_slack_retry_of_the_command_reuses_the_open_draft(
    slack: SlackSender, slack_api: MockSlackWebApi, settings: Settings
) -> None:
    fields = slack.command_fields("Acme renewal")
    assert slack.command(fields=fields).status_code == 200
    slack_api.wait_for("views.update", 1)
    assert slack.command(fields=fields, retry_num=1).status_code == 200
    second = sent_view(slack_api.wait_for("views.update", 2)[-1])
    assert second["callback_id"] == "dealcoach_resume"  # offered to resume, not a new review
    assert review_count(settings) == 1


def test_retried_and_double_submitted_steps_make_one_review_and_one_advice(
    slack: SlackSender, slack_api: MockSlackWebApi, settings: Settings
) -> None:
    driver = ReviewDriver(slack, slack_api)
    driver.start("Acme renewal")
    answers = SCENARIOS["pursue"]
    for _ in range(10):
        view = driver.view
        first = driver.submit_step(answers)
        driver.view = view  # the same view again: a double click, then Slack's retry
        again = driver.submit_step(answers, retry_num=1)
        assert again.json().get("response_action") == first.json().get("response_action")
        if driver.follow(first) == "clear":
            break
    time.sleep(0.5)  # let any after-ack work finish
    assert len(advice_messages(slack_api)) == 1
    assert review_count(settings) == 1
    assert review_count(settings, "completed") == 1


def test_channel_mention_typed_into_fields_pings_nobody(
    slack: SlackSender, slack_api: MockSlackWebApi
) -> None:
    driver = ReviewDriver(slack, slack_api)
    driver.start("<!channel> deal & <@U999>")
    answers = {
        **SCENARIOS["pursue"],
        "fit.need": "ping <!channel> and <!here> & <@U999>",
        "agenda.1.who": "<!everyone>",
    }
    driver.run(answers)
    (message,) = slack_api.wait_for("chat.postMessage", 1)
    # Slack parses mentions in mrkdwn and in the fallback text; plain_text (the header) is
    # shown literally, so only those two may not carry the raw syntax.
    parsed = [message.params["text"], *mrkdwn_texts(message.json_param("blocks"))]
    raw = "\n".join(parsed)
    for mention in ("<!channel>", "<!here>", "<!everyone>", "<@U999>"):
        assert mention not in raw
    assert "&lt;!channel&gt;" in raw and "&amp;" in raw and "&lt;!everyone&gt;" in raw
    header = message.json_param("blocks")[0]
    assert header["text"]["type"] == "plain_text"


@pytest.mark.parametrize(
    ("command_text", "shown"),
    [
        # Typed literally, Slack HTML-escapes it (should_escape): stored as typed, escaped out.
        ("&lt;!channel&gt; deal", "&lt;!channel&gt; deal"),
        # Picked as @channel, Slack sends the special mention: stored as plain "@channel".
        ("<!channel> deal", "@channel deal"),
    ],
)
def test_channel_mention_in_a_deal_name_is_escaped_in_the_resume_prompt(
    slack: SlackSender, slack_api: MockSlackWebApi, command_text: str, shown: str
) -> None:
    slack.command(command_text)
    slack_api.wait_for("views.update", 1)
    slack.command("")  # the draft is still open: the prompt names it
    prompt = sent_view(slack_api.wait_for("views.update", 2)[-1])
    assert prompt["callback_id"] == "dealcoach_resume"
    assert shown in "\n".join(mrkdwn_texts(prompt["blocks"]))
    assert "<!channel>" not in "\n".join(mrkdwn_texts(prompt["blocks"]))


def test_rate_limited_views_open_is_retried_and_still_opens_within_the_trigger_window(
    slack: SlackSender, slack_api: MockSlackWebApi
) -> None:
    slack_api.fail("views.open", status=429, retry_after=1)
    started = time.monotonic()
    fields = slack.command_fields("Acme")
    resp = slack.command(fields=fields)
    assert resp.status_code == 200
    assert time.monotonic() - started < 1.0  # the ack did not wait for the Web API
    opens = slack_api.wait_for("views.open", 2, timeout=5)
    assert opens[0].status == 429 and opens[1].status == 200
    assert opens[1].at - started < 3.0
    assert opens[1].params["trigger_id"] == fields["trigger_id"]
    slack_api.wait_for("views.update", 1)


def test_server_errors_from_the_web_api_are_retried(
    slack: SlackSender, slack_api: MockSlackWebApi
) -> None:
    slack_api.fail("views.open", status=500)
    slack.command("Acme")
    opens = slack_api.wait_for("views.open", 2, timeout=5)
    assert [c.status for c in opens] == [500, 200]
    slack_api.wait_for("views.update", 1)


def test_a_hanging_web_api_does_not_delay_the_ack(
    slack: SlackSender, slack_api: MockSlackWebApi
) -> None:
    slack_api.hang("views.open", 2.0)
    started = time.monotonic()
    assert slack.command("Acme").status_code == 200
    assert time.monotonic() - started < 1.0
    slack_api.wait_for("views.update", 1, timeout=6)


def test_restart_in_the_middle_of_a_review_loses_nothing(
    app_factory: Callable[[], Any], slack_api: MockSlackWebApi
) -> None:
    from tests.slack.signing import SIGNING_SECRET

    server = LiveServer(app_factory).start()
    slack = SlackSender(server, secret=SIGNING_SECRET, response_url=slack_api.response_url)
    try:
        driver = ReviewDriver(slack, slack_api)
        driver.start("Acme renewal")
        answers = {**SCENARIOS["renegotiate"], "fit.need": "Nine spreadsheets, one truth"}
        assert driver.follow(driver.submit_step(answers)) == "update"  # round 1 saved
        server.stop()
        server.start()  # a new app instance (new services, new engine) on the same database
        driver.run(answers)
    finally:
        server.stop()
        slack.close()
    (message,) = slack_api.wait_for("chat.postMessage", 1)
    assert message.json_param("metadata")["event_payload"]["recommendation"] == "renegotiate"
    assert "Nine spreadsheets, one truth" in json.dumps(message.json_param("blocks"))


def test_closing_the_modal_and_typing_the_command_again_offers_to_resume(
    slack: SlackSender, slack_api: MockSlackWebApi
) -> None:
    driver = ReviewDriver(slack, slack_api)
    driver.start("Acme renewal")
    assert driver.follow(driver.submit_step(SCENARIOS["pursue"])) == "update"
    review_id = driver.review_id
    slack.command("")  # modal closed; the user comes back later
    prompt = sent_view(slack_api.wait_for("views.update", 2)[-1])
    assert prompt["callback_id"] == "dealcoach_resume"
    assert "Acme renewal" in json.dumps(prompt)
    resp = slack.view_action(prompt, "resume_review", value=review_id)
    assert resp.status_code == 200
    resumed = sent_view(slack_api.wait_for("views.update", 3)[-1])
    assert resumed["private_metadata"] == review_id
    first_input = next(b for b in resumed["blocks"] if b["type"] == "input")
    assert first_input["block_id"] == "agenda.1.who"

    # "Start new" instead makes a second review, with the deal name typed this time
    slack.command("Globex")
    prompt = sent_view(slack_api.wait_for("views.update", 4)[-1])
    slack.view_action(prompt, "start_new_review", value="Globex")
    fresh = sent_view(slack_api.wait_for("views.update", 5)[-1])
    assert fresh["private_metadata"] != review_id
    assert fresh["callback_id"] == "dealcoach_review"


def test_someone_elses_review_is_refused(slack: SlackSender, slack_api: MockSlackWebApi) -> None:
    owner = ReviewDriver(slack, slack_api, user=USER)
    owner.start("Acme renewal")
    assert owner.view is not None
    intruder = slack.submit(owner.view, {"deal.account": "Mine now"}, user="U0INTRUDER")
    body = intruder.json()
    assert body["response_action"] == "errors"
    assert "someone else" in next(iter(body["errors"].values()))
    # the owner goes on as if nothing happened
    assert owner.follow(owner.submit_step(SCENARIOS["pursue"])) == "update"


def test_forged_private_metadata_is_refused(slack: SlackSender, slack_api: MockSlackWebApi) -> None:
    driver = ReviewDriver(slack, slack_api)
    driver.start("Acme")
    assert driver.view is not None
    forged = {**driver.view, "private_metadata": "1; DROP TABLE review"}
    body = slack.submit(forged, {}).json()
    assert body["response_action"] == "errors"
    assert "out of date" in next(iter(body["errors"].values()))


def test_a_failure_after_the_ack_gets_an_apology_with_the_review_id_and_keeps_answers(
    slack: SlackSender, slack_api: MockSlackWebApi, settings: Settings
) -> None:
    slack_api.error("views.update", "internal_error")  # filling the modal fails once
    fields = slack.command_fields("Acme renewal")
    slack.command(fields=fields)
    apology = slack_api.wait_for("response_url", 1)[-1]
    assert apology.params["response_type"] == "ephemeral"
    assert "Sorry" in apology.params["text"]
    assert review_count(settings) == 1
    review_id = (
        str(json.loads(json.dumps(apology.params))["text"]).split("review ")[1].split(")")[0]
    )
    assert review_id.isdigit()
    # coming back offers that very review
    slack.command("")
    prompt = sent_view(slack_api.wait_for("views.update", 2)[-1])
    assert prompt["private_metadata"] == review_id


def test_a_failed_advice_post_apologises_by_dm_and_the_review_stays_completed(
    slack: SlackSender, slack_api: MockSlackWebApi, settings: Settings
) -> None:
    driver = ReviewDriver(slack, slack_api)
    driver.start("Acme renewal")
    slack_api.error("chat.postMessage", "msg_too_long")
    driver.run(SCENARIOS["pursue"])
    posts = slack_api.wait_for("chat.postMessage", 2)
    assert posts[-1].params["channel"] == USER
    assert driver.review_id in posts[-1].params["text"]
    assert review_count(settings, "completed") == 1
