"""Review use cases: start/resume, save a step, complete, reopen, history, outcome, locale,
share with the manager.

Each use case is one module-level function `fn(uow, …)` holding the logic once; the sync
`ReviewService` runs it through `Store.run`, the asyncio `AsyncReviewService` through
`AsyncStore.run` (SQLAlchemy `run_sync`) — the same code on both paths. Results are plain
frozen dataclasses and pydantic models, never ORM objects, so they are safe to hand to an
adapter after the transaction ended.

Rules enforced here for every adapter: a review belongs to the person who started it
(`Forbidden` for anyone else, `NotFound` for unknown ids); answers are validated by the coach
before they are stored; a completed review is never edited (`Conflict`; "Update review"
reopens it as a new draft); completing is idempotent on the review and its key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from dealcoach.coach.advice import AdviceModel, PreviousReview, build_advice, render_text
from dealcoach.coach.answers import Answers, validate_answer, validate_answers
from dealcoach.coach.assessment import Assessment, assess
from dealcoach.coach.bank import LOCALES, QuestionBank, load_bank
from dealcoach.coach.machine import (
    SettledPage,
    Step,
    next_step,
    revisit_step,
    settle_followups,
    step_for_round,
)
from dealcoach.coach.machine import followup_triggers as page_triggers
from dealcoach.coach.plan_text import text as plan_text
from dealcoach.coach.plans import PlanStatus
from dealcoach.errors import (
    AlreadyShared,
    Conflict,
    Forbidden,
    InputError,
    InvalidAnswer,
    InvalidAnswers,
    NotFound,
)
from dealcoach.services.actors import Actor
from dealcoach.services.coaching import NoteView, notes_before
from dealcoach.services.people import (
    actor_locale,
    find_person,
    known_locale,
    locale_for,
    resolve_person,
)
from dealcoach.services.plans import (
    PlanCandidate,
    PlanInvalid,
    candidates_of,
    deal_steps,
    local_today,
    names_in,
    plan_status,
)
from dealcoach.store.models import OUTCOME_REASONS, OUTCOMES, Person, Review
from dealcoach.store.plans import StepRow
from dealcoach.store.uow import AsyncStore, Store, UnitOfWork
from dealcoach.ui_text import translate

# Open drafts a person may have at once. Starting one more expires the least recently touched
# (deleted with its answers): 200 clicks on "Start new" must not leave 200 drafts and deals.
MAX_OPEN_DRAFTS = 5

# Why a deal was lost or walked away from (*Record outcome* asks), in the order to offer them;
# their words are `reason.<id>` in `prompts/<locale>/plan.yaml` (`loss_reason_label`).
LOSS_REASONS: tuple[str, ...] = OUTCOME_REASONS
# The outcomes that take a loss reason.
LOST_OUTCOMES: tuple[str, ...] = ("lost", "walked_away")


def loss_reason_label(locale: str | None, reason: str) -> str:
    """A loss reason in the reader's words (`Price` / `Prijs`; not escaped: template text)."""
    if reason not in LOSS_REASONS:
        raise PlanInvalid("reason", f"reason must be one of {', '.join(LOSS_REASONS)}")
    return plan_text(locale, f"reason.{reason}")


@dataclass(frozen=True)
class StepToShow:
    """The step an adapter shows next, decided here (adapters never ask `coach.machine`).

    `step`: the questions (the machine's next step, or a page shown whole again when a
    reopened or fully answered draft is walked again, or the agenda with one more person);
    `number`: its page's place, 1-based (the "Step n" label; a page shows one or more
    rounds, `QuestionBank.pages`); `is_first`: the first page (a CRM's deal picker goes
    there); `is_last`: nothing follows it — submitting it (as shown, with its current
    answers) completes the review ("Finish" rather than "Next").
    """

    step: Step
    number: int
    is_first: bool
    is_last: bool

    @property
    def round(self) -> str:
        return str(self.step.round)

    @property
    def question_ids(self) -> list[str]:
        return self.step.question_ids


@dataclass(frozen=True)
class ReviewView:
    """A review as an adapter shows it: its answers so far and what to ask next.

    `next_step` is the machine's next step (None: every question answered); `show` is what
    the adapter shows — `next_step`, else (a reopened or resumed draft with everything
    answered) the pages again after the one just submitted; None: nothing left to show,
    the review completes (or is completed)."""

    review_id: int
    status: str
    deal_name: str | None
    locale: str
    answers: Answers
    next_step: Step | None
    platform: str
    started_at: datetime
    updated_at: datetime
    completed_at: datetime | None = None
    quadrant: str | None = None
    recommendation: str | None = None
    reopened_from: int | None = None
    show: StepToShow | None = None

    @property
    def ready(self) -> bool:
        """Every step answered: the review can be completed."""
        return self.status == "draft" and self.next_step is None


@dataclass(frozen=True)
class Opened:
    """`/dealcoach` in one transaction: the open draft to offer for resume (nothing started),
    or the review started."""

    draft: ReviewView | None
    review: ReviewView | None


