"""What every Teams handler needs: settings, the services, and a way to post a card into a
stored conversation (the runtime, once it exists).

`TeamsDeps` is made by `TeamsRuntime.create` and handed to `routing.register`; handlers pass
it on. Like `slack/context.py` it keeps no review state: reviews live in the database, so any
replica can answer any card.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from dealcoach.config import Settings
from dealcoach.teams.cards import Card

if TYPE_CHECKING:
    from dealcoach.services.coaching import AsyncCoachingService
    from dealcoach.services.container import Services
    from dealcoach.services.notify import NoteRelay
    from dealcoach.services.people import AsyncPeopleService
    from dealcoach.services.reviews import AsyncReviewService


# A stored Teams conversation reference: the SDK's `ConversationReference` as JSON (what the
# people service keeps for a person's personal chat).
ConversationRef = dict[str, Any]


class Sender(Protocol):
    """Posts a card into a stored conversation (`TeamsRuntime.send_card`); raises
    `DeliveryError` when Teams does not take it."""

    async def send_card(self, reference: ConversationRef, card: Card) -> str | None: ...


@dataclass
class TeamsDeps:
    settings: Settings
    services: Services
    # Set by `TeamsRuntime.create` right after the runtime is built (it needs these deps
    # first); None only in a turn run without a runtime, where nothing can be sent.
    sender: Sender | None = None
    # Coaching notes for people not on Teams (a Slack manager or rep): the composition root's
    # notifiers (`web.create_app`); None when the runtime runs on its own.
    relay: NoteRelay | None = None

    @property
    def reviews(self) -> AsyncReviewService:
        return self.services.async_reviews

    @property
    def people(self) -> AsyncPeopleService:
        return self.services.async_people

    @property
    def coaching(self) -> AsyncCoachingService:
        return self.services.async_coaching

    @property
    def default_locale(self) -> str:
        return self.settings.dealcoach_lang
