"""Salesforce through `simple-salesforce` (REST API), signed in with a connected app.

Sign-in is the OAuth 2.0 token endpoint of the login host (`{login_url}/services/oauth2/token`):
the JWT bearer flow (consumer key + the connected app's private key, RS256) or the
username-password flow (consumer key and secret, username, password + security token). The
answer's `instance_url` and `access_token` then drive `simple_salesforce.Salesforce`:
SOQL `query` for open Opportunities and their contact roles, and `sobjects/Task` create /
update for the note (a Task on the Opportunity, `WhatId`). An expired session signs in
again once.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

from dealcoach.crm.base import (
    CALL_TIMEOUT,
    CrmAuthError,
    CrmContact,
    CrmDeal,
    CrmDealSummary,
    CrmError,
    CrmNotFound,
    CrmRateLimited,
    CrmUnavailable,
)

DEFAULT_LOGIN_URL = "https://login.salesforce.com"
API_VERSION = "59.0"
_ID = re.compile(r"^[A-Za-z0-9]{15,18}$")

T = TypeVar("T")


def _session() -> Any:
    import requests

    class _TimeoutSession(requests.Session):
        def request(self, *args: Any, **kwargs: Any) -> Any:
            kwargs.setdefault("timeout", CALL_TIMEOUT)
            return super().request(*args, **kwargs)

    return _TimeoutSession()


def soql_quote(text: str) -> str:
    """A SOQL string literal's body: backslash and quote escaped, LIKE wildcards literal."""
    out = text.replace("\\", "\\\\").replace("'", "\\'")
    return out.replace("%", "\\%").replace("_", "\\_")


