"""`dealcoach serve` under slow clients (issue #11 item 7), through a real server process.

150 connections trickling a body were held 70 s with no timeout; 1,100 made `/healthz` and
signed commands time out and logged 58,880 "Too many open files" lines. Now: a body must
arrive within DEALCOACH_BODY_TIMEOUT (408 after it), uvicorn answers 503 past
DEALCOACH_LIMIT_CONCURRENCY, the soft open-file limit is raised to the hard one, and each
refusal kind is logged once per interval, not once per socket.
"""

from __future__ import annotations

import contextlib
import os
import resource
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from tests.slack.mock_web_api import MockSlackWebApi

SIGNING_SECRET = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def api() -> Iterator[MockSlackWebApi]:
    with MockSlackWebApi() as stand_in:
        yield stand_in


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    proc: subprocess.Popen[str]
    base: str
    port: int
    log: list[str] = field(default_factory=list)

    def stop(self) -> str:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        return "".join(self.log)


def _soft_nofile_256() -> None:  # pragma: no cover - runs in the child before exec
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(256, hard), hard))


def serve(tmp_path: Path, api: MockSlackWebApi, **env: str) -> Served:
    port = _free_port()
    full_env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "PYTHONPATH": os.pathsep.join(sys.path),
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_BOT_TOKEN": "xoxb-1234-limits-test",
        "SLACK_API_URL": api.url,
        "DATABASE_URL": f"sqlite:///{tmp_path}/serve.db",
        "DEALCOACH_SCHEDULER": "false",
        **env,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "dealcoach.cli", "serve", "--port", str(port)],
        env=full_env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_soft_nofile_256,
    )
    served = Served(proc, f"http://127.0.0.1:{port}", port)
    assert proc.stderr is not None
    stderr = proc.stderr

    def drain() -> None:
        for line in stderr:
            served.log.append(line)

    threading.Thread(target=drain, daemon=True).start()
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{served.base}/healthz", timeout=1).status_code == 200:
                return served
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            served.stop()
            raise AssertionError("dealcoach serve did not start:\n" + "".join(served.log)[-3000:])
        time.sleep(0.1)


def slack_headers() -> bytes:
    """A Slack-shaped request (fresh timestamp, a signature that can only be checked against
    the whole body) announcing a 5,000-byte body."""
    return (
        "POST /slack/events HTTP/1.1\r\nHost: localhost\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 5000\r\n"
        f"X-Slack-Request-Timestamp: {int(time.time())}\r\n"
        f"X-Slack-Signature: v0={'0' * 64}\r\n\r\n"
    ).encode()


class Tricklers:
    """N clients that send the headers of a 5,000-byte body, then one byte every 0.2 s; each
    one's first response line and when it came are recorded."""

    def __init__(self, port: int, n: int) -> None:
        self.socks: list[socket.socket] = []
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(slack_headers())
            s.setblocking(False)
            self.socks.append(s)
        self.started = time.monotonic()
        self.answers: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set() and len(self.answers) < len(self.socks):
            for i, s in enumerate(self.socks):
                if i in self.answers:
                    continue
                with contextlib.suppress(OSError):
                    s.send(b"a")
            readable, _, _ = select.select(
                [s for i, s in enumerate(self.socks) if i not in self.answers], [], [], 0.2
            )
            for s in readable:
                i = self.socks.index(s)
                try:
                    data = s.recv(4096)
                except (BlockingIOError, OSError):
                    continue
                first = data.split(b"\r\n", 1)[0].decode("latin-1") if data else "closed"
                self.answers[i] = (first, time.monotonic() - self.started)

    def wait(self, seconds: float) -> None:
        self._thread.join(timeout=seconds)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for s in self.socks:
            s.close()


def test_trickling_bodies_get_408_after_the_deadline_and_healthz_stays_fast(
    tmp_path: Path, api: MockSlackWebApi
) -> None:
    served = serve(tmp_path, api, DEALCOACH_BODY_TIMEOUT="1")
    tricklers = Tricklers(served.port, 150)
    try:
        time.sleep(0.3)
        started = time.monotonic()
        health = httpx.get(f"{served.base}/healthz", timeout=5)
        assert health.status_code == 200
        assert time.monotonic() - started < 1.0  # not queued behind the slow clients
        tricklers.wait(10)  # bounded: the deadline is 1 s
        answered = dict(tricklers.answers)
    finally:
        tricklers.close()
    log = served.stop()
    assert len(answered) == 150, f"{150 - len(answered)} slow clients still held after 10 s"
    statuses = {first for first, _ in answered.values()}
    assert statuses == {"HTTP/1.1 408 Request Timeout"}, statuses
    assert max(at for _, at in answered.values()) < 6
    # one line for the whole flood (per interval), not one per socket
    timeouts = [line for line in log.splitlines() if "request body not received" in line]
    assert 1 <= len(timeouts) <= 2, timeouts[:5]


