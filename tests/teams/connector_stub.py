"""A loopback stand-in for the Bot Connector API (the `serviceUrl` Teams gives a bot).

Real HTTP on 127.0.0.1, nothing else: the Agents SDK's own `ConnectorClient` (aiohttp) talks to
it exactly as it would to `https://smba.trafficmanager.net/...`. It implements the calls a bot
makes and records each one:

- `POST /v3/conversations/{id}/activities` — send to a conversation
- `POST /v3/conversations/{id}/activities/{replyToId}` — reply to an activity
- `PUT  /v3/conversations/{id}/activities/{activityId}` — update an activity (card in place)
- `DELETE /v3/conversations/{id}/activities/{activityId}`
- `POST /v3/conversations` — create a conversation (proactive 1:1)

`fail_next(status, retry_after=None)` makes the next call answer with an error, for delivery
failure tests. `cards()` returns every Adaptive Card the bot sent or updated, so a test
fixture can validate all of them against the schema.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"


@dataclass
class ConnectorCall:
    method: str
    path: str
    kind: str  # send | reply | update | delete | create_conversation | unknown
    conversation_id: str | None
    activity_id: str | None
    body: dict[str, Any]
    authorization: str | None
    response_id: str | None = None

    @property
    def text(self) -> str | None:
        value = self.body.get("text")
        return value if isinstance(value, str) else None

    @property
    def cards(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for attachment in self.body.get("attachments") or []:
            if attachment.get("contentType") == ADAPTIVE_CARD:
                found.append(attachment.get("content") or {})
        activity = self.body.get("activity")  # create_conversation may carry one
        if isinstance(activity, dict):
            for attachment in activity.get("attachments") or []:
                if attachment.get("contentType") == ADAPTIVE_CARD:
                    found.append(attachment.get("content") or {})
        return found


@dataclass
class _Failure:
    status: int
    retry_after: int | None


@dataclass
class ConnectorStub:
    host: str = "127.0.0.1"
    calls: list[ConnectorCall] = field(default_factory=list)
    conversations: dict[str, dict[str, Any]] = field(default_factory=dict)
    _failures: list[_Failure] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> ConnectorStub:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def do_POST(self) -> None:
                stub._handle(self, "POST")

            def do_PUT(self) -> None:
                stub._handle(self, "PUT")

            def do_DELETE(self) -> None:
                stub._handle(self, "DELETE")

        self._server = ThreadingHTTPServer((self.host, 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        assert self._server is not None, "stub not started"
        return f"http://{self.host}:{self._server.server_address[1]}/"

    # --- test helpers -------------------------------------------------------------------

    def fail_next(self, status: int, retry_after: int | None = None) -> None:
        with self._lock:
            self._failures.append(_Failure(status, retry_after))

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()

    def of_kind(self, *kinds: str) -> list[ConnectorCall]:
        with self._lock:
            return [c for c in self.calls if c.kind in kinds]

    def messages(self) -> list[ConnectorCall]:
        """Activities posted into a conversation (send or reply), in order."""
        return self.of_kind("send", "reply")

    def cards(self) -> list[dict[str, Any]]:
        with self._lock:
            return [card for call in self.calls for card in call.cards]

    # --- request handling ---------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            self._reply(request, 400, {"error": {"code": "BadSyntax", "message": "not JSON"}})
            return
        parts = [unquote(p) for p in urlsplit(request.path).path.strip("/").split("/")]
        kind, conversation_id, activity_id = _classify(method, parts)
        call = ConnectorCall(
            method=method,
            path=request.path,
            kind=kind,
            conversation_id=conversation_id,
            activity_id=activity_id,
            body=body if isinstance(body, dict) else {"_": body},
            authorization=request.headers.get("Authorization"),
        )
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            with self._lock:
                self.calls.append(call)
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            self._reply(request, failure.status, {"error": {"code": "Failed"}}, headers)
            return
        if kind == "unknown":
            self._reply(request, 404, {"error": {"code": "NotFound", "message": request.path}})
            return
        if kind == "create_conversation":
            conv_id = f"a:conv-{uuid.uuid4().hex[:12]}"
            call.response_id = conv_id
            with self._lock:
                self.conversations[conv_id] = body
                self.calls.append(call)
            self._reply(request, 201, {"id": conv_id, "activityId": uuid.uuid4().hex})
            return
        if kind == "delete":
            with self._lock:
                self.calls.append(call)
            self._reply(request, 200, None)
            return
        new_id = activity_id if kind == "update" else f"act-{uuid.uuid4().hex[:12]}"
        call.response_id = new_id
        with self._lock:
            self.calls.append(call)
        self._reply(request, 200 if kind == "update" else 201, {"id": new_id})

    @staticmethod
    def _reply(
        request: BaseHTTPRequestHandler,
        status: int,
        payload: Any,
        headers: dict[str, str] | None = None,
    ) -> None:
        data = b"" if payload is None else json.dumps(payload).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        request.end_headers()
        if data:
            request.wfile.write(data)


def _classify(method: str, parts: list[str]) -> tuple[str, str | None, str | None]:
    # parts: ["v3", "conversations", conv?, "activities"?, activity?]
    if len(parts) < 2 or parts[0] != "v3" or parts[1] != "conversations":
        return "unknown", None, None
    if len(parts) == 2:
        return ("create_conversation" if method == "POST" else "unknown"), None, None
    conversation_id = parts[2]
    if len(parts) == 4 and parts[3] == "activities" and method == "POST":
        return "send", conversation_id, None
    if len(parts) == 5 and parts[3] == "activities":
        activity_id = parts[4]
        kind = {"POST": "reply", "PUT": "update", "DELETE": "delete"}.get(method, "unknown")
        return kind, conversation_id, activity_id
    return "unknown", conversation_id, None
