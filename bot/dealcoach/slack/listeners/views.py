"""View submissions: each step of the review modal (filled in below)."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp


def register(app: AsyncApp) -> None:
    return None
