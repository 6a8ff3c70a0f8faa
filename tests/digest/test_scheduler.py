"""The in-process scheduler: one cron job per manager time zone, catch-up of digests whose
send time passed, and exactly-once whatever fires."""

from __future__ import annotations

from datetime import UTC, datetime

from dealcoach.bootstrap import build_services
from dealcoach.config import Settings
from dealcoach.digest.compose import DigestModel, PersonRef
from dealcoach.digest.render import RenderedDigest
from dealcoach.digest.scheduler import due_this_week, start_scheduler
from dealcoach.store import Store

from .seed import WEEK, at, person, review, team


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send_digest(
        self, manager: PersonRef, digest: DigestModel, rendered: RenderedDigest
    ) -> None:
        self.sent.append((manager.user_id, digest.week))


def test_the_digest_is_due_after_monday_eight_in_the_managers_zone() -> None:
    cron = "0 8 * * mon"
    monday_7_utc = datetime(2026, 11, 23, 7, 30, tzinfo=UTC)  # 08:30 in Amsterdam
    assert due_this_week(cron, "Europe/Amsterdam", monday_7_utc)
    assert not due_this_week(cron, "UTC", monday_7_utc)
    assert not due_this_week(cron, "America/New_York", monday_7_utc)  # still Sunday there


async def test_the_scheduler_adds_a_job_per_zone_and_catches_up_exactly_once(
    store: Store,
) -> None:
    with store.unit_of_work() as uow:
        ams = person(uow, "UAMS", tz="Europe/Amsterdam")
        nyc = person(uow, "UNYC", tz="America/New_York")
        rep1, rep2 = person(uow, "UR1"), person(uow, "UR2")
        team(uow, ams, rep1)
        team(uow, nyc, rep2)
        review(uow, rep1, "Acme", when=at(WEEK.next(), 2))
        uow.commit()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=store.url,
        dealcoach_digest_cron="0 8 * * mon",
    )
    services = build_services(settings, migrate_sqlite=False)
    recorder = Recorder()
    scheduler = start_scheduler(services, {"slack": recorder})
    try:
        await scheduler.sync_zones()
        jobs = {job.id: job for job in scheduler.scheduler.get_jobs()}
        assert {"digest:Europe/Amsterdam", "digest:America/New_York", "nudges"} <= set(jobs)
        trigger = jobs["digest:Europe/Amsterdam"].trigger
        assert str(trigger.timezone) == "Europe/Amsterdam"

        monday = datetime(2026, 11, 23, 7, 30, tzinfo=UTC)
        await scheduler.catch_up(monday)  # Amsterdam is due, New York is not yet
        assert recorder.sent == [("UAMS", "2026-W47")]
        await scheduler.catch_up(monday)
        await scheduler.send_zone("Europe/Amsterdam", monday)  # the cron firing as well
        assert recorder.sent == [("UAMS", "2026-W47")]
        await scheduler.catch_up(datetime(2026, 11, 23, 14, 0, tzinfo=UTC))
        assert sorted(recorder.sent) == [("UAMS", "2026-W47"), ("UNYC", "2026-W47")]
    finally:
        scheduler.shutdown()
        await services.aclose()