@dataclass(frozen=True)
class CompletedReview:
    """A completed review's advice, and what its *Add to plan* buttons need:
    `plan_candidates` (one per move, `index` for `add_from_action`), `owner_options` (the
    named decision-makers' short names, who can own a customer step) and `deal_id`."""

    review_id: int
    assessment: Assessment
    advice: AdviceModel
    advice_text: str
    created: bool  # False: it was completed before (a retry, a double click)
    deal_name: str | None = None
    locale: str = "en"
    deal_id: int | None = None
    plan_candidates: tuple[PlanCandidate, ...] = ()
    owner_options: tuple[str, ...] = ()
    # The coaching notes on the deal's earlier reviews (issue 16), read in the completing
    # transaction for the rep's first look at the advice (`created`); empty otherwise.
    earlier_notes: tuple[NoteView, ...] = ()


@dataclass(frozen=True)
class ManagerContact:
    """Whom a shared review goes to, in the adapter's terms."""

    platform: str
    workspace_id: str  # the platform's id (Slack team id, Teams tenant id)
    user_id: str  # the platform's user id (Slack user id, Teams AAD object id)
    display_name: str | None
    locale: str  # the manager's language: their own choice, else the workspace's, else default
    conversation_ref: dict[str, Any] | None  # Teams: their personal chat, once they wrote


@dataclass(frozen=True)
class SharedReview:
    """What an adapter needs to post a completed review to the reviewer's manager.

    `manager` is None when no manager is set for the reviewer in this workspace (the adapter
    tells the reviewer so); otherwise the adapter posts `advice` to them.
    """

    review_id: int
    locale: str  # the review's language (for the reply to the reviewer)
    deal_name: str | None
    assessment: Assessment
    advice: AdviceModel
    manager: ManagerContact | None

    @property
    def manager_user_id(self) -> str | None:
        return self.manager.user_id if self.manager is not None else None


@dataclass(frozen=True)
class ReviewSummary:
    """One line of a person's history."""

    review_id: int
    status: str
    deal_name: str | None
    outcome: str | None
    quadrant: str | None
    recommendation: str | None
    started_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    locale: str = "en"  # the review's language
    outcome_reason: str | None = None  # why it was lost (LOSS_REASONS), when recorded here


# --- helpers (inside a unit of work) --------------------------------------------------------


def _owned(uow: UnitOfWork, actor: Actor, review_id: int, *, lock: bool = False) -> Review:
    review = uow.reviews.get_for_update(review_id) if lock else uow.reviews.get(review_id)
    if review is None:
        raise NotFound(f"review {review_id} does not exist")
    _check_owner(uow, actor, review)
    return review


def _check_owner(uow: UnitOfWork, actor: Actor, review: Review) -> None:
    person = find_person(uow, actor)
    if person is None or review.person_id != person.id:
        raise Forbidden("that review belongs to someone else")


def _bank(review: Review) -> QuestionBank:
    return load_bank(known_locale(review.locale) or "en")


def _to_show(
    bank: QuestionBank, answers: Answers, step: Step, people: int | None = None
) -> StepToShow:
    """`step` with its place among the pages (a page shows one or more rounds, see
    `QuestionBank.pages`), and whether anything follows it: after it is submitted as shown
    (its questions answered as they are now), neither the machine nor a walk through the
    later pages again has anything left to show."""
    try:
        page = bank.page_index(step.round)
    except ValueError:
        page = 0
    submitted = {**answers, **{q.id: answers.get(q.id) for q in step.questions}}
    return StepToShow(
        step=step,
        number=page + 1,
        is_first=page == 0,
        is_last=revisit_step(bank, submitted, step.round, people) is None,
    )


def _step_to_show(
    bank: QuestionBank,
    answers: Answers,
    upcoming: Step | None,
    after_round: str | None,
    people: int | None,
) -> StepToShow | None:
    """What a draft shows next: the machine's next step (`upcoming`), else — every question
    answered (a reopened or resumed draft) — the rounds after `after_round` (None: from the
    first) shown whole again; None when nothing is left."""
    step = upcoming or revisit_step(bank, answers, after_round, people)
    return _to_show(bank, answers, step, people) if step is not None else None


def _view(
    uow: UnitOfWork,
    review: Review,
    people: int | None = None,
    *,
    after_round: str | None = None,
    step: Step | None = None,
    answers: Answers | None = None,
) -> ReviewView:
    """The review as an adapter shows it. `show`: `step` when given (e.g. the agenda with
    one more person), else the next step after `after_round` (see `_step_to_show`).
    `answers`: the review's answers as stored, when this transaction knows them already."""
    if answers is None:
        answers = uow.reviews.answers(review.id)
    upcoming = None
    show = None
    if review.status == "draft":
        bank = _bank(review)
        upcoming = next_step(bank, answers, people)
        if step is not None:
            show = _to_show(bank, answers, step, people)
        else:
            show = _step_to_show(bank, answers, upcoming, after_round, people)
    deal_name = review.deal.name if review.deal is not None else None
    if deal_name is None and isinstance(answers.get("deal.name"), str):
        deal_name = str(answers["deal.name"])
    return ReviewView(
        review_id=review.id,
        status=review.status,
        deal_name=deal_name,
        locale=review.locale,
        answers=answers,
        next_step=upcoming,
        platform=review.platform,
        started_at=review.started_at,
        updated_at=review.updated_at,
        completed_at=review.completed_at,
        quadrant=review.quadrant,
        recommendation=review.recommendation,
        reopened_from=review.reopened_from_id,
        show=show,
    )


