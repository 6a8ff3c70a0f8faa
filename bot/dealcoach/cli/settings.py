"""The settings for a command, and the one way a bad one is reported.

A bad environment value (an unparsable DEALCOACH_ADMINS, a malformed URL) is one
`ConfigError` line (exit status 2), whichever command reads the settings, instead of
pydantic's multi-line ValidationError.
"""

from __future__ import annotations

from pydantic import ValidationError

from dealcoach.config import Settings, get_settings
from dealcoach.errors import ConfigError


def load_settings() -> Settings:
    """The settings, with a bad environment value as one ConfigError line."""
    try:
        return get_settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]).upper()
        raise ConfigError(f"{where}: {first['msg']}") from None


def setting(name: str) -> str | None:
    """One setting as text (None when unset), e.g. for the deploy commands."""
    value = getattr(load_settings(), name)
    return str(value) if value is not None else None
