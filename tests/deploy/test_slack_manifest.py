"""The Slack app manifest: what Slack needs to route /dealcoach, modals, events and OAuth."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from dealcoach.errors import InputError
from dealcoach.slack.manifest import build_manifest, render_manifest

REPO = Path(__file__).resolve().parents[2]
CHECKED_IN = REPO / "deploy" / "slack" / "manifest.yaml"
URL = "https://coach.acme.test"


def load(text: str) -> dict[str, Any]:
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


def test_the_slash_command_points_at_the_events_route_with_a_usage_hint() -> None:
    manifest = load(render_manifest(URL))
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/dealcoach"
    assert command["url"] == f"{URL}/slack/events"
    assert "history" in command["usage_hint"] and "lang" in command["usage_hint"]


def test_bot_scopes_cover_what_the_app_calls_and_nothing_broader() -> None:
    scopes = load(render_manifest(URL))["oauth_config"]["scopes"]
    assert set(scopes["bot"]) == {
        "commands",
        "chat:write",
        "im:write",
        "users:read",
        "team:read",
        "files:write",
    }
    assert "user" not in scopes  # no user-token scopes at all


def test_interactivity_and_events_go_to_the_one_slack_route() -> None:
    settings = load(render_manifest(URL))["settings"]
    assert settings["interactivity"] == {
        "is_enabled": True,
        "request_url": f"{URL}/slack/events",
        # external_select options (the CRM deal picker) load from the same route
        "message_menu_options_url": f"{URL}/slack/events",
    }
    events = settings["event_subscriptions"]
    assert events["request_url"] == f"{URL}/slack/events"
    assert set(events["bot_events"]) == {"app_home_opened", "app_uninstalled", "tokens_revoked"}
    assert settings["socket_mode_enabled"] is False
    assert settings["org_deploy_enabled"] is False


def test_app_home_has_the_home_tab_and_the_messages_tab() -> None:
    features = load(render_manifest(URL))["features"]
    assert features["app_home"]["home_tab_enabled"] is True
    assert features["app_home"]["messages_tab_enabled"] is True
    assert features["bot_user"]["display_name"] == "dealcoach"


def test_oauth_redirect_is_under_the_public_url_for_multi_workspace_installs() -> None:
    oauth = load(render_manifest(URL + "/"))["oauth_config"]
    assert oauth["redirect_urls"] == [f"{URL}/slack/oauth_redirect"]


def test_display_texts_fit_slacks_length_limits() -> None:
    info = load(render_manifest(URL))["display_information"]
    assert len(info["name"]) <= 35
    assert len(info["description"]) <= 140
    assert 175 <= len(info["long_description"]) <= 4000


def test_socket_mode_needs_no_public_url_and_carries_no_request_urls() -> None:
    manifest = load(render_manifest(None, socket_mode=True))
    text = json.dumps(manifest)
    assert "request_url" not in text and "https://" not in text
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["settings"]["interactivity"] == {"is_enabled": True}
    assert "url" not in manifest["features"]["slash_commands"][0]


@pytest.mark.parametrize(
    "url",
    [
        "http://coach.acme.test",
        "ftp://coach.acme.test",
        "coach.acme.test",
        "https://a b.test",
        "https://coach.acme.test/?x=1",
        "",
    ],
)
def test_a_public_url_must_be_absolute_https(url: str) -> None:
    with pytest.raises(InputError):
        build_manifest(url or None)


@pytest.mark.parametrize("url", ["http://localhost:3000", "http://127.0.0.1:3000", "https://x.y/z"])
def test_https_or_local_http_urls_are_accepted(url: str) -> None:
    assert build_manifest(url)["settings"]["event_subscriptions"]["request_url"].startswith(url)


def test_the_checked_in_manifest_is_the_rendering_for_the_example_url() -> None:
    assert load(CHECKED_IN.read_text()) == load(render_manifest("https://dealcoach.example.com"))


# --- the command ----------------------------------------------------------------------------


def run_cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DEALCOACH_", "SLACK_"))}
    return subprocess.run(
        [sys.executable, "-m", "dealcoach.cli", *args],
        cwd=tmp_path,  # no stray .env
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_dealcoach_manifest_prints_the_manifest_for_a_url(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "manifest", "--url", URL)
    assert result.returncode == 0, result.stderr
    assert load(result.stdout) == build_manifest(URL)


def test_dealcoach_manifest_defaults_to_the_configured_public_url(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "manifest", "--json", DEALCOACH_PUBLIC_URL=URL)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["settings"]["interactivity"]["request_url"].startswith(URL)


def test_dealcoach_manifest_without_any_url_says_so_in_one_line(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "manifest")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "--url" in result.stderr and "DEALCOACH_PUBLIC_URL" in result.stderr


def test_dealcoach_manifest_rejects_plain_http_in_one_line(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "manifest", "--url", "http://coach.acme.test")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "https://" in result.stderr


def test_dealcoach_manifest_socket_prints_a_socket_mode_manifest(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "manifest", "--socket")
    assert result.returncode == 0, result.stderr
    assert load(result.stdout)["settings"]["socket_mode_enabled"] is True
