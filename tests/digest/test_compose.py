"""Digest composition on SQLite and PostgreSQL: whose deals are in whose digest, and the
aggregates (riskiest first, themes, worse-than-before via LAG, idle reps, week comparison)."""

from __future__ import annotations

import pytest

from dealcoach.digest.compose import compose_self_digest, compose_team_digests, manager_rows
from dealcoach.digest.render import render_digest
from dealcoach.digest.weeks import IsoWeek
from dealcoach.errors import InputError
from dealcoach.store import Store

from .seed import WEEK, at, person, review, team, two_teams


def _deal_names(digest: object) -> set[str]:
    return {d.deal_name for d in (*digest.riskiest, *digest.walk_away, *digest.worsened)}  # type: ignore[attr-defined]


def test_each_manager_sees_exactly_their_own_teams_deals(store: Store) -> None:
    ids = two_teams(store)
    with store.unit_of_work() as uow:
        digests = compose_team_digests(uow, manager_rows(uow), WEEK)
    assert set(digests) == {ids["UM1"], ids["UM2"]}  # the outsider manages nobody
    one, two = digests[ids["UM1"]], digests[ids["UM2"]]
    assert _deal_names(one) == {"Acme", "Beta"}
    assert _deal_names(two) == {"Gamma"}
    assert "Omega" not in render_digest(one).text + render_digest(two).text
    assert {r.user_id for r in one.reps} == {"UA", "UB"}
    assert {r.user_id for r in two.reps} == {"UC"}


def test_the_riskiest_deal_leads_and_says_why(store: Store) -> None:
    ids = two_teams(store)
    with store.unit_of_work() as uow:
        digest = compose_team_digests(uow, manager_rows(uow), WEEK)[ids["UM1"]]
    first = digest.riskiest[0]
    assert (first.deal_name, first.recommendation) == ("Acme", "walk_away")
    assert set(first.flags) == {"agenda_unknown", "customer_not_ready"}
    assert [d.deal_name for d in digest.walk_away] == ["Acme"]
    text = render_digest(digest).text
    assert text.index("Acme") < text.index("Beta")
    assert "Walk away, already in negotiation, worth 300k" in text


def test_totals_mix_themes_idle_reps_and_the_week_before(store: Store) -> None:
    ids = two_teams(store)
    with store.unit_of_work() as uow:
        digest = compose_team_digests(uow, manager_rows(uow), WEEK)[ids["UM1"]]
    assert (digest.total_reviews, digest.previous_total) == (2, 1)
    assert digest.recommendation_mix == {"pursue": 1, "walk_away": 1}
    assert digest.quadrant_mix == {"win_win": 1, "lose_lose": 1}
    assert (digest.win_win_share, digest.previous_win_win_share) == (0.5, 1.0)
    first_theme = digest.themes[0]
    assert (first_theme.flag, first_theme.reviews, first_theme.total) == ("agenda_unknown", 2, 2)
    assert [r.user_id for r in digest.idle_reps] == ["UB"]
    assert [p.reviews for p in digest.history][-2:] == [1, 2]
    text = render_digest(digest).text
    assert "In 2 of 2 reviews nobody knew the decision-makers' personal agendas." in text
    assert "No review this week: ub." in text


def test_a_recommendation_that_got_worse_is_found_with_lag(store: Store) -> None:
    ids = two_teams(store)
    with store.unit_of_work() as uow:
        digest = compose_team_digests(uow, manager_rows(uow), WEEK)[ids["UM2"]]
    (worse,) = digest.worsened
    assert (worse.deal_name, worse.previous_recommendation, worse.recommendation) == (
        "Gamma",
        "pursue",
        "renegotiate",
    )
    # The manager's locale is Dutch: the digest speaks Dutch.
    assert "Doorgaan → Heronderhandelen" in render_digest(digest).text


def test_a_better_recommendation_is_not_reported_as_worse(store: Store) -> None:
    with store.unit_of_work() as uow:
        m, a = person(uow, "UM"), person(uow, "UA")
        team(uow, m, a)
        review(uow, a, "Delta", when=at(WEEK.previous()), recommendation="walk_away")
        review(uow, a, "Delta", when=at(WEEK, 2), recommendation="renegotiate")
        review(uow, a, "Delta", when=at(WEEK, 3), recommendation="pursue")
        uow.commit()
    with store.unit_of_work() as uow:
        digest = compose_team_digests(uow, manager_rows(uow), WEEK)[m.id]
    assert digest.worsened == ()
    # The deal counts once among the riskiest, with its latest review.
    assert [d.recommendation for d in digest.riskiest if d.deal_name == "Delta"] in ([], ["pursue"])


def test_a_rep_gets_only_their_own_summary(store: Store) -> None:
    ids = two_teams(store)
    with store.unit_of_work() as uow:
        rep = uow.people.get(ids["UA"])
        assert rep is not None
        own = compose_self_digest(uow, rep, WEEK)
    assert own.kind == "self"
    assert _deal_names(own) == {"Acme", "Beta"}
    assert [r.user_id for r in own.reps] == ["UA"]
    assert "Your week" in render_digest(own).text


def test_an_empty_team_week_still_composes(store: Store) -> None:
    with store.unit_of_work() as uow:
        m, a = person(uow, "UM"), person(uow, "UA")
        team(uow, m, a)
        uow.commit()
    with store.unit_of_work() as uow:
        digest = compose_team_digests(uow, manager_rows(uow), WEEK)[m.id]
    assert digest.total_reviews == 0 and digest.win_win_share is None
    assert "Nobody on your team completed a review this week" in render_digest(digest).text


@pytest.mark.parametrize("text", ["2026-W54", "last week", "2026-13", ""])
def test_a_bad_week_is_one_clear_error(text: str) -> None:
    with pytest.raises(InputError):
        IsoWeek.parse(text)


def test_weeks_parse_and_the_last_full_week_is_last_weeks() -> None:
    from datetime import UTC, datetime

    from dealcoach.digest.weeks import zone

    assert str(IsoWeek.parse("2026w7")) == "2026-W07"
    now = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # Monday
    assert str(IsoWeek.last_full(now, zone("Europe/Amsterdam"))) == "2026-W47"
    # Still Sunday evening in Los Angeles: the last full week there is one earlier.
    assert str(IsoWeek.last_full(now, zone("America/Los_Angeles"))) == "2026-W46"
    start, end = IsoWeek(2026, 48).bounds(zone("Europe/Amsterdam"))
    assert (start.isoformat(), end.isoformat()) == (
        "2026-11-22T23:00:00+00:00",
        "2026-11-29T23:00:00+00:00",
    )
