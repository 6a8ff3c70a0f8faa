"""Team management: who reports to whom, and who may change it.

Admins — Slack workspace admins/owners (`Actor.is_admin`, from `users.info`) and the user ids
in `DEALCOACH_ADMINS` — assign reps to managers. A person may manage several reps; a rep has
at most one manager (assigning again moves them). Everyone else is refused with a clear
`NotAllowed` (a `Forbidden` that carries a wording key, so adapters can say it in the user's
language). `dealcoach team …` on the command line is ops: no actor, the workspace named by
`--workspace` or the only one known.

What a change or a listing says is written here once (`TeamChange.describe`,
`TeamListing.describe`, wording in `prompts/<locale>/digest/strings.yaml`): an adapter hands
in how to name a person on its platform (a Slack mention, an escaped Teams name) and lays
the lines out in its markup.

Teams may span platforms: an id can be qualified as `platform:user` (`slack:U123`,
`teams:<aad-object-id>`; the platform's only workspace, or `--workspace` if it is one of that
platform's) or `platform:workspace:user` (`teams:<tenant-id>:<aad-object-id>`), so a manager
in Slack can have reps in Teams and the other way round. Unqualified ids are in the default
workspace (the admin's own in a chat; `--workspace` or the only one on the command line).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

from dealcoach.digest.render import text
from dealcoach.errors import Forbidden, InputError, NotFound
from dealcoach.services.actors import Actor
from dealcoach.services.people import resolve_person
from dealcoach.store.models import PLATFORMS, Person, Workspace
from dealcoach.store.uow import AsyncStore, Store, UnitOfWork


class NotAllowed(Forbidden):
    """A refusal with a wording key (`refused_admin`, `refused_self`) for the adapters."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class Member:
    user_id: str
    name: str


# How an adapter names a person: a Slack mention, an escaped Teams name.
Who = Callable[[Member], str]


@dataclass(frozen=True)
class TeamChange:
    manager: Member | None
    added: tuple[Member, ...] = ()
    moved: tuple[tuple[Member, Member], ...] = ()  # (member, previous manager)
    removed: tuple[Member, ...] = ()
    not_member: tuple[Member, ...] = ()

    def describe(self, locale: str, who: Who) -> list[str]:
        """The change in words, one line each (none: nothing changed); `who` renders a
        person for the platform."""
        manager = who(self.manager) if self.manager is not None else "-"
        lines: list[str] = []
        if self.added:
            members = ", ".join(who(m) for m in self.added)
            lines.append(text(locale, "team_added", members=members, manager=manager))
        for member, previous in self.moved:
            lines.append(
                text(
                    locale,
                    "team_moved",
                    member=who(member),
                    previous=who(previous),
                    manager=manager,
                )
            )
        if self.removed:
            lines.append(
                text(locale, "team_removed", members=", ".join(who(m) for m in self.removed))
            )
        lines.extend(text(locale, "team_not_member", member=who(m)) for m in self.not_member)
        return lines


@dataclass(frozen=True)
class Team:
    manager: Member
    members: tuple[Member, ...]


@dataclass(frozen=True)
class ListingText:
    """A team listing in words, for an adapter to lay out: with a `title` (admins), one line
    per team under it, bulleted; without, a line or two of the asker's own team; `empty`
    instead when there is nothing to list (no teams yet, not in a team)."""

    title: str | None = None
    lines: tuple[str, ...] = ()
    empty: str | None = None


@dataclass(frozen=True)
class TeamListing:
    """Admins see every team of the workspace; others their own team and their manager."""

    is_admin: bool
    teams: tuple[Team, ...] = ()
    manager: Member | None = None  # the asker's own manager
    members: tuple[Member, ...] = field(default_factory=tuple)  # the asker's own reps

    def describe(self, locale: str, who: Who) -> ListingText:
        """The listing in words; `who` renders a person for the platform."""
        if self.is_admin:
            if not self.teams:
                return ListingText(empty=text(locale, "team_none"))
            return ListingText(
                title=text(locale, "team_header"),
                lines=tuple(
                    f"{who(team.manager)}: {', '.join(who(m) for m in team.members)}"
                    for team in self.teams
                ),
            )
        lines: list[str] = []
        if self.members:
            members = ", ".join(who(m) for m in self.members)
            lines.append(text(locale, "team_yours", members=members))
        if self.manager is not None:
            lines.append(text(locale, "team_your_manager", manager=who(self.manager)))
        if not lines:
            return ListingText(empty=text(locale, "team_alone"))
        return ListingText(lines=tuple(lines))


