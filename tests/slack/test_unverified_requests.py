"""Nothing is acted on before a request's signature is verified (issue #11, items 1 and 10).

An outside attack run sent `POST /slack/events` with a timestamp `int()` cannot read (`abc`,
`""`, `1e5`, `nan`, 400 nines) and any signature: slack_sdk's verifier raised, Bolt handed the
*unverified* body to the error handler, and that POSTed an apology to the body's
`response_url` (any host) or DMed the body's `user_id` as the bot. Now such a request is a 401
like any bad signature; the error handler never acts on an unverified request and only ever
POSTs to a Slack (or the configured stand-in's) response_url; a refused request is logged in
one short line without its body.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from tests.slack.harness import SlackSender, load_payload
from tests.slack.mock_web_api import MockSlackWebApi
from tests.slack.signing import form_body, interactive_body, sign

SECRET_DEAL = "Project Nightjar 7f3a"  # typed text that must never reach a log

HOSTILE_TIMESTAMPS = [
    "abc",
    "",
    "1e5",
    "nan",
    "9" * 400,
    "9" * 5000,  # past int()'s digit limit
    "-1",
    "+1700000000",
    "0x6553f100",
    "1700000000.5",
    "０１２３",  # full-width digits: str.isdigit() says yes, Slack never sends them
]


class Listener:
    """A loopback HTTP server that records every request it gets (an 'internal address')."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, bytes]] = []
        lock = threading.Lock()
        seen = self.requests

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _record(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with lock:
                    seen.append((self.command, self.path, body))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_GET = do_POST = do_PUT = _record

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def __enter__(self) -> Listener:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class ServerLog:
    """What `dealcoach serve` writes: logging configured as the CLI does it (INFO, through
    dealcoach.observability) *before* the app is built — Bolt copies the root logger's level
    into its own loggers when it is constructed."""

    def __init__(self, caplog: pytest.LogCaptureFixture, stream: io.StringIO) -> None:
        self.caplog = caplog
        self.stream = stream

    @property
    def records(self) -> list[logging.LogRecord]:
        return self.caplog.records

    @property
    def text(self) -> str:
        return self.stream.getvalue()


@pytest.fixture
def info_logs(caplog: pytest.LogCaptureFixture) -> Iterator[ServerLog]:
    from dealcoach import observability

    root = logging.getLogger()
    names = [*observability.LEVEL_FLOORS, "dealcoach"]
    saved = (root.level, {n: logging.getLogger(n).level for n in names})
    stream = io.StringIO()
    handler = observability.configure_logging(level="INFO", json_format=False, stream=stream)
    caplog.set_level(logging.INFO)
    try:
        yield ServerLog(caplog, stream)
    finally:
        root.removeHandler(handler)
        root.setLevel(saved[0])
        for name, level in saved[1].items():
            logging.getLogger(name).setLevel(level)


@pytest.fixture
def listener() -> Iterator[Listener]:
    with Listener() as running:
        yield running


def _hostile_bodies(slack: SlackSender, target: str) -> list[tuple[str, str]]:
    command = slack.command_fields(f"review {SECRET_DEAL}", user="U0VICTIM")
    command["response_url"] = target
    command["channel_id"] = "C0GENERAL"
    action = load_payload("block_actions_message")
    action["response_url"] = target
    action["user"]["id"] = "U0VICTIM"
    action["channel"] = {"id": "C0GENERAL", "name": "general"}
    action["actions"][0].update(action_id="advice_share", value=SECRET_DEAL)
    no_url = load_payload("block_actions_message")
    no_url.pop("response_url")
    no_url["user"]["id"] = "U0VICTIM"
    no_url["actions"][0].update(action_id="advice_share", value="1")
    event = load_payload("app_home_opened") if _has_payload("app_home_opened") else None
    bodies = [
        (form_body(command), "application/x-www-form-urlencoded"),
        (interactive_body(action), "application/x-www-form-urlencoded"),
        (interactive_body(no_url), "application/x-www-form-urlencoded"),
    ]
    if event is not None:
        event["event"]["user"] = "U0VICTIM"
        bodies.append((json.dumps(event), "application/json"))
    return bodies


def _has_payload(name: str) -> bool:
    try:
        load_payload(name)
    except FileNotFoundError:
        return False
    return True


def _no_tracebacks_or_bodies(log: ServerLog) -> None:
    assert SECRET_DEAL not in log.text and "Nightjar" not in log.text
    assert "Traceback" not in log.text
    for record in log.records:
        text = record.getMessage()
        assert record.exc_info is None, (record.name, text)
        assert "Traceback" not in text, text
        assert SECRET_DEAL not in text and "Nightjar" not in text, (record.name, text[:300])
        assert len(text) < 300, (record.name, text[:300])


@pytest.mark.parametrize(
    "timestamp", HOSTILE_TIMESTAMPS, ids=[f"{t[:12]!r}/{len(t)}" for t in HOSTILE_TIMESTAMPS]
)
def test_a_malformed_timestamp_is_a_401_and_nothing_is_acted_on(
    info_logs: ServerLog,
    slack: SlackSender,
    slack_api: MockSlackWebApi,
    listener: Listener,
    caplog: pytest.LogCaptureFixture,
    timestamp: str,
) -> None:
    for body, ctype in _hostile_bodies(slack, listener.url):
        headers = {
            "Content-Type": ctype,
            "X-Slack-Request-Timestamp": timestamp.encode(),  # type: ignore[dict-item]
            "X-Slack-Signature": "v0=" + "0" * 64,
        }
        resp = slack.post(body, headers)
        assert resp.status_code == 401, (timestamp, resp.status_code, resp.text[:300])
        assert resp.headers["content-type"].startswith("application/json")
    time.sleep(0.5)  # anything the app would have sent after answering
    assert listener.requests == []
    assert slack_api.calls == []
    _no_tracebacks_or_bodies(info_logs)


def test_a_missing_timestamp_header_is_a_401(
    slack: SlackSender, slack_api: MockSlackWebApi, listener: Listener
) -> None:
    for body, ctype in _hostile_bodies(slack, listener.url):
        resp = slack.post(body, {"Content-Type": ctype, "X-Slack-Signature": "v0=" + "0" * 64})
        assert resp.status_code == 401
    time.sleep(0.3)
    assert listener.requests == [] and slack_api.calls == []


def test_a_valid_timestamp_with_a_forged_signature_is_logged_without_the_body(
    info_logs: ServerLog,
    slack: SlackSender,
    slack_api: MockSlackWebApi,
    listener: Listener,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Bolt logs the raw body of a request whose signature fails, at INFO: typed text (a
    secret deal name) landed in the log, and 20 unsigned 1 MB POSTs wrote 20 MB of it."""
    padding = "x" * 200_000
    for body, ctype in _hostile_bodies(slack, listener.url):
        body = body + "&pad=" + padding if ctype.endswith("urlencoded") else body
        headers = {"Content-Type": ctype, **sign(body, secret="not-the-signing-secret")}
        assert slack.post(body, headers).status_code == 401
    time.sleep(0.3)
    assert listener.requests == [] and slack_api.calls == []
    _no_tracebacks_or_bodies(info_logs)
    assert len(info_logs.text) < 5_000, info_logs.text[:500]


def test_an_aborted_upload_is_one_line_not_a_traceback(
    info_logs: ServerLog, slack: SlackSender
) -> None:
    """The client says 100 kB are coming, sends 10 and hangs up."""
    head = (
        "POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"X-Slack-Request-Timestamp: {int(time.time())}\r\nX-Slack-Signature: v0=00\r\n"
        "Content-Length: 100000\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", slack.server.port), timeout=5) as sock:
        sock.sendall(head.encode() + b"text=" + SECRET_DEAL.encode()[:5])
    time.sleep(0.5)
    errors = [r for r in info_logs.records if r.levelno >= logging.ERROR or r.exc_info]
    assert errors == [], [(r.name, r.getMessage()[:200]) for r in errors]
    _no_tracebacks_or_bodies(info_logs)
    assert slack.http.get(f"{slack.server.url}/healthz").status_code == 200


# --- the error handler, in depth -------------------------------------------------------------


def test_an_error_on_a_verified_request_never_posts_to_a_foreign_response_url(
    slack: SlackSender, slack_api: MockSlackWebApi, listener: Listener
) -> None:
    """A signed request (so from Slack) whose listener fails: the apology goes to a Slack
    response_url only; one pointing anywhere else is not called, the user gets a DM."""
    payload = load_payload("block_actions_message")
    payload["response_url"] = listener.url
    payload["actions"][0].update(action_id="advice_share", value="987654")  # no such review
    assert slack.signed(interactive_body(payload)).status_code == 200
    (dm,) = slack_api.wait_for("chat.postMessage", 1)
    assert dm.params["channel"] == "U2147483697"
    assert "987654" in dm.params["text"]
    time.sleep(0.3)
    assert listener.requests == []


def test_an_error_on_a_verified_request_still_answers_through_the_stand_in(
    slack: SlackSender, slack_api: MockSlackWebApi
) -> None:
    """The configured Web API host (SLACK_API_URL, the stand-in here) is trusted too."""
    payload = load_payload("block_actions_message")
    payload["response_url"] = slack_api.response_url()
    payload["actions"][0].update(action_id="advice_share", value="987654")
    assert slack.signed(interactive_body(payload)).status_code == 200
    (reply,) = slack_api.wait_for("response_url", 1)
    assert "987654" in reply.params["text"]
    assert slack_api.calls_to("chat.postMessage") == []


# --- behind the web layer: Bolt's verification and the error handler on their own ----------


@pytest.mark.parametrize(
    "timestamp", HOSTILE_TIMESTAMPS, ids=[f"{t[:12]!r}/{len(t)}" for t in HOSTILE_TIMESTAMPS]
)
async def test_the_bolt_app_alone_refuses_a_malformed_timestamp_without_acting(
    settings: Any, slack_api: MockSlackWebApi, listener: Listener, timestamp: str
) -> None:
    """Defence in depth: the same requests straight into Bolt's dispatch (no web.py check)."""
    from slack_bolt.request.async_request import AsyncBoltRequest
    from tests.slack.conftest import make_services

    from dealcoach.slack.app import build_app

    services = make_services(settings)
    try:
        app = build_app(settings, services)
        sender = SlackSender.__new__(SlackSender)
        sender._response_url = slack_api.response_url
        for body, ctype in _hostile_bodies(sender, listener.url):
            headers = {
                "content-type": ctype,
                "x-slack-request-timestamp": timestamp,
                "x-slack-signature": "v0=" + "0" * 64,
            }
            resp = await app.async_dispatch(AsyncBoltRequest(body=body, headers=headers))
            assert resp.status == 401, (timestamp, resp.status, resp.body)
        await asyncio.sleep(0.3)
    finally:
        await services.aclose()
    assert listener.requests == [] and slack_api.calls == []


async def test_the_error_handler_does_nothing_for_an_unverified_request(
    settings: Any, slack_api: MockSlackWebApi, listener: Listener
) -> None:
    from slack_bolt.context.async_context import AsyncBoltContext
    from slack_sdk.web.async_client import AsyncWebClient

    from dealcoach.slack.app import handle_error

    body = {
        "type": "block_actions",
        "response_url": listener.url,
        "user": {"id": "U0VICTIM"},
        "user_id": "U0VICTIM",
    }
    client = AsyncWebClient(token="xoxb-test", base_url=slack_api.url)
    for error in (ValueError("boom"), KeyError("x")):
        resp = await handle_error(error, body, AsyncBoltContext(), client, None)
        assert resp is not None and resp.status == 401
    await asyncio.sleep(0.2)
    assert listener.requests == [] and slack_api.calls == []


async def test_socket_mode_requests_count_as_verified_so_errors_still_reach_the_user(
    settings: Any, slack_api: MockSlackWebApi
) -> None:
    """Socket Mode traffic comes over the authenticated websocket, unsigned: an error in a
    listener must still be told to the user (not taken for an unverified request)."""
    from slack_bolt.request.async_request import AsyncBoltRequest
    from tests.slack.conftest import make_services

    from dealcoach.slack.app import build_app

    services = make_services(settings)
    try:
        app = build_app(settings, services)
        payload = load_payload("block_actions_message")
        payload["response_url"] = slack_api.response_url()
        payload["actions"][0].update(action_id="advice_share", value="987654")
        request = AsyncBoltRequest(body=interactive_body(payload), mode="socket_mode")
        resp = await app.async_dispatch(request)
        assert resp.status == 200
        (reply,) = await asyncio.to_thread(slack_api.wait_for, "response_url", 1)
        assert "987654" in reply.params["text"]
    finally:
        await services.aclose()


async def test_an_unsigned_ssl_check_is_not_marked_verified() -> None:
    """Slack's ssl_check ping is unsigned and Bolt lets it through: it must never count as a
    verified request (which the error handler would then act on)."""
    from slack_bolt.request.async_request import AsyncBoltRequest
    from slack_bolt.response import BoltResponse

    from dealcoach.slack.verify import SignedRequestsOnly, is_verified

    seen: dict[str, Any] = {}

    async def next_() -> BoltResponse:
        seen["context"] = request.context
        return BoltResponse(status=200)

    body = form_body({"ssl_check": "1", "token": "x", "response_url": "http://127.0.0.1:9/"})
    request = AsyncBoltRequest(body=body, headers={})
    middleware = SignedRequestsOnly("secret")
    await middleware.async_process(req=request, resp=BoltResponse(status=404), next=next_)
    assert not is_verified(seen.get("context", request.context))
