"""Property tests: any valid answer set gives a valid assessment that keeps the core rules
and renders in both languages and all three flavors."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dealcoach.coach import (
    FLAVORS,
    Assessment,
    assess,
    build_advice,
    load_bank,
    next_step,
    render_advice,
    render_text,
    validate_answers,
)
from dealcoach.coach.bank import QUADRANTS, RECOMMENDATIONS

BANK = load_bank("en")
NL = load_bank("nl")
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=60,
)


def _value(qid: str) -> st.SearchStrategy[Any]:
    question = BANK.question(qid)
    if question.type == "text":
        return TEXT
    if question.type == "number":
        return st.floats(min_value=0, max_value=1e12, allow_nan=False)
    if question.type == "choice":
        return st.sampled_from(question.option_values)
    return st.lists(st.sampled_from(question.option_values), unique=True, max_size=4)


@st.composite
def answer_sets(draw: st.DrawFn) -> dict[str, Any]:
    answers: dict[str, Any] = {"deal.name": draw(TEXT.filter(lambda s: s.strip() != ""))}
    for qid in BANK.questions:
        if qid == "deal.name":
            continue
        presence = draw(st.sampled_from(["absent", "blank", "value", "value"]))
        if presence == "blank":
            answers[qid] = None
        elif presence == "value":
            answers[qid] = draw(_value(qid))
    return answers


def _check_rules(answers: dict[str, Any], result: Assessment) -> None:
    assert result.quadrant in QUADRANTS
    assert result.recommendation in RECOMMENDATIONS
    assert len(result.flags) == len(set(result.flags)) == len(result.findings)
    assert all(f.reason for f in result.findings) and result.recommendation_reason
    assert result.next_steps
    if {answers.get("fit.requirements_met"), answers.get("fit.price_market_conform")} & {"no"}:
        assert "not_market_conform" in result.flags
        assert result.recommendation != "pursue"
    if answers.get("benefit.customer_ready") == "no":
        assert result.recommendation == "walk_away"
    if "agenda_unknown" in result.flags:
        assert result.recommendation != "pursue"
    if (
        answers.get("benefit.margin") == "below_cost"
        and answers.get("benefit.strategic_reason") is None
    ):
        assert "below_cost_no_reason" in result.flags
        assert result.recommendation in ("walk_away", "renegotiate")
    if result.recommendation == "pursue":
        assert result.quadrant == "win_win"
        assert answers.get("fit.requirements_met") == "yes"
        assert answers.get("fit.price_market_conform") == "yes"
        assert any(
            answers.get(f"agenda.{n}.certainty") in ("confirmed", "assumed") for n in (1, 2, 3)
        )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=answer_sets())
def test_any_valid_answer_set_gives_a_valid_assessment_that_renders(raw: dict[str, Any]) -> None:
    answers = validate_answers(BANK, raw, require_complete=True)
    for bank in (BANK, NL):
        result = assess(answers, bank.locale, bank=bank)
        Assessment.model_validate(result.model_dump(mode="json"))
        _check_rules(answers, result)
        model = build_advice(bank, answers, result)
        for flavor in FLAVORS:
            rendered = render_advice(model, flavor, bank=bank)
            assert rendered.title and rendered.verdict and rendered.sections
        assert render_text(model, bank=bank)


@settings(max_examples=80, deadline=None)
@given(raw=answer_sets(), people=st.one_of(st.none(), st.integers(min_value=0, max_value=5)))
def test_the_machine_always_reaches_the_end(raw: dict[str, Any], people: int | None) -> None:
    answers: dict[str, Any] = dict(validate_answers(BANK, raw))
    for _ in range(20):
        step = next_step(BANK, answers, people)
        if step is None:
            return
        assert step.questions and all(q.id not in answers for q in step.questions)
        assert 1 <= step.people <= BANK.max_people
        for question in step.questions:
            answers[question.id] = None
    raise AssertionError("the review did not finish in 20 steps")
