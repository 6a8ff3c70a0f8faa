"""A follow-up appears on the same page the moment its trigger is picked (Slack's
`dispatch_action`), over real HTTP: signed `block_actions` into the running app, the
`views.update` it sends to the Web API stand-in (with the view's hash), then the page
submitted — on SQLite and PostgreSQL. The listener touches no database; a pick it cannot
read, or an update Slack refuses as outdated, changes nothing, and the submit still asks a
follow-up that applies after the page, as before."""

from __future__ import annotations

import time
from typing import Any

import pytest
from tests.perf.sqlcount import SqlCounter
from tests.slack.conftest import make_services
from tests.slack.driver import (
    BASE,
    SCENARIOS,
    USER,
    ReviewDriver,
    advice_messages,
    sent_view,
    validate_view,
)
from tests.slack.harness import LiveServer, SlackSender
from tests.slack.mock_web_api import Call, MockSlackWebApi

from dealcoach.coach.bank import load_bank
from dealcoach.config import Settings
from dealcoach.services.actors import Actor
from dealcoach.services.reviews import ReviewService
from dealcoach.slack import modal
from dealcoach.slack.listeners import crm as crm_listener

MARGIN = "benefit.margin"
REASON = "benefit.strategic_reason"
ROOM = "benefit.renegotiable"
SIGNALS = "signals.silent_after_invite"
NOTHING_SENT = ("chat.postMessage", "chat.postEphemeral", "response_url", "views.open")


def _ids(view: dict[str, Any]) -> list[str]:
    return [b["block_id"] for b in view["blocks"] if b["type"] == "input"]


def _block(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)


def _frame(view: dict[str, Any]) -> dict[str, Any]:
    """Everything of a step view but its inputs: title, submit, metadata, header, footer…"""
    keep = ("type", "callback_id", "title", "close", "submit", "private_metadata")
    return {
        **{k: view.get(k) for k in keep},
        "blocks": [b for b in view["blocks"] if b["type"] != "input"],
    }


def _to_benefit_page(driver: ReviewDriver, answers: dict[str, Any]) -> dict[str, Any]:
    driver.start("Acme renewal")
    assert driver.follow(driver.submit_step(answers)) == "update"  # the fit page
    assert driver.follow(driver.submit_step(answers)) == "update"  # the agenda page
    assert driver.view is not None and _ids(driver.view)[0] == "benefit.customer_wins"
    return driver.view


def _updates_of(api: MockSlackWebApi, view_id: str) -> list[Call]:
    return [c for c in api.calls_to("views.update") if c.params.get("view_id") == view_id]


def _stored(settings: Settings, review_id: str) -> dict[str, Any]:
    services = make_services(settings)
    try:
        reviews: ReviewService = services.reviews
        who = Actor(platform="slack", workspace_id="T0ACME", user_id=USER, display_name="sam")
        return dict(reviews.get(who, int(review_id)).answers)
    finally:
        services.close()


