"""Seeding completed reviews straight through the store's repositories (no coach round trip),
placed at chosen moments, so digest tests can build whole teams and weeks quickly."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from dealcoach.digest.weeks import IsoWeek
from dealcoach.store import Store
from dealcoach.store.models import Deal, Person, Review
from dealcoach.store.uow import UnitOfWork

WEEK = IsoWeek(2026, 46)  # Mon 2026-11-09 .. Sun 2026-11-15; "today" is 2026-11-23
NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def at(week: IsoWeek, day: int = 2, hour: int = 12) -> datetime:
    """A moment inside `week` (day 1 = Monday), in UTC."""
    start = datetime.combine(week.monday, datetime.min.time(), tzinfo=UTC)
    return start + timedelta(days=day - 1, hours=hour)


def person(
    uow: UnitOfWork,
    user_id: str,
    *,
    workspace: str = "T1",
    platform: str = "slack",
    locale: str | None = None,
    tz: str | None = "UTC",
) -> Person:
    ws = uow.workspaces.get_or_create(platform, workspace, name="Acme")  # type: ignore[arg-type]
    p = uow.people.get_or_create(ws, user_id, display_name=user_id.lower(), timezone=tz)
    if locale:
        p.locale = locale
    uow.flush()
    return p


def review(
    uow: UnitOfWork,
    owner: Person,
    deal_name: str,
    *,
    when: datetime,
    recommendation: str = "pursue",
    quadrant: str = "win_win",
    flags: Sequence[str] = (),
    stage: str | None = "proposal",
    value: float | None = None,
) -> int:
    deal = uow.deals.get_or_create(owner, deal_name)
    uow.deals.update_details(deal, stage=stage, value=value)
    draft = uow.reviews.create_draft(owner, platform="slack", locale="en", deal=deal)
    uow.reviews.complete(
        draft,
        idempotency_key=None,
        quadrant=quadrant,
        recommendation=recommendation,
        flags=list(flags),
        assessment={"quadrant": quadrant, "recommendation": recommendation, "flags": list(flags)},
    )
    uow.session.execute(
        update(Review).where(Review.id == draft.id).values(completed_at=when, updated_at=when)
    )
    uow.session.execute(update(Deal).where(Deal.id == deal.id).values(last_reviewed_at=when))
    uow.flush()
    return draft.id


def team(uow: UnitOfWork, manager: Person, *members: Person) -> None:
    for m in members:
        uow.reporting.assign(manager, m)
    uow.flush()


def two_teams(store: Store) -> dict[str, int]:
    """Manager M1 with reps A and B, manager M2 with rep C, outsider O (no manager).

    Week 46: A reviews Acme (walk_away, negotiation, 300k, 2 flags) and Beta (pursue);
    B reviews nothing; C reviews Gamma (renegotiate) twice, first pursue in week 45 then
    renegotiate in week 46 (got worse); O reviews Omega (walk_away) — in nobody's digest.
    """
    with store.unit_of_work() as uow:
        m1, m2 = person(uow, "UM1"), person(uow, "UM2", locale="nl")
        a, b, c, o = (person(uow, u) for u in ("UA", "UB", "UC", "UO"))
        team(uow, m1, a, b)
        team(uow, m2, c)
        ids = {p.user_id: p.id for p in (m1, m2, a, b, c, o)}
        review(
            uow,
            a,
            "Acme",
            when=at(WEEK, 2),
            recommendation="walk_away",
            quadrant="lose_lose",
            flags=["agenda_unknown", "customer_not_ready"],
            stage="negotiation",
            value=300_000,
        )
        review(uow, a, "Beta", when=at(WEEK, 3), flags=["agenda_unknown"])
        review(uow, a, "Beta old", when=at(WEEK.previous(), 3))
        review(uow, c, "Gamma", when=at(WEEK.previous(), 4))
        review(
            uow,
            c,
            "Gamma",
            when=at(WEEK, 4),
            recommendation="renegotiate",
            quadrant="win_lose",
            flags=["below_cost_no_reason"],
            stage="closing",
            value=40_000,
        )
        review(
            uow,
            o,
            "Omega",
            when=at(WEEK, 2),
            recommendation="walk_away",
            quadrant="lose_lose",
            flags=["agenda_unknown"],
            stage="closing",
            value=900_000,
        )
        uow.commit()
    return ids
