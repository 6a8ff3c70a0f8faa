"""services/plans.py for the adapters' *Add to plan* and `/dealcoach plan` (SQLite and
PostgreSQL): the read-only form of a review (`review_candidates`), an edited move's text, the
same step never twice (by hand, from another review of the deal, concurrent submits), and the
deal picker (`plan_deals`: open deals with or without a plan, most recently reviewed first)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

import pytest

from dealcoach.errors import NotFound
from dealcoach.services.plans import (
    AsyncPlanService,
    PlanInvalid,
    PlanRefused,
    PlanService,
)
from dealcoach.services.reviews import ReviewService
from dealcoach.store import AsyncStore, Store

from .conftest import CLOSING, complete, deal_of, rep

MONDAY_10 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)  # 10:00 in Amsterdam


def test_review_candidates_is_the_add_to_plan_form(store: Store) -> None:
    rob = rep()
    review = complete(store, rob, "Acme renewal", CLOSING)
    service = PlanService(store)
    form = service.review_candidates(rob, review, now=MONDAY_10)
    done = ReviewService(store).complete(rob, review)  # the advice opened again
    assert form.deal_id == deal_of(store, review) == done.deal_id
    assert (form.deal_name, form.locale) == ("Acme renewal", "en")
    assert form.candidates == done.plan_candidates
    moves = done.assessment.actions + done.assessment.later
    assert [(c.index, c.text, c.rule) for c in form.candidates] == [
        (i, m.text, m.rule) for i, m in enumerate(moves)
    ]
    assert form.owner_options == ("Dana", "Ans de Vries", "Gerard") == done.owner_options
    assert form.default_due == date(2026, 6, 8)  # a week on, a Monday
    assert not any(c.in_plan for c in form.candidates)

    service.add_from_action(rob, review, 1, now=MONDAY_10)
    after = service.review_candidates(rob, review, now=MONDAY_10)
    assert [c.in_plan for c in after.candidates] == [i == 1 for i in range(len(moves))]

    for who in (rep("UEVE"), rep("USTRANGER")):
        with pytest.raises(PlanRefused):
            service.review_candidates(who, review)
    with pytest.raises(NotFound):
        service.review_candidates(rob, 999_999)
    # a draft has no moves yet
    draft = ReviewService(store).reopen(rob, review)
    empty = service.review_candidates(rob, draft.review_id, now=MONDAY_10)
    assert empty.candidates == () and empty.owner_options == form.owner_options


def test_an_edited_move_keeps_its_rule(store: Store) -> None:
    rob = rep()
    review = complete(store, rob, "Acme renewal", CLOSING)
    service = PlanService(store)
    form = service.review_candidates(rob, review, now=MONDAY_10)
    edited = service.add_from_action(
        rob,
        review,
        0,
        text="  Call Dana   on Tuesday about the order form ",
        owner_kind="customer",
        owner_name="Dana",
        now=MONDAY_10,
    )
    assert edited.changed and edited.step.text == "Call Dana on Tuesday about the order form"
    assert edited.step.rule == form.candidates[0].rule
    assert edited.step.from_review_id == review
    again = service.add_from_action(
        rob, review, 0, text="Call Dana on Tuesday about the order form", now=MONDAY_10
    )
    assert not again.changed and again.step.step_id == edited.step.step_id
    for bad, key in (("", "empty"), ("x" * 301, "too_long"), ("a\x00b", "bad_text")):
        with pytest.raises(PlanInvalid) as err:
            service.add_from_action(rob, review, 0, text=bad, now=MONDAY_10)
        assert err.value.key == key


def test_the_same_step_is_never_added_twice(store: Store) -> None:
    rob = rep()
    first = complete(store, rob, "Acme renewal", CLOSING)
    deal = deal_of(store, first)
    service = PlanService(store)
    by_hand = service.add_step(rob, deal, "Send the security answers", now=MONDAY_10)
    again = service.add_step(rob, deal, " Send the  security answers", now=MONDAY_10)
    assert by_hand.changed and not again.changed
    assert again.step.step_id == by_hand.step.step_id
    assert again.message == "That step is already in the plan of Acme renewal."
    # done: a new one by hand is a new step (the same call again, next week)
    service.mark_done(rob, by_hand.step.step_id, now=MONDAY_10)
    next_week = service.add_step(rob, deal, "Send the security answers", now=MONDAY_10)
    assert next_week.changed and next_week.step.step_id != by_hand.step.step_id

    # the next review of the deal offers the same move: it is in the plan already
    moved = service.add_from_action(rob, first, 0, now=MONDAY_10)
    second = ReviewService(store).reopen(rob, first)
    redone = ReviewService(store).complete(rob, second.review_id, "second")
    index = next(c.index for c in redone.plan_candidates if c.text == moved.step.text)
    assert redone.plan_candidates[index].in_plan
    same = service.add_from_action(rob, redone.review_id, index, now=MONDAY_10)
    assert not same.changed and same.step.step_id == moved.step.step_id
    assert service.deal_plan(rob, deal, now=MONDAY_10).progress.total == 3


def test_concurrent_submits_make_one_step(store: Store) -> None:
    rob = rep()
    deal = deal_of(store, complete(store, rob, "Acme renewal", CLOSING))
    service = PlanService(store)
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(
            pool.map(
                lambda _: service.add_step(rob, deal, "Book the demo", now=MONDAY_10), range(6)
            )
        )
    assert sum(r.changed for r in results) == 1
    assert len({r.step.step_id for r in results}) == 1
    assert service.deal_plan(rob, deal, now=MONDAY_10).progress.total == 1


def test_plan_deals_lists_open_deals_with_or_without_a_plan(store: Store) -> None:
    rob = rep()
    old = complete(store, rob, "Old deal", CLOSING)
    newer = complete(store, rob, "Newer deal", CLOSING)
    lost = complete(store, rob, "Lost deal", CLOSING)
    ReviewService(store).record_outcome(rob, lost, "lost", reason="price")
    service = PlanService(store)
    service.add_step(rob, deal_of(store, old), "Call Dana", now=MONDAY_10)
    deals = service.plan_deals(rob, now=MONDAY_10)
    assert [d.deal_name for d in deals] == ["Newer deal", "Old deal"]
    assert [d.progress.total for d in deals] == [0, 1]
    assert deals[0].stage == "closing"
    assert service.plan_deals(rob, limit=1, now=MONDAY_10)[0].deal_name == "Newer deal"
    assert service.plan_deals(rep("USTRANGER")) == []
    # App Home's my_plans keeps listing only deals that have a plan
    assert [p.deal_name for p in service.my_plans(rob, now=MONDAY_10)] == ["Old deal"]
    assert newer  # (completed for the order above)


async def test_the_async_service_has_the_same_reads(database_url: str, store: Store) -> None:
    rob = rep()
    review = complete(store, rob, "Acme renewal", CLOSING)
    astore = AsyncStore(database_url)
    service = AsyncPlanService(astore)
    try:
        form = await service.review_candidates(rob, review, now=MONDAY_10)
        assert form.candidates and form.default_due == date(2026, 6, 8)
        added = await service.add_from_action(rob, review, 0, text="Call Dana", now=MONDAY_10)
        assert [d.deal_name for d in await service.plan_deals(rob, now=MONDAY_10)] == [
            "Acme renewal"
        ]
        history = await service.history(rob, added.step.step_id)
        assert [e.kind for e in history] == ["created"]
        progress = await service.progress([added.step.deal_id], date(2026, 6, 1))
        assert progress[added.step.deal_id].total == 1
    finally:
        await astore.dispose()
