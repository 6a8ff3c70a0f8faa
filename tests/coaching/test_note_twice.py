"""A note or reply submitted twice (a double click, a resubmitted card, a retry) is stored
and sent once; the same words written again later, or other words, are a new note."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import select

from dealcoach.services import coaching
from dealcoach.services.coaching import CoachingService
from dealcoach.store import Store
from dealcoach.store.models import CoachingNote

from .seed import MANAGER, REP, actor, seed_team


def _notes(store: Store) -> list[tuple[int | None, str]]:
    with store.unit_of_work() as uow:
        rows = uow.session.execute(
            select(CoachingNote.parent_id, CoachingNote.body).order_by(CoachingNote.id)
        ).all()
        return [(p, b) for p, b in rows]


def test_the_same_note_twice_is_one_note_sent_once(store: Store) -> None:
    seeded = seed_team(store.url)
    service = CoachingService(store)
    mia, rob = actor(MANAGER), actor(REP)
    first = service.add_note(mia, seeded.review_id, "Call Dana before Friday")
    again = service.add_note(mia, seeded.review_id, "  Call Dana before Friday ")
    assert first.changed and not again.changed  # the adapters send only a changed delivery
    assert again.note.note_id == first.note.note_id
    other = service.add_note(mia, seeded.review_id, "And ask Gerard what he needs")
    assert other.changed

    reply = service.reply(rob, first.note.note_id, "Booked for Thursday")
    twice = service.reply(rob, first.note.note_id, "Booked for Thursday")
    assert reply.changed and not twice.changed
    assert _notes(store) == [
        (None, "Call Dana before Friday"),
        (None, "And ask Gerard what he needs"),
        (first.note.note_id, "Booked for Thursday"),
    ]


def test_concurrent_submits_of_one_note_store_one(store: Store) -> None:
    seeded = seed_team(store.url)
    service = CoachingService(Store(store.url))
    mia = actor(MANAGER)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(
            lambda _: service.add_note(mia, seeded.review_id, "One note, four clicks"), range(4)
        ))
    assert sum(r.changed for r in results) == 1
    assert [b for _, b in _notes(store)] == ["One note, four clicks"]


def test_the_same_words_after_the_window_are_a_new_note(store: Store, monkeypatch) -> None:
    seeded = seed_team(store.url)
    service = CoachingService(store)
    mia = actor(MANAGER)
    service.add_note(mia, seeded.review_id, "Weekly: update the plan")
    monkeypatch.setattr(coaching, "SAME_NOTE_WINDOW", timedelta(0))
    assert service.add_note(mia, seeded.review_id, "Weekly: update the plan").changed
    assert len(_notes(store)) == 2
