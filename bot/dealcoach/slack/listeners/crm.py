"""The CRM link in Slack (issue 17).

- A middleware notes the workspace's CRM for the request (`crm_blocks.current_provider`),
  from a short in-process cache, so the first step's view gets the deal picker and the
  advice the *Save to CRM* button.
- `/dealcoach crm [connect hubspot TOKEN | connect salesforce … | disconnect]` (admins).
- The picker's options (Bolt's options listener): the CRM's open deals matching what the
  rep types, answered within Slack's 3 s (a slow or failing CRM gives one option saying so).
- Picking a deal: the step is shown again prefilled (name, account, amount, stage), the
  deal's contacts offered as decision-makers; a failing CRM is one line, the review goes on.
- *Save to CRM*: one note per review on the deal (saving again updates it).

Registered before `commands.register` so `/dealcoach crm …` reaches it first.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from dealcoach.coach.bank import load_bank
from dealcoach.coach.markup import escape_slack
from dealcoach.crm import CrmError
from dealcoach.crm_text import crm_name
from dealcoach.crm_text import t as ct
from dealcoach.errors import DealcoachError
from dealcoach.services.crm import credentials_from_words, crm_services, reason_text
from dealcoach.slack import crm_blocks, modal
from dealcoach.slack.context import require_deps, valid_review_id
from dealcoach.slack.flow import full_actor, view_for

log = logging.getLogger("dealcoach.slack.crm")

COMMAND = "/dealcoach"
# Seconds the options listener waits for the CRM (Slack gives 3 s for the whole answer).
OPTIONS_BUDGET = 2.3
# Seconds a workspace's CRM (or its absence) is remembered by this process.
PROVIDER_TTL = 30.0

_providers: dict[tuple[str, str], tuple[float, str | None]] = {}


def register(app: AsyncApp) -> None:
    if getattr(app, "_dealcoach_crm", False):  # once per app
        return
    app._dealcoach_crm = True  # type: ignore[attr-defined]
    app.middleware(_note_provider)
    app.command(COMMAND, matchers=[_is_crm_command])(on_crm_command)
    app.options(crm_blocks.ACTION_PICK)(on_deal_options)
    app.action(crm_blocks.ACTION_PICK)(on_deal_picked)
    app.action(crm_blocks.ACTION_SAVE)(on_save)


def forget_provider(team_id: str) -> None:
    _providers.pop(("slack", team_id), None)


async def provider_of(deps: Any, team_id: str) -> str | None:
    key = ("slack", team_id)
    now = time.monotonic()
    hit = _providers.get(key)
    if hit is not None and now - hit[0] < PROVIDER_TTL:
        return hit[1]
    provider = await crm_services(deps.services).provider_for("slack", team_id)
    if len(_providers) > 10_000:
        _providers.clear()
    _providers[key] = (now, provider)
    return provider


async def _note_provider(context: Any, body: dict[str, Any], next: Any) -> Any:
    provider = None
    kind = body.get("type")
    event = body.get("event") if kind == "event_callback" else None
    if isinstance(event, dict) and event.get("type") == "app_uninstalled":
        await _forget_workspace(context, body)
    if body.get("command") == COMMAND or kind == "view_submission" or _needs_provider(body):
        deps = context.get("dealcoach")
        team = context.get("team_id") or body.get("team_id") or (body.get("team") or {}).get("id")
        if deps is not None and team:
            try:
                provider = await provider_of(deps, str(team))
            except DealcoachError:  # the database is down: the review says so elsewhere
                provider = None
    crm_blocks.current_provider.set(provider)
    return await next()


def _needs_provider(body: dict[str, Any]) -> bool:
    """A block action that may show the CRM: any but a pick in a review step's input
    (`dispatch_action`, listeners/actions.on_choice), which is answered from the view alone
    and must not wait for the database when the cache has gone cold."""
    if body.get("type") != "block_actions":
        return False
    actions = [a for a in body.get("actions") or [] if isinstance(a, dict)]
    return not actions or any(a.get("action_id") != modal.ACTION_VALUE for a in actions)


async def _forget_workspace(context: Any, body: dict[str, Any]) -> None:
    """The app was removed from the workspace: its CRM credentials go too (the events
    listener then does the rest of the uninstall)."""
    deps = context.get("dealcoach")
    team = context.get("team_id") or body.get("team_id")
    if deps is None or not team:
        return
    try:
        if await crm_services(deps.services).disconnect("slack", str(team)):
            log.info("crm credentials deleted: app uninstalled")
    except DealcoachError:
        log.warning("crm credentials not deleted on uninstall: the database failed")
    forget_provider(str(team))


async def _is_crm_command(body: dict[str, Any]) -> bool:
    words = str(body.get("text") or "").split()
    return bool(words) and words[0].lower() == "crm"


def _unescape(word: str) -> str:
    """A word of Slack's escaped command text as typed (`<https://x>` → `https://x`)."""
    if word.startswith("<") and word.endswith(">"):
        word = word[1:-1].split("|")[0]
    return word.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


