"""Team management with role checks (every refusal), CLI workspace resolution, and review
reminders: who, when (workdays in their zone), pause/resume, never twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from dealcoach.digest.delivery import DbRunner
from dealcoach.digest.nudges import NudgeModel, RenderedNudge, send_nudges
from dealcoach.errors import Forbidden, InputError, NotFound
from dealcoach.services.actors import Actor
from dealcoach.services.digests import DigestService
from dealcoach.services.reporting import NotAllowed, ReportingService, cli_add, cli_list
from dealcoach.store import Store

from .seed import person, review, team, two_teams

ADMIN = Actor(platform="slack", workspace_id="T1", user_id="UADMIN", is_admin=True)
OPS = Actor(platform="slack", workspace_id="T1", user_id="UOPS")
REP = Actor(platform="slack", workspace_id="T1", user_id="UA")
MANAGER = Actor(platform="slack", workspace_id="T1", user_id="UM1")


def test_a_workspace_admin_builds_teams_and_moves_a_rep(store: Store) -> None:
    service = ReportingService(store)
    change = service.add(ADMIN, "UM1", ["UA", "UB"])
    assert [m.user_id for m in change.added] == ["UA", "UB"]
    moved = service.add(ADMIN, "UM2", ["UB"])  # a rep has at most one manager
    assert [(m.user_id, p.user_id) for m, p in moved.moved] == [("UB", "UM1")]
    listing = service.list(ADMIN)
    assert {t.manager.user_id: [m.user_id for m in t.members] for t in listing.teams} == {
        "UM1": ["UA"],
        "UM2": ["UB"],
    }
    removed = service.remove(ADMIN, ["UA", "UZ"])
    assert [m.user_id for m in removed.removed] == ["UA"]
    assert [m.user_id for m in removed.not_member] == ["UZ"]


def test_ids_in_dealcoach_admins_may_manage_teams(store: Store) -> None:
    ReportingService(store, admins=["UOPS"]).add(OPS, "UM1", ["UA"])
    assert ReportingService(store).list(MANAGER).members[0].user_id == "UA"


@pytest.mark.parametrize("action", ["add", "remove"])
def test_everyone_else_is_refused_team_changes(store: Store, action: str) -> None:
    service = ReportingService(store, admins=["UOPS"])
    service.add(ADMIN, "UM1", ["UA"])
    for actor in (REP, MANAGER):
        with pytest.raises(NotAllowed) as refused:
            if action == "add":
                service.add(actor, "UM1", ["UB"])
            else:
                service.remove(actor, ["UA"])
        assert refused.value.key == "refused_admin"
        assert "admins" in str(refused.value)
    assert ReportingService(store).list(MANAGER).members[0].user_id == "UA"  # unchanged


def test_nobody_manages_themselves(store: Store) -> None:
    with pytest.raises(NotAllowed) as refused:
        ReportingService(store).add(ADMIN, "UM1", ["UM1"])
    assert refused.value.key == "refused_self"


def test_non_admins_see_only_their_own_team_and_manager(store: Store) -> None:
    service = ReportingService(store)
    service.add(ADMIN, "UM1", ["UA", "UB"])
    service.add(ADMIN, "UM2", ["UC"])
    mine = service.list(MANAGER)
    assert not mine.is_admin and mine.teams == ()
    assert [m.user_id for m in mine.members] == ["UA", "UB"]
    rep = service.list(REP)
    assert rep.manager is not None and rep.manager.user_id == "UM1" and rep.members == ()


def test_the_cli_needs_a_workspace_when_several_are_known(store: Store) -> None:
    with pytest.raises(NotFound):
        store.run(cli_add, None, "UM1", ["UA"])
    with store.unit_of_work() as uow:
        person(uow, "UX", workspace="T1")
        uow.commit()
    store.run(cli_add, None, "UM1", ["UA"])  # the only workspace
    with store.unit_of_work() as uow:
        person(uow, "UY", workspace="T2")
        uow.commit()
    with pytest.raises(InputError, match="several workspaces are known"):
        store.run(cli_list, None)
    assert store.run(cli_list, "T1")[1][0].manager.user_id == "UM1"
    with pytest.raises(NotFound, match="not known yet"):
        store.run(cli_list, "T9")


def test_a_rep_asking_for_the_digest_gets_their_own_summary(store: Store) -> None:
    two_teams(store)
    service = DigestService(store)
    now = datetime(2026, 11, 18, 12, tzinfo=UTC)  # in week 47: "last" is week 46
    own = service.on_demand(REP, "last", now=now)
    assert own.own_summary and own.digest.kind == "self"
    assert {d.rep_user_id for d in own.digest.riskiest} == {"UA"}
    team_view = service.on_demand(MANAGER, "2026-W46", now=now)
    assert not team_view.own_summary and team_view.digest.kind == "team"
    assert "Gamma" not in team_view.rendered.text and "Omega" not in team_view.rendered.text
    with pytest.raises(InputError):
        service.on_demand(REP, "next year", now=now)


def test_the_cli_preview_refuses_someone_who_manages_nobody(store: Store) -> None:
    two_teams(store)
    with pytest.raises(NotFound, match="manages nobody"):
        DigestService(store).preview("UA", "2026-W46")
    assert "Acme" in DigestService(store).preview("UM1", "2026-W46").rendered.text


# --- nudges ---------------------------------------------------------------------------------


class Recorder:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[tuple[str, NudgeModel, RenderedNudge]] = []
        self.fail = fail

    async def send_nudge(self, person: object, nudge: NudgeModel, rendered: RenderedNudge) -> None:
        if self.fail:
            raise RuntimeError("platform down")
        self.sent.append((nudge.recipient.user_id, nudge, rendered))


TUESDAY_10_AMS = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # 10:00 in Amsterdam


def _stale_deals(store: Store) -> None:
    with store.unit_of_work() as uow:
        ann = person(uow, "UANN", tz="Europe/Amsterdam")
        bob = person(uow, "UBOB", tz="America/New_York")  # 04:00 there: too early
        cas = person(uow, "UCAS", tz="Europe/Amsterdam", locale="nl")
        old = TUESDAY_10_AMS - timedelta(days=20)
        review(uow, ann, "Acme", when=old, stage="negotiation")
        review(uow, ann, "Beta", when=old - timedelta(days=5), stage="closing")
        review(uow, ann, "Fresh", when=TUESDAY_10_AMS - timedelta(days=3), stage="closing")
        review(uow, ann, "Early", when=old, stage="discovery")
        review(uow, bob, "Bobco", when=old, stage="closing")
        review(uow, cas, "Casco", when=old, stage="closing")
        uow.commit()


def _run(store: Store, notifier: Recorder, now: datetime) -> object:
    return asyncio.run(send_nudges(DbRunner(store), {"slack": notifier}, now=now))


def test_stale_late_stage_deals_get_one_nudge_a_week(store: Store) -> None:
    _stale_deals(store)
    notifier = Recorder()
    _run(store, notifier, TUESDAY_10_AMS)
    by_user = {u: n for u, n, _ in notifier.sent}
    assert set(by_user) == {"UANN", "UCAS"}  # Bob: 04:00 in New York
    ann = by_user["UANN"]
    assert [d.deal_name for d in ann.deals] == ["Beta", "Acme"] and ann.eligible == 2
    rendered = {u: r for u, _, r in notifier.sent}
    assert "2 of your deals are in negotiation or closing" in rendered["UANN"].text
    assert rendered["UANN"].button == "Review Beta"
    assert "Casco" in rendered["UCAS"].text and "afronding" in rendered["UCAS"].text
    # Later that day and the next day: nothing nags twice in one week.
    _run(store, notifier, TUESDAY_10_AMS + timedelta(hours=3))
    _run(store, notifier, TUESDAY_10_AMS + timedelta(days=1))
    users = [u for u, _, _ in notifier.sent]
    assert users.count("UANN") == 1 and users.count("UCAS") == 1 and "UBOB" not in users
    _run(store, notifier, TUESDAY_10_AMS + timedelta(hours=6))  # 10:00 in New York
    assert [u for u, _, _ in notifier.sent].count("UBOB") == 1
    # Next week, the deals are still stale: one more reminder.
    _run(store, notifier, TUESDAY_10_AMS + timedelta(days=7))
    assert [u for u, _, _ in notifier.sent].count("UANN") == 2


def test_no_nudges_at_the_weekend_or_when_paused(store: Store) -> None:
    _stale_deals(store)
    notifier = Recorder()
    _run(store, notifier, TUESDAY_10_AMS - timedelta(days=3))  # Saturday
    assert notifier.sent == []
    DigestService(store).set_paused(
        Actor(platform="slack", workspace_id="T1", user_id="UANN"), True
    )
    _run(store, notifier, TUESDAY_10_AMS)
    assert {u for u, _, _ in notifier.sent} == {"UCAS"}
    DigestService(store).set_paused(
        Actor(platform="slack", workspace_id="T1", user_id="UANN"), False
    )
    _run(store, notifier, TUESDAY_10_AMS + timedelta(hours=1))
    assert {u for u, _, _ in notifier.sent} == {"UCAS", "UANN"}


def test_an_undelivered_nudge_is_tried_again(store: Store) -> None:
    _stale_deals(store)
    _run(store, Recorder(fail=True), TUESDAY_10_AMS)
    notifier = Recorder()
    _run(store, notifier, TUESDAY_10_AMS + timedelta(hours=1))
    assert {u for u, _, _ in notifier.sent} == {"UANN", "UCAS"}


def test_team_membership_does_not_leak_into_someone_elses_team(store: Store) -> None:
    with store.unit_of_work() as uow:
        m = person(uow, "UM")
        a = person(uow, "UA")
        team(uow, m, a)
        uow.commit()
    with pytest.raises(Forbidden):
        ReportingService(store).add(REP, "UA", ["UM"])
