"""Twice the capacity, and nobody sees an error for a saved step (issue 14).

One real `dealcoach serve` process (SQLite file or PostgreSQL schema), the Web API stand-in
(benchmarks/standin.py) in a process of its own, and the simulated salespeople in
GENERATORS load-generator processes (tests/perf/salespeople.py): the test process itself
only starts them, hands out the phases and audits, so the load generator is not what is late.

First the server's capacity is measured: CAPACITY_USERS salespeople completing reviews back
to back, no think time (closed loop) → C full reviews a second. Then new reviews arrive at
2 × C a second for OVERLOAD_SECONDS (open loop: arrivals do not wait for answers), each one
a new salesperson going through every step at once (as many steps as the review has: each
submits until `clear`).

A step the server cannot answer within its budget is acknowledged with a "saving…" view and
followed by `views.update` (with the next step, or the done view after the last one): the
salesperson waits for that update, as Slack's modal would show it. Counted as an error
screen: any HTTP answer that is not 200 or comes after Slack's 3 s (timed by the generator
that sent it), a `response_action: errors` (nothing invalid is typed), a message view where a
step or the done view belongs, a modal never filled. Afterwards every review that was started
must be in the database, completed, with every answer as typed, and have had one advice DM
(tests/load/cluster.py's audit over the stand-in's `/_bench/posts`), with no draft left and
no Traceback in the server's log.

The printed summary gives each side's CPU over each phase as a share of one core (server,
generators, stand-in, this test process, PostgreSQL's processes — anyone's on the machine —
and the rest of the machine: other users), the generators' worst event-loop lag (how much of
a latency could be the harness's own delay) and the server's own view of its acks
(`dealcoach_slack_ack_seconds` on /metrics, timed from the request's arrival in the app), so
a reader sees who limits and who was late. `DEALCOACH_OVERLOAD_REPORT=path` appends that
summary to a file (pytest-xdist hides `-s` output), `DEALCOACH_OVERLOAD_ERRORS=path` writes
every error screen there; `DEALCOACH_OVERLOAD_SECONDS` lengthens the overload phase (default 6).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from benchmarks.load import wait_http
from tests.load.cluster import (
    ROOT,
    Audit,
    Completed,
    ServerProcess,
    Tally,
    audit,
    free_port,
    pct,
    server_env,
)
from tests.slack.mock_web_api import Call

from dealcoach.store.engine import migrate

pytestmark = pytest.mark.slow

SLACK_TIMEOUT = 3.0
GENERATORS = 4
CAPACITY_USERS = 8
CAPACITY_SECONDS = 5.0
OVERLOAD_FACTOR = 2.0
PHASE_TIMEOUT = 300.0  # a generator that has not reported by then is stuck
JSON = dict[str, Any]


def overload_seconds() -> float:
    seconds = float(os.environ.get("DEALCOACH_OVERLOAD_SECONDS", "6"))
    assert 0 < seconds <= 120, "DEALCOACH_OVERLOAD_SECONDS out of bounds"
    return seconds


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "bot"), str(ROOT)])
    return env


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (/proc/<pid>/stat), in seconds."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    fields = raw[raw.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu() -> dict[int, float]:
    """CPU seconds so far of every PostgreSQL process on the machine (its backends: this
    test's and anyone else's), by pid."""
    found: dict[int, float] = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                if (proc / "comm").read_text().strip() == "postgres":
                    found[int(proc.name)] = cpu_seconds(int(proc.name))
    return found


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far (/proc/stat, every core)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # without guest time, which is counted in user already
    tick = os.sysconf("SC_CLK_TCK")
    return (total - idle) / tick, total / tick


@dataclass
class StandIn:
    url: str
    pid: int
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text("utf-8", errors="replace")

    def stats(self) -> JSON:
        stats: JSON = httpx.get(f"{self.url}/_bench/stats", timeout=10).json()
        return stats

    def posts(self) -> list[Call]:
        """Every chat.postMessage it received, as the in-process stand-in's calls."""
        raw = httpx.get(f"{self.url}/_bench/posts", timeout=30).json()["posts"]
        return [
            Call("chat.postMessage", "POST", "/api/chat.postMessage", {}, dict(p), 0.0) for p in raw
        ]


@contextlib.contextmanager
def standin(workdir: Path) -> Iterator[StandIn]:
    """benchmarks/standin.py in a process of its own."""
    port = free_port()
    log_path = workdir / "standin.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.standin", str(port)],
            cwd=ROOT,
            env=_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_http(f"{url}/healthz", proc, "the Web API stand-in", log_path)
        yield StandIn(url, proc.pid, log_path)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - a hung shutdown
            proc.kill()
            proc.wait(timeout=10)


