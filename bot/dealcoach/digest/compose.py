"""Digest composition: the aggregates of `store.digests` → one `DigestModel` per recipient.

`compose_team_digests(uow, managers, week)` builds every listed manager's digest of one ISO
week with a fixed number of queries per time zone (managers are grouped by their time zone,
because a week starts at Monday 00:00 *their* time); `compose_self_digest` is the summary a
rep gets of their own reviews. Python here only reshapes aggregated rows — never review rows.

Issue 15 adds three things:
- **loss reasons** in the themes: the deals marked lost or walked away in the week, counted
  per reason (`store.insights.lost_in`, one GROUP BY per time zone);
- **committee coverage** of the riskiest deals ("2 of 3 agendas confirmed · no economic buyer
  named"): the agenda answers of the listed reviews only (≤ 5 a digest, one query per time
  zone), summed up by `coach.coverage`;
- once a month, **what predicts a win** (`services.insights.team_insights`: one statement
  for all managers whose digest carries it, whatever their number). The section is in the
  digest of the ISO week in which a month begins — the week whose Monday and the next Monday
  fall in different months, i.e. the digest sent on the month's first Monday with the default
  cron (`is_insights_week`). It is decided on the digest's week (the manager's own week, in
  their zone), not on the send time, so a retry, a catch-up or a preview of that week shows
  the same section; every month has exactly one such week. It covers the closed deals whose
  last review was completed in the 12 months up to the end of that week (UTC day bounds).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from dealcoach.coach.bank import LOCALES, load_bank
from dealcoach.coach.coverage import coverage
from dealcoach.coach.insights import MIN_CLOSED_DEALS
from dealcoach.digest.weeks import IsoWeek, zone
from dealcoach.services.insights import InsightsReport, team_insights
from dealcoach.store import digests as q
from dealcoach.store import insights as insights_q
from dealcoach.store import notes as notes_q
from dealcoach.store.models import Person
from dealcoach.store.uow import UnitOfWork

RISKY_SHOWN = 5
THEMES_SHOWN = 3
WORSENED_SHOWN = 5
INSIGHTS_SHOWN = 6  # lines of the monthly section (key answers first, then flags by gap)
INSIGHTS_DAYS = 365
RECOMMENDATIONS = ("pursue", "strengthen", "renegotiate", "walk_away")
QUADRANTS = ("win_win", "win_lose", "lose_win", "lose_lose", "unclear")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class PersonRef(_Frozen):
    """Who a message goes to: enough for any notifier to address them."""

    person_id: int
    platform: str
    workspace_id: str  # the platform's id (Slack team id, Teams tenant id, `local`)
    user_id: str
    display_name: str | None = None
    locale: str = "en"
    timezone: str = "UTC"

    @property
    def name(self) -> str:
        return self.display_name or self.user_id


class RepLine(_Frozen):
    user_id: str
    name: str
    reviews: int
    previous_reviews: int


class DealCoverage(_Frozen):
    """The buying committee of a listed deal's review (`coach.coverage.Coverage`)."""

    named: int
    confirmed: int
    missing: tuple[str, ...] = ()  # roles nobody named fills
    against: tuple[str, ...] = ()  # short names (user text)


class DealLine(_Frozen):
    deal_id: int
    review_id: int
    deal_name: str
    account: str | None = None
    rep_user_id: str
    rep_name: str
    stage: str | None = None
    value: float | None = None
    recommendation: str | None = None
    quadrant: str | None = None
    previous_recommendation: str | None = None
    flags: tuple[str, ...] = ()
    score: int = 0
    coverage: DealCoverage | None = None  # the riskiest deals only


class LossReasonCount(_Frozen):
    reason: str | None  # None: no reason recorded
    deals: int


class WinInsight(_Frozen):
    """One line of "what predicts a win": closed deals with and without a feature."""

    kind: str  # "answer" | "flag"
    feature: str
    won: int
    deals: int
    won_without: int
    deals_without: int


