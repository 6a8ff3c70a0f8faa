"""Close-plan fixtures: a migrated database per test (SQLite, and PostgreSQL when
DEALCOACH_TEST_POSTGRES_URL is set), reps and completed reviews made through the real review
service (so each review carries the coach's actions)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from dealcoach.services.actors import Actor
from dealcoach.services.reviews import ReviewService
from dealcoach.store import Store

TZ = "Europe/Amsterdam"

# A closing deal: the champion Ans is untested (no access, sells unknown), Gerard is against.
CLOSING: dict[str, Any] = {
    "deal.account": "Acme Corp",
    "deal.stage": "closing",
    "fit.need": "One CRM instead of three spreadsheets",
    "fit.requirements_met": "yes",
    "fit.price_market_conform": "yes",
    "fit.offers_compared": "yes",
    "agenda.1.who": "Dana (CFO)",
    "agenda.1.role": "economic_buyer",
    "agenda.1.certainty": "confirmed",
    "agenda.1.translation": "One dashboard she can show the board",
    "agenda.1.stance": "for",
    "agenda.2.who": "Ans de Vries",
    "agenda.2.role": "champion",
    "agenda.2.certainty": "assumed",
    "agenda.2.champion_access": "no",
    "agenda.2.champion_sells": "unknown",
    "agenda.3.who": "Gerard, IT lead",
    "agenda.3.role": "technical",
    "agenda.3.certainty": "unknown",
    "agenda.3.stance": "against",
    "benefit.customer_wins": "Closing the books two days faster",
    "benefit.customer_ready": "yes",
    "benefit.margin": "healthy",
    "benefit.pros_cons_explained": "yes",
    "signals.silent_after_invite": "no",
}


def rep(user_id: str = "UREP1", *, locale: str = "en", tz: str | None = TZ) -> Actor:
    return Actor(
        platform="slack",
        workspace_id="T0PLAN",
        user_id=user_id,
        display_name=user_id.lower(),
        locale=locale,
        timezone=tz,
    )


def complete(store: Store, who: Actor, deal: str, answers: dict[str, Any]) -> int:
    reviews = ReviewService(store)
    view = reviews.start(who, deal_name=deal)
    view = reviews.save_answers(who, view.review_id, answers)
    return reviews.complete(who, view.review_id, f"plans:{who.user_id}:{view.review_id}").review_id


def deal_of(store: Store, review_id: int) -> int:
    with store.unit_of_work() as uow:
        review = uow.reviews.get(review_id)
        assert review is not None and review.deal_id is not None
        return review.deal_id


def set_timezone(store: Store, who: Actor, tz: str) -> None:
    with store.unit_of_work() as uow:
        person = uow.people.find_by_platform(who.platform, who.workspace_id, who.user_id)
        assert person is not None
        person.timezone = tz
        uow.commit()


@pytest.fixture
def store(database_url: str, migrate_head: Callable[[str], None]) -> Iterator[Store]:
    migrate_head(database_url)  # = migrate(database_url, "head"), from the session's template
    s = Store(database_url)
    try:
        yield s
    finally:
        s.dispose()
