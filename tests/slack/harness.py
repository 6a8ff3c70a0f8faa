"""Run the real ASGI app on loopback and talk to it the way Slack does.

`LiveServer` runs `dealcoach.web.create_app(...)` under uvicorn in a thread on a free
loopback port (stop/start it to simulate a restart). `SlackSender` sends signed requests with
httpx: slash commands (form body), interactivity (`payload=` form body) and Events API
callbacks (JSON), built from the payload files in tests/fixtures/payloads/.
"""

from __future__ import annotations

import copy
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from tests.slack.signing import form_body, interactive_body, signed_headers

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "payloads"


def load_payload(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text("utf-8"))
    data.pop("_doc", None)
    return data


class LiveServer:
    """uvicorn serving an ASGI app on 127.0.0.1:<free port>, in a background thread."""

    def __init__(self, app_factory: Callable[[], Any]) -> None:
        self._factory = app_factory
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self.app: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LiveServer:
        self.app = self._factory()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))  # same port again after a restart
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", lifespan="on", access_log=False)
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._server = self._thread = None


class SlackSender:
    """Sends signed Slack requests to a LiveServer's `/slack/events`."""

    def __init__(self, server: LiveServer, *, secret: str, response_url: Callable[[], str]) -> None:
        self.server = server
        self.secret = secret
        self._response_url = response_url
        self.http = httpx.Client(timeout=10)

    def close(self) -> None:
        self.http.close()

    def post(self, body: str, headers: dict[str, str]) -> httpx.Response:
        return self.http.post(f"{self.server.url}/slack/events", content=body, headers=headers)

    def signed(
        self,
        body: str,
        *,
        content_type: str = "application/x-www-form-urlencoded",
        retry_num: int | None = None,
        timestamp: int | None = None,
        secret: str | None = None,
    ) -> httpx.Response:
        headers = signed_headers(
            body,
            content_type=content_type,
            secret=secret or self.secret,
            timestamp=timestamp,
            retry_num=retry_num,
        )
        return self.post(body, headers)

    # --- payload builders -------------------------------------------------------------

    def command_fields(self, text: str = "", *, user: str = "U2147483697") -> dict[str, Any]:
        fields = load_payload("slash_command")
        fields.update(
            user_id=user,
            user_name=user.lower(),
            text=text,
            trigger_id=f"{int(time.time())}.{uuid.uuid4().hex[:10]}",
            response_url=self._response_url(),
        )
        return fields

    def command(
        self,
        text: str = "",
        *,
        user: str = "U2147483697",
        retry_num: int | None = None,
        fields: dict[str, Any] | None = None,
    ) -> httpx.Response:
        body = form_body(fields or self.command_fields(text, user=user))
        return self.signed(body, retry_num=retry_num)

    def submit(
        self,
        view: dict[str, Any],
        values: dict[str, Any],
        *,
        user: str = "U2147483697",
        view_id: str | None = None,
        retry_num: int | None = None,
    ) -> httpx.Response:
        """Submit `view` (as the app sent it) with `values` {block_id: state value}."""
        payload = load_payload("view_submission")
        payload["user"].update(id=user, username=user.lower(), name=user.lower())
        submitted = payload["view"]
        submitted.update(copy.deepcopy(view))
        submitted["id"] = view_id or view.get("id") or submitted["id"]
        submitted["state"] = {"values": state_values(view, values)}
        payload["view"] = submitted
        return self.signed(interactive_body(payload), retry_num=retry_num)

    def view_action(
        self,
        view: dict[str, Any],
        action_id: str,
        *,
        values: dict[str, Any] | None = None,
        user: str = "U2147483697",
        value: str = "",
        view_id: str | None = None,
        selected: str | None = None,
    ) -> httpx.Response:
        """A button (`value`) or a select / overflow option (`selected`) inside a modal."""
        payload = load_payload("block_actions_view")
        payload["user"].update(id=user, username=user.lower(), name=user.lower())
        current = payload["view"]
        current.update(copy.deepcopy(view))
        current["id"] = view_id or view.get("id") or current["id"]
        current["state"] = {"values": state_values(view, values or {})}
        payload["container"]["view_id"] = current["id"]
        action: dict[str, Any] = payload["actions"][0]
        action.update(action_id=action_id, value=value, block_id=_block_of(view, action_id))
        if selected is not None:
            kind = _element_of(view, action_id).get("type", "static_select")
            for key in ("value", "text"):
                action.pop(key, None)
            action.update(type=kind, selected_option=_option_of(view, action_id, selected))
        return self.signed(interactive_body(payload))

    def message_action(
        self,
        action_id: str,
        *,
        value: str = "",
        user: str = "U2147483697",
        selected: str | None = None,
        blocks: list[dict[str, Any]] | None = None,
        block_id: str | None = None,
        selected_date: str | None = None,
        retry_num: int | None = None,
    ) -> httpx.Response:
        """A button (`value`), a select (`selected`) or a datepicker (`selected_date`) on a
        message in the app's DM; `block_id` defaults to the block holding `action_id` in
        `blocks`, if any."""
        payload = load_payload("block_actions_message")
        payload["user"].update(id=user, username=user.lower(), name=user.lower())
        payload["response_url"] = self._response_url()
        payload["message"]["blocks"] = blocks or []
        action: dict[str, Any] = payload["actions"][0]
        action.update(action_id=action_id, value=value)
        if block_id is None and blocks:
            block_id = _block_of({"blocks": blocks}, action_id)
        if block_id is not None:
            action["block_id"] = block_id
        if selected_date is not None:
            for key in ("value", "text"):
                action.pop(key, None)
            action.update(type="datepicker", selected_date=selected_date)
        if selected is not None:
            action.pop("value", None)
            action.pop("text", None)
            action.update(
                type="static_select",
                selected_option={
                    "text": {"type": "plain_text", "text": selected},
                    "value": selected,
                },
            )
        return self.signed(interactive_body(payload), retry_num=retry_num)

    def event(
        self, name: str, *, user: str = "U2147483697", retry_num: int | None = None
    ) -> httpx.Response:
        payload = load_payload(name)
        payload["event"]["user"] = user
        return self.signed(
            json.dumps(payload), content_type="application/json", retry_num=retry_num
        )