class WinInsights(_Frozen):
    """The monthly section: closed deals of the team in [since, until]."""

    since: date
    until: date  # the last day counted
    deals: int
    won: int
    lines: tuple[WinInsight, ...] = ()  # those backed by enough deals, at most INSIGHTS_SHOWN
    more: int = 0  # lines backed by enough deals but left out for space
    loss_reasons: tuple[LossReasonCount, ...] = ()
    min_deals: int = MIN_CLOSED_DEALS


class Theme(_Frozen):
    flag: str
    reviews: int
    total: int


class WeekPoint(_Frozen):
    week: str
    reviews: int
    win_win: int

    @property
    def win_win_share(self) -> float | None:
        return self.win_win / self.reviews if self.reviews else None


class CoachingGiven(_Frozen):
    """Coaching notes the manager wrote in the digest's week (issue 16)."""

    notes: int
    deals: int
    open: int


class FollowUpNote(_Frozen):
    """A coaching note still open a week after it was written: listed in one digest only."""

    note_id: int
    review_id: int
    deal_name: str
    rep_user_id: str
    rep_name: str
    body: str
    days: int


FOLLOW_UP_BODY = 200


class DigestModel(_Frozen):
    """One recipient's digest of one ISO week: everything the templates show."""

    kind: Literal["team", "self"]
    recipient: PersonRef
    week: str
    locale: str
    total_reviews: int = 0
    previous_total: int = 0
    win_win_share: float | None = None
    previous_win_win_share: float | None = None
    recommendation_mix: dict[str, int] = Field(default_factory=dict)
    quadrant_mix: dict[str, int] = Field(default_factory=dict)
    riskiest: tuple[DealLine, ...] = ()
    walk_away: tuple[DealLine, ...] = ()
    worsened: tuple[DealLine, ...] = ()
    themes: tuple[Theme, ...] = ()
    reps: tuple[RepLine, ...] = ()
    idle_reps: tuple[RepLine, ...] = ()
    history: tuple[WeekPoint, ...] = ()  # oldest first, the digest's week last
    # recommendation → reviews, per week of `history` (same order), for the mix chart
    recommendation_history: tuple[dict[str, int], ...] = ()
    coaching: CoachingGiven | None = None
    followups: tuple[FollowUpNote, ...] = ()
    # Deals marked lost / walked away this week, per reason (most first).
    loss_reasons: tuple[LossReasonCount, ...] = ()
    # Once a month (see the module doc), team digests only.
    insights: WinInsights | None = None

    @property
    def deal_ids(self) -> set[int]:
        """Every deal the digest names (tests: privacy)."""
        return {d.deal_id for d in (*self.riskiest, *self.walk_away, *self.worsened)}

    @property
    def empty(self) -> bool:
        return self.total_reviews == 0 and self.previous_total == 0


# --- helpers --------------------------------------------------------------------------------


def locale_of(person_locale: str | None, workspace_locale: str | None, default: str) -> str:
    for value in (person_locale, workspace_locale, default):
        short = (value or "").replace("_", "-").split("-")[0].lower()
        if short in LOCALES:
            return short
    return "en"


def window_for(week: IsoWeek, tz_name: str | None) -> q.HistoryWindow:
    tz = zone(tz_name)
    starts = tuple(week.previous(k).bounds(tz)[0] for k in range(q.HISTORY_WEEKS))
    return q.HistoryWindow(starts=starts, end=week.bounds(tz)[1])


def ref_of_manager(row: q.ManagerRow, default_locale: str, default_tz: str) -> PersonRef:
    return PersonRef(
        person_id=row.person_id,
        platform=row.platform,
        workspace_id=row.workspace_external_id,
        user_id=row.user_id,
        display_name=row.display_name,
        locale=locale_of(row.locale, row.workspace_locale, default_locale),
        timezone=row.timezone or row.workspace_timezone or default_tz,
    )


