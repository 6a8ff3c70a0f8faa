"""Six decision-makers and Teams' card size (issue 15): the agenda round with six people and
every follow-up, and the advice of a six-person deal, measured as they would be sent.

Teams refuses a message over ~28 KB. The whole agenda round with six people, every
follow-up and long answers does not fit one card, so the adapter pages it (three people a
card, fewer when the answers are long; `teams/review_cards.py`): each page and the advice
stay under `MAX_CARD_BYTES` and are valid Adaptive Cards, and the pages together ask every
question of the round exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.teams.card_schema import assert_valid_card
from tests.teams.harness import inputs_of

from dealcoach.coach.bank import load_bank
from dealcoach.services.actors import Actor
from dealcoach.services.reviews import ReviewService
from dealcoach.store import Store, migrate
from dealcoach.teams import cards
from dealcoach.teams.review_cards import (
    MAX_CARD_BYTES,
    PAGE_PEOPLE,
    advice_of,
    card_bytes,
    step_card,
)

TEAMS_LIMIT = 28 * 1024
LONG = 400  # characters in every free-text answer: a talkative rep

BUSINESS: dict[str, Any] = {
    "deal.name": "Acme renewal",
    "deal.account": "Acme",
    "deal.value": "120k",
    "deal.stage": "negotiation",
    "fit.need": "faster invoicing",
    "fit.requirements_met": "yes",
    "fit.price_market_conform": "yes",
    "fit.offers_compared": "yes",
    "benefit.customer_wins": "saves 2 FTE",
    "benefit.customer_ready": "yes",
    "benefit.we_win": "a reference customer",
    "benefit.margin": "healthy",
    "benefit.pros_cons_explained": "yes",
    "signals.silent_after_invite": "no",
}
ROLES = ["economic_buyer", "champion", "technical", "user", "champion", "other"]
NAMES = ["Carla Jansen", "Ans de Vries", "Gerard Bakker", "Priya Shah", "Tom Peters",
         "Lotte Visser"]


def text(n: int, what: str) -> str:
    return (f"{what} of person {n}: " + "a long and careful note " * 20)[:LONG]


def six_people() -> dict[str, Any]:
    """Six people, each with every follow-up asked: certainty unknown (→ discovery plan),
    champions with both tests, every text answer long."""
    answers: dict[str, Any] = {}
    for n, (role, name) in enumerate(zip(ROLES, NAMES, strict=True), 1):
        answers.update({
            f"agenda.{n}.who": name,
            f"agenda.{n}.role": role,
            f"agenda.{n}.interests": ["relationship", "easier_life", "values"],
            f"agenda.{n}.other_interest": text(n, "other interest"),
            f"agenda.{n}.certainty": "unknown",
            f"agenda.{n}.translation": text(n, "translation"),
            f"agenda.{n}.new_in_role": "no",
            f"agenda.{n}.competitor_relationship": "unknown",
            f"agenda.{n}.stance": "for" if n % 2 else "against",
            f"agenda.{n}.discovery_plan": text(n, "discovery plan"),
        })
        if role == "champion":
            answers[f"agenda.{n}.champion_access"] = "no"
            answers[f"agenda.{n}.champion_sells"] = "no"
    return answers


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    migrate(database_url, "head")
    found = Store(database_url)
    try:
        yield found
    finally:
        found.dispose()


def completed(store: Store, locale: str) -> tuple[ReviewService, Actor, int]:
    reviews = ReviewService(store)
    rep = Actor("teams", "tenant-1", "aad-rita", display_name="Rita", locale=locale)
    view = reviews.start(rep, deal_name="Acme renewal")
    reviews.save_answers(rep, view.review_id, {**BUSINESS, **six_people()})
    done = reviews.complete(rep, view.review_id, f"size:{locale}")
    return reviews, rep, done.review_id


@pytest.mark.parametrize("locale", ["en", "nl"])
def test_the_agenda_with_six_people_and_every_follow_up_fits_in_pages(
    store: Store, locale: str
) -> None:
    bank = load_bank(locale)
    assert bank.max_people == 6
    reviews, rep, review_id = completed(store, locale)
    draft = reviews.reopen(rep, review_id)  # *Update review*: every answer on the cards
    view = reviews.add_person(rep, draft.review_id, 6)
    assert view.show is not None
    everything = view.show.question_ids
    assert len(everything) == 6 * 10 + 2 * 2  # ten each (certainty unknown) + the tests

    whole = cards.step_card(review_id="1", questions=list(view.show.step.questions),
                            answers=view.answers, locale=locale, round_id="agenda",
                            people=6, nonce="x" * 16)
    assert card_bytes(whole) > TEAMS_LIMIT  # one card would be refused: hence the pages

    asked: list[str] = []
    start, pages = 0, []
    while True:
        page = step_card(view, view.show, start=start)
        assert_valid_card(page)
        assert card_bytes(page) <= MAX_CARD_BYTES < TEAMS_LIMIT
        shown = list(inputs_of(page))
        action = next(a for a in page["actions"] if a["verb"] == cards.VERB_STEP)
        assert action["data"]["qids"].split(",") == shown
        asked.extend(shown)
        pages.append(page)
        if not action["data"].get("more"):
            break
        start = max(int(q.split(".")[1]) for q in shown)
    assert sorted(asked) == sorted(everything) and len(asked) == len(set(asked))
    assert 2 <= len(pages) <= 6
    assert all(len({q.split(".")[1] for q in inputs_of(p)}) <= PAGE_PEOPLE for p in pages)


@pytest.mark.parametrize("locale", ["en", "nl"])
def test_the_advice_of_a_six_person_deal_fits_one_card(store: Store, locale: str) -> None:
    reviews, rep, review_id = completed(store, locale)
    done = reviews.complete(rep, review_id, f"size:{locale}")
    card = advice_of(done)
    assert_valid_card(card)
    assert card_bytes(card) <= MAX_CARD_BYTES
    assert "Ans de Vries" in str(card) and "Lotte Visser" in str(card)
