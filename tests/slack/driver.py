"""Drive a review through the modal like a user, and check what the app sent to Slack.

`ReviewDriver.start()` types `/dealcoach …`, waits for the modal the app opened and filled
(views.open then views.update on the stand-in), `submit_step()` fills the inputs of the
current view from an answers dict and submits it, following `response_action: update` until
the app answers `clear`. Every view and message is validated with slack_sdk.models.

Like Slack, the driver reports a pick in an input with `dispatch_action` at once: before a
step is submitted, each such input whose answer differs from what it holds is picked, top to
bottom (`pick_choices`), as a signed `block_actions` payload carrying the view with its
state and hash (tests/fixtures/payloads/block_actions_dispatch.json); when the pick changes
which follow-ups the page should show, the driver waits for the app's `views.update` of that
view (sent with the view's hash) and goes on with the updated view, whose new inputs are then
filled from the answers too. `ReviewDriver(…, dispatch=False)` never picks (an outdated view,
a client that did not dispatch): the server then asks a follow-up after the step.
"""

from __future__ import annotations

import copy
import itertools
import json
import time
from typing import Any

import httpx
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from tests.slack.harness import SlackSender, load_payload, state_values
from tests.slack.mock_web_api import Call, MockSlackWebApi
from tests.slack.signing import interactive_body

from dealcoach.coach import conditions
from dealcoach.coach.bank import load_bank

USER = "U2147483697"
# The callback id of the modal's non-input views: "saving…", done, messages (slack/modal.py).
SAVING_CALLBACK = "dealcoach_loading"

# One answer set per recommendation (question id → what the user picks / types).
BASE: dict[str, Any] = {
    "deal.account": "Acme Corp",
    "deal.value": "120k",
    "deal.stage": "proposal",
    "fit.need": "Replace three spreadsheets with one CRM",
    "fit.requirements_met": "yes",
    "fit.price_market_conform": "yes",
    "fit.offers_compared": "yes",
    "agenda.1.who": "Dana (CFO)",
    "agenda.1.role": "economic_buyer",
    "agenda.1.interests": ["power_position", "easier_life"],
    "agenda.1.certainty": "confirmed",
    "agenda.1.translation": "One dashboard she can show the board",
    "agenda.1.new_in_role": "no",
    "agenda.1.competitor_relationship": "no",
    "benefit.customer_wins": "Closing the books two days faster",
    "benefit.customer_ready": "yes",
    "benefit.we_win": "A reference customer in finance",
    "benefit.margin": "healthy",
    "benefit.pros_cons_explained": "yes",
    "signals.silent_after_invite": "no",
}
SCENARIOS: dict[str, dict[str, Any]] = {
    "pursue": dict(BASE),
    "strengthen": {**BASE, "fit.requirements_met": "partly"},
    "renegotiate": {**BASE, "fit.price_market_conform": "no"},
    # below cost, no strategic reason, not renegotiable: the two follow-ups appear under the
    # margin as soon as it is picked (a follow-up step when the pick is not dispatched)
    "walk_away": {
        **BASE,
        "benefit.margin": "below_cost",
        "benefit.strategic_reason": "",
        "benefit.renegotiable": "no",
    },
}


def validate_view(view: dict[str, Any]) -> None:
    """Raises if Slack would refuse the view (limits, required fields)."""
    clean = {
        k: v
        for k, v in view.items()
        if k
        not in (
            "id",
            "team_id",
            "hash",
            "state",
            "root_view_id",
            "app_id",
            "bot_id",
            "previous_view_id",
            "app_installed_team_id",
            "external_id",
            "clear_on_close",
            "notify_on_close",
        )
    }
    View(**clean).validate_json()
    assert len(json.dumps(view)) < 250_000


def validate_blocks(blocks: list[dict[str, Any]], limit: int = 50) -> None:
    assert 0 < len(blocks) <= limit, f"{len(blocks)} blocks"
    for raw in blocks:
        block = Block.parse(raw)
        assert block is not None, f"unknown block {raw.get('type')}"
        block.validate_json()


def sent_view(call: Call) -> dict[str, Any]:
    """The view an app sent with views.open/update, as Slack would hold it (with an id)."""
    view = dict(call.json_param("view"))
    validate_view(view)
    view["id"] = call.params.get("view_id") or f"V{id(call)}"
    return view


_hashes = itertools.count(1)


def new_hash() -> str:
    """A view hash as Slack gives one to each version of a view."""
    return f"{int(time.time())}.h{next(_hashes):06d}"