def ref_of_person(person: Person, default_locale: str, default_tz: str) -> PersonRef:
    return PersonRef(
        person_id=person.id,
        platform=person.workspace.platform,
        workspace_id=person.workspace.external_id,
        user_id=person.user_id,
        display_name=person.display_name,
        locale=locale_of(person.locale, person.workspace.default_locale, default_locale),
        timezone=person.timezone or person.workspace.timezone or default_tz,
    )


def _coverage(answers: Mapping[int, Mapping[str, object]]) -> dict[int, DealCoverage]:
    """The committee coverage of each review from its agenda answers."""
    bank = load_bank("en")  # roles and names do not depend on the language
    out: dict[int, DealCoverage] = {}
    for review_id, given in answers.items():
        cov = coverage(given, bank)
        out[review_id] = DealCoverage(
            named=cov.named, confirmed=cov.confirmed, missing=cov.missing, against=cov.against
        )
    return out


def _deal(row: q.DealRow, flags: dict[int, list[str]]) -> DealLine:
    return DealLine(
        deal_id=row.deal_id,
        review_id=row.review_id,
        deal_name=row.deal_name,
        account=row.account,
        rep_user_id=row.rep_user_id,
        rep_name=row.rep_name or row.rep_user_id,
        stage=row.stage,
        value=row.value,
        recommendation=row.recommendation,
        quadrant=row.quadrant,
        previous_recommendation=row.previous_recommendation,
        flags=tuple(flags.get(row.review_id, ())),
        score=row.score,
    )


