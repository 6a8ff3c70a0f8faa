"""Microsoft Teams adapter on the Microsoft 365 Agents SDK (the `dealcoach[teams]` extra).

`mount(app, settings, services)` adds `POST /api/messages` to the one ASGI app. The SDK is
imported only here, lazily: without the extra installed the app still starts, and the Teams
route answers 503 with one line saying what to install. Without Teams settings the route
answers 503 saying which settings are missing.

- JWT validation (Bot Framework / Entra tokens) is on whenever `TEAMS_CLIENT_ID` is set;
  anonymous requests are accepted only with `TEAMS_ALLOW_ANONYMOUS=true` (local testing,
  refused together with credentials, a warning at start). Every activity's `serviceUrl` must
  be an allowed Bot Connector host (`TEAMS_SERVICE_URL_HOSTS`) and, with a token, the one the
  token names (`dealcoach.teams.security`).
- Shaped like `dealcoach.slack`: `runtime` (the SDK wiring and the HTTP endpoint, like
  `slack/app.py`), `routing` (which handler a turn goes to, like `slack/listeners/`), the
  flows (`chat` commands, `review_flow`, `coaching`, `crm`, `manager`), payload parsing
  (`payload`), `cards` and the other card builders, `notifier` (proactive messages).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from dealcoach.config import Settings

if TYPE_CHECKING:
    from dealcoach.services.container import Services
    from dealcoach.teams.runtime import TeamsRuntime

log = logging.getLogger("dealcoach.teams")

ROUTE = "/api/messages"
INSTALL_HINT = "Teams support is not installed: pip install 'dealcoach[teams]'"
CONFIG_HINT = (
    "Teams is not configured: set TEAMS_CLIENT_ID, TEAMS_CLIENT_SECRET and TEAMS_TENANT_ID "
    "(or TEAMS_ALLOW_ANONYMOUS=true for local testing)"
)

ANONYMOUS_WARNING = (
    "TEAMS_ALLOW_ANONYMOUS=true: POST /api/messages accepts requests without a token "
    "(local testing only; never expose this server)"
)


def sdk_available() -> bool:
    try:
        import microsoft_agents.hosting.core
        import microsoft_agents.hosting.fastapi  # noqa: F401
    except ImportError:
        return False
    return True


def mount(app: FastAPI, settings: Settings, services: Services) -> TeamsRuntime | None:
    """Mount `POST /api/messages`; returns the Teams runtime, or None when Teams is off.

    Incomplete Teams settings (a client id without its secret or tenant) raise `ConfigError`
    at start-up, like Slack's; a missing extra only disables the route.
    """
    if not settings.teams_enabled:
        _unavailable(app, CONFIG_HINT)
        return None
    settings.require_teams()
    if settings.teams_allow_anonymous:
        log.warning(ANONYMOUS_WARNING)
    if not sdk_available():
        log.warning(INSTALL_HINT)
        _unavailable(app, INSTALL_HINT)
        return None
    # Only now: the Agents SDK is the optional `dealcoach[teams]` extra.
    from dealcoach.teams.runtime import TeamsRuntime

    runtime = TeamsRuntime.create(settings, services)
    runtime.mount(app)
    app.state.teams = runtime
    return runtime


def _unavailable(app: FastAPI, message: str) -> None:
    @app.post(ROUTE)
    async def teams_unavailable(request: Request) -> Response:
        return JSONResponse({"error": message}, status_code=503)
