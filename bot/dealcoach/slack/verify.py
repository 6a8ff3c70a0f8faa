"""Request signatures: nothing is acted on before a request is known to come from Slack.

Three layers, each sufficient on its own for the attack it was written for (issue #11):

- `acceptable_timestamp` — `X-Slack-Request-Timestamp` must be a plain decimal number of
  seconds (ASCII digits, no sign, no fraction, at most 12 digits) within five minutes of now.
  slack_sdk's verifier calls `int()` on whatever arrives, which raises on `abc`, `1e5`,
  `nan` or 5000 nines (and accepts full-width digits and surrounding spaces); Bolt then handed
  the unverified body to the app's error handler. `web.py` refuses such a request with 401
  before Bolt sees it.
- `SignedRequestsOnly` — Bolt's own verification middleware, replaced in place by this
  subclass (`install`): the same check plus the timestamp rule, a refusal logged in one short
  line *without* the body (Bolt logs the raw body at INFO), and a `VERIFIED` mark in the
  request context once the signature matched (Socket Mode requests arrive over the
  authenticated websocket and are marked too).
- `is_verified(context)` — the error handler acts (reply, DM) only on a marked request, and
  `allowed_response_url` keeps its reply on Slack's webhook host (or the configured Web API
  stand-in's origin) whatever URL a body names.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from slack_bolt.async_app import AsyncApp
from slack_bolt.middleware.request_verification.async_request_verification import (
    AsyncRequestVerification,
)
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from dealcoach.errors import ConfigError

log = logging.getLogger("dealcoach.slack")

# Set in the Bolt context by `SignedRequestsOnly` once the request's signature matched.
VERIFIED = "dealcoach_signature_verified"
# Slack refuses (and we refuse) requests more than five minutes old or ahead.
MAX_CLOCK_SKEW_SECONDS = 60 * 5
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
# Where Slack's response_urls point (https://api.slack.com/interactivity/handling#message_responses).
SLACK_RESPONSE_URL_HOSTS = frozenset({"hooks.slack.com"})
DEFAULT_SLACK_API_HOST = "slack.com"


def acceptable_timestamp(value: str | None, now: float | None = None) -> bool:
    """A Slack request timestamp we can compare: ASCII digits only, within 5 minutes."""
    if value is None or not _TIMESTAMP.fullmatch(value):
        return False
    current = time.time() if now is None else now
    return abs(current - int(value)) <= MAX_CLOCK_SKEW_SECONDS


def is_verified(context: Any) -> bool:
    """Did this request's signature (or Socket Mode connection) check out?"""
    return bool(context is not None and context.get(VERIFIED))


def allowed_response_url(url: object, slack_api_url: str | None) -> bool:
    """`https://hooks.slack.com/…`, or a URL on the origin of `SLACK_API_URL` when that
    points somewhere other than Slack (the tests' and a staging stand-in)."""
    if not isinstance(url, str) or len(url) > 2048:
        return False
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    if parts.scheme == "https" and host in SLACK_RESPONSE_URL_HOSTS and port in (None, 443):
        return not parts.username and not parts.password
    if not slack_api_url:
        return False
    try:
        api = urlsplit(slack_api_url)
        api_port = api.port
    except ValueError:
        return False
    api_host = (api.hostname or "").lower()
    if not api_host or api_host == DEFAULT_SLACK_API_HOST or api_host.endswith(".slack.com"):
        return False
    return (parts.scheme, host, port) == (api.scheme, api_host, api_port)


class SignedRequestsOnly(AsyncRequestVerification):
    """Bolt's signature check, hardened (see the module docstring)."""

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse:
        if req.mode == "socket_mode":  # the websocket is authenticated with the app token
            req.context[VERIFIED] = True
            return await next()
        if self._can_skip(req.mode, req.body):  # Slack's unsigned ssl_check ping: not marked
            return await next()
        timestamp = (req.headers.get("x-slack-request-timestamp") or [""])[0]
        signature = (req.headers.get("x-slack-signature") or [""])[0]
        try:
            valid = acceptable_timestamp(timestamp) and self.verifier.is_valid(
                req.raw_body, timestamp, signature
            )
        except Exception:  # never act on, nor log, a request we could not check
            valid = False
        if not valid:
            log.info("slack request refused: signature or timestamp invalid")
            return self._build_error_response()
        req.context[VERIFIED] = True
        return await next()


def install(app: AsyncApp, signing_secret: str) -> None:
    """Swap Bolt's verification middleware for `SignedRequestsOnly`, in the same place (before
    authorize and every listener). Fails loudly if Bolt's middleware is not where expected,
    so an upgrade that moves it cannot silently leave requests unchecked by our rules."""
    middleware: list[Any] = app._async_middleware_list
    found = [i for i, m in enumerate(middleware) if type(m) is AsyncRequestVerification]
    if len(found) != 1:
        raise ConfigError("Bolt's request verification middleware was not found exactly once")
    middleware[found[0]] = SignedRequestsOnly(signing_secret)
