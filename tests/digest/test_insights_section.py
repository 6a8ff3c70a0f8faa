"""The manager digest's issue-15 parts, on SQLite and PostgreSQL, in English and Dutch:

- once a month (the digest of the week in which a month begins) a "What predicts a win"
  section, whose numbers the test computes itself from the seeded history of tests/insights
  (won/deals with and without, rates, Wilson 90 % intervals), in all three flavours, with a
  number of statements that does not grow with the number of managers;
- the week's lost and walked-away deals per reason in the coaching themes;
- the committee coverage line under each of the riskiest deals (names escaped).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

from sqlalchemy import event, update
from tests.insights.test_insights import FLAGS, _expect, _history, _seed
from tests.teams.card_schema import assert_valid_card

from dealcoach.digest.compose import (
    INSIGHTS_SHOWN,
    DigestModel,
    compose_team_digests,
    is_insights_week,
    manager_rows,
)
from dealcoach.digest.render import render_digest
from dealcoach.digest.weeks import IsoWeek
from dealcoach.slack.digest_blocks import digest_blocks
from dealcoach.store import Store
from dealcoach.store.models import Answer, Deal, Review
from dealcoach.teams.digest_cards import digest_card

from .seed import WEEK, at, person, review, team
from .test_render import validate_message_blocks

# 1 June 2026 is a Monday: the digest of 2026-W22 (25–31 May) is the first one sent in June.
MONTHLY = IsoWeek(2026, 22)
WEEKLY = IsoWeek(2026, 21)
FEATURES = ("economic_buyer_confirmed", "champion_tested", "customer_ready", *FLAGS)
LABEL = {
    "economic_buyer_confirmed": "Deals whose economic buyer's agenda was confirmed",
    "champion_tested": "Deals whose champion passed both tests",
    "customer_ready": "Deals where the customer was ready",
    "champion_untested": "Deals flagged “Champion not tested”",
    "agenda_assumed": "Deals flagged “Personal agenda assumed, not confirmed”",
    "cons_not_explained": "Deals flagged “Cons not explained”",
}


def wilson90(won: int, deals: int) -> tuple[float, float]:
    z = 1.6449
    p = won / deals
    centre = p + z * z / (2 * deals)
    spread = z * math.sqrt(p * (1 - p) / deals + z * z / (4 * deals * deals))
    scale = 1 + z * z / deals
    return max(0.0, (centre - spread) / scale), min(1.0, (centre + spread) / scale)


def whole(share: float) -> int:
    return math.floor(share * 100 + 0.5)


def part(won: int, deals: int) -> str:
    low, high = wilson90(won, deals)
    return f"{whole(won / deals)} %, 90 % interval {whole(low)}–{whole(high)} %"


@contextmanager
def counting(store: Store) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", count)


def test_one_insights_week_a_month_the_week_a_month_begins() -> None:
    weeks = [IsoWeek.of(date(2026, 1, 5) + timedelta(weeks=k)) for k in range(52)]
    monthly = [w for w in weeks if is_insights_week(w)]
    # One a month: the week before each month's first Monday.
    assert len(monthly) == 12
    for w in monthly:
        first_monday = w.next().monday
        assert first_monday.day <= 7 and first_monday.weekday() == 0
    assert is_insights_week(MONTHLY) and not is_insights_week(WEEKLY)
    assert str(IsoWeek.of(date(2026, 6, 28))) not in {str(w) for w in monthly}


def _digests(store: Store, week: IsoWeek) -> dict[int, DigestModel]:
    with store.unit_of_work() as uow:
        return compose_team_digests(uow, manager_rows(uow), week)


def test_the_monthly_section_says_what_predicts_a_win(store: Store) -> None:
    specs = _history()
    ids = _seed(store, specs)
    with store.unit_of_work() as uow:  # Olaf reads Dutch
        olaf = uow.people.get(ids["UOLAF"])
        assert olaf is not None
        olaf.locale = "nl"
        uow.commit()

    weekly = _digests(store, WEEKLY)
    assert all(d.insights is None for d in weekly.values())
    assert "What predicts a win" not in render_digest(weekly[ids["UMIA"]]).text

    digests = _digests(store, MONTHLY)
    mia = digests[ids["UMIA"]]
    expected = _expect(specs, {"UREP1", "UREP2"})
    assert mia.insights is not None
    assert (mia.insights.deals, mia.insights.won) == (expected["deals"], expected["won"])
    assert (mia.insights.since, mia.insights.until) == (date(2025, 6, 1), date(2026, 5, 31))
    qualifying = [
        f for f in FEATURES if expected[f][0][1] > 0 and expected[f][1][1] > 0
    ]  # ≥ 20 deals in all (64 here), both groups non-empty
    assert {line.feature for line in mia.insights.lines} == set(qualifying[:INSIGHTS_SHOWN])

    rendered = render_digest(mia)
    text = rendered.text
    assert "What predicts a win\n-------------------" in text
    assert (
        f"Your team's closed deals from 1 Jun 2025 to 31 May 2026: {expected['deals']}, "
        f"{expected['won']} won." in text
    )
    for feature in qualifying:
        (won, n), (won_without, n_without) = expected[feature]
        assert f"• {LABEL[feature]}: won {won} of {n} ({part(won, n)}); " in text, feature
        assert f": {won_without} of {n_without} ({part(won_without, n_without)})" in text
    reasons = expected["reasons"]
    assert "Why deals were lost: " in text
    assert f"no decision {reasons['no_decision']}" in text
    assert "90 % intervals (Wilson). This section comes once a month." in text

    # Every flavour carries it; Block Kit and the Adaptive Card stay valid.
    for flavour in (rendered.slack, rendered.teams):
        section = next(s for s in flavour.sections if s.id == "insights")
        assert section.title == "What predicts a win" and section.body.count("• ") == len(
            mia.insights.lines
        )
    assert "“Champion not tested”" in next(
        s.body for s in rendered.teams.sections if s.id == "insights"
    )
    validate_message_blocks(digest_blocks(rendered))
    assert_valid_card(digest_card(rendered, locale="en", digest=mia))

    # Olaf's team has 6 closed deals: the section says so, in Dutch.
    small = digests[ids["UOLAF"]]
    assert small.insights is not None and small.insights.lines == ()
    dutch = render_digest(small).text
    assert "Wat voorspelt winst" in dutch
    assert (
        "Te weinig afgesloten deals om te zeggen wat winst voorspelt: 6 van 1 jun 2025 tot en "
        "met 31 mei 2026, minstens 20 nodig." in dutch
    )
    assert "Dit deel komt eens per maand." in dutch


def test_the_section_costs_the_same_statements_for_one_manager_or_many(store: Store) -> None:
    ids = _seed(store, _history())
    with store.unit_of_work() as uow:
        rows = manager_rows(uow)
    mia = [r for r in rows if r.person_id == ids["UMIA"]]
    assert len(rows) == 2 and len(mia) == 1

    def statements(chosen: list[Any], week: IsoWeek) -> int:
        with store.unit_of_work() as uow, counting(store) as seen:
            compose_team_digests(uow, chosen, week)
        return len(seen)

    one, both = statements(mia, MONTHLY), statements(rows, MONTHLY)
    assert one == both
    # team_insights: one statement (PostgreSQL: `SET LOCAL jit = off` before it).
    extra = 2 if store.url.startswith("postgresql") else 1
    assert statements(rows, MONTHLY) - statements(rows, WEEKLY) == extra


def _lost(uow: Any, review_id: int, outcome: str, reason: str | None, when: Any) -> None:
    deal_id = uow.session.get(Review, review_id).deal_id
    uow.session.execute(update(Review).where(Review.id == review_id).values(outcome_reason=reason))
    uow.session.execute(
        update(Deal).where(Deal.id == deal_id).values(outcome=outcome, updated_at=when)
    )


def test_loss_reasons_of_the_week_are_a_theme(store: Store) -> None:
    with store.unit_of_work() as uow:
        mia, rob = person(uow, "UMIA"), person(uow, "UROB")
        olaf, ria = person(uow, "UOLAF", locale="nl"), person(uow, "URIA")
        team(uow, mia, rob)
        team(uow, olaf, ria)
        early = WEEK.previous(3)
        for name, outcome, reason in (
            ("A", "lost", "price"),
            ("B", "walked_away", "price"),
            ("C", "lost", "competitor"),
            ("D", "lost", None),
        ):
            rid = review(uow, rob, name, when=at(early), flags=["agenda_unknown"])
            _lost(uow, rid, outcome, reason, at(WEEK, 3))
        old = review(uow, rob, "Old loss", when=at(early))
        _lost(uow, old, "lost", "timing", at(WEEK.previous(), 3))  # last week: not counted
        won = review(uow, rob, "Won", when=at(early))
        _lost(uow, won, "won", None, at(WEEK, 3))
        theirs = review(uow, ria, "E", when=at(early))
        _lost(uow, theirs, "lost", "fit", at(WEEK, 2))
        review(uow, rob, "This week", when=at(WEEK, 2), flags=["agenda_unknown"])
        uow.commit()
    digests = _digests(store, WEEK)
    assert [(r.reason, r.deals) for r in digests[mia.id].loss_reasons] == [
        ("price", 2),
        ("competitor", 1),
        (None, 1),
    ]
    text = render_digest(digests[mia.id]).text
    assert (
        "• Your team lost or walked away from 4 deals this week: price 2, competitor 1, "
        "no reason recorded 1." in text
    )
    assert "In 1 of 1 review nobody knew" in text  # the flag themes stay
    dutch = render_digest(digests[olaf.id])
    assert "• Deze week ging 1 deal verloren of zei het team zelf nee: fit 1." in dutch.text
    # A theme section with only loss reasons still shows, in every flavour.
    assert any(s.id == "themes" for s in dutch.slack.sections)
    assert any(s.id == "themes" for s in dutch.teams.sections)


def test_the_riskiest_deals_show_their_committee_coverage(store: Store) -> None:
    with store.unit_of_work() as uow:
        mia, rob = person(uow, "UMIA"), person(uow, "UROB")
        olaf = person(uow, "UOLAF", locale="nl")
        team(uow, mia, rob)
        team(uow, olaf, rob)  # (a rep has one manager: Rob moves to Olaf)
        team(uow, mia, rob)
        rid = review(
            uow,
            rob,
            "Acme",
            when=at(WEEK, 2),
            recommendation="walk_away",
            quadrant="lose_lose",
            stage="closing",
            value=300_000,
        )
        answers = {
            "agenda.1.who": "Dana (CFO)",
            "agenda.1.role": "economic_buyer",
            "agenda.1.certainty": "confirmed",
            "agenda.2.who": "<!channel> Gerard",
            "agenda.2.role": "technical",
            "agenda.2.certainty": "unknown",
            "agenda.2.stance": "against",
        }
        uow.session.add_all(
            Answer(review_id=rid, question_id=k, value=v) for k, v in answers.items()
        )
        review(uow, rob, "No agenda", when=at(WEEK, 3), recommendation="renegotiate")
        uow.commit()
    digest = _digests(store, WEEK)[mia.id]
    acme, bare = digest.riskiest
    assert acme.coverage is not None and (acme.coverage.named, acme.coverage.confirmed) == (2, 1)
    assert bare.coverage is not None and bare.coverage.named == 0
    rendered = render_digest(digest)
    lines = rendered.text.splitlines()
    at_acme = next(i for i, line in enumerate(lines) if "Acme" in line)
    assert lines[at_acme + 1] == (
        "    Coverage: 1 of 2 agendas confirmed · no champion or user yet · 1 against "
        "(<!channel> Gerard)"
    )
    assert "    Coverage: no decision-makers named yet" in lines
    raw = json.dumps(digest_blocks(rendered))
    assert "<!channel>" not in raw and "&lt;!channel&gt; Gerard" in raw
    validate_message_blocks(digest_blocks(rendered))
    assert_valid_card(digest_card(rendered, locale="en", digest=digest))

    dutch = DigestModel.model_validate(
        {**digest.model_dump(), "locale": "nl"}
    )  # the same digest for a Dutch reader
    assert (
        "    Dekking: 1 van 2 agenda's bevestigd · nog geen champion of gebruiker · 1 tegen "
        "(<!channel> Gerard)" in render_digest(dutch).text
    )
