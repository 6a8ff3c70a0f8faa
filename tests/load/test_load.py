"""Load: 50 salespeople on 2 `dealcoach serve` processes sharing one PostgreSQL schema.

Bounded and loopback only: `DEALCOACH_LOAD_SECONDS` (default 60; `.ci/run` sets 10) of
reviews started, each user finishing the review it is in. Every request is a signed HTTP
request to a server picked at random per request, so consecutive modal steps of one review
land on different processes. Afterwards: zero lost or duplicated reviews (every completed
review in the database exactly once with every answer as typed, one advice DM each), zero
5xx, every ack under 3 s. `DEALCOACH_LOAD_REPORT=path.json` writes the numbers (TESTING.md).
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest
from tests.conftest import PG_SKIP_REASON, create_pg_schema, drop_pg_schema, postgres_base_url
from tests.load.cluster import (
    ACK_LIMIT_SECONDS,
    audit,
    drain_advice,
    run_salespeople,
    servers,
    summary,
)
from tests.slack.mock_web_api import MockSlackWebApi

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def load_seconds() -> float:
    return float(os.environ.get("DEALCOACH_LOAD_SECONDS", "60"))


def load_users() -> int:
    return int(os.environ.get("DEALCOACH_LOAD_USERS", "50"))


def test_fifty_salespeople_on_two_servers_lose_and_double_nothing(tmp_path: Path) -> None:
    from dealcoach.store.engine import migrate

    base = postgres_base_url()
    if base is None:
        pytest.skip(PG_SKIP_REASON)
    seconds, users = load_seconds(), load_users()
    assert 0 < seconds <= 600 and 1 <= users <= 500, "load settings out of bounds"
    schema, url = create_pg_schema(base)
    try:
        migrate(url, "head")
        with MockSlackWebApi() as api, servers(2, url, api, tmp_path) as procs:
            tally = asyncio.run(
                run_salespeople([p.url for p in procs], api, users=users, seconds=seconds)
            )
            asyncio.run(drain_advice(api, len(tally.completed)))
            result = audit(url, tally, api.calls_to("chat.postMessage"))
            alive = [p.alive() for p in procs]
            logs = "\n".join(p.log() for p in procs)
    finally:
        drop_pg_schema(base, schema)

    numbers = summary(tally, result, users=users, seconds=seconds)
    print(json.dumps(numbers, indent=2))
    report = os.environ.get("DEALCOACH_LOAD_REPORT")
    if report:
        Path(report).write_text(json.dumps(numbers, indent=2) + "\n", "utf-8")

    assert all(alive), "a server process died under load"
    assert tally.failures == [], tally.failures[:10]
    assert result.problems == [], result.problems[:10]
    assert set(tally.statuses()) == {200}, tally.statuses()
    assert len(tally.completed) >= users, "fewer reviews than salespeople: the load did not run"
    assert result.drafts_in_db == 0
    slowest = max(s.seconds for s in tally.samples)
    assert slowest < ACK_LIMIT_SECONDS, f"slowest ack {slowest:.2f}s"
    assert "Traceback" not in logs, logs[-3000:]