def _summary(review: Review) -> ReviewSummary:
    deal = review.deal
    return ReviewSummary(
        review_id=review.id,
        status=review.status,
        deal_name=deal.name if deal is not None else None,
        outcome=deal.outcome if deal is not None else None,
        quadrant=review.quadrant,
        recommendation=review.recommendation,
        started_at=review.started_at,
        updated_at=review.updated_at,
        completed_at=review.completed_at,
        locale=review.locale,
        outcome_reason=review.outcome_reason,
    )


def _merged(before: Answers, saved: Answers) -> Answers:
    """The answers as the database holds them after `saved` was upserted over `before`,
    in the order `ReviewRepo.answers` reads them (answered_at, then row id): the untouched
    ones, then those answered again (their rows, in their order), then the new rows; values
    as JSON gives them back. So a step needs no second read of what it just wrote."""
    stored = {qid: json.loads(json.dumps(value)) for qid, value in saved.items()}
    merged = {qid: value for qid, value in before.items() if qid not in stored}
    merged.update((qid, stored[qid]) for qid in before if qid in stored)
    merged.update((qid, value) for qid, value in stored.items() if qid not in before)
    return merged


def _store_answers(
    uow: UnitOfWork, review: Review, answers: Answers, *, touch: bool = True
) -> None:
    """Persist validated answers; keep the review's deal in step with the deal.* answers."""
    uow.reviews.save_answers(review, answers, touch=touch)
    name = answers.get("deal.name")
    if isinstance(name, str) and name.strip():
        deal = uow.deals.get_or_create(review.person, name)
        if review.deal_id != deal.id:
            uow.reviews.attach_deal(review, deal)
    if review.deal is not None:
        account = answers.get("deal.account")
        value = answers.get("deal.value")
        stage = answers.get("deal.stage")
        uow.deals.update_details(
            review.deal,
            account=account if isinstance(account, str) else None,
            value=float(value) if isinstance(value, int | float) else None,
            stage=stage if isinstance(stage, str) else None,
        )


def _previous(uow: UnitOfWork, review: Review) -> PreviousReview | None:
    if review.deal_id is None:
        return None
    for earlier in uow.reviews.deal_history(review.deal_id, exclude_review_id=review.id, limit=3):
        stored = uow.reviews.assessment(earlier.id)
        if stored is None:
            continue
        return PreviousReview(
            answers=uow.reviews.answers(earlier.id),
            assessment=Assessment.model_validate(stored.data),
        )
    return None


def _completed(
    uow: UnitOfWork,
    review: Review,
    *,
    assessment: Assessment,
    advice: AdviceModel,
    advice_text: str,
    created: bool,
    answers: Answers | None = None,
    steps: list[StepRow] | None = None,
) -> CompletedReview:
    """`steps`: the deal's plan steps when this transaction read them already."""
    answered = answers if answers is not None else uow.reviews.answers(review.id)
    return CompletedReview(
        review_id=review.id,
        assessment=assessment,
        advice=advice,
        advice_text=advice_text,
        created=created,
        deal_name=review.deal.name if review.deal is not None else None,
        locale=review.locale,
        deal_id=review.deal_id,
        plan_candidates=candidates_of(uow, review.id, review.deal_id, assessment, steps),
        owner_options=names_in(answered),
        earlier_notes=notes_before(uow, review) if created else (),
    )


def _completed_result(
    uow: UnitOfWork, review: Review, created: bool, answers: Answers | None = None
) -> CompletedReview:
    stored = uow.reviews.assessment(review.id)
    if stored is None or stored.advice is None:  # pragma: no cover - written together
        raise Conflict(f"review {review.id} is completed but its assessment is missing")
    return _completed(
        uow,
        review,
        assessment=Assessment.model_validate(stored.data),
        advice=AdviceModel.model_validate(stored.advice),
        advice_text=stored.advice_text or "",
        created=created,
        answers=answers,
    )


def _plan_of(uow: UnitOfWork, review: Review, steps: list[StepRow]) -> PlanStatus:
    """The close plan of the review's deal today (the rep's date), for the assessment."""
    return plan_status(uow, review.deal_id, local_today(review.person), steps)


# --- use cases: fn(uow, …) ------------------------------------------------------------------


def _new_draft(uow: UnitOfWork, person: Person, **fields: Any) -> Review:
    """`create_draft`, keeping at most `MAX_OPEN_DRAFTS` open drafts for the person."""
    review = uow.reviews.create_draft(person, **fields)
    uow.reviews.expire_drafts(person.id, keep=MAX_OPEN_DRAFTS)
    return review


def start_review(
    uow: UnitOfWork,
    actor: Actor,
    deal_name: str | None = None,
    default_locale: str = "en",
    locale: str | None = None,
) -> ReviewView:
    """A draft. Its locale: `locale` if given (e.g. `chat --lang`), else the person's.

    The person's open draft of the same deal (or, without a deal name, their open draft that
    has no deal yet) in that locale is returned instead of a second one, so "Start new"
    clicked 200 times or `review <deal>` sent 150 times leaves one draft. At most
    `MAX_OPEN_DRAFTS` drafts stay open per person (the least recently touched expire)."""
    person = resolve_person(uow, actor, default_locale)
    return _start(uow, actor, person, deal_name, default_locale, locale)