def is_admin(actor: Actor, admins: Collection[str]) -> bool:
    return bool(actor.is_admin) or actor.user_id in admins


def _member(person: Person) -> Member:
    return Member(user_id=person.user_id, name=person.display_name or person.user_id)


def _require_admin(actor: Actor, admins: Collection[str]) -> None:
    if not is_admin(actor, admins):
        raise NotAllowed(
            "refused_admin", "only workspace admins (or DEALCOACH_ADMINS) can change teams"
        )


Resolver = Callable[[str], tuple[Workspace, str]]


def resolver(uow: UnitOfWork, default: Callable[[], Workspace]) -> Resolver:
    """id → (workspace, user id): qualified ids name their platform (and workspace); the
    rest are in `default()` (called only when an unqualified id comes up)."""

    def resolve(raw: str) -> tuple[Workspace, str]:
        text = raw.strip()
        platform, sep, rest = text.partition(":")
        if not sep or platform.lower() not in PLATFORMS or not rest.strip():
            return default(), text
        platform = platform.lower()
        first, sep2, user = rest.partition(":")
        if sep2 and user.strip():
            named = uow.workspaces.find(platform, first.strip())
            if named is not None:
                return named, user.strip()
        return _platform_workspace(uow, platform, default), rest.strip()

    return resolve


def _platform_workspace(
    uow: UnitOfWork, platform: str, default: Callable[[], Workspace]
) -> Workspace:
    known = [w for w in uow.workspaces.all() if w.platform == platform]
    if len(known) == 1:
        return known[0]
    if not known:
        raise NotFound(
            f"no {platform} workspace is known yet (it is added when someone there first "
            "uses dealcoach)"
        )
    try:
        chosen = default()
    except (InputError, NotFound):
        chosen = None
    if chosen is not None and chosen.platform == platform:
        return chosen
    listed = ", ".join(w.external_id for w in known)
    raise InputError(
        f"several {platform} workspaces are known ({listed}): write {platform}:WORKSPACE:USER"
    )


def _assign(
    uow: UnitOfWork, resolve: Resolver, manager_id: str, member_ids: Sequence[str]
) -> TeamChange:
    ids = [m.strip() for m in member_ids if m.strip()]
    if not manager_id.strip() or not ids:
        raise InputError("name a manager and at least one member")
    if manager_id.strip() in ids:
        raise NotAllowed("refused_self", f"{manager_id} cannot manage themselves")
    manager = uow.people.get_or_create(*resolve(manager_id))
    uow.flush()
    added: list[Member] = []
    moved: list[tuple[Member, Member]] = []
    for uid in dict.fromkeys(ids):
        member = uow.people.get_or_create(*resolve(uid))
        uow.flush()
        if member.id == manager.id:
            raise NotAllowed("refused_self", f"{uid} cannot manage themselves")
        previous_id = uow.reporting.assign(manager, member)
        if previous_id is not None:
            previous = uow.people.get(previous_id)
            if previous is not None:
                moved.append((_member(member), _member(previous)))
                _settle_role(uow, previous)
                continue
        added.append(_member(member))
    if manager.role == "rep":
        uow.people.set_role(manager, "manager")
    return TeamChange(manager=_member(manager), added=tuple(added), moved=tuple(moved))


def _settle_role(uow: UnitOfWork, person: Person) -> None:
    """A manager left without reps is a rep again (admins keep their role)."""
    uow.flush()
    if person.role == "manager" and not uow.reporting.member_ids(person.id):
        uow.people.set_role(person, "rep")


def _remove(uow: UnitOfWork, resolve: Resolver, member_ids: Sequence[str]) -> TeamChange:
    ids = [m.strip() for m in member_ids if m.strip()]
    if not ids:
        raise InputError("name at least one member to remove")
    removed: list[Member] = []
    missing: list[Member] = []
    for uid in dict.fromkeys(ids):
        workspace, user_id = resolve(uid)
        person = uow.people.find(workspace.id, user_id)
        manager = uow.reporting.manager_of(person.id) if person is not None else None
        if person is None or manager is None:
            missing.append(Member(uid, person.display_name or uid if person else uid))
            continue
        uow.reporting.remove(person)
        removed.append(_member(person))
        _settle_role(uow, manager)
    return TeamChange(manager=None, removed=tuple(removed), not_member=tuple(missing))


