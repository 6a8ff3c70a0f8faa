"""Block Kit for the mutual close plan (issue 15): the *Add to plan* modal, the deal's plan
(`/dealcoach plan [deal]`, App Home's *Open plan*), the deal picker, the overdue reminder DM
with *Done* / *Move date* / *Drop*, and the plan lines of the Home tab.

Only layout: what a plan holds, who may change it and what a default date is are the plan
service's (`services/plans.py`); the words are `prompts/<locale>/plan.yaml` (shared with Teams
and the terminal) and `prompts/<locale>/slack.yaml` (Slack's own). User text (step texts,
deal and people's names) is escaped for mrkdwn here, once, with `coach.markup.escape_slack`;
plain_text fields take it as typed. Every view stays within Block Kit limits (`slack/limits`,
validated with slack_sdk.models in tests/slack/test_plans.py).

Ids (the listeners in `slack/listeners/plans.py` route on them):
- advice: `advice_plan:<n>` buttons, value `<n>|<review id>` (n = the move's index over the
  advice's actions then later moves, the service's `plan_candidates`);
- the *Add to plan* modal: callback `dealcoach_plan_add`, private_metadata `<n>|<review id>`;
- the plan modal: callback `dealcoach_plan`, private_metadata the deal id; its form's blocks
  `plan.text` / `plan.owner` / `plan.due` (+ `.<version>` so a refreshed view starts empty);
  a step's overflow `plan_step_menu`, option values `done|<step id>` etc.;
- the reminder: block `plan_step:<step id>` with `plan_step_done` / `plan_step_drop` buttons
  (value the step id) and the `plan_step_move` datepicker.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from dealcoach.coach.markup import escape_slack
from dealcoach.coach.plan_text import format_date
from dealcoach.coach.plans import default_due
from dealcoach.services.plans import (
    DealPlan,
    DealPlanSummary,
    PlanReminder,
    RenderedReminder,
    StepChange,
    StepView,
    pt,
)
from dealcoach.services.reviews import CompletedReview
from dealcoach.slack import limits
from dealcoach.slack.strings import t

JSON = dict[str, Any]

ACTION_ADD_TO_PLAN = "advice_plan"  # + ":<n>": one button per move on the advice
BLOCK_ADD_TO_PLAN = "dealcoach_advice_plan"  # + ":<n>"
CALLBACK_ADD = "dealcoach_plan_add"
CALLBACK_PLAN = "dealcoach_plan"
CALLBACK_INFO = "dealcoach_plan_info"
ACTION_PICK_DEAL = "plan_pick_deal"
ACTION_STEP_MENU = "plan_step_menu"
ACTION_STEP_DONE = "plan_step_done"
ACTION_STEP_MOVE = "plan_step_move"
ACTION_STEP_DROP = "plan_step_drop"
ACTION_HOME_PLAN = "home_open_plan"
BLOCK_STEP = "plan_step"  # + ":<step id>" on a reminder
BLOCK_TEXT = "plan.text"
BLOCK_OWNER = "plan.owner"
BLOCK_DUE = "plan.due"
INPUT = "value"
OWNER_US = "us"
OWNER_CUSTOMER = "customer:"
MAX_STEP_TEXT = 300  # the core's limit (store.models.MAX_STEP_TEXT)
HOME_PLANS = 8  # deals listed on the Home tab
HOME_OVERDUE = 3  # overdue steps listed per deal there
MENU_ACTIONS = ("done", "drop", "reopen")


def plain(text: str, limit: int) -> JSON:
    return {"type": "plain_text", "text": limits.clip(text, limit) or " ", "emoji": True}


def mrkdwn(text: str, limit: int = limits.SECTION_TEXT) -> JSON:
    return {"type": "mrkdwn", "text": limits.clip(text, limit) or " "}


def section(text: str, accessory: JSON | None = None, block_id: str | None = None) -> JSON:
    block: JSON = {"type": "section", "text": mrkdwn(text)}
    if accessory is not None:
        block["accessory"] = accessory
    if block_id is not None:
        block["block_id"] = block_id
    return block


def context(text: str) -> JSON:
    return {"type": "context", "elements": [mrkdwn(text, limits.CONTEXT_TEXT)]}


def _button(action_id: str, label: str, value: str, style: str | None = None) -> JSON:
    button: JSON = {
        "type": "button",
        "action_id": action_id,
        "value": value[: limits.BUTTON_VALUE],
        "text": plain(label, limits.BUTTON_TEXT),
    }
    if style is not None:
        button["style"] = style
    return button


def _modal(
    locale: str,
    callback_id: str,
    blocks: list[JSON],
    *,
    title_key: str = "plan.modal_title",
    metadata: str | None = None,
    submit: str | None = None,
) -> JSON:
    view: JSON = {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(t(locale, title_key), limits.TITLE_TEXT),
        "close": plain(t(locale, "modal.cancel"), limits.TITLE_TEXT),
        "blocks": blocks,
    }
    if submit is not None:
        view["submit"] = plain(submit, limits.TITLE_TEXT)
    if metadata is not None:
        view["private_metadata"] = metadata[: limits.PRIVATE_METADATA]
    return view


def info_view(locale: str, text: str, *, title_key: str = "plan.modal_title") -> JSON:
    """A modal that only says something (a refusal, a confirmation)."""
    return _modal(locale, CALLBACK_INFO, [section(text)], title_key=title_key)


# --- the advice's *Add to plan* buttons --------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A move of the advice that can go into the plan (the service's `plan_candidates`)."""

    index: int
    text: str
    in_plan: bool = False