@pytest.mark.parametrize("locale", ["en", "nl"])
def test_below_cost_asks_its_follow_ups_on_the_same_page(
    slack: SlackSender, slack_api: MockSlackWebApi, settings: Settings, locale: str
) -> None:
    slack_api.set_user(USER, locale=f"{locale}-NL" if locale == "nl" else "en-US")
    driver = ReviewDriver(slack, slack_api)
    answers = {**SCENARIOS["walk_away"], "benefit.customer_wins": "Books closed <!channel>"}
    page = _to_benefit_page(driver, answers)
    assert _block(page, "benefit.customer_wins")["type"] == "input"
    assert page["blocks"][0]["block_id"] == f"dealcoach_page|1|{locale}"
    # Only the margin decides a follow-up of this page: only it reports a pick at once.
    assert [b["block_id"] for b in page["blocks"] if b.get("dispatch_action")] == [MARGIN]
    assert REASON not in _ids(page) and ROOM not in _ids(page)

    assert driver.follow(driver.submit_step(answers)) == "clear"
    assert len(driver.steps) == 3  # fit, agenda, benefit: no follow-up page
    ((_, picked, update),) = [p for p in driver.picks if p[0] == MARGIN]
    assert picked == "below_cost" and update is not None
    assert update.params["view_id"] == page["id"] and update.params["hash"] == page["hash"]
    after = driver.steps[-1]
    validate_view(after)
    ids = _ids(after)
    at = ids.index(MARGIN)
    assert ids[at + 1 : at + 3] == [REASON, ROOM]  # right under the margin, in bank order
    assert [i for i in ids if i not in (REASON, ROOM)] == _ids(page)
    bank = load_bank(locale)
    assert _block(after, ROOM)["label"]["text"] == bank.questions[ROOM].label
    assert _frame(after) == _frame(page)  # title, submit, metadata, header, footer unchanged
    # what was typed before the pick stays, as typed (plain text, never mrkdwn)
    kept = _block(after, "benefit.customer_wins")["element"]["initial_value"]
    assert kept == "Books closed <!channel>"
    assert _block(after, MARGIN)["element"]["initial_option"]["value"] == "below_cost"

    slack_api.wait_for("chat.postMessage", 1)
    (advice,) = advice_messages(slack_api)
    payload = advice.json_param("metadata")["event_payload"]
    assert payload["recommendation"] == "walk_away"
    assert "below_cost_no_reason" in payload["flags"]
    stored = _stored(settings, driver.review_id)
    assert stored[ROOM] == "no" and stored[REASON] is None


def test_changing_the_margin_back_removes_the_follow_ups(
    slack: SlackSender, slack_api: MockSlackWebApi, settings: Settings
) -> None:
    driver = ReviewDriver(slack, slack_api)
    page = _to_benefit_page(driver, SCENARIOS["pursue"])
    typed = {"benefit.customer_wins": "Faster books", MARGIN: "below_cost"}
    below = driver.pick(MARGIN, typed)
    assert below is not None and driver.view is not None
    assert _ids(driver.view)[3:6] == [MARGIN, REASON, ROOM]

    thin = driver.pick(MARGIN, {MARGIN: "thin", REASON: "A door opener"})
    assert thin is not None
    view = driver.view
    assert _ids(view)[3:5] == [MARGIN, REASON] and ROOM not in _ids(view)
    assert _block(view, REASON)["element"]["initial_value"] == "A door opener"
    assert _block(view, "benefit.customer_wins")["element"]["initial_value"] == "Faster books"

    healthy = driver.pick(MARGIN, {MARGIN: "healthy"})
    assert healthy is not None
    assert _ids(driver.view) == _ids(page)  # back to the page as it was
    assert _frame(driver.view) == _frame(page)
    # each update replaced the view the pick came from, by its hash
    hashes = [c.params["hash"] for c in (below, thin, healthy)]
    assert len(set(hashes)) == 3 and hashes[0] == page["hash"]

    assert driver.follow(driver.submit_step(SCENARIOS["pursue"])) == "clear"
    assert len(driver.steps) == 3
    slack_api.wait_for("chat.postMessage", 1)
    (advice,) = advice_messages(slack_api)
    assert advice.json_param("metadata")["event_payload"]["recommendation"] == "pursue"
    assert "A door opener" not in advice.params["text"]
    stored = _stored(settings, driver.review_id)
    assert stored[MARGIN] == "healthy" and stored.get(REASON) is None and stored.get(ROOM) is None