def _block_of(view: dict[str, Any], action_id: str) -> str:
    for block in view.get("blocks") or []:
        for element in block.get("elements") or []:
            if element.get("action_id") == action_id:
                return str(block.get("block_id", ""))
        accessory = block.get("accessory") or {}
        if accessory.get("action_id") == action_id:
            return str(block.get("block_id", ""))
    raise AssertionError(f"no element with action_id {action_id!r} in the view")


def _element_of(view: dict[str, Any], action_id: str) -> dict[str, Any]:
    for block in view.get("blocks") or []:
        for element in [*(block.get("elements") or []), block.get("accessory") or {}]:
            if element.get("action_id") == action_id:
                return dict(element)
    raise AssertionError(f"no element with action_id {action_id!r} in the view")


def _option_of(view: dict[str, Any], action_id: str, value: str) -> dict[str, Any]:
    """The option a user picks, as Slack reports it; several elements may share an action
    id (one overflow per step), so the option is looked up in all of them."""
    for block in view.get("blocks") or []:
        for element in [*(block.get("elements") or []), block.get("accessory") or {}]:
            if element.get("action_id") != action_id:
                continue
            for option in element.get("options") or []:
                if option.get("value") == value:
                    return dict(option)
    raise AssertionError(f"option {value!r} of {action_id!r} not offered")


def state_values(view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Slack's `view.state.values` for the inputs of `view`, as a user would have filled them.

    `values` maps block_id → the user's answer: a str for text / number / single choice
    (the option value), a list of option values for multi-choice; None or "" → emptied;
    a block not in `values` keeps what the app prefilled (or stays empty).
    """
    state: dict[str, Any] = {}
    for block in view.get("blocks") or []:
        if block.get("type") != "input":
            continue
        element = block["element"]
        kind = element["type"]
        options = {o["value"]: o for o in element.get("options") or []}
        entry: dict[str, Any] = {"type": kind}
        # A block the test does not mention keeps what the app prefilled (Slack reports
        # initial values in the state).
        bid = block["block_id"]
        answer = values[bid] if bid in values else _initial(element)
        if kind in ("plain_text_input", "number_input", "email_text_input", "url_text_input"):
            entry["value"] = None if answer in (None, "") else str(answer)
        elif kind in ("static_select", "radio_buttons"):
            entry["selected_option"] = None if answer is None else _option(options, answer)
        elif kind in ("multi_static_select", "checkboxes"):
            entry["selected_options"] = [_option(options, a) for a in (answer or [])]
        elif kind == "datepicker":
            entry["selected_date"] = answer or None
        else:  # pragma: no cover - a new element type needs a line here
            raise AssertionError(f"state_values does not know {kind}")
        state[block["block_id"]] = {element["action_id"]: entry}
    return state


def _initial(element: dict[str, Any]) -> Any:
    if "initial_value" in element:
        return element["initial_value"]
    if "initial_option" in element:
        return element["initial_option"]["value"]
    if "initial_options" in element:
        return [o["value"] for o in element["initial_options"]]
    if "initial_date" in element:
        return element["initial_date"]
    return None


def _option(options: dict[str, Any], value: str) -> dict[str, Any]:
    if value not in options:
        raise AssertionError(f"option {value!r} not offered; offered: {sorted(options)}")
    return dict(options[value])
