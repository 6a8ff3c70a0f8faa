"""Issue 15's "Done when", in Microsoft Teams, over the Bot Connector stand-in.

A rep in a Teams personal chat (real HTTP to `/api/messages` of the live app; the bot's
messages recorded by the loopback Connector stand-in, every card schema-checked) maps five
decision-makers — two champions who fail both tests — on paged agenda cards, gets the advice
(a concrete test for each champion), adds two of its moves to the close plan (one owned by
the customer's economic buyer), gets one overdue reminder (`send_plan_reminders` with the
`TeamsNotifier`, at a moment when the step is overdue on a workday in the rep's own zone, as
Teams reports it), presses *Done* on it, and the next review's advice shows the plan's
progress. English and Dutch; SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest

pytest.importorskip("microsoft_agents.hosting.fastapi", reason="needs the dealcoach[teams] extra")

from sqlalchemy import select
from tests.slack.harness import LiveServer
from tests.teams import conftest as teams_fixtures
from tests.teams.connector_stub import ConnectorStub
from tests.teams.harness import TeamsUser, card_text, find_action, inputs_of, walk
from tests.teams.test_plan_reminders import client_info, overdue_at, reminders
from tests.teams.test_review_http import answer_card, is_advice

from dealcoach.coach.plans import PlanStatus, progress_line
from dealcoach.services.people import AsyncContacts
from dealcoach.services.plans import send_plan_reminders
from dealcoach.store import AsyncStore, Store
from dealcoach.store.models import PlanStep
from dealcoach.teams import cards, plan_cards
from dealcoach.teams.notifier import TeamsNotifier

FIVE: dict[str, Any] = {
    "deal.name": "Acme renewal",
    "deal.account": "Acme",
    "deal.value": "120k",
    "deal.stage": "negotiation",
    "fit.need": "faster invoicing",
    "fit.requirements_met": "yes",
    "fit.price_market_conform": "yes",
    "fit.offers_compared": "yes",
    "agenda.1.who": "Dana (CFO)",
    "agenda.1.role": "economic_buyer",
    "agenda.1.interests": ["relationship", "easier_life"],
    "agenda.1.certainty": "confirmed",
    "agenda.1.translation": "one dashboard she can show the board",
    "agenda.1.new_in_role": "no",
    "agenda.1.competitor_relationship": "no",
    "agenda.1.stance": "for",
    "agenda.2.who": "Ans de Vries",
    "agenda.2.role": "champion",
    "agenda.2.interests": ["power_position"],
    "agenda.2.certainty": "assumed",
    "agenda.2.translation": "she wants to lead the rollout",
    "agenda.2.new_in_role": "no",
    "agenda.2.competitor_relationship": "no",
    "agenda.2.stance": "for",
    "agenda.2.champion_access": "no",
    "agenda.2.champion_sells": "no",
    "agenda.3.who": "Gerard, IT lead",
    "agenda.3.role": "technical",
    "agenda.3.interests": ["challenge_risk"],
    "agenda.3.certainty": "confirmed",
    "agenda.3.translation": "no new security risks",
    "agenda.3.new_in_role": "no",
    "agenda.3.competitor_relationship": "no",
    "agenda.3.stance": "against",
    "agenda.4.who": "Priya",
    "agenda.4.role": "user",
    "agenda.4.interests": ["easier_life"],
    "agenda.4.certainty": "confirmed",
    "agenda.4.translation": "no more month-end overtime",
    "agenda.4.new_in_role": "no",
    "agenda.4.competitor_relationship": "no",
    "agenda.4.stance": "for",
    "agenda.5.who": "Tom Peters",
    "agenda.5.role": "champion",
    "agenda.5.interests": ["values"],
    "agenda.5.certainty": "assumed",
    "agenda.5.translation": "a cleaner process",
    "agenda.5.new_in_role": "yes",
    "agenda.5.competitor_relationship": "no",
    "agenda.5.stance": "neutral",
    "agenda.5.champion_access": "no",
    "agenda.5.champion_sells": "no",
    "benefit.customer_wins": "closing the books two days faster",
    "benefit.customer_ready": "yes",
    "benefit.we_win": "a reference customer",
    "benefit.margin": "healthy",
    "benefit.pros_cons_explained": "yes",
    "signals.silent_after_invite": "no",
}
PEOPLE = 5

# The Teams tests' fixtures (the live app, the Connector stand-in, a migrated database).
connector = teams_fixtures.connector
live = teams_fixtures.live
migrated_url = teams_fixtures.migrated_url


def persons_on(card: dict[str, Any]) -> set[int]:
    return {int(qid.split(".")[1]) for qid in inputs_of(card) if qid.startswith("agenda.")}


def review(user: TeamsUser, answers: dict[str, Any]) -> tuple[dict[str, Any], list[set[int]]]:
    """`review Acme renewal`, every card answered; *Add a decision-maker* until five people
    are on the agenda. Returns the advice and the people of each agenda card."""
    user.say("review Acme renewal")
    card = user.last_card()
    agenda_cards: list[set[int]] = []
    for _ in range(30):
        on_card = persons_on(card)
        if on_card:
            agenda_cards.append(on_card)
        can_add = any(n.get("verb") == cards.VERB_ADD_PERSON for n in walk(card))
        if on_card and can_add and max(on_card) < PEOPLE:
            values = {qid: answers.get(qid) for qid in inputs_of(card)}
            body = user.submit(card, cards.VERB_ADD_PERSON, values)
        else:
            body = answer_card(user, card, answers)
        assert body["type"] == cards.CONTENT_TYPE, body
        card = body["value"]
        if is_advice(card):
            return card, agenda_cards
    raise AssertionError("the review never finished")


@pytest.fixture
async def scheduler_store(migrated_url: str) -> AsyncIterator[AsyncStore]:
    found = AsyncStore(migrated_url)
    try:
        yield found
    finally:
        await found.engine.dispose()


@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_five_people_two_failing_champions_a_plan_a_reminder_done_and_progress(
    live: LiveServer, connector: ConnectorStub, migrated_url: str,
    scheduler_store: AsyncStore, locale: str,
) -> None:
    rita = TeamsUser(live.url, connector, locale="nl-NL" if locale == "nl" else "en-US")
    rita.post(rita.activity("message", text="hi", entities=client_info("Europe/Amsterdam")))
    rita.say(f"lang {locale}")

    # 1. Five people on paged agenda cards (three a card), two champions failing both tests.
    advice, agenda = review(rita, FIVE)
    assert max(max(a) for a in agenda) == PEOPLE
    assert all(len(a) <= 3 for a in agenda) and {4, 5} in agenda
    text = card_text(advice)
    offered = inputs_of(advice)[plan_cards.ACTION_INPUT]["choices"]
    tests = [c for c in offered if c["title"].startswith(("Test Ans", "Test Tom"))]
    assert len(tests) == 2  # a concrete test for each failing champion, in the rep's language
    assert ("as your champion" if locale == "en" else "als champion") in tests[0]["title"]
    assert "Gerard" in text  # the coverage line names who is against

    # 2. Two moves into the plan: one ours due soon, one the economic buyer's.
    soon = date.today() + timedelta(days=1)
    later = date.today() + timedelta(days=30)
    first = rita.submit(advice, plan_cards.VERB_ADD_ACTION, {
        plan_cards.ACTION_INPUT: tests[0]["value"], plan_cards.OWNER_INPUT: "us",
        plan_cards.DUE_INPUT: soon.isoformat()})["value"]
    second_pick = inputs_of(first)[plan_cards.ACTION_INPUT]["choices"][0]["value"]
    owners = inputs_of(first)[plan_cards.OWNER_INPUT]["choices"]
    assert [o["value"] for o in owners][:2] == ["us", "c:Dana"]
    rita.submit(first, plan_cards.VERB_ADD_ACTION, {
        plan_cards.ACTION_INPUT: second_pick, plan_cards.OWNER_INPUT: "c:Dana",
        plan_cards.DUE_INPUT: later.isoformat()})
    with Store(migrated_url).unit_of_work() as uow:
        steps = list(uow.session.scalars(select(PlanStep).order_by(PlanStep.id)))
        assert [(s.owner_kind, s.owner_name, s.due_on) for s in steps] == [
            ("us", None, soon), ("customer", "Dana", later)]
        ours = steps[0].id

    # 3. One overdue reminder, on a workday at 10:00 in Amsterdam, exactly once.
    notifier = TeamsNotifier(live.app.state.teams, AsyncContacts(scheduler_store.run),
                             interval=0, attempts=1)
    moment = overdue_at(soon, "Europe/Amsterdam")
    report = await send_plan_reminders(scheduler_store.run, {"teams": notifier}, now=moment)
    assert report.sent == [ours]
    again = await send_plan_reminders(scheduler_store.run, {"teams": notifier},
                                      now=moment + timedelta(hours=2))
    assert again.sent == []
    (reminder,) = reminders(connector, rita)
    assert ("Overdue in Acme renewal" if locale == "en" else "Te laat bij Acme renewal") \
        in card_text(reminder)

    # 4. *Done* on the reminder: the card shows the step done and the plan's progress.
    done = rita.invoke(plan_cards.VERB_DONE, find_action(reminder, plan_cards.VERB_DONE)["data"])
    one_of_two = progress_line(PlanStatus(total=2, done=1), locale)
    assert one_of_two in card_text(done["value"])

    # 5. The next review of the deal: its advice shows the progress of the plan.
    next_advice, _ = review(rita, FIVE)
    assert one_of_two in card_text(next_advice)
    label = "Close plan:" if locale == "en" else "Afsluitplan:"
    assert f"**{label}** {one_of_two}" in card_text(next_advice)
