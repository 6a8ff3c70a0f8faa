"""Six decision-makers in Teams, over HTTP (issue 15): the agenda round is paged three people
to a card (`teams/review_cards.py`), on a new review, on *Update review* (every page walked
again, prefilled), and when a page has an answer to fix (the same page again, still with
*Next*); *Add a decision-maker* stops at six."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("microsoft_agents.hosting.fastapi", reason="needs the dealcoach[teams] extra")

from sqlalchemy import select
from tests.plans.test_teams_follow_through import FIVE, persons_on, review
from tests.slack.harness import LiveServer
from tests.teams.connector_stub import ConnectorStub
from tests.teams.harness import TeamsUser, card_text, find_action, inputs_of, walk
from tests.teams.test_review_http import answer_card, is_advice

from dealcoach.store import Store
from dealcoach.store.models import Review
from dealcoach.teams import cards


@pytest.fixture
def rita(live: LiveServer, connector: ConnectorStub) -> TeamsUser:
    return TeamsUser(live.url, connector)


def has_add_person(card: dict[str, Any]) -> bool:
    return any(n.get("verb") == cards.VERB_ADD_PERSON for n in walk(card))


def test_update_review_walks_every_page_of_the_agenda(rita: TeamsUser, migrated_url: str) -> None:
    advice, pages = review(rita, FIVE)
    assert pages[:3] == [{1}, {1, 2}, {1, 2, 3}] and {4, 5} in pages and pages[-1] == {2, 5}
    update = find_action(advice, cards.VERB_UPDATE)
    rita.invoke(cards.VERB_UPDATE, update["data"])
    card = rita.last_card()  # the new draft's first step, posted as a new card
    seen: list[set[int]] = []
    for _ in range(12):
        if persons_on(card):
            seen.append(persons_on(card))
            assert all(inputs_of(card)[f"agenda.{n}.who"].get("value") for n in persons_on(card))
        body = rita.submit(card, cards.VERB_STEP, {})  # every answer as prefilled
        card = body["value"]
        if is_advice(card):
            break
    assert seen[:2] == [{1, 2, 3}, {4, 5}]
    text = card_text(card)
    assert "Tom Peters" in text and "Priya" in text
    store = Store(migrated_url)
    with store.unit_of_work() as uow:
        reviews = uow.session.scalars(select(Review).order_by(Review.id)).all()
        assert [r.status for r in reviews] == ["completed", "completed"]
        assert uow.reviews.answers(reviews[1].id)["agenda.5.who"] == "Tom Peters"
    store.dispose()


def test_a_page_to_fix_is_shown_again_and_six_is_the_most(rita: TeamsUser) -> None:
    rita.say("review Acme renewal")
    card = answer_card(rita, rita.last_card(), FIVE)["value"]  # the business round
    for _ in range(3):  # people 1..3, then the page is full
        values = {qid: FIVE.get(qid) for qid in inputs_of(card)}
        card = rita.submit(card, cards.VERB_ADD_PERSON, values)["value"]
    assert persons_on(card) == {4}
    assert "Decision-maker 4 of 4" in card_text(card)
    card = rita.submit(card, cards.VERB_ADD_PERSON, {"agenda.4.who": "Priya"})["value"]
    card = rita.submit(card, cards.VERB_ADD_PERSON, {"agenda.5.who": "Tom"})["value"]
    assert persons_on(card) == {4, 5, 6} and not has_add_person(card)  # six: no more
    assert "Decision-makers 4–6 of 6" in card_text(card)

    fixed = rita.submit(card, cards.VERB_STEP, {"agenda.6.who": "x" * 300})["value"]
    assert persons_on(fixed) == {4, 5, 6}  # the same page, with what to fix
    assert any(b.get("color") == "Attention" for b in walk(fixed))
    assert inputs_of(fixed)["agenda.4.who"]["value"] == "Priya"
    after = rita.submit(fixed, cards.VERB_STEP, {"agenda.6.who": "Lotte"})["value"]
    assert not persons_on(after) or all(
        q.endswith(("champion_access", "champion_sells", "discovery_plan"))
        for q in inputs_of(after))  # the follow-ups, or the next round: the agenda is done

