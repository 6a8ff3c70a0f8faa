"""The Bolt app: `build_app(settings, services)`.

One `AsyncApp` with the signing secret always verified, a Web API client pointed at
`SLACK_API_URL` with slack_sdk's retry handlers (429 + `Retry-After`, 5xx, dropped
connections), and `process_before_response=False`: a listener calls `ack()` first (or right
after the database step a `view_submission` needs for its answer), Bolt answers Slack at that
moment, and the rest of the listener keeps running. Listener exceptions are not swallowed:
they reach the one `@app.error` handler, which tells the user in one short line (with the
review id when there is one) and logs the rest.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from dealcoach.config import Settings
from dealcoach.errors import ConfigError, DealcoachError
from dealcoach.slack import verify
from dealcoach.slack.context import SlackDeps, deps_of, review_id_in
from dealcoach.slack.strings import t

log = logging.getLogger("dealcoach.slack")

# Seconds the Web API client waits for one HTTP answer. Long enough for a slow Slack, short
# enough that a hung call fails (and is reported) instead of piling up.
WEB_API_TIMEOUT = 10
# Longer than the 10 ms at which Bolt's asyncio runner polls for an ack (see handle_error).
ACK_POLL_GRACE_SECONDS = 0.03


def make_client(settings: Settings, token: str | None = None) -> AsyncWebClient:
    """The Web API client: `SLACK_API_URL`, the bot token and slack_sdk's retry handlers.

    In multi-workspace mode (`SLACK_CLIENT_ID`/`SECRET`) it carries no token: each request's
    token comes from the installation store (slack/oauth.py)."""
    if token is None and settings.slack_bot_token is not None and not settings.slack_oauth_enabled:
        token = settings.slack_bot_token.get_secret_value()
    return AsyncWebClient(
        token=token,
        base_url=settings.slack_api_url,
        timeout=WEB_API_TIMEOUT,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            # Honours Retry-After (sleeps that long, plus up to a second of jitter).
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def build_app(
    settings: Settings,
    services: Any,
    client: AsyncWebClient | None = None,
    *,
    metrics: Any = None,
    deps: SlackDeps | None = None,
) -> AsyncApp:
    """The dealcoach Slack app. `services` is `bootstrap.build_services(settings)`;
    `metrics` (dealcoach.observability.Metrics) counts completed reviews when given; `deps`
    are the listeners' deps when the composition root (`web.create_app`) keeps them to
    finish later (the coaching relay), else made here."""
    if settings.slack_signing_secret is None:
        raise ConfigError("SLACK_SIGNING_SECRET is not set")
    client = client or make_client(settings)
    oauth: dict[str, Any] = {}
    if settings.slack_oauth_enabled:  # multi-workspace install: tokens per workspace
        from dealcoach.slack.oauth import build_oauth

        oauth = build_oauth(settings, services.async_store.engine, client).app_kwargs()
    app = AsyncApp(
        name="dealcoach",
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        # Single workspace: carries the bot token; Bolt calls auth.test with it once.
        client=client,
        process_before_response=False,
        # request_verification_enabled stays at its default (True): every request is verified,
        # by Bolt's middleware hardened in place (slack/verify.py).
        **oauth,
    )
    verify.install(app, settings.slack_signing_secret.get_secret_value())
    deps = deps or SlackDeps.create(settings, services)
    deps.metrics = metrics

    @app.middleware
    async def _attach_deps(context: Any, next: Any) -> Any:
        context["dealcoach"] = deps
        return await next()

    from dealcoach.slack.listeners import (
        actions,
        coaching,
        commands,
        crm,
        events,
        manager,
        outcome,
        plans,
        views,
    )

    crm.register(app)  # CRM link (issue 17): before commands, so `/dealcoach crm` reaches it
    commands.register(app)
    views.register(app)
    actions.register(app)
    events.register(app)
    manager.register(app)  # App Home and reminder buttons (digest/teams feature)
    coaching.register(app)  # Open review, coaching notes, Reply / Mark as done (issue 16)
    outcome.register(app)  # Record outcome, and why a deal was lost (issue 15)
    plans.register(app)  # Add to plan, the plan modal, reminder buttons (issue 15)

    @app.error
    async def _on_error(
        error: Exception,
        body: dict[str, Any],
        context: Any,
        client: AsyncWebClient,
        response: BoltResponse | None,
    ) -> BoltResponse | None:
        return await handle_error(error, body, context, client, response)

    return app


async def handle_error(
    error: Exception,
    body: dict[str, Any],
    context: Any,
    client: AsyncWebClient,
    response: BoltResponse | None,
) -> BoltResponse | None:
    """Turn a listener exception into one short message for the user.

    `DealcoachError` → its own message. Anything else → an apology naming the review id
    (answers are saved before each step's reply, so nothing typed so far is lost) and a
    logged traceback. Before the request was acknowledged (`response` is set), a
    `view_submission` gets the message as a field error, so the modal and the user's input
    stay on screen; otherwise the user gets an ephemeral reply or a DM.

    Nothing is done for a request whose signature was not verified (an error raised by or
    before Bolt's verification): its body may be anyone's, so it is answered 401 and logged
    by error type only — no reply to its response_url, no DM to its user id.
    """
    if not verify.is_verified(context):
        log.warning("slack request refused before verification: %s", type(error).__name__)
        return BoltResponse(status=401, body={"error": "invalid request"})
    if response is None:
        # The listener acknowledged, then raised. Bolt's asyncio runner sets `ack.response`
        # back to None right after this handler returns, while its request coroutine polls
        # `ack.response` every 10 ms: a listener that fails fast (a refusal such as "already
        # shared") lost that race and Slack got a 404 after 3 s. Yielding longer than one
        # poll lets the request coroutine (its timer is due first) send the ack before that.
        await asyncio.sleep(ACK_POLL_GRACE_SECONDS)
    deps = deps_of(context)
    locale = context.get("dealcoach_locale") or (deps.settings.dealcoach_lang if deps else "en")
    review_id = context.get("dealcoach_review_id") or review_id_in(body)
    if isinstance(error, DealcoachError):
        message = str(error)
        log.info("slack request refused: %s", message, extra={"review_id": review_id})
    else:
        log.exception("slack listener failed", exc_info=error, extra={"review_id": review_id})
        message = t(locale, "error.apology", review=review_id or "-")

    if response is not None and body.get("type") == "view_submission":
        block_ids = _input_block_ids(body.get("view") or {})
        if block_ids:
            payload = {"response_action": "errors", "errors": {block_ids[0]: message[:150]}}
            return BoltResponse(
                status=200, body=json.dumps(payload), headers={"content-type": "application/json"}
            )

    await notify(client, body, message, api_url=deps.settings.slack_api_url if deps else None)
    return None


async def notify(
    client: AsyncWebClient, body: dict[str, Any], message: str, *, api_url: str | None = None
) -> None:
    """Best effort: an ephemeral reply where Slack gave us a response_url, else a DM.

    Only for a verified request (the caller checks). A response_url that is not Slack's
    webhook host (or the origin of `api_url`, a configured stand-in) is never called: the
    user gets a DM instead."""
    from slack_sdk.webhook.async_client import AsyncWebhookClient

    try:
        response_url = body.get("response_url")
        if not response_url:
            urls = body.get("response_urls") or []
            first = urls[0] if isinstance(urls, list) and urls else None
            response_url = first.get("response_url") if isinstance(first, dict) else None
        if response_url and not verify.allowed_response_url(response_url, api_url):
            log.warning("slack response_url refused: not a Slack webhook URL")
            response_url = None
        if response_url:
            await AsyncWebhookClient(response_url).send(
                text=message, response_type="ephemeral", replace_original=False
            )
            return
        user_id = body.get("user_id") or (body.get("user") or {}).get("id")
        if user_id:
            await client.chat_postMessage(channel=user_id, text=message)
    except Exception:  # the user could not be told; the log has the original error
        log.exception("could not deliver an error message to the user")


def _input_block_ids(view: dict[str, Any]) -> list[str]:
    return [
        b["block_id"]
        for b in view.get("blocks") or []
        if b.get("type") == "input" and b.get("block_id")
    ]
