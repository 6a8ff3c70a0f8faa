"""Manager features in Slack: `/dealcoach team …`, `/dealcoach digest …`, `/dealcoach pause`
/ `resume` (called from `commands.on_command` after its ack), and the App Home and reminder
buttons (`register(app)`).

- `team add @manager @rep…`, `team remove @rep…`, `team` (list): admins only for changes
  (workspace admins/owners from `users.info`, or `DEALCOACH_ADMINS`). Mentions arrive as
  `<@U123|name>` when the command escapes users (manifest `should_escape: true`); plain user
  ids work too. The words (en + nl) are `dealcoach.commands`; what a change or a listing
  says comes from the reporting service, this module only names people and lays it out.
- `digest [last|this|YYYY-Www]`: a manager's team digest, anyone else their own summary;
  ephemeral.
- Buttons: *Start a review* / *Resume* on the Home tab, *Review <deal>* on a reminder.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from dealcoach.coach.markup import escape_slack
from dealcoach.commands import team_action
from dealcoach.digest.render import text as dtext
from dealcoach.errors import InputError
from dealcoach.services.actors import Actor
from dealcoach.services.digests import AsyncDigestService
from dealcoach.services.reporting import AsyncReportingService, Member, NotAllowed, TeamListing
from dealcoach.slack import limits, modal
from dealcoach.slack.context import SlackDeps, require_deps, valid_review_id
from dealcoach.slack.digest_blocks import ACTION_NUDGE_REVIEW, digest_blocks
from dealcoach.slack.flow import full_actor, view_for
from dealcoach.slack.home import ACTION_HOME_RESUME, ACTION_HOME_START

log = logging.getLogger("dealcoach.slack")

# The sub-commands `commands.on_command` hands to `handle` (words: `dealcoach.commands`).
VERBS = ("team", "digest", "pause", "resume")
_MENTION = re.compile(r"^<@([UW][A-Z0-9]{2,20})(?:\|[^>]*)?>$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")


def parse_users(words: list[str]) -> tuple[list[str], list[str]]:
    """(user ids, words that are not a user) from `<@U1|ann>`, `<@U1>` or `U1`."""
    ids: list[str] = []
    bad: list[str] = []
    for word in words:
        match = _MENTION.match(word)
        if match:
            ids.append(match.group(1))
        elif _USER_ID.match(word):
            ids.append(word)
        else:
            bad.append(word)
    return ids, bad


def _reporting(deps: SlackDeps) -> AsyncReportingService:
    service: AsyncReportingService = deps.services.async_reporting
    return service


def _digests(deps: SlackDeps) -> AsyncDigestService:
    service: AsyncDigestService = deps.services.async_digests
    return service


def mention(member: Member) -> str:
    """A person in mrkdwn: a mention for a Slack user id, else their escaped name."""
    return f"<@{member.user_id}>" if _USER_ID.match(member.user_id) else escape_slack(member.name)


async def handle(
    kind: str,
    arg: str,
    client: AsyncWebClient,
    context: AsyncBoltContext,
    command: Mapping[str, Any],
    respond: AsyncRespond,
) -> None:
    """Run a manager sub-command (already acknowledged) and answer ephemerally."""
    deps = require_deps(context)
    actor: Actor = await full_actor(deps, client, command)
    locale = await deps.locale_for(actor)
    context["dealcoach_locale"] = locale
    try:
        if kind == "team":
            reply = await team_command(deps, actor, locale, arg)
        elif kind == "digest":
            await digest_command(deps, actor, locale, arg, respond)
            return
        else:
            paused = kind == "pause"
            await _digests(deps).set_paused(actor, paused)
            reply = dtext(locale, "paused" if paused else "resumed")
    except NotAllowed as exc:
        reply = dtext(locale, exc.key)
    await respond(text=limits.clip(reply, 3000), response_type="ephemeral")


async def team_command(deps: SlackDeps, actor: Actor, locale: str, arg: str) -> str:
    """`team [list]`, `team add @manager @rep…`, `team remove @rep…` (en + nl words)."""
    words = arg.split()
    action = team_action(words[0] if words else "")
    service = _reporting(deps)
    if action == "list":
        return _layout(await service.list(actor), locale)
    ids, bad = parse_users(words[1:])
    if bad or not ids:
        return dtext(locale, "team_usage")
    if action == "add":
        if len(ids) < 2:
            return dtext(locale, "team_usage")
        change = await service.add(actor, ids[0], ids[1:])
    else:
        change = await service.remove(actor, ids)
    return "\n".join(change.describe(locale, mention)) or dtext(locale, "team_usage")


def _layout(listing: TeamListing, locale: str) -> str:
    """The service's listing in mrkdwn: a bold title over bulleted teams, or plain lines."""
    described = listing.describe(locale, mention)
    if described.empty is not None:
        return described.empty
    if described.title is None:
        return "\n".join(described.lines)
    return "\n".join([f"*{described.title}*", *(f"• {line}" for line in described.lines)])


