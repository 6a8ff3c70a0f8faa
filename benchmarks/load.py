"""Full reviews per second and server CPU per full review, SQLite and PostgreSQL, each as a
ratio of a bare Bolt app doing the minimum, in the same run.

    python -m benchmarks.load [--users 16] [--generators 4] [--seconds 10] [--postgres URL]
                              [--write BENCHMARKS.md]

Every side is a process of its own on loopback, so the reader sees which side limits:

- the target server: a bare Bolt app (acks `/dealcoach`, opens + fills a modal, answers each
  view_submission with `response_action: update` for as many pages as a real review has, then
  `clear` and one chat.postMessage: the protocol without a database or any coaching), then
  dealcoach on SQLite (`dealcoach serve`, a fresh file, migrated at start), then dealcoach on
  PostgreSQL (a fresh schema, migrated first) when `--postgres` or DEALCOACH_TEST_POSTGRES_URL
  names one;
- the Slack Web API stand-in (`benchmarks/standin.py`, asynchronous, with a long-poll endpoint
  for "the modal my command opened");
- `--generators` load-generator processes (aiohttp, no view validation) sharing `--users`
  simulated salespeople: signed slash command, wait for the filled modal, submit every step
  until the modal clears, closed loop, no think time.

Reported per target: reviews completed per second, server CPU per full review (utime + stime
of the server process from /proc/<pid>/stat over the run, after-ack work such as the advice DM
included, divided by the reviews completed), each side's CPU as a share of one core, requests,
non-200 answers, latency p50/p99/max (every HTTP answer), the server's peak RSS; then the
ratios to the bare app. PostgreSQL's own backends are not in "server CPU".
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import replace_section, serve_bare_bolt

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT, ROOT / "bot"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

MARK_BEGIN = "<!-- load:begin -->"
MARK_END = "<!-- load:end -->"


def _pages() -> int:
    """Page submissions a review takes: the question bank's pages (3 since the warning
    signals joined the mutual-benefit page), so the bare app does as many round trips."""
    from dealcoach.coach.bank import load_bank

    return len(load_bank("en").pages)


JSON = dict[str, Any]
CPU_GOAL = 3.0  # issue 14: server CPU per review at most 3x the bare app's
RATE_GOAL = 0.5  # and at least half its reviews/s


# --- the bare app (child process) --------------------------------------------------------------


def _serve_bare(port: int, api_url: str) -> None:
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient
    from tests.load.cluster import BOT_TOKEN
    from tests.slack.signing import SIGNING_SECRET

    bolt = AsyncApp(
        signing_secret=SIGNING_SECRET, client=AsyncWebClient(token=BOT_TOKEN, base_url=api_url)
    )
    steps = _pages()

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
        if step < steps:
            await ack(response_action="update", view=view(step + 1))
            return
        await ack(response_action="clear")
        await client.chat_postMessage(channel=body["user"]["id"], text="advice")

    serve_bare_bolt(bolt, port)


# --- a load-generator process ---------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (/proc/<pid>/stat), in seconds."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return float("nan")
    fields = raw[raw.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _salesperson(
    http: Any, target: str, api: str, user: str, deadline: float, rng: random.Random, out: JSON
) -> None:
    from tests.load.cluster import unique_answers
    from tests.slack.driver import SCENARIOS
    from tests.slack.harness import load_payload, state_values
    from tests.slack.signing import form_body, interactive_body, signed_headers

    async def post(body: str) -> Any:
        started = time.perf_counter()
        try:
            async with http.post(
                f"{target}/slack/events", data=body.encode(), headers=signed_headers(body)
            ) as resp:
                text = await resp.text()
                out["samples"].append([resp.status, time.perf_counter() - started])
                if resp.status != 200:
                    out["failures"].append(f"{user}: HTTP {resp.status}")
                    return None
                return json.loads(text) if text else {}
        except Exception as exc:  # counted; the user goes on
            out["samples"].append([0, time.perf_counter() - started])
            out["failures"].append(f"{user}: {type(exc).__name__}")
            return None

    n = 0
    scenarios = sorted(SCENARIOS)
    while time.monotonic() < deadline:
        n += 1
        answers = unique_answers(rng.choice(scenarios), user, n)
        fields = load_payload("slash_command")
        trigger = f"{int(time.time())}.{uuid.uuid4().hex}"
        fields.update(
            user_id=user,
            user_name=user.lower(),
            text=f"Deal {user}-{n}",
            trigger_id=trigger,
            response_url=f"{api}/response_url/{user}",
        )
        if await post(form_body(fields)) is None:
            continue
        async with http.get(f"{api}/_bench/modal", params={"trigger": trigger, "n": "1"}) as r:
            if r.status != 200:
                out["failures"].append(f"{user}: no modal for {trigger}")
                continue
            found = await r.json()
        view = {**found["view"], "id": found["view_id"]}
        if view.get("callback_id") != "dealcoach_review":
            out["failures"].append(f"{user}: got {view.get('callback_id')}, not a review")
            continue
        for _ in range(12):
            payload = load_payload("view_submission")
            payload["user"].update(id=user, username=user.lower(), name=user)
            payload["view"].update(view)
            values = {
                b["block_id"]: answers[b["block_id"]]
                for b in view["blocks"]
                if b["type"] == "input" and b["block_id"] in answers
            }
            payload["view"]["state"] = {"values": state_values(view, values)}
            body = await post(interactive_body(payload))
            if body is None:
                break
            action = body.get("response_action")
            if action == "clear":
                out["reviews"] += 1
                break
            if action != "update":
                out["failures"].append(f"{user}: {json.dumps(body)[:200]}")
                break
            view = {**body["view"], "id": found["view_id"]}


async def _generate(args: argparse.Namespace) -> JSON:
    import aiohttp

    out: JSON = {"reviews": 0, "samples": [], "failures": []}
    delay = args.start_at - time.time()
    if delay > 0:
        await asyncio.sleep(delay)
    cpu0 = time.process_time()
    started = time.monotonic()
    deadline = started + args.seconds
    rng = random.Random(args.seed)
    connector = aiohttp.TCPConnector(limit=args.users * 2)
    timeout = aiohttp.ClientTimeout(total=20)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        await asyncio.gather(
            *(
                _salesperson(
                    http,
                    args.target,
                    args.api,
                    f"U{args.seed:02d}{i:03d}LOAD",
                    deadline,
                    random.Random(rng.random()),
                    out,
                )
                for i in range(args.users)
            )
        )
    out["seconds"] = time.monotonic() - started
    out["cpu"] = time.process_time() - cpu0
    return out


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
    server_cpu: float = 0.0  # seconds over the run
    standin_cpu: float = 0.0
    generator_cpu: float = 0.0
    failures: list[str] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.reviews / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_review(self) -> float:
        return self.server_cpu / self.reviews * 1000 if self.reviews else float("nan")

    def share(self, cpu: float) -> float:
        """CPU seconds as a percentage of one core over the run."""
        return cpu / self.seconds * 100 if self.seconds else float("nan")


def _peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def wait_http(
    url: str, proc: subprocess.Popen[bytes], what: str, log: Path | None = None
) -> None:
    """Until `url` answers 200; RuntimeError (with the end of `log`, if given) when `proc`
    exits or 30 s pass first."""
    import httpx

    deadline = time.monotonic() + 30
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code == 200:
                return
        if proc.poll() is not None or time.monotonic() > deadline:
            tail = f":\n{log.read_text()[-3000:]}" if log is not None and log.exists() else ""
            raise RuntimeError(f"{what} did not start{tail}")
        time.sleep(0.05)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "bot"), str(ROOT)])
    return env


@contextlib.contextmanager
def _standin(workdir: Path) -> Iterator[tuple[str, int]]:
    from tests.load.cluster import free_port

    port = free_port()
    log = (workdir / "standin.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.standin", str(port)],
        cwd=ROOT,
        env=_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/healthz", proc, "the Web API stand-in")
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


@contextlib.contextmanager
def _bare(api_url: str, workdir: Path) -> Iterator[tuple[str, int]]:
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
        wait_http(f"{url}/healthz", proc, "the bare Bolt app")
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


def _advice_count(api: str, bare: bool) -> int:
    import httpx

    stats = httpx.get(f"{api}/_bench/stats", timeout=5).json()
    return int(stats["posts"] if bare else stats["advice"])


def _measure(
    name: str, target: Any, users: int, generators: int, seconds: float, workdir: Path
) -> Result:
    bare = name.startswith("bare")
    with _standin(workdir) as (api, api_pid), target(f"{api}/api/", workdir) as (url, pid):
        start_at = time.time() + 3.0  # every generator imported and waiting
        per = [users // generators + (i < users % generators) for i in range(generators)]
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "benchmarks.load",
                    "--generate",
                    "--target",
                    url,
                    "--api",
                    api,
                    "--users",
                    str(n),
                    "--seconds",
                    str(seconds),
                    "--seed",
                    str(i + 1),
                    "--start-at",
                    str(start_at),
                ],
                cwd=ROOT,
                env=_env(),
                stdout=subprocess.PIPE,
            )
            for i, n in enumerate(per)
            if n
        ]
        time.sleep(max(0.0, start_at - time.time()))
        server0, api0 = cpu_seconds(pid), cpu_seconds(api_pid)
        outs = [json.loads(p.communicate(timeout=seconds + 120)[0]) for p in procs]
        reviews = sum(o["reviews"] for o in outs)
        # Work after the ack (the advice DM, App Home) belongs to the review: wait for it.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _advice_count(api, bare) < reviews:
            time.sleep(0.1)
        time.sleep(0.3)
        server_cpu, api_cpu = cpu_seconds(pid) - server0, cpu_seconds(api_pid) - api0
        peak = _peak_rss_mb(pid)
    samples = [s for o in outs for s in o["samples"]]
    return Result(
        name,
        reviews,
        len(samples),
        sum(1 for s in samples if s[0] != 200),
        max(o["seconds"] for o in outs),
        [s[1] for s in samples],
        peak,
        server_cpu=server_cpu,
        standin_cpu=api_cpu,
        generator_cpu=sum(o["cpu"] for o in outs),
        failures=[f for o in outs for f in o["failures"]][:10],
    )


def run(users: int, generators: int, seconds: float, postgres: str | None) -> list[Result]:
    from dealcoach.store.engine import migrate

    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        results.append(
            _measure("bare Bolt (protocol only)", _bare, users, generators, seconds, workdir)
        )
        sqlite_url = f"sqlite:///{workdir / 'bench.db'}"
        results.append(
            _measure(
                "dealcoach, SQLite",
                lambda api, wd: _dealcoach(sqlite_url, api, wd),
                users,
                generators,
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
                        generators,
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


def table(results: list[Result], users: int, generators: int, seconds: float) -> str:
    bare = results[0]
    machine = (
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
        f"load average {os.getloadavg()[0]:.1f} at the end"
    )
    lines = [
        f"Full reviews, {users} concurrent simulated salespeople in {generators} load-generator "
        f"processes, no think time, {seconds:g} s a target, loopback "
        f"({time.strftime('%Y-%m-%d')}; {machine}). Server, Web API stand-in and generators "
        "are separate processes; CPU is each one's utime + stime over the run, as a share of "
        "one core. Latency is every HTTP answer (command acks and step submissions).",
        "",
        "| target | reviews/s | ratio to bare | server CPU ms/review | CPU ratio to bare "
        "| server CPU | generators CPU | stand-in CPU | requests | non-200 | p50 ms | p99 ms "
        "| max ms | peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        ratio = r.per_second / bare.per_second if bare.per_second else float("nan")
        cpu_ratio = r.cpu_ms_per_review / bare.cpu_ms_per_review
        lines.append(
            f"| {r.name} | {r.per_second:.1f} | {ratio:.2f} | {r.cpu_ms_per_review:.1f} | "
            f"{cpu_ratio:.1f}× | {r.share(r.server_cpu):.0f} % | "
            f"{r.share(r.generator_cpu):.0f} % | {r.share(r.standin_cpu):.0f} % | "
            f"{r.requests} | {r.errors} | "
            f"{_pct(r.latencies, 0.5) * 1000:.0f} | {_pct(r.latencies, 0.99) * 1000:.0f} | "
            f"{max(r.latencies, default=0) * 1000:.0f} | {r.peak_rss_mb:.0f} |"
        )
    verdicts = []
    for r in results[1:]:
        rate = r.per_second / bare.per_second if bare.per_second else float("nan")
        cpu = r.cpu_ms_per_review / bare.cpu_ms_per_review
        verdicts.append(
            f"{r.name}: reviews/s {rate:.2f}× bare (goal ≥ {RATE_GOAL}: "
            f"{'met' if rate >= RATE_GOAL else 'not met'}), server CPU per review {cpu:.1f}× "
            f"bare (goal ≤ {CPU_GOAL:g}×: {'met' if cpu <= CPU_GOAL else 'not met'})."
        )
    lines += [
        "",
        "Issue 14's goals: " + " ".join(verdicts),
        "",
        "The bare app answers each step from memory; dealcoach validates and saves every "
        "step, runs the review state machine, completes idempotently, assesses, renders the "
        "advice and sends it with the DESIGN.md metadata. A server process uses at most one "
        "core (asyncio): a server CPU near 100 % means the server limits, otherwise the "
        "generators, the stand-in or (PostgreSQL) the database's backends — all on the same "
        "2 cores — do.",
    ]
    failures = [f for r in results for f in r.failures]
    if failures:
        lines += ["", "First failures seen: " + "; ".join(failures[:5])]
    return "\n".join(lines)


def write_section(path: Path, text: str) -> None:
    title = "## Full reviews per second and server CPU per review (SQLite, PostgreSQL, bare Bolt)"
    body = f"{title}\n\n`python -m benchmarks.load`\n\n{text}"
    replace_section(path, MARK_BEGIN, MARK_END, body)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.load",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--generators", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--postgres", default=os.environ.get("DEALCOACH_TEST_POSTGRES_URL"))
    parser.add_argument("--write", metavar="FILE", help="update this file's load section")
    parser.add_argument("--serve-bare", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--api", help=argparse.SUPPRESS)
    parser.add_argument("--generate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--target", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--start-at", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_bare:
        _serve_bare(args.serve_bare, args.api)
        return 0
    if args.generate:
        print(json.dumps(asyncio.run(_generate(args))))
        return 0
    if not 1 <= args.users <= 256 or not 0 < args.seconds <= 600:
        parser.error("--users must be 1..256 and --seconds 0..600")
    if not 1 <= args.generators <= 16:
        parser.error("--generators must be 1..16")
    results = run(args.users, args.generators, args.seconds, args.postgres)
    text = table(results, args.users, args.generators, args.seconds)
    print(text)
    if args.write:
        write_section(Path(args.write), text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
