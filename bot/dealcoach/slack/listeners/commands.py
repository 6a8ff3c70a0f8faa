"""`/dealcoach` and its sub-commands."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from dealcoach.slack.strings import t


def register(app: AsyncApp) -> None:
    app.command("/dealcoach")(on_command)


async def on_command(ack: Any, command: dict[str, Any]) -> None:
    await ack(text=t("en", "help"), response_type="ephemeral")
