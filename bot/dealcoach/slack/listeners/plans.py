"""The mutual close plan in Slack (issue 15): parse → the plan service → render.

- *Add to plan* on the advice (`advice_plan:<n>`, value `<n>|<review id>`): `views.open`
  at once (the trigger lives 3 s), then the move's text, owner choices and default date from
  the service in the modal (`views.update`). Submitting it adds the step
  (`add_from_action`: the same move twice — a double click, two modals, a retry — is one
  step; an edited text is stored as typed, still under the review's move) and the modal
  says so with the plan's progress.
- `/dealcoach plan [deal]` (and *Open plan* on the Home tab): the deal's plan in a modal —
  steps with status, owner, date, overdue marked, a step's overflow (*Mark done*, *Drop*,
  *Reopen*) and a form to add a step by hand; the rep's manager sees it read-only. Without a
  deal (or with one the rep does not have): a picker of the rep's deals.
- The overdue reminder's *Done*, *Move date* (a datepicker) and *Drop*: the service changes
  the step (once: a second press changes nothing) and the reminder is replaced, through the
  interaction's `response_url`, by what happened — no buttons left to press.

Who may do what is the service's (`PlanRefused` / `PlanInvalid` with a wording key from
`prompts/<locale>/plan.yaml`), said to the user in their language; any other error reaches
the app's error handler.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from dealcoach.coach.markup import escape_slack
from dealcoach.errors import NotFound
from dealcoach.services.actors import Actor
from dealcoach.services.plans import (
    AsyncPlanService,
    DealPlan,
    PlanInvalid,
    PlanRefused,
    StepChange,
    pt,
)
from dealcoach.slack import plan_blocks as pb
from dealcoach.slack.context import SlackDeps, require_deps, slack_locale, valid_review_id
from dealcoach.slack.flow import full_actor
from dealcoach.slack.strings import t

log = logging.getLogger("dealcoach.slack")

JSON = dict[str, Any]
_ADD_TO_PLAN = re.compile(rf"^{pb.ACTION_ADD_TO_PLAN}:\d{{1,2}}$")
_INDEX_AND_ID = re.compile(r"^(\d{1,2})\|([1-9][0-9]{0,17})$")
PICKER_DEALS = 25
# A refusal's key → the form field it is about (the others go to the text).
_FIELD = {
    "owner": pb.BLOCK_OWNER,
    "owner_name": pb.BLOCK_OWNER,
    "date": pb.BLOCK_DUE,
    "date_past": pb.BLOCK_DUE,
}


def register(app: AsyncApp) -> None:
    app.action(_ADD_TO_PLAN)(on_add_to_plan)
    app.view_submission(pb.CALLBACK_ADD)(on_add_submitted)
    app.view_submission(pb.CALLBACK_PLAN)(on_step_submitted)
    app.action(pb.ACTION_PICK_DEAL)(on_pick_deal)
    app.action(pb.ACTION_STEP_MENU)(on_step_menu)
    app.action(pb.ACTION_STEP_DONE)(on_reminder_done)
    app.action(pb.ACTION_STEP_DROP)(on_reminder_drop)
    app.action(pb.ACTION_STEP_MOVE)(on_reminder_move)
    app.action(pb.ACTION_HOME_PLAN)(on_home_open_plan)


def plans_of(deps: SlackDeps) -> AsyncPlanService:
    return deps.services.async_plans


def refusal(locale: str, err: PlanRefused | PlanInvalid | NotFound) -> str:
    """A refusal in the user's words (`refused.<key>` / `invalid.<key>`, plan.yaml)."""
    if isinstance(err, PlanRefused):
        return pt(locale, f"refused.{err.key}")
    if isinstance(err, PlanInvalid):
        return pt(locale, f"invalid.{err.key}", max=pb.MAX_STEP_TEXT)
    return pt(locale, "refused.not_found")


def _action(body: Mapping[str, Any]) -> Mapping[str, Any]:
    actions = body.get("actions") or [{}]
    first = actions[0]
    return first if isinstance(first, Mapping) else {}


def _guess_locale(deps: SlackDeps, body: Mapping[str, Any]) -> str:
    """The language for a view shown before the database is asked (cached profile)."""
    team = str(body.get("team_id") or (body.get("team") or {}).get("id") or "")
    user = str(body.get("user_id") or (body.get("user") or {}).get("id") or "")
    cached = deps.cached_profile(team, user)
    return slack_locale(cached.locale if cached else None) or deps.settings.dealcoach_lang


async def _open_loading(client: AsyncWebClient, deps: SlackDeps, body: Mapping[str, Any]) -> JSON:
    """`views.open` with a 'getting it ready' modal: first, while the trigger is alive."""
    locale = _guess_locale(deps, body)
    opened = await client.views_open(
        trigger_id=body["trigger_id"], view=pb.info_view(locale, t(locale, "plan.loading"))
    )
    view: JSON = opened["view"]
    return view


async def _update(client: AsyncWebClient, opened: Mapping[str, Any], view: JSON) -> None:
    await client.views_update(view_id=opened["id"], hash=opened.get("hash"), view=view)


