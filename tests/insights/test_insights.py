"""What predicts a win (issue 15) over a seeded history of closed deals, on SQLite and
PostgreSQL: the expected win rates and 90 % Wilson intervals are computed here, independently
(plain arithmetic over the seed), and compared with what the SQL aggregates and the report say.
Also: only each deal's last completed review counts, open deals and drafts do not, the team
scope and `since`, the ≥ 20 closed deals rule, loss reasons and recording them.

The insights query over 1 M reviews is benchmarked by `benchmarks/insights_bench.py`; the
`dealcoach insights` command by tests/cli/test_insights_cli.py, the monthly digest section by
tests/digest/test_insights_section.py (both over this seed).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dealcoach.coach.insights import wilson
from dealcoach.errors import NotFound
from dealcoach.services.actors import Actor
from dealcoach.services.insights import InsightsService
from dealcoach.services.plans import PlanInvalid, PlanRefused
from dealcoach.store import Store, migrate
from dealcoach.store.models import Answer, Deal, Person, Review, ReviewFlag, TeamMembership

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
FLAGS = ("champion_untested", "agenda_assumed", "cons_not_explained")
REASONS = ("price", "no_decision", "competitor", "timing", "fit", "other")


@dataclass
class Spec:
    owner: str
    outcome: str
    eb_confirmed: bool
    champion_tested: bool
    customer_ready: bool
    flags: set[str]
    completed_at: datetime
    reason: str | None = None
    earlier: bool = False  # an earlier review with every feature the other way round
    decoy: str = ""  # how a missing feature is almost there (same-N checks)
    extra: dict[str, Any] = field(default_factory=dict)


def _answers(spec: Spec, invert: bool = False) -> dict[str, Any]:
    eb, champ, ready = spec.eb_confirmed, spec.champion_tested, spec.customer_ready
    if invert:
        eb, champ, ready = not eb, not champ, not ready
    out: dict[str, Any] = {"deal.stage": "closing"}
    if eb:
        out.update({"agenda.1.role": "economic_buyer", "agenda.1.certainty": "confirmed"})
    elif spec.decoy == "eb_other_person":
        # confirmed, but for the user at 1; the economic buyer at 3 is only assumed
        out.update(
            {
                "agenda.1.role": "user",
                "agenda.1.certainty": "confirmed",
                "agenda.3.role": "economic_buyer",
                "agenda.3.certainty": "assumed",
            }
        )
    else:
        out.update({"agenda.1.role": "economic_buyer", "agenda.1.certainty": "assumed"})
    if champ:
        out.update(
            {
                "agenda.2.role": "champion",
                "agenda.2.champion_access": "yes",
                "agenda.2.champion_sells": "yes",
            }
        )
    elif spec.decoy == "champion_half":
        out.update(
            {
                "agenda.2.role": "champion",
                "agenda.2.champion_access": "yes",
                "agenda.2.champion_sells": "no",
            }
        )
    else:
        out.update({"agenda.2.role": "user", "agenda.2.champion_access": "yes"})
    out["benefit.customer_ready"] = (
        "yes" if ready else random.Random(len(out)).choice(["doubtful", "no"])
    )
    return out


def _history() -> list[Spec]:
    rng = random.Random(15)
    specs: list[Spec] = []
    for i in range(64):
        eb, champ, ready = rng.random() < 0.5, rng.random() < 0.4, rng.random() < 0.7
        flags = {f for f in FLAGS if rng.random() < 0.45}
        # Wins lean on the features, so the numbers differ between the groups.
        odds = 0.15 + 0.35 * eb + 0.25 * champ + 0.15 * ready - 0.1 * ("champion_untested" in flags)
        outcome = "won" if rng.random() < odds else rng.choice(["lost", "lost", "walked_away"])
        specs.append(
            Spec(
                owner=rng.choice(["UREP1", "UREP2"]),
                outcome=outcome,
                eb_confirmed=eb,
                champion_tested=champ,
                customer_ready=ready,
                flags=flags,
                completed_at=START + timedelta(days=i * 2),
                reason=rng.choice([*REASONS, None]) if outcome != "won" else None,
                earlier=rng.random() < 0.3,
                decoy=rng.choice(["", "eb_other_person", "champion_half"]),
            )
        )
    # Another team: too few closed deals for any line.
    for i in range(6):
        specs.append(
            Spec(
                "UREP3",
                "won" if i % 2 else "lost",
                True,
                True,
                True,
                {"agenda_assumed"},
                START + timedelta(days=i),
            )
        )
    # Open deals (and one with a draft on top) never count.
    specs.append(Spec("UREP1", "open", True, True, True, set(), START))
    specs.append(Spec("UREP2", "open", False, False, False, {"champion_untested"}, START))
    return specs


def _seed(store: Store, specs: list[Spec]) -> dict[str, int]:
    with store.unit_of_work() as uow:
        ws = uow.workspaces.get_or_create("slack", "T1", name="Acme")
        people: dict[str, Person] = {}
        for uid, name in (
            ("UMIA", "Mia"),
            ("UOLAF", "Olaf"),
            ("UREP1", "Rob"),
            ("UREP2", "Ria"),
            ("UREP3", "Otto"),
        ):
            people[uid] = uow.people.get_or_create(ws, uid, display_name=name)
        uow.flush()
        for manager, member in (("UMIA", "UREP1"), ("UMIA", "UREP2"), ("UOLAF", "UREP3")):
            uow.session.add(
                TeamMembership(
                    workspace_id=ws.id,
                    manager_id=people[manager].id,
                    member_id=people[member].id,
                )
            )
        session = uow.session
        for i, spec in enumerate(specs):
            owner = people[spec.owner]
            deal = Deal(
                workspace_id=ws.id,
                owner_id=owner.id,
                name=f"Deal {i}",
                name_key=f"deal {i}",
                outcome=spec.outcome,
                stage="closing",
            )
            session.add(deal)
            session.flush()
            reviews = []
            if spec.earlier:
                reviews.append((_answers(spec, invert=True), set(FLAGS) - spec.flags, -3, None))
            reviews.append((_answers(spec), spec.flags, 0, spec.reason))
            for answers, flags, days, reason in reviews:
                review = Review(
                    workspace_id=ws.id,
                    person_id=owner.id,
                    deal_id=deal.id,
                    platform="slack",
                    status="completed",
                    locale="en",
                    started_at=spec.completed_at + timedelta(days=days),
                    updated_at=spec.completed_at + timedelta(days=days),
                    completed_at=spec.completed_at + timedelta(days=days),
                    recommendation="strengthen",
                    quadrant="win_win",
                    outcome_reason=reason,
                )
                session.add(review)
                session.flush()
                session.add_all(
                    Answer(review_id=review.id, question_id=k, value=v) for k, v in answers.items()
                )
                session.add_all(ReviewFlag(review_id=review.id, flag=f) for f in flags)
            if spec.outcome == "open":  # a newer draft: not a completed review
                session.add(
                    Review(
                        workspace_id=ws.id,
                        person_id=owner.id,
                        deal_id=deal.id,
                        platform="slack",
                        status="draft",
                        locale="en",
                    )
                )
        uow.commit()
        return {uid: p.id for uid, p in people.items()}


# --- independent expectations ------------------------------------------------------------------


def _wilson90(k: int, n: int) -> tuple[float, float]:
    z = 1.6449
    p = k / n
    a = p + z * z / (2 * n)
    b = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    c = 1 + z * z / n
    return (a - b) / c, (a + b) / c


def _pct(x: float) -> int:
    return int(x * 100 + 0.5)


def _has(spec: Spec, feature: str) -> bool:
    if feature == "economic_buyer_confirmed":
        return spec.eb_confirmed
    if feature == "champion_tested":
        return spec.champion_tested
    if feature == "customer_ready":
        return spec.customer_ready
    return feature in spec.flags


def _expect(specs: list[Spec], owners: set[str], since: datetime | None = None) -> dict[str, Any]:
    closed = [
        s
        for s in specs
        if s.owner in owners and s.outcome != "open" and (since is None or s.completed_at >= since)
    ]
    out: dict[str, Any] = {"deals": len(closed), "won": sum(s.outcome == "won" for s in closed)}
    for feature in ("economic_buyer_confirmed", "champion_tested", "customer_ready", *FLAGS):
        with_ = [s for s in closed if _has(s, feature)]
        without = [s for s in closed if not _has(s, feature)]
        out[feature] = (
            (sum(s.outcome == "won" for s in with_), len(with_)),
            (sum(s.outcome == "won" for s in without), len(without)),
        )
    reasons: dict[str | None, int] = {}
    for s in closed:
        if s.outcome in ("lost", "walked_away"):
            reasons[s.reason] = reasons.get(s.reason, 0) + 1
    out["reasons"] = reasons
    return out


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    migrate(database_url, "head")
    s = Store(database_url)
    try:
        yield s
    finally:
        s.dispose()


def test_wilson_matches_the_textbook_formula() -> None:
    for k, n in ((12, 15), (4, 14), (0, 20), (20, 20), (1, 1), (37, 64)):
        low, high = wilson(k, n)  # type: ignore[misc]
        e_low, e_high = _wilson90(k, n)
        assert low == pytest.approx(max(0.0, e_low), abs=1e-12)
        assert high == pytest.approx(min(1.0, e_high), abs=1e-12)
    assert wilson(0, 0) is None
    # The example, 12 of 15: 80 %, 90 % interval 59–92 % (its "60" was illustrative).
    assert (_pct(12 / 15), *map(_pct, _wilson90(12, 15))) == (80, 59, 92)


def test_win_rates_with_and_without_each_feature(store: Store) -> None:
    specs = _history()
    ids = _seed(store, specs)
    service = InsightsService(store)
    expected = _expect(specs, {"UREP1", "UREP2"})
    assert expected["deals"] >= 20

    report = service.insights(ids["UMIA"], locale="en")
    assert (report.deals, report.won) == (expected["deals"], expected["won"])
    by_feature = {f.feature: f for f in report.features}
    for feature in ("economic_buyer_confirmed", "champion_tested", "customer_ready", *FLAGS):
        (won, n), (won_without, n_without) = expected[feature]
        got = by_feature[feature]
        assert (got.with_feature.won, got.with_feature.deals) == (won, n), feature
        assert (got.without.won, got.without.deals) == (won_without, n_without), feature
        assert got.shown == (n > 0 and n_without > 0)
    # The lines carry the independently computed percentages and intervals.
    lines = report.lines()
    (won, n), (won_without, n_without) = expected["economic_buyer_confirmed"]
    low, high = _wilson90(won, n)
    low2, high2 = _wilson90(won_without, n_without)
    assert lines[0] == (
        f"Deals whose economic buyer's agenda was confirmed: won {won} of {n} "
        f"({_pct(won / n)} %, 90 % interval {_pct(max(0, low))}–{_pct(min(1, high))} %); "
        f"not confirmed: {won_without} of {n_without} ({_pct(won_without / n_without)} %, "
        f"90 % interval {_pct(max(0, low2))}–{_pct(min(1, high2))} %)"
    )
    assert lines[1].startswith("Deals whose champion passed both tests: ")
    assert lines[2].startswith("Deals where the customer was ready: ")
    assert any(line.startswith("Deals flagged “Champion not tested”: ") for line in lines)
    table = report.table()
    assert f"{won}/{n} {_pct(won / n)} %" in table
    assert "Shown when at least 20 closed deals back a line" in table
    # Loss reasons, per reason.
    got_reasons = {r.reason: r.deals for r in report.loss_reasons}
    assert got_reasons == expected["reasons"]
    assert "Why deals were lost" in table

    nl = service.insights(ids["UMIA"], locale="nl")
    assert nl.lines()[0].startswith(
        f"Deals waarbij de agenda van de economische beslisser bevestigd was: {won} van {n} "
        f"gewonnen ({_pct(won / n)}%"
    )


def test_scope_since_and_the_threshold(store: Store) -> None:
    specs = _history()
    ids = _seed(store, specs)
    service = InsightsService(store)

    everyone = service.insights(None)
    expected = _expect(specs, {"UREP1", "UREP2", "UREP3"})
    assert (everyone.deals, everyone.won) == (expected["deals"], expected["won"])
    assert everyone.scope_label == "All teams"

    small = service.insights(ids["UOLAF"])
    assert (small.deals, small.won) == (6, 3)
    assert small.lines() == [] and "Too few closed deals" in small.table()
    assert "Team of Olaf" in small.table()

    since = START + timedelta(days=60)
    later = service.insights(ids["UMIA"], since.date())
    exp = _expect(specs, {"UREP1", "UREP2"}, since)
    assert (later.deals, later.won) == (exp["deals"], exp["won"])
    assert "since 2026-03-06" in later.text()
    assert exp["deals"] >= 20
    shown = {f.feature for f in later.shown}
    for feature in ("economic_buyer_confirmed", "champion_tested", "customer_ready", *FLAGS):
        (won, n), (won_without, n_without) = exp[feature]
        assert (n > 0 and n_without > 0) == (feature in shown), feature
        got = next(f for f in later.features if f.feature == feature)
        assert (got.with_feature.won, got.with_feature.deals) == (won, n), feature
        assert (got.without.won, got.without.deals) == (won_without, n_without), feature

    many = service.team_insights([(ids["UMIA"], "en"), (ids["UOLAF"], "nl")])
    assert many[ids["UMIA"]].deals == _expect(specs, {"UREP1", "UREP2"})["deals"]
    assert many[ids["UOLAF"]].deals == 6 and many[ids["UOLAF"]].locale == "nl"
    with pytest.raises(NotFound):
        service.insights(999_999)


def test_recording_why_a_deal_was_lost(store: Store) -> None:
    specs = [
        Spec("UREP1", "lost", True, False, True, set(), START, earlier=True),
        Spec("UREP1", "won", True, False, True, set(), START),
    ]
    _seed(store, specs)
    rob = Actor(platform="slack", workspace_id="T1", user_id="UREP1")
    ria = Actor(platform="slack", workspace_id="T1", user_id="UREP2")
    with store.unit_of_work() as uow:
        rows = uow.session.execute(
            Review.__table__.select().order_by(Review.id)  # type: ignore[attr-defined]
        ).all()
    lost_first, lost_last, won = (r.id for r in rows)
    service = InsightsService(store)
    # Recorded from the earlier review's button: stored on the deal's last review.
    assert service.record_outcome_reason(rob, lost_first, "competitor", "  They chose X ") == (
        lost_last
    )
    with store.unit_of_work() as uow:
        last = uow.reviews.get(lost_last)
        assert last is not None
        assert (last.outcome_reason, last.outcome_reason_text) == ("competitor", "They chose X")
    for who, review, reason, text, error, key in (
        (ria, lost_last, "price", None, PlanRefused, "not_owner"),
        (rob, lost_last, "bad luck", None, PlanInvalid, "reason"),
        (rob, lost_last, "other", "x" * 301, PlanInvalid, "reason_text"),
        (rob, won, "price", None, PlanInvalid, "not_lost"),
    ):
        with pytest.raises(error) as err:
            service.record_outcome_reason(who, review, reason, text)
        assert err.value.key == key  # type: ignore[attr-defined]
    with pytest.raises(NotFound):
        service.record_outcome_reason(rob, 999_999, "price")
