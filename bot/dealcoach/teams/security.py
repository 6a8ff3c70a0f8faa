"""What `POST /api/messages` checks before an activity reaches the Agents SDK (issue #11).

- `authorize(header, config)`: the bearer token, validated by the SDK's `JwtTokenValidator`;
  *any* failure (a malformed header, `alg: none`, no `kid`, a bad signature, an unreachable
  key set, …) is a 401 and one warning line, never a 500 and a traceback. Without a client id
  no token can be valid (there is no audience to match), so one is refused without fetching
  any key set.
- `protocol_problem(activity)`: what the Activity protocol requires of a channel (`type`, an
  id-bearing `from`, `recipient` and `conversation`, `channelId`, `serviceUrl`) → 400.
- `ServiceUrlPolicy`: the Bot Connector hosts replies, history and proactive messages may go
  to (`TEAMS_SERVICE_URL_HOSTS`, default `*.botframework.com,smba.trafficmanager.net`); an
  authenticated activity's `serviceUrl` must also be its token's `serviceurl` claim. Stored
  conversation references are checked again before anything is sent to them, so a
  reference stored before these checks existed cannot redirect a digest or a share either.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from microsoft_agents.hosting.core import AgentAuthConfiguration, ClaimsIdentity

log = logging.getLogger("dealcoach.teams")

_LOOPBACK_NAMES = {"localhost"}


@dataclass(frozen=True)
class Refusal:
    status: int
    message: str


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class _Pattern:
    host: str  # lower case; for a wildcard the suffix without "*."
    wildcard: bool
    port: int | None

    def matches(self, host: str, port: int | None) -> bool:
        if self.port is not None and port != self.port:
            return False
        if self.wildcard:
            return host.endswith("." + self.host)
        return host == self.host


def _parse_pattern(entry: str) -> _Pattern | None:
    text = entry.strip().lower()
    if not text:
        return None
    wildcard = text.startswith("*.")
    if wildcard:
        text = text[2:]
    try:
        parts = urlsplit("//" + text)
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not host or parts.path or parts.query or parts.username or "*" in host:
        return None
    return _Pattern(host, wildcard, port)


class ServiceUrlPolicy:
    """Which `serviceUrl`s dealcoach talks to: https on an allow-listed host (a `*.` entry
    covers its subdomains, `host:port` pins a port); plain http only to a listed loopback
    host (tests, the Bot Framework Emulator)."""

    def __init__(self, entries: list[str]) -> None:
        self.patterns: list[_Pattern] = []
        for entry in entries:
            pattern = _parse_pattern(entry)
            if pattern is None:
                log.warning("TEAMS_SERVICE_URL_HOSTS: ignoring %r (not a host name)", entry)
            else:
                self.patterns.append(pattern)

    def allows(self, url: object) -> bool:
        if not isinstance(url, str) or len(url) > 2048:
            return False
        try:
            parts = urlsplit(url.strip())
            host, port = parts.hostname, parts.port
        except ValueError:
            return False
        if not host or parts.username is not None or parts.password is not None:
            return False
        if parts.scheme != "https" and not (parts.scheme == "http" and _is_loopback(host)):
            return False
        return any(p.matches(host, port) for p in self.patterns)


def same_service_url(activity_url: str, claim: object) -> bool:
    """The activity's `serviceUrl` is the one its token was issued for (Bot Framework's
    `serviceurl` claim; compared exactly, a trailing slash aside, the host case-insensitively)."""
    if not isinstance(claim, str) or not claim:
        return False
    return _normalized(activity_url) == _normalized(claim)


def _normalized(url: str) -> tuple[str, str, int | None, str] | None:
    try:
        parts = urlsplit(url.strip())
        return (parts.scheme.lower(), (parts.hostname or "").lower(), parts.port,
                parts.path.rstrip("/"))
    except ValueError:
        return None


def _has_id(value: object) -> bool:
    return isinstance(value, dict) and isinstance(value.get("id"), str) and bool(value["id"])


def protocol_problem(body: Mapping[str, object]) -> str | None:
    """What a channel's activity lacks, in words; None when it carries all the protocol needs."""
    for name in ("type", "channelId", "serviceUrl"):
        value = body.get(name)
        if not isinstance(value, str) or not value.strip():
            return f"the activity has no {name}"
    for name in ("from", "recipient", "conversation"):
        if not _has_id(body.get(name)):
            return f"the activity has no {name} with an id"
    return None


async def authorize(header: str | None,
                    config: AgentAuthConfiguration) -> ClaimsIdentity | Refusal:
    """The request's `ClaimsIdentity`, or a `Refusal` (401)."""
    # Imported here: the rest of this module (the serviceUrl policy) needs no Agents SDK.
    import jwt
    from microsoft_agents.hosting.core import ClaimsIdentity
    from microsoft_agents.hosting.core.authorization.jwt import JwtTokenValidator

    if not header:
        if config.ANONYMOUS_ALLOWED and not config.CLIENT_ID:
            return ClaimsIdentity()
        return Refusal(401, "Authorization header not found")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token or " " in token:
        return Refusal(401, "Invalid authorization header format")
    if not config.CLIENT_ID:
        # No audience to match: no token can pass, so none is looked at further.
        return _refused("a token was sent but TEAMS_CLIENT_ID is not set")
    try:
        unverified = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return _refused("the token is not a JWT")
    if unverified.get("alg") != "RS256" or not isinstance(unverified.get("kid"), str):
        return _refused("the token is not RS256-signed with a key id")
    try:
        identity = await JwtTokenValidator(config).validate_token(token)
    except Exception as exc:  # any failure at all is an unauthenticated request
        return _refused(type(exc).__name__)
    return identity


def _refused(reason: str) -> Refusal:
    log.warning("Teams request refused: invalid token (%s)", reason)
    return Refusal(401, "Invalid token or authentication failed.")