# --- *Add to plan* ----------------------------------------------------------------------------


def parse_index_and_review(value: object) -> tuple[int, int]:
    """`<n>|<review id>` from a button value or the modal's private_metadata."""
    match = _INDEX_AND_ID.match(value) if isinstance(value, str) else None
    if match is None:
        valid_review_id(None)  # raises the "out of date" InputError
        raise AssertionError  # pragma: no cover
    return int(match.group(1)), int(match.group(2))


async def on_add_to_plan(ack: Any, body: JSON, client: AsyncWebClient, context: Any) -> None:
    await ack()
    deps = require_deps(context)
    index, review_id = parse_index_and_review(_action(body).get("value"))
    context["dealcoach_review_id"] = str(review_id)
    opened = await _open_loading(client, deps, body)
    actor = await full_actor(deps, client, body)
    try:
        found = await plans_of(deps).review_candidates(actor, review_id)
    except (PlanRefused, PlanInvalid, NotFound) as err:
        locale = await deps.locale_for(actor)
        await _update(client, opened, pb.info_view(locale, refusal(locale, err)))
        return
    context["dealcoach_locale"] = found.locale
    candidate = next((c for c in found.candidates if c.index == index), None)
    if candidate is None or found.deal_id is None:
        key = "invalid.no_deal" if found.deal_id is None else "invalid.no_action"
        await _update(client, opened, pb.info_view(found.locale, pt(found.locale, key)))
        return
    view = pb.add_view(
        found.locale,
        review_id=str(review_id),
        index=index,
        deal_name=found.deal_name or "",
        text=candidate.text,
        owners=found.owner_options,
        due=found.default_due,
    )
    await _update(client, opened, view)


async def on_add_submitted(
    ack: Any, body: JSON, client: AsyncWebClient, context: Any, view: JSON
) -> None:
    deps = require_deps(context)
    index, review_id = parse_index_and_review(view.get("private_metadata"))
    context["dealcoach_review_id"] = str(review_id)
    actor = await full_actor(deps, client, body)
    form = pb.read_step_form(view)
    try:
        change = await plans_of(deps).add_from_action(
            actor,
            review_id,
            index,
            text=form.edited_text,
            owner_kind=form.owner_kind,
            owner_name=form.owner_name,
            due_on=form.due_on,
        )
    except (PlanRefused, PlanInvalid, NotFound) as err:
        await _form_errors(ack, deps, actor, form, err)
        return
    context["dealcoach_locale"] = change.locale
    await ack(response_action="update", view=pb.added_view(change))


async def _form_errors(
    ack: Any,
    deps: SlackDeps,
    actor: Actor,
    form: pb.StepInput,
    err: PlanRefused | PlanInvalid | NotFound,
) -> None:
    """A refusal under the field it is about; the modal and what was typed stay."""
    locale = await deps.locale_for(actor)
    key = getattr(err, "key", "")
    base = _FIELD.get(key, pb.BLOCK_TEXT)
    block = {
        pb.BLOCK_OWNER: form.owner_block,
        pb.BLOCK_DUE: form.due_block,
        pb.BLOCK_TEXT: form.text_block,
    }[base]
    await ack(response_action="errors", errors={block: refusal(locale, err)[:150]})


# --- the deal's plan: `/dealcoach plan [deal]`, *Open plan* -----------------------------------


async def plan_command(
    client: AsyncWebClient, context: Any, command: Mapping[str, Any], arg: str
) -> None:
    """`/dealcoach plan [deal]` (acknowledged already): open the modal first, then the
    deal's plan, or a picker of the rep's deals."""
    deps = require_deps(context)
    opened = await _open_loading(client, deps, command)
    actor = await full_actor(deps, client, command)
    service = plans_of(deps)
    name = arg.strip()
    deal_id = await service.find_deal(actor, name) if name else None
    if deal_id is not None:
        view = await _plan_or_refusal(deps, actor, deal_id)
    else:
        view = await _picker(deps, actor, asked=name or None)
    await _update(client, opened, view)


async def _picker(deps: SlackDeps, actor: Actor, *, asked: str | None = None) -> JSON:
    service = plans_of(deps)
    locale = await deps.locale_for(actor)
    deals = await service.plan_deals(actor, limit=PICKER_DEALS)
    choices = [pb.DealChoice(d.deal_id, d.deal_name, d.progress.text(locale)) for d in deals]
    return pb.picker_view(locale, choices, asked=asked)


async def _plan_or_refusal(
    deps: SlackDeps, actor: Actor, deal_id: int, *, notice: str | None = None
) -> JSON:
    try:
        plan: DealPlan = await plans_of(deps).deal_plan(actor, deal_id)
    except (PlanRefused, NotFound) as err:
        locale = await deps.locale_for(actor)
        return pb.info_view(locale, refusal(locale, err))
    return pb.plan_view(plan, notice=notice)


def _deal_id(value: object) -> int:
    return valid_review_id(value)  # a positive id, like a review's