class Generators:
    """GENERATORS processes of tests/perf/salespeople.py, one phase at a time."""

    def __init__(self, target: str, api: str, workdir: Path, count: int) -> None:
        self.procs: list[subprocess.Popen[str]] = []
        self.logs = [workdir / f"generator{i + 1}.log" for i in range(count)]
        for i, log_path in enumerate(self.logs):
            with log_path.open("wb") as log:
                self.procs.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            "-m",
                            "tests.perf.salespeople",
                            "--target",
                            target,
                            "--api",
                            api,
                            "--name",
                            f"G{i + 1}",
                        ],
                        cwd=ROOT,
                        env=_env(),
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        stderr=log,
                        text=True,
                    )
                )

    def _read(self, i: int, timeout: float = PHASE_TIMEOUT) -> JSON:
        proc = self.procs[i]
        assert proc.stdout is not None
        # One line per phase, nothing buffered beyond it: select() sees what readline() reads.
        if not select.select([proc.stdout], [], [], timeout)[0]:
            proc.kill()
            raise RuntimeError(f"generator {i + 1} did not report within {timeout:g} s")
        line = proc.stdout.readline()
        if not line:
            proc.wait(timeout=10)
            raise RuntimeError(
                f"generator {i + 1} exited {proc.returncode}:\n{self.logs[i].read_text()[-3000:]}"
            )
        answer: JSON = json.loads(line)
        return answer

    def ready(self) -> None:
        for i in range(len(self.procs)):
            self._read(i)

    def run(self, commands: list[JSON]) -> list[JSON]:
        """Send each generator its phase; wait for every one's report."""
        for proc, command in zip(self.procs, commands, strict=True):
            assert proc.stdin is not None
            proc.stdin.write(json.dumps(command) + "\n")
            proc.stdin.flush()
        return [self._read(i) for i in range(len(self.procs))]

    def stop(self) -> None:
        for proc in self.procs:
            if proc.stdin is not None:
                with contextlib.suppress(OSError):
                    proc.stdin.close()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover - a hung generator
                proc.kill()
                proc.wait(timeout=10)


@dataclass
class Run:
    """The generators' reports of one phase, merged."""

    reports: list[JSON]
    started: int = 0
    completed: list[Completed] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    saving: int = 0
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    cpu: float = 0.0
    lag_max: float = 0.0

    def __post_init__(self) -> None:
        for r in self.reports:
            self.started += r["started"]
            self.completed += [Completed(u, int(i), s, a) for u, i, s, a in r["completed"]]
            self.errors += r["errors"]
            self.saving += r["saving"]
            self.latencies += r["latencies"]
            self.seconds = max(self.seconds, r["seconds"])
            self.cpu += r["cpu"]
            self.lag_max = max(self.lag_max, r["lag_max"])


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (i < total % parts) for i in range(parts)]


def server_acks(server_url: str) -> dict[str, float]:
    """The server's own ack histogram (`dealcoach_slack_ack_seconds{mode="http"}`): count,
    and how many took longer than 2 s and than 3 s (its buckets end at 1, 2, 3, 5 s)."""
    text = httpx.get(f"{server_url}/metrics", timeout=10).text
    buckets: dict[float, float] = {}
    for line in text.splitlines():
        if line.startswith("dealcoach_slack_ack_seconds_bucket{") and 'mode="http"' in line:
            le = line.split('le="', 1)[1].split('"', 1)[0]
            buckets[math.inf if le == "+Inf" else float(le)] = float(line.rsplit(" ", 1)[1])
    count = buckets.get(math.inf, 0.0)
    return {
        "count": count,
        "over_2s": count - buckets.get(2.0, count),
        "over_3s": count - buckets.get(3.0, count),
    }


def drain_advice(api: StandIn, expected: int, timeout: float = 60) -> None:
    """Wait until `expected` advice DMs were posted (they are sent after the ack)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and int(api.stats()["advice"]) < expected:
        time.sleep(0.1)
    time.sleep(0.5)  # and anything that would come after (a duplicate)


@dataclass
class Cpu:
    """CPU seconds of each side over one phase (`Cpu.now(...)` at its start and its end)."""

    server: float
    standin: float
    test: float
    postgres: dict[int, float]
    busy: float  # the whole machine
    total: float

    @classmethod
    def now(cls, server_pid: int, standin_pid: int) -> Cpu:
        busy, total = machine_cpu()
        return cls(
            cpu_seconds(server_pid),
            cpu_seconds(standin_pid),
            time.process_time(),
            postgres_cpu(),
            busy,
            total,
        )

    def describe(self, end: Cpu, run: Run) -> str:
        """Each side's CPU from here to `end`, as a share of one core over the phase."""
        wall = run.seconds

        def share(cpu: float) -> str:
            return f"{cpu / wall * 100:.0f} %"

        server, standin = end.server - self.server, end.standin - self.standin
        test, busy = end.test - self.test, end.busy - self.busy
        pg = sum(cpu - self.postgres.get(pid, 0.0) for pid, cpu in end.postgres.items())
        others = busy - server - standin - run.cpu - test - pg
        cores = (end.total - self.total) / wall
        return (
            f"server {share(server)}, {len(run.reports)} generators {share(run.cpu)} (worst "
            f"event-loop lag {run.lag_max * 1000:.0f} ms), stand-in {share(standin)}, test "
            f"process {share(test)}, PostgreSQL processes (anyone's) {share(pg)}, the rest of "
            f"the machine {share(others)}; machine {busy / wall / cores * 100:.0f} % busy "
            f"({cores:.1f} cores), load average {os.getloadavg()[0]:.1f}"
        )


