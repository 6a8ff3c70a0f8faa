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

A platform that can change a page while it is being filled in (the Slack modal: an input with
`dispatch_action`) asks `followup_triggers` which of the page's inputs decide a follow-up of
the same page, and `settle_followups` how the page looks for the values on screen: the
follow-ups that apply right after their trigger, those that no longer apply taken off. A
follow-up answered on the page is then not asked again by `next_step`; one left out (no
dispatch, another platform) still comes in its follow-up step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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


# --- follow-ups settled on the page itself (the Slack modal's dispatch_action) ---------------


class SettledPage(BaseModel):
    """A page as shown, with the follow-ups it decides by itself settled for the values on
    screen (`settle_followups`)."""

    model_config = ConfigDict(frozen=True)
    question_ids: tuple[str, ...]  # the page's questions in order, as it should look now
    added: tuple[str, ...]  # follow-ups that apply and were not shown
    removed: tuple[str, ...]  # follow-ups shown that no longer apply
    # Every follow-up the page decides whose condition does not hold, shown or not: an answer
    # to one of these would contradict the page's own answers.
    not_applying: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


# The bank's follow-ups with the answers their condition reads, per bank (banks are loaded
# once per process and kept, so their id is not reused while the entry lives).
_FOLLOWUPS: dict[int, tuple[QuestionBank, tuple[tuple[Question, frozenset[str]], ...]]] = {}


def _followups(bank: QuestionBank) -> tuple[tuple[Question, frozenset[str]], ...]:
    """Every follow-up of the bank, in the bank's order, with the answer ids it reads."""
    cached = _FOLLOWUPS.get(id(bank))
    if cached is not None and cached[0] is bank:
        return cached[1]
    found = tuple(
        (q, frozenset(cond.answer_ids(q.ask_when)))
        for q in bank.questions.values()
        if q.ask_when is not None
    )
    if len(_FOLLOWUPS) > 64:  # banks of test prompt folders; the app has one per locale
        _FOLLOWUPS.clear()
    _FOLLOWUPS[id(bank)] = (bank, found)
    return found


def _decided_on_page(bank: QuestionBank, shown: Sequence[str]) -> list[Question]:
    """The follow-ups a page showing the question ids `shown` decides by itself, in the
    bank's order: every follow-up of the page's rounds whose condition reads answers of the
    page only (its shown questions, or such follow-ups: a follow-up of a follow-up), so the
    values on screen are all it takes. One that also reads an answer of an earlier page is
    left to the machine (its step is built with the saved answers)."""
    on_page = {qid for qid in shown if qid in bank.questions}
    rounds: set[str] = set()
    for round_id in {bank.questions[qid].round for qid in on_page}:
        rounds.update(bank.page_of(round_id))
    candidates = [(q, reads) for q, reads in _followups(bank) if reads and q.round in rounds]
    known = set(on_page)
    found: set[str] = set()
    grew = True
    while grew:
        grew = False
        for question, reads in candidates:
            if question.id not in found and reads <= known:
                found.add(question.id)
                known.add(question.id)
                grew = True
    return [q for q, _ in candidates if q.id in found]


def followup_triggers(bank: QuestionBank, shown: Sequence[str]) -> frozenset[str]:
    """The question ids among `shown` (one page as shown) whose answer decides whether a
    follow-up of the same page is asked (e.g. `benefit.margin`, `agenda.N.role`)."""
    on_page = set(shown)
    decided = {q.id for q in _decided_on_page(bank, shown)}
    return frozenset(
        qid for q, reads in _followups(bank) if q.id in decided for qid in reads if qid in on_page
    )


def settle_followups(
    bank: QuestionBank, shown: Sequence[str], answers: Mapping[str, object]
) -> SettledPage:
    """The page showing the question ids `shown` (in order), as it should look for `answers`
    (the values on screen): each follow-up the page decides (`followup_triggers`) is on it
    exactly when its condition holds. One that starts to apply goes right after its trigger
    (after the follow-ups of the same trigger that come before it in the bank, so a trigger's
    follow-ups keep the bank's order); one that no longer applies is taken off; everything
    else stays where it is. A follow-up that does not apply counts as blank for a follow-up
    of it."""
    decided = _decided_on_page(bank, shown)
    values = dict(answers)
    people = named_people(values, bank.max_people)
    holds: dict[str, bool] = {}
    for question in decided:  # bank order: a follow-up's own trigger is settled before it
        condition = question.ask_when
        ok = condition is not None and cond.evaluate(
            condition, cond.Context(answers=values, people=people)
        )
        holds[question.id] = ok
        if not ok:
            values[question.id] = None
    page = [qid for qid in shown if holds.get(qid, True)]
    order = {qid: i for i, qid in enumerate(bank.questions)}
    reads = {q.id: r for q, r in _followups(bank) if q.id in holds}
    for question in decided:
        if not holds[question.id] or question.id in page:
            continue
        mine = reads[question.id]
        anchors = [
            at
            for at, qid in enumerate(page)
            if qid in mine
            or (qid in reads and reads[qid] & mine and order[qid] < order[question.id])
        ]
        if anchors:  # (always: its trigger is on the page)
            page.insert(max(anchors) + 1, question.id)
    return SettledPage(
        question_ids=tuple(page),
        added=tuple(qid for qid in page if qid not in shown),
        removed=tuple(qid for qid in shown if qid not in page),
        not_applying=tuple(q.id for q in decided if not holds[q.id]),
    )