async def on_crm_command(
    ack: Any, command: dict[str, Any], client: AsyncWebClient, context: Any, respond: Any
) -> None:
    """`crm`, `crm connect hubspot TOKEN`, `crm connect salesforce USER PASS+TOKEN KEY SECRET
    [LOGIN_URL]`, `crm disconnect`. Nothing typed here is echoed or logged."""
    await ack()
    deps = require_deps(context)
    actor = await full_actor(deps, client, command)
    locale = await deps.locale_for(actor)
    words = [_unescape(w) for w in str(command.get("text") or "").split()[1:]]
    crm = crm_services(deps.services)
    verb = words[0].lower() if words else ""
    if verb == "save":
        result = await crm.save_command(actor, words[1:])
        await respond(text=result.message(locale), response_type="ephemeral")
        return
    if verb not in ("connect", "disconnect"):
        provider = await crm.provider_for("slack", actor.workspace_id)
        text = ct(locale, "status.connected", crm=crm_name(provider)) if provider else ct(
            locale, "status.none"
        )
        await respond(text=text, response_type="ephemeral")
        return
    if not (actor.is_admin or actor.user_id in deps.settings.dealcoach_admins):
        await respond(text=ct(locale, "connect.admins"), response_type="ephemeral")
        return
    if verb == "disconnect":
        removed = await crm.disconnect("slack", actor.workspace_id)
        forget_provider(actor.workspace_id)
        key = "disconnect.done" if removed else "disconnect.none"
        await respond(text=ct(locale, key), response_type="ephemeral")
        return
    provider = words[1].lower() if len(words) > 1 else ""
    creds = credentials_from_words(provider, words[2:])
    if creds is None:
        await respond(text=ct(locale, "connect.usage"), response_type="ephemeral")
        return
    try:
        await crm.connect(
            "slack", actor.workspace_id, provider, creds, connected_by=actor.user_id,
            workspace_name=actor.workspace_name,
        )
    except CrmError as exc:
        text = ct(locale, "connect.failed", crm=crm_name(provider),
                  reason=reason_text(locale, exc.kind))
        await respond(text=text, response_type="ephemeral")
        return
    forget_provider(actor.workspace_id)
    await respond(text=ct(locale, "connect.done", crm=crm_name(provider)),
                  response_type="ephemeral")


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text[:75] or "-"}, "value": value[:150]}


async def on_deal_options(ack: Any, body: dict[str, Any], client: AsyncWebClient,
                          context: Any) -> None:
    """Open deals matching what the rep typed, within Slack's 3 s."""
    deps = require_deps(context)
    from dealcoach.slack.flow import make_actor

    actor = make_actor(body)
    locale = deps.settings.dealcoach_lang
    cached = deps.cached_profile(actor.workspace_id, actor.user_id)
    if cached is not None and cached.locale:
        locale = "nl" if cached.locale.lower().startswith("nl") else "en"
    crm = crm_services(deps.services)
    try:
        deals = await asyncio.wait_for(
            crm.search(actor, str(body.get("value") or ""), 50), OPTIONS_BUDGET
        )
    except (TimeoutError, CrmError, DealcoachError) as exc:
        log.info("crm deal search failed: %s", type(exc).__name__)
        provider = crm_blocks.current_provider.get() or await provider_of(deps, actor.workspace_id)
        await ack(options=[_option(ct(locale, "pick.unavailable", crm=crm_name(provider)), "-")])
        return
    if not deals:
        await ack(options=[_option(ct(locale, "pick.none"), "-")])
        return
    options = [
        _option(f"{d.name} · {d.account}" if d.account else d.name, d.id) for d in deals[:100]
    ]
    await ack(options=options)


