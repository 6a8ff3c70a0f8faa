"""The Slack app manifest: one definition, rendered for a public URL or for Socket Mode.

`dealcoach manifest --url https://coach.example.com` prints it; paste the output into
https://api.slack.com/apps → *Create New App* → *From a manifest*. The checked-in
`deploy/slack/manifest.yaml` is this module's rendering for `https://dealcoach.example.com`
(a test keeps the two identical), so the package needs no file from `deploy/`.

Scopes are the least the app uses: `commands` (/dealcoach), `chat:write` (advice and digests
as DMs), `im:write` (open the DM before the first message), `users:read` (time zone and
locale for digests and language), `team:read` (the workspace name in digests), `files:write`
(the 8-week trend chart uploaded into the digest's thread). No email
scope: people are keyed by Slack user id.

What counts as a usable public URL is shared with the Teams package: `dealcoach.public_url`.
"""

from __future__ import annotations

from typing import Any

import yaml

from dealcoach.errors import InputError
from dealcoach.public_url import validate_public_url

APP_NAME = "dealcoach"
SLASH_COMMAND = "/dealcoach"
EVENTS_PATH = "/slack/events"
OAUTH_REDIRECT_PATH = "/slack/oauth_redirect"
BOT_SCOPES = ("commands", "chat:write", "im:write", "users:read", "team:read", "files:write")
BOT_EVENTS = ("app_home_opened", "app_uninstalled", "tokens_revoked")

_DESCRIPTION = "A sales coach for deal reviews: business fit, personal agendas, win-win."
_LONG_DESCRIPTION = (
    "dealcoach walks a salesperson through a structured review of one deal, in a short "
    "modal opened with /dealcoach: does the offer pass the buyer's business round, what does "
    "each decision-maker personally want from it, and is the deal a real win-win or should "
    "we walk away? It answers with concrete coaching advice and next steps as a direct "
    "message, keeps a history of your reviews, and sends managers a weekly digest of their "
    "team's deals. Type /dealcoach help to see every command."
)
_USAGE_HINT = "[deal name] | history | lang en|nl | help"


def build_manifest(public_url: str | None, *, socket_mode: bool = False) -> dict[str, Any]:
    """The manifest as a dict. `public_url` is required unless `socket_mode`.

    Socket Mode needs no request URLs (Slack delivers over the app-level WebSocket); a URL
    given with it only adds the OAuth redirect for `/slack/install`.
    """
    base = validate_public_url(public_url) if public_url else None
    if base is None and not socket_mode:
        raise InputError(
            "no public URL: pass --url https://… or set DEALCOACH_PUBLIC_URL "
            "(or use --socket for Socket Mode, which needs none)"
        )
    events_url = None if socket_mode or base is None else base + EVENTS_PATH

    command: dict[str, Any] = {"command": SLASH_COMMAND}
    if events_url:
        command["url"] = events_url
    command |= {
        "description": "Review a deal and get coaching advice",
        "usage_hint": _USAGE_HINT,
        # Slack turns @people into `<@U…|name>`, so `/dealcoach team add @manager @rep` gets ids;
        # the command parser un-escapes everything else (deal names) back to plain text.
        "should_escape": True,
    }

    oauth: dict[str, Any] = {}
    if base is not None:
        oauth["redirect_urls"] = [base + OAUTH_REDIRECT_PATH]
    oauth["scopes"] = {"bot": list(BOT_SCOPES)}

    events: dict[str, Any] = {}
    interactivity: dict[str, Any] = {"is_enabled": True}
    if events_url:
        events["request_url"] = events_url
        interactivity["request_url"] = events_url
        # The CRM deal picker's options (external_select) load from the same endpoint.
        interactivity["message_menu_options_url"] = events_url
    events["bot_events"] = list(BOT_EVENTS)

    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": APP_NAME,
            "description": _DESCRIPTION,
            "long_description": _LONG_DESCRIPTION,
            "background_color": "#1d4e89",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": APP_NAME, "always_online": True},
            "slash_commands": [command],
        },
        "oauth_config": oauth,
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False,
        },
    }


def render_manifest(public_url: str | None, *, socket_mode: bool = False) -> str:
    """The manifest as YAML, ready to paste into Slack's *From a manifest* dialog."""
    manifest = build_manifest(public_url, socket_mode=socket_mode)
    return yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, width=100)
