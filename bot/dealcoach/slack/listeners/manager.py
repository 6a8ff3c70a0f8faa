"""Manager features in Slack: `/dealcoach team …`, `/dealcoach digest …`, `/dealcoach pause`
/ `resume` (called from `commands.on_command` after its ack), and the App Home and reminder
buttons (`register(app)`).

- `team add @manager @rep…`, `team remove @rep…`, `team` (list): admins only for changes
  (workspace admins/owners from `users.info`, or `DEALCOACH_ADMINS`). Mentions arrive as
  `<@U123|name>` when the command escapes users (manifest `should_escape: true`); plain user
  ids work too.
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
from slack_sdk.web.async_client import AsyncWebClient

from dealcoach.coach.markup import escape_slack
from dealcoach.digest.render import text as dtext
from dealcoach.errors import InputError
from dealcoach.services.digests import AsyncDigestService
from dealcoach.services.reporting import AsyncReportingService, Member, NotAllowed, TeamChange
from dealcoach.slack import limits, modal
from dealcoach.slack.context import require_deps, valid_review_id
from dealcoach.slack.digest_blocks import ACTION_NUDGE_REVIEW, digest_blocks
from dealcoach.slack.flow import full_actor, view_for
from dealcoach.slack.home import ACTION_HOME_RESUME, ACTION_HOME_START

log = logging.getLogger("dealcoach.slack")

KINDS = ("team", "digest", "pause", "resume")
# First word → kind (en + nl), merged into commands.RESERVED.
RESERVED: dict[str, str] = {
    "team": "team",
    "teams": "team",
    "digest": "digest",
    "overzicht": "digest",
    "pause": "pause",
    "pauze": "pause",
    "resume": "resume",
    "hervat": "resume",
}
_ADD = {"add", "toevoegen", "voegtoe"}
_REMOVE = {"remove", "rm", "verwijder", "verwijderen"}
_LIST = {"", "list", "lijst", "show", "toon"}
_MENTION = re.compile(r"^<@([UW][A-Z0-9]{2,20})(?:\|[^>]*)?>$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")


def accepts(kind: str, rest: str) -> bool:
    """Whether `/dealcoach <word> <rest>` is this sub-command (else it is a deal name)."""
    words = rest.split()
    if kind == "team":
        return not words or words[0].lower() in _ADD | _REMOVE | _LIST
    if kind == "digest":
        return len(words) <= 1
    return not words  # pause / resume take nothing


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


def _teams(deps: Any) -> AsyncReportingService:
    service: AsyncReportingService = deps.services.async_reporting  # shared (bootstrap.Services)
    return service


def _digests(deps: Any) -> AsyncDigestService:
    service: AsyncDigestService = deps.services.async_digests
    return service


def _who(member: Member) -> str:
    return f"<@{member.user_id}>" if _USER_ID.match(member.user_id) else escape_slack(member.name)


async def handle(
    kind: str,
    arg: str,
    client: AsyncWebClient,
    context: Any,
    command: Mapping[str, Any],
    respond: Any,
) -> None:
    """Run a manager sub-command (already acknowledged) and answer ephemerally."""
    deps = require_deps(context)
    actor = await full_actor(deps, client, command)
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


async def team_command(deps: Any, actor: Any, locale: str, arg: str) -> str:
    words = arg.split()
    verb = words[0].lower() if words else ""
    service = _teams(deps)
    if verb in _LIST:
        return _listing(await service.list(actor), locale)
    ids, bad = parse_users(words[1:])
    if bad or not ids:
        return dtext(locale, "team_usage")
    if verb in _ADD:
        if len(ids) < 2:
            return dtext(locale, "team_usage")
        return _change(await service.add(actor, ids[0], ids[1:]), locale)
    return _change(await service.remove(actor, ids), locale)


def _change(change: TeamChange, locale: str) -> str:
    return "\n".join(change.describe(locale, _who)) or dtext(locale, "team_usage")


def _listing(listing: Any, locale: str) -> str:
    lines: list[str] = []
    if listing.is_admin:
        if not listing.teams:
            return dtext(locale, "team_none")
        lines.append(f"*{dtext(locale, 'team_header')}*")
        for team in listing.teams:
            members = ", ".join(_who(m) for m in team.members)
            lines.append(f"• {_who(team.manager)}: {members}")
        return "\n".join(lines)
    if listing.members:
        members = ", ".join(_who(m) for m in listing.members)
        lines.append(dtext(locale, "team_yours", members=members))
    if listing.manager is not None:
        lines.append(dtext(locale, "team_your_manager", manager=_who(listing.manager)))
    return "\n".join(lines) or dtext(locale, "team_alone")


async def digest_command(deps: Any, actor: Any, locale: str, arg: str, respond: Any) -> None:
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
    ack: Any, body: dict[str, Any], client: AsyncWebClient, context: Any
) -> None:
    await ack()
    from dealcoach.slack.listeners.commands import open_review

    await open_review(client, context, _as_command(body), deal_name=None)


async def on_nudge_review(
    ack: Any, body: dict[str, Any], client: AsyncWebClient, context: Any
) -> None:
    await ack()
    from dealcoach.slack.listeners.commands import open_review

    deal = _value(body).strip()[:200] or None
    await open_review(client, context, _as_command(body), deal_name=deal)


async def on_home_resume(
    ack: Any, body: dict[str, Any], client: AsyncWebClient, context: Any
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
    actor = await full_actor(deps, client, command)
    review = await deps.reviews.get(actor, review_id)  # ownership: Forbidden / NotFound
    context["dealcoach_locale"] = review.locale
    view = view_for(review) or modal.message_view(review.locale, dtext(review.locale, "home_none"))
    await client.views_update(
        view_id=opened["view"]["id"], hash=opened["view"].get("hash"), view=view
    )