def test_a_follow_up_answer_that_no_longer_applies_is_not_saved(
    slack: SlackSender, slack_api: MockSlackWebApi, settings: Settings
) -> None:
    """The margin set back to healthy, but that pick never reached the app (the view on
    screen still holds the reason and the room): the answers that no longer apply are saved
    blank, not as a contradiction of the margin."""
    driver = ReviewDriver(slack, slack_api)
    _to_benefit_page(driver, SCENARIOS["pursue"])
    assert driver.pick(MARGIN, {MARGIN: "below_cost"}) is not None
    driver.dispatch = False
    answers = {**SCENARIOS["pursue"], REASON: "A door opener", ROOM: "no"}
    assert driver.follow(driver.submit_step(answers)) == "clear"
    slack_api.wait_for("chat.postMessage", 1)
    (advice,) = advice_messages(slack_api)
    assert advice.json_param("metadata")["event_payload"]["recommendation"] == "pursue"
    assert "A door opener" not in advice.params["text"]
    stored = _stored(settings, driver.review_id)
    assert stored[MARGIN] == "healthy" and REASON not in stored and ROOM not in stored


def test_update_review_clears_a_follow_up_its_page_takes_off(
    slack: SlackSender, slack_api: MockSlackWebApi, settings: Settings
) -> None:
    """A reopened below-cost review: its page shows the reason and the room, prefilled;
    picking a healthy margin takes them off, and the new review keeps no stale answer."""
    driver = ReviewDriver(slack, slack_api)
    driver.start("Acme renewal")
    below = {**SCENARIOS["walk_away"], REASON: "A door opener", ROOM: "yes"}
    driver.run(below)
    slack_api.wait_for("chat.postMessage", 1)
    before = len(slack_api.calls_to("views.update"))
    assert slack.message_action("advice_update", value=driver.review_id).status_code == 200
    again = ReviewDriver(slack, slack_api)
    again.view = {**sent_view(slack_api.wait_for("views.update", before + 1)[-1])}
    assert again.follow(again.submit_step(below)) == "update"  # fit, as it was
    assert again.follow(again.submit_step(below)) == "update"  # agenda, as it was
    assert again.view is not None and {REASON, ROOM} <= set(_ids(again.view))
    assert _block(again.view, REASON)["element"]["initial_value"] == "A door opener"
    assert again.follow(again.submit_step(SCENARIOS["pursue"])) == "clear"
    assert REASON not in _ids(again.steps[-1]) and ROOM not in _ids(again.steps[-1])
    slack_api.wait_for("chat.postMessage", 2)
    latest = advice_messages(slack_api)[-1]
    assert latest.json_param("metadata")["event_payload"]["recommendation"] == "pursue"
    stored = _stored(settings, again.review_id)
    assert again.review_id != driver.review_id
    assert stored[MARGIN] == "healthy" and REASON not in stored and ROOM not in stored


