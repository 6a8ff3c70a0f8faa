"""A review page may hold more than one round: in Teams the warning signals are the closing
section of the mutual-benefit card (a heading and the round's intro), so a review is three
cards, over real HTTP on SQLite and PostgreSQL; the card stays valid and small."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("microsoft_agents.hosting.fastapi", reason="needs the dealcoach[teams] extra")

from sqlalchemy import select
from tests.slack.harness import LiveServer
from tests.teams.card_schema import assert_valid_card
from tests.teams.connector_stub import ConnectorStub
from tests.teams.harness import TeamsUser, card_text, inputs_of, walk
from tests.teams.test_review_http import BASE, answer_card, is_advice

from dealcoach.services.actors import Actor
from dealcoach.services.reviews import ReviewService
from dealcoach.store import Store, migrate
from dealcoach.store.models import Review
from dealcoach.teams import cards
from dealcoach.teams.review_cards import MAX_CARD_BYTES, card_bytes, step_card

SIGNALS = "signals.silent_after_invite"
HEADINGS = {"en": "Warning signals", "nl": "Waarschuwingssignalen"}
INTROS = {"en": "One last check", "nl": "Nog één check"}


@pytest.fixture
def rita(live: LiveServer, connector: ConnectorStub) -> TeamsUser:
    return TeamsUser(live.url, connector)


def _in_order(card: dict[str, Any]) -> list[dict[str, Any]]:
    """The card body's text blocks and inputs, in reading order."""
    return [n for n in walk(card["body"]) if n.get("type") == "TextBlock"
            or str(n.get("type", "")).startswith("Input.")]


def _check_benefit_card(card: dict[str, Any], locale: str = "en") -> None:
    """Headed by round 3; the signals' heading and intro just before the signals input."""
    assert_valid_card(card)
    assert card_bytes(card) <= MAX_CARD_BYTES
    first = card_text(card).splitlines()[0]
    assert first.startswith(("Step 3 · Round 3", "Stap 3 · Ronde 3")), first
    items = _in_order(card)
    at = next(i for i, n in enumerate(items) if n.get("id") == SIGNALS)
    heading, intro = items[at - 2], items[at - 1]
    assert heading["text"] == HEADINGS[locale] and heading["weight"] == "Bolder"
    assert heading.get("separator") is True
    assert intro["text"].startswith(INTROS[locale])
    assert list(inputs_of(card))[-1] == SIGNALS
    assert [n.get("text") for n in items].count(HEADINGS[locale]) == 1


def test_a_teams_review_completes_in_three_cards(rita: TeamsUser, migrated_url: str) -> None:
    rita.say("review Acme renewal")
    card = rita.last_card()
    shown: list[dict[str, Any]] = []
    for _ in range(6):
        shown.append(card)
        body = answer_card(rita, card, BASE)
        assert body["statusCode"] == 200 and body["type"] == cards.CONTENT_TYPE, body
        card = body["value"]
        if is_advice(card):
            break
    else:
        raise AssertionError("the review never finished")
    assert len(shown) == 3
    titles = [card_text(c).splitlines()[0] for c in shown]
    assert [t.split(" · ")[0] for t in titles] == ["Step 1", "Step 2", "Step 3"]
    _check_benefit_card(shown[2])
    finish = next(a for a in shown[2]["actions"] if a["verb"] == cards.VERB_STEP)
    assert finish["data"]["qids"].split(",")[-1] == SIGNALS
    with Store(migrated_url).unit_of_work() as uow:
        review = uow.session.scalars(select(Review)).one()
        assert review.status == "completed"
        assert uow.reviews.answers(review.id)[SIGNALS] == "no"


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    migrate(database_url, "head")
    found = Store(database_url)
    try:
        yield found
    finally:
        found.dispose()


@pytest.mark.parametrize("locale", ["en", "nl"])
def test_the_benefit_card_holds_the_signals_section_in_both_languages(
    store: Store, locale: str
) -> None:
    reviews = ReviewService(store)
    rep = Actor("teams", "tenant-1", "aad-rita", display_name="Rita", locale=locale)
    view = reviews.start(rep, deal_name="Acme renewal")
    below_cost = {**BASE, "benefit.margin": "below_cost", "benefit.strategic_reason": "x" * 400,
                  "benefit.renegotiable": "no", "benefit.customer_wins": "y" * 2000}
    done = reviews.save_answers(rep, view.review_id, below_cost)
    while done.next_step is not None:  # what BASE leaves out: asked, left blank
        done = reviews.save_answers(rep, view.review_id,
                                    dict.fromkeys(done.next_step.question_ids))
    reviews.complete(rep, view.review_id, f"pages:{locale}")
    draft = reviews.reopen(rep, view.review_id)
    while draft.show is not None and draft.show.round != "benefit":
        qids = draft.show.question_ids
        draft = reviews.save_step(rep, draft.review_id, {q: draft.answers.get(q) for q in qids},
                                  "k", qids).review
    assert draft.show is not None and draft.show.is_last and draft.show.number == 3
    card = step_card(draft, draft.show)  # the whole page, follow-ups and long answers too
    _check_benefit_card(card, locale)
    assert "benefit.renegotiable" in inputs_of(card)
    # The page's follow-up step alone (a changed margin) has no signals heading.
    follow = draft.show.step.model_copy(update={
        "questions": tuple(q for q in draft.show.step.questions if q.ask_when is not None),
        "is_followup": True,
    })
    only = step_card(draft, type(draft.show)(follow, 3, False, True))
    assert HEADINGS[locale] not in card_text(only)
