"""Every step answered late — what a loaded machine does to a review: the app acknowledges
each with "saving…" and replaces it by views.update; the review still completes once, and
the test driver (tests/slack/driver.py) follows that as a user's screen does, so suites that
drive reviews stay green on a busy CI machine."""

from __future__ import annotations

import pytest
from tests.slack.driver import SCENARIOS, ReviewDriver, advice_messages
from tests.slack.harness import SlackSender
from tests.slack.mock_web_api import MockSlackWebApi

from dealcoach.slack.listeners import views


@pytest.mark.parametrize("scenario", ["pursue", "walk_away"])
def test_a_review_answered_late_at_every_step_completes_through_saving_views(
    slack: SlackSender,
    slack_api: MockSlackWebApi,
    monkeypatch: pytest.MonkeyPatch,
    scenario: str,
) -> None:
    monkeypatch.setattr(views, "ACK_BUDGET_SECONDS", 0.0)  # every step is "late"
    driver = ReviewDriver(slack, slack_api)
    driver.start("Acme renewal")
    steps = driver.run(SCENARIOS[scenario])
    assert len(steps) >= 3  # fit, agenda, benefit with the warning signals (+ follow-ups)
    slack_api.wait_for("chat.postMessage", 1)
    assert len(advice_messages(slack_api)) == 1
    replaced = [c for c in slack_api.calls_to("views.update") if c.params.get("view_id")]
    assert len(replaced) >= len(steps)  # each saving… view was replaced
