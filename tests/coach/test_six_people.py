"""Up to six decision-makers (issue 15): the bank holds agenda.1..6, the machine walks six
people, and a deal with six — two champions who have not passed their tests — gets a
concrete test for each champion, in English and in Dutch, with the committee coverage line."""

from __future__ import annotations

from typing import Any

import pytest

from dealcoach.coach import (
    QuestionBank,
    assess,
    build_advice,
    load_bank,
    next_step,
    render_advice,
    render_text,
    step_for_round,
    validate_answers,
)
from dealcoach.coach.coverage import coverage, coverage_line
from dealcoach.coach.plans import PlanStatus


def _person(n: int, who: str, role: str, **more: Any) -> dict[str, Any]:
    base = {
        "who": who,
        "role": role,
        "certainty": "confirmed",
        "stance": "for",
        "translation": f"what {who.split()[0]} wins",
        "interests": ["easier_life"],
        "other_interest": None,
        "new_in_role": "no",
        "competitor_relationship": "no",
    }
    base.update(more)
    return {f"agenda.{n}.{key}": value for key, value in base.items()}


SIX: dict[str, Any] = {
    "deal.name": "Globex platform",
    "deal.account": "Globex",
    "deal.stage": "negotiation",
    "deal.value": 250000,
    "fit.need": "one platform instead of four tools",
    "fit.requirements_met": "yes",
    "fit.price_market_conform": "yes",
    "fit.offers_compared": "yes",
    **_person(1, "Dana (CFO)", "economic_buyer", interests=["power_position"]),
    # champion 1: no access to the budget yet, never seen selling
    **_person(2, "Ans de Vries", "champion", champion_access="no", champion_sells="unknown"),
    # champion 2: opens doors, but has not sold for us
    **_person(3, "Bram Jansen", "champion", champion_access="yes", champion_sells="no"),
    **_person(4, "Carla", "user"),
    **_person(5, "Gerard, IT lead", "technical", stance="neutral"),
    **_person(6, "Femke Smit", "other", stance="neutral"),
    "benefit.customer_wins": "closing the books two days faster",
    "benefit.customer_ready": "yes",
    "benefit.we_win": "a reference in logistics",
    "benefit.margin": "healthy",
    "benefit.pros_cons_explained": "yes",
    "signals.silent_after_invite": "no",
}


@pytest.mark.parametrize("locale", ["en", "nl"])
def test_the_bank_and_the_machine_hold_six_people(locale: str) -> None:
    bank = load_bank(locale)
    assert bank.max_people == 6
    assert "agenda.6.who" in bank.questions and "agenda.7.who" not in bank.questions
    step = step_for_round(bank, {}, "agenda", people=6)
    assert step.people == 6 and not step.can_add_person
    assert {q.person for q in step.questions} == {1, 2, 3, 4, 5, 6}
    five = step_for_round(bank, {}, "agenda", people=5)
    assert five.can_add_person
    valid = validate_answers(bank, SIX)
    assert next_step(bank, valid) is None  # six people answered: nothing left to ask


def _moves(bank: QuestionBank, answers: dict[str, Any], **kw: Any) -> tuple[Any, list[Any]]:
    valid = validate_answers(bank, answers)
    assessment = assess(valid, bank.locale, bank=bank, **kw)
    return assessment, list(assessment.actions) + list(assessment.later)


def test_two_untested_champions_each_get_a_concrete_test() -> None:
    bank = load_bank("en")
    assessment, moves = _moves(bank, SIX)
    assert "champion_untested" in assessment.flags
    assert "agenda.champion_untested" in assessment.rules
    tests = [m for m in moves if m.rule == "agenda.champion_untested"]
    assert [m.text for m in tests] == [
        "Test Ans de Vries as your champion this week: ask for a meeting with Dana, and ask"
        " Ans de Vries to forward our proposal to Dana with a personal recommendation.",
        "Test Bram Jansen as your champion this week: ask Bram Jansen to forward our proposal"
        " to Dana with a personal recommendation.",
    ]
    assert tests == [m for m in assessment.actions if m.rule == "agenda.champion_untested"]
    assert "open a door or sell" in tests[0].why and "sell for us yet" in tests[1].why
    # the sixth decision-maker is in the advice like the first
    assert any("Carla" in m.text for m in moves)


def test_six_people_in_dutch() -> None:
    bank = load_bank("nl")
    assessment, moves = _moves(bank, SIX)
    tests = [m.text for m in moves if m.rule == "agenda.champion_untested"]
    assert len(tests) == 2
    assert tests[0].startswith("Test Ans de Vries deze week als champion: vraag om een afspraak")
    assert tests[1].startswith("Test Bram Jansen deze week als champion: vraag Bram Jansen")
    text = render_text(build_advice(bank, validate_answers(bank, SIX), assessment), bank=bank)
    assert "Dekking: 6 van 6 agenda's bevestigd" in text
    assert "Femke Smit" in text


def test_six_people_in_the_advice_and_the_coverage_line() -> None:
    bank = load_bank("en")
    valid = validate_answers(bank, SIX)
    cov = coverage(valid, bank)
    assert (cov.named, cov.confirmed, cov.missing, cov.against) == (6, 6, (), ())
    line = "6 of 6 agendas confirmed"
    assert coverage_line(cov, "en") == line
    assessment = assess(valid, "en", bank=bank)
    advice = build_advice(bank, valid, assessment)
    assert [p.number for p in advice.people] == [1, 2, 3, 4, 5, 6]
    assert advice.coverage_line == line
    for flavor in ("text", "slack", "teams"):
        agenda = next(s for s in render_advice(advice, flavor).sections if s.id == "agenda")
        assert agenda.body.count("Femke Smit") == 1


def test_a_plan_does_not_crowd_out_the_champion_tests() -> None:
    bank = load_bank("en")
    _, without = _moves(bank, SIX)
    _, on_track = _moves(bank, SIX, plan_status=PlanStatus(total=3, done=1))
    assert [m.text for m in without] == [m.text for m in on_track]
    assessment, none = _moves(bank, SIX, plan_status=PlanStatus())
    assert [m.rule for m in assessment.actions].count("agenda.champion_untested") == 2
    assert "plan.missing_late_stage" in assessment.rules  # fired; the six people come first
    assert len(none) == 6
