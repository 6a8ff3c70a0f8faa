"""Conversation logic driven by Microsoft's own harness (microsoft-agents-testing:
`TestAdapter` + `TestFlow`), without HTTP: the same AgentApplication the server runs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("microsoft_agents.hosting.fastapi", reason="needs the dealcoach[teams] extra")
pytest.importorskip("microsoft_agents.testing", reason="needs microsoft-agents-testing")

from microsoft_agents.activity import Activity, ChannelAccount
from microsoft_agents.testing import TestAdapter, TestFlow
from tests.teams.card_schema import assert_valid_card
from tests.teams.conftest import make_settings
from tests.teams.harness import card_text, inputs_of

from dealcoach.teams import cards
from dealcoach.teams.runtime import TeamsRuntime


@pytest.fixture
def runtime(migrated_url: str) -> Iterator[TeamsRuntime]:
    from dealcoach.bootstrap import build_services

    settings = make_settings(migrated_url)
    services = build_services(settings, migrate_sqlite=False)
    yield TeamsRuntime.create(settings, services)
    services.close()


@pytest.fixture
def adapter() -> TestAdapter:
    conversation = TestAdapter.create_conversation_model(channel_id="msteams", user_id="29:tess",
                                                         user_name="Tess Tester")
    return TestAdapter(conversation=conversation)


def _card(reply: Activity) -> dict[str, Any]:
    assert reply.attachments, f"expected a card, got {reply.text!r}"
    content = reply.attachments[0].content
    assert isinstance(content, dict)
    assert_valid_card(content)
    return content


async def test_help_and_unknown_text(runtime: TeamsRuntime, adapter: TestAdapter) -> None:
    flow = TestFlow(adapter, runtime.agent.on_turn)
    await (
        flow.send("help")
        .assert_reply(lambda r: _assert_in("dealcoach", card_text(_card(r))))
        .send("what is the weather")
        .assert_reply("I did not understand that. Write **help** to see what I can do.")
        .send("lang xx")
        .assert_reply("Usage: **lang en** or **lang nl**.")
        .start_test()
    )


async def test_a_step_card_is_answered_through_an_invoke(
    runtime: TeamsRuntime, adapter: TestAdapter
) -> None:
    flow = TestFlow(adapter, runtime.agent.on_turn)
    cards_seen: list[dict[str, Any]] = []
    await flow.send("review Globex").assert_reply(
        lambda r: cards_seen.append(_card(r))
    ).start_test()
    first = cards_seen[0]
    assert "deal.name" not in inputs_of(first)  # already answered by "review Globex"
    assert "Globex" in card_text(first)
    action = next(a for a in first["actions"] if a["verb"] == cards.VERB_STEP)
    invoke = Activity(
        type="invoke",
        name="adaptiveCard/action",
        from_property=ChannelAccount(id="29:tess", name="Tess Tester"),
        value={"action": {"type": "Action.Execute", "verb": cards.VERB_STEP,
                          "data": {**action["data"], "fit.requirements_met": "yes"}}},
    )

    def check(reply: Activity) -> None:
        assert reply.type == "invokeResponse"
        body = reply.value.body
        assert body["statusCode"] == 200 and body["type"] == cards.CONTENT_TYPE
        assert_valid_card(body["value"])
        assert "agenda.1.who" in inputs_of(body["value"])  # on to the decision-makers

    await TestFlow(adapter, runtime.agent.on_turn).send(invoke).assert_reply(check).start_test()


def _assert_in(needle: str, haystack: str) -> None:
    assert needle in haystack, haystack
