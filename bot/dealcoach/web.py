"""The one ASGI app: Slack, health, readiness, metrics (and Teams, mounted by its adapter).

`create_app(settings, services)` builds it; `dealcoach serve` runs it with uvicorn. Routes
(DESIGN.md, contract): `POST /slack/events`, `GET /healthz`, `GET /readyz`, `GET /metrics`,
`POST /api/messages` (Teams), `GET /slack/install` + `GET /slack/oauth_redirect` (OAuth).
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from dealcoach import __version__
from dealcoach.config import Settings

log = logging.getLogger("dealcoach.web")

READY_TIMEOUT_SECONDS = 2.0


def create_app(
    settings: Settings,
    services: Any,
    *,
    slack_client: AsyncWebClient | None = None,
    slack_app: AsyncApp | None = None,
) -> FastAPI:
    """The ASGI app. `slack_app` / `slack_client` let tests and Socket Mode share one Bolt app."""
    from dealcoach.slack.app import build_app

    app = FastAPI(
        title="dealcoach", version=__version__, docs_url=None, redoc_url=None, openapi_url=None
    )
    bolt = slack_app or build_app(settings, services, client=slack_client)
    handler = AsyncSlackRequestHandler(bolt)
    app.state.settings = settings
    app.state.services = services
    app.state.slack_app = bolt

    @app.post("/slack/events")
    async def slack_events(request: Request) -> Response:
        return await handler.handle(request)

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
        status = 200 if ok else 503
        return JSONResponse(
            {"status": "ready" if ok else "unavailable", "database": detail}, status_code=status
        )

    _mount_observability(app)

    # --- Teams ------------------------------------------------------------------------
    # The Teams adapter mounts `POST /api/messages` here (dealcoach.teams), when configured:
    #     if settings.teams_enabled: mount_teams(app, settings, services)
    _mount_teams(app, settings, services)

    return app


async def database_ready(services: Any) -> tuple[bool, str]:
    """Is the database reachable? Asks the store through the service container."""
    probe = _find_probe(services)
    if probe is None:
        return False, "no store configured"
    try:
        result = probe()
        if inspect.isawaitable(result):
            result = await asyncio.wait_for(result, READY_TIMEOUT_SECONDS)
        else:  # a blocking probe must not stall the event loop
            pass
        if result is False:
            return False, "unreachable"
        return True, "ok"
    except Exception as exc:  # readiness reports, it never raises
        log.warning("readiness probe failed: %s", exc)
        return False, "unreachable"


def _find_probe(services: Any) -> Any:
    for owner in (services, getattr(services, "astore", None), getattr(services, "store", None)):
        if owner is None:
            continue
        for name in ("ping", "check", "ready"):
            probe = getattr(owner, name, None)
            if callable(probe):
                return probe
    return None


def _mount_observability(app: FastAPI) -> None:
    """Request ids, JSON access logs and `GET /metrics` from `dealcoach.observability`."""
    try:
        obs = importlib.import_module("dealcoach.observability")
    except ImportError:
        obs = None
    install = getattr(obs, "install", None) if obs is not None else None
    if callable(install):
        install(app)
        return

    @app.get("/metrics")
    async def metrics() -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return PlainTextResponse(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def _mount_teams(app: FastAPI, settings: Settings, services: Any) -> None:
    """Placeholder seam for the Teams adapter (another issue): nothing is mounted yet."""
    return None
