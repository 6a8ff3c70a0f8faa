"""Close-plan cards (issue 15): *Add to plan* on the advice, a deal's plan (`plan <deal>`),
the rep's plans (`plan`), the overdue reminder and what a click on it leaves.

Pure builders like `cards`: service results in, Adaptive Card JSON out (no SDK, no I/O).
Texts from users (step texts, deal and people's names) are escaped for Teams markdown here
(`escape_teams`); in input values and choice titles they stay plain (not rendered).

Layout, chosen for a chat:
- *Add to plan* is an `Action.ShowCard` on the advice: the moves not in the plan yet as one
  choice, who does it (us, or a decision-maker the review named), a date (blank: a week
  from now on a workday, the service's default) and one button. One step per click; the
  advice comes back with what was added, the form ready for the next one.
- A plan step shows its line, its state (overdue in red) and, for the rep, *Done*, *Move
  date* (an `Action.ShowCard` with a date) and *Drop* (*Reopen* on a done one). *Done* and
  *Drop* send no inputs (`associatedInputs: none`), so the forms next to them never block
  them. The hand-made step is a form in an `Action.ShowCard` (*Add a step*).
- The reminder has the same three buttons; what a click answers replaces it in place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime

from dealcoach.coach.markup import escape_teams
from dealcoach.coach.plan_text import format_date
from dealcoach.coach.plan_text import text as pt
from dealcoach.coach.plans import default_due
from dealcoach.services.plans import DealPlan, DealPlanSummary, StepChange, StepView, zone
from dealcoach.services.reviews import LOSS_REASONS, PlanCandidate, loss_reason_label
from dealcoach.teams import cards
from dealcoach.teams.cards import Card, Element
from dealcoach.teams.strings import t

VERB_ADD_ACTION = "dealcoach.plan.add_action"  # *Add to plan* on the advice
VERB_ADD = "dealcoach.plan.add"  # a step by hand, on the plan card
VERB_OPEN = "dealcoach.plan.open"
VERB_DONE = "dealcoach.plan.done"
VERB_MOVE = "dealcoach.plan.move"
VERB_DROP = "dealcoach.plan.drop"
VERB_REOPEN = "dealcoach.plan.reopen"
VERBS = (VERB_ADD_ACTION, VERB_ADD, VERB_OPEN, VERB_DONE, VERB_MOVE, VERB_DROP, VERB_REOPEN)

ACTION_INPUT = "plan.action"
OWNER_INPUT = "plan.owner"
DUE_INPUT = "plan.due"
TEXT_INPUT = "plan.text"
MOVE_INPUT = "plan.move_to."  # + the step id: one date input per step on a card
REASON_INPUT = "dealcoach.outcome_reason"
REASON_TEXT_INPUT = "dealcoach.outcome_reason_text"

OWNER_US = "us"
CUSTOMER_PREFIX = "c:"  # an owner choice's value: "us", or "c:" + the decision-maker's name
VIEW_PLAN = "plan"  # a step button on the plan card: answers with the plan
VIEW_REMINDER = "reminder"  # … on the reminder: answers with the reminder's new state

MAX_STEP_TEXT = 300  # the service's limit (store.models.MAX_STEP_TEXT), for the input
MAX_REASON_TEXT = 300
MAX_SHOWN_STEPS = 12  # a plan card shows this many steps (open ones first), then "and N more"
MAX_CHOICE_TITLE = 300
MAX_OWNER_NAME = 200


def local_today(timezone: str | None, now: datetime) -> date:
    """The rep's date at `now` (their zone; UTC when unknown): the earliest date to pick."""
    return now.astimezone(zone(timezone)).date()