class SalesforceClient:
    provider = "salesforce"

    def __init__(self, credentials: dict[str, Any]) -> None:
        self._creds = credentials
        self._http = _session()
        self._sf: Any = None

    # --- sign-in ---------------------------------------------------------------------------

    def _token_request(self) -> dict[str, str]:
        c = self._creds
        login_url = str(c.get("login_url") or DEFAULT_LOGIN_URL).rstrip("/")
        if c.get("private_key"):
            import jwt

            assertion = jwt.encode(
                {
                    "iss": c["consumer_key"],
                    "sub": c["username"],
                    "aud": login_url,
                    "exp": int(time.time()) + 180,
                },
                c["private_key"],
                algorithm="RS256",
            )
            return {
                "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                "assertion": assertion,
            }
        return {
            "grant_type": "password",
            "client_id": c["consumer_key"],
            "client_secret": c.get("consumer_secret") or "",
            "username": c["username"],
            "password": str(c.get("password") or "") + str(c.get("security_token") or ""),
        }

    def _login(self) -> Any:
        import requests
        from simple_salesforce import Salesforce

        login_url = str(self._creds.get("login_url") or DEFAULT_LOGIN_URL).rstrip("/")
        try:
            response = self._http.post(
                f"{login_url}/services/oauth2/token", data=self._token_request()
            )
        except requests.RequestException as exc:
            raise CrmUnavailable(f"Salesforce cannot be reached ({type(exc).__name__})") from None
        if response.status_code >= 500:
            raise CrmUnavailable(f"Salesforce is unavailable ({response.status_code})")
        if response.status_code != 200:
            try:
                error = str(response.json().get("error") or "refused")[:60]
            except ValueError:
                error = "refused"
            raise CrmAuthError(f"Salesforce refused the sign-in ({error})")
        data = response.json()
        self._sf = Salesforce(
            instance_url=data["instance_url"],
            session_id=data["access_token"],
            session=self._http,
            version=API_VERSION,
        )
        return self._sf

    def _call(self, fn: Callable[[Any], T]) -> T:
        from simple_salesforce.exceptions import SalesforceExpiredSession

        sf = self._sf or self._login()
        try:
            try:
                return fn(sf)
            except SalesforceExpiredSession:
                return fn(self._login())
        except CrmError:
            raise
        except Exception as exc:
            raise _translate(exc) from None

    # --- the interface ---------------------------------------------------------------------

    def check(self) -> None:
        self._call(lambda sf: sf.query("SELECT Id FROM Opportunity LIMIT 1"))

    def search_deals(self, query: str, limit: int = 20) -> list[CrmDealSummary]:
        where = "IsClosed = false"
        if query.strip():
            where += f" AND Name LIKE '%{soql_quote(query.strip()[:100])}%'"
        soql = (
            "SELECT Id, Name, Account.Name FROM Opportunity WHERE "
            f"{where} ORDER BY LastModifiedDate DESC LIMIT {max(1, min(limit, 100))}"
        )
        result = self._call(lambda sf: sf.query(soql))
        return [
            CrmDealSummary(
                id=str(r["Id"]), name=str(r.get("Name") or r["Id"]), account=_account(r)
            )
            for r in result.get("records") or []
        ]

    def get_deal(self, deal_id: str) -> CrmDeal:
        if not _ID.match(deal_id):
            raise CrmNotFound("Salesforce: not an Opportunity id")
        soql = (
            "SELECT Id, Name, Amount, StageName, Account.Name FROM Opportunity "
            f"WHERE Id = '{deal_id}' LIMIT 1"
        )
        records = self._call(lambda sf: sf.query(soql)).get("records") or []
        if not records:
            raise CrmNotFound("Salesforce: no such Opportunity")
        opp = records[0]
        roles_soql = (
            "SELECT Contact.Name, Contact.Title, Role, IsPrimary FROM OpportunityContactRole "
            f"WHERE OpportunityId = '{deal_id}' ORDER BY IsPrimary DESC LIMIT 10"
        )
        roles = self._call(lambda sf: sf.query(roles_soql)).get("records") or []
        contacts = []
        for role in roles:
            contact = role.get("Contact") or {}
            if contact.get("Name"):
                contacts.append(CrmContact(name=contact["Name"], title=contact.get("Title")))
        amount = opp.get("Amount")
        return CrmDeal(
            id=str(opp["Id"]),
            name=str(opp.get("Name") or opp["Id"]),
            account=_account(opp),
            amount=float(amount) if isinstance(amount, int | float) else None,
            stage=opp.get("StageName"),
            contacts=tuple(contacts),
        )

    def save_note(self, deal_id: str, subject: str, body: str, note_id: str | None = None) -> str:
        fields = {
            "Subject": subject[:255],
            "Description": body[:32000],
            "Status": "Completed",
            "ActivityDate": time.strftime("%Y-%m-%d", time.gmtime()),
        }
        if note_id:
            self._call(lambda sf: sf.Task.update(note_id, fields))
            return note_id
        created = self._call(lambda sf: sf.Task.create({**fields, "WhatId": deal_id}))
        return str(created["id"])


def _account(record: dict[str, Any]) -> str | None:
    account = record.get("Account")
    return str(account["Name"]) if isinstance(account, dict) and account.get("Name") else None


def _translate(exc: Exception) -> CrmError:
    import requests
    from simple_salesforce.exceptions import SalesforceError

    if isinstance(exc, requests.RequestException):
        return CrmUnavailable(f"Salesforce cannot be reached ({type(exc).__name__})")
    if isinstance(exc, SalesforceError):
        status = int(getattr(exc, "status", 0) or 0)
        codes = _error_codes(getattr(exc, "content", None))
        if "REQUEST_LIMIT_EXCEEDED" in codes:
            return CrmRateLimited("Salesforce: API request limit exceeded")
        if status == 401 or "INVALID_SESSION_ID" in codes:
            return CrmAuthError("Salesforce refused the session")
        if status == 404:
            return CrmNotFound("Salesforce: not found")
        if status >= 500:
            return CrmUnavailable(f"Salesforce is unavailable ({status})")
        return CrmError(f"Salesforce answered {status}: {', '.join(codes)[:60] or 'error'}")
    return CrmUnavailable(f"Salesforce call failed ({type(exc).__name__})")


def _error_codes(content: Any) -> list[str]:
    items = content if isinstance(content, list) else [content]
    return [str(i.get("errorCode")) for i in items if isinstance(i, dict) and i.get("errorCode")]
