"""Coaching notes across platforms (issue 16): how a note, a reply or a *done* notice reaches
someone on another platform than the adapter that took the click.

Reporting lines may span platforms (a manager in Slack, a rep in Teams: `services.reporting`
resolves `platform:user` ids). Each adapter delivers on its own platform itself (Slack: a DM
in the same workspace; Teams: a card to the stored conversation reference); anyone else is
handed to the `NoteRelay`, which picks the `CoachingNotifier` of the recipient's platform.
The notifiers are the platforms' own (`slack/notifier.SlackNotifier`,
`teams/notifier.TeamsNotifier`), built by the composition root (`bootstrap.server_notifiers`)
and set on both adapters' deps by `web.create_app`: the adapters never import each other.

A notifier raises (`DeliveryError`, or anything its client raises) when the message could
not be delivered. The relay logs that in one line and answers False: the note is stored with
the review whatever happens. A delivery the relay has handed over once in this process (the
same kind, note, reply and recipient) is not sent again, so a repeated hand-over (a retried
request, a double click) sends nothing twice.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Mapping
from typing import Protocol, TypeGuard, runtime_checkable

from dealcoach.services.coaching import Contact, NoteDelivery

log = logging.getLogger("dealcoach.coaching")

# Delivered hand-overs remembered per process (oldest forgotten first).
REMEMBERED = 10_000


@runtime_checkable
class CoachingNotifier(Protocol):
    """A platform's way to tell `delivery.recipient` about a coaching note. Each method
    raises when the message was not delivered."""

    async def send_note(self, delivery: NoteDelivery) -> None:
        """The note, with *Reply* and *Mark as done*, to the rep."""

    async def send_reply(self, delivery: NoteDelivery) -> None:
        """The thread's latest reply to the other side (with *Reply*; the rep also gets
        *Mark as done* while the note is open)."""

    async def send_done(self, delivery: NoteDelivery) -> None:
        """The note was marked done: tell its author."""


def sends_coaching(notifier: object) -> TypeGuard[CoachingNotifier]:
    """Whether a platform's notifier also delivers coaching notes."""
    return all(hasattr(notifier, m) for m in ("send_note", "send_reply", "send_done"))


def delivery_key(delivery: NoteDelivery) -> tuple[str, int, int, int]:
    """What makes a hand-over unique: kind, note, latest reply (for replies), recipient."""
    to = delivery.recipient
    latest = (
        delivery.note.replies[-1].reply_id
        if delivery.kind == "reply" and delivery.note.replies
        else 0
    )
    return (delivery.kind, delivery.note.note_id, latest, to.person_id if to is not None else 0)


class NoteRelay:
    """Hands a `NoteDelivery` to the notifier of its recipient's platform."""

    def __init__(self, notifiers: Mapping[str, object]) -> None:
        self._notifiers = {
            platform: notifier
            for platform, notifier in notifiers.items()
            if sends_coaching(notifier)
        }
        self._sent: OrderedDict[tuple[str, int, int, int], None] = OrderedDict()

    def reaches(self, contact: Contact | None) -> bool:
        """A notifier exists for this contact's platform (it may still fail to deliver)."""
        return contact is not None and contact.platform in self._notifiers

    async def deliver(self, delivery: NoteDelivery) -> bool:
        """Send it on the recipient's platform; False when it could not be (logged)."""
        to = delivery.recipient
        if to is None:
            return False
        notifier = self._notifiers.get(to.platform)
        if notifier is None:
            log.info(
                "coaching %s on note %d stays with the review: no notifier for %s",
                delivery.kind,
                delivery.note.note_id,
                to.platform,
            )
            return False
        key = delivery_key(delivery)
        if key in self._sent:
            return True
        send = {
            "note": notifier.send_note,
            "reply": notifier.send_reply,
            "done": notifier.send_done,
        }.get(delivery.kind)
        if send is None:
            raise ValueError(f"unknown coaching delivery {delivery.kind!r}")
        # Claimed before sending: a second hand-over while this one is in flight is dropped.
        self._sent[key] = None
        try:
            await send(delivery)
        except Exception as exc:  # never fail the click: the note is stored
            self._sent.pop(key, None)
            log.warning(
                "coaching %s on note %d not delivered to %s:%s: %s",
                delivery.kind,
                delivery.note.note_id,
                to.platform,
                to.user_id,
                str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
            )
            return False
        while len(self._sent) > REMEMBERED:
            self._sent.popitem(last=False)
        return True
