"""Proactive messages: a review shared with the manager lands in the manager's personal chat
(continue_conversation on the stored reference), and the notifier opens a new 1:1 chat
(create_conversation) for someone who never wrote to the bot — all against the loopback
Connector stand-in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("microsoft_agents.hosting.fastapi", reason="needs the dealcoach[teams] extra")

from tests.slack.harness import LiveServer
from tests.teams.connector_stub import ConnectorStub
from tests.teams.harness import TeamsUser, card_text
from tests.teams.test_review_http import BASE, run_review

from dealcoach.services.actors import Actor
from dealcoach.services.people import resolve_person
from dealcoach.store import Store
from dealcoach.teams import cards
from dealcoach.teams.notifier import TeamsNotifier


def _assign(url: str, manager: TeamsUser, member: TeamsUser) -> None:
    store = Store(url)
    with store.unit_of_work() as uow:
        boss = resolve_person(uow, Actor("teams", manager.tenant, manager.aad_id))
        rep = resolve_person(uow, Actor("teams", member.tenant, member.aad_id))
        uow.reporting.assign(boss, rep)
        uow.commit()
    store.dispose()


@pytest.fixture
def people(live: LiveServer, connector: ConnectorStub) -> Iterator[tuple[TeamsUser, TeamsUser]]:
    mark = TeamsUser(live.url, connector, aad_id="aad-mark", user_id="29:mark",
                     name="Mark Manager")
    yield TeamsUser(live.url, connector), mark


def test_share_sends_the_advice_to_the_managers_personal_chat(
    people: tuple[TeamsUser, TeamsUser], migrated_url: str, connector: ConnectorStub
) -> None:
    rita, mark = people
    mark.say("hi")  # the manager opened the bot once: his chat's reference is stored
    _assign(migrated_url, mark, rita)
    advice, _ = run_review(rita, BASE)
    share = next(a for a in advice["actions"] if a.get("verb") == cards.VERB_SHARE)
    body = rita.invoke(cards.VERB_SHARE, share["data"])
    assert body["type"] == "application/vnd.microsoft.activity.message"
    assert body["value"] == "Shared with your manager."
    to_mark = [c for c in connector.messages() if c.conversation_id == mark.conversation_id
               and c.cards]
    assert len(to_mark) == 1
    text = card_text(to_mark[0].cards[0])
    assert "Rita Rep shared a deal review" in text and "Acme renewal" in text


def test_a_share_teams_did_not_accept_can_be_tried_again_and_is_then_sent_once(
    people: tuple[TeamsUser, TeamsUser], migrated_url: str, connector: ConnectorStub
) -> None:
    rita, mark = people
    mark.say("hi")
    _assign(migrated_url, mark, rita)
    advice, _ = run_review(rita, BASE)
    share = next(a for a in advice["actions"] if a.get("verb") == cards.VERB_SHARE)
    connector.fail_next(500)
    first = rita.invoke(cards.VERB_SHARE, share["data"])["value"]
    assert first != "Shared with your manager." and "already" not in first.lower()
    assert rita.invoke(cards.VERB_SHARE, share["data"])["value"] == "Shared with your manager."
    third = rita.invoke(cards.VERB_SHARE, share["data"])["value"]  # a card with the refusal
    assert "already shared" in card_text(third)
    attempts = [c for c in connector.messages() if c.conversation_id == mark.conversation_id
                and c.cards]
    assert len(attempts) == 2  # the one Teams refused and the one delivered; not a third


def test_share_without_a_manager_says_so(people: tuple[TeamsUser, TeamsUser]) -> None:
    rita, _ = people
    advice, _ = run_review(rita, BASE)
    share = next(a for a in advice["actions"] if a.get("verb") == cards.VERB_SHARE)
    assert "No manager is set" in rita.invoke(cards.VERB_SHARE, share["data"])["value"]


async def test_the_notifier_continues_a_stored_chat_and_opens_a_new_one(
    live: LiveServer, connector: ConnectorStub
) -> None:
    runtime = live.app.state.teams
    notifier = TeamsNotifier(runtime)
    rita = TeamsUser(live.url, connector)
    reference = {
        "channelId": "msteams", "serviceUrl": connector.url,
        "conversation": {"id": rita.conversation_id, "tenantId": rita.tenant},
        "user": {"id": rita.user_id}, "bot": {"id": "28:dealcoach-bot"},
    }
    assert await notifier.send(reference=reference, user_id=rita.aad_id,
                               text_md="**Your weekly digest**") is None
    created = await notifier.send(reference=None, user_id="29:new-manager",
                                  card=cards.message_card("Digest for week 47"),
                                  service_url=connector.url, tenant_id="tenant-1")
    kinds = [c.kind for c in connector.calls]
    assert kinds == ["send", "create_conversation", "send"]
    assert connector.calls[0].conversation_id == rita.conversation_id
    new_conversation = connector.calls[1].response_id
    assert connector.calls[2].conversation_id == new_conversation
    assert created is not None and created["conversation"]["id"] == new_conversation
    assert connector.calls[1].body["members"] == [{"id": "29:new-manager"}]
