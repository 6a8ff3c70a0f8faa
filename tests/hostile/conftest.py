"""Hostile-input fixtures: the Slack test fixtures (Web API stand-in, live ASGI server,
signed sender) reused as they are."""

from __future__ import annotations

from tests.slack.conftest import (  # noqa: F401 - fixtures, re-exported for pytest
    app_factory,
    live,
    settings,
    slack,
    slack_api,
)
