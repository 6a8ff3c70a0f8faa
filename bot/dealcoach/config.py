"""Settings from the environment (and an optional `.env`), validated once.

`get_settings()` is cached: the composition root reads it once. Secrets are `SecretStr` so
they never show up in a repr or a log line. What a mode needs is checked by
`require_slack()` / `require_teams()` at start-up, so `dealcoach chat` works with no Slack
credentials at all while `dealcoach serve` refuses to start without them.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from dealcoach.errors import ConfigError

Locale = Literal["en", "nl"]

# Values people leave in a template `.env`; starting with one of these is worse than failing.
_PLACEHOLDERS = {"", "changeme", "changethis", "change-me", "secret", "xxx", "todo", "none"}


def _is_placeholder(value: str) -> bool:
    v = value.strip().lower()
    return (
        v in _PLACEHOLDERS
        or (v.startswith("<") and v.endswith(">"))
        or "your-" in v
        or v.endswith("...")
        or v.endswith("-xxx")
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    database_url: str = "sqlite:///dealcoach.db"

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"

    teams_client_id: str | None = None
    teams_client_secret: SecretStr | None = None
    teams_tenant_id: str | None = None
    teams_allow_anonymous: bool = False
    # Bot Connector hosts a Teams `serviceUrl` may name (comma-separated; `*.` covers
    # subdomains, `host:port` pins a port). Sovereign clouds add theirs, tests a loopback one.
    teams_service_url_hosts: str = "*.botframework.com,smba.trafficmanager.net"

    dealcoach_lang: Locale = "en"
    # Cron fields (minute hour day month day_of_week), evaluated in each manager's time zone.
    dealcoach_digest_cron: str = "0 8 * * mon"
    dealcoach_default_timezone: str = "UTC"
    # Slack/Teams user ids that may manage teams besides workspace admins/owners:
    # `U1,U2` (the documented form), one id, empty, or a JSON list. NoDecode: pydantic-settings
    # would otherwise json.loads() the raw value before `_split_admins` sees it, and crash.
    dealcoach_admins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    dealcoach_retention_days: int = Field(default=90, ge=1)
    dealcoach_public_url: str | None = None
    dealcoach_scheduler: bool = True
    dealcoach_log_level: str = "INFO"
    dealcoach_log_json: bool = True
    # `dealcoach serve` limits (issue #11 item 7): connections/tasks at once before uvicorn
    # answers 503, seconds an idle keep-alive connection stays open, seconds a client has to
    # send a request body (then 408).
    dealcoach_limit_concurrency: int = Field(default=500, ge=1)
    dealcoach_keep_alive_timeout: int = Field(default=5, ge=1)
    dealcoach_body_timeout: float = Field(default=10.0, gt=0)
    # CRM link (issue 17): the key that encrypts stored CRM credentials (a Fernet key or a
    # passphrase of 16+ characters), HubSpot's API base (tests point it at a stand-in), and
    # how CRM pipeline stages map onto deal.stage: `crmstage=discovery,...` or a JSON object,
    # merged over the defaults for HubSpot's and Salesforce's standard stages.
    dealcoach_secret_key: SecretStr | None = None
    dealcoach_hubspot_url: str = "https://api.hubapi.com"
    dealcoach_crm_stage_map: str = ""

    @field_validator("dealcoach_admins", mode="before")
    @classmethod
    def _split_admins(cls, value: object) -> object:
        # Accept "U1,U2" as well as a JSON list (a bad JSON list is left to the list check).
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text.startswith("["):
            try:
                return json.loads(text)
            except json.JSONDecodeError:
                return value
        return [part.strip() for part in text.split(",") if part.strip()]

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @property
    def slack_oauth_enabled(self) -> bool:
        return bool(self.slack_client_id and self.slack_client_secret)

    @field_validator("teams_allow_anonymous")
    @classmethod
    def _anonymous_without_credentials(cls, value: bool, info: ValidationInfo) -> bool:
        # Anonymous would silently switch off the token check the credentials ask for.
        names = [name.upper() for name in ("teams_client_id", "teams_client_secret",
                                           "teams_tenant_id") if info.data.get(name)]
        if value and names:
            raise PydanticCustomError(
                "teams_anonymous_with_credentials",
                "cannot be true while {names} set: anonymous requests would skip the token "
                "check; unset TEAMS_ALLOW_ANONYMOUS (or the credentials, for local testing)",
                {"names": " and ".join(names) + (" are" if len(names) > 1 else " is")},
            )
        return value

    @property
    def teams_service_url_host_list(self) -> list[str]:
        return [h.strip() for h in self.teams_service_url_hosts.split(",") if h.strip()]

    @property
    def teams_enabled(self) -> bool:
        return bool(self.teams_client_id) or self.teams_allow_anonymous

    def require_slack(self, *, socket_mode: bool = False) -> None:
        """Refuse to serve Slack with a missing or placeholder secret; say which one."""
        problems: list[str] = []
        _check_secret(problems, "SLACK_SIGNING_SECRET", self.slack_signing_secret)
        if self.slack_oauth_enabled:
            _check_secret(problems, "SLACK_CLIENT_SECRET", self.slack_client_secret)
        else:
            _check_secret(problems, "SLACK_BOT_TOKEN", self.slack_bot_token)
        if socket_mode:
            _check_secret(problems, "SLACK_APP_TOKEN", self.slack_app_token)
        if problems:
            raise ConfigError("; ".join(problems))

    def require_teams(self) -> None:
        if self.teams_allow_anonymous:
            return
        problems: list[str] = []
        if not self.teams_client_id:
            problems.append("TEAMS_CLIENT_ID is not set")
        _check_secret(problems, "TEAMS_CLIENT_SECRET", self.teams_client_secret)
        if not self.teams_tenant_id:
            problems.append("TEAMS_TENANT_ID is not set")
        if problems:
            raise ConfigError("; ".join(problems))


def _check_secret(problems: list[str], name: str, value: SecretStr | None) -> None:
    if value is None or not value.get_secret_value().strip():
        problems.append(f"{name} is not set")
    elif _is_placeholder(value.get_secret_value()):
        problems.append(f"{name} still holds a placeholder value")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
