"""Overdue close-plan steps in Teams (issue 15): `send_plan_reminders` with the `TeamsNotifier`
posts one card per overdue step into the rep's personal chat through the loopback Connector
stand-in — in the rep's time zone (which Teams reports with each message), on a workday, once
— and *Done* / *Move date* / *Drop* on that card change the step and answer with its new
state. A delivery Teams refused is sent again by the next run; a paused rep gets none."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

pytest.importorskip("microsoft_agents.hosting.fastapi", reason="needs the dealcoach[teams] extra")

from sqlalchemy import select
from tests.slack.harness import LiveServer
from tests.teams.connector_stub import ConnectorStub
from tests.teams.harness import TeamsUser, card_text, find_action, inputs_of
from tests.teams.test_plans_http import add_to_plan, steps
from tests.teams.test_review_http import BASE, run_review

from dealcoach.services.people import AsyncContacts
from dealcoach.services.plans import ReminderReport, send_plan_reminders
from dealcoach.store import AsyncStore, Store
from dealcoach.store.models import Person
from dealcoach.teams import plan_cards
from dealcoach.teams.notifier import TeamsNotifier

ZONE = "Europe/Amsterdam"


def client_info(zone: str = ZONE) -> list[dict[str, Any]]:
    """What Teams attaches to a message: the client's locale, platform and time zone."""
    return [{"type": "clientInfo", "locale": "en-US", "platform": "Web", "timezone": zone}]


def workday_after(day: date) -> date:
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def overdue_at(due: date, zone: str = ZONE, hour: int = 10) -> datetime:
    """A moment when a step due on `due` is overdue: the next workday, `hour` o'clock in
    the rep's zone (as UTC)."""
    local = datetime.combine(workday_after(due), time(hour), tzinfo=ZoneInfo(zone))
    return local.astimezone(UTC)


@pytest.fixture
async def store(migrated_url: str) -> AsyncIterator[AsyncStore]:
    """The scheduler's side: its own store on the same database, in this test's loop."""
    found = AsyncStore(migrated_url)
    try:
        yield found
    finally:
        await found.engine.dispose()


async def remind(live: LiveServer, store: AsyncStore, now: datetime) -> ReminderReport:
    notifier = TeamsNotifier(live.app.state.teams, AsyncContacts(store.run), interval=0,
                             attempts=1)
    return await send_plan_reminders(store.run, {"teams": notifier}, now=now)


def planned(user: TeamsUser, url: str, days: int = 2) -> tuple[int, int, date]:
    """A review, one move in the plan due in `days`: (step id, deal id, due date)."""
    user.post(user.activity("message", text="hi", entities=client_info()))
    advice, _ = run_review(user, BASE)
    due = date.today() + timedelta(days=days)
    add_to_plan(user, advice, owner="c:Carla", due=due.isoformat())
    (step,) = steps(url)
    return step.id, step.deal_id, due


def reminders(connector: ConnectorStub, user: TeamsUser) -> list[dict[str, Any]]:
    return [card for call in connector.messages()
            if call.conversation_id == user.conversation_id and call.kind == "send"
            for card in call.cards if plan_cards.VERB_DONE in str(card)]


async def test_one_reminder_in_the_reps_zone_and_done_on_it(
    live: LiveServer, connector: ConnectorStub, migrated_url: str, store: AsyncStore
) -> None:
    rita = TeamsUser(live.url, connector)
    step_id, _deal, due = planned(rita, migrated_url)
    with Store(migrated_url).unit_of_work() as uow:  # the zone Teams reported, kept
        assert uow.session.scalars(select(Person.timezone)).one() == ZONE

    moment = overdue_at(due)
    assert (await remind(live, store, overdue_at(due, hour=7))).sent == []  # before 9:00 there
    assert (await remind(live, store, moment - timedelta(days=1))).sent == []  # not overdue yet
    report = await remind(live, store, moment)
    assert report.sent == [step_id]
    assert (await remind(live, store, moment + timedelta(hours=1))).sent == []  # once

    (card,) = reminders(connector, rita)
    text = card_text(card)
    assert "Overdue in Acme renewal" in text and "was Carla's step" in text
    move = inputs_of(card)[f"{plan_cards.MOVE_INPUT}{step_id}"]
    assert move["type"] == "Input.Date" and move["isRequired"] is True

    done = rita.invoke(plan_cards.VERB_DONE, find_action(card, plan_cards.VERB_DONE)["data"])
    after = card_text(done["value"])
    assert "Marked done. 1 of 1 step done." in after
    assert find_action(done["value"], plan_cards.VERB_REOPEN)  # undo, in place
    assert [s.status for s in steps(migrated_url)] == ["done"]


