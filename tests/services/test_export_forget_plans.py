"""`dealcoach export` and `dealcoach forget` with close plans and loss reasons (issue 15),
SQLite and PostgreSQL: the deal's plan steps (every status, with history) and why it was lost
are on the deal's last completed review, in JSONL and CSV (formula-like text neutralised);
forgetting a rep deletes their plans with history and reminders, and nobody else's."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from dealcoach.services.export import write_export
from dealcoach.services.plans import PlanService
from dealcoach.services.privacy import forget_user
from dealcoach.services.reviews import ReviewService
from dealcoach.store import Store
from dealcoach.store import plans as plans_q
from dealcoach.store.models import PlanReminder, PlanStep, PlanStepEvent

from .conftest import ANN, BOB, FULL_ANSWERS

EVIL = '=HYPERLINK("http://evil.example","click")'


def _complete(service: ReviewService, who: Any, deal: str) -> int:
    view = service.start(who, deal)
    service.save_answers(who, view.review_id, {**FULL_ANSWERS, "deal.name": deal})
    return service.complete(who, view.review_id, f"{who.user_id}:{deal}").review_id


def _seed(store: Store) -> dict[str, Any]:
    reviews, plans = ReviewService(store), PlanService(store)
    first = _complete(reviews, ANN, "Acme rollout")
    draft = reviews.reopen(ANN, first)
    second = reviews.complete(ANN, draft.review_id, "second")
    deal = second.deal_id
    assert deal is not None
    from_action = plans.add_from_action(ANN, first, 0).step
    by_hand = plans.add_step(
        ANN, deal, EVIL, owner_kind="customer", owner_name="Carla", due_on=date.today()
    ).step
    plans.move(ANN, by_hand.step_id, date.today() + timedelta(days=3))
    dropped = plans.add_step(ANN, deal, "Send the brochure").step
    plans.drop(ANN, dropped.step_id)
    plans.mark_done(ANN, from_action.step_id)
    reviews.record_outcome(
        ANN, second.review_id, "lost", reason="competitor", reason_text="-cheaper elsewhere"
    )
    # Bob's deal and plan: never touched by forgetting Ann
    bob_review = _complete(reviews, BOB, "Bob's deal")
    bob_deal = reviews.complete(BOB, bob_review).deal_id
    assert bob_deal is not None
    plans.add_step(BOB, bob_deal, "Call the CFO")
    return {
        "first": first,
        "second": second.review_id,
        "steps": [from_action.step_id, by_hand.step_id, dropped.step_id],
        "bob": bob_review,
    }


def _jsonl(store: Store, since: datetime | None = None) -> dict[int, dict[str, Any]]:
    out = io.StringIO()
    write_export(store, out, "jsonl", since)
    return {r["review_id"]: r for r in map(json.loads, out.getvalue().splitlines())}


def test_export_carries_the_plan_and_the_loss_reason(store: Store) -> None:
    seeded = _seed(store)
    records = _jsonl(store)
    last, earlier = records[seeded["second"]], records[seeded["first"]]
    assert last["deal"]["outcome"] == "lost"
    assert last["deal"]["outcome_reason"] == "competitor"
    assert last["deal"]["outcome_reason_text"] == "-cheaper elsewhere"
    assert earlier["deal"]["outcome_reason"] is None and earlier["plan_steps"] is None
    steps = last["plan_steps"]
    assert [s["step_id"] for s in steps] == seeded["steps"]
    assert [s["status"] for s in steps] == ["done", "open", "dropped"]
    done, evil, dropped = steps
    assert done["review_id"] == seeded["first"] and done["rule"]
    assert (evil["text"], evil["owner"], evil["owner_name"]) == (EVIL, "customer", "Carla")
    assert [e["kind"] for e in evil["history"]] == ["created", "moved"]
    assert evil["history"][1]["new_due_on"] == (date.today() + timedelta(days=3)).isoformat()
    assert [e["kind"] for e in dropped["history"]] == ["created", "dropped"]
    assert "user_id" not in evil and "deal_name" not in evil
    assert records[seeded["bob"]]["plan_steps"][0]["text"] == "Call the CFO"

    # --since: the deal's last review is the newest, so the plan comes with it
    with store.unit_of_work() as uow:
        review = uow.reviews.get(seeded["second"])
        assert review is not None and review.completed_at is not None
        cut = review.completed_at
    recent = _jsonl(store, cut)
    assert seeded["first"] not in recent
    assert len(recent[seeded["second"]]["plan_steps"]) == 3


def test_the_csv_export_neutralises_plan_text(store: Store) -> None:
    seeded = _seed(store)
    out = io.StringIO()
    write_export(store, out, "csv")
    table = list(csv.reader(io.StringIO(out.getvalue())))
    header = table[0]
    assert header[-3:] == ["deal_outcome_reason", "deal_outcome_reason_text", "plan_steps"]
    assert header.index("coaching_notes") == len(header) - 4  # earlier columns unchanged
    rows = {r["review_id"]: r for r in csv.DictReader(io.StringIO(out.getvalue()))}
    last = rows[str(seeded["second"])]
    assert last["deal_outcome_reason"] == "competitor"
    assert last["deal_outcome_reason_text"] == "'-cheaper elsewhere"
    cell = last["plan_steps"]
    assert not cell.startswith(("=", "+", "-", "@"))
    assert [s["text"] for s in json.loads(cell)][1] == EVIL
    assert rows[str(seeded["first"])]["plan_steps"] == ""
    for line in out.getvalue().splitlines():
        for value in next(csv.reader([line])):
            assert not value.startswith("=")


def _counts(store: Store) -> tuple[int, int, int]:
    with store.unit_of_work() as uow:
        return tuple(  # type: ignore[return-value]
            int(uow.session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (PlanStep, PlanStepEvent, PlanReminder)
        )


def test_forget_removes_the_persons_plans_only(store: Store) -> None:
    seeded = _seed(store)
    ann_step = seeded["steps"][1]
    with store.unit_of_work() as uow:  # a reminder claimed for Ann's open step
        step = uow.session.get(PlanStep, ann_step)
        assert step is not None
        claim = plans_q.claim_reminder(uow.session, ann_step, step.due_on)
        assert claim is not None
        uow.commit()
    steps, events, reminders = _counts(store)
    assert (steps, reminders) == (4, 1) and events > 4

    done = forget_user(store, ANN.user_id)
    assert done.plan_steps == 3 and done.reviews == 2
    assert _counts(store) == (1, 1, 0)
    records = _jsonl(store)
    assert list(records) == [seeded["bob"]]
    assert [s["text"] for s in records[seeded["bob"]]["plan_steps"]] == ["Call the CFO"]
    assert forget_user(store, BOB.user_id).plan_steps == 1
    assert _counts(store) == (0, 0, 0)
