"""Slack request signing (v0), written out from Slack's documentation for the tests.

`v0:{timestamp}:{raw body}` HMAC-SHA256 with the signing secret, hex digest, prefixed `v0=`,
sent as `X-Slack-Signature` with `X-Slack-Request-Timestamp`. Deliberately independent of
slack_sdk's `SignatureVerifier`, so a test signs the way Slack does, not the way our
dependency verifies.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def sign(
    body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    base = f"v0:{ts}:{body}".encode()
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def form_body(fields: dict[str, Any]) -> str:
    """A slash command: `application/x-www-form-urlencoded` fields."""
    return urlencode({k: str(v) for k, v in fields.items()})


def interactive_body(payload: dict[str, Any]) -> str:
    """Interactivity (view_submission, block_actions): `payload=<json>` form-encoded."""
    return urlencode({"payload": json.dumps(payload)})


def signed_headers(
    body: str,
    *,
    content_type: str = "application/x-www-form-urlencoded",
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    retry_num: int | None = None,
) -> dict[str, str]:
    headers = {"Content-Type": content_type, **sign(body, secret=secret, timestamp=timestamp)}
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = "http_timeout"
    return headers
