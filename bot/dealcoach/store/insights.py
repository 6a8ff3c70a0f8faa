"""What predicts a win (issue 15): SQL aggregates over closed deals, and why deals were lost.

A *closed* deal has the outcome `won`, `lost` or `walked_away`. Each closed deal counts once,
by its **last completed review** (one index probe per closed deal, newest first):
that review's flags (`review_flag`) and three key answers are the deal's *features*:

- `economic_buyer_confirmed`: a decision-maker with `agenda.N.role = economic_buyer` whose
  `agenda.N.certainty = confirmed` (the same N);
- `champion_tested`: a decision-maker with `agenda.N.role = champion`,
  `agenda.N.champion_access = yes` and `agenda.N.champion_sells = yes` (the same N);
- `customer_ready`: `benefit.customer_ready = yes`.

For each feature the database counts the closed deals that have it and how many of those were
won (GROUP BY per flag; SUM over a 0/1 index probe per deal for the answers), next to the
totals, so "without" is totals minus "with" — and the lost deals per reason: all of it in one
statement (`insight_counts`). Python only reshapes the few aggregated rows (no loop over
reviews). Answer values are JSON: a choice is compared as its JSON text (`"yes"`), which is
what both SQLite's JSON text and PostgreSQL's `jsonb::text` give.

Scope: like the digests, rows `(owner_id, member_id)` (`team_scope` of many managers at once,
`self_scope`); None means everyone (owner_id 0). `since` keeps the deals whose last review was
completed at or after it, `until` those completed before it (the monthly digest section looks
at the 12 months up to the end of the digest's week).

`lost_in(session, scope, start, end)` counts the deals marked lost or walked away in a digest's
week by reason (the digest's themes): the deal's owner in scope, the deal last changed in the
week (recording the outcome is the last change of a closed deal: `deal.updated_at`), the reason
from its last completed review.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    Text,
    and_,
    case,
    cast,
    func,
    literal,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.selectable import CTE

from dealcoach.store.digests import Scope
from dealcoach.store.models import Answer, Deal, Review, ReviewFlag

CLOSED = ("won", "lost", "walked_away")
LOST = ("lost", "walked_away")
ANSWER_FEATURES = ("economic_buyer_confirmed", "champion_tested", "customer_ready")
EVERYONE = 0  # owner_id of the unscoped rows
# agenda.N.role for every N a question bank may hold (coach.bank checks max_people ≤ 9).
ROLE_IDS = tuple(f"agenda.{n}.role" for n in range(1, 10))


@dataclass(frozen=True)
class TotalsRow:
    owner_id: int
    deals: int
    won: int


@dataclass(frozen=True)
class FeatureCountRow:
    """Closed deals whose last review has the feature (`kind` flag or answer), and won."""

    owner_id: int
    kind: str  # "flag" | "answer"
    feature: str  # the flag id, or one of ANSWER_FEATURES
    deals: int
    won: int


@dataclass(frozen=True)
class LossReasonRow:
    owner_id: int
    reason: str | None  # None: lost without a recorded reason
    deals: int


@dataclass(frozen=True)
class WinFeatures:
    totals: list[TotalsRow]
    features: list[FeatureCountRow]


@dataclass(frozen=True)
class InsightCounts:
    """Everything "what predicts a win" counts, per scope owner (`insight_counts`)."""

    totals: list[TotalsRow]
    features: list[FeatureCountRow]  # key answers first (ANSWER_FEATURES order), then flags
    reasons: list[LossReasonRow]  # most first, "no reason" last in a tie


def _json_text(value: str) -> str:
    """How a JSON string answer reads as text on both databases."""
    return f'"{value}"'


def _value_is(column: Any, value: str) -> ColumnElement[bool]:
    return cast(column, Text) == _json_text(value)


def last_reviews(scope: Scope | None, since: datetime | None, until: datetime | None = None) -> CTE:
    """(owner_id, review_id, outcome, won): each closed deal's last completed review (in
    [since, until) when given), per scope owner — a team's deals are its members'
    (`deal.owner_id`, who reviews them).

    Deal first: the closed deals, then each one's last review by one probe of the (deal_id,
    completed_at) index (a correlated ORDER BY … LIMIT 1), instead of ROW_NUMBER over every
    completed review: the cost follows the closed deals, not the length of the review log.
    Materialised, so the probe runs once per deal however often the id is used after it."""
    latest = select(Review.id).where(Review.deal_id == Deal.id, Review.status == "completed")
    if since is not None:
        latest = latest.where(Review.completed_at >= since)
    if until is not None:
        latest = latest.where(Review.completed_at < until)
    last_id = (
        latest.order_by(Review.completed_at.desc(), Review.id.desc())
        .limit(1)
        .correlate(Deal)
        .scalar_subquery()
    )
    won = case((Deal.outcome == "won", 1), else_=0)
    if scope is None:
        deals = select(
            literal(EVERYONE).label("owner_id"),
            last_id.label("review_id"),
            Deal.outcome.label("outcome"),
            won.label("won"),
        )
    else:
        s = scope.subquery("s")
        deals = (
            select(
                s.c.owner_id.label("owner_id"),
                last_id.label("review_id"),
                Deal.outcome.label("outcome"),
                won.label("won"),
            )
            .select_from(s)
            .join(Deal, Deal.owner_id == s.c.member_id)
        )
    return _materialized(deals.where(Deal.outcome.in_(CLOSED)).cte("closed"))


def _materialized(cte: CTE) -> CTE:
    """Computed once, not inlined into every reference (PostgreSQL 12+, SQLite 3.35+)."""
    return cte.prefix_with("MATERIALIZED", dialect="postgresql").prefix_with(
        "MATERIALIZED", dialect="sqlite"
    )


def _answer_features(review_id: ColumnElement[int]) -> dict[str, ColumnElement[int]]:
    """1 or 0 for each key answer of one review (see the module doc).

    Each is a correlated `(SELECT 1 … LIMIT 1)`, not an EXISTS: PostgreSQL may run an EXISTS
    as a hashed subplan over the whole answer table (millions of rows) when it expects many
    calls; a scalar subquery is always a probe of the (review_id, question_id) index."""
    role = aliased(Answer, name="role")
    other = aliased(Answer, name="certainty")
    access = aliased(Answer, name="access")
    sells = aliased(Answer, name="sells")
    ready = aliased(Answer, name="ready")

    def same_person(alias: type[Answer], suffix: str) -> ColumnElement[bool]:
        return and_(
            alias.review_id == role.review_id,
            alias.question_id == func.replace(role.question_id, ".role", suffix),
        )

    def one_if(query: Select[Any]) -> ColumnElement[int]:
        return func.coalesce(query.limit(1).scalar_subquery(), 0)

    # The ids themselves, not LIKE 'agenda.%.role': the probe then reads only the index
    # entries of the roles, not every answer of the review.
    is_role = and_(role.review_id == review_id, role.question_id.in_(ROLE_IDS))
    return {
        "economic_buyer_confirmed": one_if(
            select(literal(1))
            .select_from(role)
            .join(other, same_person(other, ".certainty"))
            .where(
                is_role,
                _value_is(role.value, "economic_buyer"),
                _value_is(other.value, "confirmed"),
            )
        ),
        "champion_tested": one_if(
            select(literal(1))
            .select_from(role)
            .join(access, same_person(access, ".champion_access"))
            .join(sells, same_person(sells, ".champion_sells"))
            .where(
                is_role,
                _value_is(role.value, "champion"),
                _value_is(access.value, "yes"),
                _value_is(sells.value, "yes"),
            )
        ),
        "customer_ready": one_if(
            select(literal(1)).where(
                ready.review_id == review_id,
                ready.question_id == "benefit.customer_ready",
                _value_is(ready.value, "yes"),
            )
        ),
    }


def insight_counts(
    session: Session,
    scope: Scope | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> InsightCounts:
    """Per scope owner, in ONE statement whatever the number of owners: closed deals and
    wins in total and per feature (key answers, flags), and the lost deals per reason.

    Two materialised CTEs — each closed deal's last review (`last_reviews`), then its three
    key answers as 0/1 (each probed once per deal) — and a UNION ALL of small GROUP
    BYs over them: totals, one per key answer, the flags (joined on the review's flags),
    and the loss reasons (the last review's `outcome_reason`, a primary-key lookup per lost
    deal). Rows come back as (part, owner_id, key, deals, won); Python only sorts and
    reshapes these few rows. (On PostgreSQL, `SET LOCAL jit = off` first.)"""
    closed = last_reviews(scope, since, until)
    answers = _answer_features(closed.c.review_id)
    last = _materialized(
        select(
            closed.c.owner_id,
            closed.c.review_id,
            closed.c.outcome,
            closed.c.won,
            *(answers[name].label(name) for name in ANSWER_FEATURES),
        )
        .where(closed.c.review_id.is_not(None))
        .cte("last")
    )
    text_key = literal(None, String)
    parts: list[Any] = [
        select(
            literal("total", String).label("part"),
            last.c.owner_id,
            text_key.label("key"),
            func.count().label("deals"),
            func.coalesce(func.sum(last.c.won), 0).label("won"),
        ).group_by(last.c.owner_id)
    ]
    for name in ANSWER_FEATURES:
        has = last.c[name]
        parts.append(
            select(
                literal("answer", String),
                last.c.owner_id,
                literal(name, String),
                func.coalesce(func.sum(has), 0),
                func.coalesce(func.sum(has * last.c.won), 0),
            ).group_by(last.c.owner_id)
        )
    parts.append(
        select(
            literal("flag", String),
            last.c.owner_id,
            ReviewFlag.flag,
            func.count(),
            func.coalesce(func.sum(last.c.won), 0),
        )
        .select_from(last)
        .join(ReviewFlag, ReviewFlag.review_id == last.c.review_id)
        .group_by(last.c.owner_id, ReviewFlag.flag)
    )
    reason = (
        select(Review.outcome_reason)
        .where(Review.id == last.c.review_id)
        .correlate(last)
        .scalar_subquery()
    )
    lost = (
        select(last.c.owner_id.label("owner_id"), reason.label("reason"))
        .where(last.c.outcome.in_(LOST))
        .subquery("lost")
    )
    parts.append(
        select(
            literal("reason", String),
            lost.c.owner_id,
            lost.c.reason,
            func.count(),
            literal(0),
        ).group_by(lost.c.owner_id, lost.c.reason)
    )
    if session.get_bind().dialect.name == "postgresql":
        # The per-deal probes make the planner's estimate large enough for JIT compilation,
        # which takes longer (~0.8 s at 1 M reviews) than the whole query then runs.
        session.execute(text("SET LOCAL jit = off"))
    totals: list[TotalsRow] = []
    features: list[FeatureCountRow] = []
    reasons: list[LossReasonRow] = []
    for part, owner, key, deals, won in session.execute(union_all(*parts)).all():
        owner_id, n, k = int(owner), int(deals or 0), int(won or 0)
        if part == "total":
            totals.append(TotalsRow(owner_id, n, k))
        elif part == "reason":
            reasons.append(LossReasonRow(owner_id, key, n))
        else:
            features.append(FeatureCountRow(owner_id, str(part), str(key), n, k))
    totals.sort(key=lambda t: t.owner_id)
    features.sort(
        key=lambda f: (
            f.owner_id,
            f.kind != "answer",
            ANSWER_FEATURES.index(f.feature) if f.kind == "answer" else 0,
            f.feature,
        )
    )
    # Most first; "no reason recorded" after a tie, on both databases.
    reasons.sort(key=lambda r: (r.owner_id, -r.deals, r.reason is None, r.reason or ""))
    return InsightCounts(totals=totals, features=features, reasons=reasons)


def win_features(
    session: Session,
    scope: Scope | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> WinFeatures:
    """Per scope owner: closed deals and wins in total, and per feature (`insight_counts`)."""
    counts = insight_counts(session, scope, since, until)
    return WinFeatures(totals=counts.totals, features=counts.features)


def loss_reasons(
    session: Session,
    scope: Scope | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[LossReasonRow]:
    """Per scope owner: lost and walked-away deals per recorded reason (`insight_counts`)."""
    return insight_counts(session, scope, since, until).reasons


def lost_in(session: Session, scope: Scope, start: datetime, end: datetime) -> list[LossReasonRow]:
    """Per scope owner: the deals marked lost or walked away in [start, end) — the owner's
    deals last changed then — per reason of their last completed review (one GROUP BY; the
    reason is a correlated lookup per lost deal, on the (deal, completed) index)."""
    s = scope.subquery("s")
    reason = (
        select(Review.outcome_reason)
        .where(Review.deal_id == Deal.id, Review.status == "completed")
        .order_by(Review.completed_at.desc(), Review.id.desc())
        .limit(1)
        .correlate(Deal)
        .scalar_subquery()
    )
    lost = (
        select(s.c.owner_id.label("owner_id"), reason.label("reason"))
        .select_from(s)
        .join(Deal, Deal.owner_id == s.c.member_id)
        .where(Deal.outcome.in_(LOST), Deal.updated_at >= start, Deal.updated_at < end)
        .subquery("lost")
    )
    query = (
        select(lost.c.owner_id, lost.c.reason, func.count())
        .group_by(lost.c.owner_id, lost.c.reason)
        .order_by(lost.c.owner_id, func.count().desc(), lost.c.reason.is_(None), lost.c.reason)
    )
    return [LossReasonRow(int(row[0]), row[1], int(row[2])) for row in session.execute(query).all()]


def set_outcome_reason(
    session: Session, deal_id: int, reason: str | None, text: str | None
) -> int | None:
    """Store why the deal was lost on its last completed review (and clear it on the deal's
    other reviews, so a deal has one reason). Returns that review's id, None if it has none."""
    last_id = session.scalar(
        select(Review.id)
        .where(Review.deal_id == deal_id, Review.status == "completed")
        .order_by(Review.completed_at.desc(), Review.id.desc())
        .limit(1)
    )
    if last_id is None:
        return None
    session.execute(
        update(Review)
        .where(Review.deal_id == deal_id, Review.id != last_id, Review.outcome_reason.is_not(None))
        .values(outcome_reason=None, outcome_reason_text=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Review)
        .where(Review.id == last_id)
        .values(outcome_reason=reason, outcome_reason_text=text)
        .execution_options(synchronize_session=False)
    )
    return int(last_id)
