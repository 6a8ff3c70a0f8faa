"""Limits on an HTTP request body that every webhook route shares (`/slack/events` in
`web.py`, `/api/messages` in `teams/runtime.py`): a size cap and a deadline.

A neutral module (FastAPI/Starlette only) so an adapter can use it without importing the
composition root (`web.py`) that mounts it.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import HTTPException, Request

# The web app's logger: `observability.RefusalFilter` rate-limits these lines by it.
log = logging.getLogger("dealcoach.web")

# Seconds a client has to send a whole request body (DEALCOACH_BODY_TIMEOUT overrides it).
BODY_TIMEOUT_SECONDS = 10.0
BODY_TIMEOUT_LOG = "request body not received within %.0f s: answered 408"


async def read_body_within(request: Request, limit: int, timeout: float | None = None) -> bool:
    """Read the body (Starlette caches it for Bolt); False, without reading the rest, as soon
    as it is — or its Content-Length says it will be — larger than `limit` bytes.

    The whole body must arrive within `timeout` seconds (default: the app's
    `DEALCOACH_BODY_TIMEOUT`, else `BODY_TIMEOUT_SECONDS`): a client trickling a body a byte
    at a time would otherwise hold a connection (and a file descriptor) for as long as it
    likes. Past the deadline `BodyTimeout` (an HTTP 408 that closes the connection) is raised;
    the app answers it without the route's help."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return False
    if timeout is None:
        settings = getattr(request.app.state, "settings", None)
        timeout = getattr(settings, "dealcoach_body_timeout", None) or BODY_TIMEOUT_SECONDS
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    return False
                chunks.append(chunk)
    except TimeoutError:
        # One line per interval under a flood (observability.RefusalFilter), not per socket.
        log.warning(BODY_TIMEOUT_LOG, timeout)
        raise BodyTimeout() from None
    request._body = b"".join(chunks)  # what Request.body() returns from now on
    return True


class BodyTimeout(HTTPException):
    """The request body did not arrive in time: 408, and the connection is closed."""

    def __init__(self) -> None:
        super().__init__(
            status_code=408,
            detail="request body not received in time",
            headers={"Connection": "close"},
        )