def _clip(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def owner_choices(options: Sequence[str], locale: str) -> list[Element]:
    """Who does a step: us, or one of the decision-makers the deal's last review named."""
    choices = [{"title": pt(locale, "owner.us"), "value": OWNER_US}]
    for name in options:
        choices.append({"title": _clip(name, MAX_OWNER_NAME),
                        "value": CUSTOMER_PREFIX + name[:MAX_OWNER_NAME]})
    return choices


def owner_input(options: Sequence[str], locale: str, value: str = OWNER_US) -> Element:
    return {
        "type": "Input.ChoiceSet",
        "id": OWNER_INPUT,
        "label": t(locale, "plan.owner"),
        "style": "compact",
        "choices": owner_choices(options, locale),
        "value": value,
    }


def date_input(input_id: str, label: str, *, value: date | None = None,
               earliest: date | None = None, required: bool = False) -> Element:
    element: Element = {"type": "Input.Date", "id": input_id, "label": label}
    if value is not None:
        element["value"] = value.isoformat()
    if earliest is not None:
        element["min"] = earliest.isoformat()
    if required:
        element["isRequired"] = True
        element["errorMessage"] = label
    return element


def _show_card(title: str, body: list[Element], actions: list[Element]) -> Element:
    inner = cards.card(body, actions)
    del inner["$schema"]  # a nested card takes no $schema
    return {"type": "Action.ShowCard", "title": title, "card": inner}


# --- the advice ---------------------------------------------------------------------------


def add_to_plan_action(*, review_id: int, deal_id: int | None,
                       candidates: Sequence[PlanCandidate], owner_options: Sequence[str],
                       locale: str) -> Element | None:
    """*Add to plan* on the advice card: the moves not in the plan yet, owner, date, one
    button (and *Open plan* once the deal has one). None when there is nothing to add."""
    todo = [c for c in candidates if not c.in_plan]
    if deal_id is None or not candidates:
        return None
    body: list[Element] = []
    actions: list[Element] = []
    if todo:
        body.append({
            "type": "Input.ChoiceSet",
            "id": ACTION_INPUT,
            "label": t(locale, "plan.pick"),
            "style": "expanded",
            "wrap": True,
            "isRequired": True,
            "errorMessage": t(locale, "plan.pick"),
            "choices": [{"title": _clip(c.text, MAX_CHOICE_TITLE), "value": str(c.index)}
                        for c in todo],
            "value": str(todo[0].index),
        })
        body.append(owner_input(owner_options, locale))
        body.append(date_input(DUE_INPUT, t(locale, "plan.due")))
        actions.append(cards.execute(pt(locale, "plan.add"), VERB_ADD_ACTION,
                                     {"review_id": str(review_id)}, style="positive"))
    else:
        body.append(cards.text(t(locale, "plan.all_in"), isSubtle=True))
    in_plan = len(candidates) - len(todo)
    if in_plan:
        actions.append(cards.execute(t(locale, "plan.open"), VERB_OPEN,
                                     {"deal_id": str(deal_id)}, associatedInputs="none"))
        if todo:
            body.append(cards.text(t(locale, "plan.in_plan", count=in_plan), isSubtle=True,
                                   size="Small"))
    return _show_card(pt(locale, "plan.add"), body, actions)


def reason_inputs(locale: str, *, reason: str | None = None, text: str | None = None,
                  required: bool = False) -> list[Element]:
    """Why a deal was lost or walked away from: one of `LOSS_REASONS` and, optionally, in
    the rep's own words. On the advice's *Record outcome* they are optional (the card cannot
    make them depend on the outcome); the service asks again when they are missing."""
    label = t(locale, "outcome.reason" if required else "outcome.reason_optional")
    choice: Element = {
        "type": "Input.ChoiceSet",
        "id": REASON_INPUT,
        "label": label,
        "style": "compact",
        "placeholder": t(locale, "outcome.reason_placeholder"),
        "choices": [{"title": loss_reason_label(locale, r), "value": r} for r in LOSS_REASONS],
    }
    if reason in LOSS_REASONS:
        choice["value"] = reason
    if required:
        choice["isRequired"] = True
        choice["errorMessage"] = t(locale, "outcome.reason")
    words: Element = {
        "type": "Input.Text",
        "id": REASON_TEXT_INPUT,
        "label": t(locale, "outcome.reason_text"),
        "maxLength": MAX_REASON_TEXT,
        "isMultiline": True,
    }
    if text:
        words["value"] = text[:MAX_REASON_TEXT]
    return [choice, words]


def reason_card(*, review_id: int, outcome: str, outcome_label: str, deal_md: str,
                locale: str, reason: str | None = None, text: str | None = None,
                error: str | None = None) -> Card:
    """Lost or walked away, and no reason given: asked once more before recording."""
    body: list[Element] = [
        cards.heading(t(locale, "outcome.reason_title", outcome=outcome_label)),
        cards.text(t(locale, "outcome.reason_ask", deal=deal_md)),
    ]
    if error:
        body.append(cards.text(error, color="Attention"))
    body.extend(reason_inputs(locale, reason=reason, text=text, required=True))
    data = {"review_id": str(review_id), "nonce": "", cards.OUTCOME_INPUT: outcome}
    actions = [cards.execute(t(locale, "advice.outcome_save"), cards.VERB_OUTCOME, data,
                             style="positive")]
    return cards.card(body, actions, fallback=t(locale, "outcome.reason_title",
                                                outcome=outcome_label))


# --- a deal's plan ------------------------------------------------------------------------


def _state(step: StepView, locale: str) -> Element:
    if step.overdue:
        return cards.text(pt(locale, "step.overdue", due=format_date(step.due_on, locale)),
                          color="Attention", size="Small", spacing="None", weight="Bolder")
    label = pt(locale, f"status.{step.status}")
    return cards.text(label, isSubtle=True, size="Small", spacing="None",
                      color="Good" if step.status == "done" else "Default")


def step_actions(step: StepView, locale: str, view: str, *,
                 today: date | None = None) -> list[Element]:
    """*Done*, *Move date*, *Drop* on an open step; *Reopen* on a done or dropped one."""
    data = {"step_id": str(step.step_id), "deal_id": str(step.deal_id), "view": view}
    if step.status != "open":
        return [cards.execute(t(locale, "plan.reopen"), VERB_REOPEN, data,
                              associatedInputs="none")]
    move_to = default_due(today) if today is not None else None
    move = _show_card(
        pt(locale, "reminder.move"),
        [date_input(f"{MOVE_INPUT}{step.step_id}", t(locale, "plan.new_date"),
                    value=move_to, earliest=today, required=True)],
        [cards.execute(t(locale, "plan.move"), VERB_MOVE, data, style="positive")],
    )
    return [
        cards.execute(pt(locale, "reminder.done"), VERB_DONE, data, style="positive",
                      associatedInputs="none"),
        move,
        cards.execute(pt(locale, "reminder.drop"), VERB_DROP, data, style="destructive",
                      associatedInputs="none"),
    ]


def _step_item(step: StepView, locale: str, *, editable: bool, today: date) -> Element:
    items: list[Element] = [cards.text(step.line(locale, "teams"),
                                       weight="Bolder" if step.status == "open" else "Default"),
                            _state(step, locale)]
    if editable:
        items.append({"type": "ActionSet",
                      "actions": step_actions(step, locale, VIEW_PLAN, today=today)})
    return {"type": "Container", "separator": True, "spacing": "Medium", "items": items}


def add_step_action(plan: DealPlan, typed: Mapping[str, object] | None = None) -> Element:
    """*Add a step*: a step written by hand (text, who, date)."""
    locale = plan.locale
    typed = typed or {}
    text_input: Element = {
        "type": "Input.Text",
        "id": TEXT_INPUT,
        "label": t(locale, "plan.step"),
        "placeholder": t(locale, "plan.step_placeholder"),
        "maxLength": MAX_STEP_TEXT,
        "isRequired": True,
        "errorMessage": pt(locale, "invalid.empty"),
    }
    if isinstance(typed.get(TEXT_INPUT), str) and typed[TEXT_INPUT]:
        text_input["value"] = str(typed[TEXT_INPUT])[:MAX_STEP_TEXT]
    owner = typed.get(OWNER_INPUT)
    body = [
        text_input,
        owner_input(plan.owner_options, locale,
                    owner if isinstance(owner, str) and owner else OWNER_US),
        date_input(DUE_INPUT, t(locale, "plan.due_on"), value=default_due(plan.today),
                   earliest=plan.today),
    ]
    actions = [cards.execute(t(locale, "plan.add_step_button"), VERB_ADD,
                             {"deal_id": str(plan.deal_id)}, style="positive")]
    return _show_card(t(locale, "plan.add_step"), body, actions)


def plan_card(plan: DealPlan, *, notice_md: str | None = None, notice_color: str = "Good",
              typed: Mapping[str, object] | None = None) -> Card:
    """A deal's close plan: progress, the steps (open first), the rep's buttons and *Add a
    step*; read-only (no buttons) for the rep's manager."""
    locale = plan.locale
    title = pt(locale, "plan.title", deal=escape_teams(plan.deal_name))
    body: list[Element] = [cards.heading(title),
                           cards.text(plan.progress_text, isSubtle=True, spacing="None")]
    if notice_md:
        body.append(cards.text(notice_md, color=notice_color))
    steps = sorted(plan.steps, key=lambda s: (s.status != "open", s.due_on, s.step_id))
    if not steps:
        body.append(cards.text(t(locale, "plan.empty" if plan.viewer_is_owner
                                 else "plan.empty_read_only")))
    for step in steps[:MAX_SHOWN_STEPS]:
        body.append(_step_item(step, locale, editable=plan.viewer_is_owner, today=plan.today))
    if len(steps) > MAX_SHOWN_STEPS:
        body.append(cards.text(t(locale, "plan.more", count=len(steps) - MAX_SHOWN_STEPS),
                               isSubtle=True))
    if not plan.viewer_is_owner:
        body.append(cards.text(t(locale, "plan.read_only"), isSubtle=True, size="Small",
                               separator=True))
        return cards.card(body, fallback=title)
    return cards.card(body, [add_step_action(plan, typed)], fallback=title)


def plans_card(plans: Sequence[DealPlanSummary], locale: str) -> Card:
    """`plan` without a deal: the rep's open deals with a plan, each with *Open plan*."""
    if not plans:
        return cards.message_card(t(locale, "plan.none"), title_md=t(locale, "plan.list_title"))
    body: list[Element] = [cards.heading(t(locale, "plan.list_title"))]
    for index, item in enumerate(plans):
        progress = item.progress.text(locale)
        body.append({
            "type": "ColumnSet",
            "separator": index > 0,
            "columns": [
                {"type": "Column", "width": "stretch",
                 "items": [cards.text(f"**{escape_teams(item.deal_name)}**"),
                           cards.text(progress, isSubtle=True, spacing="None",
                                      color="Attention" if item.progress.overdue else "Default")]},
                {"type": "Column", "width": "auto", "verticalContentAlignment": "Center",
                 "items": [{"type": "ActionSet", "actions": [
                     cards.execute(t(locale, "plan.open"), VERB_OPEN,
                                   {"deal_id": str(item.deal_id)})]}]},
            ],
        })
    body.append(cards.text(t(locale, "plan.list_hint"), isSubtle=True, size="Small",
                           separator=True))
    return cards.card(body, fallback=t(locale, "plan.list_title"))


# --- the overdue reminder -------------------------------------------------------------------


def reminder_card(*, title_md: str, text_md: str, step_id: int, deal_id: int, locale: str,
                  today: date | None, fallback: str) -> Card:
    """One overdue step (`services.plans.render_reminder(…)["teams"]`: escaped already) with
    *Done*, *Move date* and *Drop*."""
    data = {"step_id": str(step_id), "deal_id": str(deal_id), "view": VIEW_REMINDER}
    move_to = default_due(today) if today is not None else None
    body = [cards.heading(title_md), cards.text(text_md)]
    actions = [
        cards.execute(pt(locale, "reminder.done"), VERB_DONE, data, style="positive",
                      associatedInputs="none"),
        _show_card(
            pt(locale, "reminder.move"),
            [date_input(f"{MOVE_INPUT}{step_id}", t(locale, "plan.new_date"), value=move_to,
                        earliest=today, required=True)],
            [cards.execute(t(locale, "plan.move"), VERB_MOVE, data, style="positive")],
        ),
        cards.execute(pt(locale, "reminder.drop"), VERB_DROP, data, style="destructive",
                      associatedInputs="none"),
        cards.execute(t(locale, "plan.open"), VERB_OPEN, {"deal_id": str(deal_id)},
                      associatedInputs="none"),
    ]
    return cards.card(body, actions, fallback=fallback)


def step_change_card(change: StepChange) -> Card:
    """What a click on a reminder leaves in its place: the step, what changed (and the
    plan's progress), *Reopen* after done/dropped, *Open plan*."""
    locale = change.locale
    step = change.step
    body: list[Element] = [
        cards.heading(pt(locale, "plan.title", deal=escape_teams(change.deal_name))),
        cards.text(step.line(locale, "teams")),
        _state(step, locale),
        # The service words it with plain-text values; its templates carry no markup, so
        # escaping the whole line escapes exactly the deal name in it.
        cards.text(escape_teams(change.message), color="Good"),
    ]
    actions: list[Element] = []
    if step.status != "open":
        actions.extend(step_actions(step, locale, VIEW_REMINDER))
    actions.append(cards.execute(t(locale, "plan.open"), VERB_OPEN,
                                 {"deal_id": str(step.deal_id)}, associatedInputs="none"))
    return cards.card(body, actions, fallback=change.message)
