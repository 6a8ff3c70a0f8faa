"""*Update review* in Teams: the completed review's pages come back one card at a time,
prefilled — follow-up answers included, so they can be changed — and the last one gives new
advice on a new review, over real HTTP against the loopback Connector."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("microsoft_agents.hosting.fastapi", reason="needs the dealcoach[teams] extra")

from sqlalchemy import select
from tests.slack.harness import LiveServer
from tests.teams.connector_stub import ConnectorStub
from tests.teams.harness import TeamsUser, card_text, find_action, inputs_of
from tests.teams.test_review_http import BASE, is_advice, run_review

from dealcoach.store import Store
from dealcoach.store.models import Review
from dealcoach.teams import cards


@pytest.fixture
def rita(live: LiveServer, connector: ConnectorStub) -> TeamsUser:
    return TeamsUser(live.url, connector)


def test_update_review_walks_three_cards_prefilled_and_a_follow_up_can_be_changed(
    rita: TeamsUser, migrated_url: str
) -> None:
    thin = {**BASE, "benefit.margin": "thin", "benefit.strategic_reason": "door opener"}
    advice, _ = run_review(rita, thin)
    update = find_action(advice, cards.VERB_UPDATE)
    body = rita.invoke(cards.VERB_UPDATE, update["data"])
    assert "out of date" not in str(body["value"])  # a new card came, not a stale notice
    card = rita.last_card()
    shown: list[list[str]] = []
    for _ in range(8):
        inputs = inputs_of(card)
        shown.append(list(inputs))
        assert next(iter(inputs.values())).get("value")  # prefilled from the old review
        changes: dict[str, Any] = {}
        if "benefit.strategic_reason" in inputs:
            assert inputs["benefit.strategic_reason"]["value"] == "door opener"
            changes["benefit.strategic_reason"] = "first reference in retail"
        body = rita.submit(card, cards.VERB_STEP, changes)
        assert body["statusCode"] == 200 and body["type"] == cards.CONTENT_TYPE, body
        card = body["value"]
        if is_advice(card):
            break
    else:
        raise AssertionError("the update never finished")
    # three cards: the warning signals close the mutual-benefit card
    assert [ids[0] for ids in shown] == ["deal.name", "agenda.1.who", "benefit.customer_wins"]
    assert shown[2][-1] == "signals.silent_after_invite"
    assert "benefit.strategic_reason" in shown[2]
    assert "Acme renewal" in card_text(card)
    with Store(migrated_url).unit_of_work() as uow:
        reviews = uow.session.scalars(select(Review).order_by(Review.id)).all()
        assert [r.status for r in reviews] == ["completed", "completed"]
        assert reviews[1].reopened_from_id == reviews[0].id
        answers = uow.reviews.answers(reviews[1].id)
    assert answers["benefit.strategic_reason"] == "first reference in retail"
    assert answers["deal.account"] == "Acme" and answers["agenda.1.who"] == "Carla"
