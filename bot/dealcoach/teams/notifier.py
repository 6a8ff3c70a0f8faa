"""Proactive delivery to Teams users (manager digests, review reminders, overdue close-plan
steps, shared reviews, and coaching notes written on another platform: issue 16,
`services.notify.CoachingNotifier`).

`TeamsNotifier` is the Teams side of the digest's notifier interface (`digest.notifier`:
`Notifier.send_digest`, `NudgeNotifier.send_nudge`, `PlanReminderNotifier
.send_plan_reminder`): given a recipient's stored conversation
reference it continues that personal chat (`continue_conversation`); for someone who never
wrote to the bot it opens a 1:1 chat (`create_conversation`, with the tenant's service URL
taken from anyone else's stored reference in that tenant) and stores the new reference so
the next message continues it. The recipient's contact comes from the people service (no
SQL here). Anything that still fails after `attempts` tries raises `DeliveryError`: the
digest's delivery records the failure and the next run sends it again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from dealcoach.errors import DeliveryError
from dealcoach.teams import cards

if TYPE_CHECKING:
    from dealcoach.digest.compose import DigestModel, PersonRef
    from dealcoach.digest.nudges import NudgeModel, RenderedNudge
    from dealcoach.digest.render import RenderedDigest
    from dealcoach.services.coaching import NoteDelivery
    from dealcoach.services.people import AsyncContacts
    from dealcoach.services.plans import PlanReminder, RenderedReminder
    from dealcoach.teams.runtime import TeamsRuntime

log = logging.getLogger("dealcoach.teams")

# Teams throttles a bot per conversation and per tenant; a Monday batch is paced per tenant.
POST_INTERVAL = 0.25
ATTEMPTS = 2
BACKOFF = 1.0


class Addressee(Protocol):
    """Whom a card goes to (a digest's `PersonRef`, a reminder's `Recipient`)."""

    @property
    def person_id(self) -> int: ...

    @property
    def platform(self) -> str: ...

    @property
    def user_id(self) -> str: ...


class TeamsNotifier:
    platform = "teams"

    def __init__(
        self,
        runtime: TeamsRuntime,
        contacts: AsyncContacts | None = None,
        *,
        interval: float = POST_INTERVAL,
        attempts: int = ATTEMPTS,
        backoff: float = BACKOFF,
    ) -> None:
        self.runtime = runtime
        self._contacts = contacts
        self.interval = interval
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self._locks: dict[str, asyncio.Lock] = {}
        self._last: dict[str, float] = {}

    @property
    def contacts(self) -> AsyncContacts:
        if self._contacts is None:
            from dealcoach.services.people import AsyncContacts

            self._contacts = AsyncContacts(self.runtime.services.async_store.run)
        return self._contacts

    # --- digest.notifier ------------------------------------------------------------------

    async def send_digest(
        self, manager: PersonRef, digest: DigestModel, rendered: RenderedDigest
    ) -> None:
        from dealcoach.teams.digest_cards import digest_card

        await self.deliver(manager, digest_card(rendered, locale=digest.locale, digest=digest))

    async def send_nudge(
        self, person: PersonRef, nudge: NudgeModel, rendered: RenderedNudge
    ) -> None:
        from dealcoach.teams.digest_cards import nudge_card

        await self.deliver(person, nudge_card(nudge, rendered))

    # --- services.plans.PlanReminderNotifier -------------------------------------------

    async def send_plan_reminder(
        self, reminder: PlanReminder, rendered: Mapping[str, RenderedReminder]
    ) -> None:
        """One overdue step to its rep's personal chat, with *Done*, *Move date* and *Drop*
        (`teams.plans` answers them). Raises `DeliveryError`: the claim is released and a
        later run tries again."""
        from dealcoach.teams.plan_cards import local_today, reminder_card

        words = rendered["teams"]
        recipient = reminder.recipient
        card = reminder_card(
            title_md=words.title,
            text_md=words.text,
            step_id=reminder.step_id,
            deal_id=reminder.deal_id,
            locale=recipient.locale,
            today=local_today(recipient.timezone, datetime.now(UTC)),
            fallback=rendered["text"].title if "text" in rendered else words.title,
        )
        await self.deliver(recipient, card)

    # --- services.notify.CoachingNotifier (issue 16) -------------------------------------
    # A coaching note, reply or *done* notice written on another platform (a Slack manager or
    # rep) to a Teams user: the same cards as `teams.coaching` sends, whose *Reply* / *Mark as
    # done* buttons that module answers. Someone is waiting: not queued behind a batch.

    async def send_note(self, delivery: NoteDelivery) -> None:
        from dealcoach.teams.coaching import note_card

        card = note_card(delivery, reply_prompt=True, done_button=True)
        await self._coaching(delivery, card)

    async def send_reply(self, delivery: NoteDelivery) -> None:
        from dealcoach.teams.coaching import reply_card

        await self._coaching(delivery, reply_card(delivery))

    async def send_done(self, delivery: NoteDelivery) -> None:
        from dealcoach.teams.coaching import done_card

        await self._coaching(delivery, done_card(delivery))

    async def _coaching(self, delivery: NoteDelivery, card: dict[str, Any]) -> None:
        if delivery.recipient is None:
            raise DeliveryError("the coaching message has no recipient")
        await self.deliver(delivery.recipient, card, paced=False)

    async def deliver(self, person: Addressee, card: dict[str, Any], *, paced: bool = True) -> None:
        """One card to one person: their stored chat, else a new 1:1 chat (then stored).
        Paced per tenant unless `paced=False` (someone waits on it)."""
        if person.platform != "teams":
            raise DeliveryError(f"{person.user_id} is not a Teams user ({person.platform})")
        contact = await self.contacts.teams_contact(person.person_id)
        if contact is None:
            raise DeliveryError(f"{person.user_id} is not known any more")

        def send() -> Any:
            return self._with_retries(
                lambda: self.send(
                    reference=contact.reference,
                    user_id=contact.user_id,
                    card=card,
                    service_url=contact.service_url,
                    tenant_id=contact.tenant_id,
                )
            )

        if not paced:
            created = await send()
        else:
            lock = self._locks.setdefault(contact.tenant_id, asyncio.Lock())
            async with lock:
                wait = self._last.get(contact.tenant_id, 0.0) + self.interval - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                try:
                    created = await send()
                finally:
                    self._last[contact.tenant_id] = time.monotonic()
        if created is not None:
            await self.contacts.store_reference(person.person_id, created)

    async def _with_retries(self, call: Any) -> dict[str, Any] | None:
        for attempt in range(1, self.attempts + 1):
            try:
                result: dict[str, Any] | None = await call()
                return result
            except DeliveryError as exc:
                if attempt == self.attempts:
                    raise
                log.info("Teams delivery failed (attempt %d), retrying: %s", attempt, exc)
                await asyncio.sleep(self.backoff * attempt)
        return None  # not reached

    # --- the lower level ------------------------------------------------------------------

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
