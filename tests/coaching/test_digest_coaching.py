"""The digest counts coaching ("coaching given this week: N notes on M deals; K open") and
lists a note still open after a week in the manager's next digest — once: the digest after
that does not list it again, a retried digest of the same week does, a done note never is.
SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update

from dealcoach.digest.compose import DigestModel
from dealcoach.digest.delivery import DbRunner, send_digests
from dealcoach.digest.render import RenderedDigest
from dealcoach.digest.weeks import IsoWeek
from dealcoach.services.coaching import CoachingService
from dealcoach.slack.digest_blocks import digest_blocks
from dealcoach.store import Store
from dealcoach.store.models import CoachingNote

from .seed import MANAGER, OTHER_MANAGER, REP, actor, seed_team

W0 = IsoWeek.containing(datetime.now(UTC), UTC).previous(4)  # type: ignore[arg-type]


def _at(week: IsoWeek, day: int) -> datetime:
    return datetime.combine(week.monday, datetime.min.time(), tzinfo=UTC) + timedelta(
        days=day - 1, hours=10
    )


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[DigestModel, RenderedDigest]] = []

    async def send_digest(
        self, manager: Any, digest: DigestModel, rendered: RenderedDigest
    ) -> None:
        self.sent.append((digest, rendered))


def _send(store: Store, week: IsoWeek) -> dict[str, tuple[DigestModel, RenderedDigest]]:
    recorder = Recorder()
    asyncio.run(send_digests(DbRunner(store), {"slack": recorder}, week=week))
    return {d.recipient.user_id: (d, r) for d, r in recorder.sent}


def _backdate(store: Store, note_id: int, when: datetime) -> None:
    with store.unit_of_work() as uow:
        uow.session.execute(
            update(CoachingNote).where(CoachingNote.id == note_id).values(created_at=when)
        )
        uow.commit()


def test_coaching_is_counted_and_an_open_note_followed_up_once(store: Store) -> None:
    seeded = seed_team(store.url)
    coaching = CoachingService(store)
    mia = actor(MANAGER)
    first = coaching.add_note(mia, seeded.review_id, "Test Dana's agenda first").note
    second = coaching.add_note(mia, seeded.review_id, "And ask about budget").note
    _backdate(store, first.note_id, _at(W0, 2))
    _backdate(store, second.note_id, _at(W0, 3))
    coaching.mark_done(actor(REP), second.note_id)

    # Week 0: two notes on one deal, one still open; nothing is a week old yet.
    digests = _send(store, W0)
    digest, rendered = digests[MANAGER]
    assert digest.coaching is not None
    assert (digest.coaching.notes, digest.coaching.deals, digest.coaching.open) == (2, 1, 1)
    assert "Coaching given this week: 2 notes on 1 deal; 1 open." in rendered.text
    assert digest.followups == ()
    assert digests[OTHER_MANAGER][0].coaching is None  # another manager's digest: no count

    # Week 1: the open note is listed (the done one is not) — and recorded as followed up.
    w1 = W0.next()
    digest, rendered = _send(store, w1)[MANAGER]
    assert [f.note_id for f in digest.followups] == [first.note_id]
    assert "Still open after a week" in rendered.text and "Test Dana" in rendered.text
    # ... with Open review on it, though the deal had no review that week.
    assert [r.review_id for r in rendered.extra["open_reviews"]] == [seeded.review_id]
    assert str(seeded.review_id) in json.dumps(digest_blocks(rendered))
    assert digest.coaching is None  # no notes written in week 1

    # Week 2: never twice.
    digest, rendered = _send(store, w1.next())[MANAGER]
    assert digest.followups == () and "Still open after a week" not in rendered.text

    # A preview or a retried digest of week 1 still shows it (it belongs to that week).
    with store.unit_of_work() as uow:
        from dealcoach.digest.compose import compose_team_digests, manager_rows

        again = compose_team_digests(uow, manager_rows(uow), w1)
    ids = {d.recipient.user_id: d for d in again.values()}
    assert [f.note_id for f in ids[MANAGER].followups] == [first.note_id]


def test_dutch_digest_counts_coaching_in_dutch(store: Store) -> None:
    seeded = seed_team(store.url, locale="nl")
    coaching = CoachingService(store)
    note = coaching.add_note(actor(MANAGER, locale="nl"), seeded.review_id, "Bel Dana").note
    _backdate(store, note.note_id, _at(W0, 2))
    _, rendered = _send(store, W0)[MANAGER]
    assert "Coaching gegeven deze week: 1 notitie bij 1 deal; 1 nog open." in rendered.text
    _, rendered = _send(store, W0.next())[MANAGER]
    assert "Na een week nog open" in rendered.text and "Bel Dana" in rendered.text
