"""The review state machine: rounds in order, people, adaptive follow-ups."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dealcoach.coach import QuestionBank, next_step


def _answer_all(bank: QuestionBank, answers: dict[str, Any], people: int | None = None) -> None:
    step = next_step(bank, answers, people)
    assert step is not None
    for q in step.questions:
        answers[q.id] = None


def test_the_review_starts_with_the_business_round(bank_en: QuestionBank) -> None:
    step = next_step(bank_en, {})
    assert step is not None
    assert step.round == "fit"
    assert step.question_ids[:4] == ["deal.name", "deal.account", "deal.value", "deal.stage"]
    assert "fit.offers_compared" in step.question_ids
    assert not step.is_followup


def test_pages_follow_fit_agenda_then_benefit_with_the_signals(bank_en: QuestionBank) -> None:
    answers: dict[str, Any] = {}
    pages = []
    while (step := next_step(bank_en, answers)) is not None:
        pages.append((step.round, step.rounds))
        for q in step.questions:
            answers[q.id] = None  # asked, left blank: never asked again
    assert pages == [
        ("fit", ("fit",)),
        ("agenda", ("agenda",)),
        ("benefit", ("benefit", "signals")),
    ]


def test_warning_signals_share_the_benefit_page(bank_en: QuestionBank) -> None:
    answers: dict[str, Any] = {}
    _answer_all(bank_en, answers)  # fit
    _answer_all(bank_en, answers)  # agenda
    step = next_step(bank_en, answers)
    assert step is not None and step.round == "benefit" and not step.is_followup
    ids = step.question_ids
    assert ids[-1] == "signals.silent_after_invite"  # the page's closing section
    assert ids[:-1] == [
        "benefit.customer_wins",
        "benefit.customer_ready",
        "benefit.we_win",
        "benefit.margin",
        "benefit.pros_cons_explained",
    ]
    assert [step.starts_section(i) for i in range(len(ids))] == [False] * (len(ids) - 1) + [True]
    assert step.rounds == ("benefit", "signals") and not step.can_add_person


def test_a_margin_follow_up_comes_right_after_the_benefit_page(
    bank_en: QuestionBank, win_win: Callable[..., dict[str, Any]]
) -> None:
    answers = win_win()
    for qid in [q for q in answers if q.startswith(("benefit.", "signals."))]:
        del answers[qid]
    step = next_step(bank_en, answers)
    assert step is not None and "signals.silent_after_invite" in step.question_ids
    assert "benefit.strategic_reason" not in step.question_ids  # reads the margin on the page
    answers.update({q: win_win()[q] for q in step.question_ids})
    answers["benefit.margin"] = "thin"
    step = next_step(bank_en, answers)
    assert step is not None and step.is_followup and step.round == "benefit"
    assert step.question_ids == ["benefit.strategic_reason"]


def test_a_resumed_draft_with_only_the_signals_left_shows_them_on_the_benefit_page(
    bank_en: QuestionBank, win_win: Callable[..., dict[str, Any]]
) -> None:
    answers = win_win()
    del answers["signals.silent_after_invite"]
    step = next_step(bank_en, answers)
    assert step is not None and step.round == "benefit"  # the page's title: round 3
    assert step.question_ids == ["signals.silent_after_invite"]
    assert step.starts_section(0)


def test_the_agenda_shows_one_person_and_can_add_up_to_six(bank_en: QuestionBank) -> None:
    answers: dict[str, Any] = {}
    _answer_all(bank_en, answers)
    step = next_step(bank_en, answers)
    assert step is not None and step.round == "agenda"
    assert step.people == 1 and step.can_add_person
    assert {q.person for q in step.questions} == {1}
    assert "agenda.1.discovery_plan" not in step.question_ids
    _answer_all(bank_en, answers)
    step = next_step(bank_en, answers, people=2)
    assert step is not None and step.round == "agenda"
    assert step.question_ids[0] == "agenda.2.who"
    most = next_step(bank_en, answers, people=9)
    assert most is not None and most.people == bank_en.max_people == 6
    assert not most.can_add_person


def test_strategic_reason_is_a_follow_up_only_for_thin_or_below_cost(
    bank_en: QuestionBank, win_win: Callable[..., dict[str, Any]]
) -> None:
    answers = win_win()
    del answers["benefit.margin"]
    step = next_step(bank_en, answers)
    assert step is not None and step.question_ids == ["benefit.margin"]
    for margin, expected in [
        ("healthy", None),
        ("thin", ["benefit.strategic_reason"]),
        ("below_cost", ["benefit.strategic_reason", "benefit.renegotiable"]),
    ]:
        answers["benefit.margin"] = margin
        step = next_step(bank_en, answers)
        if expected is None:
            assert step is None
        else:
            assert step is not None and step.round == "benefit" and step.is_followup
            assert step.question_ids == expected


def test_unknown_agenda_gets_a_discovery_follow_up(
    bank_en: QuestionBank, win_win: Callable[..., dict[str, Any]]
) -> None:
    answers = win_win(agenda__1__certainty="unknown")
    step = next_step(bank_en, answers)
    assert step is not None
    assert (step.round, step.question_ids, step.is_followup) == (
        "agenda",
        ["agenda.1.discovery_plan"],
        True,
    )
    answers["agenda.1.discovery_plan"] = "ask her assistant"
    assert next_step(bank_en, answers) is None


def test_a_complete_review_has_no_next_step(
    bank_en: QuestionBank, win_win: Callable[..., dict[str, Any]]
) -> None:
    assert next_step(bank_en, win_win()) is None


def test_a_resumed_draft_continues_where_it_stopped(bank_en: QuestionBank) -> None:
    answers: dict[str, Any] = {"deal.name": "Acme", "deal.account": None}
    step = next_step(bank_en, answers)
    assert step is not None and step.question_ids[0] == "deal.value"
