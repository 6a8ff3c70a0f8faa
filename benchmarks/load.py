"""Full reviews per second against the running server, SQLite and PostgreSQL, each as a ratio
of a bare Bolt app doing the minimum, in the same run.

    python -m benchmarks.load [--users 16] [--seconds 10] [--postgres URL] [--write BENCHMARKS.md]

Each target is a separate process on loopback talking to the same Web API stand-in
(tests/slack/mock_web_api.py, in this process), driven by the load test's simulated
salespeople (tests/load/cluster.py: signed slash command, wait for the modal, submit every
step until the modal clears), closed loop with no think time, `--users` at once:

- bare Bolt: acks `/dealcoach` and opens + fills a modal, answers each view_submission with
  `response_action: update` for as many steps as a real review has, then `clear` and one
  chat.postMessage — the protocol without a database or any coaching;
- dealcoach on SQLite (`dealcoach serve`, a fresh file, migrated at start);
- dealcoach on PostgreSQL (`dealcoach serve`, a fresh schema, migrated first), when
  `--postgres` or DEALCOACH_TEST_POSTGRES_URL names one.

Reported per target: reviews completed per second, requests, non-200 answers, ack latency
p50/p99/max (every HTTP request: commands and submissions), and the server process's peak
resident memory (VmHWM); then dealcoach's reviews/s as a ratio of the bare app's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import replace_section, serve_bare_bolt

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT, ROOT / "bot"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

MARK_BEGIN = "<!-- load:begin -->"
MARK_END = "<!-- load:end -->"
STEPS = 4  # submissions a bare "review" takes (a real one: 4, or 5 with a follow-up)


# --- the bare app (child process) --------------------------------------------------------------


def _serve_bare(port: int, api_url: str) -> None:
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient
    from tests.load.cluster import BOT_TOKEN
    from tests.slack.signing import SIGNING_SECRET

    bolt = AsyncApp(
        signing_secret=SIGNING_SECRET, client=AsyncWebClient(token=BOT_TOKEN, base_url=api_url)
    )

    def view(step: int) -> dict[str, Any]:
        return {
            "type": "modal",
            "callback_id": "dealcoach_review",
            "title": {"type": "plain_text", "text": "Deal review"},
            "submit": {"type": "plain_text", "text": "Next"},
            "private_metadata": str(step),
            "blocks": [
                {
                    "type": "input",
                    "block_id": "fit.need",
                    "label": {"type": "plain_text", "text": "Need"},
                    "element": {"type": "plain_text_input", "action_id": "value"},
                }
            ],
        }

    @bolt.command("/dealcoach")
    async def command(ack: Any, command: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        opened = await client.views_open(trigger_id=command["trigger_id"], view=view(1))
        await client.views_update(view_id=opened["view"]["id"], view=view(1))

    @bolt.view("dealcoach_review")
    async def submit(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        step = int(body["view"]["private_metadata"])
        if step < STEPS:
            await ack(response_action="update", view=view(step + 1))
            return
        await ack(response_action="clear")
        await client.chat_postMessage(channel=body["user"]["id"], text="advice")

    serve_bare_bolt(bolt, port)


# --- measuring ---------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    reviews: int
    requests: int
    errors: int
    seconds: float
    latencies: list[float]
    peak_rss_mb: float

    @property
    def per_second(self) -> float:
        return self.reviews / self.seconds if self.seconds else 0.0


def _peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


@contextlib.contextmanager
def _bare(api_url: str, workdir: Path) -> Iterator[tuple[str, int]]:
    import httpx
    from tests.load.cluster import free_port, server_env

    port = free_port()
    env = server_env("sqlite://", api_url)
    log = (workdir / "bare.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.load", "--serve-bare", str(port), "--api", api_url],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the bare Bolt app did not start")
            time.sleep(0.1)
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


@contextlib.contextmanager
def _dealcoach(database_url: str, api_url: str, workdir: Path) -> Iterator[tuple[str, int]]:
    from tests.load.cluster import ServerProcess, server_env

    server = ServerProcess(server_env(database_url, api_url), workdir / "dealcoach.log").start()
    try:
        assert server.proc is not None
        yield server.url, server.proc.pid
    finally:
        server.stop()


def _measure(name: str, target: Any, users: int, seconds: float, workdir: Path) -> Result:
    from tests.load.cluster import run_salespeople
    from tests.slack.mock_web_api import MockSlackWebApi

    with MockSlackWebApi() as api, target(api.url, workdir) as (url, pid):
        started = time.perf_counter()
        tally = asyncio.run(
            run_salespeople([url], api, users=users, seconds=seconds, think=(0.0, 0.0))
        )
        elapsed = time.perf_counter() - started
        peak = _peak_rss_mb(pid)
    errors = sum(1 for s in tally.samples if s.status != 200)
    return Result(
        name,
        len(tally.completed),
        len(tally.samples),
        errors,
        elapsed,
        [s.seconds for s in tally.samples],
        peak,
    )


def run(users: int, seconds: float, postgres: str | None) -> list[Result]:
    from dealcoach.store.engine import migrate

    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        results.append(_measure("bare Bolt (protocol only)", _bare, users, seconds, workdir))
        sqlite_url = f"sqlite:///{workdir / 'bench.db'}"
        results.append(
            _measure(
                "dealcoach, SQLite",
                lambda api, wd: _dealcoach(sqlite_url, api, wd),
                users,
                seconds,
                workdir,
            )
        )
        if postgres:
            from tests.conftest import create_pg_schema, drop_pg_schema

            schema, pg_url = create_pg_schema(postgres)
            try:
                migrate(pg_url, "head")
                results.append(
                    _measure(
                        "dealcoach, PostgreSQL",
                        lambda api, wd: _dealcoach(pg_url, api, wd),
                        users,
                        seconds,
                        workdir,
                    )
                )
            finally:
                drop_pg_schema(postgres, schema)
    return results


def _pct(data: list[float], q: float) -> float:
    from tests.load.cluster import pct

    return pct(data, q)


def table(results: list[Result], users: int, seconds: float) -> str:
    bare = results[0]
    machine = (
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
        f"load average {os.getloadavg()[0]:.1f} at the end"
    )
    lines = [
        f"Full reviews, {users} concurrent simulated salespeople, no think time, "
        f"{seconds:g} s a target, loopback ({time.strftime('%Y-%m-%d')}; {machine}). "
        "Latency is every HTTP answer (command acks and step submissions).",
        "",
        "| target | reviews/s | ratio to bare | requests | non-200 | p50 ms | p99 ms | max ms "
        "| peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        ratio = r.per_second / bare.per_second if bare.per_second else float("nan")
        lines.append(
            f"| {r.name} | {r.per_second:.1f} | {ratio:.2f} | {r.requests} | {r.errors} | "
            f"{_pct(r.latencies, 0.5) * 1000:.0f} | {_pct(r.latencies, 0.99) * 1000:.0f} | "
            f"{max(r.latencies, default=0) * 1000:.0f} | {r.peak_rss_mb:.0f} |"
        )
    lines += [
        "",
        "The bare app answers each step from memory; dealcoach validates and saves every "
        "step, runs the review state machine, completes idempotently, assesses, renders the "
        "advice and sends it with the DESIGN.md metadata. The load generator and the Web API "
        "stand-in share the machine with the server.",
    ]
    return "\n".join(lines)


def write_section(path: Path, text: str) -> None:
    title = "## Full reviews per second (SQLite, PostgreSQL, bare Bolt)"
    body = f"{title}\n\n`python -m benchmarks.load`\n\n{text}"
    replace_section(path, MARK_BEGIN, MARK_END, body)

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.load",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--postgres", default=os.environ.get("DEALCOACH_TEST_POSTGRES_URL"))
    parser.add_argument("--write", metavar="FILE", help="update this file's load section")
    parser.add_argument("--serve-bare", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--api", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_bare:
        _serve_bare(args.serve_bare, args.api)
        return 0
    if not 1 <= args.users <= 256 or not 0 < args.seconds <= 600:
        parser.error("--users must be 1..256 and --seconds 0..600")
    results = run(args.users, args.seconds, args.postgres)
    text = table(results, args.users, args.seconds)
    print(text)
    if args.write:
        write_section(Path(args.write), text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