def test_champion_questions_appear_under_that_person(
    slack: SlackSender, slack_api: MockSlackWebApi, settings: Settings
) -> None:
    driver = ReviewDriver(slack, slack_api)
    driver.start("Acme renewal")
    assert driver.follow(driver.submit_step(BASE)) == "update"
    assert driver.view is not None
    triggers = [b["block_id"] for b in driver.view["blocks"] if b.get("dispatch_action")]
    assert triggers == ["agenda.1.role", "agenda.1.certainty"]
    # Person 1 is picked as a champion: their two tests appear right under the role.
    assert driver.pick("agenda.1.role", {"agenda.1.who": "Ans", "agenda.1.role": "champion"})
    ids = _ids(driver.view)
    at = ids.index("agenda.1.role")
    assert ids[at + 1 : at + 3] == ["agenda.1.champion_access", "agenda.1.champion_sells"]
    # *Add a decision-maker* keeps them (and what was typed) while role is not saved yet.
    view = driver.view
    typed = {"agenda.1.who": "Ans", "agenda.1.champion_access": "yes"}
    before = len(slack_api.calls_to("views.update"))
    assert slack.view_action(view, modal.ACTION_ADD_PERSON, values=typed).status_code == 200
    driver.view = {**sent_view(slack_api.wait_for("views.update", before + 1)[-1])}
    ids = _ids(driver.view)
    assert ids[ids.index("agenda.1.role") + 1] == "agenda.1.champion_access"
    access = _block(driver.view, "agenda.1.champion_access")["element"]
    assert access["initial_option"]["value"] == "yes"
    assert "agenda.2.who" in ids and "agenda.2.champion_access" not in ids
    # Person 2 is a champion too, with an unknown agenda: their questions under them.
    answers = {
        **BASE,
        "agenda.1.who": "Ans",
        "agenda.1.role": "champion",
        "agenda.1.champion_access": "yes",
        "agenda.1.champion_sells": "no",
        "agenda.2.who": "Piet (Ops)",
        "agenda.2.role": "champion",
        "agenda.2.certainty": "unknown",
        "agenda.2.discovery_plan": "Ask Ans over lunch",
        "agenda.2.champion_access": "no",
        "agenda.2.champion_sells": "yes",
    }
    assert driver.follow(driver.submit_step(answers)) == "update"
    agenda = driver.steps[-1]
    validate_view(agenda)
    ids = _ids(agenda)
    two = ids.index("agenda.2.who")
    assert ids[two:].index("agenda.2.champion_access") == 2  # who, role, access, sells
    assert ids[ids.index("agenda.2.certainty") + 1] == "agenda.2.discovery_plan"
    assert not any(i.startswith("agenda.1.") for i in ids[two:])
    heading = next(
        i
        for i, b in enumerate(agenda["blocks"])
        if b["type"] == "section" and b["text"]["text"] == "*Decision-maker 2*"
    )
    where = [b.get("block_id") for b in agenda["blocks"]].index("agenda.2.champion_access")
    assert where > heading
    assert driver.block_ids()[0] == "benefit.customer_wins"  # no follow-up page
    stored = _stored(settings, driver.review_id)
    assert stored["agenda.2.champion_access"] == "no"
    assert stored["agenda.2.champion_sells"] == "yes"
    assert stored["agenda.2.discovery_plan"] == "Ask Ans over lunch"
    assert stored["agenda.1.champion_sells"] == "no"
    assert stored.get("agenda.1.discovery_plan") is None  # certainty confirmed


def test_dispatch_uses_no_database(
    live: LiveServer, slack: SlackSender, slack_api: MockSlackWebApi
) -> None:
    driver = ReviewDriver(slack, slack_api)
    _to_benefit_page(driver, SCENARIOS["walk_away"])
    services = live.app.state.services
    # both of the app's engines: the async store's and the sync one (CRM lookups, CLI paths)
    counters = [SqlCounter(services.async_store.sync_engine), SqlCounter(services.store.engine)]
    # A user takes longer over a page than the in-process caches last (the workspace's CRM
    # is remembered 30 s): the pick must not need them.
    crm_listener.forget_provider("T0ACME")
    try:
        for counter in counters:
            counter.wait_quiet()
            counter.take()
        update = driver.pick(MARGIN, {MARGIN: "below_cost"})
        assert update is not None
        assert driver.pick(MARGIN, {MARGIN: "healthy"}) is not None
        tallies = []
        for counter in counters:
            counter.wait_quiet()
            tallies.append(counter.take())
    finally:
        for counter in counters:
            counter.close()
    for tally in tallies:
        assert tally.statements == [], tally.summary()
        assert (tally.begins, tally.checkouts) == (0, 0), tally.summary()


def test_outdated_view_hash_is_not_overwritten(
    slack: SlackSender, slack_api: MockSlackWebApi
) -> None:
    driver = ReviewDriver(slack, slack_api)
    page = _to_benefit_page(driver, SCENARIOS["walk_away"])
    slack_api.error("views.update", "hash_conflict")  # the view changed again meanwhile
    start = len(slack_api.calls)
    before = len(_updates_of(slack_api, page["id"]))
    resp = driver.send_pick(MARGIN, {MARGIN: "below_cost"})
    assert resp.status_code == 200 and resp.content in (b"", b"{}")
    mine = slack_api.wait_for(
        "views.update", before + 1, where=lambda c: c in _updates_of(slack_api, page["id"])
    )
    update = mine[before]
    assert update.params["hash"] == page["hash"]
    time.sleep(0.3)
    # no apology, no message: the update was just not applied
    assert [c.method for c in slack_api.calls[start:]] == ["views.update"]
    # The user's screen shows the page without the follow-ups: the submit asks them after it.
    driver.dispatch = False
    assert driver.follow(driver.submit_step(SCENARIOS["walk_away"])) == "update"
    assert driver.block_ids() == [REASON, ROOM]
    assert driver.follow(driver.submit_step(SCENARIOS["walk_away"])) == "clear"
    slack_api.wait_for("chat.postMessage", 1)
    (advice,) = advice_messages(slack_api)
    assert advice.json_param("metadata")["event_payload"]["recommendation"] == "walk_away"


