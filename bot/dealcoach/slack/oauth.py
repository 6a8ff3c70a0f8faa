"""Multi-workspace install: Slack's OAuth v2 flow, tokens per workspace, uninstall.

With `SLACK_CLIENT_ID` / `SLACK_CLIENT_SECRET` set, `build_app` hands Bolt the parts made here:

- `GET /slack/install` answers with a redirect to Slack's authorize page (our client id, the
  manifest's bot scopes, a one-time `state` that is also set as a cookie in the browser);
  `GET /slack/oauth_redirect?code=…&state=…` checks the cookie and consumes the state (once,
  unexpired), exchanges the code with `oauth.v2.access` and stores the installation.
- Installations, bot tokens and OAuth states live in our database through slack_sdk's async
  SQLAlchemy stores, on the services' async engine. Their tables (`slack_installations`,
  `slack_bots`, `slack_oauth_states`) belong to our Alembic history (`store/models.py`), so
  the stores' `create_tables()` is never called. Any replica can finish a flow another one
  started, and every replica sees a new workspace at once.
- Every request's bot token comes from the installation store (Bolt's authorize, bot-only:
  the app asks for no user scopes), never from `SLACK_BOT_TOKEN`. The token exchange, the
  `auth.test` behind authorize and token rotation all go through the app's Web API client,
  so `SLACK_API_URL` applies to them too.
- `app_uninstalled` deletes everything stored for that workspace; `tokens_revoked` deletes
  the revoked tokens (a revoked bot token: the whole workspace's rows, since the app has no
  user tokens to keep working with). A later request from that workspace finds no
  installation, so it is refused instead of answered with a dead token.

Logs name workspaces by id only: no token, code, state or client secret.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_callback_options import (
    AsyncCallbackOptions,
    AsyncFailureArgs,
    AsyncSuccessArgs,
)
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

from dealcoach.config import Settings
from dealcoach.errors import ConfigError, DeliveryError
from dealcoach.public_url import validate_public_url
from dealcoach.slack.manifest import BOT_SCOPES, OAUTH_REDIRECT_PATH
from dealcoach.store import models

log = logging.getLogger("dealcoach.slack.oauth")

INSTALL_PATH = "/slack/install"
# How long an install link stays usable (the state row and the browser cookie).
STATE_EXPIRATION_SECONDS = 600


@dataclass(frozen=True)
class OAuthParts:
    """What `AsyncApp(...)` needs for the multi-workspace mode."""

    oauth_settings: AsyncOAuthSettings
    authorize: AsyncInstallationStoreAuthorize
    installation_store: AsyncSQLAlchemyInstallationStore
    state_store: AsyncSQLAlchemyOAuthStateStore

    def app_kwargs(self) -> dict[str, Any]:
        return {
            "oauth_settings": self.oauth_settings,
            "authorize": self.authorize,
            "installation_store_bot_only": True,
        }


def redirect_uri(settings: Settings) -> str | None:
    """`DEALCOACH_PUBLIC_URL` + `/slack/oauth_redirect`; None lets Slack use the app's only
    configured redirect URL."""
    if not settings.dealcoach_public_url:
        return None
    return validate_public_url(settings.dealcoach_public_url) + OAUTH_REDIRECT_PATH


def build_oauth(settings: Settings, engine: AsyncEngine, client: AsyncWebClient) -> OAuthParts:
    """The OAuth flow's settings, stores and authorize, on our database and our Web API
    client (`SLACK_API_URL`, retry handlers)."""
    if not (settings.slack_client_id and settings.slack_client_secret):
        raise ConfigError("SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are both needed for OAuth")
    client_id = settings.slack_client_id
    client_secret = settings.slack_client_secret.get_secret_value()
    installation_store = AsyncSQLAlchemyInstallationStore(
        client_id=client_id,
        engine=engine,
        bots_table_name=models.slack_bots.name,
        installations_table_name=models.slack_installations.name,
        logger=logging.getLogger("slack_sdk.oauth.installation_store"),
    )
    state_store = AsyncSQLAlchemyOAuthStateStore(
        expiration_seconds=STATE_EXPIRATION_SECONDS,
        engine=engine,
        table_name=models.slack_oauth_states.name,
        logger=logging.getLogger("slack_sdk.oauth.state_store"),
    )
    bolt_logger = logging.getLogger("slack_bolt.oauth")
    oauth_settings = AsyncOAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=list(BOT_SCOPES),
        user_scopes=[],
        redirect_uri=redirect_uri(settings),
        install_path=INSTALL_PATH,
        # Straight to Slack's authorize page: the link an admin opens is the install.
        install_page_rendering_enabled=False,
        redirect_uri_path=OAUTH_REDIRECT_PATH,
        callback_options=AsyncCallbackOptions(success=_on_success, failure=_on_failure),
        installation_store=installation_store,
        installation_store_bot_only=True,
        state_store=state_store,
        state_expiration_seconds=STATE_EXPIRATION_SECONDS,
        logger=bolt_logger,
    )
    authorize = AsyncInstallationStoreAuthorize(
        logger=bolt_logger,
        installation_store=installation_store,
        client_id=client_id,
        client_secret=client_secret,
        bot_only=True,
        # Remembers auth.test's answer per token (not the token lookup: that is a database
        # read on every request, so an uninstall on any replica takes effect at once).
        cache_enabled=True,
        client=client,  # token rotation, if ever enabled, through SLACK_API_URL too
    )
    return OAuthParts(oauth_settings, authorize, installation_store, state_store)


async def _on_success(args: AsyncSuccessArgs) -> BoltResponse:
    installation = args.installation
    log.info(
        "slack workspace installed",
        extra={"team_id": installation.team_id, "enterprise_id": installation.enterprise_id},
    )
    return await args.default.success(args)


# Bolt's own failure reasons; anything else is the `error` query parameter of the redirect,
# which anyone can type, so it is not copied into the log.
_FAILURE_REASONS = frozenset(
    {"invalid_browser", "invalid_state", "missing_code", "invalid_code", "storage_error"}
)


async def _on_failure(args: AsyncFailureArgs) -> BoltResponse:
    reason = args.reason if args.reason in _FAILURE_REASONS else "error parameter from the redirect"
    log.warning("slack install refused: %s", reason)
    return await args.default.failure(args)


# --- uninstall ------------------------------------------------------------------------------


def register_uninstall(app: AsyncApp) -> None:
    """`app_uninstalled` / `tokens_revoked` delete that workspace's stored tokens.

    Bolt acknowledges events before the listener runs and skips authorize for these two
    (the tokens are already dead), so they arrive here with only the workspace's ids.
    """
    store = app.installation_store
    if store is None:
        raise ConfigError("uninstall handling needs the OAuth installation store")

    async def on_app_uninstalled(context: Any) -> None:
        await store.async_delete_all(enterprise_id=context.enterprise_id, team_id=context.team_id)
        log.info(
            "slack workspace uninstalled: its tokens were deleted",
            extra={"team_id": context.team_id, "enterprise_id": context.enterprise_id},
        )

    async def on_tokens_revoked(event: dict[str, Any], context: Any) -> None:
        tokens = event.get("tokens") or {}
        user_ids = [str(u) for u in tokens.get("oauth") or []]
        for user_id in user_ids:
            await store.async_delete_installation(
                enterprise_id=context.enterprise_id, team_id=context.team_id, user_id=user_id
            )
        bots = tokens.get("bot") or []
        if bots:
            # The bot token is what every request uses; without it the workspace is gone.
            await store.async_delete_all(
                enterprise_id=context.enterprise_id, team_id=context.team_id
            )
        log.info(
            "slack tokens revoked: deleted %d user and %d bot token(s)",
            len(user_ids),
            len(bots),
            extra={"team_id": context.team_id, "enterprise_id": context.enterprise_id},
        )

    app.event("app_uninstalled")(on_app_uninstalled)
    app.event("tokens_revoked")(on_tokens_revoked)


# --- outside a request ----------------------------------------------------------------------


def workspace_clients(app: AsyncApp) -> Callable[[str], Awaitable[AsyncWebClient]] | None:
    """For work outside a Slack request (digests, nudges): `client_for(team_id)` → a Web API
    client with that workspace's bot token, on the app client's base URL, session and retry
    handlers. None in single-workspace mode (use `app.client`, which carries the token).
    Raises `DeliveryError` for a workspace that is not (or no longer) installed."""
    store = app.installation_store
    if store is None:
        return None
    base = app.client

    async def client_for(team_id: str) -> AsyncWebClient:
        bot = await store.async_find_bot(enterprise_id=None, team_id=team_id)
        if bot is None or not bot.bot_token:
            raise DeliveryError(f"dealcoach is not installed in Slack workspace {team_id}")
        return AsyncWebClient(
            token=bot.bot_token,
            base_url=base.base_url,
            timeout=base.timeout,
            session=base.session,
            headers=base.headers,
            logger=base.logger,
            team_id=team_id,
            retry_handlers=list(base.retry_handlers),
        )

    return client_for