def _start(
    uow: UnitOfWork,
    actor: Actor,
    person: Person,
    deal_name: str | None,
    default_locale: str,
    locale: str | None,
    *,
    no_drafts: bool = False,
) -> ReviewView:
    """`start_review` for a resolved person. `no_drafts`: the caller holds the person's lock
    and found no open draft of theirs in this transaction, so there is none to return or
    expire (no queries for them)."""
    if locale is not None and known_locale(locale) is None:
        raise InputError(f"unknown language {locale!r} (allowed: {', '.join(LOCALES)})")
    locale = known_locale(locale) or locale_for(person, actor, default_locale)
    bank = load_bank(locale)
    answers: Answers = {}
    if deal_name is not None and deal_name.strip():
        answers = validate_answers(bank, {"deal.name": deal_name})
    uow.people.lock(person)  # one person's burst of clicks queues here
    name = answers.get("deal.name")
    deal = None
    if isinstance(name, str) and name and not no_drafts:
        deal = uow.deals.find(person.id, name)
    if (deal is not None or not answers) and not no_drafts:
        existing = uow.reviews.open_draft(person.id, deal.id if deal is not None else None)
        if existing is not None and existing.locale == locale:
            uow.reviews.touch(existing)
            return _view(uow, existing)
    # The deal first, so the draft is inserted with it (no UPDATE of the new row after).
    named = None
    if isinstance(name, str) and name:
        named = uow.deals.get_or_create(person, name, probe=not no_drafts)
    review = uow.reviews.create_draft(
        person,
        platform=actor.platform,
        locale=locale,
        content_version=bank.content_version,
        deal=named,
    )
    if not no_drafts:  # at most MAX_OPEN_DRAFTS drafts stay open
        uow.reviews.expire_drafts(person.id, keep=MAX_OPEN_DRAFTS)
    if answers:
        _store_answers(uow, review, answers)
    return _view(uow, review, answers=_merged({}, answers))


def find_draft(uow: UnitOfWork, actor: Actor) -> ReviewView | None:
    person = find_person(uow, actor)
    if person is None:
        return None
    draft = uow.reviews.latest_draft(person.id)
    return _view(uow, draft) if draft is not None else None


def get_review(
    uow: UnitOfWork, actor: Actor, review_id: int, people: int | None = None
) -> ReviewView:
    return _view(uow, _owned(uow, actor, review_id), people)


def save_answers(
    uow: UnitOfWork,
    actor: Actor,
    review_id: int,
    raw: Mapping[str, Any],
    people: int | None = None,
) -> ReviewView:
    review = _owned(uow, actor, review_id, lock=True)
    if review.status != "draft":
        raise Conflict("this review is already completed; use Update review to change it")
    answers = validate_answers(_bank(review), raw)
    _store_answers(uow, review, answers)
    return _view(uow, review, people)


def complete_review(
    uow: UnitOfWork, actor: Actor, review_id: int, idempotency_key: str | None = None
) -> CompletedReview:
    # The row lock makes concurrent completions of one review queue here; the first one
    # completes it, the others find it completed and return the same result.
    review = _owned(uow, actor, review_id, lock=True)
    return _complete(uow, review, idempotency_key)


def _complete(
    uow: UnitOfWork,
    review: Review,
    idempotency_key: str | None,
    answered: Answers | None = None,
) -> CompletedReview:
    """`complete_review` on a review already read with its lock (`answered`: its answers,
    when they were just read in this transaction)."""
    if review.status == "completed":
        return _completed_result(uow, review, created=False)
    if review.status != "draft":
        raise Conflict("this review was abandoned; start a new one")
    bank = _bank(review)
    stored = answered if answered is not None else uow.reviews.answers(review.id)
    answers = validate_answers(bank, stored, require_complete=True)
    steps = deal_steps(uow, review.deal_id)  # read once: the plan status and the candidates
    plan = _plan_of(uow, review, steps)
    assessment = assess(answers, bank.locale, bank=bank, plan_status=plan)
    advice = build_advice(
        bank, answers, assessment, previous=_previous(uow, review), plan_status=plan
    )
    text = render_text(advice, bank=bank)

    # Completed only if still a draft and no other review has the key (checked in the
    # UPDATE itself, and safe against a concurrent clash).
    done = uow.reviews.complete_once(
        review,
        idempotency_key=idempotency_key,
        quadrant=assessment.quadrant,
        recommendation=assessment.recommendation,
        flags=assessment.flags,
        assessment=assessment.model_dump(mode="json"),
        advice=advice.model_dump(mode="json"),
        advice_text=text,
    )
    if not done:
        fresh = uow.reviews.get_for_update(review.id)
        assert fresh is not None
        if fresh.status == "draft":  # still a draft: the key is another review's
            raise Conflict("this completion key was already used for another review")
        return _completed_result(uow, fresh, created=False)
    return _completed(
        uow,
        review,
        assessment=assessment,
        advice=advice,
        advice_text=text,
        created=True,
        answers=answers,
        steps=steps,
    )