def candidates_of(completed: CompletedReview) -> list[Candidate]:
    """The completed review's moves, as the service lists them (`plan_candidates`)."""
    return [Candidate(c.index, c.text, c.in_plan) for c in completed.plan_candidates]


def add_to_plan_blocks(locale: str, review_id: str, candidates: Sequence[Candidate]) -> list[JSON]:
    """Under the advice: one short section per move with an *Add to plan* button (at most
    6 moves: 3 now + 3 later, so at most 7 blocks)."""
    if not candidates:
        return []
    blocks: list[JSON] = [context(t(locale, "plan.candidates"))]
    for c in candidates:
        text = limits.clip(f"\u2022 {escape_slack(c.text)}", 300)
        if c.in_plan:
            blocks.append(section(f"{text} · _\u2713 {t(locale, 'plan.in_plan')}_"))
            continue
        blocks.append(
            section(
                text,
                _button(
                    f"{ACTION_ADD_TO_PLAN}:{c.index}",
                    t(locale, "plan.add_button"),
                    f"{c.index}|{review_id}",
                ),
                block_id=f"{BLOCK_ADD_TO_PLAN}:{c.index}",
            )
        )
    return blocks


# --- the step form (Add to plan, and the plan modal's "add a step") ---------------------------


def owner_value(owner_kind: str, owner_name: str | None) -> str:
    if owner_kind == "customer" and owner_name:
        return (OWNER_CUSTOMER + owner_name)[: limits.OPTION_VALUE]
    return OWNER_US


def parse_owner(value: object) -> tuple[str, str | None]:
    """An owner option's value → (`us` | `customer`, name)."""
    if isinstance(value, str) and value.startswith(OWNER_CUSTOMER):
        name = value[len(OWNER_CUSTOMER) :].strip()
        if name:
            return "customer", name
    return "us", None


def _owner_options(locale: str, names: Sequence[str]) -> list[JSON]:
    options = [{"text": plain(pt(locale, "owner.us"), limits.OPTION_TEXT), "value": OWNER_US}]
    for name in names[:99]:
        options.append(
            {"text": plain(name, limits.OPTION_TEXT), "value": owner_value("customer", name)}
        )
    return options


