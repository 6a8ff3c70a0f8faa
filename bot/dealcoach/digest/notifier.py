"""How digests and nudges leave the process: the `Notifier` protocol the adapters implement.

`digest/` never imports a chat platform. The Slack adapter (`slack/notifier.py`) and the Teams
adapter implement these methods; delivery picks a notifier by the recipient's platform
(`PersonRef.platform`: "slack", "teams", "cli"). A notifier raises `DeliveryError` when the
message could not be delivered after its own retries; delivery then records the failure and
the next run tries again.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol, TextIO, TypeGuard, runtime_checkable

# Extras a notifier sends only once the digest is recorded as sent (e.g. Slack's trend
# chart): a failure there must neither fail nor repeat the digest itself.
FollowUp = Callable[[], Awaitable[None]]

if TYPE_CHECKING:
    from dealcoach.digest.compose import DigestModel, PersonRef
    from dealcoach.digest.nudges import NudgeModel, RenderedNudge
    from dealcoach.digest.render import RenderedDigest


@runtime_checkable
class Notifier(Protocol):
    async def send_digest(
        self, manager: PersonRef, digest: DigestModel, rendered: RenderedDigest
    ) -> FollowUp | None:
        """Deliver one digest to `manager` (a DM); raise DeliveryError on failure. May
        return a follow-up that delivery runs after recording the digest as sent."""


@runtime_checkable
class NudgeNotifier(Protocol):
    async def send_nudge(
        self, person: PersonRef, nudge: NudgeModel, rendered: RenderedNudge
    ) -> None:
        """Deliver one review reminder to `person`; raise DeliveryError on failure."""


def sends_nudges(notifier: object) -> TypeGuard[NudgeNotifier]:
    """Whether a platform's notifier also delivers review reminders (`send_nudge`)."""
    return hasattr(notifier, "send_nudge")


class PrintNotifier:
    """The `cli` platform's notifier: the terminal workspace has no chat, so digests and
    nudges for its people are printed (plain text) to a stream."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    async def send_digest(
        self, manager: PersonRef, digest: DigestModel, rendered: RenderedDigest
    ) -> FollowUp | None:
        self.stream.write(f"--- digest for {manager.name} ({digest.week}) ---\n{rendered.text}\n")
        self.stream.flush()
        return None

    async def send_nudge(
        self, person: PersonRef, nudge: NudgeModel, rendered: RenderedNudge
    ) -> None:
        self.stream.write(f"--- reminder for {person.name} ---\n{rendered.text}\n")
        self.stream.flush()
