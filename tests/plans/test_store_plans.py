"""store/plans.py on SQLite and PostgreSQL: steps with their history, progress of many deals in
one GROUP BY, reminder candidates, the once-only reminder claim, forget and export."""

from __future__ import annotations

import threading
from datetime import date, timedelta

from sqlalchemy import event, func, select

from dealcoach.store import Store
from dealcoach.store import plans as q
from dealcoach.store.models import Deal, Person, PlanReminder, PlanStep, PlanStepEvent
from dealcoach.store.uow import UnitOfWork

D = date(2026, 6, 1)  # a Monday


def _setup(uow: UnitOfWork, user: str = "U1", deals: int = 2) -> tuple[Person, list[Deal]]:
    ws = uow.workspaces.get_or_create("slack", "T1", name="Acme")
    person = uow.people.get_or_create(ws, user, display_name=user.lower())
    made = [uow.deals.get_or_create(person, f"{user} deal {i}") for i in range(deals)]
    uow.flush()
    return person, made


def _count(store: Store, model: type) -> int:
    with store.unit_of_work() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def test_steps_keep_their_history_and_progress_is_one_query(store: Store) -> None:
    with store.unit_of_work() as uow:
        person, (a, b) = _setup(uow)
        s1, made = q.add_step(
            uow.session, deal_id=a.id, person_id=person.id, text="Send the NDA", due_on=D
        )
        assert made and s1.status == "open" and s1.owner_kind == "us"
        s2, _ = q.add_step(
            uow.session,
            deal_id=a.id,
            person_id=person.id,
            text="Sign the order",
            due_on=D - timedelta(days=3),
            owner_kind="customer",
            owner_name="Dana",
        )
        s3, _ = q.add_step(
            uow.session, deal_id=a.id, person_id=person.id, text="Demo", due_on=D - timedelta(1)
        )
        s4, _ = q.add_step(
            uow.session, deal_id=b.id, person_id=person.id, text="Kick-off", due_on=D
        )
        assert q.set_status(uow.session, s1.id, "done")
        assert not q.set_status(uow.session, s1.id, "done")  # a second click: nothing
        assert q.set_status(uow.session, s3.id, "dropped")
        assert q.move(uow.session, s4.id, D + timedelta(days=7)) == D
        assert q.move(uow.session, s4.id, D + timedelta(days=7)) is None  # same date
        assert q.move(uow.session, s1.id, D + timedelta(days=7)) is None  # not open
        uow.commit()
        ids = (a.id, b.id, s1.id, s2.id, s3.id, s4.id)
    a_id, b_id, s1_id, s2_id, s3_id, s4_id = ids

    with store.unit_of_work() as uow:
        sent: list[str] = []

        def count(_c: object, _cu: object, sql: str, *_: object) -> None:
            sent.append(sql)

        engine = uow.session.get_bind()
        event.listen(engine, "before_cursor_execute", count)
        try:
            got = q.progress(uow.session, [a_id, b_id, 999_999], D)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert len([s for s in sent if s.lstrip().upper().startswith("SELECT")]) == 1
        assert got[a_id] == q.ProgressRow(a_id, 2, 1, 1, 1, 1, 1, D - timedelta(days=3))
        assert got[b_id] == q.ProgressRow(b_id, 1, 0, 1, 0, 0, 0, D + timedelta(days=7))
        assert got[999_999] == q.empty_progress(999_999)

        steps = q.steps_of_deal(uow.session, a_id)
        assert [s.text for s in steps] == ["Sign the order", "Send the NDA"]  # open first
        every = q.steps_of_deal(uow.session, a_id, include_dropped=True)
        assert [s.status for s in every] == ["open", "done", "dropped"]

        history = q.history(uow.session, [s1_id, s3_id, s4_id])
        assert [e.kind for e in history[s1_id]] == ["created", "done"]
        assert [e.kind for e in history[s3_id]] == ["created", "dropped"]
        moved = history[s4_id][-1]
        assert (moved.kind, moved.old_due_on, moved.new_due_on) == (
            "moved",
            D,
            D + timedelta(days=7),
        )
        assert q.set_status(uow.session, s3_id, "open")
        assert q.history(uow.session, [s3_id])[s3_id][-1].kind == "reopened"

        plans = q.plans_of_owner(uow.session, steps[0].person_id, D)
        assert [(p.deal_id, p.progress.overdue) for p in plans] == [(a_id, 2), (b_id, 0)]
        assert s2_id in {s.id for s in steps}