def _number_text(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value


async def on_deal_picked(ack: Any, body: dict[str, Any], client: AsyncWebClient,
                         context: Any) -> None:
    """Prefill the step on screen from the picked deal; offer its contacts."""
    await ack()
    deps = require_deps(context)
    view: Mapping[str, Any] = body.get("view") or {}
    action = (body.get("actions") or [{}])[0]
    option = action.get("selected_option") or {}
    deal_id = str(option.get("value") or "")
    if not deal_id or deal_id == "-":
        return
    review_id = valid_review_id(view.get("private_metadata"))
    context["dealcoach_review_id"] = str(review_id)
    actor = await full_actor(deps, client, body)
    crm = crm_services(deps.services)
    provider = crm_blocks.current_provider.get()
    typed = {k: v for k, v in modal.answers_from_state(view).items() if v is not None}
    review = await deps.reviews.get(actor, review_id)
    locale = review.locale
    try:
        picked = await crm.pick(actor, review_id, deal_id)
    except CrmError as exc:
        notice = ct(locale, "pick.failed", crm=crm_name(provider),
                    reason=reason_text(locale, exc.kind))
        await _show(client, view, review, typed, locale, None, notice)
        return
    prefill = {**typed, **{k: _number_text(v) for k, v in picked.prefill.items()}}
    notice = ct(locale, "pick.done", crm=crm_name(picked.provider),
                deal=escape_slack(picked.deal.name))
    if picked.contacts:
        names = ", ".join(escape_slack(c.label) for c in picked.contacts)
        notice += " " + ct(locale, "pick.contacts", crm=crm_name(picked.provider), names=names)
    review = await deps.reviews.get(actor, review_id)
    await _show(client, view, review, prefill, locale, (deal_id, picked.deal.name), notice)


async def _show(
    client: AsyncWebClient,
    view: Mapping[str, Any],
    review: Any,
    prefill: dict[str, Any],
    locale: str,
    selected: tuple[str, str] | None,
    notice: str,
) -> None:
    new = view_for(review, prefill=prefill)
    if new is None:
        return
    bank = load_bank(locale)
    # view_for added the picker already (first step): put the choice and notice in it.
    blocks = [b for b in new.get("blocks") or [] if not str(b.get("block_id") or "").startswith(
        crm_blocks.BLOCK_PICK) and b.get("block_id") != crm_blocks.BLOCK_NOTICE]
    new = {**new, "blocks": blocks}
    first = any(b.get("block_id") in bank.questions and bank.questions[b["block_id"]].round
                == bank.rounds[0].id for b in blocks if b.get("type") == "input")
    new = crm_blocks.decorate_step(new, locale=locale, first_step=first, selected=selected,
                                   notice=notice)
    try:
        await client.views_update(view_id=view.get("id"), hash=view.get("hash"), view=new)
    except Exception:  # the rep moved on (hash changed, modal closed): nothing to fill
        log.info("crm prefill not shown: the view changed")


async def on_save(ack: Any, body: dict[str, Any], client: AsyncWebClient, context: Any,
                  respond: Any) -> None:
    """*Save to CRM*: one note on the deal per review (updated on a second click)."""
    await ack()
    deps = require_deps(context)
    action = (body.get("actions") or [{}])[0]
    review_id = valid_review_id(action.get("value"))
    context["dealcoach_review_id"] = str(review_id)
    actor = await full_actor(deps, client, body)
    locale = await deps.locale_for(actor)
    result = await crm_services(deps.services).save(actor, review_id)
    await respond(text=result.message(locale), response_type="ephemeral",
                  replace_original=False)
