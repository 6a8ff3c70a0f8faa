"""`/dealcoach` and its sub-commands.

`/dealcoach help`, `/dealcoach history [n]`, `/dealcoach lang en|nl`, the manager commands
(`listeners/manager.py`), `prep @rep` (`listeners/coaching.py`); anything else is a deal name
(`/dealcoach Acme renewal`), so only the exact forms are sub-commands. The words (en + nl)
and those forms are `dealcoach.commands` (`prompts/<locale>/commands.yaml`), shared with
Teams; this module turns Slack's escaped text into what the user typed. A review acks at
once, opens a modal with the command's trigger_id before any other work (the trigger dies
after 3 s), then fills it: the open draft's resume prompt, or the first step of a new review.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from dealcoach.coach.bank import Recommendation, load_bank
from dealcoach.coach.markup import escape_slack
from dealcoach.commands import Verb, parse
from dealcoach.errors import InputError
from dealcoach.services.actors import Actor
from dealcoach.services.coaching import ct
from dealcoach.services.reviews import ReviewSummary
from dealcoach.slack import modal
from dealcoach.slack.advice import OUTCOMES
from dealcoach.slack.context import SlackDeps, require_deps, slack_locale
from dealcoach.slack.flow import full_actor, view_for
from dealcoach.slack.limits import SECTION_TEXT, clip
from dealcoach.slack.listeners import coaching, crm, manager, plans
from dealcoach.slack.strings import t

log = logging.getLogger("dealcoach.slack")

COMMAND = "/dealcoach"

HISTORY_DEFAULT = 5
HISTORY_MAX = 20


# With `should_escape: true` Slack sends `<@U1|ann>`, `<#C1|sales>`, `<!here>`, `<url|label>`
# and HTML-escapes `& < >`; a deal name is stored as the plain text the user typed.
_SLACK_TOKEN = re.compile(r"<([@#!]?)([^<>|]*)(?:\|([^<>]*))?>")


def _plain(match: re.Match[str]) -> str:
    sigil, target, label = match.group(1), match.group(2), match.group(3)
    if sigil == "!":
        return "@" + (label or target.split("^")[0])
    if sigil in ("@", "#"):
        return sigil + (label or target)
    return label or target


def command_plain_text(text: str) -> str:
    """Slack's escaped command text as the plain text the user typed (for deal names)."""
    unlinked = _SLACK_TOKEN.sub(_plain, text)
    return unlinked.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def parse_command(text: str) -> tuple[Verb, str]:
    """`(verb, argument)` of `/dealcoach <text>`: `review` with the deal name as typed, or a
    sub-command with what follows its word (a language in lower case). `prep` takes one
    person: a mention, a user id or a platform-qualified id (`listeners/coaching.py`)."""
    command = parse(text, "slash", is_person=coaching.accepts)
    if command.verb == "review":
        return "review", command_plain_text(command.rest)
    if command.verb == "lang":
        return "lang", command.rest.lower()
    return command.verb, command.rest


def register(app: AsyncApp) -> None:
    app.command(COMMAND)(on_command)


async def on_command(
    ack: AsyncAck,
    command: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    respond: AsyncRespond,
) -> None:
    deps = require_deps(context)
    kind, arg = parse_command(command.get("text") or "")
    if kind == "crm":  # `listeners/crm.py` is registered first and normally answers these
        await crm.on_crm_command(ack, command, client, context, respond)
        return
    if kind == "review":
        await ack()
        await open_review(client, context, command, deal_name=arg or None)
        return
    if kind == "help":
        # Help needs no lookup beyond the cached profile; answer in the ack itself.
        locale = await _locale(deps, client, command)
        text = t(locale, "help") + "\n" + ct(locale, "help_prep")  # + prep (issue 16)
        await ack(text=text, response_type="ephemeral")
        return
    await ack()
    if kind in manager.VERBS:
        await manager.handle(kind, arg, client, context, command, respond)
        return
    if kind == "prep":
        await coaching.prep_command(client, context, command, respond, arg)
        return
    if kind == "plan":  # the deal's close plan in a modal (issue 15)
        await plans.plan_command(client, context, command, command_plain_text(arg))
        return
    if kind == "history":
        await show_history(client, context, command, respond, limit=arg)
    else:
        await set_language(client, context, command, respond, arg)


async def _locale(deps: SlackDeps, client: AsyncWebClient, body: Mapping[str, Any]) -> str:
    actor: Actor = await full_actor(deps, client, body)
    return await deps.locale_for(actor)


