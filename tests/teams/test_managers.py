"""Managers in Teams: weekly digests delivered as proactive Adaptive Cards, the `digest`,
`team`, `pause`/`resume` commands, review reminders with a "Review <deal>" button, and teams
that span Slack and Teams.

Everything runs on one live app (Slack and Teams mounted together, as in production): Teams
activities over HTTP to `/api/messages` with the loopback Connector stand-in as `serviceUrl`,
Slack as signed requests against the Web API stand-in. Every card the bot sends is checked
against the Adaptive Card schema by the `connector` fixture.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("microsoft_agents.hosting.fastapi", reason="needs the dealcoach[teams] extra")

from sqlalchemy import select
from tests.slack.driver import SCENARIOS as SLACK_SCENARIOS
from tests.slack.driver import ReviewDriver
from tests.slack.harness import LiveServer, SlackSender
from tests.slack.mock_web_api import MockSlackWebApi
from tests.slack.signing import SIGNING_SECRET
from tests.teams.card_schema import assert_valid_card
from tests.teams.conftest import CARD_VERSION, make_settings
from tests.teams.connector_stub import ConnectorCall, ConnectorStub
from tests.teams.harness import TeamsUser, card_text, find_action
from tests.teams.test_review_http import BASE, answer_card, is_advice

from dealcoach.config import get_settings
from dealcoach.digest.compose import PersonRef
from dealcoach.digest.delivery import DbRunner, retry_failed, send_digests
from dealcoach.digest.nudges import NudgeDeal, NudgeModel, render_nudge
from dealcoach.digest.weeks import IsoWeek, zone
from dealcoach.services.actors import Actor
from dealcoach.store import Store
from dealcoach.store.models import DigestRun, Person, TeamMembership
from dealcoach.store.types import utcnow
from dealcoach.teams import cards
from dealcoach.teams.notifier import TeamsNotifier

SLACK_REP = "U2147483697"  # the slash-command fixture's user, in Slack team T0ACME
ADMIN = "aad-admin"


def this_week() -> IsoWeek:
    return IsoWeek.containing(utcnow(), zone("UTC"))


@pytest.fixture
def slack_api() -> Iterator[MockSlackWebApi]:
    with MockSlackWebApi() as api:
        yield api


@pytest.fixture
def app(
    migrated_url: str, connector: ConnectorStub, slack_api: MockSlackWebApi
) -> Iterator[tuple[LiveServer, Any]]:
    """Slack (signed requests, Web API stand-in) and Teams (anonymous, Connector stand-in)
    on one live app; DEALCOACH_ADMINS names one Teams admin."""
    from dealcoach.bootstrap import build_services
    from dealcoach.web import create_app

    settings = make_settings(
        migrated_url,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack_api.url,
        dealcoach_admins=[ADMIN],
    )
    services = build_services(settings, migrate_sqlite=False)
    server = LiveServer(lambda: create_app(settings, services)).start()
    try:
        yield server, services
    finally:
        server.stop()
        services.close()


@pytest.fixture
def live(app: tuple[LiveServer, Any]) -> LiveServer:
    return app[0]


@pytest.fixture
def slack(live: LiveServer, slack_api: MockSlackWebApi) -> Iterator[SlackSender]:
    sender = SlackSender(live, secret=SIGNING_SECRET, response_url=slack_api.response_url)
    yield sender
    sender.close()


def user(live: LiveServer, connector: ConnectorStub, who: str, name: str) -> TeamsUser:
    return TeamsUser(live.url, connector, aad_id=f"aad-{who}", user_id=f"29:{who}", name=name)


def teams_review(person: TeamsUser, deal: str, **overrides: Any) -> dict[str, Any]:
    """A whole review in Teams (cards over HTTP); returns the advice card."""
    person.say(f"review {deal}")
    card = person.last_card()
    answers = {**BASE, "deal.name": deal, "fit.requirements_met": "partly", **overrides}
    for _ in range(12):
        body = answer_card(person, card, answers)
        assert body["statusCode"] == 200 and body["type"] == cards.CONTENT_TYPE, body
        card = body["value"]
        if is_advice(card):
            return card
    raise AssertionError("the review never finished")


def slack_review(slack: SlackSender, api: MockSlackWebApi, deal: str) -> None:
    driver = ReviewDriver(slack, api, user=SLACK_REP)
    driver.start(deal)
    driver.run(SLACK_SCENARIOS["strengthen"])


def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *argv: str, **env: str) -> int:
    """`dealcoach …` in-process, with the environment the command reads."""
    from dealcoach.cli import main

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # no stray .env
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as done:
            main(list(argv))
    finally:
        get_settings.cache_clear()
    return int(done.value.code or 0)


def greet(person: TeamsUser) -> None:
    """`hi` to the bot (its chat reference is stored), waiting for the welcome reply."""
    before = len(person.connector.messages())
    person.say("hi")
    deadline = time.monotonic() + 10
    while len(person.connector.messages()) <= before:
        assert time.monotonic() < deadline, "no welcome reply"
        time.sleep(0.02)


def cards_to(connector: ConnectorStub, person: TeamsUser) -> list[ConnectorCall]:
    """Cards the Connector accepted into this person's chat (refused calls are recorded too,
    without a response id)."""
    return [
        c
        for c in connector.messages()
        if c.conversation_id == person.conversation_id and c.cards and c.response_id
    ]


def run_status(url: str) -> list[tuple[str, str, int]]:
    store = Store(url)
    try:
        with store.unit_of_work() as uow:
            rows = uow.session.execute(
                select(Person.user_id, DigestRun.status, DigestRun.attempts).join(
                    Person, Person.id == DigestRun.manager_id
                )
            ).all()
            return sorted((r[0], r[1], r[2]) for r in rows)
    finally:
        store.dispose()


# --- the "Done when" -----------------------------------------------------------------


def test_reviews_from_teams_and_slack_reps_reach_their_managers_digest_once(
    live: LiveServer,
    connector: ConnectorStub,
    slack: SlackSender,
    slack_api: MockSlackWebApi,
    migrated_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    mark = user(live, connector, "mark", "Mark Manager")
    rita = user(live, connector, "rita", "Rita Rep")
    ray = user(live, connector, "ray", "Ray Rep")
    mark.say("hi")  # Mark opened the bot once: his chat can be continued
    teams_review(rita, "Acme renewal")
    teams_review(ray, "Initech pilot")
    slack_review(slack, slack_api, "Globex expansion")

    # Ops link people across platforms: Mark (Teams) manages Rita (Teams) and a Slack rep;
    # a Slack manager manages Ray (Teams).
    env = {"DATABASE_URL": migrated_url}
    assert (
        cli(
            monkeypatch,
            tmp_path,
            "team",
            "add",
            "--manager",
            "teams:aad-mark",
            "--member",
            "teams:aad-rita",
            "--member",
            f"slack:{SLACK_REP}",
            **env,
        )
        == 0
    )
    assert (
        cli(
            monkeypatch,
            tmp_path,
            "team",
            "add",
            "--manager",
            "slack:T0ACME:UBOSS",
            "--member",
            "teams:tenant-1:aad-ray",
            **env,
        )
        == 0
    )

    # Composed through the digest service: Mark's digest holds both platforms' reviews.
    from dealcoach.bootstrap import build_services

    services = build_services(make_settings(migrated_url), migrate_sqlite=False)
    try:
        on_demand = services.digests.on_demand(Actor("teams", "tenant-1", "aad-mark"), "this")
    finally:
        services.close()
    assert not on_demand.own_summary and on_demand.digest.total_reviews == 2
    names = {d.deal_name for d in on_demand.digest.riskiest}
    assert names == {"Acme renewal", "Globex expansion"}

    # Delivered by `dealcoach digest send`: one card to Mark, one Slack DM to the Slack boss.
    connector.clear()
    send_env = {
        **env,
        "SLACK_BOT_TOKEN": "xoxb-1234-5678-teamstests",
        "SLACK_API_URL": slack_api.url,
        "TEAMS_ALLOW_ANONYMOUS": "true",
        "TEAMS_SERVICE_URL_HOSTS": "127.0.0.1",
    }
    week = str(this_week())
    for _ in range(2):  # the second run sends nothing: exactly once per manager and week
        assert cli(monkeypatch, tmp_path, "digest", "send", "--week", week, **send_env) == 0
    to_mark = cards_to(connector, mark)
    assert len(to_mark) == 1 and len(connector.messages()) == 1
    card = to_mark[0].cards[0]
    assert_valid_card(card)
    assert card["version"] == CARD_VERSION
    text = card_text(card)
    assert "Acme renewal" in text and "Globex expansion" in text
    assert "Initech pilot" not in text
    dms = [c for c in slack_api.calls_to("chat.postMessage") if c.params.get("channel") == "UBOSS"]
    assert len(dms) == 1
    assert "Initech pilot" in dms[0].params["text"] and "Acme" not in dms[0].params["text"]
    assert run_status(migrated_url) == [("UBOSS", "sent", 1), ("aad-mark", "sent", 1)]


# --- proactive delivery ----------------------------------------------------------------------


def _mark_and_rita(
    live: LiveServer, connector: ConnectorStub, url: str
) -> tuple[TeamsUser, TeamsUser]:
    mark = user(live, connector, "mark", "Mark Manager")
    rita = user(live, connector, "rita", "Rita Rep")
    teams_review(rita, "Acme renewal")
    store = Store(url)
    try:
        from dealcoach.services.reporting import cli_add

        store.run(cli_add, None, "aad-mark", ["aad-rita"])
    finally:
        store.dispose()
    return mark, rita


async def test_a_connector_failure_is_recorded_and_sent_on_the_next_run(
    app: tuple[LiveServer, Any], connector: ConnectorStub, migrated_url: str
) -> None:
    live, services = app
    mark, _ = _mark_and_rita(live, connector, migrated_url)
    greet(mark)
    connector.clear()
    notifier = TeamsNotifier(live.app.state.teams, attempts=2, backoff=0.01)
    runner = DbRunner(services.store)
    week = this_week()
    connector.fail_next(500)
    connector.fail_next(503)  # both attempts of this run fail

    first = await send_digests(runner, {"teams": notifier}, week=week)
    assert first.sent == [] and [u for u, _ in first.failed] == ["aad-mark"]
    assert run_status(migrated_url) == [("aad-mark", "failed", 1)]
    assert cards_to(connector, mark) == []

    second = await retry_failed(runner, {"teams": notifier})
    assert second.sent == ["aad-mark"] and second.failed == []
    assert run_status(migrated_url) == [("aad-mark", "sent", 2)]
    assert len(cards_to(connector, mark)) == 1
    assert (await retry_failed(runner, {"teams": notifier})).sent == []


async def test_a_manager_who_never_wrote_gets_a_new_chat_that_is_kept(
    app: tuple[LiveServer, Any], connector: ConnectorStub, migrated_url: str
) -> None:
    live, services = app
    _mark_and_rita(live, connector, migrated_url)  # only Rita ever wrote to the bot
    connector.clear()
    notifier = TeamsNotifier(live.app.state.teams)
    runner = DbRunner(services.store)

    report = await send_digests(runner, {"teams": notifier}, week=this_week())
    assert report.sent == ["aad-mark"]
    created, sent = connector.of_kind("create_conversation"), connector.messages()
    assert len(created) == 1 and created[0].body["members"] == [{"id": "aad-mark"}]
    assert len(sent) == 1 and sent[0].conversation_id == created[0].response_id
    assert "Acme renewal" in card_text(sent[0].cards[0])

    # The new chat's reference is stored: the next digest continues it.
    await send_digests(runner, {"teams": notifier}, week=this_week().previous(1))
    assert len(connector.of_kind("create_conversation")) == 1
    assert connector.messages()[-1].conversation_id == created[0].response_id


async def test_a_reminder_card_starts_a_review_of_its_deal(
    app: tuple[LiveServer, Any], connector: ConnectorStub
) -> None:
    live, services = app
    rita = user(live, connector, "rita", "Rita Rep")
    greet(rita)
    with services.store.unit_of_work() as uow:
        person = uow.session.scalars(select(Person).where(Person.user_id == "aad-rita")).one()
        ref = PersonRef(
            person_id=person.id,
            platform="teams",
            workspace_id="tenant-1",
            user_id="aad-rita",
            display_name="Rita Rep",
        )
    nudge = NudgeModel(
        recipient=ref,
        week=str(this_week()),
        eligible=1,
        deals=(NudgeDeal(deal_id=1, deal_name="Acme <renewal>", stage="closing", days=20),),
    )
    connector.clear()
    await TeamsNotifier(live.app.state.teams).send_nudge(ref, nudge, render_nudge(nudge))
    [sent] = cards_to(connector, rita)
    reminder = sent.cards[0]
    button = find_action(reminder, cards.VERB_NUDGE)
    assert button["title"].startswith("Review Acme")
    assert "/dealcoach" not in card_text(reminder)  # Teams wording: **pause**, not a slash

    body = rita.invoke(cards.VERB_NUDGE, button["data"])
    assert body["type"] == cards.CONTENT_TYPE
    step = body["value"]  # the nudge card is replaced by the review's first step
    assert find_action(step, cards.VERB_STEP)["data"]["review_id"]
    assert "Acme \\<renewal\\>" in card_text(step) or "Acme" in json.dumps(step)


# --- commands --------------------------------------------------------------------------------


def test_digest_as_a_rep_shows_only_their_own_reviews(
    live: LiveServer, connector: ConnectorStub, migrated_url: str
) -> None:
    mark, rita = _mark_and_rita(live, connector, migrated_url)
    ray = user(live, connector, "ray", "Ray Rep")
    teams_review(ray, "Initech pilot")
    store = Store(migrated_url)
    try:
        from dealcoach.services.reporting import cli_add

        store.run(cli_add, None, "aad-mark", ["aad-ray"])
    finally:
        store.dispose()

    rita.say("digest this")
    own = card_text(cards_to(connector, rita)[-1].cards[0])
    assert "summary of your own reviews" in own
    assert "Acme renewal" in own and "Initech pilot" not in own

    mark.say("digest this")
    team = card_text(cards_to(connector, mark)[-1].cards[0])
    assert "Acme renewal" in team and "Initech pilot" in team

    mark.say("digest 2026-W99")
    assert "digest 2026-W47" in mark.texts()[-1]


def test_team_changes_are_refused_for_non_admins_and_made_for_admins(
    live: LiveServer, connector: ConnectorStub, migrated_url: str
) -> None:
    rita = user(live, connector, "rita", "Rita Rep")
    admin = user(live, connector, "admin", "Ada Admin")
    mention = {
        "type": "mention",
        "text": "<at>Mark Manager</at>",
        "mentioned": {"id": "29:mark", "name": "Mark Manager", "aadObjectId": "aad-mark"},
    }
    bot_mention = {
        "type": "mention",
        "text": "<at>dealcoach</at>",
        "mentioned": {"id": "28:dealcoach-bot", "name": "dealcoach"},
    }

    def team_add(person: TeamsUser) -> str:
        activity = person.activity(
            "message",
            text="team add <at>Mark Manager</at> aad-rita",
            entities=[bot_mention, mention],
        )
        assert person.post(activity).status_code in (200, 202)
        return person.texts()[-1]

    assert "Only dealcoach admins" in team_add(rita)
    rita.say("team remove aad-rita")
    assert "Only dealcoach admins" in rita.texts()[-1]
    assert "now report to" in team_add(admin)

    store = Store(migrated_url)
    try:
        with store.unit_of_work() as uow:
            pairs = uow.session.execute(
                select(TeamMembership.manager_id, TeamMembership.member_id)
            ).all()
            people = {p.id: p.user_id for p in uow.session.scalars(select(Person))}
    finally:
        store.dispose()
    assert [(people[m], people[r]) for m, r in pairs] == [("aad-mark", "aad-rita")]

    admin.say("team list")
    assert "Mark Manager" in admin.texts()[-1] or "aad-mark" in admin.texts()[-1]
    rita.say("team")
    assert "Your manager" in rita.texts()[-1]
    admin.say("team remove aad-rita")
    assert "no longer in a team" in admin.texts()[-1]


def test_pause_and_resume_turn_reminders_off_and_on(
    live: LiveServer, connector: ConnectorStub, migrated_url: str
) -> None:
    rita = user(live, connector, "rita", "Rita Rep")

    def paused() -> bool:
        store = Store(migrated_url)
        try:
            with store.unit_of_work() as uow:
                return bool(
                    uow.session.scalar(
                        select(Person.nudges_paused).where(Person.user_id == "aad-rita")
                    )
                )
        finally:
            store.dispose()

    rita.say("pause")
    assert paused() and "**resume**" in rita.texts()[-1]
    rita.say("resume")
    assert not paused() and "reminders are on again" in rita.texts()[-1]


# --- the server's scheduler -----------------------------------------------------------------


def test_the_server_runs_the_digest_scheduler_with_slack_and_teams_notifiers(
    migrated_url: str, connector: ConnectorStub
) -> None:
    from dealcoach.bootstrap import build_services
    from dealcoach.web import create_app

    settings = make_settings(migrated_url, dealcoach_scheduler=True)
    services = build_services(settings, migrate_sqlite=False)
    server = LiveServer(lambda: create_app(settings, services)).start()
    try:
        scheduler = server.app.state.digest_scheduler
        assert set(scheduler.notifiers) == {"slack", "teams"}
        assert isinstance(scheduler.notifiers["teams"], TeamsNotifier)
        assert scheduler.scheduler.running
        jobs = {job.id for job in scheduler.scheduler.get_jobs()}
        assert {"digest-sync", "digest-catch-up", "nudges"} <= jobs
    finally:
        server.stop()
        services.close()
    assert not scheduler.scheduler.running  # shut down with the app


@pytest.mark.parametrize(
    ("text", "name", "arg", "args"),
    [
        ("digest", "digest", "", ()),
        ("digest LAST", "digest", "last", ()),
        ("dealcoach digest 2026-W47", "digest", "2026-w47", ()),
        ("overzicht this", "digest", "this", ()),
        ("pause", "pause", "", ()),
        ("hervat", "resume", "", ()),
        ("team add aad-Mark slack:U1", "team", "add", ("aad-Mark", "slack:U1")),
    ],
)
def test_manager_commands_are_parsed(text: str, name: str, arg: str, args: tuple[str, ...]) -> None:
    from dealcoach.teams import commands

    assert commands.parse(text) == commands.Command(name, arg, args)
