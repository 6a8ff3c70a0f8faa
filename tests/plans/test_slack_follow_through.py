"""Issue 15's "Done when", in Slack, over signed HTTP against the Web API stand-in.

A rep maps five decision-makers — two of them champions who fail both tests (no access to
the economic buyer, do not sell for us) — and gets the advice (champion_untested, the
coverage line). They add two of its moves to the plan: one owned by the economic buyer Dana
(the customer), one by us a month out. On a workday in the rep's zone after Dana's date the
reminder job (`send_plan_reminders` with the real SlackNotifier) sends one reminder, for
Dana's step; the rep presses *Done* on it and the message is replaced. The deal's next
review shows the plan's progress in its advice. English and Dutch; SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from tests.slack.conftest import app_factory, live, settings, slack, slack_api  # noqa: F401
from tests.slack.driver import USER, validate_blocks, validate_view
from tests.slack.harness import SlackSender
from tests.slack.mock_web_api import MockSlackWebApi
from tests.slack.plan_steps import (
    CLOSING,
    last_advice,
    reminders_sent,
    rep,
    run_review,
    send_reminders,
)
from tests.slack.test_plans import _deal_id, _plan, _press, _services, open_add_modal

from dealcoach.config import Settings
from dealcoach.slack import plan_blocks as pb

FIVE: dict[str, Any] = {
    **CLOSING,  # Dana (economic buyer), Ans (untested champion), Gerard (against)
    "agenda.4.who": "Piet Jansen (Ops)",
    "agenda.4.role": "champion",
    "agenda.4.certainty": "assumed",
    "agenda.4.champion_access": "no",
    "agenda.4.champion_sells": "no",
    "agenda.4.stance": "neutral",
    "agenda.5.who": "Els (team lead)",
    "agenda.5.role": "user",
    "agenda.5.certainty": "assumed",
    "agenda.5.stance": "for",
}

WORDS = {
    "en": {
        "coverage": "Coverage:",
        "added": "Added to the plan of Acme renewal",
        "customer_step": "was Dana's step",
        "done": "Marked done",
        "progress": "Close plan:* 1 of 2 steps done",
    },
    "nl": {
        "coverage": "Dekking:",
        "added": "Toegevoegd aan het plan van Acme renewal",
        "customer_step": "was de stap van Dana",
        "done": "Op gedaan gezet",
        "progress": "Afsluitplan:* 1 van 2 stappen gedaan",
    },
}


def _sections(blocks: list[dict[str, Any]]) -> str:
    return "\n".join(
        str(b["text"]["text"]) for b in blocks if b["type"] == "section" and b.get("text")
    )


@pytest.mark.parametrize("locale", ["en", "nl"])
def test_done_when_in_slack(
    locale: str,
    slack: SlackSender,  # noqa: F811
    slack_api: MockSlackWebApi,  # noqa: F811
    settings: Settings,  # noqa: F811
) -> None:
    words = WORDS[locale]
    slack_api.set_user(USER, locale="nl-NL" if locale == "nl" else "en-GB")

    # 1. Five people, two champions failing both tests → the advice.
    driver = run_review(slack, slack_api, FIVE)
    people = [b for b in driver.steps[1]["blocks"] if b.get("block_id", "").endswith(".who")]
    assert len(people) == 5
    advice = last_advice(slack_api)
    metadata = advice.json_param("metadata")
    assert metadata["event_type"] == "deal_review_completed"
    assert "champion_untested" in metadata["event_payload"]["flags"]
    text = _sections(advice.json_param("blocks"))
    assert words["coverage"] in text and "Ans" in text and "Piet" in text

    # 2. Two moves into the plan: Dana's (the customer's), and ours a month out.
    review_id = int(driver.review_id)
    services = _services(settings)
    found = services.plans.review_candidates(rep(), review_id)
    services.close()
    assert found.locale == locale and len(found.candidates) >= 2
    first = open_add_modal(slack, slack_api, advice, found.candidates[0].index)
    added = slack.submit(first, {pb.BLOCK_OWNER: "customer:Dana"}).json()
    assert added["response_action"] == "update"
    validate_view(added["view"])
    assert words["added"] in json.dumps(added["view"], ensure_ascii=False)
    second = open_add_modal(slack, slack_api, advice, found.candidates[1].index)
    later = (found.default_due + timedelta(days=30)).isoformat()
    assert slack.submit(second, {pb.BLOCK_DUE: later}).json()["response_action"] == "update"
    deal_id = _deal_id(settings)
    steps = {s.owner_kind: s for s in _plan(settings, deal_id).steps}
    assert steps["customer"].owner_name == "Dana" and steps["customer"].due_on == found.default_due
    assert steps["us"].due_on.isoformat() == later

    # 3. A workday after Dana's date, in working hours in the rep's zone: one reminder.
    day = found.default_due + timedelta(days=1)
    while day.weekday() != 2:
        day += timedelta(days=1)
    now = datetime.combine(day, time(11), tzinfo=UTC)  # 12:00/13:00 in Amsterdam
    report = send_reminders(settings, now)
    assert report.sent == [steps["customer"].step_id], report
    assert send_reminders(settings, now).sent == []  # once
    (reminder,) = reminders_sent(slack_api)
    validate_blocks(reminder.json_param("blocks"))
    assert words["customer_step"] in _sections(reminder.json_param("blocks"))

    # 4. *Done* on it: the reminder is replaced by what happened.
    done = _press(slack, slack_api, reminder, pb.ACTION_STEP_DONE)
    assert done.params["replace_original"] in (True, "true")
    replaced = done.json_param("blocks")
    validate_blocks(replaced)
    assert words["done"] in json.dumps(replaced, ensure_ascii=False)
    assert not [b for b in replaced if b["type"] == "actions"]

    # 5. The deal's next review shows the plan's progress.
    run_review(slack, slack_api, FIVE)
    second_advice = last_advice(slack_api, 2)
    assert words["progress"] in _sections(second_advice.json_param("blocks"))
