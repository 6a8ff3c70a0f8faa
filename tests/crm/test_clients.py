"""The CRM clients against the stand-ins: the calls, the shapes, the errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.crm.standins import HubSpotStandIn, SalesforceStandIn

from dealcoach.crm import CrmAuthError, CrmRateLimited, CrmUnavailable, make_client


def _hub(standin: HubSpotStandIn, token: str | None = None):  # type: ignore[no-untyped-def]
    return make_client("hubspot", {"token": token or standin.token}, hubspot_url=standin.url)


def test_hubspot_search_get_and_note_once(hubspot: HubSpotStandIn) -> None:
    client = _hub(hubspot)
    found = client.search_deals("acme")
    assert [d.name for d in found] == ["Acme renewal"]  # the closed deal is not offered
    search = hubspot.requests[-1]
    assert search.body["filterGroups"][0]["filters"][0]["propertyName"] == "hs_is_closed"
    assert search.body["query"] == "acme"

    deal = client.get_deal("101")
    assert (deal.name, deal.account, deal.amount, deal.stage) == (
        "Acme renewal", "Acme Corp", 48000.0, "presentationscheduled"
    )
    assert [c.label for c in deal.contacts] == ["Ann Buyer (CFO)", "Tom Tech (CTO)"]
    paths = [r.path for r in hubspot.requests]
    assert "/crm/v3/objects/contacts/batch/read" in paths
    get = next(r for r in hubspot.requests if r.path == "/crm/v3/objects/deals/101")
    assert set(",".join(get.query["associations"]).split(",")) == {"contacts", "companies"}

    note = client.save_note("101", "Deal review: pursue", "line one\n<b>two</b>")
    again = client.save_note("101", "Deal review: strengthen", "line three", note)
    assert again == note
    notes = hubspot.notes_on("101")
    assert len(notes) == 1
    assert "strengthen" in notes[0]["properties"]["hs_note_body"]
    assert "&lt;b&gt;" not in notes[0]["properties"]["hs_note_body"]  # replaced whole
    assert notes[0]["properties"]["hs_timestamp"].endswith("Z")


def test_hubspot_errors_are_told_apart(hubspot: HubSpotStandIn) -> None:
    with pytest.raises(CrmAuthError):
        _hub(hubspot, token="pat-na1-revoked").check()
    hubspot.faults.status, hubspot.faults.times, hubspot.faults.retry_after = 429, 1, "3"
    with pytest.raises(CrmRateLimited) as info:
        _hub(hubspot).search_deals("")
    assert info.value.retry_after == 3.0
    hubspot.faults.status, hubspot.faults.times = 503, 1
    with pytest.raises(CrmUnavailable):
        _hub(hubspot).search_deals("")
    url = hubspot.url
    hubspot.close()
    with pytest.raises(CrmUnavailable):
        make_client("hubspot", {"token": hubspot.token}, hubspot_url=url).search_deals("")


def test_salesforce_password_flow_query_and_task(salesforce: SalesforceStandIn) -> None:
    client = make_client("salesforce", salesforce.credentials())
    found = client.search_deals("init")
    assert [(d.name, d.account) for d in found] == [("Initech expansion", "Initech")]
    token = salesforce.requests[0]
    assert token.path == "/services/oauth2/token"
    assert token.body["grant_type"] == "password"
    deal = client.get_deal("006000000000001AAA")
    assert (deal.amount, deal.stage) == (125000.0, "Negotiation/Review")
    assert [c.label for c in deal.contacts] == ["Peter Gibbons (VP Operations)", "Bill Lumbergh"]
    task = client.save_note(deal.id, "Deal review: pursue", "body")
    assert client.save_note(deal.id, "Deal review: walk_away", "body 2", task) == task
    tasks = salesforce.tasks_on(deal.id)
    assert len(tasks) == 1 and tasks[0]["Subject"] == "Deal review: walk_away"


def test_salesforce_search_text_cannot_break_out_of_soql(salesforce: SalesforceStandIn) -> None:
    client = make_client("salesforce", salesforce.credentials())
    assert client.search_deals("x' OR Name != '") == []
    soql = salesforce.requests[-1].query["q"][0]
    assert "\\'" in soql


def test_salesforce_jwt_bearer_flow(salesforce: SalesforceStandIn, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    salesforce.jwt_public_key = key.public_key()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    client = make_client("salesforce", {
        "login_url": salesforce.url, "username": salesforce.username,
        "consumer_key": salesforce.consumer_key, "private_key": pem,
    })
    assert client.search_deals("")
    assert salesforce.requests[0].body["grant_type"].endswith("jwt-bearer")


def test_salesforce_limits_revocation_and_expired_session(salesforce: SalesforceStandIn) -> None:
    client = make_client("salesforce", salesforce.credentials())
    client.check()
    salesforce.faults.status, salesforce.faults.times = 403, 1
    with pytest.raises(CrmRateLimited):
        client.search_deals("")
    salesforce.sessions.clear()  # session expired: signs in again once
    assert client.search_deals("")
    salesforce.sessions.clear()
    salesforce.revoked = True
    with pytest.raises(CrmAuthError):
        client.search_deals("")