def step_form(
    locale: str,
    *,
    text: str = "",
    owners: Sequence[str] = (),
    due: date | None = None,
    version: str = "",
) -> list[JSON]:
    """Three inputs: what (prefilled), who (us or a named decision-maker), by when."""
    suffix = f".{version}" if version else ""
    text_input: JSON = {
        "type": "plain_text_input",
        "action_id": INPUT,
        "multiline": True,
        "max_length": MAX_STEP_TEXT,
    }
    if text:
        text_input["initial_value"] = limits.clip(text, MAX_STEP_TEXT)
    options = _owner_options(locale, owners)
    due_input: JSON = {"type": "datepicker", "action_id": INPUT}
    if due is not None:
        due_input["initial_date"] = due.isoformat()
    return [
        {
            "type": "input",
            "block_id": BLOCK_TEXT + suffix,
            "label": plain(t(locale, "plan.step_label"), limits.LABEL_TEXT),
            "element": text_input,
        },
        {
            "type": "input",
            "block_id": BLOCK_OWNER + suffix,
            "label": plain(t(locale, "plan.owner_label"), limits.LABEL_TEXT),
            "hint": plain(t(locale, "plan.owner_hint"), limits.HINT_TEXT),
            "element": {
                "type": "static_select",
                "action_id": INPUT,
                "options": options,
                "initial_option": options[0],
            },
        },
        {
            "type": "input",
            "block_id": BLOCK_DUE + suffix,
            "label": plain(t(locale, "plan.due_label"), limits.LABEL_TEXT),
            "element": due_input,
        },
    ]


@dataclass(frozen=True)
class StepInput:
    """What was typed into a step form."""

    text: str | None
    prefilled: str | None  # the text the form was opened with (an unedited move)
    owner_kind: str
    owner_name: str | None
    due_on: str | None
    text_block: str
    due_block: str
    owner_block: str

    @property
    def edited_text(self) -> str | None:
        """The text when the rep changed it, else None (the move's own text, as the service
        keeps it: clipped at a word, not at the input's 300 characters)."""
        same = (
            self.text is not None
            and self.prefilled is not None
            and self.text.split() == self.prefilled.split()
        )
        return None if same else self.text


def read_step_form(view: Mapping[str, Any]) -> StepInput:
    """The step form's values from a submitted view (`view.state.values`)."""
    values = ((view.get("state") or {}).get("values")) or {}
    found = {BLOCK_TEXT: BLOCK_TEXT, BLOCK_OWNER: BLOCK_OWNER, BLOCK_DUE: BLOCK_DUE}
    for block in view.get("blocks") or []:
        bid = str(block.get("block_id") or "")
        for base in found:
            if bid == base or bid.startswith(base + "."):
                found[base] = bid

    def entry(base: str) -> Mapping[str, Any]:
        return (values.get(found[base]) or {}).get(INPUT) or {}

    text = entry(BLOCK_TEXT).get("value")
    prefilled = next(
        (
            b.get("element", {}).get("initial_value")
            for b in view.get("blocks") or []
            if b.get("block_id") == found[BLOCK_TEXT]
        ),
        None,
    )
    owner = (entry(BLOCK_OWNER).get("selected_option") or {}).get("value")
    kind, name = parse_owner(owner)
    due = entry(BLOCK_DUE).get("selected_date")
    return StepInput(
        text=text if isinstance(text, str) else None,
        prefilled=prefilled if isinstance(prefilled, str) else None,
        owner_kind=kind,
        owner_name=name,
        due_on=due if isinstance(due, str) and due else None,
        text_block=found[BLOCK_TEXT],
        due_block=found[BLOCK_DUE],
        owner_block=found[BLOCK_OWNER],
    )


def add_view(
    locale: str,
    *,
    review_id: str,
    index: int,
    deal_name: str,
    text: str,
    owners: Sequence[str],
    due: date,
) -> JSON:
    """*Add to plan*: the move's text (editable), its owner and date, for the rep to confirm."""
    blocks: list[JSON] = [
        section(t(locale, "plan.add_intro", deal=escape_slack(deal_name))),
        *step_form(locale, text=text, owners=owners, due=due),
        context(t(locale, "plan.from_review", review=review_id)),
    ]
    return _modal(
        locale,
        CALLBACK_ADD,
        blocks,
        title_key="plan.add_title",
        metadata=f"{index}|{review_id}",
        submit=t(locale, "plan.add_submit"),
    )