def _compose(
    uow: UnitOfWork,
    recipients: dict[int, PersonRef],
    scope: q.Scope,
    week: IsoWeek,
    window: q.HistoryWindow,
    kind: Literal["team", "self"],
) -> dict[int, DigestModel]:
    session = uow.session
    activity = q.rep_activity(session, scope, window)
    mix = q.mix_history(session, scope, window)
    flags = q.top_flags(session, scope, window, top=THEMES_SHOWN)
    risks = q.deal_risks(session, scope, window, top=RISKY_SHOWN)
    worse = q.worsened_deals(session, scope, window, limit=WORSENED_SHOWN)
    listed = {r.review_id for r in risks} | {r.review_id for r in worse}
    flag_names = q.flags_of(session, sorted(listed))
    riskiest_ids = sorted({r.review_id for r in risks if r.rank <= RISKY_SHOWN and r.score >= 1})
    covered = _coverage(q.agenda_answers(session, riskiest_ids))
    lost: dict[int, list[LossReasonCount]] = defaultdict(list)
    for row in insights_q.lost_in(session, scope, window.start, window.end):
        lost[row.owner_id].append(LossReasonCount(reason=row.reason, deals=row.deals))

    reps: dict[int, list[RepLine]] = defaultdict(list)
    for a in activity:
        reps[a.owner_id].append(
            RepLine(
                user_id=a.user_id,
                name=a.display_name or a.user_id,
                reviews=int(a.reviews),
                previous_reviews=int(a.previous_reviews),
            )
        )
    per_bucket: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    recs: dict[int, dict[str, int]] = defaultdict(dict)
    quads: dict[int, dict[str, int]] = defaultdict(dict)
    for m in mix:
        point = per_bucket[m.owner_id][m.bucket]
        point[0] += m.reviews
        point[1] += m.reviews if m.quadrant == "win_win" else 0
        if m.bucket == 0:
            if m.recommendation:
                recs[m.owner_id][m.recommendation] = (
                    recs[m.owner_id].get(m.recommendation, 0) + m.reviews
                )
            if m.quadrant:
                quads[m.owner_id][m.quadrant] = quads[m.owner_id].get(m.quadrant, 0) + m.reviews
    themes: dict[int, list[q.FlagRow]] = defaultdict(list)
    for f in flags:
        themes[f.owner_id].append(f)
    risky: dict[int, list[DealLine]] = defaultdict(list)
    walk: dict[int, list[DealLine]] = defaultdict(list)
    for r in risks:
        line = _deal(r, flag_names)
        if r.rank <= RISKY_SHOWN and r.score >= 1:
            risky[r.owner_id].append(line.model_copy(update={"coverage": covered.get(r.review_id)}))
        if r.recommendation == "walk_away":
            walk[r.owner_id].append(line)
    worsened: dict[int, list[DealLine]] = defaultdict(list)
    for r in worse:
        worsened[r.owner_id].append(_deal(r, flag_names))

    rec_weeks: dict[int, dict[int, dict[str, int]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(int))
    )
    for m in mix:
        if m.recommendation:
            rec_weeks[m.owner_id][m.bucket][m.recommendation] += m.reviews
    given: dict[int, notes_q.CoachingCount] = {}
    follow: dict[int, list[FollowUpNote]] = defaultdict(list)
    if kind == "team":
        ids = list(recipients)
        given = notes_q.given_between(session, ids, window.starts[0], window.end)
        for open_note in notes_q.followups(
            session, ids, window.end - notes_q.FOLLOW_UP_AFTER, str(week)
        ):
            body = open_note.body
            follow[open_note.author_id].append(
                FollowUpNote(
                    note_id=open_note.note_id,
                    review_id=open_note.review_id,
                    deal_name=open_note.deal_name or "–",
                    rep_user_id=open_note.rep_user_id,
                    rep_name=open_note.rep_name or open_note.rep_user_id,
                    body=body if len(body) <= FOLLOW_UP_BODY else body[: FOLLOW_UP_BODY - 1] + "…",
                    days=max(0, (window.end - open_note.created_at).days),
                )
            )

    labels = [str(week.previous(k)) for k in range(q.HISTORY_WEEKS)]
    out: dict[int, DigestModel] = {}
    for owner_id, recipient in recipients.items():
        buckets = per_bucket.get(owner_id, {})
        history = tuple(
            WeekPoint(
                week=labels[k], reviews=buckets.get(k, [0, 0])[0], win_win=buckets.get(k, [0, 0])[1]
            )
            for k in reversed(range(q.HISTORY_WEEKS))
        )
        this, prev = history[-1], history[-2]
        team = sorted(reps.get(owner_id, []), key=lambda r: (-r.reviews, r.name.casefold()))
        out[owner_id] = DigestModel(
            kind=kind,
            recipient=recipient,
            week=str(week),
            locale=recipient.locale,
            total_reviews=this.reviews,
            previous_total=prev.reviews,
            win_win_share=this.win_win_share,
            previous_win_win_share=prev.win_win_share,
            recommendation_mix={
                k: recs[owner_id][k] for k in RECOMMENDATIONS if recs[owner_id].get(k)
            },
            quadrant_mix={k: quads[owner_id][k] for k in QUADRANTS if quads[owner_id].get(k)},
            riskiest=tuple(risky.get(owner_id, ())),
            walk_away=tuple(walk.get(owner_id, ())),
            worsened=tuple(worsened.get(owner_id, ())),
            themes=tuple(
                Theme(flag=f.flag, reviews=int(f.reviews), total=this.reviews)
                for f in themes.get(owner_id, ())
            ),
            reps=tuple(team),
            idle_reps=tuple(r for r in team if r.reviews == 0),
            history=history,
            recommendation_history=tuple(
                {
                    r: rec_weeks[owner_id][k][r]
                    for r in RECOMMENDATIONS
                    if rec_weeks[owner_id][k].get(r)
                }
                for k in reversed(range(q.HISTORY_WEEKS))
            ),
            coaching=(
                CoachingGiven(
                    notes=given[owner_id].notes,
                    deals=given[owner_id].deals,
                    open=given[owner_id].open,
                )
                if owner_id in given
                else None
            ),
            followups=tuple(follow.get(owner_id, ())),
            loss_reasons=tuple(lost.get(owner_id, ())),
        )
    return out


def is_insights_week(week: IsoWeek) -> bool:
    """Does this week's digest carry the monthly "what predicts a win" section? The week in
    which a month begins: its Monday and the next Monday fall in different months."""
    return week.monday.month != week.next().monday.month


