"""The CRM link end to end in Teams: real HTTP to /api/messages, replies through the Bot
Connector stand-in, every card checked against the Adaptive Card 1.5 schema. Connect, list
the CRM's deals on the first step, fill in from one, review, Save to CRM twice (one note),
revoke → one line on the card, the review goes on."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

pytest.importorskip("microsoft_agents.hosting.fastapi", reason="needs the dealcoach[teams] extra")

from tests.crm.conftest import SECRET_KEY
from tests.crm.standins import HubSpotStandIn
from tests.slack.harness import LiveServer
from tests.teams.conftest import make_settings
from tests.teams.connector_stub import ConnectorStub
from tests.teams.harness import TeamsUser, card_text, find_action, inputs_of
from tests.teams.test_review_http import BASE

from dealcoach.teams import cards
from dealcoach.teams import crm as crm_link

SECOND = {
    "agenda.2.role": "technical",
    "agenda.2.interests": ["easier_life"],
    "agenda.2.certainty": "assumed",
    "agenda.2.translation": "Less on-call work",
    "agenda.2.new_in_role": "no",
    "agenda.2.competitor_relationship": "no",
}


@pytest.fixture
def teams_live(
    migrated_url: str, connector: ConnectorStub, hubspot: HubSpotStandIn
) -> Iterator[LiveServer]:
    from dealcoach.bootstrap import build_services
    from dealcoach.web import create_app

    assert crm_link.__file__.startswith(str(__import__("pathlib").Path(__file__).parents[2]))
    crm_link._providers.clear()
    settings = make_settings(
        migrated_url, dealcoach_secret_key=SECRET_KEY, dealcoach_hubspot_url=hubspot.url,
        dealcoach_admins=["aad-rita"],
    )
    services = build_services(settings, migrate_sqlite=False)
    server = LiveServer(lambda: create_app(settings, services)).start()
    try:
        yield server
    finally:
        server.stop()
        services.close()


def _answer(user: TeamsUser, card: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    values = {qid: answers[qid] for qid in inputs_of(card) if qid in answers}
    return user.submit(card, cards.VERB_STEP, values)


def test_connect_pick_prefill_review_save_twice_then_revoke(
    teams_live: LiveServer, connector: ConnectorStub, hubspot: HubSpotStandIn,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    rita = TeamsUser(teams_live.url, connector)
    rita.say(f"crm connect hubspot {hubspot.token}")
    assert "HubSpot is connected" in rita.texts()[-1]

    rita.say("dealcoach")
    first = rita.last_card()
    listed = rita.submit(first, crm_link.VERB_LIST, {})["value"]
    choice = inputs_of(listed)[crm_link.DEAL_INPUT]
    assert [c["value"] for c in choice["choices"]] == ["101", "102"]
    filled = rita.submit(listed, crm_link.VERB_PICK, {crm_link.DEAL_INPUT: "101"})["value"]
    inputs = inputs_of(filled)
    assert inputs["deal.name"]["value"] == "Acme renewal"
    assert inputs["deal.account"]["value"] == "Acme Corp"
    assert inputs["deal.value"]["value"] == "48000"
    assert inputs["deal.stage"]["value"] == "proposal"
    assert "Ann Buyer" in card_text(filled) and "Tom Tech" in card_text(filled)

    answers = {k: v for k, v in BASE.items() if not k.startswith("deal.") and k != "agenda.1.who"}
    card = filled
    for _ in range(12):
        card = _answer(rita, card, {**answers, **SECOND})["value"]
        if cards.OUTCOME_INPUT in inputs_of(card):
            break
    else:
        raise AssertionError("the review never finished")
    assert "Acme renewal" in card_text(card)
    find_action(card, crm_link.VERB_SAVE)
    saved = rita.submit(card, crm_link.VERB_SAVE, {})
    assert "Saved to HubSpot as a note on Acme renewal" in saved["value"]
    again = rita.submit(card, crm_link.VERB_SAVE, {})
    assert "Updated the note" in again["value"]
    assert len(hubspot.notes_on("101")) == 1

    hubspot.revoked = True
    rita.say("dealcoach")
    fresh = rita.last_card()
    shown = rita.submit(fresh, crm_link.VERB_LIST, {})["value"]
    assert "access refused" in card_text(shown)
    assert "deal.name" in inputs_of(shown)  # the review goes on
    failed = rita.submit(card, crm_link.VERB_SAVE, {})
    assert "Could not save to HubSpot" in failed["value"]

    metrics = httpx.get(f"{teams_live.url}/metrics").text
    for secret in (hubspot.token, SECRET_KEY):
        assert secret not in caplog.text
        assert secret not in metrics


def test_without_a_crm_the_cards_are_unchanged(
    teams_live: LiveServer, connector: ConnectorStub
) -> None:
    rita = TeamsUser(teams_live.url, connector)
    rita.say("crm")
    assert "No CRM is connected" in rita.texts()[-1]
    rita.say("dealcoach")
    with pytest.raises(AssertionError):
        find_action(rita.last_card(), crm_link.VERB_LIST)
    bob = TeamsUser(teams_live.url, connector, aad_id="aad-bob", user_id="29:bob", name="Bob")
    bob.say("crm connect hubspot pat-na1-x")
    assert "Only workspace admins" in bob.texts()[-1]
