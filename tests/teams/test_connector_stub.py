"""The Connector stand-in speaks the protocol the Agents SDK's own ConnectorClient uses."""

from __future__ import annotations

import pytest

pytest.importorskip("microsoft_agents.hosting.core", reason="needs the dealcoach[teams] extra")

from microsoft_agents.activity import (
    Activity,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
)
from microsoft_agents.hosting.core.connector.teams import TeamsConnectorClient
from tests.teams.connector_stub import ConnectorStub


def _message(conversation_id: str, text: str, **extra: object) -> Activity:
    return Activity(
        type="message",
        text=text,
        channel_id="msteams",
        conversation=ConversationAccount(id=conversation_id),
        **extra,
    )


async def test_stub_records_send_reply_update_and_create_from_the_sdk_client(
    connector: ConnectorStub,
) -> None:
    client = TeamsConnectorClient(endpoint=connector.url, token="")
    try:
        sent = await client.conversations.send_to_conversation("a:1", _message("a:1", "hello"))
        replied = await client.conversations.reply_to_activity(
            "a:1", "incoming-1", _message("a:1", "reply", reply_to_id="incoming-1")
        )
        updated = await client.conversations.update_activity(
            "a:1", sent.id, _message("a:1", "edited", id=sent.id)
        )
        created = await client.conversations.create_conversation(
            ConversationParameters(
                is_group=False,
                members=[ChannelAccount(id="29:manager")],
                tenant_id="tenant-1",
            )
        )
    finally:
        await client.close()

    kinds = [call.kind for call in connector.calls]
    assert kinds == ["send", "reply", "update", "create_conversation"]
    assert sent.id and replied.id and sent.id != replied.id
    assert updated.id == sent.id
    assert connector.calls[1].activity_id == "incoming-1"
    assert connector.calls[2].body["text"] == "edited"
    assert created.id in connector.conversations
    assert connector.calls[3].body["members"][0]["id"] == "29:manager"
    # anonymous (empty token): no Authorization header is sent
    assert connector.calls[0].authorization is None


async def test_stub_can_fail_a_call_so_delivery_errors_are_testable(
    connector: ConnectorStub,
) -> None:
    connector.fail_next(503)
    client = TeamsConnectorClient(endpoint=connector.url, token="t0ken-abc")
    try:
        with pytest.raises(Exception, match=r"503|Service Unavailable|HTTP"):
            await client.conversations.send_to_conversation("a:1", _message("a:1", "x"))
        ok = await client.conversations.send_to_conversation("a:1", _message("a:1", "y"))
    finally:
        await client.close()
    assert ok.id
    assert [c.text for c in connector.calls] == ["x", "y"]
    assert connector.calls[1].authorization == "Bearer t0ken-abc"