async def on_home_open_plan(ack: Any, body: JSON, client: AsyncWebClient, context: Any) -> None:
    await ack()
    deps = require_deps(context)
    deal_id = _deal_id(_action(body).get("value"))
    opened = await _open_loading(client, deps, body)
    actor = await full_actor(deps, client, body)
    await _update(client, opened, await _plan_or_refusal(deps, actor, deal_id))


async def on_pick_deal(ack: Any, body: JSON, client: AsyncWebClient, context: Any) -> None:
    await ack()
    deps = require_deps(context)
    selected = (_action(body).get("selected_option") or {}).get("value")
    deal_id = _deal_id(selected)
    actor = await full_actor(deps, client, body)
    view = body.get("view") or {}
    await _update(client, view, await _plan_or_refusal(deps, actor, deal_id))


async def on_step_submitted(
    ack: Any, body: JSON, client: AsyncWebClient, context: Any, view: JSON
) -> None:
    """The plan modal's "add a step": the plan again with the new step, the form empty."""
    deps = require_deps(context)
    deal_id = _deal_id(view.get("private_metadata"))
    actor = await full_actor(deps, client, body)
    form = pb.read_step_form(view)
    service = plans_of(deps)
    try:
        change = await service.add_step(
            actor,
            deal_id,
            form.text,
            owner_kind=form.owner_kind,
            owner_name=form.owner_name,
            due_on=form.due_on,
        )
        plan = await service.deal_plan(actor, deal_id)
    except (PlanRefused, PlanInvalid, NotFound) as err:
        await _form_errors(ack, deps, actor, form, err)
        return
    context["dealcoach_locale"] = change.locale
    notice = ("\u2705 " if change.changed else "") + escape_slack(change.message)
    # A new block id for the form, so the refreshed view starts with it empty.
    view_out = pb.plan_view(plan, notice=notice, version=str(change.step.step_id))
    await ack(response_action="update", view=view_out)


async def _change(
    service: AsyncPlanService, actor: Actor, verb: str, step_id: int, due_on: str | None = None
) -> StepChange:
    if verb == "done":
        return await service.mark_done(actor, step_id)
    if verb == "drop":
        return await service.drop(actor, step_id)
    if verb == "reopen":
        return await service.reopen(actor, step_id)
    return await service.move(actor, step_id, due_on)


async def on_step_menu(ack: Any, body: JSON, client: AsyncWebClient, context: Any) -> None:
    """A step's overflow in the plan modal: done / drop / reopen, then the plan again."""
    await ack()
    deps = require_deps(context)
    selected = str((_action(body).get("selected_option") or {}).get("value") or "")
    verb, _, raw_id = selected.partition("|")
    if verb not in pb.MENU_ACTIONS:
        valid_review_id(None)
    step_id = _deal_id(raw_id)
    view = body.get("view") or {}
    deal_id = _deal_id(view.get("private_metadata"))
    actor = await full_actor(deps, client, body)
    try:
        change = await _change(plans_of(deps), actor, verb, step_id)
        notice = escape_slack(change.message)
    except (PlanRefused, PlanInvalid, NotFound) as err:
        notice = refusal(await deps.locale_for(actor), err)
    await _update(client, view, await _plan_or_refusal(deps, actor, deal_id, notice=notice))


# --- the overdue reminder's buttons -----------------------------------------------------------


async def _on_reminder(
    body: JSON, client: AsyncWebClient, context: Any, respond: Any, verb: str
) -> None:
    deps = require_deps(context)
    action = _action(body)
    raw_id: object = action.get("value")
    due_on: str | None = None
    if verb == "move":
        block = str(action.get("block_id") or "")
        raw_id = block.split(":", 1)[1] if block.startswith(pb.BLOCK_STEP + ":") else ""
        selected = action.get("selected_date")
        due_on = selected if isinstance(selected, str) else None
    step_id = _deal_id(raw_id)
    actor = await full_actor(deps, client, body)
    try:
        change = await _change(plans_of(deps), actor, verb, step_id, due_on)
    except (PlanRefused, PlanInvalid, NotFound) as err:
        text = refusal(await deps.locale_for(actor), err)
        await respond(text=text, response_type="ephemeral", replace_original=False)
        return
    context["dealcoach_locale"] = change.locale
    await respond(
        text=change.message,
        blocks=pb.reminder_done_blocks(change),
        replace_original=True,
    )


async def on_reminder_done(
    ack: Any, body: JSON, client: AsyncWebClient, context: Any, respond: Any
) -> None:
    await ack()
    await _on_reminder(body, client, context, respond, "done")


async def on_reminder_drop(
    ack: Any, body: JSON, client: AsyncWebClient, context: Any, respond: Any
) -> None:
    await ack()
    await _on_reminder(body, client, context, respond, "drop")


async def on_reminder_move(
    ack: Any, body: JSON, client: AsyncWebClient, context: Any, respond: Any
) -> None:
    await ack()
    await _on_reminder(body, client, context, respond, "move")
