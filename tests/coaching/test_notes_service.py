"""Coaching notes through the service, the CLI, export and forget (SQLite and PostgreSQL):
who may do what (every refusal), the thread stored with the review and shown with the deal's
next review, `dealcoach prep`, `dealcoach export` and `dealcoach forget`."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import func, select

from dealcoach.errors import NotFound
from dealcoach.services.coaching import CoachingRefused, CoachingService, NoteInvalid
from dealcoach.services.export import write_export
from dealcoach.services.privacy import forget_user
from dealcoach.store import Store
from dealcoach.store.models import CoachingNote

from .seed import MANAGER, OTHER_MANAGER, OTHER_REP, REP, actor, second_review, seed_team


def _count(store: Store) -> int:
    with store.unit_of_work() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(CoachingNote)) or 0)


def test_only_the_reps_own_manager_coaches(store: Store) -> None:
    seeded = seed_team(store.url)
    service = CoachingService(store)
    mia, rob, olaf = actor(MANAGER), actor(REP), actor(OTHER_MANAGER)
    stranger = actor("USTRANGER")

    # Open review: the manager and the rep; never another team's manager or a stranger.
    assert service.open_review(mia, seeded.review_id).viewer_is_manager
    assert not service.open_review(rob, seeded.review_id).viewer_is_manager
    for who in (olaf, stranger):
        with pytest.raises(CoachingRefused) as refused:
            service.open_review(who, seeded.review_id)
        assert refused.value.key == "not_your_rep"
    with pytest.raises(NotFound):
        service.open_review(mia, 999_999)

    # Add a note: only the manager (not the rep, not another manager).
    for who in (rob, olaf, stranger):
        with pytest.raises(CoachingRefused):
            service.add_note(who, seeded.review_id, "hello")
    with pytest.raises(CoachingRefused):  # another team's review
        service.add_note(mia, seeded.other_review_id, "not my team")
    for bad, key in (
        ("", "empty"),
        ("  \n ", "empty"),
        ("x" * 1001, "too_long"),
        ("a\x00b", "bad_text"),
        (None, "empty"),
    ):
        with pytest.raises(NoteInvalid) as invalid:
            service.add_note(mia, seeded.review_id, bad)
        assert invalid.value.key == key
    assert _count(store) == 0

    delivery = service.add_note(mia, seeded.review_id, " Test Dana's agenda ", "Call Dana")
    note = delivery.note
    assert (note.body, note.action, note.status) == ("Test Dana's agenda", "Call Dana", "open")
    assert delivery.recipient is not None and delivery.recipient.user_id == REP

    # Reply: the rep and the note's author; done: the same two; others refused.
    for who in (olaf, stranger):
        with pytest.raises(CoachingRefused):
            service.reply(who, note.note_id, "me too")
        with pytest.raises(CoachingRefused):
            service.mark_done(who, note.note_id)
    back = service.reply(rob, note.note_id, "Calling her Friday")
    assert back.recipient is not None and back.recipient.user_id == MANAGER
    service.reply(mia, note.note_id, "Good")
    done = service.mark_done(rob, note.note_id)
    assert done.changed and done.note.status == "done"
    assert not service.mark_done(rob, note.note_id).changed
    with pytest.raises(NotFound):
        service.reply(rob, 999_999, "x")

    # The thread is stored with the review ...
    thread = service.open_review(rob, seeded.review_id).notes
    assert [n.body for n in thread] == ["Test Dana's agenda"]
    assert [r.body for r in thread[0].replies] == ["Calling her Friday", "Good"]
    assert service.note_counts([seeded.review_id]) == {seeded.review_id: (1, 0)}

    # ... and shown with the next review of the deal.
    later = second_review(store.url)
    nxt = service.open_review(mia, later)
    assert nxt.notes == () and [n.body for n in nxt.earlier_notes] == ["Test Dana's agenda"]
    # The rep's history offers both to open: the noted review and the deal's next one.
    counts, openable = service.history_notes([seeded.review_id, later, seeded.other_review_id])
    assert counts == {seeded.review_id: (1, 0)} and openable == {seeded.review_id, later}
    mine = service.open_review(rob, later)
    assert [n.body for n in mine.earlier_notes] == ["Test Dana's agenda"]


def test_notes_are_exported_and_forgotten(store: Store) -> None:
    seeded = seed_team(store.url)
    service = CoachingService(store)
    note = service.add_note(actor(MANAGER), seeded.review_id, '=HYPERLINK("x") call Dana').note
    service.reply(actor(REP), note.note_id, "On it")

    out = io.StringIO()
    write_export(store, out, "jsonl")
    records = {r["review_id"]: r for r in map(json.loads, out.getvalue().splitlines())}
    notes = records[seeded.review_id]["coaching_notes"]
    assert [n["text"] for n in notes] == ['=HYPERLINK("x") call Dana']
    assert notes[0]["author"]["id"] == MANAGER and notes[0]["status"] == "open"
    assert [r["text"] for r in notes[0]["replies"]] == ["On it"]
    assert records[seeded.other_review_id]["coaching_notes"] == []

    out = io.StringIO()
    write_export(store, out, "csv")
    rows = {r["review_id"]: r for r in csv.DictReader(io.StringIO(out.getvalue()))}
    cell = rows[str(seeded.review_id)]["coaching_notes"]
    assert "call Dana" in cell and not cell.startswith("=")

    # Forgetting the manager removes the notes they wrote (and the replies under them).
    assert _count(store) == 2
    done = forget_user(store, MANAGER)
    assert done.notes == 2 and _count(store) == 0

    # Forgetting a rep removes the notes on their reviews, whoever wrote them.
    again = CoachingService(store)
    note2 = again.add_note(actor(OTHER_MANAGER), seeded.other_review_id, "Call them").note
    again.reply(actor(OTHER_REP), note2.note_id, "ok")
    assert forget_user(store, OTHER_REP).notes == 2 and _count(store) == 0
