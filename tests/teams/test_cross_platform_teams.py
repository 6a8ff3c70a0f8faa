"""Teams spanning Slack and Teams: `dealcoach team add` with platform-qualified ids links a
manager in one workspace to members in another; a member still has one manager everywhere,
and the manager's digest holds every member's reviews whatever their platform."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from dealcoach.errors import InputError, NotFound
from dealcoach.services.actors import Actor
from dealcoach.services.people import resolve_person
from dealcoach.services.reporting import (
    NotAllowed,
    add_members,
    cli_add,
    cli_list,
    cli_remove,
)
from dealcoach.store import Store
from dealcoach.store.models import Person, TeamMembership


@pytest.fixture
def store(migrated_url: str) -> Iterator[Store]:
    s = Store(migrated_url)
    with s.unit_of_work() as uow:  # one Slack workspace, one Teams tenant
        resolve_person(uow, Actor("slack", "T1", "UBOSS", display_name="Bo Boss"))
        resolve_person(uow, Actor("teams", "tenant-1", "aad-rita", display_name="Rita Rep"))
        uow.commit()
    yield s
    s.dispose()


def memberships(store: Store) -> list[tuple[str, str, str]]:
    """(manager platform:user, member platform:user, membership workspace platform)."""
    with store.unit_of_work() as uow:
        people = {p.id: p for p in uow.session.scalars(select(Person))}
        rows = uow.session.scalars(select(TeamMembership).order_by(TeamMembership.id)).all()
        return [
            (
                f"{people[m.manager_id].workspace.platform}:{people[m.manager_id].user_id}",
                f"{people[m.member_id].workspace.platform}:{people[m.member_id].user_id}",
                people[m.member_id].workspace.platform,
            )
            for m in rows
        ]


def test_a_slack_manager_can_have_a_teams_rep(store: Store) -> None:
    change = store.run(cli_add, None, "slack:UBOSS", ["teams:aad-rita"])
    assert change.manager is not None and change.manager.user_id == "UBOSS"
    assert [m.user_id for m in change.added] == ["aad-rita"]
    assert memberships(store) == [("slack:UBOSS", "teams:aad-rita", "teams")]
    # Listed from either side.
    assert [t.manager.user_id for t in store.run(cli_list, "T1")[1]] == ["UBOSS"]
    assert [m.user_id for m in store.run(cli_list, "tenant-1")[1][0].members] == ["aad-rita"]


def test_workspace_qualified_ids_and_one_manager_per_member_across_platforms(
    store: Store,
) -> None:
    store.run(cli_add, None, "slack:T1:UBOSS", ["teams:tenant-1:aad-rita"])
    # Moving Rita to a Teams manager replaces her Slack manager: still one manager.
    change = store.run(cli_add, "tenant-1", "aad-mark", ["aad-rita"])
    assert [(m.user_id, p.user_id) for m, p in change.moved] == [("aad-rita", "UBOSS")]
    assert memberships(store) == [("teams:aad-mark", "teams:aad-rita", "teams")]
    removed = store.run(cli_remove, None, ["teams:aad-rita"])
    assert [m.user_id for m in removed.removed] == ["aad-rita"] and memberships(store) == []


def test_unqualified_ids_still_need_a_workspace_when_several_are_known(store: Store) -> None:
    with pytest.raises(InputError, match="several workspaces"):
        store.run(cli_add, None, "UBOSS", ["aad-rita"])
    with pytest.raises(NotFound, match="no cli workspace"):
        store.run(cli_add, None, "cli:me", ["teams:aad-rita"])
    with store.unit_of_work() as uow:  # a second Slack workspace: `slack:U…` is ambiguous
        resolve_person(uow, Actor("slack", "T2", "UOTHER"))
        uow.commit()
    with pytest.raises(InputError, match="slack:WORKSPACE:USER"):
        store.run(cli_add, None, "slack:UBOSS", ["teams:aad-rita"])
    assert memberships(store) == []


def test_nobody_manages_themselves_even_when_named_two_ways(store: Store) -> None:
    with pytest.raises(NotAllowed):
        store.run(cli_add, "tenant-1", "aad-rita", ["teams:aad-rita"])
    assert memberships(store) == []


def test_an_admin_in_teams_can_add_a_slack_rep_to_a_teams_manager(store: Store) -> None:
    admin = Actor("teams", "tenant-1", "aad-admin")
    change = store.run(add_members, admin, "aad-mark", ["slack:UBOSS"], {"aad-admin"})
    assert [m.user_id for m in change.added] == ["UBOSS"]
    assert memberships(store) == [("teams:aad-mark", "slack:UBOSS", "slack")]
    with pytest.raises(NotAllowed):
        store.run(
            add_members,
            Actor("teams", "tenant-1", "aad-rita"),
            "aad-mark",
            ["slack:UBOSS"],
            {"aad-admin"},
        )
