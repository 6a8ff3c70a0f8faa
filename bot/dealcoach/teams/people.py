"""Unit-of-work functions the Teams adapter runs through `AsyncStore.run`: remembering the
conversation reference a user's personal chat has (for proactive messages later) and
finding a manager's reference. They only use the store's repositories and the review
service's person helpers; there is no SQL here.

(These belong next to the other people use cases in `services/` once that module offers
them; kept here so Teams works without changing the services' public surface.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dealcoach.services.actors import Actor
from dealcoach.services.reviews import locale_for, resolve_person
from dealcoach.store.uow import UnitOfWork


@dataclass(frozen=True)
class ManagerContact:
    user_id: str
    display_name: str | None
    reference: dict[str, Any] | None
    locale: str


def remember_conversation(
    uow: UnitOfWork, actor: Actor, reference: dict[str, Any] | None, default_locale: str = "en"
) -> str:
    """Store the user's personal-chat reference (when new or changed); return their locale."""
    person = resolve_person(uow, actor, default_locale)
    if reference is not None and person.teams_conversation_ref != reference:
        uow.people.set_conversation_ref(person, reference)
    return locale_for(person, actor, default_locale)


def manager_of(uow: UnitOfWork, actor: Actor, default_locale: str = "en") -> ManagerContact | None:
    person = resolve_person(uow, actor, default_locale)
    manager = uow.teams.manager_of(person.id)
    if manager is None:
        return None
    return ManagerContact(
        user_id=manager.user_id,
        display_name=manager.display_name,
        reference=manager.teams_conversation_ref,
        locale=manager.locale or default_locale,
    )
