"""Review reminders ("nudges"): one short DM a week for stale late-stage deals.

Who: reps with open deals in `negotiation` or `closing` not reviewed for `STALE_DAYS` days
(a draft touched since then counts as being reviewed), who have not paused reminders
(`/dealcoach pause`). When: on a workday in *their* time zone, between `WORK_START` and
`WORK_END` local time (the scheduler runs this every hour; the first eligible run sends).
Never twice: the person's week is claimed in `nudge_log` (person row locked) before sending,
and released again if the message could not be delivered, so the next run retries it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import jinja2
from pydantic import BaseModel, ConfigDict

from dealcoach.coach.markup import tidy
from dealcoach.digest.compose import PersonRef, locale_of
from dealcoach.digest.delivery import DbRunner
from dealcoach.digest.notifier import sends_nudges
from dealcoach.digest.render import _env, text
from dealcoach.digest.weeks import IsoWeek, zone
from dealcoach.errors import ContentError
from dealcoach.store import digests as q
from dealcoach.store.types import utcnow
from dealcoach.store.uow import UnitOfWork

log = logging.getLogger("dealcoach.digest")

STALE_DAYS = 14
WORK_START = 9
WORK_END = 17
DEALS_SHOWN = 3


class NudgeDeal(BaseModel):
    model_config = ConfigDict(frozen=True)
    deal_id: int
    deal_name: str
    stage: str
    days: int | None  # since the last review; None = never reviewed


class NudgeModel(BaseModel):
    model_config = ConfigDict(frozen=True)
    recipient: PersonRef
    week: str
    eligible: int
    deals: tuple[NudgeDeal, ...]


@dataclass(frozen=True)
class RenderedNudge:
    title: str
    text: str  # plain text
    slack_text: str  # mrkdwn, escaped
    teams_text: str  # markdown, escaped
    button: str  # "Review <deal>" (plain text)
    footer: str


@dataclass
class NudgeReport:
    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def render_nudge(nudge: NudgeModel) -> RenderedNudge:
    locale = nudge.recipient.locale
    context = {"eligible": nudge.eligible, "deals": nudge.deals}
    bodies: dict[str, str] = {}
    title = ""
    for flavor in ("text", "slack", "teams"):
        try:
            module = _env(flavor, locale).get_template("nudge.j2").make_module(context)
        except jinja2.TemplateError as exc:
            raise ContentError(f"prompts/{locale}/digest/nudge.j2", str(exc)) from None
        bodies[flavor] = tidy(str(module))
        title = str(getattr(module, "title", "")).strip()
    first = nudge.deals[0].deal_name if nudge.deals else ""
    return RenderedNudge(
        title=title,
        text=bodies["text"],
        slack_text=bodies["slack"],
        teams_text=bodies["teams"],
        button=text(locale, "nudge_button", deal=first)[:75],
        footer=text(locale, "nudge_footer"),
    )


def due_nudges(
    rows: list[q.NudgeCandidateRow],
    now: datetime,
    *,
    default_locale: str = "en",
    default_tz: str = "UTC",
) -> list[NudgeModel]:
    """Candidates (already aggregated per person by SQL) → the nudges due right now: a
    workday during working hours in the person's zone, not nudged yet this (local) week."""
    people: dict[int, list[q.NudgeCandidateRow]] = {}
    for row in rows:
        people.setdefault(row.person_id, []).append(row)
    out: list[NudgeModel] = []
    for deals in people.values():
        first = deals[0]
        tz_name = first.timezone or first.workspace_timezone or default_tz
        local = now.astimezone(zone(tz_name, default_tz))
        if local.weekday() >= 5 or not (WORK_START <= local.hour < WORK_END):
            continue
        week = IsoWeek.of(local.date())
        if first.last_nudge_week is not None and first.last_nudge_week >= str(week):
            continue
        ref = PersonRef(
            person_id=first.person_id,
            platform=first.platform,
            workspace_id=first.workspace_external_id,
            user_id=first.user_id,
            display_name=first.display_name,
            locale=locale_of(first.locale, first.workspace_locale, default_locale),
            timezone=tz_name,
        )
        out.append(
            NudgeModel(
                recipient=ref,
                week=str(week),
                eligible=first.eligible_deals,
                deals=tuple(
                    NudgeDeal(
                        deal_id=d.deal_id,
                        deal_name=d.deal_name,
                        stage=d.stage,
                        days=(now - d.last_reviewed_at).days if d.last_reviewed_at else None,
                    )
                    for d in deals[:DEALS_SHOWN]
                ),
            )
        )
    return out


def _candidates(uow: UnitOfWork, stale_before: datetime) -> list[q.NudgeCandidateRow]:
    return q.nudge_candidates(uow.session, stale_before=stale_before, per_person=DEALS_SHOWN)


def _claim(uow: UnitOfWork, person_id: int, deal_ids: list[int], week: str) -> bool:
    return q.claim_nudge(uow.session, person_id, deal_ids, week)


def _release(uow: UnitOfWork, person_id: int, week: str) -> None:
    q.release_nudge(uow.session, person_id, week)


async def send_nudges(
    runner: DbRunner,
    notifiers: Mapping[str, object],
    *,
    now: datetime | None = None,
    default_locale: str = "en",
    default_tz: str = "UTC",
) -> NudgeReport:
    """Send every nudge due now (at most one per person and local ISO week). `notifiers`
    are the digests' (per platform); one without `send_nudge` sends no reminders."""
    moment = now or utcnow()
    rows = await runner(_candidates, moment - timedelta(days=STALE_DAYS))
    report = NudgeReport()
    for nudge in due_nudges(rows, moment, default_locale=default_locale, default_tz=default_tz):
        person = nudge.recipient
        notifier = notifiers.get(person.platform)
        if notifier is None or not sends_nudges(notifier):
            report.skipped.append(person.user_id)
            continue
        deal_ids = [d.deal_id for d in nudge.deals]
        if not await runner(_claim, person.person_id, deal_ids, nudge.week):
            report.skipped.append(person.user_id)
            continue
        try:
            await notifier.send_nudge(person, nudge, render_nudge(nudge))
        except Exception as exc:
            log.warning("nudge delivery failed", extra={"user": person.user_id, "error": str(exc)})
            await runner(_release, person.person_id, nudge.week)
            report.failed.append((person.user_id, f"{type(exc).__name__}: {exc}"))
            continue
        report.sent.append(person.user_id)
    return report
