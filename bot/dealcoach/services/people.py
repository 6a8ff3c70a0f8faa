"""People use cases the adapters need besides reviews: remembering where a person can be
reached proactively (a Teams personal chat's conversation reference).

Same shape as `services/reviews.py`: the logic is one `fn(uow, …)`, run by `PeopleService`
through `Store.run` and by `AsyncPeopleService` through `AsyncStore.run`.
"""

from __future__ import annotations

from typing import Any

from dealcoach.services.actors import Actor
from dealcoach.services.reviews import locale_for, resolve_person
from dealcoach.store.uow import AsyncStore, Store, UnitOfWork


def remember_conversation(
    uow: UnitOfWork, actor: Actor, reference: dict[str, Any] | None, default_locale: str = "en"
) -> str:
    """Store the person's personal-chat reference (when new or changed; None keeps the one
    stored) and return the language to answer them in."""
    person = resolve_person(uow, actor, default_locale)
    if reference is not None and person.teams_conversation_ref != reference:
        uow.people.set_conversation_ref(person, reference)
    return locale_for(person, actor, default_locale)


class PeopleService:
    def __init__(self, store: Store, *, default_locale: str = "en") -> None:
        self.store = store
        self.default_locale = default_locale

    def remember_conversation(self, actor: Actor, reference: dict[str, Any] | None) -> str:
        return self.store.run(remember_conversation, actor, reference, self.default_locale)


class AsyncPeopleService:
    def __init__(self, store: AsyncStore, *, default_locale: str = "en") -> None:
        self.store = store
        self.default_locale = default_locale

    async def remember_conversation(self, actor: Actor, reference: dict[str, Any] | None) -> str:
        return await self.store.run(remember_conversation, actor, reference, self.default_locale)