def test_twice_the_capacity_shows_no_error_and_loses_no_answer(
    database_url: str, tmp_path: Path
) -> None:
    migrate(database_url, "head")
    seconds = overload_seconds()
    with standin(tmp_path) as api:
        server = ServerProcess(server_env(database_url, f"{api.url}/api/"), tmp_path / "server.log")
        generators = Generators(server.url, api.url, tmp_path, GENERATORS)
        try:
            server.start()
            assert server.proc is not None
            pids = (server.proc.pid, api.pid)
            generators.ready()

            closed = [
                {"phase": "closed", "users": n, "seconds": CAPACITY_SECONDS}
                for n in _split(CAPACITY_USERS, GENERATORS)
            ]
            start_at = time.time() + 0.2
            before = Cpu.now(*pids)
            measured = Run(generators.run([{**c, "start_at": start_at} for c in closed]))
            measured_cpu = before.describe(Cpu.now(*pids), measured)
            assert not measured.errors, measured.errors[:5]
            capacity = len(measured.completed) / measured.seconds
            rate = OVERLOAD_FACTOR * capacity

            # Each generator a share of the arrivals, interleaved with the others'.
            start_at = time.time() + 0.2
            opened = [
                {
                    "phase": "open",
                    "rate": rate / GENERATORS,
                    "seconds": seconds,
                    "start_at": start_at + i / rate,
                }
                for i in range(GENERATORS)
            ]
            before = Cpu.now(*pids)
            run = Run(generators.run(opened))
            run_cpu = before.describe(Cpu.now(*pids), run)
            acks = server_acks(server.url)

            everyone = Tally(completed=measured.completed + run.completed)
            drain_advice(api, len(everyone.completed))
            posts = api.posts()
        finally:
            generators.stop()
            server.stop()
    log, standin_log = server.log(), api.log()

    late = sum(1 for x in run.latencies if x > SLACK_TIMEOUT)
    report = (
        f"capacity {capacity:.1f} reviews/s ({len(measured.completed)} reviews in "
        f"{measured.seconds:.1f} s, {CAPACITY_USERS} users; CPU: {measured_cpu})\n"
        f"offered {rate:.1f}/s for {seconds:g} s: {run.started} reviews started, "
        f"{len(run.completed)} completed in {run.seconds:.1f} s, {len(run.latencies)} requests "
        f"(p50 {pct(run.latencies, 0.5) * 1000:.0f} ms, p99 {pct(run.latencies, 0.99) * 1000:.0f} "
        f"ms, max {max(run.latencies, default=0) * 1000:.0f} ms, {late} after 3 s), "
        f"{run.saving} steps acknowledged with 'saving…', {len(run.errors)} error screens\n"
        f"CPU over the overload phase, as a share of one core: {run_cpu}\n"
        f"the server's own acks (/metrics, both phases): {acks['count']:.0f}, "
        f"{acks['over_2s']:.0f} over 2 s, {acks['over_3s']:.0f} over 3 s"
    )
    print(report)
    if os.environ.get("DEALCOACH_OVERLOAD_REPORT"):  # appended: one run per database
        with Path(os.environ["DEALCOACH_OVERLOAD_REPORT"]).open("a", encoding="utf-8") as out:
            out.write(f"[{database_url.split(':', 1)[0]}] {report}\n")
    if os.environ.get("DEALCOACH_OVERLOAD_ERRORS"):
        Path(os.environ["DEALCOACH_OVERLOAD_ERRORS"]).write_text("\n".join(run.errors))
    assert not run.errors, f"{report}\n" + "\n".join(run.errors[:10])
    assert len(run.completed) == run.started, report
    result: Audit = audit(database_url, everyone, posts)
    assert not result.problems, result.problems[:10]
    assert result.drafts_in_db == 0, report
    assert "Traceback" not in log, log[-3000:]
    assert "Traceback" not in standin_log, standin_log[-3000:]
