"""Close plans in Teams (issue 15): `plan [deal]`, *Add to plan* on the advice, a step added
by hand, and *Done* / *Move date* / *Drop* / *Reopen* on the plan card and on the overdue
reminder.

Each action is one call to the plan service (`services.async_plans`), which decides who may
do what (only the rep who owns the deal changes its plan; the rep's manager may look) and
keeps the history; this module reads the card's data and lays out the answer
(`plan_cards`). A resubmitted card changes nothing twice: the same move added again is the
same step, a second *Done* is no change. Refusals and bad input are worded from
`prompts/<locale>/plan.yaml` (`replies.user_message`).
"""

from __future__ import annotations

from dealcoach.coach.markup import escape_teams
from dealcoach.errors import NotFound
from dealcoach.services.actors import Actor
from dealcoach.services.plans import AsyncPlanService, PlanInvalid, StepChange, pt
from dealcoach.teams import cards, plan_cards
from dealcoach.teams.cards import Card
from dealcoach.teams.context import TeamsDeps
from dealcoach.teams.payload import BadCard, CardData, review_id
from dealcoach.teams.plan_cards import (
    CUSTOMER_PREFIX,
    OWNER_US,
    VIEW_PLAN,
    VIEW_REMINDER,
)
from dealcoach.teams.replies import Reply, user_message
from dealcoach.teams.review_cards import advice_of
from dealcoach.teams.strings import t

VERBS = plan_cards.VERBS
MAX_DEAL_NAME = 200


def _plans(deps: TeamsDeps) -> AsyncPlanService:
    return deps.services.async_plans


def _id(data: CardData, key: str) -> int:
    raw = str(data.get(key) or "").strip()
    if not raw.isdigit() or len(raw) > 18:
        raise BadCard(f"the card names no {key.replace('_', ' ')}")
    return int(raw)


def _owner(data: CardData) -> tuple[str, str | None]:
    """`us`, or `c:<name>` — a decision-maker (the service checks the name)."""
    raw = str(data.get(plan_cards.OWNER_INPUT) or OWNER_US)
    if raw == OWNER_US:
        return "us", None
    if raw.startswith(CUSTOMER_PREFIX):
        return "customer", raw[len(CUSTOMER_PREFIX):]
    raise BadCard("the card names an owner none of our cards offers")


def _date(data: CardData, key: str) -> str | None:
    """An `Input.Date` value (YYYY-MM-DD, checked by the service); blank: none."""
    raw = data.get(key)
    return str(raw).strip()[:32] or None if raw is not None else None


# --- `plan [deal]` --------------------------------------------------------------------------


async def command(deps: TeamsDeps, actor: Actor, locale: str, arg: str) -> Card | str:
    """`plan`: the rep's deals with a plan; `plan <deal>`: that deal's plan (the rep's own
    deals only — anyone else's name finds nothing)."""
    name = " ".join(arg.split())[:MAX_DEAL_NAME]
    plans = _plans(deps)
    if not name:
        return plan_cards.plans_card(await plans.my_plans(actor), locale)
    deal_id = await plans.find_deal(actor, name)
    if deal_id is None:
        return t(locale, "plan.not_found", deal=escape_teams(name))
    return plan_cards.plan_card(await plans.deal_plan(actor, deal_id))


# --- card actions -----------------------------------------------------------------------------


async def card_action(deps: TeamsDeps, actor: Actor, locale: str, verb: str,
                      data: CardData) -> Reply:
    """One of the close plan's buttons (`plan_cards.VERBS`)."""
    try:
        if verb == plan_cards.VERB_ADD_ACTION:
            return await add_from_advice(deps, actor, locale, data)
        if verb == plan_cards.VERB_ADD:
            return await add_by_hand(deps, actor, locale, data)
        if verb == plan_cards.VERB_OPEN:
            plan = await _plans(deps).deal_plan(actor, _id(data, "deal_id"))
            return Reply(card=plan_cards.plan_card(plan))
        return await change_step(deps, actor, locale, verb, data)
    except NotFound:  # a deal or step deleted since the card was sent (or never ours)
        return Reply(card=cards.message_card(pt(locale, "refused.not_found"),
                                             color="Attention"))


