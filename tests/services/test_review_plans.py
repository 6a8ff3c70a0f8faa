"""services/reviews.py and the close plan (issue 15), SQLite and PostgreSQL: completing a review
assesses the deal with its real plan (no plan on a late-stage deal → "agree a close plan"; a
customer step past its date → `plan_slipping`), the advice carries the committee coverage line
and the plan's progress, escaped for every flavour and in Dutch; `CompletedReview` offers the
moves for *Add to plan* with the index `add_from_action` takes; *Record outcome* stores why a
deal was lost in the same transaction, and refuses a reason that is not one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dealcoach.coach.advice import render_advice
from dealcoach.errors import InputError
from dealcoach.services.actors import Actor
from dealcoach.services.plans import PlanInvalid, PlanService
from dealcoach.services.reviews import (
    LOSS_REASONS,
    AsyncReviewService,
    CompletedReview,
    ReviewService,
    loss_reason_label,
)
from dealcoach.store import AsyncStore, Store
from dealcoach.store.models import Review

from .conftest import ANN, BOB, FULL_ANSWERS

# A closing deal with three decision-makers: Dana the economic buyer, a champion whose
# name tries to ping the channel, and Gerard, who is against us.
CLOSING: dict[str, Any] = {
    **FULL_ANSWERS,
    "deal.stage": "closing",
    "agenda.1.who": "Dana (CFO)",
    "agenda.2.who": "<!channel> *Ans*",
    "agenda.2.role": "champion",
    "agenda.2.certainty": "assumed",
    "agenda.2.champion_access": "no",
    "agenda.2.champion_sells": "unknown",
    "agenda.3.who": "Gerard, IT lead",
    "agenda.3.role": "technical",
    "agenda.3.certainty": "unknown",
    "agenda.3.stance": "against",
}


def _complete(service: ReviewService, who: Actor, answers: dict[str, Any]) -> CompletedReview:
    view = service.start(who, str(answers["deal.name"]))
    service.save_answers(who, view.review_id, answers)
    return service.complete(who, view.review_id, f"k:{who.user_id}:{view.review_id}")


def _again(service: ReviewService, who: Actor, review_id: int) -> CompletedReview:
    draft = service.reopen(who, review_id)
    return service.complete(who, draft.review_id, f"again:{draft.review_id}")


def test_no_plan_on_a_closing_deal_asks_for_one_and_the_advice_shows_coverage(
    service: ReviewService,
) -> None:
    simple = _complete(service, BOB, {**FULL_ANSWERS, "deal.stage": "closing"})
    moves = simple.assessment.actions + simple.assessment.later
    agree = next(a for a in moves if a.rule == "plan.missing_late_stage")
    assert agree.text.startswith("Agree a mutual close plan with Carla")
    assert (
        simple.advice.coverage_line
        == "1 of 1 agenda confirmed · no champion, user or technical buyer yet"
    )

    done = _complete(service, ANN, CLOSING)
    assert "plan.missing_late_stage" in done.assessment.rules  # fired, less urgent than these
    assert "plan_slipping" not in done.assessment.flags
    advice = done.advice
    assert advice.coverage_line == ("1 of 3 agendas confirmed · no user yet · 1 against (Gerard)")
    assert advice.plan_progress is None  # no plan yet: no progress line
    assert "Coverage: 1 of 3 agendas confirmed" in done.advice_text
    assert "Close plan:" not in done.advice_text
    # the line sits in the agenda section: the adapters need no new section
    for flavor in ("text", "slack", "teams"):
        rendered = render_advice(advice, flavor)
        agenda = next(s for s in rendered.sections if s.id == "agenda")
        assert "1 of 3 agendas confirmed" in agenda.body
        assert "<!channel>" not in rendered.fallback or flavor == "text"


def test_a_stage_before_negotiation_without_a_plan_changes_nothing(
    service: ReviewService,
) -> None:
    done = _complete(service, ANN, {**FULL_ANSWERS, "deal.stage": "proposal"})
    rules = [a.rule for a in done.assessment.actions + done.assessment.later]
    assert not [r for r in rules if r.startswith("plan.")]
    assert done.advice.plan_progress is None


def test_the_plan_reaches_the_next_review_and_its_advice(service: ReviewService) -> None:
    first = _complete(service, ANN, CLOSING)
    assert first.deal_id is not None
    plans = PlanService(service.store)
    past = datetime.now(UTC) - timedelta(days=20)
    plans.add_step(
        ANN,
        first.deal_id,
        "Sign the order form",
        owner_kind="customer",
        owner_name="Dana",
        due_on=(past + timedelta(days=2)).date(),
        now=past,
    )
    plans.add_from_action(ANN, first.review_id, 0)

    second = _again(service, ANN, first.review_id)
    assert "plan_slipping" in second.assessment.flags
    moves = second.assessment.actions + second.assessment.later
    slipping = next(a for a in moves if a.rule == "plan.slipping")
    assert "Dana" in slipping.text and "Sign the order form" in slipping.text
    assert "plan.missing_late_stage" not in [a.rule for a in moves]
    assert second.advice.plan_progress == (
        "0 of 2 steps done, 1 overdue, 1 of them on the customer's side"
    )
    assert "Close plan: 0 of 2 steps done, 1 overdue" in second.advice_text
    actions = next(s for s in render_advice(second.advice, "slack").sections if s.id == "actions")
    assert actions.body.endswith(
        "*Close plan:* 0 of 2 steps done, 1 overdue, 1 of them on the customer's side"
    )


def test_plan_candidates_match_add_from_action(service: ReviewService) -> None:
    done = _complete(service, ANN, CLOSING)
    moves = done.assessment.actions + done.assessment.later
    assert [c.index for c in done.plan_candidates] == list(range(len(moves)))
    assert [(c.text, c.rule) for c in done.plan_candidates] == [(a.text, a.rule) for a in moves]
    assert [c.later for c in done.plan_candidates] == [False] * len(done.assessment.actions) + [
        True
    ] * len(done.assessment.later)
    assert not any(c.in_plan for c in done.plan_candidates)
    assert done.owner_options == ("Dana", "<!channel> *Ans*", "Gerard")

    last = done.plan_candidates[-1]
    step = PlanService(service.store).add_from_action(ANN, done.review_id, last.index).step
    assert (step.text, step.rule) == (last.text, last.rule)
    # the advice opened again (a retry, an old button) knows it is in the plan now
    again = service.complete(ANN, done.review_id)
    assert again.created is False and again.deal_id == done.deal_id
    assert [c.in_plan for c in again.plan_candidates] == [False] * (len(moves) - 1) + [True]
    assert again.owner_options == done.owner_options


def test_dutch_advice_has_the_lines_in_dutch(service: ReviewService) -> None:
    service.set_locale(BOB, "nl")
    done = _complete(service, BOB, CLOSING)
    assert done.locale == "nl"
    assert done.advice.coverage_line == (
        "1 van 3 agenda's bevestigd · nog geen gebruiker · 1 tegen (Gerard)"
    )
    assert "Dekking: 1 van 3 agenda's bevestigd" in done.advice_text
    PlanService(service.store).add_from_action(BOB, done.review_id, 0)
    second = _again(service, BOB, done.review_id)
    assert "Afsluitplan: 0 van 1 stap gedaan" in second.advice_text


def _reason_of(service: ReviewService, review_id: int) -> tuple[str | None, str | None]:
    with service.store.unit_of_work() as uow:
        review = uow.session.get(Review, review_id)
        assert review is not None
        return review.outcome_reason, review.outcome_reason_text


def test_record_outcome_stores_the_loss_reason_in_one_go(service: ReviewService) -> None:
    done = _complete(service, ANN, CLOSING)
    summary = service.record_outcome(
        ANN, done.review_id, "lost", reason="competitor", reason_text="They went with Globex"
    )
    assert (summary.outcome, summary.outcome_reason) == ("lost", "competitor")
    assert _reason_of(service, done.review_id) == ("competitor", "They went with Globex")
    # walked away, a new reason: one reason per deal
    service.record_outcome(ANN, done.review_id, "walked_away", reason="price")
    assert _reason_of(service, done.review_id) == ("price", None)
    # lost without a reason is still allowed (the reason is optional)
    assert service.record_outcome(ANN, done.review_id, "lost").outcome == "lost"


@pytest.mark.parametrize(
    ("outcome", "reason", "text", "key"),
    [
        ("lost", "too_expensive", None, "reason"),
        ("won", "price", None, "not_lost"),
        ("open", None, "no budget", "not_lost"),
        ("lost", None, "no budget", "reason"),
        ("lost", "other", "x" * 301, "reason_text"),
    ],
)
def test_a_wrong_reason_is_refused_and_nothing_is_stored(
    service: ReviewService, outcome: str, reason: str | None, text: str | None, key: str
) -> None:
    done = _complete(service, ANN, CLOSING)
    with pytest.raises(PlanInvalid) as err:
        service.record_outcome(ANN, done.review_id, outcome, reason=reason, reason_text=text)
    assert isinstance(err.value, InputError) and err.value.key == key
    [summary] = service.history(ANN)
    assert summary.outcome == "open"  # the outcome itself rolled back too
    assert _reason_of(service, done.review_id) == (None, None)


def test_someone_else_cannot_record_a_reason(service: ReviewService) -> None:
    done = _complete(service, ANN, CLOSING)
    with pytest.raises(Exception) as err:
        service.record_outcome(BOB, done.review_id, "lost", reason="price")
    assert type(err.value).__name__ in {"Forbidden", "PlanRefused"}
    assert _reason_of(service, done.review_id) == (None, None)


def test_loss_reasons_and_their_words() -> None:
    assert LOSS_REASONS == ("price", "no_decision", "competitor", "timing", "fit", "other")
    assert [loss_reason_label("en", r) for r in LOSS_REASONS] == [
        "Price",
        "No decision",
        "Competitor",
        "Timing",
        "Fit",
        "Other",
    ]
    assert all(loss_reason_label("nl", r) for r in LOSS_REASONS)
    assert loss_reason_label("nl", "other") == "Overig"
    with pytest.raises(InputError):
        loss_reason_label("en", "nope")


async def test_the_async_service_records_a_reason_and_offers_candidates(
    database_url: str, store: Store
) -> None:
    astore = AsyncStore(database_url)
    service = AsyncReviewService(astore)
    try:
        view = await service.start(ANN, "Acme rollout")
        await service.save_answers(ANN, view.review_id, CLOSING)
        done = await service.complete(ANN, view.review_id, "async")
        assert done.plan_candidates and done.owner_options and done.deal_id is not None
        summary = await service.record_outcome(ANN, view.review_id, "lost", "timing", "Q3")
        assert summary.outcome_reason == "timing"
    finally:
        await astore.dispose()
    assert _reason_of(ReviewService(store), view.review_id) == ("timing", "Q3")
