"""What a message typed in the personal chat does: `dealcoach` / `review <deal>`, `help`,
`history`, `plan [deal]`, `lang`, the manager commands (`digest`, `pause`/`resume`,
`team …`), `prep @rep`, `crm …`, a greeting. The words are parsed by `commands`; each
command calls one service through its own module and answers with a card or one line.
"""

from __future__ import annotations

from microsoft_agents.hosting.core import TurnContext

from dealcoach.services.actors import Actor
from dealcoach.teams import cards, coaching, commands, crm, manager, plans
from dealcoach.teams.activities import card_activity
from dealcoach.teams.cards import Card
from dealcoach.teams.context import TeamsDeps
from dealcoach.teams.history import history_card
from dealcoach.teams.identity import LOCALES
from dealcoach.teams.review_flow import open_review
from dealcoach.teams.strings import t


async def answer(deps: TeamsDeps, context: TurnContext, actor: Actor, locale: str) -> None:
    """Answer the message of this turn (refusals are the caller's to word)."""
    text = context.activity.text
    if crm.is_command(text):  # crm connect|disconnect|save (issue 17)
        await context.send_activity(await crm.command(deps, actor, locale, text or ""))
        return
    command = commands.parse(manager.expand_mentions(context.activity))
    await run(deps, context, actor, locale, command)


async def run(deps: TeamsDeps, context: TurnContext, actor: Actor, locale: str,
              command: commands.Command) -> None:
    if command.name == "review":
        card = await open_review(deps, actor, locale, command.arg or None)
        await context.send_activity(card_activity(card))
    elif command.name == "help":
        card = cards.help_card(locale)
        card["body"].append(cards.text(coaching.ct(locale, "help_prep_teams")))  # issue 16
        await context.send_activity(card_activity(card))
    elif command.name == "history":
        await context.send_activity(card_activity(await history_card(deps, actor, locale)))
    elif command.name == "plan":  # a deal's close plan, or the rep's plans (issue 15)
        await _send(context, await plans.command(deps, actor, locale, command.arg))
    elif command.name == "lang":
        if command.arg not in LOCALES:
            await context.send_activity(t(locale, "lang.usage"))
            return
        chosen = await deps.reviews.set_locale(actor, command.arg)
        await context.send_activity(t(chosen, "lang.set"))
    elif command.name == "digest":
        managers = manager.ManagerCommands(deps.services)
        await _send(context, await managers.digest(actor, locale, command.arg))
    elif command.name in ("pause", "resume"):
        managers = manager.ManagerCommands(deps.services)
        await context.send_activity(await managers.pause(actor, command.name == "pause"))
    elif command.name == "team":
        managers = manager.ManagerCommands(deps.services)
        await context.send_activity(await managers.team(actor, locale, command))
    elif command.name == "prep":
        await _send(context, await coaching.prep(deps, actor, locale, command.arg))
    elif command.name == "greet":
        await context.send_activity(t(locale, "welcome"))
    else:
        await context.send_activity(t(locale, "unknown"))


async def _send(context: TurnContext, reply: Card | str) -> None:
    await context.send_activity(reply if isinstance(reply, str) else card_activity(reply))
