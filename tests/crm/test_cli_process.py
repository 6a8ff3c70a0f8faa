"""The real `dealcoach` command with a CRM: `crm connect` (the token from the environment,
never printed), `chat` offering the CRM's deals before the first question, `serve` refusing
to start without DEALCOACH_SECRET_KEY once a CRM is connected."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.crm.conftest import SECRET_KEY
from tests.crm.standins import HubSpotStandIn

CLI = [sys.executable, "-c", "from dealcoach.cli import main; main()"]


def _run(args: list[str], tmp_path: Path, stdin: str = "", **extra: str) -> Any:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DEALCOACH_", "SLACK_", "TEAMS_", "DATABASE_URL"))}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'dc.db'}", HOME=str(tmp_path), **extra)
    return subprocess.run(CLI + args, input=stdin, capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=120)


def test_connect_then_chat_offers_the_deals_then_serve_needs_the_key(
    tmp_path: Path, hubspot: HubSpotStandIn
) -> None:
    crm = {"DEALCOACH_SECRET_KEY": SECRET_KEY, "DEALCOACH_HUBSPOT_URL": hubspot.url}
    done = _run(["crm", "connect", "hubspot", "--workspace", "local", "--platform", "cli"],
                tmp_path, DEALCOACH_CRM_TOKEN=hubspot.token, **crm)
    assert done.returncode == 0, done.stderr
    assert hubspot.token not in done.stdout + done.stderr

    chat = _run(["chat", "--user", "rita", "--lang", "en"], tmp_path, stdin="acme\n1\n", **crm)
    out = chat.stdout + chat.stderr
    assert "1. Acme renewal" in out
    assert "Filled in from HubSpot: Acme renewal." in out
    assert "Ann Buyer (CFO)" in out
    assert "[Acme renewal]" in out  # the first question's default
    assert "Traceback" not in out

    refused = _run(["serve", "--port", "1"], tmp_path, SLACK_SIGNING_SECRET="a" * 32,
                   SLACK_BOT_TOKEN="xoxb-1234-5678-abcdefgh")
    assert refused.returncode == 2
    assert "DEALCOACH_SECRET_KEY is not set" in refused.stderr