async def digest_command(
    deps: SlackDeps, actor: Actor, locale: str, arg: str, respond: AsyncRespond
) -> None:
    try:
        result = await _digests(deps).on_demand(actor, arg.strip() or None)
    except InputError:
        await respond(text=dtext(locale, "week_invalid"), response_type="ephemeral")
        return
    blocks = digest_blocks(result.rendered)
    if result.own_summary:
        note = {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": dtext(locale, "digest_not_manager")}],
        }
        blocks = [note, *blocks][: limits.MESSAGE_BLOCKS]
    await respond(
        text=limits.clip(result.rendered.text, 3000),
        blocks=blocks,
        response_type="ephemeral",
    )


# --- buttons ----------------------------------------------------------------------------------


def register(app: AsyncApp) -> None:
    app.action(ACTION_HOME_START)(on_home_start)
    app.action(ACTION_HOME_RESUME)(on_home_resume)
    app.action(ACTION_NUDGE_REVIEW)(on_nudge_review)


def _as_command(body: Mapping[str, Any]) -> dict[str, Any]:
    """A block_actions payload in the shape `commands.open_review` reads."""
    user = body.get("user") or {}
    team = body.get("team") or {}
    return {
        "trigger_id": body.get("trigger_id"),
        "user_id": user.get("id"),
        "user_name": user.get("username") or user.get("name"),
        "team_id": team.get("id") or user.get("team_id"),
        "team_domain": team.get("domain"),
    }


def _value(body: Mapping[str, Any]) -> str:
    actions = body.get("actions") or [{}]
    return str(actions[0].get("value") or "")


async def on_home_start(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    await ack()
    from dealcoach.slack.listeners.commands import open_review

    await open_review(client, context, _as_command(body), deal_name=None)


async def on_nudge_review(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    await ack()
    from dealcoach.slack.listeners.commands import open_review

    deal = _value(body).strip()[:200] or None
    await open_review(client, context, _as_command(body), deal_name=deal)


async def on_home_resume(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """Open the draft's next step straight away (views.open first: the trigger lives 3 s)."""
    await ack()
    deps = require_deps(context)
    review_id = valid_review_id(_value(body))
    context["dealcoach_review_id"] = str(review_id)
    command = _as_command(body)
    opened = await client.views_open(
        trigger_id=command["trigger_id"], view=modal.loading_view(deps.settings.dealcoach_lang)
    )
    actor: Actor = await full_actor(deps, client, command)
    review = await deps.reviews.get(actor, review_id)  # ownership: Forbidden / NotFound
    context["dealcoach_locale"] = review.locale
    view = view_for(review) or modal.message_view(review.locale, dtext(review.locale, "home_none"))
    await client.views_update(
        view_id=opened["view"]["id"], hash=opened["view"].get("hash"), view=view
    )
