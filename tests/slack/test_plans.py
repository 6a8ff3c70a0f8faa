"""The close plan in Slack over signed HTTP (issue 15): `/dealcoach plan [deal]`, a step
added by hand, the manager's read-only view and a stranger's refusal, the overdue reminder's
*Done* / *Move date* / *Drop* (once each), `/dealcoach pause`, the Home tab's plans, and
*Record outcome* asking why a deal was lost. Every view and message is validated with
slack_sdk.models; SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from tests.slack.conftest import make_services
from tests.slack.driver import USER, sent_view, validate_blocks, validate_view
from tests.slack.harness import SlackSender
from tests.slack.mock_web_api import Call, MockSlackWebApi
from tests.slack.plan_steps import (
    CLOSING,
    last_advice,
    reminders_sent,
    rep,
    run_review,
    send_reminders,
    workday_after,
)

from dealcoach.config import Settings
from dealcoach.slack import plan_blocks as pb

MANAGER = "U0MANAGER"
STRANGER = "U0OTHER"


def _services(settings: Settings) -> Any:
    return make_services(settings)


def _deal_id(settings: Settings, name: str = "Acme renewal", user: str = USER) -> int:
    services = _services(settings)
    try:
        deal = services.plans.find_deal(rep(user), name)
        assert deal is not None
        return int(deal)
    finally:
        services.close()


def _plan(settings: Settings, deal_id: int, user: str = USER) -> Any:
    services = _services(settings)
    try:
        return services.plans.deal_plan(rep(user), deal_id)
    finally:
        services.close()


def _latest_view(api: MockSlackWebApi, count: int) -> dict[str, Any]:
    return sent_view(api.wait_for("views.update", count)[-1])


def _open_plan(slack: SlackSender, api: MockSlackWebApi, text: str, user: str = USER) -> Any:
    before = len(api.calls_to("views.update"))
    opens = len(api.calls_to("views.open"))
    resp = slack.command(text, user=user)
    assert resp.status_code == 200 and resp.content in (b"", b"{}"), resp.text
    opened = api.wait_for("views.open", opens + 1)[-1]
    assert opened.params["trigger_id"]  # opened with the command's trigger, first
    return _latest_view(api, before + 1)


def _assign_manager(settings: Settings, manager: str = MANAGER, member: str = USER) -> None:
    def assign(uow: Any) -> None:
        ws = uow.workspaces.find("slack", "T0ACME")
        uow.reporting.assign(
            uow.people.get_or_create(ws, manager), uow.people.get_or_create(ws, member)
        )

    services = _services(settings)
    services.store.run(assign)
    services.close()


def test_plan_command_shows_the_plan_and_adds_a_step_by_hand(
    slack: SlackSender, slack_api: MockSlackWebApi, settings: Settings
) -> None:
    run_review(slack, slack_api, CLOSING)
    view = _open_plan(slack, slack_api, "plan Acme renewal")
    assert view["callback_id"] == pb.CALLBACK_PLAN
    assert "no close plan yet" in json.dumps(view)
    owners = next(b for b in view["blocks"] if b.get("block_id") == pb.BLOCK_OWNER)
    assert [o["value"] for o in owners["element"]["options"]] == [
        "us",
        "customer:Dana",
        "customer:Ans de Vries",
        "customer:Gerard",
    ]
    due = next(b for b in view["blocks"] if b.get("block_id") == pb.BLOCK_DUE)
    default = due["element"]["initial_date"]
    assert default > date.today().isoformat()

    # A date in the past is refused under the date field; nothing is stored.
    past = (date.today() - timedelta(days=3)).isoformat()
    values = {pb.BLOCK_TEXT: "Sign the <order> form", pb.BLOCK_DUE: past}
    resp = slack.submit(view, values)
    assert resp.json() == {
        "response_action": "errors",
        "errors": {pb.BLOCK_DUE: "Pick today or a later date."},
    }
    values = {
        pb.BLOCK_TEXT: "Sign the <order> form",
        pb.BLOCK_OWNER: "customer:Dana",
        pb.BLOCK_DUE: default,
    }
    resp = slack.submit(view, values)
    body = resp.json()
    assert body["response_action"] == "update"
    validate_view(body["view"])
    shown = json.dumps(body["view"])
    assert "Sign the &lt;order&gt; form" in shown and "0 of 1 step done" in shown
    # The refreshed form starts empty (new block ids).
    assert next(b["block_id"] for b in body["view"]["blocks"] if b["type"] == "input") != (
        pb.BLOCK_TEXT
    )
    plan = _plan(settings, _deal_id(settings))
    assert [(s.text, s.owner_kind, s.owner_name, s.due_on.isoformat()) for s in plan.steps] == [
        ("Sign the <order> form", "customer", "Dana", default)
    ]


def test_only_the_rep_changes_a_plan_and_their_manager_reads_it(
    slack: SlackSender, slack_api: MockSlackWebApi, settings: Settings
) -> None:
    run_review(slack, slack_api, CLOSING)
    deal_id = _deal_id(settings)
    services = _services(settings)
    step = services.plans.add_step(rep(), deal_id, "Send the security answers").step
    services.close()
    _assign_manager(settings)

    def open_home_plan(user: str) -> dict[str, Any]:
        before = len(slack_api.calls_to("views.update"))
        resp = slack.message_action(pb.ACTION_HOME_PLAN, value=str(deal_id), user=user)
        assert resp.status_code == 200
        return _latest_view(slack_api, before + 1)

    stranger = open_home_plan(STRANGER)
    assert "Only the rep who owns this deal" in json.dumps(stranger)
    assert "Send the security answers" not in json.dumps(stranger)

    manager = open_home_plan(MANAGER)
    assert manager["callback_id"] == pb.CALLBACK_INFO and "submit" not in manager
    assert "Send the security answers" in json.dumps(manager)
    assert not [b for b in manager["blocks"] if b["type"] == "input" or b.get("accessory")]

    # A crafted *Done* from the manager or a stranger changes nothing.
    for user in (MANAGER, STRANGER):
        before = len(slack_api.calls_to("response_url"))
        slack.message_action(pb.ACTION_STEP_DONE, value=str(step.step_id), user=user)
        reply = slack_api.wait_for("response_url", before + 1)[-1]
        assert reply.params["text"] == "Only the rep who owns this deal can change its plan."
        assert reply.params.get("replace_original") in (False, "false", None)
    assert _plan(settings, deal_id).steps[0].status == "open"

    # The rep's own plan modal: each step has its overflow, and *Mark done* works there.
    own = open_home_plan(USER)
    assert own["callback_id"] == pb.CALLBACK_PLAN
    before = len(slack_api.calls_to("views.update"))
    slack.view_action(own, pb.ACTION_STEP_MENU, selected=f"done|{step.step_id}")
    after = _latest_view(slack_api, before + 1)
    assert "1 of 1 step done" in json.dumps(after)
    assert _plan(settings, deal_id).steps[0].status == "done"


def test_plan_without_a_known_deal_offers_the_reps_deals(
    slack: SlackSender, slack_api: MockSlackWebApi, settings: Settings
) -> None:
    empty = _open_plan(slack, slack_api, "plan")
    assert "You have no deals yet" in json.dumps(empty)
    run_review(slack, slack_api, CLOSING)
    picker = _open_plan(slack, slack_api, "plan Nope &amp; Co")
    text = json.dumps(picker)
    assert "You have no deal called *Nope &amp; Co*" in text
    select = picker["blocks"][-1]["elements"][0]
    assert select["action_id"] == pb.ACTION_PICK_DEAL
    deal_id = str(_deal_id(settings))
    assert [o["value"] for o in select["options"]] == [deal_id]
    before = len(slack_api.calls_to("views.update"))
    slack.view_action(picker, pb.ACTION_PICK_DEAL, selected=deal_id)
    plan = _latest_view(slack_api, before + 1)
    assert plan["callback_id"] == pb.CALLBACK_PLAN and plan["private_metadata"] == deal_id


def _press(
    slack: SlackSender, api: MockSlackWebApi, reminder: Call, action_id: str, **kw: Any
) -> Call:
    blocks = reminder.json_param("blocks")
    step_block = next(b for b in blocks if str(b.get("block_id", "")).startswith("plan_step:"))
    step_id = step_block["block_id"].split(":")[1]
    value = "" if action_id == pb.ACTION_STEP_MOVE else step_id
    before = len(api.calls_to("response_url"))
    resp = slack.message_action(action_id, value=value, blocks=blocks, **kw)
    assert resp.status_code == 200
    return api.wait_for("response_url", before + 1)[-1]


def test_overdue_reminders_done_move_drop_once_each(
    slack: SlackSender, slack_api: MockSlackWebApi, settings: Settings
) -> None:
    run_review(slack, slack_api, CLOSING)
    deal_id = _deal_id(settings)
    services = _services(settings)
    for text in ("Send the <security> answers", "Book the demo", "Draft the order form"):
        services.plans.add_step(rep(), deal_id, text)
    services.close()
    now = workday_after(14)
    report = send_reminders(settings, now)
    assert len(report.sent) == 3, report
    sent = reminders_sent(slack_api)
    assert len(sent) == 3
    for call in sent:
        validate_blocks(call.json_param("blocks"))
        assert "&lt;security&gt;" in json.dumps(call.json_param("blocks")) or "<security>" not in (
            json.dumps(call.json_param("blocks"))
        )
    by_text = {
        next(t for t in ("security", "demo", "order") if t in c.params["text"]): c for c in sent
    }
    # Sent once: the same moment again sends nothing.
    assert send_reminders(settings, now).sent == []
    assert len(reminders_sent(slack_api)) == 3

    done = _press(slack, slack_api, by_text["security"], pb.ACTION_STEP_DONE)
    assert done.params["replace_original"] in (True, "true")
    blocks = done.json_param("blocks")
    validate_blocks(blocks)
    assert not [b for b in blocks if b["type"] == "actions"]
    assert "Marked done" in json.dumps(blocks)
    # A second press (a double click, Slack's retry) changes nothing more.
    _press(slack, slack_api, by_text["security"], pb.ACTION_STEP_DONE, retry_num=1)

    past = (date.today() - timedelta(days=1)).isoformat()
    refused = _press(slack, slack_api, by_text["demo"], pb.ACTION_STEP_MOVE, selected_date=past)
    assert refused.params["text"] == "Pick today or a later date."
    assert refused.params.get("replace_original") in (False, "false", None)
    later = (now.date() + timedelta(days=7)).isoformat()
    moved = _press(slack, slack_api, by_text["demo"], pb.ACTION_STEP_MOVE, selected_date=later)
    assert moved.params["replace_original"] in (True, "true")
    assert "Moved to" in json.dumps(moved.json_param("blocks"))

    dropped = _press(slack, slack_api, by_text["order"], pb.ACTION_STEP_DROP)
    assert "Dropped" in json.dumps(dropped.json_param("blocks"))

    plan = _plan(settings, deal_id)
    status = {s.text: (s.status, s.due_on.isoformat()) for s in plan.steps}
    assert status["Send the <security> answers"][0] == "done"
    assert status["Book the demo"] == ("open", later)
    assert "Draft the order form" not in status  # dropped steps are not listed
    services = _services(settings)
    security = next(s for s in plan.steps if s.text == "Send the <security> answers")
    history = services.plans.history(rep(), security.step_id)
    services.close()
    assert [e.kind for e in history].count("done") == 1
    # Nothing is overdue now (the moved step's new date is later): no reminder at `now`.
    assert send_reminders(settings, now).sent == []


def test_pause_stops_plan_reminders_and_resume_restarts_them(
    slack: SlackSender, slack_api: MockSlackWebApi, settings: Settings
) -> None:
    run_review(slack, slack_api, CLOSING)
    services = _services(settings)
    services.plans.add_step(rep(), _deal_id(settings), "Book the demo")
    services.close()
    slack.command("pause")
    slack_api.wait_for("response_url", 1)
    now = workday_after(14)
    assert send_reminders(settings, now).sent == []
    assert reminders_sent(slack_api) == []
    slack.command("resume")
    slack_api.wait_for("response_url", 2)
    assert len(send_reminders(settings, now).sent) == 1
    assert len(reminders_sent(slack_api)) == 1


def test_the_home_tab_lists_open_plans_with_overdue_steps(
    slack: SlackSender, slack_api: MockSlackWebApi, settings: Settings
) -> None:
    run_review(slack, slack_api, CLOSING)
    services = _services(settings)
    services.plans.add_step(rep(), _deal_id(settings), "Book the <demo>")
    services.close()
    before = len(slack_api.calls_to("views.publish"))
    slack.event("app_home_opened")
    view = slack_api.wait_for("views.publish", before + 1)[-1].json_param("view")
    validate_view(view)
    text = json.dumps(view)
    assert "Your close plans" in text and "0 of 1 step done" in text
    assert pb.ACTION_HOME_PLAN in text


def test_a_lost_outcome_asks_why_and_stores_the_reason(
    slack: SlackSender, slack_api: MockSlackWebApi, settings: Settings
) -> None:
    driver = run_review(slack, slack_api, CLOSING)
    review_id = driver.review_id
    last_advice(slack_api)
    # Won: recorded, no question.
    opens = len(slack_api.calls_to("views.open"))
    slack.message_action("advice_outcome", selected=f"won|{review_id}")
    slack_api.wait_for("response_url", 1)
    assert len(slack_api.calls_to("views.open")) == opens

    # Someone else: the modal opened for the reason says no, and so does an ephemeral reply.
    before = len(slack_api.calls_to("views.update"))
    slack.message_action("advice_outcome", selected=f"lost|{review_id}", user=STRANGER)
    refused = _latest_view(slack_api, before + 1)
    assert "belongs to someone else" in json.dumps(refused)
    assert "someone else" in slack_api.wait_for("response_url", 2)[-1].params["text"]
    opens += 1

    before = len(slack_api.calls_to("views.update"))
    slack.message_action("advice_outcome", selected=f"lost|{review_id}")
    slack_api.wait_for("views.open", opens + 1)
    reply = slack_api.wait_for("response_url", 3)[-1]
    assert reply.params["text"] == f"Outcome recorded for review {review_id}: Lost."
    view = _latest_view(slack_api, before + 1)
    assert view["callback_id"] == "dealcoach_outcome_reason"
    too_long = slack.submit(view, {"outcome.reason": "price", "outcome.reason_text": "x" * 301})
    assert too_long.json()["response_action"] == "errors"
    resp = slack.submit(
        view, {"outcome.reason": "competitor", "outcome.reason_text": "Went with <Rival>"}
    )
    body = resp.json()
    assert body["response_action"] == "update"
    validate_view(body["view"])
    assert "Lost — Competitor" in body["view"]["blocks"][0]["text"]["text"]

    def stored(uow: Any) -> tuple[str | None, str | None, str | None]:
        review = uow.reviews.get(int(review_id))
        return review.deal.outcome, review.outcome_reason, review.outcome_reason_text

    services = _services(settings)
    assert services.store.run(stored) == ("lost", "competitor", "Went with <Rival>")
    services.close()


def _add_buttons(advice: Call) -> list[dict[str, Any]]:
    return [
        b["accessory"]
        for b in advice.json_param("blocks")
        if str(b.get("accessory", {}).get("action_id", "")).startswith(pb.ACTION_ADD_TO_PLAN)
    ]


def open_add_modal(
    slack: SlackSender,
    api: MockSlackWebApi,
    advice: Call,
    index: int,
    *,
    user: str = USER,
    retry_num: int | None = None,
) -> dict[str, Any]:
    """Press *Add to plan* under move `index`; the modal the app opened and filled."""
    button = next(b for b in _add_buttons(advice) if b["action_id"].endswith(f":{index}"))
    opens = len(api.calls_to("views.open"))
    before = len(api.calls_to("views.update"))
    resp = slack.message_action(
        button["action_id"],
        value=button["value"],
        blocks=advice.json_param("blocks"),
        user=user,
        retry_num=retry_num,
    )
    assert resp.status_code == 200
    opened = api.wait_for("views.open", opens + 1)[-1]
    assert opened.params["trigger_id"]
    return _latest_view(api, before + 1)


def test_add_to_plan_from_the_advice_makes_one_step_however_often_it_is_sent(
    slack: SlackSender, slack_api: MockSlackWebApi, settings: Settings
) -> None:
    driver = run_review(slack, slack_api, CLOSING)
    advice = last_advice(slack_api)
    services = _services(settings)
    found = services.plans.review_candidates(rep(), int(driver.review_id))
    services.close()
    buttons = _add_buttons(advice)
    assert [b["value"] for b in buttons] == [
        f"{c.index}|{driver.review_id}" for c in found.candidates
    ]
    assert len(buttons) >= 2

    first = open_add_modal(slack, slack_api, advice, 0)
    assert first["callback_id"] == pb.CALLBACK_ADD
    text_block = next(b for b in first["blocks"] if b.get("block_id") == pb.BLOCK_TEXT)
    assert text_block["element"]["initial_value"] == found.candidates[0].text[:300]
    due = next(b for b in first["blocks"] if b.get("block_id") == pb.BLOCK_DUE)
    assert due["element"]["initial_date"] == found.default_due.isoformat()
    # A double click / Slack's retry of the click opens a second modal …
    second = open_add_modal(slack, slack_api, advice, 0, retry_num=1)
    # … and both are submitted: one step.
    added = slack.submit(first, {pb.BLOCK_OWNER: "customer:Dana"}).json()
    again = slack.submit(second, {pb.BLOCK_OWNER: "customer:Dana"}).json()
    assert added["response_action"] == again["response_action"] == "update"
    validate_view(added["view"])
    assert "Added to the plan of Acme renewal" in json.dumps(added["view"])
    assert "already in the plan of Acme renewal" in json.dumps(again["view"])

    # An edited move is kept as typed, under the same review's move; twice is once too.
    edited = open_add_modal(slack, slack_api, advice, 1)
    values = {pb.BLOCK_TEXT: "Call Ans about the <pilot> & the budget"}
    slack.submit(edited, values)
    slack.submit(edited, values)
    # Too long (a crafted payload: the input allows 300): refused under the text.
    long = slack.submit(edited, {pb.BLOCK_TEXT: "x" * 301}).json()
    assert long["response_action"] == "errors" and pb.BLOCK_TEXT in long["errors"]

    plan = _plan(settings, _deal_id(settings))
    steps = sorted((s.text, s.owner_kind, s.owner_name, s.rule) for s in plan.steps)
    assert steps == sorted(
        [
            (found.candidates[0].text, "customer", "Dana", found.candidates[0].rule),
            ("Call Ans about the <pilot> & the budget", "us", None, found.candidates[1].rule),
        ]
    )

    # Someone else's click on the rep's button: refused, nothing added.
    other = open_add_modal(slack, slack_api, advice, 2, user=STRANGER)
    assert "Only the rep who owns this deal" in json.dumps(other)
    assert len(_plan(settings, _deal_id(settings)).steps) == 2