async def test_move_and_drop_on_the_reminder(
    live: LiveServer, connector: ConnectorStub, migrated_url: str, store: AsyncStore
) -> None:
    rita = TeamsUser(live.url, connector)
    step_id, _deal, due = planned(rita, migrated_url)
    await remind(live, store, overdue_at(due))
    (card,) = reminders(connector, rita)
    new_date = (date.today() + timedelta(days=30)).isoformat()
    moved = rita.submit(card, plan_cards.VERB_MOVE,
                        {f"{plan_cards.MOVE_INPUT}{step_id}": new_date})["value"]
    assert "Moved to" in card_text(moved)
    assert steps(migrated_url)[0].due_on.isoformat() == new_date

    dropped = rita.invoke(plan_cards.VERB_DROP, find_action(card, plan_cards.VERB_DROP)["data"])
    assert "Dropped." in card_text(dropped["value"])
    assert [s.status for s in steps(migrated_url)] == ["dropped"]

    bob = TeamsUser(live.url, connector, aad_id="aad-bob", user_id="29:bob", name="Bob")
    refused = bob.invoke(plan_cards.VERB_REOPEN, find_action(dropped["value"],
                                                             plan_cards.VERB_REOPEN)["data"])
    assert "Only the rep who owns this deal can change its plan." in card_text(refused["value"])


async def test_a_reminder_teams_refused_is_sent_by_the_next_run(
    live: LiveServer, connector: ConnectorStub, migrated_url: str, store: AsyncStore
) -> None:
    rita = TeamsUser(live.url, connector)
    step_id, _deal, due = planned(rita, migrated_url)
    moment = overdue_at(due)
    connector.fail_next(503)
    first = await remind(live, store, moment)
    assert first.sent == [] and [s for s, _ in first.failed] == [step_id]
    second = await remind(live, store, moment + timedelta(hours=1))
    assert second.sent == [step_id]
    third = await remind(live, store, moment + timedelta(hours=2))
    assert third.sent == [] and third.failed == []
    assert len(reminders(connector, rita)) == 2  # the one Teams refused, the one delivered


async def test_a_paused_rep_gets_no_reminder_and_dutch_after_resume(
    live: LiveServer, connector: ConnectorStub, migrated_url: str, store: AsyncStore
) -> None:
    rita = TeamsUser(live.url, connector)
    step_id, _deal, due = planned(rita, migrated_url)
    rita.say("pause")
    assert (await remind(live, store, overdue_at(due))).sent == []
    rita.say("resume")
    rita.say("lang nl")
    assert (await remind(live, store, overdue_at(due))).sent == [step_id]
    (card,) = reminders(connector, rita)
    assert "Te laat bij Acme renewal" in card_text(card)
    assert find_action(card, plan_cards.VERB_DONE)["title"] == "Gedaan"


def test_the_teams_notifier_is_a_plan_reminder_notifier() -> None:
    from dealcoach.digest.notifier import PlanReminderNotifier, sends_plan_reminders

    notifier = TeamsNotifier(runtime=None)  # type: ignore[arg-type]
    assert sends_plan_reminders(notifier)
    assert isinstance(notifier, PlanReminderNotifier)
