"""Rendering: valid Block Kit (slack_sdk.models) within Slack's limits, escaped user text,
English and Dutch."""

from __future__ import annotations

import json

import pytest
from slack_sdk.models.blocks import Block

from dealcoach.digest.compose import compose_team_digests, manager_rows
from dealcoach.digest.render import render_digest, sparkline
from dealcoach.slack.digest_blocks import digest_blocks
from dealcoach.store import Store

from .seed import WEEK, at, person, review, team, two_teams


def validate_message_blocks(blocks: list[dict[str, object]]) -> None:
    assert 0 < len(blocks) <= 50, f"{len(blocks)} blocks"
    for raw in blocks:
        block = Block.parse(raw)
        assert block is not None, f"unknown block {raw.get('type')}"
        block.validate_json()
        text = raw.get("text")
        if isinstance(text, dict):
            assert len(str(text["text"])) <= 3000


def test_every_digest_is_valid_block_kit_in_both_languages(store: Store) -> None:
    two_teams(store)
    with store.unit_of_work() as uow:
        digests = compose_team_digests(uow, manager_rows(uow), WEEK)
    assert {d.locale for d in digests.values()} == {"en", "nl"}
    for digest in digests.values():
        validate_message_blocks(digest_blocks(render_digest(digest)))


def test_user_text_is_escaped_so_nobody_gets_pinged(store: Store) -> None:
    with store.unit_of_work() as uow:
        m, a = person(uow, "UM"), person(uow, "UA")
        team(uow, m, a)
        review(
            uow,
            a,
            "<!channel> & <@U0BOSS>",
            when=at(WEEK),
            recommendation="walk_away",
            quadrant="lose_lose",
            stage="closing",
        )
        uow.commit()
    with store.unit_of_work() as uow:
        digest = compose_team_digests(uow, manager_rows(uow), WEEK)[m.id]
    rendered = render_digest(digest)
    raw = json.dumps(digest_blocks(rendered))
    assert "<!channel>" not in raw and "<@U0BOSS>" not in raw
    assert "&lt;!channel&gt; &amp; &lt;@U0BOSS&gt;" in raw
    assert "<!channel> & <@U0BOSS>" in rendered.text  # plain text keeps it as typed
    validate_message_blocks(digest_blocks(rendered))


def test_a_big_team_still_fits_slacks_limits(store: Store) -> None:
    with store.unit_of_work() as uow:
        m = person(uow, "UMBIG")
        reps = [person(uow, f"UREP{i:03d}") for i in range(150)]
        team(uow, m, *reps)
        for i, rep in enumerate(reps):
            review(
                uow,
                rep,
                f"Deal {i} " + "x" * 150,
                when=at(WEEK, 1 + i % 5),
                recommendation="walk_away",
                quadrant="lose_lose",
                flags=["agenda_unknown", "customer_not_ready", "cons_not_explained"],
            )
        uow.commit()
    with store.unit_of_work() as uow:
        digest = compose_team_digests(uow, manager_rows(uow), WEEK)[m.id]
    assert len(digest.walk_away) == 150 and len(digest.riskiest) == 5
    blocks = digest_blocks(render_digest(digest))
    validate_message_blocks(blocks)
    assert "shortened to fit Slack" in json.dumps(blocks)


@pytest.mark.parametrize(
    ("values", "expected"),
    [([0, 1, 2, 4], "▁▃▅█"), ([None, 0.5, 0.5], "·▄▄"), ([None, None], "··"), ([0, 0], "▁▁")],
)
def test_the_trend_is_a_text_sparkline(values: list[float | None], expected: str) -> None:
    assert sparkline(values) == expected
