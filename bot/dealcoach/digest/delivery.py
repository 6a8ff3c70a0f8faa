"""Exactly-once digest delivery: claim the manager's week in the database, then send.

For each manager: claim `(manager, ISO week)` by inserting its unique `digest_run` row and
commit (a replica that loses the race gets nothing and moves on), compose and render the
digest, hand it to the platform's notifier, and record `sent` or `failed` — conditional on
still holding the claim (same `attempts`), so a slow sender never overwrites a newer attempt.
A `failed` run, or a `claimed` one whose sender died (older than `stale_after`), is claimed
again on the next run; nothing is dropped and a sent week is never sent twice. The one
window left is a crash between the platform accepting the message and the `sent` commit:
that week is sent again after `stale_after` (at-least-once in that case, never silently lost).

Works from the CLI (sync `Store`, via a thread) and the asyncio server (`AsyncStore`) alike:
`DbRunner` runs the same `fn(uow, …)` functions on either.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Concatenate, ParamSpec, TypeVar

from dealcoach.digest.compose import DigestModel, compose_team_digests, ref_of_manager
from dealcoach.digest.notifier import FollowUp, Notifier
from dealcoach.digest.render import render_digest
from dealcoach.digest.weeks import IsoWeek, zone
from dealcoach.store import digests as q
from dealcoach.store import notes as notes_q
from dealcoach.store.types import utcnow
from dealcoach.store.uow import AsyncStore, Store, UnitOfWork

log = logging.getLogger("dealcoach.digest")

P = ParamSpec("P")
T = TypeVar("T")

STALE_AFTER = timedelta(minutes=30)


class DbRunner:
    """Runs `fn(uow, …)` in one committed transaction on a sync or an async store."""

    def __init__(self, store: Store | None = None, astore: AsyncStore | None = None) -> None:
        if store is None and astore is None:
            raise ValueError("DbRunner needs a Store or an AsyncStore")
        self.store = store
        self.astore = astore

    async def __call__(
        self, fn: Callable[Concatenate[UnitOfWork, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        if self.astore is not None:
            return await self.astore.run(fn, *args, **kwargs)
        store = self.store
        assert store is not None
        return await asyncio.to_thread(lambda: store.run(fn, *args, **kwargs))


@dataclass
class DeliveryReport:
    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # sent already, or being sent elsewhere
    failed: list[tuple[str, str]] = field(default_factory=list)
    no_notifier: list[str] = field(default_factory=list)

    def merge(self, other: DeliveryReport) -> None:
        self.sent += other.sent
        self.skipped += other.skipped
        self.failed += other.failed
        self.no_notifier += other.no_notifier

    def summary(self) -> str:
        parts = [f"sent {len(self.sent)}", f"already sent {len(self.skipped)}"]
        if self.failed:
            parts.append(f"failed {len(self.failed)} (retried on the next run)")
        if self.no_notifier:
            parts.append(f"no way to deliver {len(self.no_notifier)}")
        return ", ".join(parts)


@dataclass(frozen=True)
class _Claim:
    manager: q.ManagerRow
    week: IsoWeek
    run_id: int
    attempts: int


# --- unit-of-work functions -----------------------------------------------------------------


def _managers(uow: UnitOfWork, manager_ids: Collection[int] | None) -> list[q.ManagerRow]:
    return q.managers(uow.session, manager_ids=list(manager_ids) if manager_ids else None)


def _claim(
    uow: UnitOfWork, manager_id: int, week: str, stale_after: timedelta
) -> tuple[int, int] | None:
    run = q.claim_run(uow.session, manager_id, week, stale_after=stale_after)
    return (run.id, run.attempts) if run is not None else None


def _sent_or_busy(
    uow: UnitOfWork, pairs: list[tuple[int, str]], stale_after: timedelta
) -> set[tuple[int, str]]:
    return q.settled_runs(uow.session, pairs, stale_after=stale_after)


def _compose(
    uow: UnitOfWork,
    rows: list[q.ManagerRow],
    week: IsoWeek,
    default_locale: str,
    default_tz: str,
) -> dict[int, DigestModel]:
    return compose_team_digests(
        uow, rows, week, default_locale=default_locale, default_tz=default_tz
    )


def _finish(
    uow: UnitOfWork,
    run_id: int,
    attempts: int,
    error: str | None,
    followed_up: Sequence[int] = (),
    week: str = "",
) -> bool:
    """Record the run's outcome; a sent digest also records the open coaching notes it
    listed as followed up (in the same transaction), so no later digest lists them again."""
    finished = q.finish_run(uow.session, run_id, attempts, error=error)
    if finished and error is None and followed_up:
        notes_q.mark_followed_up(uow.session, followed_up, week)
    return finished


def _retryable(uow: UnitOfWork, weeks: list[str], stale_after: timedelta) -> list[q.RunRow]:
    return q.retryable_runs(uow.session, weeks, stale_after=stale_after)


# --- delivery -------------------------------------------------------------------------------


async def send_digests(
    runner: DbRunner,
    notifiers: Mapping[str, Notifier],
    *,
    week: IsoWeek | None = None,
    now: datetime | None = None,
    manager_ids: Collection[int] | None = None,
    timezones: Collection[str] | None = None,
    default_locale: str = "en",
    default_tz: str = "UTC",
    stale_after: timedelta = STALE_AFTER,
) -> DeliveryReport:
    """Send each manager the digest of `week` (default: the last full week in their time
    zone) exactly once. `manager_ids` / `timezones` narrow who is considered (the scheduler
    fires per time zone)."""
    moment = now or utcnow()
    report = DeliveryReport()
    rows = await runner(_managers, manager_ids)
    chosen: list[tuple[q.ManagerRow, IsoWeek]] = []
    for row in rows:
        ref = ref_of_manager(row, default_locale, default_tz)
        if timezones is not None and ref.timezone not in timezones:
            continue
        if row.platform not in notifiers:
            report.no_notifier.append(row.user_id)
            continue
        chosen.append((row, week or IsoWeek.last_full(moment, zone(ref.timezone))))
    if not chosen:
        return report
    settled = await runner(_sent_or_busy, [(r.person_id, str(w)) for r, w in chosen], stale_after)
    claims: list[_Claim] = []
    for row, chosen_week in chosen:
        if (row.person_id, str(chosen_week)) in settled:
            report.skipped.append(row.user_id)
            continue
        got = await runner(_claim, row.person_id, str(chosen_week), stale_after)
        if got is None:  # another process got there first, or it is sent
            report.skipped.append(row.user_id)
            continue
        claims.append(_Claim(row, chosen_week, got[0], got[1]))

    by_week: dict[IsoWeek, list[_Claim]] = defaultdict(list)
    for claim in claims:
        by_week[claim.week].append(claim)
    for claimed_week, group in by_week.items():
        try:
            digests = await runner(
                _compose, [c.manager for c in group], claimed_week, default_locale, default_tz
            )
        except Exception as exc:  # recorded per manager below; retried on the next run
            log.exception("digest composition failed for %s", claimed_week)
            digests, failure = {}, f"composition failed: {type(exc).__name__}: {exc}"
        else:
            failure = "composition produced no digest"
        for claim in group:
            digest = digests.get(claim.manager.person_id)
            error: str | None = failure if digest is None else None
            follow_up: FollowUp | None = None
            if digest is not None:
                error, follow_up = await _deliver(notifiers[claim.manager.platform], digest)
            followed = [f.note_id for f in digest.followups] if digest is not None else []
            await runner(_finish, claim.run_id, claim.attempts, error, followed, str(claim.week))
            if error is None:
                report.sent.append(claim.manager.user_id)
                if follow_up is not None:
                    await _follow_up(follow_up, claim.manager.user_id)
            else:
                report.failed.append((claim.manager.user_id, error))
    return report


async def _follow_up(follow_up: FollowUp, manager: str) -> None:
    """A notifier's extras, run once the digest is recorded sent: a failure is logged and
    neither fails nor repeats the digest, nor stops the other managers' digests."""
    try:
        await follow_up()
    except Exception as exc:
        log.warning("digest follow-up failed", extra={"manager": manager, "error": str(exc)})


