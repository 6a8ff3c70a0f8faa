"""The casebook (tests/coach/casebook/): every deal, in English and in Dutch, gets the
recommendation a coach expects, and the advice keeps the properties of issue 12."""

from __future__ import annotations

import re
from typing import Any

import pytest
from tests.coach.casebook import LOCALES, Case, load_cases

from dealcoach.coach import build_advice, load_bank, render_text, validate_answers
from dealcoach.coach.assessment import Assessment, assess_and_plan
from dealcoach.coach.planner import Plan, Planned, short_name

CASES = load_cases()
HEADINGS = {
    "en": {1: "Your next move", 2: "Your next two moves", 3: "Your next three moves"},
    "nl": {1: "Je volgende zet", 2: "Je volgende twee zetten", 3: "Je volgende drie zetten"},
}
SELLING_KINDS = {"close", "personal", "benefit", "business", "signal"}
# Rules that must never fire together: each says the opposite of the other.
CONTRADICTIONS = [
    (
        {"verdict.pursue"},
        {
            "fit.requirements_not_met",
            "fit.price_not_market_conform",
            "fit.unverified",
            "benefit.customer_not_served",
            "benefit.below_cost_no_reason",
            "benefit.below_cost_terms_unknown",
            "benefit.below_cost_renegotiable",
            "agenda.all_unknown",
            "verdict.lose_lose",
            "verdict.win_lose",
        },
    ),
    ({"benefit.below_cost_no_reason"}, {"benefit.below_cost_terms_unknown"}),
    (
        {"benefit.below_cost_no_reason", "benefit.below_cost_terms_unknown"},
        {
            "benefit.below_cost_renegotiable",
            "benefit.below_cost_with_reason",
        },
    ),
    ({"agenda.no_champion"}, {"agenda.champion_untested", "agenda.champion_beside_competitor"}),
    ({"agenda.no_economic_buyer"}, {"agenda.buyer_stance_unknown"}),
    ({"benefit.customer_not_served"}, {"benefit.customer_readiness_doubtful"}),
]


def run(answers: dict[str, Any], locale: str) -> tuple[Assessment, Plan, str]:
    bank = load_bank(locale)
    valid = validate_answers(bank, answers)
    assessment, plan = assess_and_plan(valid, locale, bank=bank)
    text = render_text(build_advice(bank, valid, assessment), bank=bank)
    return assessment, plan, text


