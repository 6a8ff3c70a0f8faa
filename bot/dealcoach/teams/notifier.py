"""Proactive delivery to Teams users (manager digests, shared reviews).

`TeamsNotifier` is the Teams side of the digest's notifier interface: given a recipient's
stored conversation reference it continues that personal chat (`continue_conversation`);
for someone who never wrote to the bot it opens a 1:1 chat (`create_conversation`, needs the
tenant's service URL) and returns the new reference so the caller can store it.

(The digest module's `Notifier` protocol is not defined yet; `send` takes the recipient's
reference and ids plus the message as Teams markdown and/or an Adaptive Card.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dealcoach.errors import DeliveryError
from dealcoach.teams import cards

if TYPE_CHECKING:
    from dealcoach.teams.runtime import TeamsRuntime


class TeamsNotifier:
    platform = "teams"

    def __init__(self, runtime: TeamsRuntime) -> None:
        self.runtime = runtime

    async def send(
        self,
        *,
        reference: dict[str, Any] | None,
        user_id: str,
        text_md: str | None = None,
        card: dict[str, Any] | None = None,
        service_url: str | None = None,
        tenant_id: str | None = None,
    ) -> dict[str, Any] | None:
        """Deliver one message; returns a new conversation reference when one was created."""
        from dealcoach.teams.runtime import card_activity

        if card is None and not text_md:
            raise ValueError("nothing to send")
        activity = card_activity(card if card is not None else cards.message_card(text_md or ""))
        if reference is not None:
            await self.runtime.send_to_reference(reference, activity)
            return None
        if not service_url:
            raise DeliveryError(
                f"{user_id} has never written to dealcoach in Teams and no service URL is known"
            )
        return await self.runtime.create_personal_conversation(
            service_url=service_url, tenant_id=tenant_id, user_id=user_id, activity=activity
        )
