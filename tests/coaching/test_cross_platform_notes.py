"""Coaching notes across platforms (issue 16): a reporting line may span Slack and Teams, and a
note, its replies and *Mark as done* are delivered to the other side on its own platform.

Both adapters run in ONE live app (`web.create_app`, uvicorn on loopback) against the Slack
Web API stand-in and the Bot Connector stand-in: a Slack manager's note reaches a Teams rep
as a card, the rep's reply and *done* reach the manager as Slack DMs (and the manager answers
from the DM); the reverse with a Teams manager and a Slack rep. Every Block Kit message is
validated with slack_sdk.models, every card against the Adaptive Card schema (the `connector`
fixture). English and Dutch, SQLite and PostgreSQL. A delivery that fails is logged in one
line and the note stays with the review; a second *Mark as done* tells nobody again.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

pytest.importorskip("microsoft_agents.hosting.fastapi", reason="needs the dealcoach[teams] extra")

from tests.slack.conftest import slack_api  # noqa: F401
from tests.slack.driver import SCENARIOS, sent_view, validate_blocks, validate_view
from tests.slack.harness import LiveServer, SlackSender
from tests.slack.mock_web_api import Call, MockSlackWebApi
from tests.slack.signing import SIGNING_SECRET
from tests.teams.card_schema import assert_valid_card
from tests.teams.conftest import connector  # noqa: F401
from tests.teams.connector_stub import ConnectorStub
from tests.teams.harness import TeamsUser, card_text, find_action

from dealcoach.config import Settings
from dealcoach.services.actors import Actor
from dealcoach.services.coaching import CoachingService, ct
from dealcoach.services.people import resolve_person
from dealcoach.services.reviews import ReviewService
from dealcoach.store import Store, migrate
from dealcoach.teams import coaching

from .seed import complete

SLACK_TEAM = "T0ACME"
TENANT = "tenant-1"
SLACK_LOCALE = {"en": "en-US", "nl": "nl-NL"}
TEAMS_LOCALE = {"en": "en-US", "nl": "nl-NL"}
SLACK_MANAGER, SLACK_REP = "UMGR0001", "UREP0001"
TEAMS_MANAGER, TEAMS_REP = "aad-mia", "aad-rob"

JSON = dict[str, Any]


# --- the app with both adapters -----------------------------------------------------------


@dataclass
class Both:
    server: LiveServer
    slack: SlackSender
    api: MockSlackWebApi
    connector: ConnectorStub
    url: str

    def teams_user(self, aad_id: str, name: str, locale: str) -> TeamsUser:
        short = aad_id.removeprefix("aad-")
        return TeamsUser(
            self.server.url,
            self.connector,
            aad_id=aad_id,
            user_id=f"29:{short}",
            name=name,
            tenant=TENANT,
            locale=TEAMS_LOCALE[locale],
        )


@pytest.fixture
def both(
    database_url: str,
    slack_api: MockSlackWebApi,  # noqa: F811
    connector: ConnectorStub,  # noqa: F811
) -> Iterator[Both]:
    from dealcoach.bootstrap import build_services
    from dealcoach.web import create_app

    migrate(database_url, "head")
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        slack_bot_token="xoxb-1234-5678-crossplatform",
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack_api.url,
        dealcoach_scheduler=False,
        teams_allow_anonymous=True,
        teams_service_url_hosts="127.0.0.1",
    )
    services = build_services(settings, migrate_sqlite=False)
    server = LiveServer(lambda: create_app(settings, services)).start()
    sender = SlackSender(server, secret=SIGNING_SECRET, response_url=slack_api.response_url)
    try:
        yield Both(server, sender, slack_api, connector, database_url)
    finally:
        sender.close()
        server.stop()
        services.close()


def seed(url: str, *, manager: Actor, rep: Actor, locale: str) -> int:
    """`rep` completed a review of "Acme renewal" (through the coach: it has advice);
    `manager`, on the other platform, is their manager. Returns the review id."""
    store = Store(url)
    try:
        walk = {**SCENARIOS["walk_away"], "deal.stage": "negotiation"}
        review_id = complete(ReviewService(store), rep, "Acme renewal", walk)
        with store.unit_of_work() as uow:
            boss = resolve_person(uow, manager)
            member = resolve_person(uow, rep)
            boss.locale = member.locale = locale
            uow.flush()
            uow.reporting.assign(boss, member)
            uow.commit()
        return review_id
    finally:
        store.dispose()


def thread_of(url: str, who: Actor, review_id: int) -> Any:
    store = Store(url)
    try:
        return CoachingService(store).open_review(who, review_id).notes
    finally:
        store.dispose()


# --- reading what each side got ------------------------------------------------------------


def wait_until(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError("nothing arrived in time")
        time.sleep(0.02)


def cards_to(stub: ConnectorStub, user: TeamsUser) -> list[JSON]:
    return [
        card
        for call in stub.messages()
        if call.conversation_id == user.conversation_id
        for card in call.cards
    ]


def next_card(stub: ConnectorStub, user: TeamsUser, n: int) -> JSON:
    """The `n`-th card (1-based) sent into `user`'s chat, once it is there."""
    cards = wait_until(lambda: (c := cards_to(stub, user)) and len(c) >= n and c)
    card: JSON = cards[n - 1]
    assert_valid_card(card)
    return card


