"""Issue #11 item 3: `TEAMS_ALLOW_ANONYMOUS=true` next to Teams credentials used to win
silently (requests without a token got 202 and a reply). `dealcoach serve` now refuses to
start with both (one line, exit status 2), and warns at start in anonymous mode. Both through
the environment of a real `dealcoach serve` process."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from tests.load.cluster import ServerProcess, dealcoach_command, free_port, server_env

from dealcoach.config import Settings

pytest.importorskip("microsoft_agents.hosting.fastapi", reason="needs the dealcoach[teams] extra")

CREDENTIALS = {
    "TEAMS_CLIENT_ID": "00000000-0000-0000-0000-00000000c0de",
    "TEAMS_CLIENT_SECRET": "s3cr3t-value-for-tests",
    "TEAMS_TENANT_ID": "00000000-0000-0000-0000-0000000000aa",
}


def test_serve_refuses_anonymous_mode_next_to_credentials(
    migrated_url: str, tmp_path: Path
) -> None:
    env = server_env(migrated_url, "http://127.0.0.1:9/api/", TEAMS_ALLOW_ANONYMOUS="true",
                     **CREDENTIALS)
    command = [*dealcoach_command(), "serve", "--port", str(free_port())]
    proc = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        _, stderr = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:  # it started serving: the bug
        proc.kill()
        proc.communicate()
        pytest.fail("dealcoach serve started with TEAMS_ALLOW_ANONYMOUS next to credentials")
    assert proc.returncode == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("dealcoach: TEAMS_ALLOW_ANONYMOUS: cannot be true while")
    assert "TEAMS_CLIENT_ID" in lines[0] and "s3cr3t" not in lines[0]


@pytest.mark.parametrize("credential", sorted(CREDENTIALS))
def test_any_teams_credential_rules_anonymous_mode_out(credential: str) -> None:
    one: dict[str, Any] = {"_env_file": None, credential.lower(): CREDENTIALS[credential]}
    with pytest.raises(ValidationError, match=credential):
        Settings(teams_allow_anonymous=True, **one)
    # Each alone is fine.
    Settings(_env_file=None, teams_allow_anonymous=True)
    Settings(**one)


def test_serve_in_anonymous_mode_warns_at_start(migrated_url: str, tmp_path: Path) -> None:
    env = server_env(migrated_url, "http://127.0.0.1:9/api/", TEAMS_ALLOW_ANONYMOUS="true")
    server = ServerProcess(env, tmp_path / "serve.log", name="anonymous").start()
    try:
        assert httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200
    finally:
        server.stop()
    log = server.log()
    assert "TEAMS_ALLOW_ANONYMOUS=true" in log and "without a token" in log, log[-2000:]
