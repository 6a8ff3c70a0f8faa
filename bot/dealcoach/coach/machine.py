"""The review state machine: given the answers so far, which questions come next.

Pure: no I/O. The rounds are `fit` (deal.* and fit.*), `agenda` (1..6 decision-makers),
`benefit` and `signals`. A step holds the not-yet-asked questions of one round (for the
agenda: of the people shown). A follow-up (`ask_when`) whose condition reads an answer of
the same step is asked in a follow-up step right after it; one whose condition reads an
earlier step is simply part of its step when the condition holds.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict

from dealcoach.coach import conditions as cond
from dealcoach.coach.bank import Question, QuestionBank, RoundId


class Step(BaseModel):
    model_config = ConfigDict(frozen=True)
    round: RoundId
    questions: tuple[Question, ...]
    people: int  # how many decision-makers the agenda round shows (1..max)
    can_add_person: bool
    is_followup: bool

    @property
    def question_ids(self) -> list[str]:
        return [q.id for q in self.questions]


def person_has_answers(answers: Mapping[str, object], n: int) -> bool:
    prefix = f"agenda.{n}."
    return any(key.startswith(prefix) for key in answers)


def person_named(answers: Mapping[str, object], n: int) -> bool:
    """A decision-maker counts when any of their answers says something."""
    prefix = f"agenda.{n}."
    return any(
        key.startswith(prefix) and not cond.is_blank(value) for key, value in answers.items()
    )


def count_people(answers: Mapping[str, object], max_people: int = 6) -> int:
    """How many decision-maker slots the answers use (at least 1)."""
    highest = 1
    for n in range(1, max_people + 1):
        if person_has_answers(answers, n):
            highest = n
    return highest


def named_people(answers: Mapping[str, object], max_people: int = 6) -> tuple[int, ...]:
    return tuple(n for n in range(1, max_people + 1) if person_named(answers, n))


def _depends_inside(question: Question, step_ids: set[str]) -> bool:
    return question.ask_when is not None and bool(cond.answer_ids(question.ask_when) & step_ids)


def next_step(
    bank: QuestionBank, answers: Mapping[str, object], people: int | None = None
) -> Step | None:
    """The next step to ask, or None when the review is ready to be assessed.

    `people` asks the agenda round to show that many decision-makers (the user pressed
    "add a person"); by default it shows as many as the answers already use (at least 1).
    """
    shown = count_people(answers, bank.max_people)
    if people is not None:
        shown = max(shown, min(max(people, 1), bank.max_people))
    ctx = cond.Context(answers=answers, people=named_people(answers, bank.max_people))
    for info in bank.rounds:
        if info.id == "agenda":
            questions = [
                q for q in bank.questions_in("agenda") if q.person is not None and q.person <= shown
            ]
        else:
            questions = bank.questions_in(info.id)
        step_ids = {q.id for q in questions}
        main = [
            q
            for q in questions
            if q.ask_when is None
            or (not _depends_inside(q, step_ids) and cond.evaluate(q.ask_when, ctx))
        ]
        todo = [q for q in main if q.id not in answers]
        followups = [
            q
            for q in questions
            if _depends_inside(q, step_ids)
            and q.id not in answers
            and q.ask_when is not None
            and cond.evaluate(q.ask_when, ctx)
        ]
        for batch, is_followup in ((todo, False), (followups, True)):
            if batch:
                return Step(
                    round=info.id,
                    questions=tuple(batch),
                    people=shown,
                    can_add_person=info.id == "agenda" and shown < bank.max_people,
                    is_followup=is_followup,
                )
    return None


def step_for_round(
    bank: QuestionBank, answers: Mapping[str, object], round_id: str, people: int | None = None
) -> Step:
    """Round `round_id` shown whole again, to be prefilled with `answers` ("Update review",
    "Add a decision-maker"): every question of the round, answered or not, plus the
    follow-ups whose condition holds for the current answers (so an answer given to a
    follow-up can be changed too). The agenda shows as many people as the answers use, or
    `people` if more (up to the bank's maximum). A follow-up that starts to apply only
    because of an answer changed here is asked by `next_step` after the round is saved.

    Raises `ValueError` for a round the bank does not have.
    """
    info = next((r for r in bank.rounds if r.id == round_id), None)
    if info is None:
        known = ", ".join(r.id for r in bank.rounds)
        raise ValueError(f"unknown round {round_id!r} (rounds: {known})")
    shown = count_people(answers, bank.max_people)
    if people is not None:
        shown = max(shown, min(max(people, 1), bank.max_people))
    ctx = cond.Context(answers=answers, people=named_people(answers, bank.max_people))
    questions = [
        q
        for q in bank.questions_in(round_id)
        if (round_id != "agenda" or (q.person is not None and q.person <= shown))
        and (q.ask_when is None or cond.evaluate(q.ask_when, ctx))
    ]
    return Step(
        round=info.id,
        questions=tuple(questions),
        people=shown,
        can_add_person=round_id == "agenda" and shown < bank.max_people,
        is_followup=False,
    )


def revisit_step(
    bank: QuestionBank,
    answers: Mapping[str, object],
    after_round: str | None = None,
    people: int | None = None,
) -> Step | None:
    """Walking a review again round by round ("Update review", a resumed draft with every
    question answered): the machine's next step while it still needs one (e.g. a follow-up
    that a changed answer brought in), else the round after `after_round` (None: the first
    round) shown whole again by `step_for_round`; None once the last round was shown."""
    step = next_step(bank, answers, people)
    if step is not None:
        return step
    order = [info.id for info in bank.rounds]
    start = order.index(after_round) + 1 if after_round in order else 0
    for round_id in order[start:]:
        again = step_for_round(bank, answers, round_id, people)
        if again.questions:
            return again
    return None


def all_steps_done(bank: QuestionBank, answers: Mapping[str, object]) -> bool:
    return next_step(bank, answers) is None