@dataclass(frozen=True)
class SavedStep:
    """A step saved, and — when nothing is left to show — the review completed with it.

    `review.show` is the step to show next (None: nothing left). `completed`: the review's
    advice when this step completed it (`created=True`), or when the review had been
    completed already (a double submit, a retry, an old card: `created=False`, nothing was
    saved). `completed` is None with `review.show` None only when the completion met a
    Conflict (the key is another review's): the step stays saved, and `complete` says why.
    """

    review: ReviewView
    completed: CompletedReview | None


class InvalidStep(InvalidAnswers):
    """A step's answers need fixing; nothing was saved. An `InvalidAnswers` (`errors`:
    question id → message) that also carries the `review` as stored, whose `show` is the
    submitted step to show again (with what was typed and the errors) — so an adapter needs
    no second transaction to answer."""

    def __init__(self, errors: Mapping[str, str], review: ReviewView) -> None:
        super().__init__(dict(errors))
        self.review = review

    @property
    def locale(self) -> str:
        return self.review.locale

    @property
    def show(self) -> StepToShow | None:
        return self.review.show


def _round_shown(bank: QuestionBank, shown: list[str]) -> str | None:
    """The page the `shown` question ids were on, as its first round (`Step.round`): a
    revisit goes on with the page after it, never with a later round of the same page."""
    for qid in shown:
        question = bank.questions.get(qid)
        if question is not None:
            return str(bank.page_of(question.round)[0])
    return None


def _step_again(
    bank: QuestionBank, answers: Answers, shown: list[str], people: int | None
) -> Step | None:
    """The step that showed the question ids `shown`, to show again: the machine's next step
    when that is what was shown, else the questions of their round as `step_for_round` shows
    them (with as many people as were shown)."""
    questions = [bank.questions[qid] for qid in shown if qid in bank.questions]
    if not questions:
        return None
    upcoming = next_step(bank, answers, people)
    if upcoming is not None and set(upcoming.question_ids) == {q.id for q in questions}:
        return upcoming
    persons = max((q.person or 0 for q in questions), default=0)
    whole = step_for_round(bank, answers, questions[0].round, max(persons, people or 0) or None)
    return whole.model_copy(update={"questions": tuple(questions)})


def _invalid_step(
    uow: UnitOfWork,
    review: Review,
    err: InvalidAnswer | InvalidAnswers,
    shown: list[str],
    people: int | None,
    answers: Answers,
) -> InvalidStep:
    errors = err.errors if isinstance(err, InvalidAnswers) else {err.question_id: err.reason}
    step = _step_again(_bank(review), answers, shown, people)
    return InvalidStep(errors, _view(uow, review, people, step=step, answers=answers))


def _already_completed(uow: UnitOfWork, review: Review, answers: Answers) -> SavedStep:
    return SavedStep(
        _view(uow, review, answers=answers),
        _completed_result(uow, review, created=False, answers=answers),
    )


def save_step(
    uow: UnitOfWork,
    actor: Actor,
    review_id: int,
    raw: Mapping[str, Any],
    idempotency_key: str,
    shown: list[str] | None = None,
    people: int | None = None,
) -> SavedStep:
    """A submitted step in one transaction: its answers saved; then what to show next
    (`review.show`: the machine's next step with `people` decision-makers, else the rounds
    after the round of the `shown` question ids walked again); when nothing is left, the
    review completed with `idempotency_key` (`completed`).

    A review completed already is not touched: its advice comes back with `created=False`.
    Answers that need fixing raise `InvalidStep` (nothing saved; the step to show again on
    it). A completion that meets a Conflict is not attempted here (the step stays saved;
    `completed` stays None and the adapter's `complete` reports it)."""
    found = uow.reviews.get_for_update_with_answers(review_id)  # one read: review + answers
    if found is None:
        raise NotFound(f"review {review_id} does not exist")
    review, before = found
    _check_owner(uow, actor, review)
    if review.status == "completed":
        return _already_completed(uow, review, before)
    if review.status != "draft":
        raise Conflict("this review was abandoned; start a new one")
    bank = _bank(review)
    shown_ids = list(shown or raw)
    # A follow-up this page decides whose condition does not hold for the page's values
    # (margin changed back from below cost, on any platform) is neither saved nor kept: an
    # answer from before is removed, so the machine can ask it again if the trigger returns.
    stale = set(settle_page(bank, shown_ids, raw).not_applying)
    try:
        answers = validate_answers(bank, {k: v for k, v in raw.items() if k not in stale})
    except (InvalidAnswer, InvalidAnswers) as err:
        raise _invalid_step(uow, review, err, shown_ids, people, before) from err
    # Not touched yet: a step that completes the review sets updated_at with the completion.
    _store_answers(uow, review, answers, touch=False)
    gone = [qid for qid in before if qid in stale]
    if gone:
        uow.reviews.delete_answers(review, gone)
        before = {qid: value for qid, value in before.items() if qid not in stale}
    stored = _merged(before, answers)
    after_round = _round_shown(bank, shown_ids)
    view = _view(uow, review, people, after_round=after_round, answers=stored)
    if view.show is not None:
        uow.reviews.touch(review)
        return SavedStep(view, None)
    try:  # (_complete writes nothing before a Conflict, or rolls its savepoint back)
        completed = _complete(uow, review, idempotency_key, answered=stored)
    except Conflict:
        uow.reviews.touch(review)
        return SavedStep(view, None)
    done = replace(
        view,
        status=review.status,
        completed_at=review.completed_at,
        quadrant=review.quadrant,
        recommendation=review.recommendation,
    )
    return SavedStep(done, completed)


