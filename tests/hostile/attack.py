"""A repeatable attack run against a real `dealcoach serve`, loopback only.

What an outside attack run tried (issue #11), as one bounded script: unsigned and badly signed
Slack requests whose body points `response_url` at a loopback canary and names a user to DM,
malformed timestamps, oversized bodies, made-up HTTP methods (metric labels), hostile Teams
activities (missing fields, a spoofed `serviceUrl`, `alg: none` tokens), unknown paths, and a
few connections trickling a body. It counts what came back and what leaked:

- HTTP answers by status (the goal: no 5xx),
- requests that reached the canary (an SSRF) or the Slack Web API stand-in (posting as the bot),
- tracebacks and raw secrets in the server's log, the size of `/metrics` afterwards.

    python -m tests.hostile.attack --requests 15000 [--database-url URL] [--json out.json]

`tests/hostile/test_attack_run.py` runs a small version of it in CI on SQLite and PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import random
import socket
import string
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from tests.load.cluster import ServerProcess, server_env
from tests.slack.mock_web_api import MockSlackWebApi
from tests.slack.signing import form_body, interactive_body, sign

SECRET_WORD = "ZEBRA-SECRET-DEAL-7731"  # typed into hostile bodies; must never reach the log
BAD_TIMESTAMPS = ["abc", "", "1e5", "nan", "9" * 400, "-1", "0x10", "1.5", "+1", "1_000"]
TEAMS_MISSING = ["type", "from", "recipient", "conversation", "channelId", "serviceUrl"]


@dataclass
class Report:
    requests: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    by_kind: dict[str, Counter[str]] = field(default_factory=dict)
    server_errors: list[str] = field(default_factory=list)  # "kind: status" of every 5xx
    canary_hits: int = 0
    web_api_calls: int = 0
    tracebacks: int = 0
    secret_in_log: bool = False
    log_bytes: int = 0
    metrics_bytes: int = 0
    healthz_during_trickle_ms: float | None = None
    trickle_outcomes: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def record(self, kind: str, status: int | str) -> None:
        self.requests += 1
        label = str(status)
        self.statuses[label] += 1
        self.by_kind.setdefault(kind, Counter())[label] += 1
        if isinstance(status, int) and status >= 500:
            self.server_errors.append(f"{kind}: {status}")

    @property
    def five_xx(self) -> int:
        return len(self.server_errors)

    def as_dict(self) -> dict[str, Any]:
        data = {
            k: dict(v) if isinstance(v, Counter) else v
            for k, v in vars(self).items()
        }
        data["by_kind"] = {kind: dict(c) for kind, c in self.by_kind.items()}
        data["five_xx"] = self.five_xx
        data["server_errors"] = self.server_errors[:20]
        return data

    def summary(self) -> str:
        return (
            f"{self.requests} requests in {self.seconds:.1f} s; statuses {dict(self.statuses)}; "
            f"5xx {self.five_xx}; canary hits {self.canary_hits}; Web API calls "
            f"{self.web_api_calls}; tracebacks in log {self.tracebacks}; secret in log "
            f"{self.secret_in_log}; log {self.log_bytes} B; /metrics {self.metrics_bytes} B; "
            f"/healthz during trickle {self.healthz_during_trickle_ms} ms; "
            f"trickle {dict(self.trickle_outcomes)}"
        )


class Canary:
    """A loopback HTTP listener standing in for 'an internal address': counts every request."""

    def __init__(self) -> None:
        hits: list[str] = []
        self.hits = hits

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _hit(self) -> None:
                hits.append(f"{self.command} {self.path}")
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_GET = do_POST = do_PUT = _hit

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Canary:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


# --- the request kinds --------------------------------------------------------------------------


def _slack_bodies(canary: str) -> list[tuple[str, str]]:
    """Slash command and interactivity bodies that would make a careless app act."""
    command = form_body(
        {
            "command": "/dealcoach",
            "text": f"history {SECRET_WORD}",
            "user_id": "U0ATTACK",
            "channel_id": "C0GENERAL",
            "team_id": "T0ACME",
            "trigger_id": "1.2.3",
            "response_url": f"{canary}/command",
        }
    )
    action = interactive_body(
        {
            "type": "block_actions",
            "user": {"id": "U0ATTACK"},
            "team": {"id": "T0ACME"},
            "trigger_id": "1.2.3",
            "response_url": f"{canary}/action",
            "actions": [{"action_id": "dealcoach.share", "value": SECRET_WORD}],
        }
    )
    submission = interactive_body(
        {
            "type": "view_submission",
            "user": {"id": "U0ATTACK"},
            "team": {"id": "T0ACME"},
            "response_urls": [{"response_url": f"{canary}/view"}],
            "view": {"callback_id": "dealcoach.review", "private_metadata": SECRET_WORD},
        }
    )
    return [("command", command), ("action", action), ("view", submission)]


def _method_token(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_uppercase) for _ in range(rng.randint(3, 12)))


def _teams_activity(canary: str, drop: str | None = None) -> dict[str, Any]:
    activity: dict[str, Any] = {
        "type": "message",
        "id": "a1",
        "text": f"review {SECRET_WORD}",
        "from": {"id": "29:attacker", "name": "Mallory"},
        "recipient": {"id": "28:bot", "name": "dealcoach"},
        "conversation": {"id": "a:attacker"},
        "channelId": "msteams",
        "serviceUrl": f"{canary}/teams/",
    }
    if drop is not None:
        activity.pop(drop, None)
    return activity


def _alg_none_token() -> str:
    def part(data: dict[str, Any]) -> str:
        raw = json.dumps(data).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part({'aud': 'x', 'serviceurl': 'y'})}."


async def _send(
    client: httpx.AsyncClient,
    report: Report,
    kind: str,
    method: str,
    url: str,
    **kwargs: Any,
) -> None:
    try:
        response = await client.request(method, url, **kwargs)
        report.record(kind, response.status_code)
    except httpx.HTTPError as exc:
        report.record(kind, type(exc).__name__)


async def _trickle(host: str, port: int, path: str, seconds: float) -> str:
    """Headers, then one body byte a second: what did the server do about it?"""
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError as exc:
        return f"connect:{type(exc).__name__}"
    try:
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: 10000\r\n\r\n".encode()
        )
        await writer.drain()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                line = await asyncio.wait_for(reader.readline(), timeout=1.0)
            except TimeoutError:
                writer.write(b"x")
                await writer.drain()
                continue
            if not line:
                return "closed"
            parts = line.split()
            return parts[1].decode() if len(parts) > 1 else "garbled"
        return "held"
    except (ConnectionError, OSError):
        return "reset"
    finally:
        writer.close()


async def attack(
    base: str, canary: str, *, requests: int, trickle: int, trickle_seconds: float, seed: int
) -> Report:
    """Send about `requests` hostile requests (plus `trickle` slow bodies) to `base`."""
    rng = random.Random(seed)
    report = Report()
    started = time.monotonic()
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    async with httpx.AsyncClient(base_url=base, timeout=10, limits=limits) as client:
        slack_bodies = _slack_bodies(canary)
        kinds = [
            "slack_bad_timestamp",
            "slack_bad_signature",
            "slack_stale",
            "slack_unsigned",
            "slack_malformed_signed",
            "slack_oversize",
            "weird_method",
            "unknown_path",
            "teams_missing_field",
            "teams_spoofed_service_url",
            "teams_bad_token",
            "teams_oversize",
        ]
        sem = asyncio.Semaphore(24)

        async def one(i: int) -> None:
            kind = kinds[i % len(kinds)]
            name, body = slack_bodies[i % len(slack_bodies)]
            form = {"Content-Type": "application/x-www-form-urlencoded"}
            async with sem:
                if kind == "slack_bad_timestamp":
                    ts = BAD_TIMESTAMPS[(i // len(kinds)) % len(BAD_TIMESTAMPS)]
                    headers = {**form, "X-Slack-Request-Timestamp": ts,
                               "X-Slack-Signature": "v0=" + "0" * 64}
                    await _send(client, report, kind, "POST", "/slack/events",
                                content=body, headers=headers)
                elif kind == "slack_bad_signature":
                    headers = {**form, **sign(body, secret="not-the-secret")}
                    await _send(client, report, kind, "POST", "/slack/events",
                                content=body, headers=headers)
                elif kind == "slack_stale":
                    headers = {**form, **sign(body, timestamp=int(time.time()) - 3600)}
                    await _send(client, report, kind, "POST", "/slack/events",
                                content=body, headers=headers)
                elif kind == "slack_unsigned":
                    await _send(client, report, kind, "POST", "/slack/events",
                                content=body, headers=form)
                elif kind == "slack_malformed_signed":
                    bad = rng.choice(["payload=%7B", "payload=%5B%5D", "payload=%22x%22",
                                      "{}", "[]", "payload=" + SECRET_WORD])
                    headers = {**form, **sign(bad)}
                    await _send(client, report, kind, "POST", "/slack/events",
                                content=bad, headers=headers)
                elif kind == "slack_oversize":
                    big = "text=" + "a" * (1024 * 1024 + 10)
                    headers = {**form, **sign(big)}
                    await _send(client, report, kind, "POST", "/slack/events",
                                content=big, headers=headers)
                elif kind == "weird_method":
                    path = rng.choice(["/healthz", "/metrics", "/slack/events", "/api/messages",
                                       f"/{_method_token(rng).lower()}"])
                    await _send(client, report, kind, _method_token(rng), path)
                elif kind == "unknown_path":
                    path = "/" + "/".join(_method_token(rng).lower() for _ in range(3))
                    await _send(client, report, kind, rng.choice(["GET", "POST"]), path)
                elif kind == "teams_missing_field":
                    drop = TEAMS_MISSING[(i // len(kinds)) % len(TEAMS_MISSING)]
                    await _send(client, report, kind, "POST", "/api/messages",
                                json=_teams_activity(canary, drop))
                elif kind == "teams_spoofed_service_url":
                    await _send(client, report, kind, "POST", "/api/messages",
                                json=_teams_activity(canary))
                elif kind == "teams_bad_token":
                    token = rng.choice([_alg_none_token(), "abc", "a.b.c", "x y", SECRET_WORD])
                    await _send(client, report, kind, "POST", "/api/messages",
                                json=_teams_activity(canary),
                                headers={"Authorization": f"Bearer {token}"})
                elif kind == "teams_oversize":
                    await _send(client, report, kind, "POST", "/api/messages",
                                content=b"{" + b" " * (2 * 1024 * 1024) + b"}",
                                headers={"Content-Type": "application/json"})
                _ = name

        await asyncio.gather(*(one(i) for i in range(requests)))

        if trickle:
            host, port = base.removeprefix("http://").split(":")
            slow = [
                asyncio.create_task(
                    _trickle(host, int(port), rng.choice(["/slack/events", "/api/messages"]),
                             trickle_seconds)
                )
                for _ in range(trickle)
            ]
            await asyncio.sleep(1.0)
            t0 = time.monotonic()
            try:
                health = await client.get("/healthz", timeout=10)
                report.record("healthz_during_trickle", health.status_code)
                report.healthz_during_trickle_ms = round((time.monotonic() - t0) * 1000, 1)
            except httpx.HTTPError as exc:
                report.record("healthz_during_trickle", type(exc).__name__)
            for outcome in await asyncio.gather(*slow):
                report.trickle_outcomes[outcome] += 1

        metrics = await client.get("/metrics")
        report.metrics_bytes = len(metrics.content)
    report.seconds = time.monotonic() - started
    return report


def run(
    database_url: str,
    *,
    requests: int = 15000,
    trickle: int = 20,
    trickle_seconds: float = 20.0,
    seed: int = 11,
    workdir: Path | None = None,
    extra_env: dict[str, str] | None = None,
) -> Report:
    """Start a Web API stand-in, a canary and one `dealcoach serve`, attack, audit, stop."""
    tmp = Path(workdir or tempfile.mkdtemp(prefix="dealcoach-attack-"))
    with MockSlackWebApi() as api, Canary() as canary:
        env = server_env(
            database_url,
            api.url,
            DEALCOACH_LOG_LEVEL="INFO",
            TEAMS_ALLOW_ANONYMOUS="true",
            **(extra_env or {}),
        )
        server = ServerProcess(env, tmp / "attack-server.log", name="attack").start()
        try:
            calls_before = len(api.calls)
            report = asyncio.run(
                attack(server.url, canary.url, requests=requests, trickle=trickle,
                       trickle_seconds=trickle_seconds, seed=seed)
            )
            time.sleep(1.0)  # anything the server would still do after answering
            report.canary_hits = len(canary.hits)
            report.web_api_calls = len(
                [c for c in api.calls[calls_before:] if c.method != "auth.test"]
            )
        finally:
            server.stop()
        log = server.log()
        report.tracebacks = log.count("Traceback")
        report.secret_in_log = SECRET_WORD in log
        report.log_bytes = len(log.encode())
    return report


def _free_sqlite_url() -> str:
    path = Path(tempfile.mkdtemp(prefix="dealcoach-attack-db-")) / "attack.db"
    return f"sqlite:///{path}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=15000)
    parser.add_argument("--trickle", type=int, default=20, help="slow-body connections")
    parser.add_argument("--trickle-seconds", type=float, default=20.0)
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file")
    parser.add_argument("--json", type=Path, default=None, help="write the report here")
    args = parser.parse_args(argv)
    url = args.database_url or _free_sqlite_url()
    if url.startswith("postgresql"):
        from dealcoach.store.engine import migrate

        migrate(url, "head")
    report = run(url, requests=args.requests, trickle=args.trickle,
                 trickle_seconds=args.trickle_seconds)
    print(report.summary())
    if args.json:
        args.json.write_text(json.dumps(report.as_dict(), indent=2, default=str), "utf-8")
    clean = (report.five_xx == 0 and report.canary_hits == 0 and report.web_api_calls == 0
             and report.tracebacks == 0 and not report.secret_in_log)
    return 0 if clean else 1


if __name__ == "__main__":  # pragma: no cover
    socket.setdefaulttimeout(30)
    raise SystemExit(main())
