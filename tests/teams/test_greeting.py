"""One welcome per chat (#18 item 1): Teams delivers `installationUpdate` *and*
`conversationUpdate` when a user installs the bot in a personal chat (Microsoft's Agents
Playground does the same), and again on a reinstall; the user must see one greeting."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

pytest.importorskip("microsoft_agents.hosting.fastapi", reason="needs the dealcoach[teams] extra")

from tests.slack.harness import LiveServer
from tests.teams.connector_stub import ConnectorStub
from tests.teams.harness import BOT_ID, TeamsUser

WELCOME = "I am dealcoach"


def install_events(user: TeamsUser) -> list[dict[str, Any]]:
    return [
        user.activity("installationUpdate", action="add"),
        user.activity(
            "conversationUpdate",
            membersAdded=[{"id": BOT_ID}, {"id": user.user_id}],
        ),
    ]


def welcomes(user: TeamsUser, expected: int) -> list[str]:
    deadline = time.monotonic() + 5
    while True:
        found = [text for text in user.texts() if WELCOME in text]
        if len(found) >= expected or time.monotonic() > deadline:
            time.sleep(0.3)  # a second welcome would have arrived by now
            return [text for text in user.texts() if WELCOME in text]
        time.sleep(0.05)


def test_install_events_greet_once_per_chat(live: LiveServer, connector: ConnectorStub) -> None:
    rita = TeamsUser(live.url, connector)
    for activity in install_events(rita):
        assert rita.post(activity).status_code in (200, 202)
    assert len(welcomes(rita, 1)) == 1


def test_a_reinstall_does_not_greet_again_but_another_chat_is_greeted(
    live: LiveServer, connector: ConnectorStub
) -> None:
    rita = TeamsUser(live.url, connector)
    for _ in range(2):
        for activity in install_events(rita):
            rita.post(activity)
    assert len(welcomes(rita, 1)) == 1
    nina = TeamsUser(live.url, connector, aad_id="aad-nina", user_id="29:nina", name="Nina")
    for activity in install_events(nina):
        nina.post(activity)
    assert len(welcomes(nina, 2)) == 2  # the stub records both chats: one welcome each


def test_simultaneous_install_events_greet_once(
    live: LiveServer, connector: ConnectorStub
) -> None:
    rita = TeamsUser(live.url, connector)
    events = install_events(rita) * 3
    with ThreadPoolExecutor(max_workers=len(events)) as pool:
        statuses = list(pool.map(lambda a: rita.post(a).status_code, events))
    assert all(status in (200, 202) for status in statuses), statuses
    assert len(welcomes(rita, 1)) == 1