def test_the_same_action_twice_is_one_step(store: Store) -> None:
    with store.unit_of_work() as uow:
        person, (deal,) = _setup(uow, deals=1)
        review = uow.reviews.create_draft(person, platform="slack", locale="en")
        uow.flush()
        kw = {"deal_id": deal.id, "person_id": person.id, "due_on": D, "review_id": review.id}
        first, made = q.add_step(uow.session, text="Call Dana", rule="x", **kw)  # type: ignore[arg-type]
        again, made_again = q.add_step(uow.session, text="Call Dana", rule="x", **kw)  # type: ignore[arg-type]
        assert made and not made_again and again.id == first.id
        # By hand (no review), the same text is a new step.
        _, by_hand = q.add_step(
            uow.session, deal_id=deal.id, person_id=person.id, text="Call Dana", due_on=D
        )
        assert by_hand
        uow.commit()
    assert _count(store, PlanStep) == 2
    assert _count(store, PlanStepEvent) == 2


def test_reminder_candidates_and_the_claim(store: Store) -> None:
    with store.unit_of_work() as uow:
        person, (deal, won) = _setup(uow)
        paused, (p_deal,) = _setup(uow, "U2", deals=1)
        paused.nudges_paused = True
        won.outcome = "won"
        late, _ = q.add_step(
            uow.session, deal_id=deal.id, person_id=person.id, text="Late", due_on=D - timedelta(2)
        )
        q.add_step(uow.session, deal_id=deal.id, person_id=person.id, text="Later", due_on=D)
        done, _ = q.add_step(
            uow.session, deal_id=deal.id, person_id=person.id, text="Done", due_on=D - timedelta(5)
        )
        q.set_status(uow.session, done.id, "done")
        q.add_step(
            uow.session, deal_id=won.id, person_id=person.id, text="Won", due_on=D - timedelta(5)
        )
        q.add_step(
            uow.session,
            deal_id=p_deal.id,
            person_id=paused.id,
            text="Paused",
            due_on=D - timedelta(5),
        )
        uow.commit()

    with store.unit_of_work() as uow:
        rows = q.reminder_candidates(uow.session, before=D)
        assert [r.text for r in rows] == ["Late"]
        row = rows[0]
        assert (row.user_id, row.platform, row.workspace_external_id) == ("U1", "slack", "T1")
        claim = q.claim_reminder(uow.session, row.step_id, row.due_on)
        assert claim is not None and claim.attempts == 1
        assert q.claim_reminder(uow.session, row.step_id, row.due_on) is None
        uow.commit()

    with store.unit_of_work() as uow:
        # Claimed (fresh): not a candidate; released after a failure: a candidate again.
        assert q.reminder_candidates(uow.session, before=D) == []
        assert q.release_reminder(uow.session, claim, "timeout")
        assert not q.finish_reminder(uow.session, claim)  # no longer ours to finish
        again = q.reminder_candidates(uow.session, before=D)
        assert [(r.text, r.attempts) for r in again] == [("Late", 1)]
        retry = q.claim_reminder(uow.session, late.id, late.due_on)
        assert retry is not None and retry.attempts == 2
        assert q.finish_reminder(uow.session, retry)
        assert q.reminder_candidates(uow.session, before=D) == []
        assert q.claim_reminder(uow.session, late.id, late.due_on) is None  # sent: never again
        # Moved to a new date that is past too: one new reminder for the new date.
        q.move(uow.session, late.id, D - timedelta(days=1))
        assert [r.due_on for r in q.reminder_candidates(uow.session, before=D)] == [
            D - timedelta(days=1)
        ]
        uow.commit()


