"""Aggregate SQL for manager digests, the App Home glance and nudges.

Every number a digest shows is computed by the database (GROUP BY, window functions: ROW_NUMBER
for "latest review of a deal" and "top N per manager", LAG for "worse than its previous
review"); Python only reshapes the aggregated rows. The same SQL runs on SQLite (3.25+ window
functions) and PostgreSQL.

Queries work on a *scope*: rows `(owner_id, member_id)` saying whose reviews belong to which
digest. For managers that is their team (`team_scope`, many managers at once, so a whole
week's digests cost a handful of queries); for a rep asking for a digest it is only themself
(`self_scope`), so a rep can never see a colleague's deals.

It is also the one home of a digest run's life (`claim_run` → `finish_run`, exactly once per
manager and week across replicas) and of the nudge log (`claim_nudge`, `release_nudge`).

Week bounds come in as aware UTC datetimes (`HistoryWindow`): bucket 0 is the digest's week,
bucket 1 the week before, … bucket 7 the oldest of the 8-week trend.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.orm import Session, aliased

from dealcoach.store.models import (
    Answer,
    Deal,
    DigestRun,
    NudgeLog,
    Person,
    Review,
    ReviewFlag,
    TeamMembership,
    Workspace,
)
from dealcoach.store.types import insert_for, utcnow

HISTORY_WEEKS = 8
# Rows (owner_id, member_id): whose reviews belong to whose digest.
Scope = Select[int, int]
RISKY_STAGES = ("negotiation", "closing")

# How bad a recommendation is: used for "got worse" and the risk score.
SEVERITY = {"pursue": 0, "strengthen": 1, "renegotiate": 2, "walk_away": 3}
# Risk score parts (documented in the digest footer): recommendation, flags, stage, value.
RISK_RECOMMENDATION = {"walk_away": 50, "renegotiate": 30, "strengthen": 10, "pursue": 0}
RISK_PER_FLAG = 6
RISK_LATE_STAGE = 15
RISK_VALUE_TIERS = ((250_000.0, 15), (50_000.0, 8), (10_000.0, 3))


@dataclass(frozen=True)
class HistoryWindow:
    """`starts[k]` is the start of bucket k (0 = the digest's week); `end` ends bucket 0."""

    starts: tuple[datetime, ...]
    end: datetime

    @property
    def start(self) -> datetime:
        return self.starts[0]

    @property
    def previous_start(self) -> datetime:
        return self.starts[1]

    @property
    def oldest(self) -> datetime:
        return self.starts[-1]


# --- scopes ---------------------------------------------------------------------------------


def team_scope(manager_ids: Sequence[int]) -> Scope:
    """(owner_id = manager, member_id) for these managers' teams."""
    return select(
        TeamMembership.manager_id.label("owner_id"), TeamMembership.member_id.label("member_id")
    ).where(TeamMembership.manager_id.in_(list(manager_ids)))


def self_scope(person_id: int) -> Scope:
    """(owner_id = member_id = the person): a rep's own summary."""
    return select(literal(person_id).label("owner_id"), literal(person_id).label("member_id"))


# --- result rows ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RepActivityRow:
    owner_id: int
    person_id: int
    user_id: str
    display_name: str | None
    reviews: int
    previous_reviews: int


@dataclass(frozen=True)
class MixRow:
    owner_id: int
    bucket: int
    recommendation: str | None
    quadrant: str | None
    reviews: int


@dataclass(frozen=True)
class FlagRow:
    owner_id: int
    flag: str
    reviews: int


@dataclass(frozen=True)
class DealRow:
    owner_id: int
    review_id: int
    deal_id: int
    deal_name: str
    account: str | None
    stage: str | None
    value: float | None
    rep_user_id: str
    rep_name: str | None
    recommendation: str | None
    quadrant: str | None
    flag_count: int
    score: int
    rank: int
    previous_recommendation: str | None = None


@dataclass(frozen=True)
class NudgeCandidateRow:
    person_id: int
    platform: str
    workspace_external_id: str
    user_id: str
    display_name: str | None
    locale: str | None
    timezone: str | None
    workspace_timezone: str
    workspace_locale: str
    last_nudge_week: str | None
    deal_id: int
    deal_name: str
    stage: str
    last_reviewed_at: datetime | None
    eligible_deals: int


@dataclass(frozen=True)
class ManagerRow:
    person_id: int
    platform: str
    workspace_external_id: str
    user_id: str
    display_name: str | None
    locale: str | None
    timezone: str | None
    workspace_timezone: str
    workspace_locale: str
    team_size: int


@dataclass(frozen=True)
class RunRow:
    run_id: int
    manager_id: int
    iso_week: str
    status: str
    attempts: int


# --- helpers --------------------------------------------------------------------------------


def _completed_in(start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(
        Review.status == "completed", Review.completed_at >= start, Review.completed_at < end
    )


def _severity(column: ColumnElement[str | None]) -> ColumnElement[int]:
    return case(*((column == k, v) for k, v in SEVERITY.items()), else_=-1)


# --- digest aggregates ----------------------------------------------------------------------


def rep_activity(session: Session, scope: Scope, window: HistoryWindow) -> list[RepActivityRow]:
    """Every member of every scope with their completed reviews this week and last week
    (zero rows included: a LEFT JOIN, so reps without a review show up)."""
    s = scope.subquery("s")
    this_week = func.coalesce(func.sum(case((Review.completed_at >= window.start, 1), else_=0)), 0)
    last_week = func.coalesce(func.sum(case((Review.completed_at < window.start, 1), else_=0)), 0)
    query = (
        select(
            s.c.owner_id,
            Person.id,
            Person.user_id,
            Person.display_name,
            this_week,
            last_week,
        )
        .select_from(s)
        .join(Person, Person.id == s.c.member_id)
        .outerjoin(
            Review,
            and_(
                Review.person_id == s.c.member_id,
                _completed_in(window.previous_start, window.end),
            ),
        )
        .group_by(s.c.owner_id, Person.id, Person.user_id, Person.display_name)
    )
    return [RepActivityRow(*row) for row in session.execute(query).all()]


def mix_history(session: Session, scope: Scope, window: HistoryWindow) -> list[MixRow]:
    """Completed reviews per scope, week bucket (0..7), recommendation and quadrant."""
    s = scope.subquery("s")
    bucket = case(
        *((Review.completed_at >= start, k) for k, start in enumerate(window.starts)),
        else_=len(window.starts),
    )
    inner = (
        select(
            s.c.owner_id.label("owner_id"),
            bucket.label("bucket"),
            Review.recommendation.label("recommendation"),
            Review.quadrant.label("quadrant"),
        )
        .select_from(s)
        .join(Review, Review.person_id == s.c.member_id)
        .where(_completed_in(window.oldest, window.end))
        .subquery("b")
    )
    query = select(
        inner.c.owner_id,
        inner.c.bucket,
        inner.c.recommendation,
        inner.c.quadrant,
        func.count(),
    ).group_by(inner.c.owner_id, inner.c.bucket, inner.c.recommendation, inner.c.quadrant)
    return [MixRow(*row) for row in session.execute(query).all()]


def top_flags(session: Session, scope: Scope, window: HistoryWindow, top: int = 3) -> list[FlagRow]:
    """The `top` most frequent flags of each scope's reviews this week (ROW_NUMBER per
    scope), counted in reviews."""
    s = scope.subquery("s")
    counts = (
        select(
            s.c.owner_id.label("owner_id"),
            ReviewFlag.flag.label("flag"),
            func.count().label("n"),
        )
        .select_from(s)
        .join(Review, Review.person_id == s.c.member_id)
        .join(ReviewFlag, ReviewFlag.review_id == Review.id)
        .where(_completed_in(window.start, window.end))
        .group_by(s.c.owner_id, ReviewFlag.flag)
        .subquery("c")
    )
    ranked = select(
        counts.c.owner_id,
        counts.c.flag,
        counts.c.n,
        func.row_number()
        .over(partition_by=counts.c.owner_id, order_by=(counts.c.n.desc(), counts.c.flag))
        .label("rk"),
    ).subquery("r")
    query = (
        select(ranked.c.owner_id, ranked.c.flag, ranked.c.n)
        .where(ranked.c.rk <= top)
        .order_by(ranked.c.owner_id, ranked.c.rk)
    )
    return [FlagRow(*row) for row in session.execute(query).all()]


def deal_risks(
    session: Session,
    scope: Scope,
    window: HistoryWindow,
    *,
    top: int = 5,
    min_score: int = 1,
) -> list[DealRow]:
    """Per scope: the deals reviewed this week (their latest review), scored for risk.

    Returns the `top` riskiest deals with a score ≥ `min_score` (rank 1..top) plus every deal
    whose latest review says `walk_away` (whatever its rank). Score = recommendation weight +
    flags × RISK_PER_FLAG + late stage + value tier, all in SQL.
    """
    s = scope.subquery("s")
    latest = (
        select(
            s.c.owner_id.label("owner_id"),
            Review.id.label("review_id"),
            Review.deal_id.label("deal_id"),
            Review.person_id.label("person_id"),
            Review.recommendation.label("recommendation"),
            Review.quadrant.label("quadrant"),
            func.row_number()
            .over(
                partition_by=(s.c.owner_id, Review.deal_id),
                order_by=(Review.completed_at.desc(), Review.id.desc()),
            )
            .label("rn"),
        )
        .select_from(s)
        .join(Review, Review.person_id == s.c.member_id)
        .where(_completed_in(window.start, window.end), Review.deal_id.is_not(None))
        .subquery("l")
    )
    # Correlated per listed review (primary-key lookups): the planner cannot misjudge a join
    # against the ROW_NUMBER() = 1 filter into a nested loop over every pair.
    n_flags = (
        select(func.count())
        .where(ReviewFlag.review_id == latest.c.review_id)
        .correlate(latest)
        .scalar_subquery()
    )
    value = func.coalesce(Deal.value, 0.0)
    score = (
        case(
            *((latest.c.recommendation == k, v) for k, v in RISK_RECOMMENDATION.items()),
            else_=0,
        )
        + n_flags * RISK_PER_FLAG
        + case((Deal.stage.in_(RISKY_STAGES), RISK_LATE_STAGE), else_=0)
        + case(*((value >= floor, points) for floor, points in RISK_VALUE_TIERS), else_=0)
    )
    scored = (
        select(
            latest.c.owner_id,
            latest.c.review_id,
            latest.c.deal_id,
            Deal.name.label("deal_name"),
            Deal.account.label("account"),
            Deal.stage.label("stage"),
            Deal.value.label("value"),
            Person.user_id.label("rep_user_id"),
            Person.display_name.label("rep_name"),
            latest.c.recommendation,
            latest.c.quadrant,
            n_flags.label("flag_count"),
            score.label("score"),
        )
        .select_from(latest)
        .join(Deal, Deal.id == latest.c.deal_id)
        .join(Person, Person.id == latest.c.person_id)
        .where(latest.c.rn == 1)
        .subquery("sc")
    )
    ranked = select(
        scored,
        func.row_number()
        .over(
            partition_by=scored.c.owner_id,
            order_by=(
                scored.c.score.desc(),
                func.coalesce(scored.c.value, 0.0).desc(),
                scored.c.deal_id,
            ),
        )
        .label("rk"),
    ).subquery("rk")
    query = (
        select(ranked)
        .where(
            or_(
                and_(ranked.c.rk <= top, ranked.c.score >= min_score),
                ranked.c.recommendation == "walk_away",
            )
        )
        .order_by(ranked.c.owner_id, ranked.c.rk)
    )
    return [
        DealRow(
            owner_id=row.owner_id,
            review_id=row.review_id,
            deal_id=row.deal_id,
            deal_name=row.deal_name,
            account=row.account,
            stage=row.stage,
            value=row.value,
            rep_user_id=row.rep_user_id,
            rep_name=row.rep_name,
            recommendation=row.recommendation,
            quadrant=row.quadrant,
            flag_count=int(row.flag_count),
            score=int(row.score),
            rank=int(row.rk),
        )
        for row in session.execute(query).all()
    ]


def worsened_deals(
    session: Session, scope: Scope, window: HistoryWindow, *, limit: int = 10
) -> list[DealRow]:
    """Deals whose latest review this week recommends something worse than the review before
    it. Within the week that is LAG over the deal's reviews in completion order; for a deal's
    first review of the week, its latest review before the week (one index probe on
    (deal_id, completed_at) per deal, instead of a window over each deal's whole history)."""
    s = scope.subquery("s")
    week = (
        select(
            s.c.owner_id.label("owner_id"),
            Review.id.label("review_id"),
            Review.deal_id.label("deal_id"),
            Review.person_id.label("person_id"),
            Review.recommendation.label("recommendation"),
            Review.quadrant.label("quadrant"),
            func.lag(Review.recommendation)
            .over(partition_by=Review.deal_id, order_by=(Review.completed_at, Review.id))
            .label("lagged"),
            func.row_number()
            .over(
                partition_by=Review.deal_id,
                order_by=(Review.completed_at.desc(), Review.id.desc()),
            )
            .label("rn"),
        )
        .select_from(s)
        .join(Review, Review.person_id == s.c.member_id)
        .where(_completed_in(window.start, window.end), Review.deal_id.is_not(None))
        .subquery("wk")
    )
    earlier = aliased(Review)
    before_week = (
        select(earlier.recommendation)
        .where(
            earlier.deal_id == week.c.deal_id,
            earlier.status == "completed",
            earlier.completed_at < window.start,
        )
        .order_by(earlier.completed_at.desc(), earlier.id.desc())
        .limit(1)
        .correlate(week)
        .scalar_subquery()
    )
    history = (
        select(
            week.c.owner_id,
            week.c.review_id,
            week.c.deal_id,
            week.c.person_id,
            week.c.recommendation,
            week.c.quadrant,
            func.coalesce(week.c.lagged, before_week).label("previous"),
        )
        .where(week.c.rn == 1)
        # Materialised, so the before-the-week probe runs once per deal, not once for every
        # place `previous` is used below (PostgreSQL would inline it into each CASE).
        .cte("h")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    worse = _severity(history.c.recommendation) - _severity(history.c.previous)
    ranked = (
        select(
            history.c.owner_id,
            history.c.review_id,
            history.c.deal_id,
            Deal.name,
            Deal.account,
            Deal.stage,
            Deal.value,
            Person.user_id,
            Person.display_name,
            history.c.recommendation,
            history.c.quadrant,
            history.c.previous,
            worse.label("worse"),
            func.row_number()
            .over(
                partition_by=history.c.owner_id,
                order_by=(worse.desc(), func.coalesce(Deal.value, 0.0).desc(), Deal.id),
            )
            .label("rk"),
        )
        .select_from(history)
        .join(Deal, Deal.id == history.c.deal_id)
        .join(Person, Person.id == history.c.person_id)
        .where(
            history.c.previous.is_not(None),
            worse > 0,
        )
        .subquery("w")
    )
    query = select(ranked).where(ranked.c.rk <= limit).order_by(ranked.c.owner_id, ranked.c.rk)
    return [
        DealRow(
            owner_id=row[0],
            review_id=row[1],
            deal_id=row[2],
            deal_name=row[3],
            account=row[4],
            stage=row[5],
            value=row[6],
            rep_user_id=row[7],
            rep_name=row[8],
            recommendation=row[9],
            quadrant=row[10],
            flag_count=0,
            score=int(row[12]),
            rank=int(row[13]),
            previous_recommendation=row[11],
        )
        for row in session.execute(query).all()
    ]


def flags_of(session: Session, review_ids: Sequence[int]) -> dict[int, list[str]]:
    """The flags of a few reviews (the digest's listed deals), to say *why* they are risky."""
    out: dict[int, list[str]] = {rid: [] for rid in review_ids}
    if not review_ids:
        return out
    rows = session.execute(
        select(ReviewFlag.review_id, ReviewFlag.flag)
        .where(ReviewFlag.review_id.in_(list(review_ids)))
        .order_by(ReviewFlag.review_id, ReviewFlag.flag)
    )
    for rid, flag in rows:
        out[rid].append(flag)
    return out


# --- who gets a digest ------------------------------------------------------------------------


def managers(
    session: Session,
    *,
    manager_ids: Sequence[int] | None = None,
    platform: str | None = None,
) -> list[ManagerRow]:
    """Everyone who manages at least one member, with their team size."""
    team = (
        select(TeamMembership.manager_id.label("mid"), func.count().label("n"))
        .group_by(TeamMembership.manager_id)
        .subquery("t")
    )
    query = (
        select(
            Person.id,
            Workspace.platform,
            Workspace.external_id,
            Person.user_id,
            Person.display_name,
            Person.locale,
            Person.timezone,
            Workspace.timezone,
            Workspace.default_locale,
            team.c.n,
        )
        .join(team, team.c.mid == Person.id)
        .join(Workspace, Workspace.id == Person.workspace_id)
        .order_by(Person.id)
    )
    if manager_ids is not None:
        query = query.where(Person.id.in_(list(manager_ids)))
    if platform is not None:
        query = query.where(Workspace.platform == platform)
    return [ManagerRow(*row) for row in session.execute(query).all()]


# --- digest runs: exactly once per manager and week ----------------------------------------


def get_run(session: Session, manager_id: int, iso_week: str) -> DigestRun | None:
    return session.scalars(
        select(DigestRun).where(DigestRun.manager_id == manager_id, DigestRun.iso_week == iso_week)
    ).one_or_none()


def claim_run(
    session: Session,
    manager_id: int,
    iso_week: str,
    *,
    stale_after: timedelta = timedelta(minutes=30),
) -> DigestRun | None:
    """Claim the week for this manager by inserting its unique row, or None if it is sent or
    being sent elsewhere. A `failed` run, or a `claimed` one older than `stale_after` (its
    sender died), is claimed again with `attempts + 1`. Commit right after claiming, before
    sending; `finish_run` records the outcome of this claim."""
    now = utcnow()
    inserted = session.execute(
        insert_for(session, DigestRun)
        .values(
            manager_id=manager_id, iso_week=iso_week, status="claimed", attempts=1, claimed_at=now
        )
        .on_conflict_do_nothing(index_elements=["manager_id", "iso_week"])
        .returning(DigestRun.id)
    ).scalar_one_or_none()
    if inserted is not None:
        return session.get(DigestRun, inserted)
    retaken = session.execute(
        update(DigestRun)
        .where(
            DigestRun.manager_id == manager_id,
            DigestRun.iso_week == iso_week,
            (DigestRun.status == "failed")
            | ((DigestRun.status == "claimed") & (DigestRun.claimed_at < now - stale_after)),
        )
        .values(status="claimed", attempts=DigestRun.attempts + 1, claimed_at=now, error=None)
        .execution_options(synchronize_session=False)
    )
    if getattr(retaken, "rowcount", 0):
        run = get_run(session, manager_id, iso_week)
        if run is not None:
            session.refresh(run)
        return run
    return None


def finish_run(session: Session, run_id: int, attempts: int, *, error: str | None) -> bool:
    """Record the outcome of *our* claim (`attempts` as claimed): sent, or failed with
    `error`. False if the claim was taken over meanwhile (it went stale), so a slow sender
    never overwrites a newer attempt's outcome."""
    values: dict[str, object] = (
        {"status": "sent", "sent_at": utcnow(), "error": None}
        if error is None
        else {"status": "failed", "error": error[:2000]}
    )
    result = session.execute(
        update(DigestRun)
        .where(
            DigestRun.id == run_id,
            DigestRun.attempts == attempts,
            DigestRun.status == "claimed",
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def settled_runs(
    session: Session, pairs: Sequence[tuple[int, str]], *, stale_after: timedelta
) -> set[tuple[int, str]]:
    """Of these (manager, week) pairs, those already sent or being sent right now (a fresh
    claim): one query, so a run over hundreds of managers skips them without a claim each."""
    if not pairs:
        return set()
    now = utcnow()
    rows = session.execute(
        select(DigestRun.manager_id, DigestRun.iso_week).where(
            tuple_(DigestRun.manager_id, DigestRun.iso_week).in_(list(pairs)),
            or_(
                DigestRun.status == "sent",
                and_(DigestRun.status == "claimed", DigestRun.claimed_at >= now - stale_after),
            ),
        )
    ).all()
    return {(int(r[0]), str(r[1])) for r in rows}


def retryable_runs(
    session: Session, weeks: Sequence[str], *, stale_after: timedelta
) -> list[RunRow]:
    """Runs of these weeks that failed, or whose claim went stale (the sender died)."""
    now = utcnow()
    query = (
        select(
            DigestRun.id,
            DigestRun.manager_id,
            DigestRun.iso_week,
            DigestRun.status,
            DigestRun.attempts,
        )
        .where(
            DigestRun.iso_week.in_(list(weeks)),
            or_(
                DigestRun.status == "failed",
                and_(DigestRun.status == "claimed", DigestRun.claimed_at < now - stale_after),
            ),
        )
        .order_by(DigestRun.id)
    )
    return [RunRow(*row) for row in session.execute(query).all()]


# --- nudges ---------------------------------------------------------------------------------


def nudge_candidates(
    session: Session, *, stale_before: datetime, per_person: int = 3
) -> list[NudgeCandidateRow]:
    """Open deals in negotiation/closing whose owner has not reviewed them since
    `stale_before` and has not paused nudges: the `per_person` stalest deals of each person
    (ROW_NUMBER), the person's eligible-deal count (COUNT OVER) and the ISO week of their last
    nudge (so the caller can skip whoever was nudged this week in their own time zone)."""
    last_seen = func.coalesce(Deal.last_reviewed_at, Deal.created_at)
    last_week = (
        select(func.max(NudgeLog.iso_week))
        .where(NudgeLog.person_id == Person.id)
        .correlate(Person)
        .scalar_subquery()
    )
    inner = (
        select(
            Person.id.label("person_id"),
            Workspace.platform.label("platform"),
            Workspace.external_id.label("workspace_external_id"),
            Person.user_id.label("user_id"),
            Person.display_name.label("display_name"),
            Person.locale.label("locale"),
            Person.timezone.label("timezone"),
            Workspace.timezone.label("workspace_timezone"),
            Workspace.default_locale.label("workspace_locale"),
            last_week.label("last_nudge_week"),
            Deal.id.label("deal_id"),
            Deal.name.label("deal_name"),
            Deal.stage.label("stage"),
            Deal.last_reviewed_at.label("last_reviewed_at"),
            func.count().over(partition_by=Person.id).label("eligible"),
            func.row_number()
            .over(partition_by=Person.id, order_by=(last_seen, Deal.id))
            .label("rk"),
        )
        .join(Person, Person.id == Deal.owner_id)
        .join(Workspace, Workspace.id == Person.workspace_id)
        .where(
            Deal.stage.in_(RISKY_STAGES),
            Deal.outcome == "open",
            Person.nudges_paused.is_(False),
            last_seen < stale_before,
            # A draft in progress on the deal counts as "being reviewed": no nudge.
            ~exists().where(
                Review.deal_id == Deal.id,
                Review.status == "draft",
                Review.updated_at >= stale_before,
            ),
        )
        .subquery("c")
    )
    query = select(inner).where(inner.c.rk <= per_person).order_by(inner.c.person_id, inner.c.rk)
    return [
        NudgeCandidateRow(
            person_id=row.person_id,
            platform=row.platform,
            workspace_external_id=row.workspace_external_id,
            user_id=row.user_id,
            display_name=row.display_name,
            locale=row.locale,
            timezone=row.timezone,
            workspace_timezone=row.workspace_timezone,
            workspace_locale=row.workspace_locale,
            last_nudge_week=row.last_nudge_week,
            deal_id=row.deal_id,
            deal_name=row.deal_name,
            stage=row.stage,
            last_reviewed_at=row.last_reviewed_at,
            eligible_deals=int(row.eligible),
        )
        for row in session.execute(query).all()
    ]


def claim_nudge(session: Session, person_id: int, deal_ids: Sequence[int], iso_week: str) -> bool:
    """Claim this person's one nudge of `iso_week` (about `deal_ids`); False if they already
    got one that week. The person row is locked first (PostgreSQL; SQLite serialises writers),
    so two schedulers cannot both claim a week for one person with different deals."""
    session.execute(select(Person.id).where(Person.id == person_id).with_for_update()).one_or_none()
    already = session.scalar(
        select(func.count())
        .select_from(NudgeLog)
        .where(NudgeLog.person_id == person_id, NudgeLog.iso_week == iso_week)
    )
    if already:
        return False
    now = utcnow()
    session.add_all(
        NudgeLog(person_id=person_id, deal_id=d, iso_week=iso_week, sent_at=now)
        for d in dict.fromkeys(deal_ids)
    )
    session.flush()
    return True


def release_nudge(session: Session, person_id: int, iso_week: str) -> None:
    """Undo a claim whose message could not be delivered, so the next run tries again."""
    session.execute(
        delete(NudgeLog)
        .where(NudgeLog.person_id == person_id, NudgeLog.iso_week == iso_week)
        .execution_options(synchronize_session=False)
    )


# --- the committee of listed deals (issue 15) ----------------------------------------------------


def agenda_answers(session: Session, review_ids: Sequence[int]) -> dict[int, dict[str, object]]:
    """The `agenda.*` answers of a few reviews (the digest's riskiest deals), for their
    committee coverage: one query, on the (review_id, question_id) unique index."""
    out: dict[int, dict[str, object]] = {rid: {} for rid in review_ids}
    if not review_ids:
        return out
    rows = session.execute(
        select(Answer.review_id, Answer.question_id, Answer.value).where(
            Answer.review_id.in_(list(review_ids)), Answer.question_id.like("agenda.%")
        )
    )
    for rid, question, value in rows:
        out[rid][question] = value
    return out
