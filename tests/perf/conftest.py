"""Perf-budget fixtures: the live ASGI app of tests/slack (signed HTTP, the Web API stand-in)
and a counter of the SQL it sends."""

from __future__ import annotations

from tests.slack.conftest import app_factory, live, settings, slack, slack_api

__all__ = ["app_factory", "live", "settings", "slack", "slack_api"]
