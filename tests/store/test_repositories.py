"""Repositories on SQLite and PostgreSQL: drafts, answers, completion, history, teams,
export, forgetting, retention, digest claims and nudges."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from dealcoach.store import AsyncStore, Store
from dealcoach.store import digests as q
from dealcoach.store.models import Answer, Assessment, Deal, NudgeLog, Review, ReviewFlag
from dealcoach.store.types import utcnow
from dealcoach.store.uow import UnitOfWork

from .conftest import make_person


def _draft(store: Store, user: str = "U1", deal: str | None = None) -> int:
    with store.unit_of_work() as uow:
        person = make_person(uow, user)
        d = uow.deals.get_or_create(person, deal) if deal else None
        review = uow.reviews.create_draft(person, platform="slack", locale="en", deal=d)
        uow.commit()
        return review.id


def _complete(
    store: Store, review_id: int, key: str | None, recommendation: str = "pursue"
) -> bool:
    with store.unit_of_work() as uow:
        review = uow.reviews.get_for_update(review_id)
        assert review is not None
        if review.status != "draft":
            return False
        done = uow.reviews.complete(
            review,
            idempotency_key=key,
            quadrant="win_win",
            recommendation=recommendation,
            flags=["agenda_unknown", "fit_unverified", "agenda_unknown"],
            assessment={"quadrant": "win_win", "recommendation": recommendation},
            advice_text="Go.",
        )
        uow.commit()
        return done


def test_get_or_create_workspace_and_person_is_stable(store: Store) -> None:
    with store.unit_of_work() as uow:
        a = make_person(uow, "U1")
        b = make_person(uow, "U1")
        other = make_person(uow, "U1", workspace="T2")
        uow.commit()
        assert a.id == b.id != other.id
    with store.unit_of_work() as uow:
        ws = uow.workspaces.get_or_create("slack", "T1", name="Renamed")
        uow.commit()
        assert ws.name == "Renamed"
        assert uow.workspaces.only() is None  # two workspaces known
        assert uow.workspaces.only("teams") is None


def test_answers_saved_step_by_step_keep_earlier_ones(store: Store) -> None:
    rid = _draft(store)
    with store.unit_of_work() as uow:
        review = uow.reviews.get(rid)
        assert review is not None
        uow.reviews.save_answers(review, {"deal.name": "Acme", "deal.value": 1000.0})
        uow.commit()
    with store.unit_of_work() as uow:
        review = uow.reviews.get(rid)
        assert review is not None
        uow.reviews.save_answers(
            review,
            {"deal.value": 2500.0, "agenda.1.interests": ["status", "security"], "fit.need": None},
        )
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.reviews.answers(rid) == {
            "deal.name": "Acme",
            "deal.value": 2500.0,
            "agenda.1.interests": ["status", "security"],
            "fit.need": None,
        }
        rows = uow.session.scalar(
            select(func.count()).select_from(Answer).where(Answer.review_id == rid)
        )
        assert rows == 4  # one row per question, updated in place


def test_uncommitted_unit_of_work_rolls_back(store: Store) -> None:
    with store.unit_of_work() as uow:
        make_person(uow, "U9")
    with store.unit_of_work() as uow:
        ws = uow.workspaces.find("slack", "T1")
        assert ws is None


def test_latest_draft_is_the_one_resumed(store: Store) -> None:
    first = _draft(store)
    second = _draft(store)
    with store.unit_of_work() as uow:
        review = uow.reviews.get(first)
        assert review is not None
        uow.reviews.save_answers(review, {"deal.name": "Touched later"})
        uow.commit()
    with store.unit_of_work() as uow:
        person = make_person(uow, "U1")
        draft = uow.reviews.latest_draft(person.id)
        assert draft is not None and draft.id == first != second


def test_completing_checks_the_key_in_the_update_itself(store: Store) -> None:
    """`complete(key_free=True)`: one statement refuses a key another review holds."""
    first = _draft(store, deal="Acme")
    second = _draft(store, deal="Globex")
    assert _complete(store, first, "key-shared") is True
    with store.unit_of_work() as uow:
        review = uow.reviews.get_for_update(second)
        assert review is not None
        done = uow.reviews.complete(
            review,
            idempotency_key="key-shared",
            quadrant="win_win",
            recommendation="pursue",
            flags=[],
            assessment={},
            key_free=True,
        )
        uow.commit()
    assert done is False
    with store.unit_of_work() as uow:
        again = uow.reviews.get(second)
        assert again is not None and again.status == "draft"
        assert uow.reviews.assessment(second) is None


def test_completing_twice_yields_one_completed_review(store: Store) -> None:
    rid = _draft(store, deal="Acme")
    assert _complete(store, rid, "key-1") is True
    assert _complete(store, rid, "key-1") is False
    with store.unit_of_work() as uow:
        review = uow.reviews.get(rid)
        assert review is not None
        assert (review.status, review.idempotency_key, review.recommendation) == (
            "completed",
            "key-1",
            "pursue",
        )
        assert review.completed_at is not None
        assert uow.reviews.find_by_key("key-1") is not None
        assert uow.reviews.flags(rid) == ["agenda_unknown", "fit_unverified"]
        assessment = uow.reviews.assessment(rid)
        assert assessment is not None and assessment.advice_text == "Go."
        assert uow.session.scalar(select(func.count()).select_from(Assessment)) == 1
        deal = uow.session.scalars(select(Deal)).one()
        assert deal.last_reviewed_at == review.completed_at


def test_twenty_parallel_completions_of_one_key_complete_once(store: Store) -> None:
    rid = _draft(store, deal="Acme")
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda _: _complete(store, rid, "same-key"), range(20)))
    assert results.count(True) == 1
    with store.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Assessment)) == 1
        assert uow.session.scalar(select(func.count()).select_from(ReviewFlag)) == 2
        assert uow.reviews.count(status="completed") == 1


def test_deal_history_lists_earlier_completed_reviews_newest_first(store: Store) -> None:
    first = _draft(store, deal="Acme")
    _complete(store, first, "k1", "strengthen")
    second = _draft(store, deal="ACME ")  # same deal: matched case- and space-insensitively
    _complete(store, second, "k2", "pursue")
    other = _draft(store, deal="Globex")
    _complete(store, other, "k3")
    current = _draft(store, deal="acme")
    with store.unit_of_work() as uow:
        review = uow.reviews.get(current)
        assert review is not None and review.deal_id is not None
        history = uow.reviews.deal_history(review.deal_id, exclude_review_id=current)
        assert [r.id for r in history] == [second, first]
        assert [r.recommendation for r in history] == ["pursue", "strengthen"]


def test_a_persons_reviews_are_listed_newest_first(store: Store) -> None:
    mine = [_draft(store, "U1") for _ in range(3)]
    _draft(store, "U2")
    _complete(store, mine[0], "k")
    with store.unit_of_work() as uow:
        person = make_person(uow, "U1")
        assert [r.id for r in uow.reviews.for_person(person.id)] == [mine[0], mine[2], mine[1]]
        assert [r.id for r in uow.reviews.for_person(person.id, status="completed")] == [mine[0]]
        assert len(uow.reviews.for_person(person.id, limit=2)) == 2


def test_a_member_has_at_most_one_manager(store: Store) -> None:
    with store.unit_of_work() as uow:
        boss, other_boss, rep, rep2 = (make_person(uow, u) for u in ("M1", "M2", "R1", "R2"))
        assert uow.reporting.assign(boss, rep) is None
        assert uow.reporting.assign(boss, rep2) is None
        assert uow.reporting.assign(other_boss, rep) == boss.id  # moved
        uow.commit()
        assert [p.user_id for p in uow.reporting.members(boss.id)] == ["R2"]
        assert [p.user_id for p in uow.reporting.members(other_boss.id)] == ["R1"]
        manager = uow.reporting.manager_of(rep.id)
        assert manager is not None and manager.user_id == "M2"
        assert {p.user_id for p in uow.reporting.managers()} == {"M1", "M2"}
        pairs = uow.reporting.memberships(boss.workspace_id)
        assert [(m.user_id, r.user_id) for m, r in pairs] == [("M1", "R2"), ("M2", "R1")]
        assert uow.reporting.remove(rep, manager=boss) is False
        assert uow.reporting.remove(rep) is True
        uow.commit()
        assert uow.reporting.members(other_boss.id) == []
        with pytest.raises(ValueError):
            uow.reporting.assign(rep, rep)


def test_export_streams_completed_reviews_with_answers_in_batches(store: Store) -> None:
    ids = []
    for n in range(7):
        rid = _draft(store, deal=f"Deal {n}")
        with store.unit_of_work() as uow:
            review = uow.reviews.get(rid)
            assert review is not None
            uow.reviews.save_answers(review, {"deal.name": f"Deal {n}", "benefit.margin": "thin"})
            uow.commit()
        if n != 3:
            _complete(store, rid, f"k{n}")
            ids.append(rid)
    with store.unit_of_work() as uow:
        rows = list(uow.reviews.iter_export(batch_size=2))
    assert [r.review_id for r in rows] == ids
    assert rows[0].answers == {"deal.name": "Deal 0", "benefit.margin": "thin"}
    assert rows[0].deal_name == "Deal 0" and rows[0].user_id == "U1"
    assert rows[0].flags == ["agenda_unknown", "fit_unverified"]
    assert rows[0].assessment["recommendation"] == "pursue"
    with store.unit_of_work() as uow:
        assert list(uow.reviews.iter_export(since=utcnow() + timedelta(minutes=1))) == []


def test_forgetting_a_user_deletes_their_reviews_and_answers_only(store: Store) -> None:
    mine = _draft(store, "U1", deal="Acme")
    theirs = _draft(store, "U2", deal="Acme")
    for rid in (mine, theirs):
        with store.unit_of_work() as uow:
            review = uow.reviews.get(rid)
            assert review is not None
            uow.reviews.save_answers(review, {"deal.name": "Acme", "fit.need": "speed"})
            uow.commit()
        _complete(store, rid, f"k{rid}")
    with store.unit_of_work() as uow:
        boss = make_person(uow, "M1")
        uow.reporting.assign(boss, make_person(uow, "U1"))
        q.claim_run(uow.session, boss.id, "2026-W47")
        uow.commit()
    with store.unit_of_work() as uow:
        result = uow.people.forget(uow.people.find_everywhere("U1"))
        uow.commit()
    assert (result.people, result.reviews, result.answers) == (1, 1, 2)
    with store.unit_of_work() as uow:
        assert uow.people.find_everywhere("U1") == []
        remaining = uow.session.scalars(select(Review.id)).all()
        assert remaining == [theirs]
        assert uow.session.scalar(select(func.count()).select_from(Answer)) == 2
        assert uow.session.scalar(select(func.count()).select_from(Assessment)) == 1
        assert uow.reporting.members(make_person(uow, "M1").id) == []


def test_prune_deletes_only_old_drafts(store: Store) -> None:
    old = _draft(store)
    fresh = _draft(store)
    done = _draft(store)
    _complete(store, done, "k")
    with store.unit_of_work() as uow:
        review = uow.reviews.get(old)
        assert review is not None
        uow.reviews.save_answers(review, {"deal.name": "Old"})
        review.updated_at = utcnow() - timedelta(days=100)
        done_review = uow.reviews.get(done)
        assert done_review is not None
        done_review.updated_at = utcnow() - timedelta(days=100)
        uow.commit()
    with store.unit_of_work() as uow:
        result = uow.reviews.prune_drafts(utcnow() - timedelta(days=90))
        uow.commit()
    assert (result.drafts, result.answers) == (1, 1)
    with store.unit_of_work() as uow:
        assert sorted(uow.session.scalars(select(Review.id))) == sorted([fresh, done])


def test_digest_week_is_claimed_once_and_a_failure_can_be_retried(store: Store) -> None:
    with store.unit_of_work() as uow:
        boss_id = make_person(uow, "M1").id
        uow.commit()
    with store.unit_of_work() as uow:
        run = q.claim_run(uow.session, boss_id, "2026-W47")
        assert run is not None and run.attempts == 1
        uow.commit()
    with store.unit_of_work() as uow:
        assert q.claim_run(uow.session, boss_id, "2026-W47") is None  # being sent elsewhere
        run = q.get_run(uow.session, boss_id, "2026-W47")
        assert run is not None
        assert q.finish_run(uow.session, run.id, run.attempts, error="HTTP 500")
        uow.commit()
    with store.unit_of_work() as uow:
        run = q.claim_run(uow.session, boss_id, "2026-W47")
        assert run is not None and run.attempts == 2 and run.error is None
        assert q.finish_run(uow.session, run.id, run.attempts, error=None)
        uow.commit()
    with store.unit_of_work() as uow:
        assert q.claim_run(uow.session, boss_id, "2026-W47") is None


def test_parallel_digest_claims_let_exactly_one_sender_through(store: Store) -> None:
    with store.unit_of_work() as uow:
        boss_id = make_person(uow, "M1").id
        uow.commit()

    def claim(_: int) -> bool:
        with store.unit_of_work() as uow:
            got = q.claim_run(uow.session, boss_id, "2026-W47") is not None
            uow.commit()
            return got

    with ThreadPoolExecutor(max_workers=10) as pool:
        assert list(pool.map(claim, range(10))).count(True) == 1


def test_a_deal_is_nudged_once_a_week(store: Store) -> None:
    rid = _draft(store, deal="Acme")
    with store.unit_of_work() as uow:
        review = uow.reviews.get(rid)
        assert review is not None and review.deal_id is not None
        person_id, deal_ids = review.person_id, [review.deal_id]
        assert q.claim_nudge(uow.session, person_id, deal_ids, "2026-W48") is True
        assert q.claim_nudge(uow.session, person_id, deal_ids, "2026-W48") is False
        assert q.claim_nudge(uow.session, person_id, deal_ids, "2026-W49") is True
        sent_in_week = select(NudgeLog.deal_id).where(
            NudgeLog.person_id == person_id, NudgeLog.iso_week == "2026-W48"
        )
        assert list(uow.session.scalars(sent_in_week)) == [review.deal_id]
        # A reminder that could not be delivered is released, so the next run sends it.
        q.release_nudge(uow.session, person_id, "2026-W48")
        assert q.claim_nudge(uow.session, person_id, deal_ids, "2026-W48") is True


def _start_and_answer(uow: UnitOfWork, user_id: str) -> dict[str, object]:
    person = make_person(uow, user_id)
    review = uow.reviews.create_draft(person, platform="teams", locale="nl")
    uow.reviews.save_answers(review, {"deal.name": "Async deal"})
    return {"id": review.id, "answers": uow.reviews.answers(review.id)}


async def test_async_store_runs_the_same_unit_of_work_functions(migrated_url: str) -> None:
    astore = AsyncStore(migrated_url)
    try:
        got = await astore.run(_start_and_answer, "U7")
        assert got["answers"] == {"deal.name": "Async deal"}
        assert await astore.ping() is True
    finally:
        await astore.dispose()
    sync = Store(migrated_url)
    try:
        assert sync.run(lambda uow: uow.reviews.answers(got["id"])) == {"deal.name": "Async deal"}
    finally:
        sync.dispose()


async def test_async_store_rolls_back_when_the_function_raises(migrated_url: str) -> None:
    def boom(uow: UnitOfWork) -> None:
        make_person(uow, "U8")
        raise RuntimeError("boom")

    astore = AsyncStore(migrated_url)
    try:
        with pytest.raises(RuntimeError):
            await astore.run(boom)
        assert await astore.run(lambda uow: uow.people.find_everywhere("U8")) == []
    finally:
        await astore.dispose()
