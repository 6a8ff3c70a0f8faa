"""`step_for_round`: the page of a round shown whole again, prefilled, for "Update review"
and "Add a decision-maker" — including the follow-ups that apply to the answers already
given; `revisit_step` walks the pages again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from dealcoach.coach import QuestionBank, next_step, revisit_step, step_for_round


def test_a_completed_round_is_shown_whole_again(
    bank_en: QuestionBank, win_win: Callable[..., dict[str, Any]]
) -> None:
    answers = win_win()
    assert next_step(bank_en, answers) is None  # nothing left to ask
    step = step_for_round(bank_en, answers, "fit")
    assert step.round == "fit" and not step.is_followup
    assert step.question_ids == [q.id for q in bank_en.questions_in("fit")]


def test_follow_ups_already_answered_can_be_edited_again(
    bank_en: QuestionBank, win_win: Callable[..., dict[str, Any]]
) -> None:
    answers = win_win(
        **{
            "benefit.margin": "below_cost",
            "benefit.strategic_reason": "door opener",
            "benefit.renegotiable": "yes",
        }
    )
    step = step_for_round(bank_en, answers, "benefit")
    ids = step.question_ids
    assert "benefit.margin" in ids
    assert "benefit.strategic_reason" in ids and "benefit.renegotiable" in ids
    # Thin margin: the reason still applies, renegotiable (below cost only) does not.
    thin = step_for_round(bank_en, {**answers, "benefit.margin": "thin"}, "benefit")
    assert "benefit.strategic_reason" in thin.question_ids
    assert "benefit.renegotiable" not in thin.question_ids
    healthy = step_for_round(bank_en, win_win(), "benefit")
    assert "benefit.strategic_reason" not in healthy.question_ids


def test_a_persons_follow_up_is_shown_when_their_agenda_is_unknown(
    bank_en: QuestionBank, win_win: Callable[..., dict[str, Any]]
) -> None:
    answers = win_win(
        **{"agenda.1.certainty": "unknown", "agenda.1.discovery_plan": "ask her assistant"}
    )
    step = step_for_round(bank_en, answers, "agenda")
    ids = step.question_ids
    assert "agenda.1.discovery_plan" in ids
    assert ids.index("agenda.1.certainty") < ids.index("agenda.1.discovery_plan")
    confirmed = step_for_round(bank_en, win_win(), "agenda")
    assert "agenda.1.discovery_plan" not in confirmed.question_ids


def test_adding_a_decision_maker_keeps_the_people_shown(
    bank_en: QuestionBank, win_win: Callable[..., dict[str, Any]]
) -> None:
    answers = win_win()
    step = step_for_round(bank_en, answers, "agenda", people=2)
    assert step.people == 2 and step.can_add_person
    assert {q.person for q in step.questions} == {1, 2}
    assert "agenda.1.who" in step.question_ids and "agenda.2.who" in step.question_ids
    assert "agenda.2.discovery_plan" not in step.question_ids  # nothing said about them yet
    full = step_for_round(bank_en, answers, "agenda", people=9)
    assert full.people == bank_en.max_people == 6 and not full.can_add_person
    # Fewer than the answers use is not fewer people: nobody typed in is hidden.
    answers["agenda.2.who"] = "Bram"
    assert step_for_round(bank_en, answers, "agenda", people=1).people == 2


def test_rounds_other_than_the_agenda_cannot_add_a_person(
    bank_en: QuestionBank, win_win: Callable[..., dict[str, Any]]
) -> None:
    for round_id in ("fit", "benefit", "signals"):
        step = step_for_round(bank_en, win_win(), round_id, people=3)
        assert not step.can_add_person
        assert all(q.round in bank_en.page_of(round_id) for q in step.questions)


def test_a_round_is_shown_with_the_whole_page_it_is_on(
    bank_en: QuestionBank, win_win: Callable[..., dict[str, Any]]
) -> None:
    benefit = step_for_round(bank_en, win_win(), "benefit")
    signals = step_for_round(bank_en, win_win(), "signals")
    assert benefit == signals  # one page: the mutual benefit, closed by the warning signals
    assert benefit.round == "benefit" and benefit.rounds == ("benefit", "signals")
    main = [q.id for q in bank_en.questions_in("benefit") if q.ask_when is None]
    assert benefit.question_ids == [*main, "signals.silent_after_invite"]


def test_an_unknown_round_is_refused(bank_en: QuestionBank) -> None:
    with pytest.raises(ValueError, match="unknown round 'pricing'"):
        step_for_round(bank_en, {}, "pricing")


def test_revisiting_walks_the_pages_after_the_one_just_shown(
    bank_en: QuestionBank, win_win: Callable[..., dict[str, Any]]
) -> None:
    answers = win_win()
    rounds = []
    after: str | None = None
    while (step := revisit_step(bank_en, answers, after)) is not None:
        rounds.append(step.round)
        after = step.round
    assert rounds == ["fit", "agenda", "benefit"]


def test_revisit_does_not_show_signals_as_their_own_page(
    bank_en: QuestionBank, win_win: Callable[..., dict[str, Any]]
) -> None:
    answers = win_win()
    # after the benefit page, by any of its rounds: nothing is left
    assert revisit_step(bank_en, answers, "benefit") is None
    assert revisit_step(bank_en, answers, "signals") is None
    after_agenda = revisit_step(bank_en, answers, "agenda")
    assert after_agenda is not None and after_agenda.rounds == ("benefit", "signals")


def test_revisiting_asks_a_follow_up_a_changed_answer_brought_in(
    bank_en: QuestionBank, win_win: Callable[..., dict[str, Any]]
) -> None:
    answers = win_win(**{"benefit.margin": "thin"})  # changed on the benefit round
    step = revisit_step(bank_en, answers, "benefit")
    assert step is not None and step.is_followup
    assert step.question_ids == ["benefit.strategic_reason"]
    answers["benefit.strategic_reason"] = "door opener"
    assert revisit_step(bank_en, answers, "benefit") is None  # the signals were on that page