def add_person(uow: UnitOfWork, actor: Actor, review_id: int, people: int) -> ReviewView:
    """*Add a decision-maker*: the agenda round shown whole again with `people`
    decision-makers (at most the bank's maximum; `show`), prefilled from the saved answers.

    Nothing is saved: what was typed on the step is the adapter's to show back, and it is
    checked and saved with the step when that is submitted (a blank required field or a
    number still being typed cannot be saved half-way)."""
    review = _owned(uow, actor, review_id)
    if review.status == "completed":
        raise Conflict("this review is already completed; use Update review to change it")
    if review.status != "draft":
        raise Conflict("this review was abandoned; start a new one")
    answers = uow.reviews.answers(review.id)
    step = step_for_round(_bank(review), answers, "agenda", max(people, 1))
    return _view(uow, review, people, step=step)


def open_or_start(
    uow: UnitOfWork, actor: Actor, deal_name: str | None = None, default_locale: str = "en"
) -> Opened:
    """`find_draft`, and `start_review` when there is none, in one transaction."""
    person = resolve_person(uow, actor, default_locale)
    uow.people.lock(person)  # before the look for a draft: a burst of commands queues here
    draft = uow.reviews.latest_draft(person.id)
    if draft is not None:
        return Opened(draft=_view(uow, draft), review=None)
    review = _start(uow, actor, person, deal_name, default_locale, None, no_drafts=True)
    return Opened(draft=None, review=review)


def reopen_review(uow: UnitOfWork, actor: Actor, review_id: int) -> ReviewView:
    """ "Update review": a new draft prefilled with a completed review's answers. Asking
    twice returns the same draft."""
    review = _owned(uow, actor, review_id, lock=True)
    if review.status == "draft":
        return _view(uow, review)
    if review.status != "completed":
        raise Conflict("only a completed review can be updated")
    existing = uow.reviews.reopened_draft(review.id)
    if existing is not None:
        return _view(uow, existing)
    person = review.person
    bank = load_bank(locale_for(person, actor))
    draft = _new_draft(
        uow,
        person,
        platform=actor.platform,
        locale=bank.locale,
        content_version=bank.content_version,
        deal=review.deal,
        reopened_from=review,
    )
    previous = uow.reviews.answers(review.id)
    # Answers that no longer fit the current question bank are dropped, not copied wrongly.
    keep: Answers = {}
    for qid, value in previous.items():
        try:
            keep.update(validate_answers(bank, {qid: value}))
        except InputError:
            continue
    _store_answers(uow, draft, keep)
    return _view(uow, draft)


def review_history(
    uow: UnitOfWork, actor: Actor, limit: int = 10, status: str | None = None
) -> list[ReviewSummary]:
    person = find_person(uow, actor)
    if person is None:
        return []
    return [_summary(r) for r in uow.reviews.for_person(person.id, status=status, limit=limit)]


def record_outcome(
    uow: UnitOfWork,
    actor: Actor,
    review_id: int,
    outcome: str,
    reason: str | None = None,
    reason_text: str | None = None,
) -> ReviewSummary:
    """The deal's outcome; for `lost` / `walked_away` also why (`reason`, one of
    `LOSS_REASONS`, and an optional `reason_text`), stored in the same transaction on the
    deal's last completed review (`services.insights.record_outcome_reason`). A reason for
    another outcome, or one not in `LOSS_REASONS`, is refused (`PlanInvalid`, an
    `InputError`: `invalid.not_lost` / `invalid.reason` in plan.yaml) and nothing is stored."""
    if outcome not in OUTCOMES:
        raise InputError(f"unknown outcome {outcome!r} (allowed: {', '.join(OUTCOMES)})")
    if reason is not None and reason not in LOSS_REASONS:
        raise PlanInvalid("reason", f"reason must be one of {', '.join(LOSS_REASONS)}")
    if (reason is not None or reason_text) and outcome not in LOST_OUTCOMES:
        raise PlanInvalid("not_lost", "a reason is recorded only for a lost deal")
    if reason is None and reason_text:
        raise PlanInvalid("reason", f"pick a reason ({', '.join(LOSS_REASONS)}) for the text")
    review = _owned(uow, actor, review_id)
    if review.status != "completed":
        # An outcome belongs to a deal's assessed review; a draft holds no assessment yet
        # (issue #11 item 13: an outcome must never complete a draft on empty answers).
        raise Conflict(
            f"review {review.id} is not finished yet; record the outcome after its advice"
        )
    if review.deal is None:
        raise Conflict("this review has no deal yet; answer deal.name first")
    uow.deals.set_outcome(review.deal, outcome)
    uow.flush()
    if reason is None:
        return _summary(review)
    # (imported here: services.insights reaches the digest, which reaches back to reviews)
    from dealcoach.services.insights import record_outcome_reason

    record_outcome_reason(uow, actor, review.id, reason, reason_text)
    return replace(_summary(review), outcome_reason=reason)


