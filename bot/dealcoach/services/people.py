"""People use cases: who an actor is (their person row, created on first sight) and which
language to answer them in — for every other service — and what the adapters need besides
reviews: remembering where a person can be reached proactively (a Teams personal chat's
conversation reference).

Same shape as `services/reviews.py`: the logic is one `fn(uow, …)`, run by `PeopleService`
through `Store.run` and by `AsyncPeopleService` through `AsyncStore.run`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from dealcoach.coach.bank import LOCALES
from dealcoach.services.actors import Actor
from dealcoach.store.models import Person
from dealcoach.store.uow import AsyncStore, Store, UnitOfWork

# --- person resolution (inside a unit of work; used by every service) --------------------------


def known_locale(value: str | None) -> str | None:
    """`value` as one of the bank's languages ('nl-NL', 'nl_BE' → 'nl'), or None."""
    if value is None:
        return None
    short = value.replace("_", "-").split("-")[0].lower()
    return short if short in LOCALES else None


def resolve_person(uow: UnitOfWork, actor: Actor, default_locale: str = "en") -> Person:
    """The actor's person row (workspace and person are created on first sight)."""
    # Known already: one statement for both (get_or_create below then asks nothing).
    uow.people.find_by_platform(actor.platform, actor.workspace_id, actor.user_id)
    workspace = uow.workspaces.get_or_create(
        actor.platform,
        actor.workspace_id,
        name=actor.workspace_name,
        default_locale=known_locale(actor.locale) or default_locale,
    )
    return uow.people.get_or_create(
        workspace,
        actor.user_id,
        display_name=actor.display_name,
        locale=None,
        timezone=actor.timezone,
    )


def find_person(uow: UnitOfWork, actor: Actor) -> Person | None:
    """The actor's person row if they were seen before (nothing is created)."""
    return uow.people.find_by_platform(actor.platform, actor.workspace_id, actor.user_id)


def locale_for(person: Person, actor: Actor, default_locale: str = "en") -> str:
    """The person's own choice, else what the platform says, else the workspace's default."""
    return (
        known_locale(person.locale)
        or known_locale(actor.locale)
        or known_locale(person.workspace.default_locale)
        or default_locale
    )


def actor_locale(uow: UnitOfWork, actor: Actor, default_locale: str = "en") -> str:
    """The language to answer this actor in, before any review exists (see `locale_for`)."""
    return locale_for(resolve_person(uow, actor, default_locale), actor, default_locale)


# --- reaching someone in their personal chat ---------------------------------------------------


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
