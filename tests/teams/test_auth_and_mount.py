"""`POST /api/messages` security and start-up: JWT is required when Teams credentials are
configured, anonymous only when explicitly allowed, and the app starts (the route answering
503 with one line) when Teams is not configured or the extra is not installed."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from fastapi.testclient import TestClient
from tests.teams.conftest import make_settings

from dealcoach.errors import ConfigError

pytest.importorskip("microsoft_agents.hosting.fastapi", reason="needs the dealcoach[teams] extra")

ACTIVITY = {
    "type": "message",
    "id": "1",
    "channelId": "msteams",
    "serviceUrl": "http://127.0.0.1:9/",
    "from": {"id": "29:x", "aadObjectId": "aad-x"},
    "conversation": {"id": "a:1", "conversationType": "personal", "tenantId": "t"},
    "recipient": {"id": "28:bot"},
    "text": "help",
}
CREDENTIALS = {
    "teams_client_id": "00000000-0000-0000-0000-00000000c0de",
    "teams_client_secret": "s3cr3t-value-for-tests",
    "teams_tenant_id": "00000000-0000-0000-0000-0000000000aa",
    "teams_allow_anonymous": False,
}


def _client(migrated_url: str, **teams: object) -> TestClient:
    from dealcoach.bootstrap import build_services
    from dealcoach.web import create_app

    settings = make_settings(migrated_url, **teams)
    return TestClient(create_app(settings, build_services(settings, migrate_sqlite=False)))


def test_with_credentials_a_request_without_a_token_is_refused(migrated_url: str) -> None:
    with _client(migrated_url, **CREDENTIALS) as client:
        response = client.post("/api/messages", json=ACTIVITY)
    assert response.status_code == 401
    assert "Authorization" in response.json()["error"]


@pytest.mark.parametrize("header", ["Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "Bearer"])
def test_with_credentials_a_bad_token_is_refused(migrated_url: str, header: str) -> None:
    with _client(migrated_url, **CREDENTIALS) as client:
        response = client.post("/api/messages", json=ACTIVITY, headers={"Authorization": header})
    assert response.status_code == 401


def test_incomplete_credentials_stop_the_start_with_one_line(migrated_url: str) -> None:
    with pytest.raises(ConfigError, match="TEAMS_CLIENT_SECRET is not set"):
        _client(migrated_url, teams_client_id="abc", teams_tenant_id="t",
                teams_allow_anonymous=False)


def test_without_teams_settings_the_route_says_what_to_configure(migrated_url: str) -> None:
    with _client(migrated_url, teams_allow_anonymous=False) as client:
        response = client.post("/api/messages", json=ACTIVITY)
        assert client.get("/healthz").status_code == 200
    assert response.status_code == 503
    assert "TEAMS_CLIENT_ID" in response.json()["error"]


def test_the_app_starts_without_the_teams_extra(migrated_url: str) -> None:
    # A child interpreter in which the Agents SDK cannot be imported (as without the extra).
    script = textwrap.dedent(
        f"""
        import json, sys
        for name in [m for m in sys.modules if m.startswith("microsoft_agents")]:
            del sys.modules[name]
        sys.modules["microsoft_agents"] = None  # import microsoft_agents -> ImportError
        from fastapi.testclient import TestClient
        from dealcoach.bootstrap import build_services
        from dealcoach.web import create_app
        from tests.teams.conftest import make_settings
        settings = make_settings({migrated_url!r})
        with TestClient(create_app(settings, build_services(settings))) as client:
            r = client.post("/api/messages", json={{"type": "message"}})
            print(json.dumps([r.status_code, r.json(), client.get("/healthz").status_code]))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120, cwd=".", env=_env())
    assert result.returncode == 0, result.stderr[-2000:]
    status, body, health = json.loads(result.stdout.strip().splitlines()[-1])
    assert (status, health) == (503, 200)
    assert body["error"] == "Teams support is not installed: pip install 'dealcoach[teams]'"


def _env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(["bot", ".", env.get("PYTHONPATH", "")])
    return env