def held_values(view: dict[str, Any]) -> dict[str, Any]:
    """What each input of `view` holds before the user touches it (the app's prefill)."""
    out: dict[str, Any] = {}
    for bid, entry in state_values(view, {}).items():
        state = entry["value"]
        if "selected_option" in state:
            out[bid] = (state["selected_option"] or {}).get("value")
        elif "selected_options" in state:
            out[bid] = [o["value"] for o in state["selected_options"]] or None
        else:
            out[bid] = state.get("value")
    return out


def follow_ups_change(view: dict[str, Any], values: dict[str, Any]) -> bool:
    """Whether the page `view` should show other follow-ups for `values`: one of the bank's
    follow-ups whose condition reads only inputs of the page is shown and does not apply,
    or applies and is not shown (read from prompts/questions.yaml, the same in every
    language). The driver waits for the app's views.update only then."""
    bank = load_bank("en")
    ids = {b["block_id"] for b in view.get("blocks") or [] if b.get("type") == "input"}
    for question in bank.questions.values():
        if question.ask_when is None:
            continue
        reads = conditions.answer_ids(question.ask_when)
        if not reads or not reads <= ids:
            continue
        applies = conditions.evaluate(question.ask_when, conditions.Context(answers=values))
        if applies != (question.id in ids):
            return True
    return False


