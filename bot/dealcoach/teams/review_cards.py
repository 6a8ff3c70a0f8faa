"""The review's cards: one step (the step the service says to show) and the advice.

A step is a page of one or more rounds (`QuestionBank.pages`): the card's heading names the
page's first round, and a later round on the same page (the warning signals under the mutual
benefit) gets its own heading and intro inside the card.

The service decides which step comes next, its number, and whether it is the last
(`ReviewView.show`); this module only lays it out (`cards.step_card`) and adds the CRM
picker on the first step. No coaching logic here.

**Paging the decision-makers.** A review names up to six decision-makers (issue 15), and the
agenda round asks up to twelve questions of each; one card with all of them passes Teams'
~28 KB limit (`tests/teams/test_card_size.py` measures it). So an agenda step shows at most
`PAGE_PEOPLE` (3) people per card, the service's step cut by person:

- the page shows the first three people of the step numbered above `start` (the envelope's
  `start`; 0 on the first page), and says "Decision-makers 4–6 of 6"; when long answers
  would still pass `MAX_CARD_BYTES`, the page holds two people, or one;
- with people after them (`more` in the envelope) the button says *Next*: the page is saved
  (`save_step`, only its own question ids), then the agenda round is asked again with the
  same number of people through the service's add-person mechanism (`add_person`, which
  saves nothing and shows the round whole, prefilled) and its next page is shown;
- *Add a decision-maker* is on the last page; when that page is full, it saves the page
  first and shows the new person on a page of their own (`review_flow.add_person`);
- the last page submits like any step: the service decides what follows (the follow-up
  questions — at most three a person, one card — then the next round).
Everything else (which questions, follow-ups, completion) stays the service's.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from dealcoach.coach.advice import render_advice
from dealcoach.coach.bank import Question, load_bank
from dealcoach.coach.markup import escape_teams
from dealcoach.services.reviews import CompletedReview, ReviewView, StepToShow
from dealcoach.teams import cards
from dealcoach.teams.advice import advice_card
from dealcoach.teams.cards import Card
from dealcoach.teams.crm_cards import decorate_step
from dealcoach.teams.plan_cards import add_to_plan_action, reason_inputs
from dealcoach.teams.strings import t

PAGE_PEOPLE = 3  # decision-makers on one agenda card
# Teams refuses a message over ~28 KB (28,672 bytes); the card stays under this, which
# leaves room for the activity around it.
MAX_CARD_BYTES = 24_000


@dataclass(frozen=True)
class Page:
    """The part of a step one card shows: its questions, the people on it (numbers), and
    whether more people follow on another page."""

    questions: tuple[Question, ...]
    people: tuple[int, ...]
    total: int  # the highest person number of the step
    more: bool

    @property
    def last(self) -> int:
        return self.people[-1] if self.people else 0

    @property
    def full(self) -> bool:
        return len(self.people) >= PAGE_PEOPLE


def page_of(show: StepToShow, start: int = 0, size: int = PAGE_PEOPLE) -> Page:
    """The page of `show` with the first `size` people numbered above `start`; a step of
    another round, or with no more people than a page holds, is one page."""
    questions = show.step.questions
    persons = sorted({q.person for q in questions if q.person is not None})
    if show.round != "agenda" or (start == 0 and len(persons) <= size):
        return Page(tuple(questions), tuple(persons), max(persons, default=0), more=False)
    after = [n for n in persons if n > start] or persons[-size:]
    chosen = tuple(after[:size])
    return Page(
        questions=tuple(q for q in questions if q.person is None or q.person in chosen),
        people=chosen,
        total=persons[-1],
        more=persons[-1] > chosen[-1],
    )


def _page_line(locale: str, page: Page, people: int) -> str:
    """`Decision-makers 4–6 of 6`."""
    total = max(page.total, people)
    if page.people[0] == page.last:
        return t(locale, "card.page_one", first=page.last, total=total)
    return t(locale, "card.page", first=page.people[0], last=page.last, total=total)


def card_bytes(card: Card) -> int:
    """The card's size as sent (compact JSON, UTF-8)."""
    return len(json.dumps(card, separators=(",", ":"), ensure_ascii=False).encode())


