"""Who is acting: the platform identity an adapter hands to the services.

Adapters build an `Actor` from the request (Slack team + user, Teams tenant + AAD object id,
or the local terminal user) and never pass database ids around; the services turn it into a
workspace and a person row (created on first sight).
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from typing import Literal

Platform = Literal["slack", "teams", "cli"]

CLI_WORKSPACE = "local"


@dataclass(frozen=True)
class Actor:
    platform: Platform
    workspace_id: str
    user_id: str
    display_name: str | None = None
    locale: str | None = None
    timezone: str | None = None
    workspace_name: str | None = None
    is_admin: bool = False

    @classmethod
    def local(cls, user_id: str | None = None, *, locale: str | None = None) -> Actor:
        """The person at this terminal (`dealcoach chat --user ID`, default the OS user)."""
        uid = (user_id or "").strip() or local_user()
        return cls(
            platform="cli",
            workspace_id=CLI_WORKSPACE,
            user_id=uid,
            display_name=uid,
            locale=locale,
            workspace_name="Terminal",
        )


def local_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return os.environ.get("USER") or os.environ.get("USERNAME") or "local"
