"""Turn routing: which handler each Teams activity goes to, like `slack/listeners/`.

- a `message` with text: a chat command (`chat`); without text but with a `value`: a card
  submitted by an older client (`Action.Submit`), handled like an invoke;
- an `adaptiveCard/action` invoke (`Action.Execute`): a card action, by verb — the review's
  buttons (`review_flow`), coaching (`coaching`), the CRM (`crm`), close plans (`plans`);
- `conversationUpdate` / `installationUpdate`: the greeting, once per chat;
- a turn that fails: one apology, and the rest in the log.

Data flows one way: activity → `Actor` + raw card data → a service → a card. Every turn
first remembers the person's chat and looks up the tenant's CRM (for the cards' buttons).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from microsoft_agents.activity import ActivityTypes
from microsoft_agents.hosting.core import AgentApplication, TurnContext, TurnState

from dealcoach.errors import DealcoachError
from dealcoach.services.actors import Actor
from dealcoach.teams import chat, coaching, crm, plans, review_flow
from dealcoach.teams.activities import card_activity, send_invoke
from dealcoach.teams.context import TeamsDeps
from dealcoach.teams.identity import actor_of, remember
from dealcoach.teams.payload import BadCard, CardData
from dealcoach.teams.replies import (
    Reply,
    apology_body,
    error_body,
    invoke_body,
    refusal_card,
    user_message,
)
from dealcoach.teams.strings import t

log = logging.getLogger("dealcoach.teams")

INVOKE_ACTION = "adaptiveCard/action"

Handler = Callable[[TurnContext, TurnState], Awaitable[None]]
ErrorHandler = Callable[[TurnContext, Exception], Awaitable[None]]


def register(app: AgentApplication[TurnState], deps: TeamsDeps) -> None:
    def bound(handler: Callable[[TeamsDeps, TurnContext], Awaitable[None]]) -> Handler:
        async def route(context: TurnContext, state: TurnState) -> None:
            await handler(deps, context)

        return route

    app.activity(ActivityTypes.conversation_update)(bound(on_conversation_update))
    app.activity(ActivityTypes.installation_update)(bound(on_conversation_update))
    app.invoke(INVOKE_ACTION)(bound(on_card_invoke))
    app.message(None)(bound(on_message))
    app.error(error_handler(deps))


def error_handler(deps: TeamsDeps) -> ErrorHandler:
    """The app's error route and the adapter's `on_turn_error`: one apology, and the log."""

    async def on_error(context: TurnContext, error: Exception) -> None:
        log.error("Teams turn failed: %s", type(error).__name__, exc_info=error)
        locale = deps.default_locale
        try:
            if context.activity.type == ActivityTypes.invoke:
                await send_invoke(context, apology_body(locale))
            else:
                await context.send_activity(t(locale, "error.apology"))
        except Exception:  # the channel itself is failing: nothing more to tell the user
            log.warning("could not tell the user about the failed turn", exc_info=True)

    return on_error


async def _who(deps: TeamsDeps, context: TurnContext) -> tuple[Actor, str]:
    """The person of this turn and their language; their chat remembered, their tenant's
    CRM looked up for this turn's cards."""
    actor = actor_of(context.activity, deps.settings)
    locale = await remember(deps, context, actor)
    await crm.prepare(deps, actor)
    return actor, locale


# --- handlers -------------------------------------------------------------------------------


async def on_conversation_update(deps: TeamsDeps, context: TurnContext) -> None:
    activity = context.activity
    added = activity.members_added or []
    bot_id = activity.recipient.id if activity.recipient else None
    installed = activity.type == ActivityTypes.installation_update and (
        activity.action or "add"
    ).startswith("add")
    if not installed and not any(m.id == bot_id for m in added):
        return
    if activity.from_property is None:
        return
    _actor, locale = await _who(deps, context)
    # Teams sends installationUpdate *and* conversationUpdate on a personal install (and
    # again on a reinstall): greet once per chat, a fact kept in the database.
    conversation = activity.conversation.id if activity.conversation else None
    if conversation and not await deps.services.async_conversations.first_greeting(
        "teams", conversation
    ):
        return
    await context.send_activity(t(locale, "welcome"))


async def on_message(deps: TeamsDeps, context: TurnContext) -> None:
    activity = context.activity
    if isinstance(activity.value, dict) and not (activity.text or "").strip():
        await on_legacy_submit(deps, context, activity.value)
        return
    actor, locale = await _who(deps, context)
    try:
        await chat.answer(deps, context, actor, locale)
    except DealcoachError as err:
        await context.send_activity(user_message(err, locale))


async def on_card_invoke(deps: TeamsDeps, context: TurnContext) -> None:
    value = context.activity.value
    action = value.get("action") if isinstance(value, dict) else None
    if not isinstance(action, dict) or action.get("type") != "Action.Execute":
        await send_invoke(context, error_body(400, "not an Adaptive Card action"))
        return
    raw_data = action.get("data")
    data: CardData = raw_data if isinstance(raw_data, dict) else {}
    verb = action.get("verb") or data.get("verb")
    actor, locale = await _who(deps, context)
    try:
        reply = await card_action(deps, actor, locale, str(verb or ""), data)
    except BadCard as err:
        await send_invoke(context, error_body(400, str(err)))
        return
    except DealcoachError as err:
        reply = Reply(card=refusal_card(err, locale))
    if reply.new_card is not None:
        await context.send_activity(card_activity(reply.new_card))
    await send_invoke(context, invoke_body(reply))


async def on_legacy_submit(deps: TeamsDeps, context: TurnContext,
                           value: CardData) -> None:
    """Action.Submit (older clients): same logic, the card is updated via the Connector."""
    actor, locale = await _who(deps, context)
    try:
        reply = await card_action(deps, actor, locale, str(value.get("verb") or ""), value)
    except BadCard:
        await context.send_activity(t(locale, "error.bad_card"))
        return
    except DealcoachError as err:
        await context.send_activity(user_message(err, locale))
        return
    if reply.new_card is not None:
        await context.send_activity(card_activity(reply.new_card))
    if reply.card is not None:
        replaced = context.activity.reply_to_id
        if replaced:
            update = card_activity(reply.card)
            update.id = replaced
            update.conversation = context.activity.conversation
            await context.update_activity(update)
        else:
            await context.send_activity(card_activity(reply.card))
    if reply.message:
        await context.send_activity(reply.message)


async def card_action(deps: TeamsDeps, actor: Actor, locale: str, verb: str,
                      data: CardData) -> Reply:
    """A card's button, by verb; `BadCard` for a verb none of our cards has."""
    if verb in coaching.VERBS:
        return await coaching.card_action(deps, actor, locale, verb, data)
    if verb in crm.VERBS:
        return await crm.card_action(deps, actor, locale, verb, data)
    if verb in plans.VERBS:
        return await plans.card_action(deps, actor, locale, verb, data)
    if verb in review_flow.VERBS:
        return await review_flow.card_action(deps, actor, locale, verb, data)
    raise BadCard(f"unknown card action {verb!r}")
