"""Events API: App Home (`app_home_opened`) shows how to start and the last reviews.

Events are acknowledged by Bolt before the listener runs. A retried event
(`X-Slack-Retry-Num`) re-publishes the same Home view, which is harmless.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from dealcoach.slack.context import require_deps
from dealcoach.slack.flow import full_actor
from dealcoach.slack.home import publish_home

log = logging.getLogger("dealcoach.slack")


def register(app: AsyncApp) -> None:
    app.event("app_home_opened")(on_app_home_opened)
    if app.installation_store is not None:
        # Multi-workspace (OAuth): uninstall / revocation delete that workspace's tokens.
        from dealcoach.slack.oauth import register_uninstall

        register_uninstall(app)
    else:
        # Single workspace (SLACK_BOT_TOKEN): nothing is stored to delete; acknowledge them
        # so Slack does not retry.
        app.event("app_uninstalled")(_ignore)
        app.event("tokens_revoked")(_ignore)


async def _ignore() -> None:
    return None


async def on_app_home_opened(
    event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient, context: Any
) -> None:
    if event.get("tab") not in (None, "home"):
        return
    deps = require_deps(context)
    fake_body = {"user_id": event.get("user"), "team_id": body.get("team_id")}
    actor = await full_actor(deps, client, fake_body)
    deps.home_opened(actor.workspace_id, actor.user_id)
    # The Home tab (own reviews, start/resume, a manager's team glance): slack/home.py.
    await publish_home(client, deps, actor)