class ReviewDriver:
    def __init__(
        self, slack: SlackSender, api: MockSlackWebApi, user: str = USER, *, dispatch: bool = True
    ) -> None:
        self.slack = slack
        self.api = api
        self.user = user
        self.dispatch = dispatch
        self.view: dict[str, Any] | None = None
        self.steps: list[dict[str, Any]] = []
        # Every pick sent: (block_id, value, the views.update the app answered with or None).
        self.picks: list[tuple[str, Any, Call | None]] = []
        self._calls_before = 0
        # What the user picked on the view on screen (the view object they belong to).
        self._picked: tuple[dict[str, Any] | None, dict[str, Any]] = (None, {})

    def start(self, text: str = "Acme renewal") -> dict[str, Any]:
        before = len(self.api.calls_to("views.update"))
        resp = self.slack.command(text, user=self.user)
        assert resp.status_code == 200, resp.text
        assert resp.content in (b"", b"{}") or resp.json() == {}, resp.text
        self.api.wait_for("views.open", 1, where=lambda c: True)
        update = self.api.wait_for("views.update", before + 1)[-1]
        self.view = {**sent_view(update), "hash": new_hash()}
        return self.view

    @property
    def review_id(self) -> str:
        assert self.view is not None
        return str(self.view["private_metadata"])

    def block_ids(self) -> list[str]:
        assert self.view is not None
        return [b["block_id"] for b in self.view["blocks"] if b["type"] == "input"]

    # --- picks reported at once (dispatch_action) -----------------------------------------

    def picked(self) -> dict[str, Any]:
        """What the user picked so far on the view on screen."""
        view, picked = self._picked
        return picked if view is self.view else {}

    def pick_choices(self, answers: dict[str, Any]) -> int:
        """Fill the step as a user does, top to bottom: each input with `dispatch_action`
        whose answer differs from what it holds is picked (`pick`), with everything above
        it filled in from `answers`. Returns how many picks were sent."""
        done: set[str] = set()
        sent = 0
        while True:
            assert self.view is not None
            ids = self.block_ids()
            held = {**held_values(self.view), **self.picked()}
            target = next(
                (
                    b["block_id"]
                    for b in self.view["blocks"]
                    if b["type"] == "input"
                    and b.get("dispatch_action")
                    and b["block_id"] in answers
                    and b["block_id"] not in done
                    and (answers[b["block_id"]] or None) != held.get(b["block_id"])
                ),
                None,
            )
            if target is None:
                return sent
            done.add(target)
            above = ids[: ids.index(target) + 1]
            self.pick(target, {bid: answers[bid] for bid in above if bid in answers})
            sent += 1

    def send_pick(
        self, block_id: str, typed: dict[str, Any], view: dict[str, Any] | None = None
    ) -> httpx.Response:
        """The signed `block_actions` Slack sends when the user picks `typed[block_id]` in
        the dispatching input `block_id` of `view` (default: the view on screen), with
        `typed` (block_id → answer) filled in and the other inputs as they are."""
        view = view if view is not None else self.view
        assert view is not None
        payload = load_payload("block_actions_dispatch")
        payload["user"].update(id=self.user, username=self.user.lower(), name=self.user.lower())
        shown = payload["view"]
        shown.update(copy.deepcopy(view))
        state = state_values(view, {**self.picked(), **typed})
        shown["state"] = {"values": state}
        payload["container"]["view_id"] = shown["id"]
        block = next(b for b in view["blocks"] if b.get("block_id") == block_id)
        entry = dict(state[block_id][block["element"]["action_id"]])
        action: dict[str, Any] = {
            "type": entry.pop("type"),
            "action_id": block["element"]["action_id"],
            "block_id": block_id,
            **entry,
            "action_ts": f"{time.time():.6f}",
        }
        payload["actions"] = [action]
        return self.slack.signed(interactive_body(payload))

    def pick(self, block_id: str, typed: dict[str, Any]) -> Call | None:
        """`send_pick`; when the page should change (`follow_ups_change`), wait for the
        app's views.update of this view — sent with the view's hash — and go on with it.
        Returns that views.update, or None when no change was due."""
        view = self.view
        assert view is not None
        values = {**held_values(view), **self.picked(), **typed}
        expect = follow_ups_change(view, values)
        view_id = view["id"]

        def mine(call: Call) -> bool:
            return call.params.get("view_id") == view_id

        before = len([c for c in self.api.calls_to("views.update") if mine(c)])
        resp = self.send_pick(block_id, typed)
        assert resp.status_code == 200, resp.text
        assert resp.content in (b"", b"{}") or resp.json() == {}, resp.text
        update = None
        if expect:
            update = self.api.wait_for("views.update", before + 1, where=mine)[before]
            sent_hash = view.get("hash") or load_payload("block_actions_dispatch")["view"]["hash"]
            assert update.params.get("hash") == sent_hash  # an outdated view is not overwritten
            # The app prefilled the new view from the state: nothing is picked on it yet.
            self.view = {**sent_view(update), "id": view_id, "hash": new_hash()}
            self._picked = (self.view, {})
        else:
            self._picked = (self.view, {**self.picked(), **typed})
        self.picks.append((block_id, typed.get(block_id), update))
        return update

    def submit_step(
        self,
        answers: dict[str, Any],
        *,
        retry_num: int | None = None,
    ) -> httpx.Response:
        assert self.view is not None
        if self.dispatch and retry_num is None:
            self.pick_choices(answers)
        values = {bid: answers[bid] for bid in self.block_ids() if bid in answers}
        self._calls_before = len(self.api.calls)
        resp = self.slack.submit(self.view, values, user=self.user, retry_num=retry_num)
        assert resp.status_code == 200, resp.text
        self.steps.append(self.view)
        return resp

    def follow(self, resp: httpx.Response) -> str:
        """Apply the app's response_action; returns it."""
        body = resp.json() if resp.content else {}
        action = body.get("response_action", "")
        if action == "update":
            validate_view(body["view"])
            if body["view"].get("callback_id") == SAVING_CALLBACK:
                return self._after_saving()
            view_id = self.view["id"] if self.view else "V1"
            self.view = {**body["view"], "id": view_id, "hash": new_hash()}
        return str(action)

    def _after_saving(self, timeout: float = 30.0) -> str:
        """The app answered a slow step (a loaded machine) with "saving…" and replaces it by
        `views.update`: follow that, as the user's screen does. The next step → "update";
        the done view of a completed review → "clear"."""
        view_id = self.view["id"] if self.view else "V1"
        deadline = time.monotonic() + timeout
        while True:
            updates = [
                c
                for c in self.api.calls[self._calls_before :]
                if c.method == "views.update" and c.params.get("view_id") == view_id
            ]
            if updates:
                break
            assert time.monotonic() < deadline, "the 'saving…' view was never replaced"
            time.sleep(0.02)
        view = sent_view(updates[0])
        validate_view(view)
        if view.get("callback_id") == SAVING_CALLBACK:
            text = str(view["blocks"][0]["text"]["text"])
            assert text.startswith("\u2705"), f"'saving…' replaced by: {text}"
            return "clear"
        self.view = {**view, "id": view_id, "hash": new_hash()}
        return "update"

    def run(self, answers: dict[str, Any], max_steps: int = 12) -> list[dict[str, Any]]:
        """Submit steps until the modal is cleared; returns the views shown."""
        for _ in range(max_steps):
            action = self.follow(self.submit_step(answers))
            if action == "clear":
                return self.steps
            assert action == "update", f"unexpected response_action {action!r}"
        raise AssertionError(f"review did not finish in {max_steps} steps")


def advice_messages(api: MockSlackWebApi, user: str = USER) -> list[Call]:
    return [
        c
        for c in api.calls_to("chat.postMessage")
        if c.params.get("channel") == user
        and (c.json_param("metadata") or {}).get("event_type") == "deal_review_completed"
    ]