def test_a_pick_the_app_cannot_read_changes_nothing_and_says_nothing(
    slack: SlackSender, slack_api: MockSlackWebApi
) -> None:
    driver = ReviewDriver(slack, slack_api)
    page = _to_benefit_page(driver, SCENARIOS["walk_away"])
    header, rest = page["blocks"][0], page["blocks"][1:]

    def with_header(block_id: str | None) -> dict[str, Any]:
        head = {k: v for k, v in header.items() if k != "block_id"}
        if block_id is not None:
            head["block_id"] = block_id
        return {**page, "blocks": [head, *rest]}

    broken = [
        with_header("Qm1+"),  # no block_id of ours (Slack makes one up)
        with_header("dealcoach_page|9|en"),  # a format this app does not know
        with_header("dealcoach_page|1|xx"),  # a language it does not speak
        with_header("dealcoach_page|1|en|more"),
        with_header("dealcoach_page"),
        {**page, "private_metadata": "1; DROP TABLE review"},
        {**page, "private_metadata": ""},
        {**page, "callback_id": "dealcoach_loading"},
    ]
    start = len(slack_api.calls)
    for view in broken:
        resp = driver.send_pick(MARGIN, {MARGIN: "below_cost"}, view=view)
        assert resp.status_code == 200, resp.text
        assert resp.content in (b"", b"{}")
    # a good pick afterwards is answered as ever, and is the only update
    assert driver.pick(MARGIN, {MARGIN: "below_cost"}) is not None
    time.sleep(0.3)
    sent = [c.method for c in slack_api.calls[start:]]
    assert sent.count("views.update") == 1, sent
    assert not [m for m in sent if m in NOTHING_SENT], sent


# --- the views themselves, without a server -----------------------------------------------------


def test_settle_step_leaves_other_views_alone() -> None:
    from dealcoach.coach.machine import step_for_round

    bank = load_bank("en")
    step = step_for_round(bank, {}, "benefit")
    view = modal.step_view(
        locale="en", bank=bank, step=step, review_id="7", answers={}, step_number=3, last=True
    )
    validate_view(view)
    assert modal.page_locale(view) == "en"
    assert modal.settle_step(view, {MARGIN: "healthy"}) is None  # nothing to change
    settled = modal.settle_step(view, {MARGIN: "thin"})
    assert settled is not None and REASON in _ids(settled) and ROOM not in _ids(settled)
    validate_view(settled)
    assert modal.settle_step(modal.loading_view("en"), {MARGIN: "thin"}) is None
    unknown = {**view, "blocks": [*view["blocks"], {**view["blocks"][-2], "block_id": "x.y"}]}
    assert modal.settle_step(unknown, {MARGIN: "thin"}) is None
    # the machine's follow-up step (an outdated view's) decides nothing itself
    followup = step_for_round(bank, {MARGIN: "below_cost"}, "benefit").model_copy(
        update={"questions": (bank.questions[REASON], bank.questions[ROOM])}
    )
    view = modal.step_view(
        locale="en", bank=bank, step=followup, review_id="7", answers={}, step_number=3, last=True
    )
    assert not any(b.get("dispatch_action") for b in view["blocks"])
    assert modal.settle_step(view, {REASON: "x"}) is None
