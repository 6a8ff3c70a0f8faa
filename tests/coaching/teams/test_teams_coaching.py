"""Managers coach in Teams, end to end over HTTP against the Bot Connector stand-in: *Open
review* on the digest card, a coaching note delivered to the rep's chat as a card with
*Reply* and *Mark as done*, the reply back to the manager, `prep <rep>` — and another team's
manager refused at every step. English and Dutch, SQLite and PostgreSQL; every card the bot
sends or answers with is checked against the Adaptive Card schema."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("microsoft_agents.hosting.fastapi", reason="needs the dealcoach[teams] extra")

from tests.teams.card_schema import assert_valid_card
from tests.teams.connector_stub import ConnectorStub
from tests.teams.harness import TeamsUser, card_text, find_action

from dealcoach.services.coaching import ct
from dealcoach.teams import coaching
from dealcoach.teams.commands import parse

from ..seed import MANAGER, OTHER_MANAGER, OTHER_REP, REP, seed_team

TENANT = "tenant-1"
IDS = {MANAGER: "aad-mia", REP: "aad-rob", OTHER_MANAGER: "aad-olaf", OTHER_REP: "aad-otto"}
TEAMS_LOCALE = {"en": "en-US", "nl": "nl-NL"}


def test_prep_takes_one_person() -> None:
    assert parse("prep aad-rob").name == "prep"
    assert parse("prep aad-rob").arg == "aad-rob"
    assert parse("prep the Acme pitch").name == "unknown"


def _person(live: Any, connector: ConnectorStub, key: str, name: str, locale: str) -> TeamsUser:
    who = IDS[key].removeprefix("aad-")
    return TeamsUser(
        live.url,
        connector,
        aad_id=IDS[key],
        user_id=f"29:{who}",
        name=name,
        tenant=TENANT,
        locale=TEAMS_LOCALE[locale],
    )


def _sent_to(connector: ConnectorStub, user: TeamsUser) -> list[dict[str, Any]]:
    return [
        card
        for call in connector.messages()
        if call.conversation_id == user.conversation_id
        for card in call.cards
    ]


def _card(body: dict[str, Any]) -> dict[str, Any]:
    assert body["statusCode"] == 200 and body["type"] == "application/vnd.microsoft.card.adaptive"
    card: dict[str, Any] = body["value"]
    assert_valid_card(card)
    return card


@pytest.mark.parametrize("locale", ["en", "nl"])
def test_a_manager_coaches_a_rep_in_teams(
    live: Any, connector: ConnectorStub, migrated_url: str, locale: str
) -> None:
    seeded = seed_team(migrated_url, platform="teams", workspace=TENANT, locale=locale, ids=IDS)
    mia = _person(live, connector, MANAGER, "Mia", locale)
    rob = _person(live, connector, REP, "Rob", locale)
    olaf = _person(live, connector, OTHER_MANAGER, "Olaf", locale)
    for person in (mia, rob, olaf):
        person.say("hello")  # each has a chat with the bot (its reference is stored)
    mia.say("help")
    assert ct(locale, "help_prep_teams") in card_text(mia.last_card())

    # 1. The digest card offers *Open review* on the rep's deal, never another team's.
    mia.say("digest this")
    digest = mia.last_card()
    assert_valid_card(digest)
    action = find_action(digest, coaching.VERB_OPEN)
    assert action["data"]["review_id"] == str(seeded.review_id)
    assert "Acme renewal" in action["title"]
    assert "Secret Omega" not in str(digest)

    # 2. Open review: advice, answers, notes, a note input.
    review = _card(mia.submit(digest, coaching.VERB_OPEN, {}))
    text = card_text(review)
    assert ct(locale, "answers_title") in text and "Dana" in text
    assert ct(locale, "no_notes") in text
    find_action(review, coaching.VERB_NOTE)

    # The other team's manager: refused when opening, and when adding a note.
    refused = _card(
        olaf.invoke(
            coaching.VERB_OPEN, {"verb": coaching.VERB_OPEN, "review_id": str(seeded.review_id)}
        )
    )
    assert ct(locale, "refused.not_your_rep") in card_text(refused)
    assert "Dana" not in card_text(refused)
    refused = _card(olaf.submit(review, coaching.VERB_NOTE, {"coaching.note": "sneaky"}))
    assert ct(locale, "refused.not_your_rep") in card_text(refused)
    # An empty note is refused.
    empty = _card(mia.submit(review, coaching.VERB_NOTE, {"coaching.note": "  "}))
    assert ct(locale, "invalid.empty") in card_text(empty)
    assert _sent_to(connector, rob) == []

    # 3. The note goes to the rep's chat, escaped, with Reply and Mark as done.
    updated = _card(
        mia.submit(
            review,
            coaching.VERB_NOTE,
            {"coaching.note": "Ask Dana **now** <at>all</at>", "coaching.about": "0"},
        )
    )
    assert ct(locale, "note_sent", rep="Rob") in card_text(updated)
    to_rob = _sent_to(connector, rob)
    assert len(to_rob) == 1
    note_card = to_rob[0]
    assert_valid_card(note_card)
    assert "**now**" not in card_text(note_card)  # escaped: shown, not rendered bold
    reply_action = find_action(note_card, coaching.VERB_REPLY)
    done_action = find_action(note_card, coaching.VERB_DONE)
    assert reply_action["data"]["note_id"] == done_action["data"]["note_id"]

    # 4. The rep replies; the manager's chat gets it. The outsider cannot reply.
    sent = _card(rob.submit(note_card, coaching.VERB_REPLY, {"coaching.reply": "Friday"}))
    assert ct(locale, "reply_sent", who="Mia") in card_text(sent)
    to_mia = _sent_to(connector, mia)
    assert any("Friday" in card_text(c) for c in to_mia)
    refused = _card(olaf.submit(note_card, coaching.VERB_REPLY, {"coaching.reply": "me"}))
    assert ct(locale, "refused.not_your_note") in card_text(refused)

    # 5. Prep shows the deal and the open note; the outsider gets a refusal.
    mia.say(f"prep {IDS[REP]}")
    prep = mia.last_card()
    assert_valid_card(prep)
    assert "Acme renewal" in card_text(prep) and "Dana" in card_text(prep)
    olaf.say(f"prep {IDS[REP]}")
    assert ct(locale, "refused.not_your_rep") in olaf.texts()[-1]

    # 6. Mark as done: refused for the outsider, done once for the rep, the manager told.
    refused = _card(olaf.submit(note_card, coaching.VERB_DONE, {}))
    assert ct(locale, "refused.not_your_note") in card_text(refused)
    done = _card(rob.submit(note_card, coaching.VERB_DONE, {}))
    assert ct(locale, "done_ack") in card_text(done)
    told = _sent_to(connector, mia)
    assert ct(locale, "status_done") in card_text(_card(mia.submit(digest, coaching.VERB_OPEN, {})))
    assert len(told) > len(to_mia)
    again = _card(rob.submit(note_card, coaching.VERB_DONE, {}))
    assert ct(locale, "done_already") in card_text(again)

    # 7. The rep's history shows the review's coaching notes.
    rob.say("history")
    history = rob.last_card()
    assert ct(locale, "history_notes", notes=1, open=0) in card_text(history)
    own = _card(rob.submit(history, coaching.VERB_OPEN, {}))
    assert "Friday" in card_text(own) and ct(locale, "status_done") in card_text(own)
    with pytest.raises(AssertionError):
        find_action(own, coaching.VERB_NOTE)  # the rep cannot add notes
    assert OTHER_REP  # (another team's rep: seeded, never shown)


@pytest.mark.parametrize("locale", ["en", "nl"])
def test_the_teams_digest_card_carries_the_charts_with_alt_text(locale: str) -> None:
    from dealcoach.digest.compose import DigestModel, PersonRef, WeekPoint
    from dealcoach.digest.render import render_digest, text
    from dealcoach.teams.digest_cards import digest_card

    history = tuple(
        WeekPoint(week=f"2026-W{39 + i}", reviews=r, win_win=r // 2)
        for i, r in enumerate([0, 2, 3, 1, 5, 4, 0, 6])
    )
    model = DigestModel(
        kind="team",
        recipient=PersonRef(
            person_id=1, platform="teams", workspace_id=TENANT, user_id="aad-mia", locale=locale
        ),
        week="2026-W46",
        locale=locale,
        total_reviews=6,
        history=history,
        recommendation_history=tuple({"pursue": r} if r else {} for r in [0, 2, 3, 1, 5, 4, 0, 6]),
    )
    card = digest_card(render_digest(model), locale=locale, digest=model)
    assert_valid_card(card)
    images = [b for b in card["body"] if b.get("type") == "Image"]
    assert len(images) == 1
    assert images[0]["url"].startswith("data:image/png;base64,")
    assert images[0]["altText"].startswith(text(locale, "chart_alt").split(":")[0])
    assert ct(locale, "chart_mix_alt").split(":")[0] in images[0]["altText"]
    assert len(str(card)) < 28_000  # Teams refuses cards much larger than this


def test_the_next_review_of_a_coached_deal_shows_the_notes_under_its_advice(
    live: Any, connector: ConnectorStub, migrated_url: str
) -> None:
    from tests.teams.test_review_http import BASE, run_review

    from dealcoach.services.coaching import CoachingService
    from dealcoach.store import Store

    from ..seed import actor

    seeded = seed_team(migrated_url, platform="teams", workspace=TENANT, ids=IDS)
    store = Store(migrated_url)
    try:
        CoachingService(store).add_note(
            actor(IDS[MANAGER], platform="teams", workspace=TENANT),
            seeded.review_id,
            "Ask Dana what the CFO needs before Friday",
        )
    finally:
        store.dispose()
    rob = _person(live, connector, REP, "Rob", "en")
    advice, _ = run_review(rob, BASE)  # "review Acme renewal": the coached deal
    assert_valid_card(advice)
    text = card_text(advice)
    assert ct("en", "earlier_notes_intro") in text and "what the CFO needs" in text
    opened = find_action(advice, coaching.VERB_OPEN)
    assert int(opened["data"]["review_id"]) != seeded.review_id

    otto = _person(live, connector, OTHER_REP, "Otto", "en")
    other, _ = run_review(otto, BASE)  # Acme renewal is Otto's own, never coached deal
    assert "what the CFO needs" not in card_text(other)
    assert ct("en", "earlier_notes_intro") not in card_text(other)
