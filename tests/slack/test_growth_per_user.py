"""One user's clicks cannot grow the database or the manager's DMs without bound (issue #11,
item 11): "Start new" clicked again and again reuses the open draft of that deal (and a user
keeps at most `MAX_OPEN_DRAFTS` drafts whatever names the buttons carry); "Share with my
manager" sends one DM per review and later clicks answer "already shared"."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import func, select
from tests.slack.conftest import make_services
from tests.slack.driver import SCENARIOS, USER, ReviewDriver, sent_view
from tests.slack.harness import SlackSender
from tests.slack.mock_web_api import MockSlackWebApi

from dealcoach.config import Settings
from dealcoach.services.reviews import MAX_OPEN_DRAFTS
from dealcoach.slack import modal
from dealcoach.store.models import Deal, Review


def _counts(settings: Settings) -> dict[str, int]:
    def count(uow: Any) -> dict[str, int]:
        drafts = uow.session.scalar(
            select(func.count()).select_from(Review).where(Review.status == "draft")
        )
        deals = uow.session.scalar(select(func.count()).select_from(Deal))
        return {"drafts": int(drafts or 0), "deals": int(deals or 0)}

    services = make_services(settings)
    try:
        return services.store.run(count)  # type: ignore[no-any-return]
    finally:
        services.close()


def _resume_prompt(slack: SlackSender, api: MockSlackWebApi, deal: str) -> dict[str, Any]:
    """`/dealcoach <deal>` while a draft is open: the Resume / Start new prompt."""
    before = len(api.calls_to("views.update"))
    assert slack.command(deal).status_code == 200
    view = sent_view(api.wait_for("views.update", before + 1)[-1])
    assert view["callback_id"] != "dealcoach_review", view["callback_id"]
    return view


def _click_start_new(
    slack: SlackSender, api: MockSlackWebApi, prompt: dict[str, Any], times: int, name: Any
) -> None:
    before = len(api.calls_to("views.update"))
    for i in range(times):
        value = name(i) if callable(name) else name
        slack.view_action(prompt, modal.ACTION_START_NEW, value=value)
    api.wait_for("views.update", before + times, timeout=30)


def test_start_new_clicked_again_and_again_reuses_the_open_draft_of_that_deal(
    slack: SlackSender, slack_api: MockSlackWebApi, settings: Settings
) -> None:
    ReviewDriver(slack, slack_api).start("Acme renewal")
    prompt = _resume_prompt(slack, slack_api, "Acme renewal")
    _click_start_new(slack, slack_api, prompt, 40, "Acme renewal")
    assert _counts(settings) == {"drafts": 1, "deals": 1}
    shown = {
        sent_view(c)["private_metadata"]
        for c in slack_api.calls_to("views.update")
        if sent_view(c)["callback_id"] == "dealcoach_review"
    }
    assert len(shown) == 1  # every click showed the same draft


def test_start_new_with_ever_new_deal_names_keeps_a_handful_of_drafts(
    slack: SlackSender, slack_api: MockSlackWebApi, settings: Settings
) -> None:
    """The button's value is the sender's to choose: 40 different names."""
    ReviewDriver(slack, slack_api).start("Acme renewal")
    prompt = _resume_prompt(slack, slack_api, "Other deal")
    _click_start_new(slack, slack_api, prompt, 40, lambda i: f"Deal {i:03d}")
    counts = _counts(settings)
    assert counts["drafts"] == MAX_OPEN_DRAFTS
    assert counts["deals"] == MAX_OPEN_DRAFTS


def _with_manager(settings: Settings) -> None:
    def assign(uow: Any) -> None:
        ws = uow.workspaces.find("slack", "T0ACME")
        member = uow.people.get_or_create(ws, USER)
        manager = uow.people.get_or_create(ws, "U0MANAGER")
        uow.reporting.assign(manager, member)

    services = make_services(settings)
    try:
        services.store.run(assign)
    finally:
        services.close()


def _complete_one(slack: SlackSender, api: MockSlackWebApi) -> str:
    driver = ReviewDriver(slack, api)
    driver.start("Acme renewal")
    driver.run(SCENARIOS["pursue"])
    api.wait_for("chat.postMessage", 1)
    return driver.review_id


def _dms_to_manager(api: MockSlackWebApi) -> list[Any]:
    return [c for c in api.calls_to("chat.postMessage") if c.params.get("channel") == "U0MANAGER"]


def test_share_clicked_many_times_sends_one_dm_and_then_says_already_shared(
    slack: SlackSender, slack_api: MockSlackWebApi, settings: Settings
) -> None:
    review_id = _complete_one(slack, slack_api)
    _with_manager(settings)
    for _ in range(12):
        # (statuses: see test_a_refusal_right_after_the_ack_is_still_answered_200_at_once)
        slack.message_action("advice_share", value=review_id)
    replies = slack_api.wait_for("response_url", 12, timeout=20)
    time.sleep(0.3)
    assert len(_dms_to_manager(slack_api)) == 1
    texts = [r.params["text"] for r in replies]
    assert sum("<@U0MANAGER>" in t for t in texts) == 1
    already = [t for t in texts if "already shared" in t]
    assert len(already) == 11 and review_id in already[0]


def test_already_shared_is_said_in_the_reviews_language(
    slack: SlackSender, slack_api: MockSlackWebApi, settings: Settings
) -> None:
    slack.command("lang nl")
    slack_api.wait_for("response_url", 1)
    review_id = _complete_one(slack, slack_api)
    _with_manager(settings)
    slack.message_action("advice_share", value=review_id)
    slack_api.wait_for("response_url", 2)
    slack.message_action("advice_share", value=review_id)
    reply = slack_api.wait_for("response_url", 3)[-1]
    assert "al met je manager gedeeld" in reply.params["text"]
    assert len(_dms_to_manager(slack_api)) == 1


def test_a_share_whose_dm_failed_can_be_tried_again(
    slack: SlackSender, slack_api: MockSlackWebApi, settings: Settings
) -> None:
    review_id = _complete_one(slack, slack_api)
    _with_manager(settings)
    slack_api.fail("chat.postMessage", status=500, times=3)  # the first try and its 2 retries
    slack.message_action("advice_share", value=review_id)
    apology = slack_api.wait_for("response_url", 1, timeout=20)[-1]
    assert "went wrong" in apology.params["text"]
    slack.message_action("advice_share", value=review_id)
    reply = slack_api.wait_for("response_url", 2, timeout=20)[-1]
    assert "<@U0MANAGER>" in reply.params["text"]
    delivered = [c for c in _dms_to_manager(slack_api) if c.status == 200]
    assert len(delivered) == 1


def test_a_refusal_right_after_the_ack_is_still_answered_200_at_once(
    slack: SlackSender, slack_api: MockSlackWebApi, settings: Settings
) -> None:
    """A listener that acks and is then refused at once ("already shared") lost a race in
    Bolt's asyncio runner (ack.response reset after the error handler): Slack got a 404 after
    3 s and showed the user an error next to the ephemeral "already shared"."""
    review_id = _complete_one(slack, slack_api)
    _with_manager(settings)
    first = slack.message_action("advice_share", value=review_id)
    assert first.status_code == 200
    for _ in range(3):
        started = time.monotonic()
        again = slack.message_action("advice_share", value=review_id)
        assert again.status_code == 200
        assert time.monotonic() - started < 2.0
    replies = slack_api.wait_for("response_url", 4, timeout=10)
    assert sum("already shared" in r.params["text"] for r in replies) == 3
