"""Helpers for the close-plan tests over HTTP (issue 15): a review with several
decision-makers driven through the modal (pressing *Add a decision-maker* as a user would),
the services on the test's database, and the overdue reminders sent with the real
SlackNotifier to the Web API stand-in."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from tests.slack.conftest import make_services
from tests.slack.driver import USER, ReviewDriver, advice_messages, sent_view, validate_blocks
from tests.slack.harness import SlackSender
from tests.slack.mock_web_api import Call, MockSlackWebApi

from dealcoach.config import Settings
from dealcoach.services.actors import Actor
from dealcoach.services.plans import ReminderReport
from dealcoach.slack.app import make_client
from dealcoach.slack.modal import ACTION_ADD_PERSON, people_shown
from dealcoach.slack.notifier import SlackNotifier

WORKSPACE = "T0ACME"

# A closing deal with three decision-makers: the champion Ans is untested, Gerard against.
CLOSING: dict[str, Any] = {
    "deal.account": "Acme Corp",
    "deal.value": "120k",
    "deal.stage": "closing",
    "fit.need": "One CRM instead of three spreadsheets",
    "fit.requirements_met": "yes",
    "fit.price_market_conform": "yes",
    "fit.offers_compared": "yes",
    "agenda.1.who": "Dana (CFO)",
    "agenda.1.role": "economic_buyer",
    "agenda.1.interests": ["power_position"],
    "agenda.1.certainty": "confirmed",
    "agenda.1.translation": "One dashboard she can show the board",
    "agenda.1.new_in_role": "no",
    "agenda.1.competitor_relationship": "no",
    "agenda.1.stance": "for",
    "agenda.2.who": "Ans de Vries",
    "agenda.2.role": "champion",
    "agenda.2.certainty": "assumed",
    "agenda.2.champion_access": "no",
    "agenda.2.champion_sells": "no",
    "agenda.2.stance": "for",
    "agenda.3.who": "Gerard, IT lead",
    "agenda.3.role": "technical",
    "agenda.3.certainty": "unknown",
    "agenda.3.discovery_plan": "Ask Dana to introduce me",
    "agenda.3.stance": "against",
    "benefit.customer_wins": "Closing the books two days faster",
    "benefit.customer_ready": "yes",
    "benefit.we_win": "A reference customer in finance",
    "benefit.margin": "healthy",
    "benefit.pros_cons_explained": "yes",
    "signals.silent_after_invite": "no",
}


def rep(user: str = USER) -> Actor:
    return Actor(platform="slack", workspace_id=WORKSPACE, user_id=user, display_name=user)


def people_in(answers: dict[str, Any]) -> int:
    return max((int(k.split(".")[1]) for k in answers if k.startswith("agenda.")), default=1)


def _can_add_person(view: dict[str, Any]) -> bool:
    return any(
        e.get("action_id") == ACTION_ADD_PERSON
        for b in view.get("blocks") or []
        for e in b.get("elements") or []
    )


def run_review(
    slack: SlackSender,
    api: MockSlackWebApi,
    answers: dict[str, Any],
    *,
    deal: str = "Acme renewal",
    user: str = USER,
    max_steps: int = 15,
) -> ReviewDriver:
    """A whole review through the modal; on the agenda step, *Add a decision-maker* is
    pressed (with what was typed so far) until every person in `answers` is shown."""
    driver = ReviewDriver(slack, api, user=user)
    driver.start(deal)
    wanted = people_in(answers)
    for _ in range(max_steps):
        assert driver.view is not None
        while 0 < people_shown(driver.view) < wanted and _can_add_person(driver.view):
            view = driver.view
            before = len(api.calls_to("views.update"))
            typed = {bid: answers[bid] for bid in driver.block_ids() if bid in answers}
            resp = slack.view_action(view, ACTION_ADD_PERSON, values=typed, user=user)
            assert resp.status_code == 200, resp.text
            update = api.wait_for("views.update", before + 1)[-1]
            driver.view = {**sent_view(update), "id": view["id"]}
        action = driver.follow(driver.submit_step(answers))
        if action == "clear":
            return driver
        assert action == "update", action
    raise AssertionError("the review did not finish")


def last_advice(api: MockSlackWebApi, count: int = 1, user: str = USER) -> Call:
    """The `count`-th advice DM to `user` (waits for it), validated."""
    api.wait_for(
        "chat.postMessage",
        count,
        timeout=15,
        where=lambda c: (
            c.params.get("channel") == user
            and (c.json_param("metadata") or {}).get("event_type") == "deal_review_completed"
        ),
    )
    advice = advice_messages(api, user)[count - 1]
    validate_blocks(advice.json_param("blocks"))
    return advice


def workday_after(days: int, hour_utc: int = 11) -> datetime:
    """A Wednesday at least `days` from today, at `hour_utc`:00 UTC (12:00 or 13:00 in
    Amsterdam: a workday within working hours in the reps' zone)."""
    day = date.today() + timedelta(days=days)
    while day.weekday() != 2:
        day += timedelta(days=1)
    return datetime.combine(day, time(hour_utc), tzinfo=UTC)


def send_reminders(settings: Settings, now: datetime) -> ReminderReport:
    """`send_plan_reminders` with the real SlackNotifier, against the stand-in."""

    async def go() -> ReminderReport:
        services = make_services(settings)
        try:
            notifier = SlackNotifier(make_client(settings), interval=0)
            report: ReminderReport = await services.async_plans.send_reminders(
                {"slack": notifier}, now=now
            )
            return report
        finally:
            await services.aclose()
            services.close()

    return asyncio.run(go())


def reminders_sent(api: MockSlackWebApi, user: str = USER) -> list[Call]:
    """The reminder DMs to `user`: messages with a `plan_step:<id>` actions block."""
    return [
        c
        for c in api.calls_to("chat.postMessage")
        if c.params.get("channel") == user
        and any(
            str(b.get("block_id", "")).startswith("plan_step:")
            for b in c.json_param("blocks") or []
        )
    ]
