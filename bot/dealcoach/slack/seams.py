"""Two small use cases the review service does not offer (yet), composed from its functions.

- `locale_for(actor)`: the language to answer a command in (the person's choice, else the
  Slack locale, else the workspace default / DEALCOACH_LANG) — before any review exists.
- `share(actor, review_id)`: a completed review's advice plus the reviewer's manager (from
  the team data), for *Share with my manager*.

They run as one unit of work each through `AsyncStore.run`, calling only the services'
and repositories' public functions (no SQL here). They belong in `services/reviews.py`;
when they move there, the adapter calls them through `AsyncReviewService` instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dealcoach.errors import Conflict
from dealcoach.services import reviews as svc
from dealcoach.services.actors import Actor
from dealcoach.store.uow import UnitOfWork


@dataclass(frozen=True)
class SharedReview:
    review_id: int
    locale: str
    advice: Any  # AdviceModel
    manager_user_id: str | None


def _locale_for(uow: UnitOfWork, actor: Actor, default_locale: str) -> str:
    person = svc.resolve_person(uow, actor, default_locale)
    return svc.locale_for(person, actor, default_locale)


def _share(uow: UnitOfWork, actor: Actor, review_id: int, default_locale: str) -> SharedReview:
    view = svc.get_review(uow, actor, review_id)  # ownership: Forbidden / NotFound
    if view.status != "completed":
        raise Conflict("finish the review first; then you can share its advice")
    completed = svc.complete_review(uow, actor, review_id)  # completed: returns it as stored
    person = svc.resolve_person(uow, actor, default_locale)
    manager = uow.teams.manager_of(person.id)
    same_place = manager is not None and manager.workspace_id == person.workspace_id
    return SharedReview(
        review_id=review_id,
        locale=completed.locale,
        advice=completed.advice,
        manager_user_id=manager.user_id if manager is not None and same_place else None,
    )


async def locale_for(astore: Any, actor: Actor, default_locale: str) -> str:
    return str(await astore.run(_locale_for, actor, default_locale))


async def share(astore: Any, actor: Actor, review_id: int, default_locale: str) -> SharedReview:
    result: SharedReview = await astore.run(_share, actor, review_id, default_locale)
    return result
