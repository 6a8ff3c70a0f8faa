"""A review in a Teams personal chat, over real HTTP: Teams-shaped `message` and `invoke`
activities posted to `/api/messages` of the live app, replies recorded by the loopback
Connector stand-in, every card checked against the Adaptive Card 1.5 schema."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("microsoft_agents.hosting.fastapi", reason="needs the dealcoach[teams] extra")

from sqlalchemy import func, select
from tests.slack.harness import LiveServer
from tests.teams.connector_stub import ConnectorStub
from tests.teams.harness import TeamsUser, card_text, inputs_of

from dealcoach.store import Store
from dealcoach.store.models import Person, Review
from dealcoach.teams import cards

BASE: dict[str, Any] = {
    "deal.name": "Acme renewal",
    "deal.account": "Acme",
    "deal.value": "120k",
    "deal.stage": "negotiation",
    "fit.need": "faster invoicing",
    "fit.requirements_met": "yes",
    "fit.price_market_conform": "yes",
    "fit.offers_compared": "yes",
    "agenda.1.who": "Carla",
    "agenda.1.role": "economic_buyer",
    "agenda.1.interests": ["relationship", "easier_life"],
    "agenda.1.certainty": "confirmed",
    "agenda.1.translation": "she gets the promotion",
    "agenda.1.new_in_role": "no",
    "agenda.1.competitor_relationship": "no",
    "benefit.customer_wins": "saves 2 FTE",
    "benefit.customer_ready": "yes",
    "benefit.we_win": "a reference customer",
    "benefit.margin": "healthy",
    "benefit.pros_cons_explained": "yes",
    "signals.silent_after_invite": "no",
}

SCENARIOS = {
    "pursue": {},
    "strengthen": {"fit.requirements_met": "partly"},
    "renegotiate": {"fit.price_market_conform": "no"},
    "walk_away": {"benefit.customer_ready": "no"},
}


@pytest.fixture
def rita(live: LiveServer, connector: ConnectorStub) -> TeamsUser:
    return TeamsUser(live.url, connector)


def answer_card(user: TeamsUser, card: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """Fill the card's inputs from `answers` and press Next; return the invoke response."""
    values = {qid: answers.get(qid) for qid in inputs_of(card)}
    return user.submit(card, cards.VERB_STEP, values)


def is_advice(card: dict[str, Any]) -> bool:
    return cards.OUTCOME_INPUT in inputs_of(card)


