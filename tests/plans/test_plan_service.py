"""services/plans.py (SQLite and PostgreSQL): Add to plan from the advice, steps by hand, who
may do what (every refusal), done / move / drop with history, reminders due in the rep's own
zone and sent exactly once (paused reps skipped), the plan in the next assessment, forget and
export."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, date, datetime

import pytest

from dealcoach.coach import assess, load_bank, validate_answers
from dealcoach.coach.plans import default_due
from dealcoach.errors import NotFound
from dealcoach.services.plans import (
    PlanInvalid,
    PlanRefused,
    PlanReminder,
    PlanService,
    RenderedReminder,
    send_plan_reminders,
)
from dealcoach.services.reviews import ReviewService
from dealcoach.store import AsyncStore, Store

from .conftest import CLOSING, complete, deal_of, rep

# Monday 1 June 2026, 10:00 in Amsterdam (08:00 UTC).
MONDAY_10 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
TODAY = date(2026, 6, 1)


def _manager(store: Store, manager: str, member: str) -> None:
    with store.unit_of_work() as uow:
        ws = uow.workspaces.get_or_create("slack", "T0PLAN")
        boss = uow.people.get_or_create(ws, manager, display_name="Mia")
        who = uow.people.find(ws.id, member)
        assert who is not None
        uow.reporting.assign(boss, who)
        uow.commit()


def test_add_to_plan_from_the_advice_and_by_hand(store: Store) -> None:
    rob = rep()
    review = complete(store, rob, "Acme renewal", CLOSING)
    deal = deal_of(store, review)
    advice = ReviewService(store).get(rob, review)
    assert advice.status == "completed"
    with store.unit_of_work() as uow:
        stored = uow.reviews.assessment(review)
        assert stored is not None
        moves = [*stored.data["actions"], *stored.data["later"]]
    service = PlanService(store)

    added = service.add_from_action(rob, review, 0, now=MONDAY_10)
    step = added.step
    assert added.changed and step.text == moves[0]["text"] and step.rule == moves[0]["rule"]
    assert (step.owner_kind, step.owner_name, step.status) == ("us", None, "open")
    assert step.due_on == default_due(TODAY) == date(2026, 6, 8)  # a week on, a Monday
    assert step.from_review_id == review and added.message.startswith("Added to the plan")

    # A double click is one step; a dropped one comes back open.
    again = service.add_from_action(rob, review, 0, now=MONDAY_10)
    assert not again.changed and again.step.step_id == step.step_id
    assert again.message.startswith("That step is already")
    service.drop(rob, step.step_id, now=MONDAY_10)
    back = service.add_from_action(rob, review, 0, now=MONDAY_10)
    assert back.changed and back.step.status == "open" and back.step.step_id == step.step_id

    second = service.add_from_action(
        rob, review, 1, owner_kind="customer", owner_name="Dana", due_on="2026-06-03", now=MONDAY_10
    )
    assert (second.step.owner_kind, second.step.owner_name) == ("customer", "Dana")
    by_hand = service.add_step(rob, deal, "  Send the   security answers ", now=MONDAY_10)
    assert by_hand.step.text == "Send the security answers"
    assert by_hand.progress.total == 3 and by_hand.progress.done == 0

    plan = service.deal_plan(rob, deal, now=MONDAY_10)
    assert plan.viewer_is_owner and plan.deal_name == "Acme renewal"
    assert next(s.step_id for s in plan.steps) == second.step.step_id  # the earliest date first
    assert plan.owner_options == ("Dana", "Ans de Vries", "Gerard")
    assert plan.progress_text == "0 of 3 steps done"
    assert service.find_deal(rob, "ACME renewal") == deal
    assert [p.deal_id for p in service.my_plans(rob, now=MONDAY_10)] == [deal]
    line = plan.steps[0].line("en", "slack")
    assert "Dana, by Wed 3 Jun" in line


def test_who_may_do_what(store: Store) -> None:
    rob, eve = rep("UROB"), rep("UEVE")
    review = complete(store, rob, "Acme renewal", CLOSING)
    complete(store, eve, "Eve's deal", CLOSING)
    deal = deal_of(store, review)
    _manager(store, "UMIA", "UROB")
    mia = rep("UMIA")
    service = PlanService(store)
    step = service.add_step(rob, deal, "Call Dana", now=MONDAY_10).step

    for who in (eve, mia, rep("USTRANGER")):
        for call in (
            lambda w: service.add_step(w, deal, "x"),
            lambda w: service.add_from_action(w, review, 0),
            lambda w: service.mark_done(w, step.step_id),
            lambda w: service.move(w, step.step_id, "2030-01-01"),
            lambda w: service.drop(w, step.step_id),
            lambda w: service.history(w, step.step_id),
        ):
            with pytest.raises(PlanRefused) as refused:
                call(who)
            assert refused.value.key == "not_owner"
    # The rep's own manager sees the plan (read-only); another rep and strangers do not.
    seen = service.deal_plan(mia, deal, now=MONDAY_10)
    assert not seen.viewer_is_owner and [s.text for s in seen.steps] == ["Call Dana"]
    for who in (eve, rep("USTRANGER")):
        with pytest.raises(PlanRefused):
            service.deal_plan(who, deal)
    for call in (
        lambda: service.deal_plan(rob, 999_999),
        lambda: service.add_step(rob, 999_999, "x"),
        lambda: service.mark_done(rob, 999_999),
        lambda: service.add_from_action(rob, 999_999, 0),
    ):
        with pytest.raises(NotFound):
            call()


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"text": ""}, "empty"),
        ({"text": "  \n "}, "empty"),
        ({"text": None}, "empty"),
        ({"text": "x" * 301}, "too_long"),
        ({"text": "a\x00b"}, "bad_text"),
        ({"text": "ok", "owner_kind": "them"}, "owner"),
        ({"text": "ok", "owner_kind": "customer"}, "owner_name"),
        ({"text": "ok", "owner_kind": "customer", "owner_name": " "}, "owner_name"),
        ({"text": "ok", "due_on": "next week"}, "date"),
        ({"text": "ok", "due_on": "2026-05-31"}, "date_past"),
    ],
)
def test_bad_input_is_refused_with_a_key(store: Store, kwargs: dict[str, object], key: str) -> None:
    rob = rep()
    deal = deal_of(store, complete(store, rob, "Acme renewal", CLOSING))
    options = dict(kwargs)
    text = options.pop("text")
    with pytest.raises(PlanInvalid) as invalid:
        PlanService(store).add_step(rob, deal, text, now=MONDAY_10, **options)  # type: ignore[arg-type]
    assert invalid.value.key == key


def test_done_move_drop_keep_history(store: Store) -> None:
    rob = rep()
    review = complete(store, rob, "Acme renewal", CLOSING)
    deal = deal_of(store, review)
    service = PlanService(store)
    first = service.add_step(rob, deal, "Send the NDA", due_on="2026-06-02", now=MONDAY_10).step
    second = service.add_step(rob, deal, "Demo", now=MONDAY_10).step

    moved = service.move(rob, first.step_id, date(2026, 6, 10), now=MONDAY_10)
    assert moved.changed and moved.step.due_on == date(2026, 6, 10)
    assert moved.message == "Moved to Wed 10 Jun."
    with pytest.raises(PlanInvalid) as past:
        service.move(rob, first.step_id, "2026-05-01", now=MONDAY_10)
    assert past.value.key == "date_past"
    with pytest.raises(PlanInvalid):
        service.move(rob, first.step_id, None, now=MONDAY_10)

    done = service.mark_done(rob, first.step_id, now=MONDAY_10)
    assert done.changed and done.step.status == "done" and done.step.done_at is not None
    assert done.message == "Marked done. 1 of 2 steps done."
    assert not service.mark_done(rob, first.step_id, now=MONDAY_10).changed
    with pytest.raises(PlanInvalid) as closed:
        service.move(rob, first.step_id, "2026-07-01", now=MONDAY_10)
    assert closed.value.key == "not_open"
    with pytest.raises(PlanInvalid):
        service.drop(rob, first.step_id, now=MONDAY_10)  # done → dropped: reopen first

    dropped = service.drop(rob, second.step_id, now=MONDAY_10)
    assert dropped.message == "Dropped. 1 of 1 step done."
    reopened = service.reopen(rob, second.step_id, now=MONDAY_10)
    assert reopened.changed and reopened.step.status == "open"
    kinds = [e.kind for e in service.history(rob, first.step_id)]
    assert kinds == ["created", "moved", "done"]
    assert [e.kind for e in service.history(rob, second.step_id)] == [
        "created",
        "dropped",
        "reopened",
    ]


def test_the_plan_reaches_the_next_assessment(store: Store) -> None:
    rob = rep()
    review = complete(store, rob, "Acme renewal", CLOSING)
    deal = deal_of(store, review)
    service = PlanService(store)
    bank = load_bank("en")
    answers = validate_answers(bank, {**CLOSING, "deal.name": "Acme renewal"})

    empty = service.plan_status(deal, TODAY)
    assert not empty.has_plan and empty.states() == frozenset({"none"})
    service.add_step(
        rob,
        deal,
        "Sign the order form",
        owner_kind="customer",
        owner_name="Dana (CFO)",
        due_on="2026-06-02",
        now=MONDAY_10,
    )
    service.add_step(rob, deal, "Send the contract", due_on="2026-06-01", now=MONDAY_10)
    later = date(2026, 6, 5)
    status = service.plan_status(deal, later)
    assert (status.total, status.done, status.overdue, status.customer_overdue) == (2, 0, 2, 1)
    assert [s.owner_name for s in status.slipping] == ["Dana (CFO)"]

    before = assess(answers, "en", bank=bank)
    with_plan = assess(answers, "en", bank=bank, plan_status=status)
    assert "plan_slipping" not in before.flags and "plan_slipping" in with_plan.flags
    move = next(a for a in with_plan.actions if a.rule == "plan.slipping")
    assert move.text.startswith("Call Dana this week about “Sign the order form”, due Tue 2 Jun")


class _Notifier:
    def __init__(self, fail: int = 0) -> None:
        self.sent: list[tuple[PlanReminder, Mapping[str, RenderedReminder]]] = []
        self.fail = fail

    async def send_plan_reminder(
        self, reminder: PlanReminder, rendered: Mapping[str, RenderedReminder]
    ) -> None:
        await asyncio.sleep(0)
        if self.fail:
            self.fail -= 1
            raise RuntimeError("Slack is down")
        self.sent.append((reminder, rendered))


async def test_one_reminder_per_overdue_step_in_the_reps_zone(store: Store) -> None:
    rob = rep("UROB", locale="nl")
    paul = rep("UPAUL", tz="America/New_York")
    review = complete(store, rob, "Acme renewal", CLOSING)
    deal = deal_of(store, review)
    other = deal_of(store, complete(store, paul, "Paul's deal", CLOSING))
    service = PlanService(store)
    friday = datetime(2026, 5, 29, 8, 0, tzinfo=UTC)
    overdue = service.add_step(
        rob,
        deal,
        "Stuur <de> NDA",
        owner_kind="customer",
        owner_name="Dana (CFO)",
        due_on="2026-05-29",
        now=friday,
    ).step
    service.add_step(rob, deal, "Nog niet", due_on="2026-06-01", now=friday)  # due today
    service.add_step(paul, other, "Paul's step", due_on="2026-05-29", now=friday)

    # Saturday, or before 9 / after 17 local: nothing. Paul is still asleep in New York.
    assert service.due_reminders(datetime(2026, 5, 30, 10, 0, tzinfo=UTC)) == []
    assert service.due_reminders(datetime(2026, 6, 1, 6, 0, tzinfo=UTC)) == []
    due = service.due_reminders(MONDAY_10)
    assert [(r.step_id, r.recipient.user_id) for r in due] == [(overdue.step_id, "UROB")]
    assert due[0].recipient.locale == "nl" and due[0].recipient.timezone == "Europe/Amsterdam"

    astores = [AsyncStore(store.url), AsyncStore(store.url)]
    try:
        flaky = _Notifier(fail=1)
        report = await send_plan_reminders(astores[0].run, {"slack": flaky}, now=MONDAY_10)
        assert report.failed and not report.sent and flaky.sent == []
        # Two replicas at once: the released reminder goes out exactly once.
        notifiers = [_Notifier(), _Notifier()]
        reports = await asyncio.gather(
            *(
                send_plan_reminders(a.run, {"slack": n}, now=MONDAY_10)
                for a, n in zip(astores, notifiers, strict=True)
            )
        )
        assert sum(len(r.sent) for r in reports) == 1
        sent = [item for n in notifiers for item in n.sent]
        assert len(sent) == 1
        reminder, rendered = sent[0]
        assert reminder.step_id == overdue.step_id
        assert rendered["slack"].text.startswith("‘Stuur &lt;de&gt; NDA’ was de stap van Dana")
        assert rendered["text"].title == "Te laat bij Acme renewal"
        assert (rendered["teams"].done, rendered["teams"].move, rendered["teams"].drop) == (
            "Gedaan",
            "Nieuwe datum",
            "Schrappen",
        )
        again = await send_plan_reminders(astores[0].run, {"slack": _Notifier()}, now=MONDAY_10)
        assert again.sent == []
        # Paul's turn comes in his own working hours.
        later = await send_plan_reminders(
            astores[1].run, {"slack": _Notifier()}, now=datetime(2026, 6, 1, 14, 0, tzinfo=UTC)
        )
        assert len(later.sent) == 1
    finally:
        for a in astores:
            await a.dispose()

    # Moved to a new date that slips again: one new reminder; paused reps get none.
    service.move(rob, overdue.step_id, "2026-06-02", now=MONDAY_10)
    wednesday = datetime(2026, 6, 3, 8, 0, tzinfo=UTC)
    due_now = {r.step_id: r.due_on for r in service.due_reminders(wednesday)}
    assert due_now[overdue.step_id] == date(2026, 6, 2)
    with store.unit_of_work() as uow:
        person = uow.people.find_by_platform("slack", "T0PLAN", "UROB")
        assert person is not None
        person.nudges_paused = True
        uow.commit()
    assert service.due_reminders(wednesday) == []


def test_forget_and_export_hooks(store: Store) -> None:
    rob, eve = rep("UROB"), rep("UEVE")
    deal = deal_of(store, complete(store, rob, "Acme renewal", CLOSING))
    theirs = deal_of(store, complete(store, eve, "Eve's deal", CLOSING))
    service = PlanService(store)
    step = service.add_step(rob, deal, "=SUM(A1)", now=MONDAY_10).step
    service.mark_done(rob, step.step_id, now=MONDAY_10)
    service.add_step(eve, theirs, "Eve's step", now=MONDAY_10)
    records = service.export()
    mine = next(r for r in records if r["step_id"] == step.step_id)
    assert mine["text"] == "=SUM(A1)" and mine["status"] == "done" and mine["user_id"] == "UROB"
    assert [h["kind"] for h in mine["history"]] == ["created", "done"]
    with store.unit_of_work() as uow:
        person = uow.people.find_by_platform("slack", "T0PLAN", "UROB")
        assert person is not None
        person_id = person.id
    assert service.forget([person_id]) == 1
    assert [r["text"] for r in service.export()] == ["Eve's step"]
