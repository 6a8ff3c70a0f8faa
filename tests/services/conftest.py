"""Service fixtures: a migrated database per test (SQLite and PostgreSQL), the review
service on it, and a complete set of answers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from dealcoach.services.actors import Actor
from dealcoach.services.reviews import ReviewService
from dealcoach.store import Store

ANN = Actor(platform="slack", workspace_id="T1", user_id="U_ANN", display_name="Ann")
BOB = Actor(platform="slack", workspace_id="T1", user_id="U_BOB", display_name="Bob")

FULL_ANSWERS: dict[str, Any] = {
    "deal.name": "Acme rollout",
    "deal.account": "Acme",
    "deal.value": "120k",
    "deal.stage": "negotiation",
    "fit.need": "faster invoicing",
    "fit.requirements_met": "yes",
    "fit.price_market_conform": "yes",
    "fit.offers_compared": "yes",
    "agenda.1.who": "Carla",
    "agenda.1.role": "economic_buyer",
    "agenda.1.interests": ["relationship"],
    "agenda.1.other_interest": None,
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


@pytest.fixture
def store(database_url: str, migrate_head: Callable[[str], None]) -> Iterator[Store]:
    migrate_head(database_url)  # = migrate(database_url, "head"), from the session's template
    s = Store(database_url)
    try:
        yield s
    finally:
        s.dispose()


@pytest.fixture
def service(store: Store) -> ReviewService:
    return ReviewService(store)


def answer_all(service: ReviewService, actor: Actor, review_id: int) -> None:
    """Answer step by step, the way an adapter does, until nothing is left to ask."""
    view = service.get(actor, review_id)
    while view.next_step is not None:
        step = {qid: FULL_ANSWERS.get(qid) for qid in view.next_step.question_ids}
        view = service.save_answers(actor, review_id, step)
