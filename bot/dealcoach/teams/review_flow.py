"""The review card flow: start or resume, a step submitted, *Add a decision-maker*,
*Update review*, *Record outcome* (with the loss reason), *Share with my manager*.

Each card action is one call to the review service, which decides what to show next
(`ReviewView.show`) and completes the review when nothing is left (`save_step`); this module
turns the result into a card. No coaching logic and no SQL here.
"""

from __future__ import annotations

import logging
import re

from dealcoach.coach.advice import render_advice
from dealcoach.coach.bank import load_bank
from dealcoach.coach.markup import escape_teams
from dealcoach.errors import Conflict, DeliveryError
from dealcoach.services.actors import Actor
from dealcoach.services.plans import PlanInvalid
from dealcoach.services.reviews import (
    LOST_OUTCOMES,
    CompletedReview,
    InvalidStep,
    ReviewView,
    loss_reason_label,
)
from dealcoach.teams import cards, coaching, plan_cards
from dealcoach.teams.advice import advice_card
from dealcoach.teams.cards import Card
from dealcoach.teams.context import TeamsDeps
from dealcoach.teams.payload import (
    BadCard,
    CardData,
    RawAnswer,
    bounded_int,
    question_ids,
    raw_value,
    review_id,
)
from dealcoach.teams.replies import Reply, user_message
from dealcoach.teams.review_cards import PAGE_PEOPLE, advice_of, step_card
from dealcoach.teams.strings import t

log = logging.getLogger("dealcoach.teams")

VERBS = cards.VERBS
MAX_PEOPLE = 9  # the most decision-makers a card may ask for; the bank caps it lower
_PERSON = re.compile(r"^agenda\.(\d+)\.")


def completion_key(review_id: int, nonce: str) -> str:
    """The idempotency key of completing a review from one card (a resubmit: the same)."""
    return f"teams:{review_id}:{nonce or 'card'}"


async def open_review(deps: TeamsDeps, actor: Actor, locale: str,
                      deal_name: str | None) -> Card:
    """`dealcoach` resumes the open draft (or starts one); `review <deal>` starts a review
    of that deal."""
    notice = None
    if deal_name:
        view = await deps.reviews.start(actor, deal_name)
    else:
        opened = await deps.reviews.open_or_start(actor)
        if opened.draft is not None:
            view = opened.draft
            name = escape_teams(view.deal_name) if view.deal_name else t(locale, "resume.unnamed")
            notice = t(view.locale, "resume.text", deal=name)
        else:
            assert opened.review is not None
            view = opened.review
    if view.ready or view.show is None:  # every question answered already: the advice
        done = await deps.reviews.complete(actor, view.review_id,
                                           completion_key(view.review_id, "r"))
        return await completed_card(deps, actor, done)
    return step_card(view, view.show, notice_md=notice)


async def card_action(deps: TeamsDeps, actor: Actor, locale: str, verb: str,
                      data: CardData) -> Reply:
    """One of the review's buttons (`cards.VERBS`)."""
    if verb == cards.VERB_NUDGE:  # a reminder's button: start a review of that deal
        deal = str(data.get("deal_name") or "").strip()[:200] or None
        return Reply(card=await open_review(deps, actor, locale, deal))
    reviewed = review_id(data)
    if verb == cards.VERB_STEP:
        return await submit_step(deps, actor, locale, reviewed, data)
    if verb == cards.VERB_ADD_PERSON:
        return await add_person(deps, actor, locale, reviewed, data)
    if verb == cards.VERB_UPDATE:
        return await update_review(deps, actor, locale, reviewed)
    if verb == cards.VERB_OUTCOME:
        return await record_outcome(deps, actor, locale, reviewed, data)
    return Reply(message=await share(deps, actor, locale, reviewed))  # VERB_SHARE


def _typed(data: CardData, locale: str) -> tuple[list[str], dict[str, RawAnswer]]:
    """The question ids the card showed and what was typed into them. Question ids and
    types are the same in every language of the bank, so the turn's language checks them."""
    bank = load_bank(locale)
    qids = question_ids(data, bank.questions)
    return qids, {qid: raw_value(bank.questions[qid].type, data.get(qid)) for qid in qids}


