"""Close plans in a Teams personal chat, over real HTTP (issue 15): *Add to plan* on the advice
(a resubmitted card makes no second step), `plan [deal]` with a step added by hand, *Done* /
*Move date* / *Drop* / *Reopen* on the plan card, only the rep changes the plan, and *Record
outcome* asking why a deal was lost. Every card the bot sends or answers with is checked
against the Adaptive Card 1.5 schema (the `connector` fixture and `TeamsUser.invoke`)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

pytest.importorskip("microsoft_agents.hosting.fastapi", reason="needs the dealcoach[teams] extra")

from sqlalchemy import select
from tests.slack.harness import LiveServer
from tests.teams.connector_stub import ConnectorStub
from tests.teams.harness import TeamsUser, card_text, find_action, inputs_of, walk
from tests.teams.test_review_http import BASE, run_review

from dealcoach.services.actors import Actor
from dealcoach.services.people import resolve_person
from dealcoach.store import Store
from dealcoach.store.models import Deal, PlanStep, Review
from dealcoach.teams import cards, plan_cards

MESSAGE = "application/vnd.microsoft.activity.message"


@pytest.fixture
def rita(live: LiveServer, connector: ConnectorStub) -> TeamsUser:
    return TeamsUser(live.url, connector)


@pytest.fixture
def bob(live: LiveServer, connector: ConnectorStub) -> TeamsUser:
    return TeamsUser(live.url, connector, aad_id="aad-bob", user_id="29:bob", name="Bob Other")


def steps(url: str) -> list[PlanStep]:
    store = Store(url)
    try:
        with store.unit_of_work() as uow:
            found = list(uow.session.scalars(select(PlanStep).order_by(PlanStep.id)))
            uow.session.expunge_all()
            return found
    finally:
        store.dispose()


def choices(card: dict[str, Any], input_id: str) -> list[dict[str, str]]:
    found: list[dict[str, str]] = inputs_of(card)[input_id]["choices"]
    return found


def add_to_plan(user: TeamsUser, advice: dict[str, Any], index: str | None = None,
                owner: str = "us", due: str = "") -> dict[str, Any]:
    """*Add to plan* → pick a move (default: the first offered), an owner and a date."""
    pick = index if index is not None else choices(advice, plan_cards.ACTION_INPUT)[0]["value"]
    body = user.submit(advice, plan_cards.VERB_ADD_ACTION, {
        plan_cards.ACTION_INPUT: pick, plan_cards.OWNER_INPUT: owner,
        plan_cards.DUE_INPUT: due})
    assert body["type"] == cards.CONTENT_TYPE, body
    return body["value"]


def step_button(card: dict[str, Any], verb: str, step_id: int) -> dict[str, Any]:
    for node in walk(card):
        if (node.get("type") == "Action.Execute" and node.get("verb") == verb
                and node["data"].get("step_id") == str(step_id)):
            return node
    raise AssertionError(f"no {verb} button for step {step_id}")


def press(user: TeamsUser, card: dict[str, Any], verb: str, step_id: int,
          values: dict[str, Any] | None = None) -> dict[str, Any]:
    """A step's button (as Teams sends it: the button's data, plus the inputs it carries)."""
    button = step_button(card, verb, step_id)
    data = {**button["data"], **(values or {})}
    return user.invoke(verb, data)


def test_add_to_plan_makes_one_step_even_when_the_card_is_sent_twice(
    rita: TeamsUser, migrated_url: str
) -> None:
    advice, _ = run_review(rita, BASE)
    offered = choices(advice, plan_cards.ACTION_INPUT)
    assert len(offered) >= 2 and offered[0]["value"] == "0"
    assert {c["value"] for c in choices(advice, plan_cards.OWNER_INPUT)} == {"us", "c:Carla"}

    first = add_to_plan(rita, advice)
    assert "Added to the plan of Acme renewal, due" in card_text(first)
    again = add_to_plan(rita, advice)  # the same card, submitted again (a retry, a double click)
    assert "already in the plan of Acme renewal" in card_text(again)
    assert len(steps(migrated_url)) == 1

    # The advice that comes back offers only the moves not in the plan yet, and the plan.
    assert offered[0]["value"] not in {c["value"] for c in
                                      choices(again, plan_cards.ACTION_INPUT)}
    assert find_action(again, plan_cards.VERB_OPEN)["data"]["deal_id"]

    due = (date.today() + timedelta(days=10)).isoformat()
    third = add_to_plan(rita, again, owner="c:Carla", due=due)
    assert "Added to the plan" in card_text(third)
    made = steps(migrated_url)
    assert [(s.owner_kind, s.owner_name) for s in made] == [("us", None), ("customer", "Carla")]
    assert made[1].due_on.isoformat() == due
    assert made[0].text == offered[0]["title"] and made[0].rule
    assert made[0].due_on > date.today()  # blank date: the service's default, a week away


def test_add_to_plan_with_a_past_date_says_so_on_the_advice(
    rita: TeamsUser, migrated_url: str
) -> None:
    advice, _ = run_review(rita, BASE)
    answer = add_to_plan(rita, advice, due=(date.today() - timedelta(days=3)).isoformat())
    assert "Pick today or a later date." in card_text(answer)
    assert cards.OUTCOME_INPUT in inputs_of(answer)  # still the advice
    assert steps(migrated_url) == []


def test_plan_command_shows_the_plan_and_adds_steps_by_hand(
    rita: TeamsUser, migrated_url: str
) -> None:
    rita.say("plan")
    assert "You have no close plans yet" in card_text(rita.last_card())

    advice, _ = run_review(rita, BASE)
    add_to_plan(rita, advice)
    rita.say("plan acme RENEWAL")  # the deal's name as the rep writes it
    plan = rita.last_card()
    text = card_text(plan)
    assert "Close plan · Acme renewal" in text and "0 of 1 step done" in text
    assert "— us, by" in text

    sent = plan
    body = rita.submit(sent, plan_cards.VERB_ADD, {
        plan_cards.TEXT_INPUT: "Send *the* security answers <b>now</b>",
        plan_cards.OWNER_INPUT: "c:Carla"})
    plan = body["value"]
    text = card_text(plan)
    assert "0 of 2 steps done" in text
    assert r"Send \*the\* security answers &lt;b&gt;now&lt;/b&gt; — Carla" in text  # escaped
    made = steps(migrated_url)
    assert made[1].text == "Send *the* security answers <b>now</b>"  # stored as typed

    twice = rita.submit(sent, plan_cards.VERB_ADD, {  # the same card, submitted again
        plan_cards.TEXT_INPUT: "Send *the* security answers <b>now</b>",
        plan_cards.OWNER_INPUT: "c:Carla"})["value"]
    assert "already in the plan of Acme renewal" in card_text(twice)
    assert len(steps(migrated_url)) == 2

    empty = rita.submit(plan, plan_cards.VERB_ADD, {plan_cards.TEXT_INPUT: "  "})["value"]
    assert "Write what the step is." in card_text(empty)
    assert len(steps(migrated_url)) == 2

    rita.say("plan")  # no deal: the rep's plans
    listing = rita.last_card()
    assert "Your close plans" in card_text(listing) and "Acme renewal" in card_text(listing)
    opened = rita.invoke(plan_cards.VERB_OPEN, find_action(listing, plan_cards.VERB_OPEN)["data"])
    assert "Close plan · Acme renewal" in card_text(opened["value"])

    rita.say("plan Globex")
    assert "I found no deal of yours named **Globex**" in rita.texts()[-1]


def test_done_move_drop_and_reopen_on_the_plan_card(rita: TeamsUser, migrated_url: str) -> None:
    advice, _ = run_review(rita, BASE)
    advice = add_to_plan(rita, advice)
    add_to_plan(rita, advice)
    first, second = (s.id for s in steps(migrated_url))
    rita.say("plan Acme renewal")
    plan = rita.last_card()

    done = press(rita, plan, plan_cards.VERB_DONE, first)["value"]
    assert "Marked done. 1 of 2 steps done." in card_text(done)
    assert press(rita, plan, plan_cards.VERB_DONE, first)["value"]  # a second click: no change

    new_date = (date.today() + timedelta(days=20)).isoformat()
    moved = press(rita, done, plan_cards.VERB_MOVE, second,
                  {f"{plan_cards.MOVE_INPUT}{second}": new_date})["value"]
    assert "Moved to" in card_text(moved)
    past = press(rita, moved, plan_cards.VERB_MOVE, second,
                 {f"{plan_cards.MOVE_INPUT}{second}": "2001-01-01"})["value"]
    assert "Pick today or a later date." in card_text(past)

    dropped = press(rita, past, plan_cards.VERB_DROP, second)["value"]
    assert "Dropped. 1 of 1 step done." in card_text(dropped)
    reopened = press(rita, dropped, plan_cards.VERB_REOPEN, first)["value"]
    assert "0 of 1 step done" in card_text(reopened)

    made = {s.id: s for s in steps(migrated_url)}
    assert made[first].status == "open" and made[second].status == "dropped"
    assert made[second].due_on.isoformat() == new_date


def test_only_the_rep_changes_the_plan(
    rita: TeamsUser, bob: TeamsUser, migrated_url: str
) -> None:
    advice, _ = run_review(rita, BASE)
    add_to_plan(rita, advice)
    rita.say("plan Acme renewal")
    plan = rita.last_card()
    (step,) = steps(migrated_url)
    refusal = "Only the rep who owns this deal can change its plan."

    bob.say("hi")
    for verb in (plan_cards.VERB_DONE, plan_cards.VERB_DROP):  # Rita's buttons, Bob's clicks
        assert refusal in card_text(press(bob, plan, verb, step.id)["value"])
    assert refusal in card_text(bob.submit(plan, plan_cards.VERB_ADD, {
        plan_cards.TEXT_INPUT: "Sneaky step"})["value"])
    assert refusal in card_text(bob.invoke(plan_cards.VERB_OPEN,
                                           {"deal_id": str(step.deal_id)})["value"])
    assert refusal in card_text(add_to_plan(bob, advice, index="1"))
    bob.say("plan Acme renewal")  # Bob's own deals only: he has none of that name
    assert "I found no deal of yours named" in bob.texts()[-1]
    bob.say("plan")
    assert "You have no close plans yet" in card_text(bob.last_card())
    assert [(s.status, s.text) for s in steps(migrated_url)] == [("open", step.text)]

    # Rita's manager may look, read-only: no buttons, no form.
    store = Store(migrated_url)
    with store.unit_of_work() as uow:
        boss = resolve_person(uow, Actor("teams", bob.tenant, bob.aad_id))
        rep = resolve_person(uow, Actor("teams", rita.tenant, rita.aad_id))
        uow.reporting.assign(boss, rep)
        uow.commit()
    store.dispose()
    seen = bob.invoke(plan_cards.VERB_OPEN, {"deal_id": str(step.deal_id)})["value"]
    assert "Close plan · Acme renewal" in card_text(seen) and refusal in card_text(seen)
    assert not [n for n in walk(seen) if n.get("type", "").startswith("Action.")]
    assert refusal in card_text(press(bob, plan, plan_cards.VERB_DONE, step.id)["value"])


def test_an_unknown_step_or_deal_is_said_plainly(rita: TeamsUser) -> None:
    rita.say("hi")
    gone = rita.invoke(plan_cards.VERB_DONE, {"step_id": "999", "view": "plan"})["value"]
    assert "That deal or step no longer exists." in card_text(gone)
    bad = rita.invoke(plan_cards.VERB_DONE, {"step_id": "x; drop table"})
    assert bad["statusCode"] == 400
    bad = rita.invoke(plan_cards.VERB_ADD_ACTION, {"review_id": "1", "plan.action": "0",
                                                   "plan.owner": "admin"})
    assert bad["statusCode"] == 400


def _reason(review_url: str) -> tuple[str, str | None, str | None]:
    store = Store(review_url)
    try:
        with store.unit_of_work() as uow:
            review = uow.session.scalars(select(Review)).one()
            deal = uow.session.get(Deal, review.deal_id)
            assert deal is not None
            return deal.outcome, review.outcome_reason, review.outcome_reason_text
    finally:
        store.dispose()


def test_a_lost_deal_is_recorded_with_its_reason(rita: TeamsUser, migrated_url: str) -> None:
    advice, _ = run_review(rita, BASE)
    reasons = choices(advice, plan_cards.REASON_INPUT)
    assert [c["value"] for c in reasons] == [
        "price", "no_decision", "competitor", "timing", "fit", "other"]

    asked = rita.submit(advice, cards.VERB_OUTCOME, {cards.OUTCOME_INPUT: "lost"})["value"]
    assert "Outcome: Lost" in card_text(asked)
    assert inputs_of(asked)[plan_cards.REASON_INPUT]["isRequired"] is True
    assert _reason(migrated_url) == ("open", None, None)  # nothing recorded yet

    recorded = rita.submit(asked, cards.VERB_OUTCOME, {
        plan_cards.REASON_INPUT: "competitor",
        plan_cards.REASON_TEXT_INPUT: "Globex came in 20 % lower"})["value"]
    assert "Outcome recorded for review 1: Lost (Competitor)." in card_text(recorded)
    assert _reason(migrated_url) == ("lost", "competitor", "Globex came in 20 % lower")

    # One submit can carry both; a won deal keeps no reason even when one was picked.
    both = rita.submit(advice, cards.VERB_OUTCOME, {cards.OUTCOME_INPUT: "walked_away",
                                                   plan_cards.REASON_INPUT: "fit"})["value"]
    assert "Walked away (Fit)" in card_text(both)
    assert _reason(migrated_url)[:2] == ("walked_away", "fit")
    won = rita.submit(advice, cards.VERB_OUTCOME, {cards.OUTCOME_INPUT: "won",
                                                  plan_cards.REASON_INPUT: "price"})["value"]
    assert "Outcome recorded for review 1: Won." in card_text(won)
    assert _reason(migrated_url)[0] == "won"

    too_long = rita.submit(asked, cards.VERB_OUTCOME, {
        plan_cards.REASON_INPUT: "price", plan_cards.REASON_TEXT_INPUT: "x" * 400})["value"]
    assert "Keep the reason under 300 characters." in card_text(too_long)


def test_plans_and_reasons_in_dutch(rita: TeamsUser, migrated_url: str) -> None:
    rita.say("lang nl")
    advice, _ = run_review(rita, BASE)
    assert find_action(advice, plan_cards.VERB_ADD_ACTION)["title"] == "Zet in het plan"
    added = add_to_plan(rita, advice, owner="c:Carla")
    assert "Toegevoegd aan het plan van Acme renewal, uiterlijk" in card_text(added)
    rita.say("sluitplan Acme renewal")
    plan = rita.last_card()
    assert "Afsluitplan · Acme renewal" in card_text(plan)
    assert "0 van 1 stap gedaan" in card_text(plan)
    (step,) = steps(migrated_url)
    done = press(rita, plan, plan_cards.VERB_DONE, step.id)["value"]
    assert "Op gedaan gezet. 1 van 1 stap gedaan." in card_text(done)
    asked = rita.submit(added, cards.VERB_OUTCOME, {cards.OUTCOME_INPUT: "lost"})["value"]
    assert "Uitkomst: Verloren" in card_text(asked)
    assert choices(asked, plan_cards.REASON_INPUT)[0]["title"] == "Prijs"
    recorded = rita.submit(asked, cards.VERB_OUTCOME, {plan_cards.REASON_INPUT: "timing"})
    assert "Verloren (Timing)" in card_text(recorded["value"])


def test_a_bad_owner_or_message_for_the_reminder_view(rita: TeamsUser, migrated_url: str) -> None:
    """A refused move on a reminder leaves the reminder as it is and says why."""
    advice, _ = run_review(rita, BASE)
    add_to_plan(rita, advice)
    (step,) = steps(migrated_url)
    body = rita.invoke(plan_cards.VERB_MOVE, {"step_id": str(step.id),
                                              "deal_id": str(step.deal_id), "view": "reminder",
                                              f"{plan_cards.MOVE_INPUT}{step.id}": "someday"})
    assert body["type"] == MESSAGE and body["value"] == "Pick a date (YYYY-MM-DD)."