def run_review(user: TeamsUser, answers: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    user.say("review Acme renewal")
    card = user.last_card()
    seen: list[str] = []
    for _ in range(12):
        seen.append(card_text(card).splitlines()[0])
        body = answer_card(user, card, answers)
        assert body["statusCode"] == 200 and body["type"] == cards.CONTENT_TYPE, body
        card = body["value"]
        if is_advice(card):
            return card, seen
    raise AssertionError("the review never finished")


@pytest.mark.parametrize("recommendation", sorted(SCENARIOS))
def test_a_full_review_in_teams_ends_with_the_advice_card(
    rita: TeamsUser, migrated_url: str, recommendation: str
) -> None:
    advice, steps = run_review(rita, {**BASE, **SCENARIOS[recommendation]})

    assert steps[0].startswith("Step 1")  # one card per round, fit first
    text = card_text(advice)
    assert "Acme renewal" in text
    buttons = {a.get("verb") or a.get("title") for a in advice["actions"]}
    assert {cards.VERB_UPDATE, cards.VERB_SHARE, "Record outcome"} <= buttons
    with Store(migrated_url).unit_of_work() as uow:
        reviews = uow.session.scalars(select(Review)).all()
        assert [(r.status, r.platform, r.recommendation) for r in reviews] == [
            ("completed", "teams", recommendation)
        ]


def test_the_step_cards_use_the_question_ids_as_input_ids(rita: TeamsUser) -> None:
    rita.say("dealcoach")
    first = inputs_of(rita.last_card())
    assert {"deal.name", "deal.account", "deal.value", "deal.stage"} <= set(first)
    assert first["deal.stage"]["type"] == "Input.ChoiceSet"
    assert [c["value"] for c in first["deal.stage"]["choices"]] == [
        "discovery", "proposal", "negotiation", "closing"]
    assert first["deal.name"]["isRequired"] is True


def test_drafts_are_saved_per_step_and_dealcoach_resumes_them(
    rita: TeamsUser, migrated_url: str
) -> None:
    rita.say("review Acme renewal")
    body = answer_card(rita, rita.last_card(), BASE)
    assert "agenda.1.who" in inputs_of(body["value"])
    rita.say("dealcoach")  # a new message later: the same draft, at the agenda round
    resumed = rita.last_card()
    assert "agenda.1.who" in inputs_of(resumed)
    assert "unfinished review" in card_text(resumed)
    with Store(migrated_url).unit_of_work() as uow:
        assert uow.reviews.count() == 1
        review = uow.session.scalars(select(Review)).one()
        assert uow.reviews.answers(review.id)["fit.need"] == "faster invoicing"


def test_a_validation_error_is_shown_on_the_card(rita: TeamsUser) -> None:
    rita.say("dealcoach")
    card = rita.last_card()
    body = rita.submit(card, cards.VERB_STEP, {"deal.name": "", "deal.value": "lots"})
    shown = body["value"]
    assert "deal.name" in inputs_of(shown)  # the same step again
    assert inputs_of(shown)["deal.value"]["value"] == "lots"  # what was typed is kept
    assert any(b.get("color") == "Attention" for b in shown["body"])


def test_a_resubmitted_last_card_does_not_create_a_second_review(
    rita: TeamsUser, migrated_url: str
) -> None:
    rita.say("review Acme renewal")
    card = rita.last_card()
    for _ in range(12):
        first = answer_card(rita, card, BASE)
        if is_advice(first["value"]):
            break
        card = first["value"]
    assert is_advice(first["value"])
    again = answer_card(rita, card, BASE)  # the same last card, submitted again
    assert again["value"] == first["value"]  # the same advice, in place
    with Store(migrated_url).unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Review)) == 1


def test_a_bad_card_payload_gets_one_clear_error(rita: TeamsUser) -> None:
    body = rita.invoke(cards.VERB_STEP, {"review_id": "not-a-number", "qids": "deal.name"})
    assert body["statusCode"] == 400 and "review" in body["value"]["message"]
    body = rita.invoke("dealcoach.explode", {"review_id": "1"})
    assert body["statusCode"] == 400 and "unknown card action" in body["value"]["message"]
    response = rita.post(rita.activity("invoke", name="adaptiveCard/action", value="garbage"))
    assert response.status_code == 200 and response.json()["statusCode"] == 400
    response = rita.client.post(f"{rita.base_url}/api/messages", content=b"{not json")
    assert response.status_code == 400 and "JSON" in response.json()["error"]


def test_someone_elses_review_is_refused(rita: TeamsUser, live: LiveServer,
                                         connector: ConnectorStub) -> None:
    rita.say("dealcoach")
    card = rita.last_card()
    bob = TeamsUser(live.url, connector, aad_id="aad-bob", user_id="29:bob", name="Bob")
    body = bob.submit(card, cards.VERB_STEP, {"deal.name": "Stolen"})
    assert "belongs to someone else" in card_text(body["value"])


def test_the_conversation_reference_is_stored_on_first_contact(
    rita: TeamsUser, migrated_url: str, connector: ConnectorStub
) -> None:
    rita.say("help")
    assert "dealcoach" in card_text(rita.last_card())
    with Store(migrated_url).unit_of_work() as uow:
        person = uow.session.scalars(select(Person)).one()
        ref, user_id = person.teams_conversation_ref, person.user_id
    assert user_id == "aad-rita"
    assert ref is not None and ref["serviceUrl"] == connector.url
    assert ref["conversation"]["id"] == rita.conversation_id


def test_lang_switches_the_cards_to_dutch(rita: TeamsUser) -> None:
    rita.say("lang nl")
    assert rita.texts()[-1] == "Taal ingesteld op Nederlands."
    rita.say("dealcoach")
    assert card_text(rita.last_card()).startswith("Stap 1")


def test_history_lists_completed_reviews(rita: TeamsUser) -> None:
    run_review(rita, BASE)
    rita.say("history")
    text = card_text(rita.last_card())
    assert "Acme renewal" in text and "Your last reviews" in text
