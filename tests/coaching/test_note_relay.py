"""`services.notify.NoteRelay` on its own: the recipient's platform picks the notifier, a
hand-over is sent once however often it is repeated, a failure is one log line and False (and
may be tried again), and a platform without a notifier keeps the note with the review."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import pytest

from dealcoach.errors import DeliveryError
from dealcoach.services.coaching import Contact, NoteDelivery, NoteView, ReplyView
from dealcoach.services.notify import NoteRelay, sends_coaching

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MIA = Contact(1, "slack", "T0ACME", "UMGR0001", "Mia", "en")
ROB = Contact(2, "teams", "tenant-1", "aad-rob", "Rob", "nl")


def delivery(kind: str, to: Contact | None = ROB, replies: int = 0) -> NoteDelivery:
    note = NoteView(
        note_id=7,
        review_id=3,
        author_user_id=MIA.user_id,
        author_name="Mia",
        body="Call Dana",
        action=None,
        status="open",
        created_at=NOW,
        done_at=None,
        replies=tuple(ReplyView(10 + n, ROB.user_id, "Rob", f"r{n}", NOW) for n in range(replies)),
    )
    return NoteDelivery(kind=kind, note=note, deal_name="Acme", sender=MIA, recipient=to)


class Recorder:
    def __init__(self, fail: int = 0) -> None:
        self.sent: list[tuple[str, int, int]] = []
        self.fail = fail

    async def _record(self, kind: str, d: NoteDelivery) -> None:
        if self.fail:
            self.fail -= 1
            raise DeliveryError("Teams did not accept the message: 503\nsecond line")
        self.sent.append((kind, d.note.note_id, len(d.note.replies)))

    async def send_note(self, d: NoteDelivery) -> None:
        await self._record("note", d)

    async def send_reply(self, d: NoteDelivery) -> None:
        await self._record("reply", d)

    async def send_done(self, d: NoteDelivery) -> None:
        await self._record("done", d)


def test_each_kind_goes_to_the_recipients_platform_once() -> None:
    teams, slack = Recorder(), Recorder()
    relay = NoteRelay({"teams": teams, "slack": slack, "cli": object()})
    assert sends_coaching(teams) and not sends_coaching(object())
    assert relay.reaches(ROB) and relay.reaches(MIA)
    assert not relay.reaches(Contact(3, "cli", "local", "me", "Me", "en"))

    async def run() -> list[bool]:
        return [
            await relay.deliver(delivery("note")),
            await relay.deliver(delivery("note")),  # a repeated hand-over: not sent again
            await relay.deliver(delivery("reply", replies=1)),
            await relay.deliver(delivery("reply", replies=2)),  # a new reply: sent
            await relay.deliver(delivery("done", to=MIA)),
            await relay.deliver(delivery("done", to=None)),  # nobody to tell
        ]

    assert asyncio.run(run()) == [True, True, True, True, True, False]
    assert teams.sent == [("note", 7, 0), ("reply", 7, 1), ("reply", 7, 2)]
    assert slack.sent == [("done", 7, 0)]


def test_concurrent_hand_overs_send_once() -> None:
    teams = Recorder()
    relay = NoteRelay({"teams": teams})

    async def run() -> list[bool]:
        return list(await asyncio.gather(*(relay.deliver(delivery("note")) for _ in range(3))))

    assert asyncio.run(run()) == [True, True, True]
    assert teams.sent == [("note", 7, 0)]


def test_a_failure_is_one_line_and_may_be_tried_again(caplog: pytest.LogCaptureFixture) -> None:
    teams = Recorder(fail=1)
    relay = NoteRelay({"teams": teams})
    with caplog.at_level(logging.WARNING, logger="dealcoach.coaching"):
        assert asyncio.run(relay.deliver(delivery("note"))) is False
    (line,) = [r.getMessage() for r in caplog.records]
    assert line == (
        "coaching note on note 7 not delivered to teams:aad-rob: "
        "Teams did not accept the message: 503"
    )
    assert asyncio.run(relay.deliver(delivery("note"))) is True
    assert teams.sent == [("note", 7, 0)]


def test_no_notifier_for_the_platform_keeps_the_note() -> None:
    relay = NoteRelay({"slack": Recorder()})
    assert not relay.reaches(ROB)
    assert asyncio.run(relay.deliver(delivery("note"))) is False
