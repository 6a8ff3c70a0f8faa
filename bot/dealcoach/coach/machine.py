"""The review state machine: given the answers so far, which questions come next.

Pure: no I/O. The rounds are `fit` (deal.* and fit.*), `agenda` (1..6 decision-makers),
`benefit` and `signals`; a review walks them on pages (`QuestionBank.pages`, from `pages:`
in prompts/questions.yaml: `[[fit], [agenda], [benefit, signals]]`), a page showing one or
more rounds. A step holds the not-yet-asked questions of one page (for the agenda: of the
people shown), in round order. A follow-up (`ask_when`) whose condition reads an answer of
the same page is asked in a follow-up step right after it; one whose condition reads an
earlier page is simply part of its step when the condition holds.

`Step.round` is the page's first round (its title); a question whose `round` differs from
the one before it starts a section of that round inside the page (`Step.sections`).
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict

from dealcoach.coach import conditions as cond
from dealcoach.coach.bank import Question, QuestionBank, RoundId


class Step(BaseModel):
    model_config = ConfigDict(frozen=True)
    round: RoundId  # the first round of the page (the page's title)
    questions: tuple[Question, ...]
    people: int  # how many decision-makers the agenda round shows (1..max)
    can_add_person: bool
    is_followup: bool

    @property
    def question_ids(self) -> list[str]:
        return [q.id for q in self.questions]

    @property
    def rounds(self) -> tuple[RoundId, ...]:
        """The rounds whose questions this step holds, in order (the page's, or fewer)."""
        out: list[RoundId] = []
        for q in self.questions:
            if q.round not in out:
                out.append(q.round)
        return tuple(out)

    def starts_section(self, index: int) -> bool:
        """Whether question `index` opens a section of another round inside the page: its
        round differs from the question before it (from `round`, the page's title, for the
        first question)."""
        before = self.round if index == 0 else self.questions[index - 1].round
        return self.questions[index].round != before


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


def _shown(bank: QuestionBank, answers: Mapping[str, object], people: int | None) -> int:
    """How many decision-makers the agenda shows: as many as the answers use (at least 1),
    or `people` if more (up to the bank's maximum)."""
    shown = count_people(answers, bank.max_people)
    if people is not None:
        shown = max(shown, min(max(people, 1), bank.max_people))
    return shown


def _page_questions(bank: QuestionBank, page: tuple[RoundId, ...], shown: int) -> list[Question]:
    """Every question of the page's rounds, in round order; the agenda's for `shown` people."""
    questions: list[Question] = []
    for round_id in page:
        questions += [
            q
            for q in bank.questions_in(round_id)
            if round_id != "agenda" or (q.person is not None and q.person <= shown)
        ]
    return questions


def _step(
    bank: QuestionBank,
    page: tuple[RoundId, ...],
    questions: list[Question],
    shown: int,
    *,
    is_followup: bool,
) -> Step:
    return Step(
        round=page[0],
        questions=tuple(questions),
        people=shown,
        can_add_person="agenda" in page and shown < bank.max_people,
        is_followup=is_followup,
    )


def next_step(
    bank: QuestionBank, answers: Mapping[str, object], people: int | None = None
) -> Step | None:
    """The next step to ask, or None when the review is ready to be assessed.

    `people` asks the agenda round to show that many decision-makers (the user pressed
    "add a person"); by default it shows as many as the answers already use (at least 1).
    """
    shown = _shown(bank, answers, people)
    ctx = cond.Context(answers=answers, people=named_people(answers, bank.max_people))
    for page in bank.pages:
        questions = _page_questions(bank, page, shown)
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
                return _step(bank, page, batch, shown, is_followup=is_followup)
    return None


def step_for_round(
    bank: QuestionBank, answers: Mapping[str, object], round_id: str, people: int | None = None
) -> Step:
    """The page that shows round `round_id`, shown whole again to be prefilled with
    `answers` ("Update review", "Add a decision-maker"): every question of the page's
    rounds, answered or not, plus the follow-ups whose condition holds for the current
    answers (so an answer given to a follow-up can be changed too). The agenda shows as
    many people as the answers use, or `people` if more (up to the bank's maximum). A
    follow-up that starts to apply only because of an answer changed here is asked by
    `next_step` after the page is saved.

    Raises `ValueError` for a round the bank does not have.
    """
    page = bank.page_of(round_id)
    return _whole_page(bank, answers, page, people)


def _whole_page(
    bank: QuestionBank,
    answers: Mapping[str, object],
    page: tuple[RoundId, ...],
    people: int | None,
) -> Step:
    shown = _shown(bank, answers, people)
    ctx = cond.Context(answers=answers, people=named_people(answers, bank.max_people))
    questions = [
        q
        for q in _page_questions(bank, page, shown)
        if q.ask_when is None or cond.evaluate(q.ask_when, ctx)
    ]
    return _step(bank, page, questions, shown, is_followup=False)


def revisit_step(
    bank: QuestionBank,
    answers: Mapping[str, object],
    after_round: str | None = None,
    people: int | None = None,
) -> Step | None:
    """Walking a review again page by page ("Update review", a resumed draft with every
    question answered): the machine's next step while it still needs one (e.g. a follow-up
    that a changed answer brought in), else the page after the one that shows `after_round`
    (any of its rounds; None: the first page) shown whole again as `step_for_round` shows
    it; None once the last page was shown."""
    step = next_step(bank, answers, people)
    if step is not None:
        return step
    pages = bank.pages
    start = 0
    if after_round is not None:
        try:
            start = bank.page_index(after_round) + 1
        except ValueError:
            start = 0
    for page in pages[start:]:
        again = _whole_page(bank, answers, page, people)
        if again.questions:
            return again
    return None


def all_steps_done(bank: QuestionBank, answers: Mapping[str, object]) -> bool:
    return next_step(bank, answers) is None
