"""Drive a review through the modal like a user, and check what the app sent to Slack.

`ReviewDriver.start()` types `/dealcoach …`, waits for the modal the app opened and filled
(views.open then views.update on the stand-in), `submit_step()` fills the inputs of the
current view from an answers dict and submits it, following `response_action: update` until
the app answers `clear`. Every view and message is validated with slack_sdk.models.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from tests.slack.harness import SlackSender
from tests.slack.mock_web_api import Call, MockSlackWebApi

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
    # below cost, no strategic reason, not renegotiable: asked in a follow-up step
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


class ReviewDriver:
    def __init__(self, slack: SlackSender, api: MockSlackWebApi, user: str = USER) -> None:
        self.slack = slack
        self.api = api
        self.user = user
        self.view: dict[str, Any] | None = None
        self.steps: list[dict[str, Any]] = []
        self._calls_before = 0

    def start(self, text: str = "Acme renewal") -> dict[str, Any]:
        before = len(self.api.calls_to("views.update"))
        resp = self.slack.command(text, user=self.user)
        assert resp.status_code == 200, resp.text
        assert resp.content in (b"", b"{}") or resp.json() == {}, resp.text
        self.api.wait_for("views.open", 1, where=lambda c: True)
        update = self.api.wait_for("views.update", before + 1)[-1]
        self.view = sent_view(update)
        return self.view

    @property
    def review_id(self) -> str:
        assert self.view is not None
        return str(self.view["private_metadata"])

    def block_ids(self) -> list[str]:
        assert self.view is not None
        return [b["block_id"] for b in self.view["blocks"] if b["type"] == "input"]

    def submit_step(
        self,
        answers: dict[str, Any],
        *,
        retry_num: int | None = None,
    ) -> httpx.Response:
        assert self.view is not None
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
            self.view = {**body["view"], "id": self.view["id"] if self.view else "V1"}
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
        self.view = {**view, "id": view_id}
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