def step_card(view: ReviewView, show: StepToShow, *, notice_md: str | None = None,
              typed: Mapping[str, object] | None = None, errors: Mapping[str, str] | None = None,
              again: bool = False, start: int = 0, more: bool = False) -> Card:
    """The card of `show` (its page after person `start`, see the module doc), prefilled
    with the review's answers and what was `typed`. A page whose answers are long enough to
    pass `MAX_CARD_BYTES` holds fewer people.

    `again`: the submitted step shown again (with its `errors`, or prefilled from the CRM):
    the round's intro is repeated and *Add a decision-maker* is left off, so the person
    fixes or checks what is there first. `more`: people follow this page (a page shown
    again keeps its *Next*)."""
    for size in range(PAGE_PEOPLE, 0, -1):
        card = _page_card(view, show, page_of(show, start, size), notice_md=notice_md,
                          typed=typed, errors=errors, again=again, start=start, more=more)
        if card_bytes(card) <= MAX_CARD_BYTES:
            break
    return card


def _page_card(view: ReviewView, show: StepToShow, page: Page, *, notice_md: str | None,
               typed: Mapping[str, object] | None, errors: Mapping[str, str] | None,
               again: bool, start: int, more: bool) -> Card:
    bank = load_bank(view.locale)
    step = show.step
    more = more or page.more
    info = next((r for r in bank.rounds if r.id == show.round), None)
    paged = more or start > 0
    # A page may show more than one round: each later round opens its own section.
    sections: dict[str, tuple[str, str | None]] = {}
    current = show.round
    for question in page.questions:
        if question.round != current:
            current = question.round
            section = bank.round_info(question.round)
            sections[question.id] = (
                section.title,
                section.intro if again or not step.is_followup else None,
            )
    card = cards.step_card(
        review_id=str(view.review_id),
        questions=list(page.questions),
        answers={**view.answers, **(typed or {})},
        locale=view.locale,
        round_id=show.round,
        round_title=info.title if info else None,
        round_intro=info.intro if info and (again or not step.is_followup) and start == 0
        else None,
        deal_name_md=escape_teams(view.deal_name) if view.deal_name else None,
        step_number=show.number,
        people=step.people,
        can_add_person=step.can_add_person and not again and not more,
        is_last=show.is_last and not more,
        errors=errors,
        notice_md=notice_md,
        nonce=uuid.uuid4().hex[:16],
        page_md=_page_line(view.locale, page, step.people) if paged and page.people else None,
        extra={"start": start, "more": int(more)} if paged else None,
        sections=sections,
    )
    # With a CRM, the first step offers its deals (issue 17).
    return decorate_step(card, review_id=str(view.review_id), locale=view.locale,
                         first_step=show.is_first)


def advice_of(done: CompletedReview, *, notice_md: str | None = None,
              notice_color: str = "Good") -> Card:
    """The advice card of a completed review, with its buttons: *Add to plan* (the moves
    not in the deal's plan yet), *Update review*, *Record outcome* (with the loss reason),
    *Share with my manager*. `notice_md`: one line under the advice (what a button did)."""
    rendered = render_advice(done.advice, "teams")
    plan_action = add_to_plan_action(review_id=done.review_id, deal_id=done.deal_id,
                                     candidates=done.plan_candidates,
                                     owner_options=done.owner_options, locale=done.locale)
    card = advice_card(rendered, review_id=str(done.review_id), locale=done.locale,
                       recommendation=done.assessment.recommendation,
                       plan_action=plan_action, outcome_inputs=reason_inputs(done.locale))
    if notice_md:
        card["body"].append(cards.text(notice_md, color=notice_color))
    return card