async def open_review(
    client: AsyncWebClient,
    context: AsyncBoltContext,
    command: Mapping[str, Any],
    *,
    deal_name: str | None,
) -> None:
    """views.open first (with a 'getting ready' view), then find or start the review."""
    deps = require_deps(context)
    cached = deps.cached_profile(command.get("team_id", ""), command.get("user_id", ""))
    guess = slack_locale(cached.locale if cached else None) or deps.settings.dealcoach_lang
    opened = await client.views_open(
        trigger_id=command["trigger_id"], view=modal.loading_view(guess)
    )
    view_id = opened["view"]["id"]

    actor: Actor = await full_actor(deps, client, command)
    try:
        # The open draft (offered for resume), else a new review: one transaction.
        async with deps.work_slot():
            found = await deps.reviews.open_or_start(actor, deal_name=deal_name)
    except InputError as exc:  # e.g. a deal name longer than the bank allows
        await client.views_update(view_id=view_id, view=modal.message_view(guess, str(exc)))
        return
    draft = found.draft
    if draft is not None:
        context["dealcoach_review_id"] = str(draft.review_id)
        context["dealcoach_locale"] = draft.locale
        view = modal.resume_view(
            draft.locale,
            str(draft.review_id),
            draft.deal_name,
            _when(draft.updated_at or draft.started_at),
            deal_name,
        )
    elif found.review is not None:  # no draft: open_or_start started this one
        review = found.review
        context["dealcoach_review_id"] = str(review.review_id)
        context["dealcoach_locale"] = review.locale
        view = view_for(review) or modal.message_view(review.locale, t(review.locale, "help"))
    else:  # (open_or_start always gives one of the two)
        view = modal.message_view(guess, t(guess, "help"))
    await client.views_update(view_id=view_id, hash=opened["view"].get("hash"), view=view)


async def show_history(
    client: AsyncWebClient,
    context: AsyncBoltContext,
    command: Mapping[str, Any],
    respond: AsyncRespond,
    *,
    limit: str,
) -> None:
    deps = require_deps(context)
    actor: Actor = await full_actor(deps, client, command)
    locale = await deps.locale_for(actor)
    count = min(int(limit), HISTORY_MAX) if limit.isdigit() and int(limit) > 0 else HISTORY_DEFAULT
    items = await deps.reviews.history(actor, limit=count)
    if not items:
        await respond(text=t(locale, "history.none"), response_type="ephemeral")
        return
    ids = [i.review_id for i in items]
    counts, openable = await deps.services.async_coaching.history_notes(ids)
    lines = [history_line(locale, item, counts.get(item.review_id)) for item in items]
    text = f"*{t(locale, 'history.header')}*\n" + "\n".join(lines)
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": clip(text, SECTION_TEXT, t(locale, "modal.truncated")),
            },
        }
    ]
    noted = [i for i in items if i.review_id in openable]
    if noted:  # the review with its coaching thread (and the deal's earlier notes)
        blocks.append(coaching.history_buttons(locale, noted))
    await respond(text=clip(text, 3900), blocks=blocks, response_type="ephemeral")


def history_line(locale: str, item: ReviewSummary, notes: tuple[int, int] | None = None) -> str:
    """One review in a list: date, deal (escaped), recommendation or 'draft', its coaching
    notes (how many, how many open), review id."""
    deal = escape_slack(item.deal_name or t(locale, "resume.unnamed"))
    when = _when(item.completed_at or item.started_at)
    labels = load_bank(locale).labels
    if item.recommendation:
        known = cast(Recommendation, item.recommendation)  # a stored id, maybe an old one
        status = labels.recommendations.get(known, item.recommendation)
    else:
        status = t(locale, "history.draft")
    extra = f" · {t(locale, 'outcome.' + item.outcome)}" if item.outcome in OUTCOMES else ""
    if notes:
        extra += " · " + ct(locale, "history_notes", notes=notes[0], open=notes[1])
    return f"• {when} · *{deal}* · {escape_slack(status)}{extra} · `{item.review_id}`"


async def set_language(
    client: AsyncWebClient,
    context: AsyncBoltContext,
    command: Mapping[str, Any],
    respond: AsyncRespond,
    arg: str,
) -> None:
    deps = require_deps(context)
    actor: Actor = await full_actor(deps, client, command)
    if arg not in ("en", "nl"):
        locale = await deps.locale_for(actor)
        await respond(text=t(locale, "lang.usage"), response_type="ephemeral")
        return
    await deps.reviews.set_locale(actor, arg)
    await respond(text=t(arg, "lang.set"), response_type="ephemeral")


def _when(value: object) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d")
    return str(value)[:10] if value else "-"
