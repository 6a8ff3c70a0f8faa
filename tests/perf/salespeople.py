"""Simulated salespeople for tests/perf/test_overload.py, in a load-generator process of its own.

    python -m tests.perf.salespeople --target SERVER_URL --api STANDIN_URL --name G1

The test starts several of these (so the load is not made by one Python process with one
GIL), then sends each one phase at a time as a JSON line on stdin; the generator answers one
JSON line on stdout when the phase is over (every review it started finished or given up):

- `{"phase": "closed", "users": U, "seconds": S, "start_at": T}`: U salespeople complete
  reviews back to back, no think time, from wall-clock time T for S seconds (each one
  finishes the review it is in) — the server's capacity;
- `{"phase": "open", "rate": R, "seconds": S, "start_at": T}`: a new salesperson every 1/R s
  from T for S seconds, whatever the answers (open loop), each going through every step at
  once.

A review: a signed `/dealcoach <deal>`, then the filled modal from the Web API stand-in
(benchmarks/standin.py's long poll `/_bench/modal`: the views.update calls the server made
for the view opened with this command's trigger_id), then every step as a signed
`view_submission` until `response_action: clear`. A step acknowledged with the "saving…" view
is followed like Slack's modal shows it: the next views.update of that view (the next step,
or the done view after the last one).

Counted as an error screen (`errors`): an HTTP answer that is not 200 or comes after Slack's
3 s, any other `response_action` (`errors`: nothing invalid is typed), a view that is not a
review step where one belongs, a modal never filled, a "saving…" never replaced. Each
generator measures its own requests (`latencies`: every HTTP answer to the server) and its own
CPU and event-loop lag (`lag_max`: how late a 20 ms timer fired at worst — how much of a
latency could be this process's own delay).
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import random
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from tests.load.cluster import unique_answers
from tests.slack.driver import SCENARIOS
from tests.slack.harness import load_payload, state_values
from tests.slack.signing import form_body, interactive_body, signed_headers

SLACK_TIMEOUT = 3.0
WAIT = 90.0  # how long a salesperson waits for a modal update under overload
DONE = "\u2705"  # the done view's first character (a "saving…" after the last step)
JSON = dict[str, Any]

_PAYLOADS = {name: load_payload(name) for name in ("slash_command", "view_submission")}


def payload(name: str) -> JSON:
    return copy.deepcopy(_PAYLOADS[name])


@dataclass
class Phase:
    name: str
    started: int = 0
    completed: list[list[Any]] = field(default_factory=list)  # user, review id, scenario, answers
    errors: list[str] = field(default_factory=list)
    saving: int = 0  # steps acknowledged with "saving…" (then replaced: not an error)
    latencies: list[float] = field(default_factory=list)
    lag_max: float = 0.0

    def report(self, seconds: float, cpu: float) -> JSON:
        return {
            "phase": self.name,
            "started": self.started,
            "completed": self.completed,
            "errors": self.errors,
            "saving": self.saving,
            "latencies": [round(x, 4) for x in self.latencies],
            "lag_max": round(self.lag_max, 4),
            "seconds": round(seconds, 3),
            "cpu": round(cpu, 3),
        }


class Generator:
    def __init__(self, target: str, api: str, name: str, server: Any, standin: Any) -> None:
        self.target = target
        self.api = api
        self.name = name
        self.server = server  # aiohttp session for the dealcoach server
        self.standin = standin  # and one for the Web API stand-in's long polls
        self.users = 0

    async def post(self, body: str, run: Phase, who: str) -> JSON | None:
        started = time.perf_counter()
        try:
            async with self.server.post(
                f"{self.target}/slack/events", data=body.encode(), headers=signed_headers(body)
            ) as resp:
                raw = await resp.read()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            run.errors.append(f"{who}: {type(exc).__name__} {exc}"[:300])
            return None
        elapsed = time.perf_counter() - started
        run.latencies.append(elapsed)
        if status != 200:
            run.errors.append(f"{who}: HTTP {status} after {elapsed:.1f}s")
            return None
        if elapsed > SLACK_TIMEOUT:
            run.errors.append(f"{who}: answered after {elapsed:.1f}s (Slack shows an error)")
        parsed: JSON = json.loads(raw) if raw else {}
        return parsed

    async def modal(self, trigger: str, n: int) -> JSON | None:
        """The n-th views.update of the view opened with `trigger` (None: not within WAIT)."""
        params = {"trigger": trigger, "n": str(n), "timeout": str(WAIT)}
        try:
            async with self.standin.get(f"{self.api}/_bench/modal", params=params) as resp:
                if resp.status != 200:
                    return None
                found: JSON = await resp.json()
                return found
        except (aiohttp.ClientError, TimeoutError):
            return None

    async def review(self, run: Phase, user: str) -> None:
        """One salesperson, one review, every step at once."""
        run.started += 1
        scenario = random.Random(user).choice(sorted(SCENARIOS))
        answers = unique_answers(scenario, user, 1)
        fields = payload("slash_command")
        trigger = f"{int(time.time())}.{uuid.uuid4().hex}"
        fields.update(
            user_id=user,
            user_name=user.lower(),
            text=f"Deal {user}-1",
            trigger_id=trigger,
            response_url=f"{self.api}/response_url/{user}",
        )
        if await self.post(form_body(fields), run, f"{user} command") is None:
            return
        updates = 1
        found = await self.modal(trigger, updates)
        if found is None:
            run.errors.append(f"{user}: modal never filled (waited {WAIT:g}s)")
            return
        view_id, view = found["view_id"], found["view"]
        review_id = int(view["private_metadata"])
        for step in range(12):
            if view.get("callback_id") != "dealcoach_review":
                run.errors.append(f"{user}: step {step} shows {json.dumps(view)[:200]}")
                return
            submission = payload("view_submission")
            submission["user"].update(id=user, username=user.lower(), name=user)
            submission["view"].update(view)
            submission["view"]["id"] = view_id
            values = {
                b["block_id"]: answers[b["block_id"]]
                for b in view["blocks"]
                if b["type"] == "input" and b["block_id"] in answers
            }
            submission["view"]["state"] = {"values": state_values(view, values)}
            body = await self.post(interactive_body(submission), run, f"{user} step {step}")
            if body is None:
                return
            action = body.get("response_action")
            if action == "clear":
                run.completed.append([user, review_id, scenario, answers])
                return
            if action != "update":
                run.errors.append(f"{user}: step {step} answered {json.dumps(body)[:200]}")
                return
            view = body["view"]
            if view.get("callback_id") == "dealcoach_loading":  # "saving…": wait for the update
                run.saving += 1
                updates += 1
                found = await self.modal(trigger, updates)
                if found is None:
                    run.errors.append(f"{user}: saving… never replaced (waited {WAIT:g}s)")
                    return
                view = found["view"]
                if view.get("callback_id") == "dealcoach_loading":
                    if DONE in json.dumps(view, ensure_ascii=False):  # the done view
                        run.completed.append([user, review_id, scenario, answers])
                        return
                    run.errors.append(f"{user}: step {step} then {json.dumps(view)[:200]}")
                    return
        run.errors.append(f"{user}: review {review_id} did not finish")

    def user(self) -> str:
        self.users += 1
        return f"U{self.name}N{self.users:05d}"

    async def closed(self, run: Phase, users: int, deadline: float) -> None:
        async def person() -> None:
            while time.monotonic() < deadline:
                await self.review(run, self.user())

        await asyncio.gather(*(person() for _ in range(users)))

    async def open(self, run: Phase, rate: float, seconds: float) -> None:
        tasks = []
        started = time.monotonic()
        n = 0
        while time.monotonic() - started < seconds:
            tasks.append(asyncio.create_task(self.review(run, self.user())))
            n += 1
            await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
        await asyncio.gather(*tasks)


async def _watch_lag(run: Phase, every: float = 0.02) -> None:
    while True:
        before = time.perf_counter()
        await asyncio.sleep(every)
        run.lag_max = max(run.lag_max, time.perf_counter() - before - every)


async def _phase(gen: Generator, command: JSON) -> JSON:
    run = Phase(str(command["phase"]))
    await asyncio.sleep(max(0.0, float(command["start_at"]) - time.time()))
    watcher = asyncio.create_task(_watch_lag(run))
    cpu0, started = time.process_time(), time.monotonic()
    seconds = float(command["seconds"])
    if run.name == "closed":
        await gen.closed(run, int(command["users"]), started + seconds)
    elif run.name == "open":
        await gen.open(run, float(command["rate"]), seconds)
    else:
        raise ValueError(f"unknown phase {run.name!r}")
    elapsed, cpu = time.monotonic() - started, time.process_time() - cpu0
    watcher.cancel()
    return run.report(elapsed, cpu)


async def _main(args: argparse.Namespace) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    # No pool limit: an open loop holds one request per review in flight (Slack, too, opens
    # as many connections as it needs). The server's answers are bounded by Slack's 3 s
    # plus slack; a long poll by WAIT.
    server_http = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=60)
    )
    standin_http = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=WAIT + 30)
    )
    async with server_http, standin_http:
        gen = Generator(args.target, args.api, args.name, server_http, standin_http)
        print(json.dumps({"ready": args.name}), flush=True)
        while line := await reader.readline():
            print(json.dumps(await _phase(gen, json.loads(line))), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.perf.salespeople")
    parser.add_argument("--target", required=True, help="the dealcoach server's base URL")
    parser.add_argument("--api", required=True, help="benchmarks/standin.py's base URL")
    parser.add_argument("--name", required=True, help="a prefix for this process's user ids")
    args = parser.parse_args(argv)
    asyncio.run(_main(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
