"""The ASGI app's own routes (health, readiness, metrics) and `dealcoach serve` start-up."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.slack.conftest import make_settings
from tests.slack.harness import LiveServer
from tests.slack.mock_web_api import MockSlackWebApi

from dealcoach.bootstrap import build_services
from dealcoach.config import Settings
from dealcoach.store.engine import migrate
from dealcoach.web import create_app


@pytest.fixture
def api() -> Iterator[MockSlackWebApi]:
    with MockSlackWebApi() as stand_in:
        yield stand_in


def _serve(settings: Settings) -> LiveServer:
    return LiveServer(lambda: create_app(settings, build_services(settings, migrate_sqlite=False)))


def test_healthz_readyz_and_metrics_on_a_reachable_database(
    database_url: str, api: MockSlackWebApi
) -> None:
    migrate(database_url, "head")
    server = _serve(make_settings(database_url, api)).start()
    try:
        health = httpx.get(f"{server.url}/healthz")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        ready = httpx.get(f"{server.url}/readyz")
        assert ready.status_code == 200 and ready.json() == {"status": "ready", "database": "ok"}
        metrics = httpx.get(f"{server.url}/metrics")
        assert metrics.status_code == 200
        assert "dealcoach_http_requests" in metrics.text
        assert "dealcoach_slack_ack_seconds" in metrics.text
    finally:
        server.stop()


def test_readyz_is_503_when_the_database_is_unreachable(api: MockSlackWebApi) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/nowhere?connect_timeout=1"
    server = _serve(make_settings(url, api)).start()
    try:
        ready = httpx.get(f"{server.url}/readyz", timeout=10)
        assert ready.status_code == 503
        assert ready.json()["database"] == "unreachable"
        assert httpx.get(f"{server.url}/healthz").status_code == 200  # the process is up
    finally:
        server.stop()


def _dealcoach(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ.get("PATH", ""), "HOME": str(cwd)}
    return subprocess.run(
        [sys.executable, "-m", "dealcoach.cli", *args],
        env={**base, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "socket_mode", "names"),
    [
        ({}, False, ["SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN"]),
        (
            {"SLACK_SIGNING_SECRET": "changeme", "SLACK_BOT_TOKEN": "xoxb-1-real"},
            False,
            ["SLACK_SIGNING_SECRET"],
        ),
        (
            {"SLACK_SIGNING_SECRET": "0123456789abcdef", "SLACK_BOT_TOKEN": "xoxb-1-real"},
            True,
            ["SLACK_APP_TOKEN"],
        ),
    ],
)
def test_serve_refuses_to_start_without_slack_credentials_in_one_line(
    tmp_path: Path, env: dict[str, str], socket_mode: bool, names: list[str]
) -> None:
    args = ["serve", "--port", "1"] + (["--socket"] if socket_mode else [])
    result = _dealcoach(args, env, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dealcoach: ")
    for name in names:
        assert name in lines[0]
    assert "Traceback" not in result.stderr


def test_serve_answers_signed_slack_requests_and_health(
    tmp_path: Path, api: MockSlackWebApi
) -> None:
    from tests.slack.signing import SIGNING_SECRET, form_body, signed_headers

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_BOT_TOKEN": "xoxb-1234-serve-test",
        "SLACK_API_URL": api.url,
        "DATABASE_URL": f"sqlite:///{tmp_path}/serve.db",
        "DEALCOACH_SCHEDULER": "false",
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "dealcoach.cli", "serve", "--port", str(port)],
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), **env},
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, proc.communicate()[1][-2000:]
            assert time.monotonic() < deadline, "dealcoach serve did not become ready"
            time.sleep(0.1)
        body = form_body(
            {
                "command": "/dealcoach",
                "text": "help",
                "user_id": "U1",
                "team_id": "T1",
                "trigger_id": "1.2.3",
                "response_url": api.response_url(),
            }
        )
        resp = httpx.post(f"{base}/slack/events", content=body, headers=signed_headers(body))
        assert resp.status_code == 200 and "/dealcoach history" in resp.json()["text"]
        assert resp.headers.get("x-request-id")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