def added_view(change: StepChange) -> JSON:
    """The *Add to plan* modal after the step was added (or found there already)."""
    locale = change.locale
    lines = [
        ("\u2705 " if change.changed else "") + escape_slack(change.message),
        f"• {change.step.line(locale, 'slack')}",
        f"_{escape_slack(change.progress.text(locale))}_",
    ]
    blocks = [section("\n".join(lines)), context(t(locale, "plan.see_plan"))]
    return _modal(locale, CALLBACK_INFO, blocks, title_key="plan.add_title")


# --- the deal's plan ---------------------------------------------------------------------------


def _status_mark(step: StepView) -> str:
    if step.status == "done":
        return "\u2705"
    if step.status == "dropped":
        return "\u2716\ufe0f"
    return "\u26a0\ufe0f" if step.overdue else "\u25fb\ufe0f"


def step_text(step: StepView, locale: str) -> str:
    """One step in mrkdwn: mark, line (escaped), status; `overdue since …` when late."""
    line = step.line(locale, "slack")
    if step.status == "dropped":
        line = f"~{line}~"
    status = pt(locale, f"status.{step.status}")
    extra = ""
    if step.overdue:
        extra = " · *" + pt(locale, "step.overdue", due=format_date(step.due_on, locale)) + "*"
    return f"{_status_mark(step)} {line} · _{status}_{extra}"


def _menu(locale: str, step: StepView) -> JSON:
    actions = ("done", "drop") if step.status == "open" else ("reopen",)
    return {
        "type": "overflow",
        "action_id": ACTION_STEP_MENU,
        "options": [
            {
                "text": plain(t(locale, f"plan.menu_{a}"), limits.OPTION_TEXT),
                "value": f"{a}|{step.step_id}",
            }
            for a in actions
        ],
    }


def plan_view(plan: DealPlan, *, notice: str | None = None, version: str = "") -> JSON:
    """The deal's plan: progress, every step (status, owner, due date, overdue marked) and,
    for the rep who owns it, a form to add a step; read-only for their manager."""
    locale = plan.locale
    note = t(locale, "modal.truncated")
    head: list[JSON] = []
    if notice:
        head.append(section(notice))
    head.append(
        {
            "type": "header",
            "text": plain(pt(locale, "plan.title", deal=plan.deal_name), limits.HEADER_TEXT),
        }
    )
    head.append(section(f"*{escape_slack(plan.progress_text)}*"))
    steps: list[JSON] = []
    for step in plan.steps:
        menu = _menu(locale, step) if plan.viewer_is_owner else None
        steps.append(section(step_text(step, locale), menu))
    if not plan.steps:
        steps.append(context(t(locale, "plan.empty")))
    form: list[JSON] = []
    if plan.viewer_is_owner:
        form = [
            {"type": "divider"},
            section(f"*{t(locale, 'plan.add_heading')}*"),
            *step_form(
                locale, owners=plan.owner_options, due=default_due(plan.today), version=version
            ),
        ]
    else:
        steps.append(context(t(locale, "plan.read_only")))
    blocks = limits.fit_blocks(head + steps, limits.VIEW_BLOCKS - len(form), note) + form
    return _modal(
        locale,
        CALLBACK_PLAN if plan.viewer_is_owner else CALLBACK_INFO,
        blocks,
        metadata=str(plan.deal_id),
        submit=t(locale, "plan.add_step_submit") if plan.viewer_is_owner else None,
    )


@dataclass(frozen=True)
class DealChoice:
    deal_id: int
    name: str
    progress: str  # "2 of 5 steps done" or "no close plan yet"


