"""A review from `/dealcoach` to the advice DM, over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from typing import Any

import pytest
from tests.slack.driver import (
    SCENARIOS,
    USER,
    ReviewDriver,
    advice_messages,
    sent_view,
    validate_blocks,
)
from tests.slack.harness import SlackSender
from tests.slack.mock_web_api import MockSlackWebApi


@pytest.mark.parametrize("recommendation", ["pursue", "strengthen", "renegotiate", "walk_away"])
def test_full_review_ends_in_an_advice_dm_with_the_design_metadata(
    slack: SlackSender, slack_api: MockSlackWebApi, recommendation: str
) -> None:
    driver = ReviewDriver(slack, slack_api)
    first = driver.start("Acme renewal")
    assert first["callback_id"] == "dealcoach_review"
    # the deal name came with the command, so round 1 goes on with the rest of the fit
    assert driver.block_ids()[0] == "deal.account"
    review_id = driver.review_id
    steps = driver.run(SCENARIOS[recommendation])

    rounds = [s["blocks"][0]["text"]["text"] for s in steps]
    assert rounds[0].startswith("Round 1")
    shown = {
        bid for s in steps for b in s["blocks"] if b["type"] == "input" for bid in [b["block_id"]]
    }
    # follow-ups only when earlier answers call for them
    assert ("benefit.strategic_reason" in shown) == (recommendation == "walk_away")
    assert ("benefit.renegotiable" in shown) == (recommendation == "walk_away")

    (message,) = slack_api.wait_for("chat.postMessage", 1)
    assert message.params["channel"] == USER
    metadata = message.json_param("metadata")
    assert metadata["event_type"] == "deal_review_completed"
    payload = metadata["event_payload"]
    assert set(payload) == {"quadrant", "recommendation", "flags", "review_id"}
    assert payload["recommendation"] == recommendation
    assert payload["review_id"] == review_id
    assert isinstance(payload["flags"], list)
    if recommendation == "renegotiate":
        assert "not_market_conform" in payload["flags"]
    if recommendation == "walk_away":
        assert "below_cost_no_reason" in payload["flags"]
    if recommendation == "pursue":
        assert payload["quadrant"] == "win_win"

    blocks = message.json_param("blocks")
    validate_blocks(blocks)
    assert blocks[0]["type"] == "header"
    assert blocks[-1]["type"] == "context" and review_id in blocks[-1]["elements"][0]["text"]
    actions = next(b for b in blocks if b["type"] == "actions")
    assert [e["action_id"] for e in actions["elements"]] == [
        "advice_update",
        "advice_outcome",
        "advice_share",
    ]
    assert message.params["text"].strip(), "a plain-text fallback is sent"
    assert "Acme renewal" in message.params["text"]


def test_modal_is_opened_with_the_command_trigger_before_any_other_web_api_call(
    slack: SlackSender, slack_api: MockSlackWebApi
) -> None:
    fields = slack.command_fields("Globex expansion")
    started = time.monotonic()
    resp = slack.command(fields=fields)
    acked = time.monotonic() - started
    assert resp.status_code == 200 and acked < 1.0
    slack_api.wait_for("views.update", 1)
    methods = [c.method for c in slack_api.calls if c.method != "auth.test"]
    assert methods[0] == "views.open"
    assert slack_api.calls_to("views.open")[0].params["trigger_id"] == fields["trigger_id"]
    view = sent_view(slack_api.calls_to("views.update")[0])
    assert view["private_metadata"].isdigit()  # only the review id


def test_input_block_ids_are_the_question_ids(
    slack: SlackSender, slack_api: MockSlackWebApi
) -> None:
    driver = ReviewDriver(slack, slack_api)
    driver.start("")  # no deal name: deal.name is asked, required
    ids = driver.block_ids()
    assert ids[:4] == ["deal.name", "deal.account", "deal.value", "deal.stage"]
    name_block = next(b for b in driver.view["blocks"] if b.get("block_id") == "deal.name")  # type: ignore[index]
    assert name_block["optional"] is False
    assert all(
        b["element"]["action_id"] == "value"
        for b in driver.view["blocks"]  # type: ignore[index]
        if b["type"] == "input"
    )


def test_required_field_left_empty_gets_a_field_error_and_keeps_the_modal(
    slack: SlackSender, slack_api: MockSlackWebApi
) -> None:
    driver = ReviewDriver(slack, slack_api)
    driver.start("")
    resp = driver.submit_step({"deal.name": "   ", "deal.account": "Acme"})
    body = resp.json()
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {"deal.name"}
    assert "required" in body["errors"]["deal.name"]


def test_bad_number_gets_a_field_error_on_its_own_block(
    slack: SlackSender, slack_api: MockSlackWebApi
) -> None:
    driver = ReviewDriver(slack, slack_api)
    driver.start("Acme")
    resp = driver.submit_step({"deal.value": "about a lot"})
    body = resp.json()
    assert body["response_action"] == "errors"
    assert list(body["errors"]) == ["deal.value"]
    assert len(body["errors"]["deal.value"]) <= 150
    # nothing was lost: the same step is still to do, and the next try goes through
    good = driver.follow(driver.submit_step(SCENARIOS["pursue"]))
    assert good == "update"


def test_add_a_decision_maker_keeps_what_was_typed(
    slack: SlackSender, slack_api: MockSlackWebApi
) -> None:
    driver = ReviewDriver(slack, slack_api)
    driver.start("Acme")
    assert driver.follow(driver.submit_step(SCENARIOS["pursue"])) == "update"
    assert "agenda.1.who" in driver.block_ids() and "agenda.2.who" not in driver.block_ids()
    assert driver.view is not None
    for n in range(2, 7):  # up to six decision-makers (issue 15)
        typed = {"agenda.1.who": "Dana (CFO)", "agenda.1.certainty": "assumed"}
        resp = slack.view_action(driver.view, "add_person", values=typed)
        assert resp.status_code == 200
        update = slack_api.wait_for("views.update", n)[-1]
        assert update.params["view_id"] == driver.view["id"]
        view = sent_view(update)
        ids = [b["block_id"] for b in view["blocks"] if b["type"] == "input"]
        assert f"agenda.{n}.who" in ids
        who = next(b for b in view["blocks"] if b.get("block_id") == "agenda.1.who")
        assert who["element"]["initial_value"] == "Dana (CFO)"
        driver.view = view
    # six is the maximum: no more button
    assert not any(b["type"] == "actions" for b in driver.view["blocks"])
    answers = {
        **SCENARIOS["pursue"],
        "agenda.2.who": "Sam (IT)",
        "agenda.2.certainty": "unknown",
        **{f"agenda.{n}.who": "" for n in range(3, 7)},
        **{f"agenda.{n}.certainty": None for n in range(3, 7)},
    }
    action = driver.follow(driver.submit_step(answers))
    assert action == "update"
    # agenda.2's certainty is unknown → its discovery-plan follow-up appeared right under it
    # when it was picked, so the mutual-benefit page comes next
    agenda = driver.steps[-1]["blocks"]
    ids = [b["block_id"] for b in agenda if b["type"] == "input"]
    assert ids[ids.index("agenda.2.certainty") + 1] == "agenda.2.discovery_plan"
    assert driver.block_ids()[0] == "benefit.customer_wins"


def test_long_answers_are_truncated_with_a_note_and_never_break_a_view(
    slack: SlackSender, slack_api: MockSlackWebApi
) -> None:
    driver = ReviewDriver(slack, slack_api)
    driver.start("A" * 200)  # the longest deal name the bank allows
    long_text = ("word " * 500).strip()[:2000]
    answers: dict[str, Any] = {
        **SCENARIOS["pursue"],
        "fit.need": long_text,
        "agenda.1.translation": long_text,
        "benefit.customer_wins": long_text,
        "benefit.we_win": long_text,
    }
    driver.run(answers)
    (message,) = slack_api.wait_for("chat.postMessage", 1)
    blocks = message.json_param("blocks")
    validate_blocks(blocks)
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in blocks)
    assert len(blocks[0]["text"]["text"]) <= 150


def test_too_long_deal_name_in_the_command_is_explained_in_the_modal(
    slack: SlackSender, slack_api: MockSlackWebApi
) -> None:
    resp = slack.command("B" * 400)
    assert resp.status_code == 200
    view = sent_view(slack_api.wait_for("views.update", 1)[-1])
    assert "deal.name" in view["blocks"][0]["text"]["text"]
    assert advice_messages(slack_api) == []
