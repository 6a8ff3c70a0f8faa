"""The in-process scheduler: digests at `DEALCOACH_DIGEST_CRON` in each manager's time zone,
retries, catch-up and nudges. Safe to run in every replica: delivery claims each manager's
week in the database, so however many schedulers fire, each digest goes out once.

Jobs (APScheduler `AsyncIOScheduler`, on the server's event loop):
- `digest:<tz>` — `CronTrigger.from_crontab(DEALCOACH_DIGEST_CRON, timezone=<tz>)` for every
  time zone a manager lives in; sends the last full week's digests of that zone's managers.
- `digest-sync` — every 10 minutes: adds cron jobs for time zones that appeared since.
- `digest-catch-up` — every 10 minutes: digests whose send time this week has passed but that
  were never claimed (the process was down at 08:00), and failed / stale-claimed runs again.
- `nudges` — hourly at :05: review reminders due now (workday, working hours, their zone).
- `plan-reminders` — hourly at :20 (issue 15): overdue close-plan steps
  (`services.plans.send_plan_reminders`: a workday between 9:00 and 17:00 in the rep's zone,
  each step and due date claimed once in the database, so every replica may run the job).

Mount it in the web app's lifespan (`web.create_app`), when `settings.dealcoach_scheduler`,
with the platforms' notifiers (`digest.notifier.Notifier`, keyed by platform) that the
composition root built — this module never imports a platform::

    scheduler = start_scheduler(services, notifiers)
    try:
        yield
    finally:
        scheduler.shutdown()
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from dealcoach.digest.compose import ref_of_manager
from dealcoach.digest.delivery import DbRunner, DeliveryReport, retry_failed, send_digests
from dealcoach.digest.notifier import Notifier
from dealcoach.digest.nudges import send_nudges
from dealcoach.digest.weeks import IsoWeek, zone
from dealcoach.errors import ConfigError
from dealcoach.services.container import Services
from dealcoach.services.plans import ReminderReport, send_plan_reminders
from dealcoach.store import digests as q
from dealcoach.store.types import utcnow
from dealcoach.store.uow import UnitOfWork

log = logging.getLogger("dealcoach.digest")

SYNC_MINUTES = 10
NUDGE_MINUTE = 5
PLAN_REMINDER_MINUTE = 20


def digest_trigger(cron: str, tz: str) -> CronTrigger:
    """The digest cron (minute hour day month day_of_week) in one time zone."""
    try:
        return CronTrigger.from_crontab(cron, timezone=zone(tz))
    except ValueError as exc:
        raise ConfigError(f"DEALCOACH_DIGEST_CRON {cron!r} is not a crontab line: {exc}") from None


def _manager_rows(uow: UnitOfWork) -> list[q.ManagerRow]:
    return q.managers(uow.session)


class DigestScheduler:
    """The jobs above on one `AsyncIOScheduler`; `start()` inside a running event loop."""

    def __init__(self, services: Services, notifiers: Mapping[str, Notifier]) -> None:
        self.services = services
        self.settings = services.settings
        self.notifiers = dict(notifiers)
        self.runner = DbRunner(astore=services.async_store)
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self.zones: set[str] = set()
        digest_trigger(self.settings.dealcoach_digest_cron, "UTC")  # fail fast on a bad cron

    @property
    def locale(self) -> str:
        return str(self.settings.dealcoach_lang)

    @property
    def tz(self) -> str:
        return str(self.settings.dealcoach_default_timezone)

    def start(self) -> DigestScheduler:
        common: dict[str, Any] = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}
        self.scheduler.add_job(
            self.sync_zones,
            IntervalTrigger(minutes=SYNC_MINUTES),
            id="digest-sync",
            next_run_time=utcnow(),
            **common,
        )
        self.scheduler.add_job(
            self.catch_up,
            IntervalTrigger(minutes=SYNC_MINUTES),
            id="digest-catch-up",
            next_run_time=utcnow() + timedelta(minutes=1),
            **common,
        )
        self.scheduler.add_job(
            self.nudges, CronTrigger(minute=NUDGE_MINUTE, timezone="UTC"), id="nudges", **common
        )
        self.scheduler.add_job(
            self.plan_reminders,
            CronTrigger(minute=PLAN_REMINDER_MINUTE, timezone="UTC"),
            id="plan-reminders",
            **common,
        )
        self.scheduler.start()
        return self

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    async def _zones(self) -> dict[str, list[int]]:
        rows = await self.runner(_manager_rows)
        out: dict[str, list[int]] = {}
        for row in rows:
            ref = ref_of_manager(row, self.locale, self.tz)
            out.setdefault(ref.timezone, []).append(row.person_id)
        return out

    async def sync_zones(self) -> None:
        """A cron job per manager time zone (new zones are picked up every few minutes)."""
        for tz in await self._zones():
            if tz in self.zones:
                continue
            self.scheduler.add_job(
                self.send_zone,
                digest_trigger(self.settings.dealcoach_digest_cron, tz),
                args=[tz],
                id=f"digest:{tz}",
                replace_existing=True,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=3600,
            )
            self.zones.add(tz)

    async def send_zone(self, tz: str, now: datetime | None = None) -> DeliveryReport:
        report = await send_digests(
            self.runner,
            self.notifiers,
            now=now,
            timezones={tz},
            default_locale=self.locale,
            default_tz=self.tz,
        )
        log.info("digests for %s: %s", tz, report.summary())
        return report

    async def catch_up(self, now: datetime | None = None) -> DeliveryReport:
        """Zones whose send time this week has passed: send whatever is not sent yet (the
        claim skips what is), then retry failed and stale runs."""
        moment = now or utcnow()
        report = DeliveryReport()
        for tz in await self._zones():
            if due_this_week(self.settings.dealcoach_digest_cron, tz, moment):
                report.merge(
                    await send_digests(
                        self.runner,
                        self.notifiers,
                        now=moment,
                        timezones={tz},
                        default_locale=self.locale,
                        default_tz=self.tz,
                    )
                )
        report.merge(
            await retry_failed(
                self.runner,
                self.notifiers,
                now=moment,
                default_locale=self.locale,
                default_tz=self.tz,
            )
        )
        if report.sent or report.failed:
            log.info("digest catch-up: %s", report.summary())
        return report

    async def nudges(self) -> None:
        report = await send_nudges(
            self.runner, self.notifiers, default_locale=self.locale, default_tz=self.tz
        )
        if report.sent or report.failed:
            log.info("nudges: sent %d, failed %d", len(report.sent), len(report.failed))

    async def plan_reminders(self, now: datetime | None = None) -> ReminderReport:
        """Close-plan reminders due now, each sent once whichever replica runs this (the
        claim is a unique row per step and due date, `store/plans.py`)."""
        report = await send_plan_reminders(
            self.runner,
            self.notifiers,
            now=now,
            default_locale=self.locale,
            default_tz=self.tz,
        )
        if report.sent or report.failed:
            log.info(
                "plan reminders: sent %d, failed %d (retried later)",
                len(report.sent),
                len(report.failed),
            )
        return report


def due_this_week(cron: str, tz: str, now: datetime) -> bool:
    """Has the digest cron already fired this ISO week (local to `tz`) by `now`?"""
    local_zone = zone(tz)
    week = IsoWeek.containing(now, local_zone)
    start = week.bounds(local_zone)[0].astimezone(local_zone)
    first = digest_trigger(cron, tz).get_next_fire_time(None, start)
    return first is not None and first <= now


def start_scheduler(services: Services, notifiers: Mapping[str, Notifier]) -> DigestScheduler:
    """Start the digest and nudge jobs on the running event loop (call from a lifespan)."""
    return DigestScheduler(services, notifiers).start()
