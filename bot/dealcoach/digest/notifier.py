"""How digests and reminders leave the process: the protocols the adapters implement.

`digest/` never imports a chat platform. The Slack adapter (`slack/notifier.py`) and the Teams
adapter implement these methods; delivery picks a notifier by the recipient's platform
(`PersonRef.platform` / `Recipient.platform`: "slack", "teams", "cli"). A notifier raises
(`DeliveryError`) when the message could not be delivered after its own retries; delivery then
records the failure and the next run tries again.

- `Notifier.send_digest`: the weekly digest (every platform's notifier has it).
- `NudgeNotifier.send_nudge`: the weekly review reminder (`sends_nudges` tells).
- `PlanReminderNotifier.send_plan_reminder` (issue 15): one overdue close-plan step, claimed
  once across replicas by `services.plans.send_plan_reminders` before it is handed over
  (`sends_plan_reminders` tells). `rendered` holds the reminder in each flavor: `"text"`,
  `"slack"` (mrkdwn) and `"teams"` (markdown), user text already escaped for that flavor; the
  buttons (*Done*, *Move date*, *Drop*) act on `reminder.step_id`.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Protocol, TextIO, TypeGuard, runtime_checkable

# Extras a notifier sends only once the digest is recorded as sent (e.g. Slack's trend
# chart): a failure there must neither fail nor repeat the digest itself.
FollowUp = Callable[[], Awaitable[None]]

if TYPE_CHECKING:
    from dealcoach.digest.compose import DigestModel, PersonRef
    from dealcoach.digest.nudges import NudgeModel, RenderedNudge
    from dealcoach.digest.render import RenderedDigest
    from dealcoach.services.plans import PlanReminder, RenderedReminder


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


@runtime_checkable
class PlanReminderNotifier(Protocol):
    async def send_plan_reminder(
        self, reminder: PlanReminder, rendered: Mapping[str, RenderedReminder]
    ) -> None:
        """Deliver one overdue close-plan step to `reminder.recipient` (a DM with *Done*,
        *Move date* and *Drop* on `reminder.step_id`); raise on failure (it is released and
        tried again by a later run). `rendered[flavor]` for "text", "slack" and "teams"."""


def sends_plan_reminders(notifier: object) -> TypeGuard[PlanReminderNotifier]:
    """Whether a platform's notifier also delivers close-plan reminders
    (`send_plan_reminder`)."""
    return hasattr(notifier, "send_plan_reminder")


class PrintNotifier:
    """The `cli` platform's notifier: the terminal workspace has no chat, so digests,
    nudges and close-plan reminders for its people are printed (plain text) to a stream."""

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

    async def send_plan_reminder(
        self, reminder: PlanReminder, rendered: Mapping[str, RenderedReminder]
    ) -> None:
        shown = rendered["text"]
        name = reminder.recipient.display_name or reminder.recipient.user_id
        self.stream.write(
            f"--- close plan reminder for {name} ---\n{shown.title}\n{shown.text}\n"
            f"(dealcoach plan: {shown.done} / {shown.move} / {shown.drop})\n"
        )
        self.stream.flush()
