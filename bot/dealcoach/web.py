"""The one ASGI app: Slack, health, readiness, metrics (and Teams, mounted by its adapter).

`create_app(settings, services)` builds it; `dealcoach serve` runs it with uvicorn. Routes
(DESIGN.md, contract): `POST /slack/events`, `GET /healthz`, `GET /readyz`, `GET /metrics`,
`POST /api/messages` (Teams), `GET /slack/install` + `GET /slack/oauth_redirect` (OAuth).

With `socket_mode=True` (`dealcoach serve --socket`) Slack traffic arrives over the Socket
Mode websocket instead of `POST /slack/events`; the HTTP app still serves health, readiness
and metrics, so probes and Prometheus work the same way in both modes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from starlette.requests import ClientDisconnect
from uvicorn.protocols.http.h11_impl import H11Protocol

from dealcoach import __version__
from dealcoach.bootstrap import server_notifiers
from dealcoach.config import Settings
from dealcoach.digest.scheduler import DigestScheduler, start_scheduler
from dealcoach.http_limits import read_body_within
from dealcoach.observability import install as install_observability
from dealcoach.services.container import Services
from dealcoach.services.notify import NoteRelay
from dealcoach.slack.app import build_app
from dealcoach.slack.context import REQUEST_ARRIVED, SlackDeps
from dealcoach.slack.oauth import workspace_clients
from dealcoach.slack.socket import TimedSocketModeHandler, start_socket_mode
from dealcoach.slack.verify import acceptable_timestamp
from dealcoach.teams import mount as mount_teams

log = logging.getLogger("dealcoach.web")

READY_TIMEOUT_SECONDS = 2.0
# The largest request body /slack/events accepts. Slack's biggest payload is a view
# submission echoing the modal (≤ 100 blocks) and its state (a step's text inputs, ≤ 3000
# characters each, percent-encoded UTF-8): a few hundred kB at worst. 1 MiB leaves room and
# keeps a hostile sender from making the process buffer megabytes per request.
MAX_SLACK_BODY_BYTES = 1024 * 1024
HEADER_TIMEOUT_LOG = "request headers not received within %.0f s: connection closed"


def create_app(
    settings: Settings,
    services: Services,
    *,
    slack_client: AsyncWebClient | None = None,
    socket_mode: bool = False,
    close_services: bool = True,
) -> FastAPI:
    """The ASGI app around one Bolt app (`slack.app.build_app`).

    `services` is `bootstrap.build_services(settings)`; its async engine is disposed when the
    app shuts down (unless `close_services=False`, for callers that own it). The notifiers
    come from `bootstrap.server_notifiers`, on the adapters built here: the digest scheduler's,
    and both adapters' coaching relay (`services.notify.NoteRelay`: a note for someone on the
    other platform).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # One pooled aiohttp session for all Web API calls (made here, inside the server's
        # event loop): keep-alive connections instead of a new session and TCP connection
        # per call, which is what AsyncWebClient does without one.
        web_client = bolt.client
        owns_session = web_client.session is None
        if owns_session:
            web_client.session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=web_client.timeout)
            )
        socket: TimedSocketModeHandler | None = None
        scheduler: DigestScheduler | None = None
        if socket_mode:
            socket = await start_socket_mode(settings, bolt, metrics)
        if settings.dealcoach_scheduler:
            # Weekly digests, catch-up/retries and reminders (every replica may run it:
            # delivery claims each manager's week in the database).
            scheduler = start_scheduler(services, notifiers)
            app.state.digest_scheduler = scheduler
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.shutdown()
            if socket is not None:
                await socket.close_async()
            if owns_session and web_client.session is not None:
                await web_client.session.close()
                web_client.session = None
            if close_services:
                await services.aclose()

    app = FastAPI(
        title="dealcoach",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    # Request ids, JSON access lines, HTTP metrics and GET /metrics (dealcoach.observability).
    metrics = install_observability(app)
    slack_deps = SlackDeps.create(settings, services)
    bolt: AsyncApp = build_app(
        settings, services, client=slack_client, metrics=metrics, deps=slack_deps
    )
    handler = AsyncSlackRequestHandler(bolt)
    app.state.settings = settings
    app.state.services = services
    app.state.slack_app = bolt
    # Multi-workspace (OAuth): `await client_for(team_id)` → that workspace's Web API client,
    # for work outside a request (digests: `SlackNotifier(client_for=...)`); None when a
    # single SLACK_BOT_TOKEN is used (then `bolt.client` carries it).
    slack_client_for = workspace_clients(bolt)
    app.state.slack_client_for = slack_client_for

    @app.post("/slack/events")
    async def slack_events(request: Request) -> Response:
        REQUEST_ARRIVED.set(time.monotonic())  # listeners budget Slack's 3 s from here

        # Before Bolt sees anything (issue #11): a timestamp slack_sdk's verifier cannot read
        # made it raise and Bolt hand the unverified body to the error handler. Missing,
        # non-numeric or absurd is a 401 like any bad signature, the body left unread.
        if not acceptable_timestamp(request.headers.get("x-slack-request-timestamp")):
            log.info("slack request refused: timestamp missing or invalid")
            return JSONResponse({"error": "invalid request"}, status_code=401)
        try:
            if not await read_body_within(request, MAX_SLACK_BODY_BYTES):
                return JSONResponse({"error": "request body too large"}, status_code=413)
        except ClientDisconnect:  # the sender hung up mid-body: one line, nothing to answer
            log.info("slack request aborted: client disconnected while sending the body")
            return Response(status_code=400)
        try:
            return await handler.handle(request)
        except Exception as exc:
            # Bolt parses the body before it verifies the signature or dispatches, and raises
            # on a body Slack never sends (a `payload` that is not a JSON object, a payload
            # missing `type`, …). Listener errors never get here (Bolt's error handler has
            # them), so this is malformed input: a 400, not a 500 and a traceback.
            log.warning("malformed Slack request refused: %s", type(exc).__name__)
            return JSONResponse({"error": "malformed request"}, status_code=400)

    if bolt.oauth_flow is not None:  # multi-workspace install (SLACK_CLIENT_ID/SECRET)

        @app.get("/slack/install")
        async def slack_install(request: Request) -> Response:
            return await handler.handle(request)

        @app.get("/slack/oauth_redirect")
        async def slack_oauth_redirect(request: Request) -> Response:
            return await handler.handle(request)

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok", "version": __version__})

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        ok, detail = await database_ready(services)
        return JSONResponse(
            {"status": "ready" if ok else "unavailable", "database": detail},
            status_code=200 if ok else 503,
        )

    # Teams: `POST /api/messages` (dealcoach.teams). The Agents SDK is imported lazily there,
    # so the app starts without the `dealcoach[teams]` extra (the route then answers 503);
    # the runtime is None then, or when Teams is not configured.
    teams_runtime = mount_teams(app, settings, services)

    # How a digest, a reminder or a coaching note reaches a person on each platform: one set
    # of notifiers for the scheduler and both adapters. A coaching note for someone on the
    # other platform (reporting lines may span Slack and Teams) or in another Slack workspace
    # goes through the notifier of theirs (`services.notify.NoteRelay`): the adapters never
    # import each other.
    notifiers = server_notifiers(
        bolt.client, slack_client_for=slack_client_for, teams_runtime=teams_runtime
    )
    relay = NoteRelay(notifiers)
    slack_deps.relay = relay
    if teams_runtime is not None:
        teams_runtime.deps.relay = relay

    return app


async def database_ready(services: Services) -> tuple[bool, str]:
    """Is the database reachable? `SELECT 1` through the services' async store."""
    try:
        ok = await asyncio.wait_for(services.async_store.ping(), READY_TIMEOUT_SECONDS)
    except Exception as exc:  # readiness reports, it never raises
        log.warning("readiness probe failed: %s", type(exc).__name__)
        ok = False
    return (True, "ok") if ok else (False, "unreachable")


def header_deadline_protocol(timeout: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol with a deadline on request *headers*: `timeout` seconds from
    the connection opening (or from the first byte of the next request on a kept-alive one)
    to the request's complete headers, else the connection is closed.

    uvicorn has no such deadline: its keep-alive timer is cancelled by any byte, so a client
    sending nothing, or a header a byte at a time, holds a connection (a descriptor and, with
    `limit_concurrency`, a slot) for ever. The body has its own deadline (`read_body_within`).
    """

    class HeaderDeadlineH11Protocol(H11Protocol):
        _header_timer: asyncio.TimerHandle | None = None

        def _waiting_for_headers(self) -> bool:
            return self.cycle is None or self.cycle.response_complete

        def _arm(self) -> None:
            if self._header_timer is None:
                self._header_timer = self.loop.call_later(timeout, self._headers_too_slow)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            if self._waiting_for_headers():
                self._arm()
            super().data_received(data)
            if not self._waiting_for_headers():
                self._disarm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _headers_too_slow(self) -> None:
            self._header_timer = None
            if self._waiting_for_headers() and not self.transport.is_closing():
                log.warning(HEADER_TIMEOUT_LOG, timeout)
                self.transport.close()

    return HeaderDeadlineH11Protocol
