"""Manager features through the running app, signed like Slack: `/dealcoach team|digest|
pause|resume`, every refusal, the App Home (validated with slack_sdk.models) and its buttons."""

from __future__ import annotations

import json

import pytest
from tests.slack.driver import validate_blocks, validate_view
from tests.slack.harness import SlackSender
from tests.slack.mock_web_api import MockSlackWebApi

from dealcoach.config import Settings
from dealcoach.slack.listeners.commands import parse_command
from dealcoach.store import Store

from .seed import WEEK, at, person, review, team

MANAGER, REP, OTHER, ADMIN = "UMGR0001", "UREP0001", "UREP0002", "UADM0001"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("team", ("team", "")),
        (
            "team add <@UMGR0001|mia> <@UREP0001|rob>",
            ("team", "add <@UMGR0001|mia> <@UREP0001|rob>"),
        ),
        ("team building offsite", ("review", "team building offsite")),
        ("digest", ("digest", "")),
        ("digest 2026-W46", ("digest", "2026-W46")),
        ("overzicht vorige", ("digest", "vorige")),
        ("digest of the Acme deal", ("review", "digest of the Acme deal")),
        ("pause", ("pause", "")),
        ("pauze", ("pause", "")),
        ("resume", ("resume", "")),
        ("hervat", ("resume", "")),
        ("pause the Acme deal", ("review", "pause the Acme deal")),
    ],
)
def test_manager_sub_commands_are_reserved_only_in_their_exact_forms(
    text: str, expected: tuple[str, str]
) -> None:
    assert parse_command(text) == expected


def _seed(settings: Settings) -> None:
    store = Store(settings.database_url)
    try:
        with store.unit_of_work() as uow:
            m = person(uow, MANAGER, workspace="T0ACME")
            r, o = person(uow, REP, workspace="T0ACME"), person(uow, OTHER, workspace="T0ACME")
            outsider = person(uow, "UOUT0001", workspace="T0ACME")
            team(uow, m, r, o)
            review(
                uow,
                r,
                "Rob's Acme",
                when=at(WEEK),
                recommendation="walk_away",
                quadrant="lose_lose",
                stage="closing",
                flags=["agenda_unknown"],
            )
            review(uow, o, "Olga's Beta", when=at(WEEK, 3), recommendation="renegotiate")
            review(uow, outsider, "Secret Omega", when=at(WEEK), recommendation="walk_away")
            uow.commit()
    finally:
        store.dispose()


def _blocks(params: dict[str, object]) -> list[dict[str, object]]:
    raw = params["blocks"]
    return json.loads(raw) if isinstance(raw, str) else raw  # type: ignore[return-value]


def _reply(api: MockSlackWebApi, n: int) -> dict[str, object]:
    call = api.wait_for("response_url", n)[-1]
    return call.params


def test_only_admins_may_change_teams(slack: SlackSender, slack_api: MockSlackWebApi) -> None:
    slack.command(f"team add <@{MANAGER}|mia> <@{REP}|rob>", user=REP)
    refused = _reply(slack_api, 1)
    assert "Only workspace admins" in str(refused["text"])
    assert refused["response_type"] == "ephemeral"
    slack.command(f"team remove <@{REP}|rob>", user=MANAGER)
    assert "Only workspace admins" in str(_reply(slack_api, 2)["text"])

    slack_api.set_user(ADMIN, is_admin=True)
    slack.command(f"team add <@{MANAGER}|mia> <@{REP}|rob> <@{OTHER}>", user=ADMIN)
    added = str(_reply(slack_api, 3)["text"])
    assert f"<@{REP}>, <@{OTHER}> now report to <@{MANAGER}>" in added
    slack.command(f"team add <@{MANAGER}|mia> <@{MANAGER}|mia>", user=ADMIN)
    assert "Nobody can manage themselves" in str(_reply(slack_api, 4)["text"])
    slack.command("team add @mia @rob", user=ADMIN)  # plain names: usage, nothing changes
    assert "Usage" in str(_reply(slack_api, 5)["text"])
    slack.command("team", user=ADMIN)
    assert f"<@{MANAGER}>: <@{REP}>, <@{OTHER}>" in str(_reply(slack_api, 6)["text"])
    slack.command("team", user=REP)  # a rep sees their manager, not the workspace
    listing = str(_reply(slack_api, 7)["text"])
    assert listing == f"Your manager: <@{MANAGER}>"
    slack.command(f"team remove <@{REP}>", user=ADMIN)
    assert "no longer in a team" in str(_reply(slack_api, 8)["text"])