def _win_insights(report: InsightsReport, since: date, until: date) -> WinInsights:
    shown = report.shown
    return WinInsights(
        since=since,
        until=until,
        deals=report.deals,
        won=report.won,
        lines=tuple(
            WinInsight(
                kind=f.kind,
                feature=f.feature,
                won=f.with_feature.won,
                deals=f.with_feature.deals,
                won_without=f.without.won,
                deals_without=f.without.deals,
            )
            for f in shown[:INSIGHTS_SHOWN]
        ),
        more=max(0, len(shown) - INSIGHTS_SHOWN),
        loss_reasons=tuple(
            LossReasonCount(reason=r.reason, deals=r.deals) for r in report.loss_reasons
        ),
        min_deals=report.min_deals,
    )


def add_insights(
    uow: UnitOfWork, digests: dict[int, DigestModel], weeks: Mapping[int, IsoWeek]
) -> dict[int, DigestModel]:
    """The monthly section for the team digests whose week is an insights week: one
    `team_insights` (one statement) per distinct such week, for all their managers."""
    due: dict[IsoWeek, list[tuple[int, str]]] = defaultdict(list)
    for manager_id, week in weeks.items():
        digest = digests.get(manager_id)
        if digest is not None and digest.kind == "team" and is_insights_week(week):
            due[week].append((manager_id, digest.locale))
    out = dict(digests)
    for week, managers in due.items():
        until = week.bounds(zone("UTC"))[1]
        since = until - timedelta(days=INSIGHTS_DAYS)
        reports = team_insights(uow, managers, since, until)
        last_day = until.date() - timedelta(days=1)
        for manager_id, report in reports.items():
            out[manager_id] = out[manager_id].model_copy(
                update={"insights": _win_insights(report, since.date(), last_day)}
            )
    return out


def compose_team_digests(
    uow: UnitOfWork,
    managers: Sequence[q.ManagerRow],
    week: IsoWeek | None = None,
    *,
    now: datetime | None = None,
    default_locale: str = "en",
    default_tz: str = "UTC",
    insights: bool = True,
) -> dict[int, DigestModel]:
    """Each manager's team digest of `week` (default: the last full week in their time
    zone), keyed by manager person id. One batch of queries per distinct time zone, and once
    a month the "what predicts a win" section (`insights=False`: never, e.g. App Home)."""
    from dealcoach.store.types import utcnow

    moment = now or utcnow()
    groups: dict[tuple[str, str], dict[int, PersonRef]] = defaultdict(dict)
    weeks: dict[int, IsoWeek] = {}
    for row in managers:
        ref = ref_of_manager(row, default_locale, default_tz)
        chosen = week or IsoWeek.last_full(moment, zone(ref.timezone))
        groups[(ref.timezone, str(chosen))][row.person_id] = ref
        weeks[row.person_id] = chosen
    out: dict[int, DigestModel] = {}
    for (tz, week_text), refs in groups.items():
        chosen = IsoWeek.parse(week_text)
        out.update(
            _compose(
                uow,
                refs,
                q.team_scope(list(refs)),
                chosen,
                window_for(chosen, tz),
                "team",
            )
        )
    return add_insights(uow, out, weeks) if insights else out


def compose_self_digest(
    uow: UnitOfWork, person: Person, week: IsoWeek, *, default_locale: str = "en"
) -> DigestModel:
    """A rep's summary of their own reviews in `week` (never anyone else's)."""
    ref = ref_of_person(person, default_locale, "UTC")
    result = _compose(
        uow,
        {person.id: ref},
        q.self_scope(person.id),
        week,
        window_for(week, ref.timezone),
        "self",
    )
    return result[person.id]


def manager_rows(uow: UnitOfWork, ids: Iterable[int] | None = None) -> list[q.ManagerRow]:
    return q.managers(uow.session, manager_ids=list(ids) if ids is not None else None)
