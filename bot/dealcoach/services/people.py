"""People use cases the adapters need besides reviews: remembering where a person can be
reached proactively (a Teams personal chat's conversation reference).

Same shape as `services/reviews.py`: the logic is one `fn(uow, …)`, run by `PeopleService`
through `Store.run` and by `AsyncPeopleService` through `AsyncStore.run`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from dealcoach.services.actors import Actor
from dealcoach.services.reviews import locale_for, resolve_person
from dealcoach.store.uow import AsyncStore, Store, UnitOfWork


def remember_conversation(
    uow: UnitOfWork, actor: Actor, reference: dict[str, Any] | None, default_locale: str = "en",
    keep_stored: bool = False,
) -> str:
    """Store the person's personal-chat reference (when new or changed; None keeps the one
    stored; `keep_stored`: only when none is stored yet) and return their language."""
    person = resolve_person(uow, actor, default_locale)
    if keep_stored and person.teams_conversation_ref is not None:
        reference = None
    if reference is not None and person.teams_conversation_ref != reference:
        uow.people.set_conversation_ref(person, reference)
    return locale_for(person, actor, default_locale)


class PeopleService:
    def __init__(self, store: Store, *, default_locale: str = "en") -> None:
        self.store = store
        self.default_locale = default_locale

    def remember_conversation(self, actor: Actor, reference: dict[str, Any] | None,
                              *, keep_stored: bool = False) -> str:
        return self.store.run(remember_conversation, actor, reference, self.default_locale,
                              keep_stored)


class AsyncPeopleService:
    def __init__(self, store: AsyncStore, *, default_locale: str = "en") -> None:
        self.store = store
        self.default_locale = default_locale

    async def remember_conversation(self, actor: Actor, reference: dict[str, Any] | None,
                                    *, keep_stored: bool = False) -> str:
        return await self.store.run(remember_conversation, actor, reference,
                                    self.default_locale, keep_stored)


# --- reaching someone proactively (digests, reminders) -----------------------------------------


@dataclass(frozen=True)
class TeamsContact:
    """How to reach a Teams person outside a turn: their personal chat's stored reference,
    or — for someone who never wrote to the bot — what opening a 1:1 chat needs: their id,
    their tenant and the tenant's service URL (from anyone else's stored reference there)."""

    person_id: int
    user_id: str
    tenant_id: str
    reference: dict[str, Any] | None
    service_url: str | None


def teams_contact(uow: UnitOfWork, person_id: int) -> TeamsContact | None:
    person = uow.people.get(person_id)
    if person is None:
        return None
    reference = person.teams_conversation_ref
    service_url = reference.get("serviceUrl") if isinstance(reference, dict) else None
    if not service_url:
        service_url = uow.people.service_url_in(person.workspace_id)
    return TeamsContact(
        person_id=person.id,
        user_id=person.user_id,
        tenant_id=person.workspace.external_id,
        reference=dict(reference) if isinstance(reference, dict) else None,
        service_url=str(service_url) if service_url else None,
    )


def store_reference(uow: UnitOfWork, person_id: int, reference: dict[str, Any]) -> None:
    """Keep the reference of a 1:1 chat the bot opened, so the next message continues it."""
    person = uow.people.get(person_id)
    if person is not None:
        uow.people.set_conversation_ref(person, reference)


class AsyncContacts:
    """`teams_contact` / `store_reference` for the Teams notifier, on whatever runs a
    `fn(uow, …)` asynchronously: `AsyncStore.run` on the server, `digest.delivery.DbRunner`
    over the sync store from the command line."""

    def __init__(self, run: Callable[..., Awaitable[Any]]) -> None:
        self.run = run

    async def teams_contact(self, person_id: int) -> TeamsContact | None:
        found: TeamsContact | None = await self.run(teams_contact, person_id)
        return found

    async def store_reference(self, person_id: int, reference: dict[str, Any]) -> None:
        await self.run(store_reference, person_id, reference)
