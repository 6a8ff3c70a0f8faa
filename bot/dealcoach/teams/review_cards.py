"""The review's cards: one step (the step the service says to show) and the advice.

The service decides which step comes next, its number, and whether it is the last
(`ReviewView.show`); this module only lays it out (`cards.step_card`) and adds the CRM
picker on the first step. No coaching logic here.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from dealcoach.coach.advice import render_advice
from dealcoach.coach.bank import load_bank
from dealcoach.coach.markup import escape_teams
from dealcoach.services.reviews import CompletedReview, ReviewView, StepToShow
from dealcoach.teams import cards
from dealcoach.teams.advice import advice_card
from dealcoach.teams.cards import Card
from dealcoach.teams.crm_cards import decorate_step
from dealcoach.teams.plan_cards import add_to_plan_action, reason_inputs


def step_card(view: ReviewView, show: StepToShow, *, notice_md: str | None = None,
              typed: Mapping[str, object] | None = None, errors: Mapping[str, str] | None = None,
              again: bool = False) -> Card:
    """The card of `show`, prefilled with the review's answers and what was `typed`.

    `again`: the submitted step shown again (with its `errors`, or prefilled from the CRM):
    the round's intro is repeated and *Add a decision-maker* is left off, so the person
    fixes or checks what is there first."""
    bank = load_bank(view.locale)
    step = show.step
    info = next((r for r in bank.rounds if r.id == show.round), None)
    card = cards.step_card(
        review_id=str(view.review_id),
        questions=list(step.questions),
        answers={**view.answers, **(typed or {})},
        locale=view.locale,
        round_id=show.round,
        round_title=info.title if info else None,
        round_intro=info.intro if info and (again or not step.is_followup) else None,
        deal_name_md=escape_teams(view.deal_name) if view.deal_name else None,
        step_number=show.number,
        people=step.people,
        can_add_person=step.can_add_person and not again,
        is_last=show.is_last,
        errors=errors,
        notice_md=notice_md,
        nonce=uuid.uuid4().hex[:16],
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
