"""Six decision-makers (issue 15) within Slack's limits: the review modal's agenda step with
six people and every follow-up (≤ 100 blocks, nothing cut), and the advice for six people
with its *Add to plan* buttons (≤ 50 blocks, nothing cut) — both validated with
slack_sdk.models, en and nl. How the agenda fits is said in slack/modal.py's docstring."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from tests.slack.driver import validate_blocks, validate_view

from dealcoach.coach.bank import load_bank
from dealcoach.services.actors import Actor
from dealcoach.services.reviews import ReviewService
from dealcoach.slack.advice import advice_blocks
from dealcoach.slack.flow import view_for
from dealcoach.slack.plan_blocks import candidates_of
from dealcoach.slack.strings import t
from dealcoach.store import Store, migrate

PEOPLE = 6
ROLES = ["economic_buyer", "champion", "champion", "technical", "user", "other"]


def person(n: int, *, long: bool, role: str) -> dict[str, Any]:
    """Every agenda question of person n, answered so that each follow-up applies: unknown
    certainty (→ discovery plan), a champion's two tests (for a champion), the other
    interest."""
    filler = " and more words to fill the field" * (12 if long else 0)
    return {
        f"agenda.{n}.who": f"Person {n} <!channel> (Director{filler[:100]})",
        f"agenda.{n}.role": role,
        f"agenda.{n}.interests": ["power_position", "easier_life"],
        f"agenda.{n}.certainty": "unknown",
        f"agenda.{n}.translation": f"Their personal win{filler}",
        f"agenda.{n}.new_in_role": "yes",
        f"agenda.{n}.competitor_relationship": "yes",
        f"agenda.{n}.other_interest": f"Wants a promotion{filler}",
        f"agenda.{n}.discovery_plan": f"Ask the CFO over lunch{filler}",
        f"agenda.{n}.stance": "against" if n % 2 else "neutral",
        f"agenda.{n}.champion_access": "no",
        f"agenda.{n}.champion_sells": "no",
    }


def answers(*, long: bool, all_champions: bool = False) -> dict[str, Any]:
    filler = " with a long explanation" * (40 if long else 0)
    out: dict[str, Any] = {
        "deal.name": "Acme six",
        "deal.account": "Acme Corp",
        "deal.value": "250k",
        "deal.stage": "negotiation",
        "fit.need": f"One CRM{filler}",
        "fit.requirements_met": "partly",
        "fit.price_market_conform": "unknown",
        "fit.offers_compared": "no",
        "benefit.customer_wins": f"Faster close{filler}",
        "benefit.customer_ready": "doubtful",
        "benefit.we_win": f"A reference{filler}",
        "benefit.margin": "thin",
        "benefit.strategic_reason": f"A new market{filler}",
        "benefit.pros_cons_explained": "partly",
        "signals.silent_after_invite": "yes",
    }
    for n in range(1, PEOPLE + 1):
        role = "champion" if all_champions else ROLES[n - 1]
        out.update(person(n, long=long, role=role))
    return out


@pytest.fixture
def reviews(tmp_path: Any) -> Iterator[ReviewService]:
    url = f"sqlite:///{tmp_path / 'six.db'}"
    migrate(url, "head")
    store = Store(url)
    try:
        yield ReviewService(store)
    finally:
        store.dispose()


def actor(locale: str) -> Actor:
    return Actor(
        platform="slack", workspace_id="T0SIX", user_id="U0SIX", display_name="six", locale=locale
    )


def test_the_bank_holds_six_decision_makers() -> None:
    assert load_bank("en").max_people == PEOPLE


@pytest.mark.parametrize("locale", ["en", "nl"])
@pytest.mark.parametrize("long", [False, True])
def test_the_agenda_step_with_six_people_and_every_follow_up_fits(
    reviews: ReviewService, locale: str, long: bool
) -> None:
    who = actor(locale)
    given = answers(long=long, all_champions=True)  # 12 questions each: the most
    view = reviews.start(who, deal_name="Acme six")
    reviews.save_answers(who, view.review_id, given)
    # The agenda round shown whole again (as *Add a decision-maker* does), six people.
    agenda = reviews.add_person(who, view.review_id, PEOPLE)
    assert agenda.show is not None and agenda.show.step.round == "agenda"
    modal = view_for(agenda)
    assert modal is not None
    validate_view(modal)
    blocks = modal["blocks"]
    assert len(blocks) <= 100
    inputs = [b["block_id"] for b in blocks if b["type"] == "input"]
    asked = [q.id for q in agenda.show.step.questions]
    assert inputs == asked  # nothing cut
    assert len(asked) == 12 * PEOPLE
    assert t(locale, "modal.truncated") not in json.dumps(modal)
    assert not any(
        b.get("elements", [{}])[0].get("action_id") == "add_person"
        for b in blocks
        if b["type"] == "actions"
    )  # six is the most


@pytest.mark.parametrize("locale", ["en", "nl"])
@pytest.mark.parametrize("long", [False, True])
def test_the_advice_for_six_people_fits_one_message(
    reviews: ReviewService, locale: str, long: bool
) -> None:
    who = actor(locale)
    view = reviews.start(who, deal_name="Acme six")
    reviews.save_answers(who, view.review_id, answers(long=long))
    completed = reviews.complete(who, view.review_id, f"six:{view.review_id}")
    candidates = candidates_of(completed)
    assert candidates
    blocks, fallback = advice_blocks(
        completed.advice, str(completed.review_id), candidates=candidates
    )
    validate_blocks(blocks, limit=50)
    buttons = [b for b in blocks if str(b.get("block_id", "")).startswith("dealcoach_advice_plan")]
    assert len(buttons) == len(candidates)
    if not long:  # nothing is cut when the answers are of a usual length
        assert t(locale, "modal.truncated") not in json.dumps(blocks)
    for n in range(1, PEOPLE + 1):
        assert f"Person {n}" in fallback
    assert "<!channel>" not in "".join(
        str(b.get("text", {}).get("text", "")) for b in blocks if b["type"] == "section"
    )
