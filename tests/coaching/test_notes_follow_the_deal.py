"""The manager's notes follow the deal (issue 16): when the rep completes their next review of
a deal that was coached before, the notes on its earlier reviews come with the advice — in
Slack a DM right after the advice with *Open review*, in Teams under the advice card.
Nobody else's review carries them."""

from __future__ import annotations

import json
from typing import Any

from tests.slack.driver import SCENARIOS, ReviewDriver, sent_view, validate_blocks
from tests.slack.harness import SlackSender
from tests.slack.mock_web_api import MockSlackWebApi

from dealcoach.config import Settings
from dealcoach.services.coaching import CoachingService, ct
from dealcoach.store import Store

from .seed import MANAGER, OTHER_REP, REP, actor, seed_team

NOTE = "Ask Dana <!channel> what the CFO needs before Friday"


def _note_on_first_review(url: str) -> int:
    seeded = seed_team(url)
    store = Store(url)
    try:
        CoachingService(store).add_note(actor(MANAGER), seeded.review_id, NOTE)
    finally:
        store.dispose()
    return seeded.review_id


def _dms(api: MockSlackWebApi, user: str) -> list[list[dict[str, Any]]]:
    out = []
    for call in api.calls_to("chat.postMessage"):
        if call.params.get("channel") == user:
            raw = call.params.get("blocks") or "[]"
            out.append(json.loads(raw) if isinstance(raw, str) else raw)
    return out


def test_the_next_review_of_a_coached_deal_brings_the_managers_notes(
    slack: SlackSender, slack_api: MockSlackWebApi, settings: Settings
) -> None:
    first = _note_on_first_review(settings.database_url)
    driver = ReviewDriver(slack, slack_api, user=REP)
    driver.start("Acme renewal")
    driver.run(SCENARIOS["pursue"])
    slack_api.wait_for("chat.postMessage", 2, where=lambda c: c.params.get("channel") == REP)
    advice, notes = _dms(slack_api, REP)[-2:]
    validate_blocks(notes)
    text = json.dumps(notes, ensure_ascii=False)
    assert ct("en", "earlier_notes_intro") in text
    assert "Ask Dana &lt;!channel&gt; what the CFO needs" in text and "<!channel>" not in text
    button = next(e for b in notes for e in b.get("elements") or [] if e.get("value"))
    second = int(button["value"])
    assert second != first and str(second) in json.dumps(advice)

    # Open review: the new review with the note on its earlier review.
    slack.message_action(button["action_id"], value=button["value"], user=REP)
    view = sent_view(slack_api.wait_for("views.update", 1, where=_opened_review)[-1])
    shown = json.dumps(view["blocks"], ensure_ascii=False)
    assert ct("en", "earlier_notes_title") in shown and "what the CFO needs" in shown


def _opened_review(call: Any) -> bool:
    view = call.json_param("view") or {}
    return bool(view.get("callback_id") not in (None, "dealcoach_review", "dealcoach_loading"))


def test_a_deal_nobody_coached_gets_the_advice_only(
    slack: SlackSender, slack_api: MockSlackWebApi, settings: Settings
) -> None:
    _note_on_first_review(settings.database_url)
    driver = ReviewDriver(slack, slack_api, user=OTHER_REP)
    driver.start("Secret Omega")  # their own deal, reviewed before, never coached
    driver.run(SCENARIOS["pursue"])
    slack_api.wait_for("chat.postMessage", 1, where=lambda c: c.params.get("channel") == OTHER_REP)
    assert len(_dms(slack_api, OTHER_REP)) == 1
    assert "what the CFO needs" not in json.dumps(_dms(slack_api, OTHER_REP))