async def _deliver(notifier: Notifier, digest: DigestModel) -> tuple[str | None, FollowUp | None]:
    """Render and send one digest: (the error text on failure or None, the notifier's
    follow-up to run once the digest is recorded sent)."""
    try:
        rendered = render_digest(digest)
        follow_up = await notifier.send_digest(digest.recipient, digest, rendered)
    except Exception as exc:
        log.warning(
            "digest delivery failed", extra={"manager": digest.recipient.user_id, "error": str(exc)}
        )
        return f"{type(exc).__name__}: {exc}", None
    return None, follow_up


async def retry_failed(
    runner: DbRunner,
    notifiers: Mapping[str, Notifier],
    *,
    now: datetime | None = None,
    weeks_back: int = 2,
    default_locale: str = "en",
    default_tz: str = "UTC",
    stale_after: timedelta = STALE_AFTER,
) -> DeliveryReport:
    """Send again every failed (or stale-claimed) digest of the last `weeks_back` weeks."""
    moment = now or utcnow()
    current = IsoWeek.containing(moment, zone("UTC"))
    weeks = [str(current.previous(k)) for k in range(weeks_back + 1)]
    runs = await runner(_retryable, weeks, stale_after)
    report = DeliveryReport()
    by_week: dict[str, list[int]] = defaultdict(list)
    for run in runs:
        by_week[run.iso_week].append(run.manager_id)
    for week_text, ids in by_week.items():
        report.merge(
            await send_digests(
                runner,
                notifiers,
                week=IsoWeek.parse(week_text),
                now=moment,
                manager_ids=ids,
                default_locale=default_locale,
                default_tz=default_tz,
                stale_after=stale_after,
            )
        )
    return report
