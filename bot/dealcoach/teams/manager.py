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

The words (en + nl) are `dealcoach.commands`; what a change or a listing says comes from the
reporting service: this module names people (escaped) and lays the lines out in markdown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from microsoft_agents.activity import Activity

from dealcoach.coach.markup import escape_teams
from dealcoach.commands import team_action
from dealcoach.digest.render import text as dtext
from dealcoach.errors import InputError
from dealcoach.services.actors import Actor
from dealcoach.services.reporting import Member, NotAllowed, TeamListing
from dealcoach.teams import commands
from dealcoach.teams.digest_cards import digest_card, teams_wording
from dealcoach.teams.strings import t

if TYPE_CHECKING:
    from dealcoach.services.container import Services


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
    def __init__(self, services: Services) -> None:
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
        """`team [list]`, `team add <manager> <member>…`, `team remove <member>…`."""
        action = team_action(command.arg)
        people = list(command.args)
        reporting = self.services.async_reporting
        try:
            if action == "list" and not people:
                return _layout(await reporting.list(actor), locale)
            if action == "add" and len(people) >= 2:
                change = await reporting.add(actor, people[0], people[1:])
            elif action == "remove" and people:
                change = await reporting.remove(actor, people)
            else:
                return t(locale, "team.usage")
        except NotAllowed as exc:
            return (
                t(locale, "team.forbidden")
                if exc.key == "refused_admin"
                else dtext(locale, exc.key)
            )
        return "\n\n".join(change.describe(locale, mention)) or t(locale, "team.usage")


def mention(member: Member) -> str:
    """A person in a TextBlock: their escaped name (or id)."""
    return escape_teams(member.name or member.user_id)


def _layout(listing: TeamListing, locale: str) -> str:
    """The service's listing in markdown: a bold title over a list of teams, or paragraphs."""
    described = listing.describe(locale, mention)
    if described.empty is not None:
        return teams_wording(described.empty)  # the wording names Slack's /dealcoach team
    if described.title is None:
        return "\n\n".join(described.lines)
    return "\n".join([f"**{described.title}**", *(f"- {line}" for line in described.lines)])
