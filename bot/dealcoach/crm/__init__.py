"""CRM clients (HubSpot, Salesforce) behind one small interface (`crm.base.CrmClient`).

The client libraries are the optional extra `dealcoach[crm]`; they are imported only when a
client is made, so the core install stays light.
"""

from __future__ import annotations

from typing import Any

from dealcoach.crm.base import (
    PROVIDERS,
    CrmAuthError,
    CrmClient,
    CrmContact,
    CrmDeal,
    CrmDealSummary,
    CrmError,
    CrmNotFound,
    CrmRateLimited,
    CrmUnavailable,
)
from dealcoach.errors import ConfigError

__all__ = [
    "PROVIDERS",
    "CrmAuthError",
    "CrmClient",
    "CrmContact",
    "CrmDeal",
    "CrmDealSummary",
    "CrmError",
    "CrmNotFound",
    "CrmRateLimited",
    "CrmUnavailable",
    "extra_installed",
    "make_client",
]


def extra_installed() -> bool:
    import importlib.util

    return all(
        importlib.util.find_spec(name) is not None for name in ("hubspot", "simple_salesforce")
    )


def make_client(
    provider: str, credentials: dict[str, Any], *, hubspot_url: str | None = None
) -> CrmClient:
    if not extra_installed():
        raise ConfigError("the CRM link needs the crm extra: pip install 'dealcoach[crm]'")
    if provider == "hubspot":
        from dealcoach.crm.hubspot import HubSpotClient

        return HubSpotClient(str(credentials["token"]), host=hubspot_url)
    if provider == "salesforce":
        from dealcoach.crm.salesforce import SalesforceClient

        return SalesforceClient(credentials)
    raise ConfigError(f"unknown CRM {provider!r}: hubspot or salesforce")