def _already_shared(actor: Actor, review: Review) -> AlreadyShared:
    surface = "teams" if actor.platform == "teams" else "slack"
    return AlreadyShared(translate(surface, review.locale, "share.already", review=review.id))


def share_review(
    uow: UnitOfWork, actor: Actor, review_id: int, default_locale: str = "en"
) -> SharedReview:
    """A completed review's advice and the reviewer's manager, for "Share with my manager".

    `NotFound` / `Forbidden` as everywhere; a draft cannot be shared (`Conflict`). A manager
    in another workspace or on another platform cannot be reached from here: `manager=None`.
    A review is shared once: when a reachable manager is returned the share is recorded, and
    asking again raises `AlreadyShared` (its message in the review's language). An adapter
    that then fails to deliver calls `release_share`, so the user can try again.
    """
    review = _owned(uow, actor, review_id, lock=True)
    if review.status == "draft":
        raise Conflict("finish the review first; then you can share its advice")
    if review.status != "completed":
        raise Conflict("this review was abandoned; there is no advice to share")
    if review.shared_at is not None:
        raise _already_shared(actor, review)
    done = _completed_result(uow, review, created=False)
    person = review.person
    manager = uow.reporting.manager_of(person.id)
    contact = None
    if manager is not None and manager.workspace_id == person.workspace_id:
        workspace = manager.workspace
        contact = ManagerContact(
            platform=workspace.platform,
            workspace_id=workspace.external_id,
            user_id=manager.user_id,
            display_name=manager.display_name,
            locale=known_locale(manager.locale)
            or known_locale(workspace.default_locale)
            or default_locale,
            conversation_ref=manager.teams_conversation_ref,
        )
    reachable = contact is not None and (
        contact.platform != "teams" or contact.conversation_ref is not None
    )
    if reachable and not uow.reviews.claim_share(review):
        raise _already_shared(actor, review)
    return SharedReview(
        review_id=review.id,
        locale=done.locale,
        deal_name=done.deal_name,
        assessment=done.assessment,
        advice=done.advice,
        manager=contact,
    )


def release_share(uow: UnitOfWork, actor: Actor, review_id: int) -> None:
    """The shared review could not be delivered: let the user share it again."""
    uow.reviews.release_share(_owned(uow, actor, review_id, lock=True))


def set_locale(uow: UnitOfWork, actor: Actor, locale: str) -> str:
    chosen = known_locale(locale)
    if chosen is None:
        raise InputError(f"unknown language {locale!r} (allowed: {', '.join(LOCALES)})")
    person = resolve_person(uow, actor)
    uow.people.set_locale(person, chosen)
    return chosen


# --- the services ---------------------------------------------------------------------------


class ReviewService:
    """Review use cases on the synchronous store (CLI, scripts, tests)."""

    def __init__(self, store: Store, *, default_locale: str = "en") -> None:
        self.store = store
        self.default_locale = default_locale

    def start(
        self, actor: Actor, deal_name: str | None = None, *, locale: str | None = None
    ) -> ReviewView:
        return self.store.run(start_review, actor, deal_name, self.default_locale, locale)

    def find_draft(self, actor: Actor) -> ReviewView | None:
        return self.store.run(find_draft, actor)

    def open_or_start(self, actor: Actor, deal_name: str | None = None) -> Opened:
        return self.store.run(open_or_start, actor, deal_name, self.default_locale)

    def get(self, actor: Actor, review_id: int, people: int | None = None) -> ReviewView:
        return self.store.run(get_review, actor, review_id, people)

    def save_step(
        self,
        actor: Actor,
        review_id: int,
        raw: Mapping[str, Any],
        idempotency_key: str,
        shown: list[str] | None = None,
        people: int | None = None,
    ) -> SavedStep:
        return self.store.run(save_step, actor, review_id, raw, idempotency_key, shown, people)

    def add_person(self, actor: Actor, review_id: int, people: int) -> ReviewView:
        return self.store.run(add_person, actor, review_id, people)

    def save_answers(
        self, actor: Actor, review_id: int, raw: Mapping[str, Any], people: int | None = None
    ) -> ReviewView:
        return self.store.run(save_answers, actor, review_id, raw, people)

    def complete(
        self, actor: Actor, review_id: int, idempotency_key: str | None = None
    ) -> CompletedReview:
        return self.store.run(complete_review, actor, review_id, idempotency_key)

    def reopen(self, actor: Actor, review_id: int) -> ReviewView:
        return self.store.run(reopen_review, actor, review_id)

    def history(
        self, actor: Actor, limit: int = 10, status: str | None = None
    ) -> list[ReviewSummary]:
        return self.store.run(review_history, actor, limit, status)

    def record_outcome(
        self,
        actor: Actor,
        review_id: int,
        outcome: str,
        reason: str | None = None,
        reason_text: str | None = None,
    ) -> ReviewSummary:
        return self.store.run(record_outcome, actor, review_id, outcome, reason, reason_text)

    def set_locale(self, actor: Actor, locale: str) -> str:
        return self.store.run(set_locale, actor, locale)

    def locale_for(self, actor: Actor) -> str:
        """The person's language, else the platform's (Slack/Teams locale), else the default."""
        return self.store.run(actor_locale, actor, self.default_locale)

    def share(self, actor: Actor, review_id: int) -> SharedReview:
        return self.store.run(share_review, actor, review_id, self.default_locale)

    def release_share(self, actor: Actor, review_id: int) -> None:
        self.store.run(release_share, actor, review_id)


