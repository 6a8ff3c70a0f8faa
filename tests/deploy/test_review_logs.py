"""Issue 6: no log line of a full Slack review holds the bot token, the signing secret or
what the user typed; every line is JSON and the request lines carry a request id.

Runs the real ASGI app (uvicorn on loopback) against the Slack Web API stand-in, with the
Slack tests' fixtures, and logs at DEBUG through `configure_logging` — the most talkative
setting an operator can choose.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from tests.slack.conftest import (  # noqa: F401  (fixtures used by name)
    BOT_TOKEN,
    app_factory,
    live,
    settings,
    slack,
    slack_api,
)
from tests.slack.driver import BASE, SCENARIOS, ReviewDriver
from tests.slack.harness import SlackSender
from tests.slack.mock_web_api import MockSlackWebApi
from tests.slack.signing import SIGNING_SECRET

from dealcoach.config import Settings
from dealcoach.observability import configure_logging

# Free text a user typed (option values like "yes" are not secrets and appear in ids).
TYPED = [v for k, v in BASE.items() if isinstance(v, str) and " " in v] + ["Acme renewal"]


@pytest.fixture
def log_stream(settings: Settings) -> Iterator[io.StringIO]:  # noqa: F811
    stream = io.StringIO()
    root, ours = logging.getLogger(), logging.getLogger("dealcoach")
    saved_level, saved_handlers, saved_ours = root.level, list(root.handlers), ours.level
    configure_logging(settings, level="DEBUG", json_format=True, stream=stream)
    try:
        yield stream
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        ours.setLevel(saved_ours)


def test_a_full_review_logs_no_token_no_secret_and_no_answer_text(
    log_stream: io.StringIO,
    slack: SlackSender,  # noqa: F811
    slack_api: MockSlackWebApi,  # noqa: F811
) -> None:
    driver = ReviewDriver(slack, slack_api)
    driver.start("Acme renewal")
    driver.run(SCENARIOS["walk_away"])
    slack_api.wait_for("chat.postMessage", 1)

    output = log_stream.getvalue()
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert lines, "the review logged nothing at all"
    assert BOT_TOKEN not in output
    assert SIGNING_SECRET not in output
    for text in TYPED:
        assert text not in output, f"answer text {text!r} reached the log"
    access = [r for r in lines if r["logger"] == "dealcoach.access"]
    assert access and all(r.get("request_id") for r in access)
    assert {r["route"] for r in access} >= {"/slack/events"}