def _page(data: CardData, qids: list[str]) -> tuple[int, bool, int]:
    """The agenda page a card showed (`review_cards` module doc): the `start` it was shown
    after, whether more people follow it, and the last person on it."""
    start = bounded_int(data.get("start") or 0, 0, MAX_PEOPLE)
    more = str(data.get("more") or "0") == "1"
    persons = [int(m.group(1)) for m in (_PERSON.match(q) for q in qids) if m]
    return start, more, max(persons, default=start)


async def submit_step(deps: TeamsDeps, actor: Actor, locale: str, reviewed: int,
                      data: CardData) -> Reply:
    """*Next* / *Finish*: the step saved and what follows it in one transaction — the next
    step, or the advice (a resubmitted last card: the same advice, once). A page of the
    agenda with people after it: saved, then the next page."""
    qids, raw = _typed(data, locale)
    start, more, last = _page(data, qids)
    key = completion_key(reviewed, str(data.get("nonce") or ""))
    try:
        saved = await deps.reviews.save_step(actor, reviewed, raw, key, shown=qids)
    except InvalidStep as err:
        if err.show is None:  # pragma: no cover - the card named known questions
            raise
        return Reply(card=step_card(err.review, err.show, typed=raw, errors=err.errors,
                                    again=True, start=start, more=more))
    if saved.completed is not None:
        return Reply(card=await completed_card(deps, actor, saved.completed))
    if more:  # the agenda's next page: the round again, with as many people as before
        people = bounded_int(data.get("people"), 1, MAX_PEOPLE)
        return await _agenda_page(deps, actor, locale, reviewed, people, start=last)
    if saved.review.show is not None:
        return Reply(card=step_card(saved.review, saved.review.show))
    # Nothing left to show, yet not completed: completing says why (a Conflict).
    done = await deps.reviews.complete(actor, reviewed, key)
    return Reply(card=await completed_card(deps, actor, done))


async def _agenda_page(deps: TeamsDeps, actor: Actor, locale: str, reviewed: int,
                       people: int, *, start: int,
                       typed: dict[str, RawAnswer] | None = None) -> Reply:
    view = await deps.reviews.add_person(actor, reviewed, people)
    if view.show is None:  # pragma: no cover - the service always shows the agenda
        return Reply(message=t(locale, "card.stale"))
    return Reply(card=step_card(view, view.show, typed=typed, start=start))


async def add_person(deps: TeamsDeps, actor: Actor, locale: str, reviewed: int,
                     data: CardData) -> Reply:
    """*Add a decision-maker*: the agenda round again with one more person, keeping what
    was typed (saved with the step when it is submitted). On a full page the page is saved
    first and the new person gets a page of their own (see `review_cards`)."""
    people = bounded_int(data.get("people"), 1, MAX_PEOPLE)
    qids, raw = _typed(data, locale)
    start, _more, last = _page(data, qids)
    on_page = {int(m.group(1)) for m in (_PERSON.match(q) for q in qids) if m}
    if len(on_page) < PAGE_PEOPLE:  # room on this page: the new person joins it
        return await _agenda_page(deps, actor, locale, reviewed, people, start=start,
                                  typed=raw)
    key = completion_key(reviewed, str(data.get("nonce") or ""))
    try:
        saved = await deps.reviews.save_step(actor, reviewed, raw, key, shown=qids)
    except InvalidStep as err:
        if err.show is None:  # pragma: no cover - the card named known questions
            raise
        return Reply(card=step_card(err.review, err.show, typed=raw, errors=err.errors,
                                    again=True, start=start))
    if saved.completed is not None:  # pragma: no cover - the agenda is never the last round
        return Reply(card=await completed_card(deps, actor, saved.completed))
    return await _agenda_page(deps, actor, locale, reviewed, people, start=last)


async def update_review(deps: TeamsDeps, actor: Actor, locale: str, reviewed: int) -> Reply:
    """*Update review*: a new draft prefilled with every answer; its rounds are walked
    again from the first (posted as a new card; the advice stays)."""
    view = await deps.reviews.reopen(actor, reviewed)
    if view.show is None:
        return Reply(message=t(locale, "card.stale"))
    return Reply(new_card=step_card(view, view.show), message=t(locale, "card.next"))


