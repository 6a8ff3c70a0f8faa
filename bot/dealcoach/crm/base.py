"""The one small interface every CRM client implements, and its errors.

`CrmClient` is synchronous (the official client libraries are); the service runs it in a
worker thread. Nothing here logs a credential: errors carry a short reason, never a token,
a request or a response body.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from dealcoach.errors import DealcoachError

PROVIDERS = ("hubspot", "salesforce")

# Seconds one CRM HTTP call may take. The deal search also answers Slack's options request,
# which has 3 s in all.
CALL_TIMEOUT = 2.5


@dataclass(frozen=True)
class CrmContact:
    name: str
    title: str | None = None

    @property
    def label(self) -> str:
        """`Name (Title)`: the short name stays before the parenthesis (DESIGN.md)."""
        return f"{self.name} ({self.title})" if self.title else self.name


@dataclass(frozen=True)
class CrmDealSummary:
    id: str
    name: str
    account: str | None = None


@dataclass(frozen=True)
class CrmDeal:
    id: str
    name: str
    account: str | None = None
    amount: float | None = None
    stage: str | None = None  # the CRM's own stage id / name, mapped by the service
    contacts: tuple[CrmContact, ...] = field(default_factory=tuple)


class CrmError(DealcoachError):
    """A CRM call failed; `kind` says how (`unavailable`, `auth`, `rate_limited`, `other`)."""

    kind = "other"


class CrmUnavailable(CrmError):
    kind = "unavailable"


class CrmAuthError(CrmError):
    """The stored credentials were refused (revoked token, expired connected app)."""

    kind = "auth"


class CrmRateLimited(CrmError):
    kind = "rate_limited"

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class CrmNotFound(CrmError):
    kind = "not_found"


class CrmClient(Protocol):
    provider: str

    def check(self) -> None:
        """One cheap authenticated call; raises CrmError when the credentials do not work."""

    def search_deals(self, query: str, limit: int = 20) -> list[CrmDealSummary]:
        """Open deals whose name matches `query` (all open deals, most recent first, if empty)."""

    def get_deal(self, deal_id: str) -> CrmDeal:
        """The deal with its account, amount, stage and contacts (name, title)."""

    def save_note(self, deal_id: str, subject: str, body: str, note_id: str | None = None) -> str:
        """Create a note on the deal (or update `note_id`); returns the note's id."""
