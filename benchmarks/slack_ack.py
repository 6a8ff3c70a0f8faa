"""Slash-command acknowledgement benchmark: dealcoach vs a bare Bolt app, in one run.

    python -m benchmarks.slack_ack [--users 16] [--seconds 10] [--write BENCHMARKS.md]

Starts, each in its own process on loopback: the Slack Web API stand-in
(tests/slack/mock_web_api.py), then in turn a bare Bolt `AsyncApp` that only acks `/dealcoach`
and opens a modal, and the real dealcoach server (`create_app` on a fresh SQLite database,
uvicorn, the same signing secret and stand-in). Each target gets the same closed-loop load:
`--users` concurrent users sending signed slash commands back to back for `--seconds`
(bounded: at most `--max-requests` in all). Reported per target: throughput (acks/s), p50 /
p99 / max ack latency (HTTP response time), errors; then dealcoach's throughput as a ratio of
the bare app's. Goal (issue 4): ratio ≥ 0.8 and dealcoach p99 < 300 ms.

A dealcoach user with an open draft gets the resume prompt (the slow path: views.open, a
users.info lookup on first sight, the draft query, views.update) — everything after the ack.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import replace_section, serve_bare_bolt

ROOT = Path(__file__).resolve().parents[1]
SECRET = "benchmark-signing-secret-0123456789"
TOKEN = "xoxb-benchmark-0000-token"
MARK_BEGIN = "<!-- slack_ack:begin -->"
MARK_END = "<!-- slack_ack:end -->"


# --- the servers (run in child processes) ------------------------------------------------------


def _serve_mock(port: int) -> None:
    from tests.slack.mock_web_api import MockSlackWebApi

    api = MockSlackWebApi(port=port).start()
    print(f"READY {api.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:  # pragma: no cover - killed by the parent
        api.stop()


def _serve_bare(port: int, api_url: str) -> None:
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    bolt = AsyncApp(signing_secret=SECRET, client=AsyncWebClient(token=TOKEN, base_url=api_url))

    @bolt.command("/dealcoach")
    async def open_modal(ack: Any, command: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(
            trigger_id=command["trigger_id"],
            view={
                "type": "modal",
                "callback_id": "bare",
                "title": {"type": "plain_text", "text": "Deal review"},
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Hello"}}],
            },
        )

    serve_bare_bolt(bolt, port)


def _serve_dealcoach(port: int, api_url: str, database_url: str) -> None:
    import logging

    import uvicorn

    from dealcoach.bootstrap import build_services
    from dealcoach.config import Settings
    from dealcoach.web import create_app

    logging.basicConfig(level=logging.WARNING)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=api_url,
        dealcoach_scheduler=False,
        dealcoach_log_level="WARNING",
    )
    services = build_services(settings)  # migrates the fresh SQLite file
    app = create_app(settings, services)
    uvicorn.run(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, log_config=None
    )


# --- the load ----------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def throughput(self) -> float:
        return (self.requests - self.errors) / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        data = sorted(self.latencies)
        return data[min(len(data) - 1, max(0, round(q * len(data)) - 1))]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) if self.latencies else float("nan")


def _sign(body: str) -> dict[str, str]:
    import hashlib
    import hmac

    ts = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": "application/x-www-form-urlencoded",
    }


def _command_body(user: str, response_url: str) -> str:
    from urllib.parse import urlencode

    return urlencode(
        {
            "token": "x",
            "team_id": "T0BENCH",
            "team_domain": "bench",
            "channel_id": "C0BENCH",
            "channel_name": "sales",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/dealcoach",
            "text": "Acme renewal",
            "api_app_id": "A0BENCH",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": f"{time.time():.0f}.{uuid.uuid4().hex[:12]}",
        }
    )


async def _load(
    name: str, url: str, api_base: str, users: int, seconds: float, max_requests: int, warmup: int
) -> Result:
    import httpx

    latencies: list[float] = []
    errors = 0
    sent = 0
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    async with httpx.AsyncClient(timeout=10, limits=limits) as http:
        # Warm-up (not measured): first sight of every user, connection set-up.
        for i in range(users):
            for _ in range(warmup):
                body = _command_body(f"U{i:04d}", f"{api_base}/response_url/w")
                await http.post(f"{url}/slack/events", content=body, headers=_sign(body))
        await asyncio.sleep(0.5)
        deadline = time.perf_counter() + seconds
        start = time.perf_counter()

        async def user_loop(i: int) -> None:
            nonlocal errors, sent
            while time.perf_counter() < deadline and sent < max_requests:
                sent += 1
                body = _command_body(f"U{i:04d}", f"{api_base}/response_url/b")
                t0 = time.perf_counter()
                try:
                    resp = await http.post(f"{url}/slack/events", content=body, headers=_sign(body))
                    ok = resp.status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - t0)
                if not ok:
                    errors += 1

        await asyncio.gather(*(user_loop(i) for i in range(users)))
        elapsed = time.perf_counter() - start
    await asyncio.sleep(0.5)  # let the after-ack work drain before the next target
    return Result(name, len(latencies), errors, elapsed, latencies)


# --- orchestration -----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _child(
    args: list[str], ready: str | None = None, health: str | None = None, timeout: float = 30.0
) -> Iterator[subprocess.Popen[str]]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "bot"), str(ROOT)])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.slack_ack", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + timeout
        if ready is not None:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if not line.startswith(ready):
                raise RuntimeError(f"child {args[:2]} did not start: {line!r}")
        if health is not None:
            import httpx

            while True:
                try:
                    if httpx.get(health, timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"child {args[:2]} did not become healthy")
                time.sleep(0.1)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()


def run(
    users: int, seconds: float, max_requests: int, warmup: int, rounds: int = 2
) -> list[Result]:
    """Alternate the targets for `rounds` rounds (bare, dealcoach, bare, …) so background
    load on the machine hits both alike; results are merged per target."""
    merged: dict[str, Result] = {}
    for _ in range(rounds):
        for r in _run_once(users, seconds / rounds, max_requests // rounds, warmup):
            if r.name in merged:
                m = merged[r.name]
                m.requests += r.requests
                m.errors += r.errors
                m.seconds += r.seconds
                m.latencies += r.latencies
            else:
                merged[r.name] = r
    return list(merged.values())


def _run_once(users: int, seconds: float, max_requests: int, warmup: int) -> list[Result]:
    mock_port = _free_port()
    results: list[Result] = []
    with _child(["--serve", "mock", "--port", str(mock_port)], ready="READY"):
        api_base = f"http://127.0.0.1:{mock_port}"
        api_url = f"{api_base}/api/"
        with tempfile.TemporaryDirectory() as tmp:
            db = f"sqlite:///{tmp}/bench.db"
            targets = [
                ("bare Bolt (ack + views.open)", ["--serve", "bare", "--api", api_url]),
                ("dealcoach", ["--serve", "dealcoach", "--api", api_url, "--db", db]),
            ]
            for name, args in targets:
                port = _free_port()
                url = f"http://127.0.0.1:{port}"
                with _child([*args, "--port", str(port)], health=f"{url}/healthz"):
                    results.append(
                        asyncio.run(
                            _load(name, url, api_base, users, seconds, max_requests, warmup)
                        )
                    )
    return results


def table(results: list[Result], users: int) -> str:
    bare, ours = results[0], results[-1]
    ratio = ours.throughput / bare.throughput if bare.throughput else float("nan")
    lines = [
        f"Slash-command acks, {users} concurrent users, loopback "
        f"({time.strftime('%Y-%m-%d')}, Python {sys.version.split()[0]}, SQLite, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end)",
        "",
        "The bare app is Bolt with its defaults (a new aiohttp session per Web API call); "
        "dealcoach does its real after-ack work (users.info once per user, the draft query, "
        "views.update).",
        "",
        "| target | requests | errors | acks/s | p50 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {r.requests} | {r.errors} | {r.throughput:.0f} | "
            f"{r.p50 * 1000:.1f} | {r.pct(0.99) * 1000:.1f} | "
            f"{max(r.latencies, default=0) * 1000:.1f} |"
        )
    verdict_t = "met" if ratio >= 0.8 else "NOT met"
    verdict_p = "met" if ours.pct(0.99) < 0.3 else "NOT met"
    lines += [
        "",
        f"Throughput ratio dealcoach / bare Bolt: **{ratio:.2f}** (goal ≥ 0.8: {verdict_t}); "
        f"dealcoach p99 ack: **{ours.pct(0.99) * 1000:.0f} ms** (goal < 300 ms: {verdict_p}).",
    ]
    return "\n".join(lines)


def write_section(path: Path, text: str) -> None:
    body = f"## Slack: slash-command acknowledgement\n\n`python -m benchmarks.slack_ack`\n\n{text}"
    replace_section(path, MARK_BEGIN, MARK_END, body)

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.slack_ack",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--max-requests", type=int, default=50_000)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2, help="alternate the targets this often")
    parser.add_argument("--write", metavar="FILE", help="update this file's slack_ack section")
    parser.add_argument("--serve", choices=["mock", "bare", "dealcoach"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--api", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve == "mock":
        _serve_mock(args.port)
        return 0
    if args.serve == "bare":
        _serve_bare(args.port, args.api)
        return 0
    if args.serve == "dealcoach":
        _serve_dealcoach(args.port, args.api, args.db)
        return 0
    if not 1 <= args.users <= 256 or not 0 < args.seconds <= 600:
        parser.error("--users must be 1..256 and --seconds 0..600")
    if not 1 <= args.rounds <= 10:
        parser.error("--rounds must be 1..10")
    results = run(args.users, args.seconds, args.max_requests, args.warmup, args.rounds)
    text = table(results, args.users)
    print(text)
    if args.write:
        write_section(Path(args.write), text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