async def record_outcome(deps: TeamsDeps, actor: Actor, locale: str, reviewed: int,
                         data: CardData) -> Reply:
    """*Save outcome*: won as is; lost or walked away with the reason (and the rep's own
    words) from the same submit — when the reason is missing, a card asks for it first and
    nothing is recorded until it is given (issue 15)."""
    outcome = str(data.get(cards.OUTCOME_INPUT) or "")
    if outcome not in cards.OUTCOMES:
        raise BadCard(f"unknown outcome {outcome!r}")
    reason: str | None = None
    reason_text: str | None = None
    if outcome in LOST_OUTCOMES:
        reason = str(data.get(plan_cards.REASON_INPUT) or "").strip() or None
        reason_text = str(data.get(plan_cards.REASON_TEXT_INPUT) or "").strip() or None
        if reason is None:
            return await _ask_reason(deps, actor, locale, reviewed, outcome, reason_text)
    try:
        await deps.reviews.record_outcome(actor, reviewed, outcome, reason=reason,
                                          reason_text=reason_text)
    except PlanInvalid as err:  # a reason not on the list, words too long: ask again
        return await _ask_reason(deps, actor, locale, reviewed, outcome, reason_text,
                                 reason=reason, error=user_message(err, locale))
    except Conflict:
        # Only a completed review has an outcome; a draft stays a draft (completing it here
        # would assess answers never given).
        view: ReviewView = await deps.reviews.get(actor, reviewed)
        if view.status != "completed":
            return Reply(message=t(locale, "outcome.not_completed"))
        raise
    done = await deps.reviews.complete(actor, reviewed, None)  # completed: its advice
    said = t(locale, f"outcome.{outcome}")
    if reason is not None:
        said = t(locale, "outcome.with_reason", outcome=said,
                 reason=loss_reason_label(locale, reason))
    return Reply(card=advice_of(done, notice_md=t(locale, "outcome.recorded",
                                                   review=reviewed, outcome=said)))


async def _ask_reason(deps: TeamsDeps, actor: Actor, locale: str, reviewed: int,
                      outcome: str, reason_text: str | None, *, reason: str | None = None,
                      error: str | None = None) -> Reply:
    view = await deps.reviews.get(actor, reviewed)  # the rep's own review, or refused
    if view.status != "completed":
        return Reply(message=t(locale, "outcome.not_completed"))
    deal = escape_teams(view.deal_name) if view.deal_name else t(locale, "resume.unnamed")
    return Reply(card=plan_cards.reason_card(
        review_id=reviewed, outcome=outcome, outcome_label=t(locale, f"outcome.{outcome}"),
        deal_md=f"**{deal}**", locale=locale, reason=reason, text=reason_text, error=error))


async def share(deps: TeamsDeps, actor: Actor, locale: str, reviewed: int) -> str:
    """*Share with my manager*: the advice to the manager's Teams chat, once."""
    shared = await deps.reviews.share(actor, reviewed)
    contact = shared.manager
    if contact is None:
        return t(locale, "share.none")
    if contact.conversation_ref is None or deps.sender is None:
        await deps.reviews.release_share(actor, reviewed)  # not sent: may be tried again
        return t(locale, "share.unreachable")
    header = t(contact.locale, "share.header", user=escape_teams(actor.display_name or ""))
    rendered = render_advice(shared.advice, "teams")
    card = advice_card(rendered, review_id=str(reviewed), locale=contact.locale,
                       recommendation=shared.assessment.recommendation, with_actions=False,
                       header_md=f"**{header}**")
    try:
        await deps.sender.send_card(contact.conversation_ref, card)
    except DeliveryError as err:
        log.warning("share failed: %s", err)
        # Not delivered: the review is not shared, so the next click tries again instead of
        # answering "already shared".
        await deps.reviews.release_share(actor, reviewed)
        return t(locale, "share.unreachable")
    return t(locale, "share.sent")


async def completed_card(deps: TeamsDeps, actor: Actor, done: CompletedReview) -> Card:
    """The advice of a review just completed, with the manager's notes on the deal's
    earlier reviews under it when there are any (issue 16)."""
    card = advice_of(done)
    if done.created and done.earlier_notes:  # read in the completing transaction
        card["body"].extend(
            coaching.earlier_notes_items(done.locale, done.review_id, done.earlier_notes)
        )
    return card