async def add_from_advice(deps: TeamsDeps, actor: Actor, locale: str,
                          data: CardData) -> Reply:
    """*Add to plan*: the picked move as a step (owner, date); the advice again with what
    was added (or why not) under it. The same move twice is one step."""
    reviewed = review_id(data)
    index = _id(data, plan_cards.ACTION_INPUT)
    kind, name = _owner(data)
    try:
        change = await _plans(deps).add_from_action(
            actor, reviewed, index, owner_kind=kind, owner_name=name,
            due_on=_date(data, plan_cards.DUE_INPUT))
    except PlanInvalid as err:
        done = await deps.reviews.complete(actor, reviewed, None)
        return Reply(card=advice_of(done, notice_md=user_message(err, locale),
                                    notice_color="Attention"))
    done = await deps.reviews.complete(actor, reviewed, None)  # completed: its advice
    return Reply(card=advice_of(done, notice_md=_said(change),
                                notice_color="Good" if change.changed else "Default"))


async def add_by_hand(deps: TeamsDeps, actor: Actor, locale: str, data: CardData) -> Reply:
    """*Add a step* on the plan card: the plan again with the step, or with what to fix
    (what was typed kept)."""
    deal_id = _id(data, "deal_id")
    kind, name = _owner(data)
    plans = _plans(deps)
    try:
        change = await plans.add_step(actor, deal_id, data.get(plan_cards.TEXT_INPUT),
                                      owner_kind=kind, owner_name=name,
                                      due_on=_date(data, plan_cards.DUE_INPUT))
    except PlanInvalid as err:
        plan = await plans.deal_plan(actor, deal_id)
        return Reply(card=plan_cards.plan_card(plan, notice_md=user_message(err, locale),
                                               notice_color="Attention", typed=data))
    plan = await plans.deal_plan(actor, deal_id)
    return Reply(card=plan_cards.plan_card(plan, notice_md=_said(change)))


async def change_step(deps: TeamsDeps, actor: Actor, locale: str, verb: str,
                      data: CardData) -> Reply:
    """*Done*, *Move date*, *Drop*, *Reopen*: on the plan card the plan comes back; on the
    reminder, the step's new state in the reminder's place."""
    step_id = _id(data, "step_id")
    view = str(data.get("view") or VIEW_PLAN)
    if view not in (VIEW_PLAN, VIEW_REMINDER):
        raise BadCard("the card names no view")
    plans = _plans(deps)
    try:
        if verb == plan_cards.VERB_DONE:
            change = await plans.mark_done(actor, step_id)
        elif verb == plan_cards.VERB_DROP:
            change = await plans.drop(actor, step_id)
        elif verb == plan_cards.VERB_REOPEN:
            change = await plans.reopen(actor, step_id)
        else:  # VERB_MOVE
            moved_to = _date(data, f"{plan_cards.MOVE_INPUT}{step_id}")
            change = await plans.move(actor, step_id, moved_to)
    except PlanInvalid as err:
        if view == VIEW_REMINDER:  # the reminder stays as it is; the reason is shown
            return Reply(message=user_message(err, locale))
        # The plan as it is now, with the reason: the step may have changed elsewhere.
        plan = await plans.deal_plan(actor, _id(data, "deal_id"))
        return Reply(card=plan_cards.plan_card(plan, notice_md=user_message(err, locale),
                                               notice_color="Attention"))
    if view == VIEW_REMINDER:
        return Reply(card=plan_cards.step_change_card(change))
    plan = await plans.deal_plan(actor, change.step.deal_id)
    return Reply(card=plan_cards.plan_card(plan, notice_md=_said(change)))



def _said(change: StepChange) -> str:
    """The service's sentence about the change (plain-text values in a template without
    markup), escaped for Teams as a whole."""
    return escape_teams(change.message)