def test_past_the_concurrency_limit_new_requests_get_503_logged_once(
    tmp_path: Path, api: MockSlackWebApi
) -> None:
    served = serve(tmp_path, api, DEALCOACH_LIMIT_CONCURRENCY="20", DEALCOACH_BODY_TIMEOUT="30")
    # uvicorn counts open connections, the new one included: 19 slow clients + 1 = the limit
    tricklers = Tricklers(served.port, 19)
    try:
        time.sleep(0.5)
        started = time.monotonic()
        refused = [httpx.get(f"{served.base}/healthz", timeout=5).status_code for _ in range(30)]
        elapsed = time.monotonic() - started
        limits = Path(f"/proc/{served.proc.pid}/limits").read_text()
        held = dict(tricklers.answers)
    finally:
        tricklers.close()
    assert held == {}  # the slow clients themselves were let in (and are still sending)
    time.sleep(0.5)
    after = httpx.get(f"{served.base}/healthz", timeout=5).status_code
    log = served.stop()
    assert refused == [503] * 30
    assert elapsed < 5
    assert after == 200  # the slow clients gone, the server answers again
    lines = [line for line in log.splitlines() if "Exceeded concurrency limit" in line]
    assert len(lines) == 1, lines[:5]
    # the soft open-file limit (256 in the child) was raised to the hard one
    row = next(line for line in limits.splitlines() if line.startswith("Max open files"))
    soft, hard = row.split()[3:5]
    assert soft == hard, row


def test_connections_that_never_finish_their_headers_are_closed_after_the_deadline(
    tmp_path: Path, api: MockSlackWebApi
) -> None:
    """uvicorn alone keeps a silent connection, or one sending a header a byte at a time, for
    ever: 20 of them would hold every slot under DEALCOACH_LIMIT_CONCURRENCY=20."""
    served = serve(tmp_path, api, DEALCOACH_LIMIT_CONCURRENCY="20", DEALCOACH_BODY_TIMEOUT="1")
    silent = [socket.create_connection(("127.0.0.1", served.port), timeout=5) for _ in range(12)]
    slow = [socket.create_connection(("127.0.0.1", served.port), timeout=5) for _ in range(12)]
    header = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Padding: " + b"a" * 200
    closed_at: dict[int, float] = {}
    started = time.monotonic()
    try:
        time.sleep(0.3)
        during = httpx.get(f"{served.base}/healthz", timeout=5).status_code
        for s in silent + slow:
            s.setblocking(False)
        position = 0
        while len(closed_at) < len(silent) + len(slow) and time.monotonic() - started < 10:
            for s in slow:
                if id(s) not in closed_at and position < len(header):
                    with contextlib.suppress(OSError):
                        s.send(header[position : position + 1])
            position += 1
            socks = [s for s in silent + slow if id(s) not in closed_at]
            readable, _, _ = select.select(socks, [], [], 0.1)
            for s in readable:
                try:
                    data = s.recv(4096)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    closed_at[id(s)] = time.monotonic() - started
        after = httpx.get(f"{served.base}/healthz", timeout=5).status_code
    finally:
        for s in silent + slow:
            s.close()
    log = served.stop()
    assert during == 503  # 24 held connections are over the limit
    assert len(closed_at) == 24, f"{24 - len(closed_at)} connections still open after 10 s"
    assert max(closed_at.values()) < 4
    assert after == 200
    lines = [line for line in log.splitlines() if "request headers not received" in line]
    assert len(lines) == 1, lines[:5]


def test_keep_alive_connections_still_serve_several_requests(
    tmp_path: Path, api: MockSlackWebApi
) -> None:
    served = serve(tmp_path, api, DEALCOACH_BODY_TIMEOUT="1")
    try:
        with httpx.Client(base_url=served.base, timeout=5) as client:
            first = client.get("/healthz")
            time.sleep(1.5)  # idle longer than the header deadline, shorter than keep-alive
            second = client.get("/readyz")
            third = client.get("/healthz")
    finally:
        served.stop()
    assert [first.status_code, second.status_code, third.status_code] == [200, 200, 200]