def test_a_manager_sees_their_teams_digest_and_a_rep_only_their_own(
    slack: SlackSender,
    slack_api: MockSlackWebApi,
    settings: Settings,
) -> None:
    _seed(settings)
    slack.command(f"digest {WEEK}", user=MANAGER)
    digest = _reply(slack_api, 1)
    assert digest["response_type"] == "ephemeral"
    blocks = (
        json.loads(str(digest["blocks"])) if isinstance(digest["blocks"], str) else digest["blocks"]
    )
    validate_blocks(blocks)  # type: ignore[arg-type]
    raw = json.dumps(blocks)
    assert "Rob's Acme" in raw and "Olga's Beta" in raw and "Secret Omega" not in raw

    slack.command(f"digest {WEEK}", user=REP)
    own = _reply(slack_api, 2)
    blocks = _blocks(own)
    validate_blocks(blocks)
    raw = json.dumps(blocks)
    assert "You do not manage a team" in raw
    assert "Rob's Acme" in raw and "Olga's Beta" not in raw and "Secret Omega" not in raw

    slack.command("digest someday", user=MANAGER)
    assert "/dealcoach digest 2026-W47" in str(_reply(slack_api, 3)["text"])


def test_pause_and_resume_switch_reminders(
    slack: SlackSender,
    slack_api: MockSlackWebApi,
    settings: Settings,
) -> None:
    slack.command("pause", user=REP)
    assert "paused" in str(_reply(slack_api, 1)["text"])
    store = Store(settings.database_url)
    try:
        with store.unit_of_work() as uow:
            ws = uow.workspaces.find("slack", "T0ACME")
            assert ws is not None
            ws_id = ws.id
            rep = uow.people.find(ws_id, REP)
            assert rep is not None and rep.nudges_paused is True
        slack.command("hervat", user=REP)
        assert "on again" in str(_reply(slack_api, 2)["text"])
        with store.unit_of_work() as uow:
            rep = uow.people.find(ws_id, REP)
            assert rep is not None and rep.nudges_paused is False
    finally:
        store.dispose()


def test_the_home_tab_shows_a_manager_their_teams_week(
    slack: SlackSender,
    slack_api: MockSlackWebApi,
    settings: Settings,
) -> None:
    _seed(settings)
    slack.event("app_home_opened", user=MANAGER)
    view = slack_api.wait_for("views.publish", 1)[-1].json_param("view")
    validate_view(view)
    raw = json.dumps(view)
    assert "Your team this week" in raw and "home_start_review" in raw

    slack.event("app_home_opened", user=REP)
    rep_view = slack_api.wait_for("views.publish", 2)[-1].json_param("view")
    validate_view(rep_view)
    raw = json.dumps(rep_view)
    assert "Your team this week" not in raw and "Olga" not in raw
    assert "Rob's Acme" in raw  # their own recent review


def test_home_and_reminder_buttons_open_a_review(
    slack: SlackSender,
    slack_api: MockSlackWebApi,
    settings: Settings,
) -> None:
    slack.message_action("home_start_review", value="new", user=REP)
    slack_api.wait_for("views.open", 1)
    slack_api.wait_for("views.update", 1)
    slack.message_action("nudge_start_review", value="Acme renewal", user=OTHER)
    slack_api.wait_for("views.open", 2)
    slack_api.wait_for("views.update", 2)
    store = Store(settings.database_url)
    try:  # the reminder's button started a review of that deal
        with store.unit_of_work() as uow:
            ws = uow.workspaces.find("slack", "T0ACME")
            assert ws is not None
            other = uow.people.find(ws.id, OTHER)
            assert other is not None
            draft = uow.reviews.latest_draft(other.id)
            assert draft is not None and draft.deal is not None
            assert draft.deal.name == "Acme renewal"
    finally:
        store.dispose()