class AsyncReviewService:
    """The same use cases for the asyncio server: each runs in `AsyncStore.run`."""

    def __init__(self, store: AsyncStore, *, default_locale: str = "en") -> None:
        self.store = store
        self.default_locale = default_locale

    async def start(
        self, actor: Actor, deal_name: str | None = None, *, locale: str | None = None
    ) -> ReviewView:
        return await self.store.run(start_review, actor, deal_name, self.default_locale, locale)

    async def find_draft(self, actor: Actor) -> ReviewView | None:
        return await self.store.run(find_draft, actor)

    async def open_or_start(self, actor: Actor, deal_name: str | None = None) -> Opened:
        return await self.store.run(open_or_start, actor, deal_name, self.default_locale)

    async def save_step(
        self,
        actor: Actor,
        review_id: int,
        raw: Mapping[str, Any],
        idempotency_key: str,
        shown: list[str] | None = None,
        people: int | None = None,
    ) -> SavedStep:
        return await self.store.run(
            save_step, actor, review_id, raw, idempotency_key, shown, people
        )

    async def add_person(self, actor: Actor, review_id: int, people: int) -> ReviewView:
        return await self.store.run(add_person, actor, review_id, people)

    async def get(self, actor: Actor, review_id: int, people: int | None = None) -> ReviewView:
        return await self.store.run(get_review, actor, review_id, people)

    async def save_answers(
        self, actor: Actor, review_id: int, raw: Mapping[str, Any], people: int | None = None
    ) -> ReviewView:
        return await self.store.run(save_answers, actor, review_id, raw, people)

    async def complete(
        self, actor: Actor, review_id: int, idempotency_key: str | None = None
    ) -> CompletedReview:
        return await self.store.run(complete_review, actor, review_id, idempotency_key)

    async def reopen(self, actor: Actor, review_id: int) -> ReviewView:
        return await self.store.run(reopen_review, actor, review_id)

    async def history(
        self, actor: Actor, limit: int = 10, status: str | None = None
    ) -> list[ReviewSummary]:
        return await self.store.run(review_history, actor, limit, status)

    async def record_outcome(
        self,
        actor: Actor,
        review_id: int,
        outcome: str,
        reason: str | None = None,
        reason_text: str | None = None,
    ) -> ReviewSummary:
        return await self.store.run(record_outcome, actor, review_id, outcome, reason, reason_text)

    async def set_locale(self, actor: Actor, locale: str) -> str:
        return await self.store.run(set_locale, actor, locale)

    async def locale_for(self, actor: Actor) -> str:
        """The person's language, else the platform's (Slack/Teams locale), else the default."""
        return await self.store.run(actor_locale, actor, self.default_locale)

    async def share(self, actor: Actor, review_id: int) -> SharedReview:
        return await self.store.run(share_review, actor, review_id, self.default_locale)

    async def release_share(self, actor: Actor, review_id: int) -> None:
        await self.store.run(release_share, actor, review_id)


# --- a page's follow-ups, settled on screen (pure: no transaction) ---------------------------
# For a platform that can change a page while it is filled in (Slack's `dispatch_action`): its
# listener for a changed choice answers without the database, so these take the bank and what
# is on screen, never a unit of work. The review's steps are still decided by the functions
# above on every submission: a follow-up left unanswered comes in its follow-up step.


def followup_triggers(bank: QuestionBank, shown: Sequence[str]) -> frozenset[str]:
    """The question ids among `shown` (one page, as the adapter shows it) whose answer decides
    whether a follow-up of the same page is asked (`benefit.margin`, `agenda.N.role`, …)."""
    return page_triggers(bank, shown)


def _on_screen(bank: QuestionBank, raw: Mapping[str, Any]) -> Answers:
    """`raw` read as it would be saved, leniently: nothing is saved from here, so a value that
    would not validate (a number still being typed) is taken as it is."""
    values: Answers = {}
    for qid, value in raw.items():
        question = bank.questions.get(qid)
        if question is None:
            continue
        try:
            values[qid] = validate_answer(question, value)
        except InvalidAnswer:
            values[qid] = value
    return values


def settle_page(bank: QuestionBank, shown: Sequence[str], raw: Mapping[str, Any]) -> SettledPage:
    """The page showing the question ids `shown` (in order) as it should look for `raw`, the
    values on screen (not saved): the follow-ups that apply right after their trigger, those
    that no longer apply taken off (`SettledPage`)."""
    return settle_followups(bank, shown, _on_screen(bank, raw))


def page_answers(
    bank: QuestionBank, shown: Sequence[str], raw: Mapping[str, Any]
) -> dict[str, Any]:
    """The answers to save from a submitted page showing `shown`: `raw`, with every follow-up
    the page decides whose condition does not hold for the page's own values set blank — one
    still on screen (an outdated view) is not saved as a contradiction, and `save_step`
    removes one answered before (a reopened review whose trigger was changed on this page).
    A follow-up that applies but is not on the page is left out: the machine asks it next."""
    out = dict(raw)
    for qid in settle_page(bank, shown, raw).not_applying:
        out[qid] = None
    return out
