"""Teams-shaped activities posted over real HTTP to `/api/messages` of a live app.

`TeamsUser` is one person in a personal chat with the bot: `say(text)` posts a `message`
activity, `submit(card, verb, values)` clicks an `Action.Execute` button of a card the bot
showed (posting the `adaptiveCard/action` invoke Teams would send, with the card's own
`data` merged with the typed input values, as Teams does). The activities' `serviceUrl` is
the loopback Connector stand-in, where the bot's replies are recorded.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from tests.teams.card_schema import assert_valid_card
from tests.teams.connector_stub import ConnectorStub

BOT_ID = "28:dealcoach-bot"


@dataclass
class TeamsUser:
    base_url: str
    connector: ConnectorStub
    aad_id: str = "aad-rita"
    user_id: str = "29:rita"
    name: str = "Rita Rep"
    tenant: str = "tenant-1"
    locale: str = "en-US"
    conversation_id: str = field(default="")
    headers: dict[str, str] = field(default_factory=dict)
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30))

    def __post_init__(self) -> None:
        self.conversation_id = self.conversation_id or f"a:personal-{self.aad_id}"

    # --- activities -----------------------------------------------------------------------

    def activity(self, kind: str, **extra: Any) -> dict[str, Any]:
        return {
            "type": kind,
            "id": f"f:{uuid.uuid4().hex[:10]}",
            "timestamp": datetime.now(UTC).isoformat(),
            "serviceUrl": self.connector.url,
            "channelId": "msteams",
            "from": {"id": self.user_id, "name": self.name, "aadObjectId": self.aad_id},
            "conversation": {"conversationType": "personal", "tenantId": self.tenant,
                             "id": self.conversation_id},
            "recipient": {"id": BOT_ID, "name": "dealcoach"},
            "locale": self.locale,
            "channelData": {"tenant": {"id": self.tenant}},
            **extra,
        }

    def post(self, activity: dict[str, Any]) -> httpx.Response:
        return self.client.post(f"{self.base_url}/api/messages", json=activity,
                                headers=self.headers)

    def say(self, text: str) -> httpx.Response:
        response = self.post(self.activity("message", text=text))
        assert response.status_code in (200, 202), response.text
        return response

    def invoke(self, verb: str, data: dict[str, Any]) -> dict[str, Any]:
        """Post an adaptiveCard/action invoke; return the invoke response body."""
        value = {"action": {"type": "Action.Execute", "verb": verb, "data": data},
                 "trigger": "manual"}
        response = self.post(self.activity("invoke", name="adaptiveCard/action", value=value))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body.get("type") == "application/vnd.microsoft.card.adaptive":
            assert_valid_card(body["value"])
        return body

    def submit(self, card: dict[str, Any], verb: str, values: dict[str, Any]) -> dict[str, Any]:
        """Click the button with `verb` on `card`, with `values` typed into its inputs."""
        action = find_action(card, verb)
        inputs = input_values(card)
        inputs.update({k: _as_teams_string(v) for k, v in values.items()})
        return self.invoke(verb, {**action["data"], **inputs})

    # --- reading what the bot sent ----------------------------------------------------------

    def last_card(self) -> dict[str, Any]:
        sent = self.connector.cards()
        assert sent, "the bot sent no card"
        return sent[-1]

    def texts(self) -> list[str]:
        return [c.text for c in self.connector.messages() if c.text]


def walk(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found.extend(walk(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(walk(item))
    return found


def find_action(card: dict[str, Any], verb: str) -> dict[str, Any]:
    for node in walk(card):
        if node.get("type") == "Action.Execute" and node.get("verb") == verb:
            return node
    raise AssertionError(f"no {verb} button on the card")


def inputs_of(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["id"]: n for n in walk(card)
            if str(n.get("type", "")).startswith("Input.") and "id" in n}


def input_values(card: dict[str, Any]) -> dict[str, str]:
    """What Teams submits for inputs left as shown: their current value (blank: omitted)."""
    return {qid: str(n["value"]) for qid, n in inputs_of(card).items() if n.get("value")}


def card_text(card: dict[str, Any]) -> str:
    return "\n".join(str(n.get("text", "")) for n in walk(card) if n.get("type") == "TextBlock")


def _as_teams_string(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(value)
    return "" if value is None else str(value)
