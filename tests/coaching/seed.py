"""A team with completed reviews (through the review service, so each has its advice).

MANAGER manages REP; OTHER_MANAGER manages OTHER_REP (another team). Everyone is in one
workspace of one platform; ids are Slack-shaped so the same seed serves Slack and Teams tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.slack.driver import SCENARIOS

from dealcoach.services.actors import Actor, Platform
from dealcoach.services.reviews import ReviewService
from dealcoach.store import Store

MANAGER, REP, OTHER_MANAGER, OTHER_REP = "UMGR0001", "UREP0001", "UMGR0002", "UREP0002"
NAMES = {MANAGER: "Mia", REP: "Rob", OTHER_MANAGER: "Olaf", OTHER_REP: "Otto"}


@dataclass(frozen=True)
class Seeded:
    review_id: int  # REP's walk-away review of "Acme renewal"
    second_review_id: int  # REP's later review of the same deal
    other_review_id: int  # OTHER_REP's review (another team)


def actor(
    user_id: str, *, platform: Platform = "slack", workspace: str = "T0ACME", locale: str = "en"
) -> Actor:
    return Actor(
        platform=platform,
        workspace_id=workspace,
        user_id=user_id,
        display_name=NAMES.get(user_id, user_id.lower()),
        locale=locale,
    )


def complete(reviews: ReviewService, who: Actor, deal: str, answers: dict[str, Any]) -> int:
    view = reviews.start(who, deal_name=deal)
    raw = {k: v for k, v in answers.items() if k != "deal.name"}
    view = reviews.save_answers(who, view.review_id, raw)
    done = reviews.complete(who, view.review_id, f"seed:{who.user_id}:{deal}:{view.review_id}")
    return done.review_id


def seed_team(
    url: str,
    *,
    platform: Platform = "slack",
    workspace: str = "T0ACME",
    locale: str = "en",
    ids: dict[str, str] | None = None,
) -> Seeded:
    ids = ids or {}
    store = Store(url)
    try:
        reviews = ReviewService(store)

        def who(uid: str) -> Actor:
            return actor(ids.get(uid, uid), platform=platform, workspace=workspace, locale=locale)

        walk = {**SCENARIOS["walk_away"], "deal.stage": "negotiation"}
        first = complete(reviews, who(REP), "Acme renewal", walk)
        other = complete(reviews, who(OTHER_REP), "Secret Omega", SCENARIOS["walk_away"])
        with store.unit_of_work() as uow:
            ws = uow.workspaces.find(platform, workspace)
            assert ws is not None
            people = {}
            for uid in (MANAGER, REP, OTHER_MANAGER, OTHER_REP):
                person = uow.people.get_or_create(ws, ids.get(uid, uid), display_name=NAMES[uid])
                if locale != "en":
                    person.locale = locale
                people[uid] = person
            uow.flush()
            uow.reporting.assign(people[MANAGER], people[REP])
            uow.reporting.assign(people[OTHER_MANAGER], people[OTHER_REP])
            uow.commit()
        return Seeded(first, 0, other)
    finally:
        store.dispose()


def second_review(
    url: str,
    *,
    platform: Platform = "slack",
    workspace: str = "T0ACME",
    locale: str = "en",
    rep: str = REP,
) -> int:
    store = Store(url)
    try:
        reviews = ReviewService(store)
        who = actor(rep, platform=platform, workspace=workspace, locale=locale)
        return complete(reviews, who, "Acme renewal", SCENARIOS["strengthen"])
    finally:
        store.dispose()