def check_invariants(
    answers: dict[str, Any], locale: str, assessment: Assessment, plan: Plan, text: str
) -> None:
    """The properties every advice keeps (used by the casebook and the property tests)."""
    moves: list[Planned] = plan.actions + plan.later
    kinds = [m.kind for m in plan.actions]
    rec = assessment.recommendation
    # at most three now and three later; the contract fields agree with the plan
    assert 1 <= len(assessment.actions) <= 3 and len(assessment.later) <= 3
    assert [a.text for a in assessment.actions] == [m.text for m in plan.actions]
    assert assessment.next_steps == [a.text for a in assessment.actions + assessment.later]
    assert all(a.rule and a.text and a.why for a in assessment.actions + assessment.later)
    fired = set(assessment.rules)
    for one, other in CONTRADICTIONS:
        assert not (one & fired and other & fired), (one & fired, other & fired)
    assert all(a.rule in fired for a in assessment.actions + assessment.later)
    # the heading matches the number of moves
    assert HEADINGS[locale][len(assessment.actions)] in text
    # walk away => only the moves that help to walk away well
    if rec == "walk_away":
        assert {m.kind for m in moves} == {"exit"}
    else:
        assert "exit" not in {m.kind for m in moves}
        assert set(kinds) <= SELLING_KINDS
    # a failed business round => business moves and urgent signals only
    if rec != "walk_away" and "no" in (
        answers.get("fit.requirements_met"),
        answers.get("fit.price_market_conform"),
    ):
        assert {m.kind for m in moves} <= {"business", "signal"}
    # closing only with pursue, and only after every assumption has been tested
    if rec != "pursue":
        assert "close" not in {m.kind for m in moves}
    ids = [m.spec.id for m in moves]
    if "close.decision_date" in ids and "agenda.test_assumption" in ids:
        assert ids.index("agenda.test_assumption") < ids.index("close.decision_date")
    # silence after an invitation is the first call
    if answers.get("signals.silent_after_invite") == "yes" and rec != "walk_away":
        assert assessment.actions[0].rule == "signals.silent_after_invite"
    # no move that another move makes redundant, none twice
    present = set(ids)
    assert all(not (set(m.spec.unless) & present) for m in moves)
    assert len({m.text for m in moves}) == len(moves)
    # never "introduce you through your champion" without a champion; never "find a
    # champion" when there is one
    roles = [answers.get(f"agenda.{n}.role") for n in (1, 2, 3)]
    if "champion" in roles:
        assert "agenda.find_champion" not in ids
    if "economic_buyer" in roles:
        assert "agenda.who_signs" not in ids
    # the whole `who` answer at most once; short names elsewhere
    for n in (1, 2, 3):
        who = answers.get(f"agenda.{n}.who")
        others = [str(v) for k, v in answers.items() if k != f"agenda.{n}.who"]
        if (
            isinstance(who, str)
            and who.strip()
            and short_name(who) != who.strip()
            and len(who.strip()) >= 12  # shorter ones may occur in the template text
            and not any(who.strip() in other for other in others)
        ):
            assert text.count(who.strip()) <= 1, who
    # no template leftovers
    typed = " ".join(str(v) for v in answers.values())
    for leftover in ("{{", "{%", "None"):
        assert leftover not in text or leftover in typed, leftover


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_casebook(case: Case, locale: str) -> None:
    answers = case.answers[locale]
    assessment, plan, text = run(answers, locale)
    expect = case.expect
    assert assessment.recommendation == expect["recommendation"], text
    if "quadrant" in expect:
        assert assessment.quadrant == expect["quadrant"]
    for flag in expect.get("flags") or []:
        assert flag in assessment.flags, (flag, assessment.flags)
    if "first_rule" in expect:
        assert assessment.actions[0].rule == expect["first_rule"], text
    rules = [a.rule for a in assessment.actions + assessment.later]
    for rule in expect.get("moves_include") or []:
        assert rule in rules, (rule, rules)
    check_invariants(answers, locale, assessment, plan, text)
    # the rep's own words: a plan or personal win given is quoted in a move, unless the
    # verdict rules out personal work
    personal_allowed = assessment.recommendation != "walk_away" and "no" not in (
        answers.get("fit.requirements_met"),
        answers.get("fit.price_market_conform"),
    )
    own = [
        answers[key]
        for n in (1, 2, 3)
        for key in (f"agenda.{n}.discovery_plan", f"agenda.{n}.translation")
        if isinstance(answers.get(key), str)
    ]
    if personal_allowed and own:
        moves = " ".join(a.text for a in assessment.actions + assessment.later)
        assert any(words in moves for words in own), (own, moves)


def test_the_casebook_is_large_enough() -> None:
    assert len(CASES) >= 20
    recommendations = {c.expect["recommendation"] for c in CASES}
    assert recommendations == {"pursue", "strengthen", "renegotiate", "walk_away"}


def test_a_two_person_deal_fits_in_about_thirty_lines() -> None:
    for case in CASES:
        people = sum(1 for n in range(1, 7) if case.answers["en"].get(f"agenda.{n}.who"))
        if people == 2:
            for locale in LOCALES:
                text = run(case.answers[locale], locale)[2]
                lines = [line for line in text.splitlines() if line.strip()]
                assert len(lines) <= 34, (case.id, locale, len(lines))


def test_short_names() -> None:
    assert short_name("Hans Smit, managing director (former colleague)") == "Hans Smit"
    assert short_name("Yvonne Kuipers (IT architect)") == "Yvonne Kuipers"
    assert short_name("Anna") == "Anna"
    assert re.fullmatch(r"Dr\. Nadia Bakker", short_name("Dr. Nadia Bakker (researcher)"))
