"""The close plan's Block Kit (issue 15), built from service results and validated with
slack_sdk.models: the plan modal (owner and manager), the deal picker, *Add to plan* (modal
and the advice's buttons), the reminder and its replacement, the Home tab's plans, and the
loss-reason modal — en and nl, long and hostile user text, many steps."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from tests.slack.driver import validate_blocks, validate_view

from dealcoach.services.plans import (
    DealPlan,
    DealPlanSummary,
    PlanProgress,
    PlanReminder,
    Recipient,
    StepChange,
    StepView,
    render_reminder,
)
from dealcoach.slack import plan_blocks as pb
from dealcoach.slack.listeners.outcome import reason_view

TODAY = date(2026, 6, 10)
HOSTILE = "<!channel> Send *the* order form & <https://evil.example|click>"


def mrkdwn_texts(obj: object) -> list[str]:
    """Every mrkdwn text in a view or blocks (plain_text is shown literally by Slack)."""
    found: list[str] = []
    if isinstance(obj, dict):
        if obj.get("type") == "mrkdwn":
            found.append(str(obj.get("text")))
        for value in obj.values():
            found += mrkdwn_texts(value)
    elif isinstance(obj, list):
        for value in obj:
            found += mrkdwn_texts(value)
    return found


def assert_escaped(obj: object) -> None:
    texts = mrkdwn_texts(obj)
    assert texts
    for text in texts:
        assert "<!channel>" not in text and "<https://evil" not in text, text


def step(n: int, *, status: str = "open", overdue: bool = False, text: str = "") -> StepView:
    return StepView(
        step_id=n,
        deal_id=7,
        text=text or f"Step {n}: send the security answers",
        owner_kind="customer" if n % 2 else "us",
        owner_name="Dana (CFO)" if n % 2 else None,
        due_on=date(2026, 6, 1 + n % 25),
        status=status,
        rule="plan.agree_close_plan",
        from_review_id=3,
        created_at=datetime(2026, 6, 1, tzinfo=UTC),
        done_at=None,
        overdue=overdue,
    )


def plan(steps: list[StepView], *, owner: bool = True, locale: str = "en") -> DealPlan:
    return DealPlan(
        deal_id=7,
        deal_name=HOSTILE,
        locale=locale,
        today=TODAY,
        steps=tuple(steps),
        progress=PlanProgress(total=len(steps), done=1, open=len(steps) - 1, overdue=1),
        owner_options=("Dana", "Ans de Vries", "Gerard"),
        viewer_is_owner=owner,
    )


@pytest.mark.parametrize("locale", ["en", "nl"])
@pytest.mark.parametrize("count", [0, 1, 5, 150])
def test_the_plan_modal_fits_and_escapes(locale: str, count: int) -> None:
    steps = [step(n, status="done" if n == 1 else "open", overdue=n == 2) for n in range(count)]
    steps.insert(0, step(999, text=HOSTILE, overdue=True))
    view = pb.plan_view(plan(steps, locale=locale), notice="\u2705 done")
    validate_view(view)
    assert len(view["blocks"]) <= 100
    assert_escaped(view)
    assert "&lt;!channel&gt;" in json.dumps(view)
    # The form is never cut: its three inputs come last, whatever the number of steps.
    inputs = [b["block_id"] for b in view["blocks"] if b["type"] == "input"]
    assert inputs == [pb.BLOCK_TEXT, pb.BLOCK_OWNER, pb.BLOCK_DUE]
    owners = view["blocks"][-2]["element"]["options"]
    assert [o["value"] for o in owners] == [
        "us",
        "customer:Dana",
        "customer:Ans de Vries",
        "customer:Gerard",
    ]
    assert view["blocks"][-1]["element"]["initial_date"] == "2026-06-17"  # a week, a workday


def test_the_managers_plan_is_read_only() -> None:
    view = pb.plan_view(plan([step(1), step(2, overdue=True)], owner=False))
    validate_view(view)
    assert "submit" not in view and view["callback_id"] == pb.CALLBACK_INFO
    assert not [b for b in view["blocks"] if b["type"] == "input" or b.get("accessory")]
    assert "only the rep can change it" in json.dumps(view)


def test_overdue_steps_are_marked() -> None:
    text = pb.step_text(step(3, overdue=True), "en")
    assert "overdue since" in text and "Dana" in text
    assert "te laat sinds" in pb.step_text(step(3, overdue=True), "nl")


def test_a_refreshed_form_gets_new_block_ids_and_is_read_back() -> None:
    view = pb.plan_view(plan([step(1)]), version="42")
    ids = [b["block_id"] for b in view["blocks"] if b["type"] == "input"]
    assert ids == ["plan.text.42", "plan.owner.42", "plan.due.42"]
    view["state"] = {
        "values": {
            "plan.text.42": {"value": {"type": "plain_text_input", "value": "Call Dana"}},
            "plan.owner.42": {
                "value": {"type": "static_select", "selected_option": {"value": "customer:Dana"}}
            },
            "plan.due.42": {"value": {"type": "datepicker", "selected_date": "2026-06-20"}},
        }
    }
    form = pb.read_step_form(view)
    assert (form.text, form.owner_kind, form.owner_name, form.due_on) == (
        "Call Dana",
        "customer",
        "Dana",
        "2026-06-20",
    )
    assert form.due_block == "plan.due.42"


@pytest.mark.parametrize("locale", ["en", "nl"])
def test_the_picker_and_the_add_modal(locale: str) -> None:
    deals = [pb.DealChoice(n, f"{HOSTILE} {n}" * 3, "2 of 5 steps done") for n in range(1, 130)]
    picker = pb.picker_view(locale, deals, asked=HOSTILE)
    validate_view(picker)
    assert len(picker["blocks"][-1]["elements"][0]["options"]) == 100
    validate_view(pb.picker_view(locale, []))
    add = pb.add_view(
        locale,
        review_id="12",
        index=4,
        deal_name=HOSTILE,
        text="x" * 400,
        owners=["Dana"] * 120,
        due=TODAY,
    )
    validate_view(add)
    assert add["private_metadata"] == "4|12"
    text_input = add["blocks"][1]["element"]
    assert len(text_input["initial_value"]) == 300 and text_input["max_length"] == 300


def test_the_advice_offers_one_button_per_move() -> None:
    moves = [pb.Candidate(n, f"{HOSTILE} move {n}", in_plan=n == 2) for n in range(6)]
    blocks = pb.add_to_plan_blocks("en", "12", moves)
    validate_blocks(blocks)
    assert len(blocks) == 7
    buttons = [b["accessory"] for b in blocks if b.get("accessory")]
    assert [b["action_id"] for b in buttons] == [f"advice_plan:{n}" for n in (0, 1, 3, 4, 5)]
    assert [b["value"] for b in buttons] == [f"{n}|12" for n in (0, 1, 3, 4, 5)]
    assert "in the plan" in blocks[3]["text"]["text"]
    assert_escaped(blocks)


@pytest.mark.parametrize("locale", ["en", "nl"])
def test_the_reminder_and_what_replaces_it(locale: str) -> None:
    reminder = PlanReminder(
        recipient=Recipient(1, "slack", "T0ACME", "U1", "Sam", locale, "Europe/Amsterdam"),
        step_id=31,
        due_on=date(2026, 6, 1),
        deal_id=7,
        deal_name=HOSTILE,
        text=HOSTILE,
        owner_kind="customer",
        owner_name="Dana (CFO)",
    )
    blocks = pb.reminder_blocks(reminder, render_reminder(reminder, "slack"))
    validate_blocks(blocks)
    actions = blocks[1]
    assert actions["block_id"] == "plan_step:31"
    assert [e["action_id"] for e in actions["elements"]] == [
        "plan_step_done",
        "plan_step_move",
        "plan_step_drop",
    ]
    assert actions["elements"][0]["value"] == "31" and actions["elements"][2]["confirm"]
    assert_escaped(blocks)
    change = StepChange(
        step=step(31, status="done", text=HOSTILE),
        changed=True,
        deal_name=HOSTILE,
        locale=locale,
        progress=PlanProgress(total=2, done=1, open=1),
        message="Marked done. 1 of 2 steps done.",
    )
    done = pb.reminder_done_blocks(change)
    validate_blocks(done)
    assert not [b for b in done if b["type"] == "actions"]
    assert_escaped(done)


def test_the_home_tabs_plans() -> None:
    summaries = [
        DealPlanSummary(n, f"{HOSTILE} {n}", "closing", PlanProgress(5, 2, 3, 1, 1))
        for n in range(12)
    ]
    blocks = pb.home_blocks("en", summaries, {0: [step(1, overdue=True)] * 5})
    validate_blocks(blocks, limit=100)
    assert len(blocks) == 2 + pb.HOME_PLANS + 1
    assert blocks[2]["text"]["text"].count("\u26a0") == pb.HOME_OVERDUE
    assert blocks[2]["accessory"]["action_id"] == pb.ACTION_HOME_PLAN
    assert pb.home_blocks("en", [], {}) == []


@pytest.mark.parametrize("locale", ["en", "nl"])
@pytest.mark.parametrize("outcome", ["lost", "walked_away"])
def test_the_loss_reason_modal(locale: str, outcome: str) -> None:
    view = reason_view(locale, "12", outcome)
    validate_view(view)
    radio = view["blocks"][1]["element"]
    assert radio["type"] == "radio_buttons"
    assert [o["value"] for o in radio["options"]] == [
        "price",
        "no_decision",
        "competitor",
        "timing",
        "fit",
        "other",
    ]
    assert view["private_metadata"] == f"{outcome}|12"


def test_an_unedited_move_is_left_to_the_service() -> None:
    view = pb.add_view(
        "en", review_id="12", index=0, deal_name="Acme", text="Call  Dana", owners=[], due=TODAY
    )

    def typed(text: str) -> pb.StepInput:
        state = {pb.BLOCK_TEXT: {"value": {"type": "plain_text_input", "value": text}}}
        return pb.read_step_form({**view, "state": {"values": state}})

    assert typed("Call Dana").edited_text is None  # the same words: the move's own text
    assert typed("Call Dana on Monday").edited_text == "Call Dana on Monday"
