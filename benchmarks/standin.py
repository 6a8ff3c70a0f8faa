"""A Slack Web API stand-in for the load benchmark, in a process of its own.

Answers what the app and the bare Bolt baseline call (`auth.test`, `views.open|update|push|
publish`, `chat.postMessage`, `users.info`, `response_url`, anything else `{"ok": true}`) the
way tests/slack/mock_web_api.py does, but asynchronously (Starlette under uvicorn) so it costs
little CPU, and with two endpoints for the load-generator processes, which cannot read an
in-process call log:

- `GET /_bench/modal?trigger=T&n=N[&timeout=S]` waits (up to S s, default 15, at most 300)
  until the view opened with trigger_id T has been updated N times, and answers
  `{"view_id": …, "view": <the N-th update's view>}` (504 when it was not);
- `GET /_bench/stats` answers counters (advice DMs, calls) — the advice DMs are the ones
  carrying the DESIGN.md metadata (`deal_review_completed`), or any DM for the bare app;
- `GET /_bench/posts` answers every `chat.postMessage` received, in order, as
  `{"posts": [{"channel": …, "metadata": <object or null>}, …]}` (for an audit of the advice
  DMs: tests/perf/test_overload.py).

    python -m benchmarks.standin PORT
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from typing import Any
from urllib.parse import parse_qs

JSON = dict[str, Any]


class State:
    def __init__(self) -> None:
        self.seq = 0
        self.trigger_view: dict[str, str] = {}
        self.updates: dict[str, list[JSON]] = {}
        self.waiters: dict[str, asyncio.Event] = {}
        self.calls: Counter[str] = Counter()
        self.advice = 0
        self.posts = 0
        self.post_log: list[JSON] = []

    def changed(self, view_id: str) -> None:
        event = self.waiters.pop(view_id, None)
        if event is not None:
            event.set()

    async def modal(self, trigger: str, n: int, timeout: float = 15.0) -> JSON | None:
        deadline = time.monotonic() + timeout
        while True:
            view_id = self.trigger_view.get(trigger)
            if view_id is not None and len(self.updates.get(view_id, ())) >= n:
                return {"view_id": view_id, "view": self.updates[view_id][n - 1]}
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            key = view_id or f"trigger:{trigger}"
            event = self.waiters.setdefault(key, asyncio.Event())
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                return None


def _param(params: JSON, name: str) -> Any:
    value = params.get(name)
    if isinstance(value, str) and value[:1] in "[{":
        return json.loads(value)
    return value


def build_app() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    state = State()

    async def api(request: Request) -> JSONResponse:
        method = request.path_params["method"]
        params: JSON = dict(request.query_params)
        raw = await request.body()
        if raw:
            if "json" in request.headers.get("content-type", ""):
                params.update(json.loads(raw))
            else:
                params.update({k: v[-1] for k, v in parse_qs(raw.decode()).items()})
        state.seq += 1
        seq = state.seq
        state.calls[method] += 1
        if method == "auth.test":
            return JSONResponse(
                {
                    "ok": True,
                    "url": "https://acme.slack.com/",
                    "team": "Acme",
                    "user": "dealcoach",
                    "team_id": "T0ACME",
                    "user_id": "UBOT",
                    "bot_id": "BBOT",
                    "is_enterprise_install": False,
                }
            )
        if method in ("views.open", "views.push", "views.update", "views.publish"):
            view = _param(params, "view") or {}
            view_id = str(params.get("view_id") or f"V{seq:07d}")
            if method == "views.open":
                trigger = str(params.get("trigger_id", ""))
                state.trigger_view[trigger] = view_id
                state.changed(f"trigger:{trigger}")
            elif method == "views.update":
                state.updates.setdefault(view_id, []).append(view)
                state.changed(view_id)
            return JSONResponse(
                {
                    "ok": True,
                    "view": {
                        **view,
                        "id": view_id,
                        "team_id": "T0ACME",
                        "hash": f"{seq}.h",
                        "state": {"values": {}},
                        "root_view_id": view_id,
                        "app_id": "A0DEALCOACH",
                        "bot_id": "BBOT",
                    },
                }
            )
        if method == "chat.postMessage":
            state.posts += 1
            metadata = _param(params, "metadata") or {}
            state.post_log.append(
                {"channel": params.get("channel", ""), "metadata": metadata or None}
            )
            if isinstance(metadata, dict) and metadata.get("event_type") == (
                "deal_review_completed"
            ):
                state.advice += 1
            return JSONResponse(
                {
                    "ok": True,
                    "channel": params.get("channel", ""),
                    "ts": f"{int(time.time())}.{seq:06d}",
                    "message": {"text": "", "user": "UBOT"},
                }
            )
        if method == "users.info":
            user_id = str(params.get("user", ""))
            return JSONResponse(
                {
                    "ok": True,
                    "user": {
                        "id": user_id,
                        "team_id": "T0ACME",
                        "name": user_id.lower(),
                        "real_name": user_id.title(),
                        "tz": "Europe/Amsterdam",
                        "locale": "en-US",
                        "is_admin": False,
                        "profile": {"display_name": user_id.lower()},
                    },
                }
            )
        return JSONResponse({"ok": True})

    async def response_url(request: Request) -> JSONResponse:
        await request.body()
        state.calls["response_url"] += 1
        return JSONResponse({"ok": True})

    async def modal(request: Request) -> JSONResponse:
        timeout = min(300.0, float(request.query_params.get("timeout", "15")))
        found = await state.modal(
            request.query_params["trigger"], int(request.query_params.get("n", "1")), timeout
        )
        if found is None:
            return JSONResponse({"error": "timeout"}, status_code=504)
        return JSONResponse(found)

    async def stats(request: Request) -> JSONResponse:
        return JSONResponse(
            {"advice": state.advice, "posts": state.posts, "calls": dict(state.calls)}
        )

    async def posts(request: Request) -> JSONResponse:
        return JSONResponse({"posts": state.post_log})

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/_bench/modal", modal),
            Route("/_bench/stats", stats),
            Route("/_bench/posts", posts),
            Route("/healthz", healthz),
            Route("/response_url/{rest:path}", response_url, methods=["POST"]),
            Route("/api/{method}", api, methods=["GET", "POST"]),
            Route("/{method}", api, methods=["GET", "POST"]),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    args = sys.argv[1:] if argv is None else argv
    port = int(args[0])
    uvicorn.run(build_app(), host="127.0.0.1", port=port, log_level="warning", access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
