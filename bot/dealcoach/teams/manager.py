"""Manager features in Teams: `digest [last|this|YYYY-Www]`, `team add|remove|list`,
`pause` / `resume` (review reminders) — all through the services, like Slack's
`slack/listeners/manager.py`.

- `digest`: a manager gets their team's digest card; anyone else a summary of their own
  reviews (the digest service decides: never a colleague's deals).
- `team …`: changes are for admins. Teams has no workspace-admin flag on an activity, so an
  admin is a user id in `DEALCOACH_ADMINS` (`Actor.is_admin`). People are named by @mention
  (the text carries `<at>Name</at>`; the activity's `mention` entities carry their ids), by
  id, or platform-qualified (`slack:U123`, `teams:<aad-object-id>`) for a team spanning
  Slack and Teams.
"""

from __future__ import annotations

from typing import Any

from microsoft_agents.activity import Activity

from dealcoach.coach.markup import escape_teams
from dealcoach.digest.render import text as dtext
from dealcoach.errors import InputError
from dealcoach.services.actors import Actor
from dealcoach.services.reporting import Member, NotAllowed, TeamChange, TeamListing
from dealcoach.teams import commands
from dealcoach.teams.digest_cards import digest_card, teams_wording
from dealcoach.teams.strings import t

_ADD = {"add", "toevoegen"}
_REMOVE = {"remove", "rm", "verwijder", "verwijderen"}
_LIST = {"", "list", "lijst", "show", "toon"}


def mentions(activity: Activity) -> list[tuple[str, str, str]]:
    """(text as written, user id, name) of every user mentioned (not the bot), in order.

    The id is the user's Entra object id when Teams gives one (what `Actor.user_id` is for
    someone who writes to the bot), else their Teams id."""
    bot_id = activity.recipient.id if activity.recipient is not None else None
    found: list[tuple[str, str, str]] = []
    for mention in activity.get_mentions():
        who = mention.mentioned
        if who is None or not who.id or who.id == bot_id:
            continue
        user_id = who.aad_object_id or who.id
        found.append((mention.text or f"<at>{who.name or ''}</at>", user_id, who.name or ""))
    return found


def expand_mentions(activity: Activity) -> str:
    """The message text with each `<at>Name</at>` replaced by the mentioned user's id."""
    value = activity.text or ""
    for written, user_id, _name in mentions(activity):
        if written and written in value:
            value = value.replace(written, f" {user_id} ", 1)
    return value


class ManagerCommands:
    def __init__(self, services: Any) -> None:
        self.services = services

    async def digest(self, actor: Actor, locale: str, arg: str) -> dict[str, Any] | str:
        """The card to show, or a one-line message (a week that is not one)."""
        try:
            result = await self.services.async_digests.on_demand(actor, arg.strip() or None)
        except InputError:
            return t(locale, "digest.usage")
        chosen = result.digest.locale
        note = dtext(chosen, "digest_not_manager") if result.own_summary else None
        return digest_card(result.rendered, locale=chosen, note_md=note, digest=result.digest)

    async def pause(self, actor: Actor, paused: bool) -> str:
        locale: str = await self.services.async_digests.set_paused(actor, paused)
        return teams_wording(dtext(locale, "paused" if paused else "resumed"))

    async def team(self, actor: Actor, locale: str, command: commands.Command) -> str:
        verb = command.arg
        teams = self.services.async_reporting
        try:
            if verb in _LIST and not command.args:
                return _listing(await teams.list(actor), locale)
            if verb in _ADD and len(command.args) >= 2:
                change = await teams.add(actor, command.args[0], list(command.args[1:]))
            elif verb in _REMOVE and command.args:
                change = await teams.remove(actor, list(command.args))
            else:
                return t(locale, "team.usage")
        except NotAllowed as exc:
            return (
                t(locale, "team.forbidden")
                if exc.key == "refused_admin"
                else dtext(locale, exc.key)
            )
        return _change(change, locale)


def _who(member: Member) -> str:
    return escape_teams(member.name or member.user_id)


def _change(change: TeamChange, locale: str) -> str:
    return "\n\n".join(change.describe(locale, _who)) or t(locale, "team.usage")


def _listing(listing: TeamListing, locale: str) -> str:
    if listing.is_admin:
        if not listing.teams:
            return teams_wording(dtext(locale, "team_none"))
        lines = [f"**{dtext(locale, 'team_header')}**"]
        for team in listing.teams:
            members = ", ".join(_who(m) for m in team.members)
            lines.append(f"- {_who(team.manager)}: {members}")
        return "\n".join(lines)
    lines = []
    if listing.members:
        members = ", ".join(_who(m) for m in listing.members)
        lines.append(dtext(locale, "team_yours", members=members))
    if listing.manager is not None:
        lines.append(dtext(locale, "team_your_manager", manager=_who(listing.manager)))
    return "\n\n".join(lines) or dtext(locale, "team_alone")