def answered(body: JSON) -> JSON:
    assert body["statusCode"] == 200 and body["type"] == "application/vnd.microsoft.card.adaptive"
    card: JSON = body["value"]
    assert_valid_card(card)
    return card


def dms(api: MockSlackWebApi, user: str) -> list[Call]:
    return [c for c in api.calls_to("chat.postMessage") if c.params.get("channel") == user]


def dm(api: MockSlackWebApi, user: str, n: int) -> list[JSON]:
    """The blocks of the `n`-th DM to `user`, validated with slack_sdk.models."""
    call = api.wait_for(
        "chat.postMessage", n, timeout=10, where=lambda c: c.params.get("channel") == user
    )[n - 1]
    raw = call.params.get("blocks") or []
    blocks: list[JSON] = json.loads(raw) if isinstance(raw, str) else raw
    validate_blocks(blocks)
    assert call.params.get("text")
    return blocks


def shown(blocks: list[JSON]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def button(blocks: list[JSON], action_id: str) -> JSON | None:
    for block in blocks:
        for element in block.get("elements") or []:
            if element.get("action_id") == action_id:
                return dict(element)
    return None


def response(api: MockSlackWebApi, n: int) -> JSON:
    return dict(api.wait_for("response_url", n)[n - 1].params)


def settle() -> None:
    """Long enough for a (wrong) second delivery to show up."""
    time.sleep(0.6)


# --- a Slack manager, a Teams rep -----------------------------------------------------------


@pytest.mark.parametrize("locale", ["en", "nl"])
def test_a_slack_managers_note_reaches_a_teams_rep_and_back(both: Both, locale: str) -> None:
    api, stub, slack = both.api, both.connector, both.slack
    manager = Actor("slack", SLACK_TEAM, SLACK_MANAGER, display_name="Mia", locale=locale)
    rep = Actor("teams", TENANT, TEAMS_REP, display_name="Rob", locale=locale)
    review_id = seed(both.url, manager=manager, rep=rep, locale=locale)
    api.set_user(SLACK_MANAGER, locale=SLACK_LOCALE[locale], name="Mia")
    rob = both.teams_user(TEAMS_REP, "Rob", locale)
    rob.say("hello")  # Rob's chat with the bot (its reference is stored)
    greeted = len(cards_to(stub, rob))

    # 1. The Slack manager's digest offers *Open review* on the Teams rep's deal.
    slack.command("digest this", user=SLACK_MANAGER)
    digest = response(api, 1)
    blocks = json.loads(digest["blocks"]) if isinstance(digest["blocks"], str) else digest["blocks"]
    validate_blocks(blocks)
    opener = next(
        dict(e)
        for b in blocks
        for e in b.get("elements") or []
        if str(e.get("action_id", "")).startswith("coaching_open_review")
    )
    assert opener["value"] == str(review_id)
    slack.message_action(opener["action_id"], value=opener["value"], user=SLACK_MANAGER)
    view = sent_view(api.wait_for("views.update", 1)[0])
    assert view["callback_id"] == "coaching_note"

    # 2. The note: stored, the modal says it was sent, the rep gets the card in Teams.
    answer = slack.submit(
        view, {"coaching.note": "Ask Dana **now** <at>all</at> & the CFO"}, user=SLACK_MANAGER
    ).json()
    assert answer["response_action"] == "update"
    validate_view(answer["view"])
    assert ct(locale, "note_sent", rep="Rob") in shown(answer["view"]["blocks"])
    note_card = next_card(stub, rob, greeted + 1)
    text = card_text(note_card)
    assert ct(locale, "note_dm_intro", manager="Mia", deal="**Acme renewal**") in text
    assert "Ask Dana" in text and "**now**" not in text  # escaped for Teams markdown
    reply_action = find_action(note_card, coaching.VERB_REPLY)
    done_action = find_action(note_card, coaching.VERB_DONE)
    note_id = reply_action["data"]["note_id"]
    assert done_action["data"]["note_id"] == note_id
    assert dms(api, SLACK_MANAGER) == []  # nothing to Slack yet

    # 3. Rob replies in Teams: Mia gets the reply as a Slack DM, with *Reply* only.
    sent = answered(
        rob.submit(note_card, coaching.VERB_REPLY, {"coaching.reply": "Friday <!here>"})
    )
    assert ct(locale, "reply_sent", who="Mia") in card_text(sent)
    reply_dm = dm(api, SLACK_MANAGER, 1)
    assert "Friday &lt;!here&gt;" in shown(reply_dm) and "<!here>" not in shown(reply_dm)
    assert ct(locale, "reply_dm", who="Rob", deal="*Acme renewal*") in shown(reply_dm)
    back = button(reply_dm, "coaching_reply")
    assert back is not None and back["value"] == note_id
    assert button(reply_dm, "coaching_done") is None  # the author does not close it

    # 4. Mia answers from that DM: the answer reaches Rob's Teams chat.
    slack.message_action("coaching_reply", value=back["value"], user=SLACK_MANAGER, blocks=reply_dm)
    reply_view = sent_view(api.wait_for("views.open", 2)[-1])
    assert reply_view["callback_id"] == "coaching_reply"
    resp = slack.submit(
        reply_view, {"coaching.reply": "Good, tell me how it went"}, user=SLACK_MANAGER
    )
    assert resp.json()["response_action"] == "update"
    answer_card = next_card(stub, rob, greeted + 2)
    assert "Good, tell me how it went" in card_text(answer_card)
    assert find_action(answer_card, coaching.VERB_DONE)["data"]["note_id"] == note_id

    # 5. Rob marks it done in Teams: Mia is told once, as a Slack DM; a second click tells
    #    nobody again.
    done = answered(rob.submit(note_card, coaching.VERB_DONE, {}))
    assert ct(locale, "done_ack") in card_text(done)
    told = dm(api, SLACK_MANAGER, 2)
    assert ct(locale, "done_dm", who="Rob", deal="*Acme renewal*") in shown(told)
    again = answered(rob.submit(note_card, coaching.VERB_DONE, {}))
    assert ct(locale, "done_already") in card_text(again)
    settle()
    assert len(dms(api, SLACK_MANAGER)) == 2
    assert len(cards_to(stub, rob)) == greeted + 2  # the note and Mia's answer

    # The thread is stored with the review, as on one platform.
    (note,) = thread_of(both.url, manager, review_id)
    assert note.status == "done"
    assert [r.body for r in note.replies] == ["Friday <!here>", "Good, tell me how it went"]


# --- a Teams manager, a Slack rep -----------------------------------------------------------


@pytest.mark.parametrize("locale", ["en", "nl"])
def test_a_teams_managers_note_reaches_a_slack_rep_and_back(both: Both, locale: str) -> None:
    api, stub, slack = both.api, both.connector, both.slack
    manager = Actor("teams", TENANT, TEAMS_MANAGER, display_name="Mia", locale=locale)
    rep = Actor("slack", SLACK_TEAM, SLACK_REP, display_name="Rob", locale=locale)
    review_id = seed(both.url, manager=manager, rep=rep, locale=locale)
    api.set_user(SLACK_REP, locale=SLACK_LOCALE[locale], name="Rob")
    mia = both.teams_user(TEAMS_MANAGER, "Mia", locale)
    mia.say("hello")
    greeted = len(cards_to(stub, mia))

    # 1. Mia opens Rob's review in Teams and adds a note: Rob gets it as a Slack DM.
    review = answered(
        mia.invoke(coaching.VERB_OPEN, {"verb": coaching.VERB_OPEN, "review_id": str(review_id)})
    )
    updated = answered(
        mia.submit(review, coaching.VERB_NOTE, {"coaching.note": "Ask Dana <!channel> & the CFO"})
    )
    assert ct(locale, "note_sent", rep="Rob") in card_text(updated)
    note_dm = dm(api, SLACK_REP, 1)
    assert ct(locale, "note_dm_intro", manager="Mia", deal="*Acme renewal*") in shown(note_dm)
    assert "&lt;!channel&gt; &amp; the CFO" in shown(note_dm) and "<!channel>" not in shown(note_dm)
    reply_button, done_button = button(note_dm, "coaching_reply"), button(note_dm, "coaching_done")
    assert reply_button is not None and done_button is not None
    note_id = reply_button["value"]
    assert done_button["value"] == note_id

    # 2. Rob presses *Reply* in that DM: the reply reaches Mia's Teams chat, with Reply.
    slack.message_action("coaching_reply", value=note_id, user=SLACK_REP, blocks=note_dm)
    reply_view = sent_view(api.wait_for("views.open", 1)[-1])
    resp = slack.submit(reply_view, {"coaching.reply": "Calling her **Friday**"}, user=SLACK_REP)
    assert resp.json()["response_action"] == "update"
    assert ct(locale, "reply_sent", who="Mia") in shown(resp.json()["view"]["blocks"])
    reply_card = next_card(stub, mia, greeted + 1)
    text = card_text(reply_card)
    assert ct(locale, "reply_dm", who="Rob", deal="**Acme renewal**") in text
    assert "Friday" in text and "**Friday**" not in text
    find_action(reply_card, coaching.VERB_REPLY)
    with pytest.raises(AssertionError):
        find_action(reply_card, coaching.VERB_DONE)  # the author does not close it

    # 3. Mia answers in Teams: Rob gets it in Slack, with *Mark as done*.
    sent = answered(mia.submit(reply_card, coaching.VERB_REPLY, {"coaching.reply": "Great"}))
    assert ct(locale, "reply_sent", who="Rob") in card_text(sent)
    answer_dm = dm(api, SLACK_REP, 2)
    assert "Great" in shown(answer_dm)
    done_again = button(answer_dm, "coaching_done")
    assert done_again is not None and done_again["value"] == note_id

    # 4. Rob marks it done in Slack: Mia is told in Teams, once.
    slack.message_action("coaching_done", value=note_id, user=SLACK_REP, blocks=answer_dm)
    assert response(api, 1)["text"] == ct(locale, "done_ack")
    told = next_card(stub, mia, greeted + 2)
    assert ct(locale, "done_dm", who="Rob", deal="**Acme renewal**") in card_text(told)
    slack.message_action("coaching_done", value=note_id, user=SLACK_REP, blocks=note_dm)
    assert response(api, 2)["text"] == ct(locale, "done_already")
    settle()
    assert len(cards_to(stub, mia)) == greeted + 2

    (note,) = thread_of(both.url, manager, review_id)
    assert note.status == "done" and [r.body for r in note.replies] == [
        "Calling her **Friday**",
        "Great",
    ]


# --- when the other side cannot be reached ---------------------------------------------------


def test_a_failed_delivery_is_logged_once_and_the_note_stays(
    both: Both, caplog: pytest.LogCaptureFixture
) -> None:
    api = both.api
    manager = Actor("teams", TENANT, TEAMS_MANAGER, display_name="Mia", locale="en")
    rep = Actor("slack", SLACK_TEAM, SLACK_REP, display_name="Rob", locale="en")
    review_id = seed(both.url, manager=manager, rep=rep, locale="en")
    mia = both.teams_user(TEAMS_MANAGER, "Mia", "en")
    mia.say("hello")
    api.error("chat.postMessage", "channel_not_found")
    review = answered(
        mia.invoke(coaching.VERB_OPEN, {"verb": coaching.VERB_OPEN, "review_id": str(review_id)})
    )
    with caplog.at_level(logging.WARNING, logger="dealcoach.coaching"):
        updated = answered(mia.submit(review, coaching.VERB_NOTE, {"coaching.note": "Call Dana"}))
    assert ct("en", "note_saved", rep="Rob") in card_text(updated)
    lines = [r.getMessage() for r in caplog.records if r.name == "dealcoach.coaching"]
    assert len(lines) == 1 and "\n" not in lines[0]
    assert "not delivered to slack:UREP0001" in lines[0] and "channel_not_found" in lines[0]
    (note,) = thread_of(both.url, manager, review_id)
    assert note.body == "Call Dana" and note.status == "open"
