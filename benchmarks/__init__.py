"""Benchmarks: `python -m benchmarks.<name>` (see BENCHMARKS.md)."""

from __future__ import annotations

import re as _re
from pathlib import Path as _Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from slack_bolt.async_app import AsyncApp


def replace_section(path: _Path, begin: str, end: str, body: str) -> None:
    """Put `begin + body + end` in place of the marked section of BENCHMARKS.md (or append)."""
    section = f"{begin}\n{body}\n{end}\n"
    old = path.read_text("utf-8") if path.exists() else "# Benchmarks\n\n"
    pattern = _re.compile(_re.escape(begin) + r".*?" + _re.escape(end) + r"\n?", _re.S)
    new = (
        pattern.sub(lambda _: section, old)
        if pattern.search(old)
        else old.rstrip() + "\n\n" + section
    )
    path.write_text(new, "utf-8")


def serve_bare_bolt(bolt: AsyncApp, port: int) -> None:
    """Serve a bare Bolt app (the baseline) on loopback: POST /slack/events, GET /healthz."""
    import uvicorn
    from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    handler = AsyncSlackRequestHandler(bolt)

    async def events(request: Request) -> Response:
        return await handler.handle(request)

    async def healthz(request: Request) -> Response:
        return Response("ok")

    app = Starlette(
        routes=[Route("/slack/events", events, methods=["POST"]), Route("/healthz", healthz)]
    )
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
