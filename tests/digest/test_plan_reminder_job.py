"""The scheduler's hourly close-plan reminder job (issue 15): registered next to the nudges,
sends an overdue step's reminder through the platform's notifier exactly once however many
replicas run the job at the same moment, skips platforms whose notifier has no
`send_plan_reminder`, and the terminal's `PrintNotifier` prints it. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime

from tests.plans.conftest import CLOSING, complete, deal_of, rep

from dealcoach.bootstrap import build_services
from dealcoach.config import Settings
from dealcoach.digest.compose import DigestModel, PersonRef
from dealcoach.digest.notifier import (
    PlanReminderNotifier,
    PrintNotifier,
    sends_nudges,
    sends_plan_reminders,
)
from dealcoach.digest.render import RenderedDigest
from dealcoach.digest.scheduler import PLAN_REMINDER_MINUTE, DigestScheduler, start_scheduler
from dealcoach.services.actors import Actor
from dealcoach.services.plans import PlanReminder, PlanService, RenderedReminder
from dealcoach.store import Store

MONDAY_10 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)  # 10:00 in Amsterdam
FRIDAY = datetime(2026, 5, 29, 8, 0, tzinfo=UTC)


class Recorder:
    """A platform notifier with digests and close-plan reminders."""

    def __init__(self) -> None:
        self.reminders: list[tuple[PlanReminder, Mapping[str, RenderedReminder]]] = []

    async def send_digest(
        self, manager: PersonRef, digest: DigestModel, rendered: RenderedDigest
    ) -> None:
        return None

    async def send_plan_reminder(
        self, reminder: PlanReminder, rendered: Mapping[str, RenderedReminder]
    ) -> None:
        await asyncio.sleep(0.01)  # let the other replica run meanwhile
        self.reminders.append((reminder, rendered))


class DigestsOnly:
    async def send_digest(
        self, manager: PersonRef, digest: DigestModel, rendered: RenderedDigest
    ) -> None:
        return None


def _settings(url: str) -> Settings:
    return Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]


def _overdue_step(store: Store) -> int:
    rob = rep("UROB", locale="nl")
    deal = deal_of(store, complete(store, rob, "Acme renewal", CLOSING))
    return (
        PlanService(store)
        .add_step(
            rob,
            deal,
            "Send the <NDA>",
            owner_kind="customer",
            owner_name="Dana (CFO)",
            due_on="2026-05-29",
            now=FRIDAY,
        )
        .step.step_id
    )


def test_the_protocol_guards() -> None:
    printer = PrintNotifier(io.StringIO())
    assert sends_plan_reminders(printer) and sends_nudges(printer)
    assert isinstance(printer, PlanReminderNotifier)
    assert isinstance(Recorder(), PlanReminderNotifier)
    assert not sends_plan_reminders(DigestsOnly())


async def test_two_replicas_send_one_reminder_and_the_job_is_hourly(store: Store) -> None:
    step_id = _overdue_step(store)
    replicas = [build_services(_settings(store.url), migrate_sqlite=False) for _ in range(2)]
    recorders = [Recorder(), Recorder()]
    schedulers = [
        DigestScheduler(services, {"slack": recorder})
        for services, recorder in zip(replicas, recorders, strict=True)
    ]
    started = start_scheduler(replicas[0], {"slack": recorders[0]})
    try:
        job = started.scheduler.get_job("plan-reminders")
        assert job is not None
        assert str(job.trigger.fields[6]) == str(PLAN_REMINDER_MINUTE)  # minute field
        # Saturday: nothing is due.
        saturday = await schedulers[0].plan_reminders(datetime(2026, 5, 30, 10, 0, tzinfo=UTC))
        assert saturday.sent == [] and recorders[0].reminders == []

        reports = await asyncio.gather(*(s.plan_reminders(MONDAY_10) for s in schedulers))
        assert sorted(len(r.sent) for r in reports) == [0, 1]
        sent = [item for r in recorders for item in r.reminders]
        assert len(sent) == 1
        reminder, rendered = sent[0]
        assert reminder.step_id == step_id and reminder.recipient.user_id == "UROB"
        assert "&lt;NDA&gt;" in rendered["slack"].text and "<NDA>" in rendered["text"].text
        assert rendered["text"].title == "Te laat bij Acme renewal"
        # The next hour's runs: already sent.
        again = await asyncio.gather(
            *(s.plan_reminders(MONDAY_10.replace(hour=9)) for s in schedulers)
        )
        assert [r.sent for r in again] == [[], []]
        assert len([item for r in recorders for item in r.reminders]) == 1
    finally:
        started.shutdown()
        for services in replicas:
            await services.aclose()


async def test_a_platform_without_reminders_is_skipped_and_tried_later(store: Store) -> None:
    step_id = _overdue_step(store)
    services = build_services(_settings(store.url), migrate_sqlite=False)
    try:
        skipped = await DigestScheduler(services, {"slack": DigestsOnly()}).plan_reminders(
            MONDAY_10
        )
        assert skipped.skipped == [step_id] and skipped.sent == []
        recorder = Recorder()
        later = await DigestScheduler(services, {"slack": recorder}).plan_reminders(MONDAY_10)
        assert later.sent == [step_id] and len(recorder.reminders) == 1
    finally:
        await services.aclose()


async def test_the_terminal_prints_the_reminder(store: Store) -> None:
    sam = replace(Actor.local("sam"), timezone="Europe/Amsterdam")
    deal = deal_of(store, complete(store, sam, "Beta", CLOSING))
    PlanService(store).add_step(sam, deal, "Send the order form", due_on="2026-05-29", now=FRIDAY)
    out = io.StringIO()
    services = build_services(_settings(store.url), migrate_sqlite=False)
    try:
        report = await DigestScheduler(services, {"cli": PrintNotifier(out)}).plan_reminders(
            MONDAY_10
        )
    finally:
        await services.aclose()
    assert len(report.sent) == 1
    printed = out.getvalue()
    assert "close plan reminder for" in printed and "Beta" in printed
    assert "Send the order form" in printed
