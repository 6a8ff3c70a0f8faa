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
won (GROUP BY per flag; SUM(CASE WHEN EXISTS …) for the answers), next to the totals, so
"without" is totals minus "with". Python only reshapes the few aggregated rows (no loop over
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
    String,
    Text,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import Subquery

from dealcoach.store.digests import Scope
from dealcoach.store.models import Answer, Deal, Review, ReviewFlag

CLOSED = ("won", "lost", "walked_away")
LOST = ("lost", "walked_away")
ANSWER_FEATURES = ("economic_buyer_confirmed", "champion_tested", "customer_ready")
EVERYONE = 0  # owner_id of the unscoped rows


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


def _json_text(value: str) -> str:
    """How a JSON string answer reads as text on both databases."""
    return f'"{value}"'


def _value_is(column: Any, value: str) -> ColumnElement[bool]:
    return cast(column, Text) == _json_text(value)


def last_reviews(
    scope: Scope | None, since: datetime | None, until: datetime | None = None
) -> Subquery:
    """(owner_id, review_id, outcome, won, outcome_reason): each closed deal's last completed
    review (in [since, until) when given), per scope owner — a team's deals are its members'
    (`deal.owner_id`, who reviews them).

    Deal first: the closed deals, then each one's last review by one probe of the (deal_id,
    completed_at) index (a correlated ORDER BY … LIMIT 1), instead of ROW_NUMBER over every
    completed review: the cost follows the closed deals, not the size of the review log."""
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
    if scope is None:
        deals = select(
            literal(EVERYONE).label("owner_id"),
            Deal.outcome.label("outcome"),
            last_id.label("review_id"),
        ).where(Deal.outcome.in_(CLOSED))
    else:
        s = scope.subquery("s")
        deals = (
            select(
                s.c.owner_id.label("owner_id"),
                Deal.outcome.label("outcome"),
                last_id.label("review_id"),
            )
            .select_from(s)
            .join(Deal, Deal.owner_id == s.c.member_id)
            .where(Deal.outcome.in_(CLOSED))
        )
    closed = deals.subquery("closed")
    return (
        select(
            closed.c.owner_id,
            Review.id.label("review_id"),
            closed.c.outcome,
            case((closed.c.outcome == "won", 1), else_=0).label("won"),
            Review.outcome_reason.label("outcome_reason"),
        )
        .select_from(closed)
        .join(Review, Review.id == closed.c.review_id)
        .subquery("last")
    )


def _answer_features(review_id: ColumnElement[int]) -> dict[str, ColumnElement[bool]]:
    """EXISTS conditions for the key answers of one review (see the module doc)."""
    role = aliased(Answer, name="role")
    other = aliased(Answer, name="certainty")
    access = aliased(Answer, name="access")
    sells = aliased(Answer, name="sells")

    def same_person(alias: type[Answer], suffix: str) -> ColumnElement[bool]:
        return and_(
            alias.review_id == role.review_id,
            alias.question_id == func.replace(role.question_id, ".role", suffix),
        )

    is_role = and_(role.review_id == review_id, role.question_id.like("agenda.%.role"))
    eb_confirmed = (
        select(literal(1))
        .select_from(role)
        .join(other, same_person(other, ".certainty"))
        .where(
            is_role,
            _value_is(role.value, "economic_buyer"),
            _value_is(other.value, "confirmed"),
        )
        .exists()
    )
    champion_tested = (
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
        .exists()
    )
    ready = aliased(Answer, name="ready")
    customer_ready = exists().where(
        ready.review_id == review_id,
        ready.question_id == "benefit.customer_ready",
        _value_is(ready.value, "yes"),
    )
    return {
        "economic_buyer_confirmed": eb_confirmed,
        "champion_tested": champion_tested,
        "customer_ready": customer_ready,
    }


def win_features(
    session: Session,
    scope: Scope | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> WinFeatures:
    """Per scope owner: closed deals and wins in total, and per feature (two statements:
    totals with the key answers, and the flags GROUP BY flag)."""
    last = last_reviews(scope, since, until)
    answers = _answer_features(last.c.review_id)
    columns: list[Any] = [
        last.c.owner_id,
        func.count().label("deals"),
        func.coalesce(func.sum(last.c.won), 0).label("won"),
    ]
    for name in ANSWER_FEATURES:
        has = answers[name]
        columns.append(func.coalesce(func.sum(case((has, 1), else_=0)), 0).label(f"{name}_n"))
        columns.append(
            func.coalesce(func.sum(case((has, last.c.won), else_=0)), 0).label(f"{name}_won")
        )
    totals: list[TotalsRow] = []
    features: list[FeatureCountRow] = []
    for row in session.execute(select(*columns).group_by(last.c.owner_id)).all():
        values = tuple(row)
        owner = int(values[0])
        totals.append(TotalsRow(owner, int(values[1]), int(values[2])))
        for i, name in enumerate(ANSWER_FEATURES):
            n, won = int(values[3 + 2 * i]), int(values[4 + 2 * i])
            features.append(FeatureCountRow(owner, "answer", name, n, won))
    flags = (
        select(
            last.c.owner_id,
            literal("flag", String).label("kind"),
            ReviewFlag.flag,
            func.count(),
            func.coalesce(func.sum(last.c.won), 0),
        )
        .select_from(last)
        .join(ReviewFlag, ReviewFlag.review_id == last.c.review_id)
        .group_by(last.c.owner_id, ReviewFlag.flag)
        .order_by(last.c.owner_id, ReviewFlag.flag)
    )
    for row in session.execute(flags).all():
        values = tuple(row)
        features.append(
            FeatureCountRow(int(values[0]), "flag", str(values[2]), int(values[3]), int(values[4]))
        )
    return WinFeatures(totals=totals, features=features)


def loss_reasons(
    session: Session,
    scope: Scope | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[LossReasonRow]:
    """Per scope owner: lost and walked-away deals per recorded reason (GROUP BY)."""
    last = last_reviews(scope, since, until)
    query = (
        select(last.c.owner_id, last.c.outcome_reason, func.count())
        .where(last.c.outcome.in_(LOST))
        .group_by(last.c.owner_id, last.c.outcome_reason)
        .order_by(
            last.c.owner_id,
            func.count().desc(),
            last.c.outcome_reason.is_(None),  # "no reason recorded" after a tie, on both
            last.c.outcome_reason,
        )
    )
    return [LossReasonRow(int(row[0]), row[1], int(row[2])) for row in session.execute(query).all()]


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