def _teams(uow: UnitOfWork, workspace: Workspace) -> tuple[Team, ...]:
    grouped: dict[int, tuple[Person, list[Person]]] = {}
    for manager, member in uow.reporting.memberships(workspace.id):
        grouped.setdefault(manager.id, (manager, []))[1].append(member)
    return tuple(
        Team(manager=_member(m), members=tuple(_member(p) for p in members))
        for m, members in grouped.values()
    )


# --- use cases: an actor in a chat workspace ------------------------------------------------


def add_members(
    uow: UnitOfWork,
    actor: Actor,
    manager_id: str,
    member_ids: Sequence[str],
    admins: Collection[str],
) -> TeamChange:
    _require_admin(actor, admins)
    me = resolve_person(uow, actor)
    return _assign(uow, resolver(uow, lambda: me.workspace), manager_id, member_ids)


def remove_members(
    uow: UnitOfWork, actor: Actor, member_ids: Sequence[str], admins: Collection[str]
) -> TeamChange:
    _require_admin(actor, admins)
    me = resolve_person(uow, actor)
    return _remove(uow, resolver(uow, lambda: me.workspace), member_ids)


def list_teams(uow: UnitOfWork, actor: Actor, admins: Collection[str]) -> TeamListing:
    me = resolve_person(uow, actor)
    manager = uow.reporting.manager_of(me.id)
    own = tuple(_member(p) for p in uow.reporting.members(me.id))
    admin = is_admin(actor, admins)
    return TeamListing(
        is_admin=admin,
        teams=_teams(uow, me.workspace) if admin else (),
        manager=_member(manager) if manager is not None else None,
        members=own,
    )


# --- use cases: ops on the command line -----------------------------------------------------


def find_workspace(uow: UnitOfWork, external_id: str | None) -> Workspace:
    """`--workspace ID` (a Slack team / Teams tenant id, or `local`), else the only one."""
    if external_id:
        found = [w for w in uow.workspaces.all() if w.external_id == external_id.strip()]
        if len(found) == 1:
            return found[0]
        if not found:
            raise NotFound(
                f"workspace {external_id} is not known yet (it is added when someone there "
                "first uses dealcoach)"
            )
        raise InputError(f"workspace id {external_id} exists on several platforms")
    every = uow.workspaces.all()
    if len(every) == 1:
        return every[0]
    if not every:
        raise NotFound("no workspace is known yet; use dealcoach once in Slack, Teams or `chat`")
    listed = ", ".join(f"{w.external_id} ({w.platform})" for w in every)
    raise InputError(f"several workspaces are known ({listed}): pass --workspace ID")


def cli_add(
    uow: UnitOfWork, workspace: str | None, manager_id: str, member_ids: Sequence[str]
) -> TeamChange:
    return _assign(
        uow, resolver(uow, lambda: find_workspace(uow, workspace)), manager_id, member_ids
    )


def cli_remove(uow: UnitOfWork, workspace: str | None, member_ids: Sequence[str]) -> TeamChange:
    return _remove(uow, resolver(uow, lambda: find_workspace(uow, workspace)), member_ids)


def cli_list(uow: UnitOfWork, workspace: str | None) -> tuple[str, tuple[Team, ...]]:
    ws = find_workspace(uow, workspace)
    return ws.external_id, _teams(uow, ws)


# --- the services ---------------------------------------------------------------------------


class ReportingService:
    def __init__(self, store: Store, *, admins: Collection[str] = ()) -> None:
        self.store = store
        self.admins = frozenset(admins)

    def add(self, actor: Actor, manager_id: str, member_ids: Sequence[str]) -> TeamChange:
        return self.store.run(add_members, actor, manager_id, member_ids, self.admins)

    def remove(self, actor: Actor, member_ids: Sequence[str]) -> TeamChange:
        return self.store.run(remove_members, actor, member_ids, self.admins)

    def list(self, actor: Actor) -> TeamListing:
        return self.store.run(list_teams, actor, self.admins)


class AsyncReportingService:
    def __init__(self, store: AsyncStore, *, admins: Collection[str] = ()) -> None:
        self.store = store
        self.admins = frozenset(admins)

    async def add(self, actor: Actor, manager_id: str, member_ids: Sequence[str]) -> TeamChange:
        return await self.store.run(add_members, actor, manager_id, member_ids, self.admins)

    async def remove(self, actor: Actor, member_ids: Sequence[str]) -> TeamChange:
        return await self.store.run(remove_members, actor, member_ids, self.admins)

    async def list(self, actor: Actor) -> TeamListing:
        return await self.store.run(list_teams, actor, self.admins)
