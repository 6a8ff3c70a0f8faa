"""Events API: App Home (`app_home_opened`) shows how to start and the last reviews.

Events are acknowledged by Bolt before the listener runs. A retried event
(`X-Slack-Retry-Num`) re-publishes the same Home view, which is harmless.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from dealcoach.slack import limits
from dealcoach.slack.context import require_deps
from dealcoach.slack.flow import full_actor
from dealcoach.slack.listeners.commands import HISTORY_DEFAULT, history_line
from dealcoach.slack.strings import t

log = logging.getLogger("dealcoach.slack")


def register(app: AsyncApp) -> None:
    app.event("app_home_opened")(on_app_home_opened)
    # Uninstall / token revocation are handled by the OAuth installation store when enabled;
    # acknowledge them here so Slack does not retry.
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
    locale = await deps.locale_for(actor)
    items = await deps.reviews.history(actor, limit=HISTORY_DEFAULT)
    lines = [history_line(locale, item) for item in items] or [t(locale, "history.none")]
    text = t(locale, "home.intro") + "\n" + "\n".join(lines)
    view = {
        "type": "home",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "dealcoach"}},
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": limits.clip(text, limits.SECTION_TEXT, t(locale, "modal.truncated")),
                },
            },
            {"type": "context", "elements": [{"type": "mrkdwn", "text": t(locale, "help")[:2000]}]},
        ],
    }
    await client.views_publish(user_id=actor.user_id, view=view)
