"""HubSpot through the official `hubspot-api-client` (CRM v3), with a private-app token.

Calls: deal search (`POST /crm/v3/objects/deals/search`), a deal with its associations
(`GET /crm/v3/objects/deals/{id}?associations=contacts,companies`), the company's name
(`GET /crm/v3/objects/companies/{id}`), contacts batch read
(`POST /crm/v3/objects/contacts/batch/read`) and notes (`POST /crm/v3/objects/notes` with
an association to the deal, `PATCH /crm/v3/objects/notes/{id}`). `host` is
`DEALCOACH_HUBSPOT_URL` (tests point it at a stand-in).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
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

DEFAULT_URL = "https://api.hubapi.com"
# HubSpot-defined association type: note → deal.
NOTE_TO_DEAL = 214
DEAL_PROPERTIES = ["dealname", "amount", "dealstage", "pipeline"]

T = TypeVar("T")


class HubSpotClient:
    provider = "hubspot"

    def __init__(self, token: str, host: str | None = None) -> None:
        from hubspot import HubSpot

        # retry=None: the service decides when to try again (and honours Retry-After).
        self._api = HubSpot(access_token=token, host=(host or DEFAULT_URL).rstrip("/"))

    def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, _request_timeout=CALL_TIMEOUT, **kwargs)
        except Exception as exc:
            raise _translate(exc) from None

    def check(self) -> None:
        self.search_deals("", limit=1)

    def search_deals(self, query: str, limit: int = 20) -> list[CrmDealSummary]:
        from hubspot.crm.deals import PublicObjectSearchRequest

        request = PublicObjectSearchRequest(
            filter_groups=[
                {"filters": [{"propertyName": "hs_is_closed", "operator": "EQ", "value": "false"}]}
            ],
            sorts=["-hs_lastmodifieddate"],
            properties=DEAL_PROPERTIES,
            limit=max(1, min(limit, 100)),
            after=0,
        )
        if query.strip():
            request.query = query.strip()[:100]
        page = self._call(
            self._api.crm.deals.search_api.do_search, public_object_search_request=request
        )
        out = []
        for item in page.results or []:
            props = item.properties or {}
            out.append(CrmDealSummary(id=str(item.id), name=props.get("dealname") or str(item.id)))
        return out

    def get_deal(self, deal_id: str) -> CrmDeal:
        deal = self._call(
            self._api.crm.deals.basic_api.get_by_id,
            deal_id,
            properties=DEAL_PROPERTIES,
            associations=["contacts", "companies"],
        )
        props = deal.properties or {}
        assoc = deal.associations or {}
        contact_ids = _assoc_ids(assoc.get("contacts"))
        company_ids = _assoc_ids(assoc.get("companies"))
        account = None
        if company_ids:
            company = self._call(
                self._api.crm.companies.basic_api.get_by_id, company_ids[0], properties=["name"]
            )
            account = (company.properties or {}).get("name")
        contacts: list[CrmContact] = []
        if contact_ids:
            from hubspot.crm.contacts import BatchReadInputSimplePublicObjectId

            batch = self._call(
                self._api.crm.contacts.batch_api.read,
                batch_read_input_simple_public_object_id=BatchReadInputSimplePublicObjectId(
                    inputs=[{"id": cid} for cid in contact_ids[:10]],
                    properties=["firstname", "lastname", "jobtitle"],
                    properties_with_history=[],
                ),
            )
            by_id = {str(r.id): r.properties or {} for r in batch.results or []}
            for cid in contact_ids[:10]:
                p = by_id.get(cid)
                if not p:
                    continue
                name = " ".join(x for x in (p.get("firstname"), p.get("lastname")) if x).strip()
                if name:
                    contacts.append(CrmContact(name=name, title=p.get("jobtitle") or None))
        return CrmDeal(
            id=str(deal.id),
            name=props.get("dealname") or str(deal.id),
            account=account,
            amount=_number(props.get("amount")),
            stage=props.get("dealstage"),
            contacts=tuple(contacts),
        )

    def save_note(self, deal_id: str, subject: str, body: str, note_id: str | None = None) -> str:
        from hubspot.crm.objects.notes import (
            SimplePublicObjectInput,
            SimplePublicObjectInputForCreate,
        )

        html = f"<p><strong>{_html(subject)}</strong></p>" + "".join(
            f"<p>{_html(line)}</p>" for line in body.splitlines() if line.strip()
        )
        properties = {
            "hs_note_body": html,
            "hs_timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace(
                "+00:00", "Z"
            ),
        }
        notes = self._api.crm.objects.notes.basic_api
        if note_id:
            updated = self._call(
                notes.update, note_id, simple_public_object_input=SimplePublicObjectInput(
                    properties=properties
                )
            )
            return str(updated.id)
        created = self._call(
            notes.create,
            simple_public_object_input_for_create=SimplePublicObjectInputForCreate(
                properties=properties,
                associations=[
                    {
                        "to": {"id": deal_id},
                        "types": [
                            {
                                "associationCategory": "HUBSPOT_DEFINED",
                                "associationTypeId": NOTE_TO_DEAL,
                            }
                        ],
                    }
                ],
            ),
        )
        return str(created.id)


def _assoc_ids(value: Any) -> list[str]:
    results = getattr(value, "results", None) or []
    ids: list[str] = []
    for r in results:
        rid = str(getattr(r, "id", "") or "")
        if rid and rid not in ids:
            ids.append(rid)
    return ids


def _number(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _translate(exc: Exception) -> CrmError:
    status = getattr(exc, "status", None)
    if isinstance(status, int) and status > 0:
        if status == 429:
            headers = getattr(exc, "headers", None) or {}
            retry_after = _number(_header(headers, "Retry-After"))
            return CrmRateLimited("HubSpot: too many requests", retry_after)
        if status in (401, 403):
            return CrmAuthError(f"HubSpot refused the access token ({status})")
        if status == 404:
            return CrmNotFound("HubSpot: not found")
        if status >= 500:
            return CrmUnavailable(f"HubSpot is unavailable ({status})")
        return CrmError(f"HubSpot answered {status}: {_category(exc)}")
    return CrmUnavailable(f"HubSpot cannot be reached ({type(exc).__name__})")


def _header(headers: Any, name: str) -> Any:
    try:
        for key, value in dict(headers).items():
            if str(key).lower() == name.lower():
                return value
    except (TypeError, ValueError):
        return None
    return None


def _category(exc: Exception) -> str:
    try:
        body = json.loads(getattr(exc, "body", None) or "{}")
        return str(body.get("category") or "error")[:60]
    except (ValueError, AttributeError):
        return "error"