def picker_view(locale: str, deals: Sequence[DealChoice], *, asked: str | None = None) -> JSON:
    """`/dealcoach plan` without a deal (or with one the rep does not have): pick a deal."""
    blocks: list[JSON] = []
    if asked:
        blocks.append(section(t(locale, "plan.not_found", deal=escape_slack(asked))))
    if not deals:
        blocks.append(section(t(locale, "plan.no_deals")))
        return _modal(locale, CALLBACK_INFO, blocks)
    blocks.append(section(t(locale, "plan.pick")))
    options = [
        {
            "text": plain(d.name, limits.OPTION_TEXT),
            "description": plain(d.progress, limits.OPTION_TEXT),
            "value": str(d.deal_id),
        }
        for d in deals[:100]
    ]
    blocks.append(
        {
            "type": "actions",
            "block_id": "plan_pick",
            "elements": [
                {
                    "type": "static_select",
                    "action_id": ACTION_PICK_DEAL,
                    "placeholder": plain(t(locale, "plan.pick_placeholder"), 150),
                    "options": options,
                }
            ],
        }
    )
    return _modal(locale, CALLBACK_INFO, blocks)


# --- the overdue reminder ----------------------------------------------------------------------


def reminder_blocks(reminder: PlanReminder, rendered: RenderedReminder) -> list[JSON]:
    """One overdue step: what, when, which deal; *Done*, *Move date* (a datepicker), *Drop*.
    `rendered` is the service's Slack rendering (user text escaped already)."""
    locale = reminder.recipient.locale
    step = str(reminder.step_id)
    return [
        section(f"*{rendered.title}*\n{rendered.text}"),
        {
            "type": "actions",
            "block_id": f"{BLOCK_STEP}:{step}",
            "elements": [
                _button(ACTION_STEP_DONE, rendered.done, step, "primary"),
                {
                    "type": "datepicker",
                    "action_id": ACTION_STEP_MOVE,
                    "placeholder": plain(rendered.move, 150),
                },
                {
                    **_button(ACTION_STEP_DROP, rendered.drop, step, "danger"),
                    "confirm": {
                        "title": plain(t(locale, "plan.drop_confirm_title"), 100),
                        "text": plain(t(locale, "plan.drop_confirm_text"), 300),
                        "confirm": plain(rendered.drop, 30),
                        "deny": plain(t(locale, "plan.drop_confirm_deny"), 30),
                        "style": "danger",
                    },
                },
            ],
        },
        context(t(locale, "plan.reminder_footer")),
    ]


def reminder_done_blocks(change: StepChange) -> list[JSON]:
    """The reminder after *Done* / *Move date* / *Drop*: what happened, no buttons left (an
    open step moved keeps nothing to press either: a new date brings a new reminder)."""
    locale = change.locale
    title = pt(locale, "reminder.title", deal=escape_slack(change.deal_name))
    step = change.step
    text = step.line(locale, "slack")
    if step.status == "done":
        text = f"~{text}~"
    return [
        section(f"*{title}*\n{text}"),
        context(("\u2705 " if step.status == "done" else "") + escape_slack(change.message)),
    ]


# --- App Home ----------------------------------------------------------------------------------


def home_blocks(
    locale: str,
    plans: Sequence[DealPlanSummary],
    overdue: Mapping[int, Sequence[StepView]],
) -> list[JSON]:
    """The rep's open plans on the Home tab: each deal's progress, its overdue steps and an
    *Open plan* button; nothing when the rep has no plan."""
    if not plans:
        return []
    blocks: list[JSON] = [{"type": "divider"}, section(f"*{t(locale, 'plan.home_title')}*")]
    for summary in plans[:HOME_PLANS]:
        lines = [f"*{escape_slack(summary.deal_name)}* · {summary.progress.text(locale)}"]
        for step in list(overdue.get(summary.deal_id, ()))[:HOME_OVERDUE]:
            lines.append(f"\u26a0\ufe0f {step.line(locale, 'slack')}")
        blocks.append(
            section(
                "\n".join(lines),
                _button(ACTION_HOME_PLAN, t(locale, "plan.home_open"), str(summary.deal_id)),
            )
        )
    if len(plans) > HOME_PLANS:
        blocks.append(context(t(locale, "plan.home_more", count=len(plans) - HOME_PLANS)))
    return blocks