def test_a_stale_claim_is_taken_over_and_attempts_are_bounded(store: Store) -> None:
    with store.unit_of_work() as uow:
        person, (deal,) = _setup(uow, deals=1)
        step, _ = q.add_step(
            uow.session, deal_id=deal.id, person_id=person.id, text="x", due_on=D - timedelta(1)
        )
        claim = q.claim_reminder(uow.session, step.id, step.due_on)
        assert claim is not None
        # The sender died: after stale_after the claim is taken over.
        assert q.claim_reminder(uow.session, step.id, step.due_on) is None
        taken = q.claim_reminder(uow.session, step.id, step.due_on, stale_after=timedelta(0))
        assert taken is not None and taken.attempts == 2
        assert not q.finish_reminder(uow.session, claim)  # the old sender cannot finish it
        for _ in range(q.MAX_ATTEMPTS - 2):
            assert q.release_reminder(uow.session, taken, "down")
            taken = q.claim_reminder(uow.session, step.id, step.due_on)
            assert taken is not None
        assert q.release_reminder(uow.session, taken, "down")
        assert taken.attempts == q.MAX_ATTEMPTS
        assert q.claim_reminder(uow.session, step.id, step.due_on) is None  # given up
        assert q.reminder_candidates(uow.session, before=D) == []
        uow.commit()


def test_two_replicas_claim_a_reminder_exactly_once(store: Store) -> None:
    with store.unit_of_work() as uow:
        person, (deal,) = _setup(uow, deals=1)
        steps = [
            q.add_step(
                uow.session,
                deal_id=deal.id,
                person_id=person.id,
                text=f"step {i}",
                due_on=D - timedelta(1),
            )[0]
            for i in range(5)
        ]
        uow.commit()
    replicas = [Store(store.url), Store(store.url)]
    wins: list[tuple[int, int]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def worker(replica: Store) -> None:
        try:
            start.wait()
            for step in steps:
                claim = replica.run(
                    lambda uow, s=step: q.claim_reminder(uow.session, s.id, s.due_on)
                )
                if claim is not None:
                    with lock:
                        wins.append((claim.step_id, claim.attempts))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(replicas[i % 2],)) for i in range(8)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        for r in replicas:
            r.dispose()
    assert errors == []
    assert sorted(wins) == sorted((s.id, 1) for s in steps)
    assert _count(store, PlanReminder) == 5


def test_forget_and_export(store: Store) -> None:
    with store.unit_of_work() as uow:
        person, (deal,) = _setup(uow, deals=1)
        other, (theirs,) = _setup(uow, "U2", deals=1)
        step, _ = q.add_step(
            uow.session, deal_id=deal.id, person_id=person.id, text="=cmd()", due_on=D
        )
        q.move(uow.session, step.id, D + timedelta(days=2))
        q.claim_reminder(uow.session, step.id, D)
        q.add_step(uow.session, deal_id=theirs.id, person_id=other.id, text="keep", due_on=D)
        uow.commit()
        ids = (person.id, deal.id, step.id)
    with store.unit_of_work() as uow:
        rows = q.export_rows(uow.session)
        assert [(r.step.text, r.deal_name, r.user_id) for r in rows] == [
            ("=cmd()", "U1 deal 0", "U1"),
            ("keep", "U2 deal 0", "U2"),
        ]
        assert [e.kind for e in rows[0].events] == ["created", "moved"]
        assert q.export_rows(uow.session, after_id=rows[0].step.id)[0].step.text == "keep"
        assert [r.step.text for r in q.export_rows(uow.session, deal_ids=[ids[1]])] == ["=cmd()"]
        assert q.forget(uow.session, [ids[0]]) == 1
        assert q.forget(uow.session, []) == 0
        uow.commit()
    assert _count(store, PlanStep) == 1
    assert _count(store, PlanStepEvent) == 1
    assert _count(store, PlanReminder) == 0
