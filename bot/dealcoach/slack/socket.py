"""Socket Mode (`dealcoach serve --socket`): Slack traffic over a websocket, no public URL.

The same Bolt app handles the same payloads; only the transport differs. Ack time is
measured here (the HTTP middleware cannot see it) into `dealcoach_slack_ack_seconds{mode=
"socket"}`.
"""

from __future__ import annotations

import time
from typing import Any

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import run_async_bolt_app, send_async_response
from slack_bolt.async_app import AsyncApp
from slack_sdk.socket_mode.request import SocketModeRequest

from dealcoach.config import Settings
from dealcoach.errors import ConfigError


class TimedSocketModeHandler(AsyncSocketModeHandler):
    """Bolt's handler, plus an ack-latency observation per request."""

    metrics: Any = None

    async def handle(self, client: Any, req: SocketModeRequest) -> None:
        start = time.time()
        bolt_resp = await run_async_bolt_app(self.app, req)
        await send_async_response(client, req, bolt_resp, start)
        if self.metrics is not None:
            self.metrics.observe_ack(time.time() - start, mode="socket")


async def start_socket_mode(
    settings: Settings, app: AsyncApp, metrics: Any
) -> TimedSocketModeHandler:
    """Connect to Slack with SLACK_APP_TOKEN (the web client's base URL is SLACK_API_URL)."""
    if settings.slack_app_token is None:
        raise ConfigError("SLACK_APP_TOKEN is not set (Socket Mode needs an xapp- token)")
    handler = TimedSocketModeHandler(app, settings.slack_app_token.get_secret_value())
    handler.metrics = metrics
    await handler.connect_async()
    return handler
