"""The CRM service on both databases: connect (encrypted), pick (prefill + contacts),
save once then update, failures that never stop a review, the key refused at start."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from tests.crm.conftest import SECRET_KEY, crm_settings
from tests.crm.standins import HubSpotStandIn, SalesforceStandIn
from tests.services.conftest import FULL_ANSWERS

from dealcoach.crm import CrmAuthError, CrmUnavailable
from dealcoach.errors import ConfigError
from dealcoach.services.actors import Actor
from dealcoach.services.crm import CrmService, parse_stage_map
from dealcoach.services.reviews import ReviewService

REP = Actor(platform="slack", workspace_id="T1", user_id="U_REP", display_name="Rita")


def _complete(reviews: ReviewService, review_id: int, prefill: dict[str, Any]) -> None:
    view = reviews.get(REP, review_id)
    while view.next_step is not None:
        step = {
            qid: prefill.get(qid, FULL_ANSWERS.get(qid)) for qid in view.next_step.question_ids
        }
        view = reviews.save_answers(REP, review_id, step)
    reviews.complete(REP, review_id, f"k-{review_id}")


def test_hubspot_connect_pick_save_twice(
    store: Any, hubspot: HubSpotStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = crm_settings(store.url, hubspot.url)
    crm = CrmService(store, settings, sleep=lambda s: None)
    crm.connect("slack", "T1", "hubspot", {"token": hubspot.token}, connected_by="U_ADMIN")
    assert crm.provider_for("slack", "T1") == "hubspot"
    stored = store.run(lambda uow: uow.session.execute(
        __import__("sqlalchemy").text("SELECT credentials FROM crm_connection")).scalar_one())
    assert hubspot.token not in stored  # encrypted at rest

    reviews = ReviewService(store)
    review = reviews.start(REP)
    assert [d.name for d in crm.search(REP, "acme")] == ["Acme renewal"]
    picked = crm.pick(REP, review.review_id, "101")
    assert picked.prefill == {
        "deal.name": "Acme renewal", "deal.account": "Acme Corp", "deal.value": 48000.0,
        "deal.stage": "proposal",
    }
    answers = reviews.get(REP, review.review_id).answers
    assert answers["agenda.1.who"] == "Ann Buyer (CFO)"
    assert answers["agenda.2.who"] == "Tom Tech (CTO)"
    assert "deal.name" not in answers  # the step on screen is prefilled, not answered

    _complete(reviews, review.review_id, picked.prefill)
    first = crm.save(REP, review.review_id)
    assert first.ok and first.created
    second = crm.save(REP, review.review_id)
    assert second.ok and not second.created and second.note_ref == first.note_ref
    notes = hubspot.notes_on("101")
    assert len(notes) == 1
    assert "Review " in notes[0]["properties"]["hs_note_body"]
    assert "Saved to HubSpot" in first.message("en")
    assert hubspot.token not in caplog.text and SECRET_KEY not in caplog.text


def test_salesforce_pick_and_save_a_task(store: Any, salesforce: SalesforceStandIn) -> None:
    crm = CrmService(store, crm_settings(store.url), sleep=lambda s: None)
    crm.connect("teams", "tenant-1", "salesforce", salesforce.credentials())
    rep = Actor(platform="teams", workspace_id="tenant-1", user_id="aad-1")
    reviews = ReviewService(store)
    review = reviews.start(rep)
    picked = crm.pick(rep, review.review_id, "006000000000001AAA")
    assert picked.prefill["deal.stage"] == "negotiation"
    assert picked.prefill["deal.account"] == "Initech"
    view = reviews.get(rep, review.review_id)
    while view.next_step is not None:
        step = {q: picked.prefill.get(q, FULL_ANSWERS.get(q)) for q in view.next_step.question_ids}
        view = reviews.save_answers(rep, review.review_id, step)
    reviews.complete(rep, review.review_id, "k")
    assert crm.save(rep, review.review_id).created
    assert not crm.save(rep, review.review_id).created
    assert len(salesforce.tasks_on("006000000000001AAA")) == 1


def test_wrong_credentials_store_nothing(store: Any, hubspot: HubSpotStandIn) -> None:
    crm = CrmService(store, crm_settings(store.url, hubspot.url))
    with pytest.raises(CrmAuthError):
        crm.connect("slack", "T1", "hubspot", {"token": "pat-na1-wrong"})
    assert crm.provider_for("slack", "T1") is None


def test_failures_never_stop_the_review_and_save_retries(
    store: Any, hubspot: HubSpotStandIn
) -> None:
    slept: list[float] = []
    crm = CrmService(store, crm_settings(store.url, hubspot.url), sleep=slept.append)
    crm.connect("slack", "T1", "hubspot", {"token": hubspot.token})
    reviews = ReviewService(store)
    review = reviews.start(REP)
    picked = crm.pick(REP, review.review_id, "101")
    _complete(reviews, review.review_id, picked.prefill)

    hubspot.faults.status, hubspot.faults.times, hubspot.faults.retry_after = 429, 1, "2"
    saved = crm.save(REP, review.review_id)
    assert saved.ok and saved.attempts == 2 and slept == [2.0]  # Retry-After honoured

    hubspot.faults.status, hubspot.faults.times = 503, 5
    failed = crm.save(REP, review.review_id)
    assert not failed.ok and failed.reason == "unavailable" and failed.attempts == 3
    assert "Nothing is lost" in failed.message("en")
    hubspot.faults.times = 0
    assert crm.save(REP, review.review_id).ok  # the claim was released
    assert len(hubspot.notes_on("101")) == 1

    hubspot.revoked = True
    with pytest.raises(CrmAuthError):
        crm.search(REP, "")
    revoked = crm.save(REP, review.review_id)
    assert revoked.reason == "auth" and revoked.attempts == 1
    hubspot.close()
    with pytest.raises(CrmUnavailable):
        crm.pick(REP, reviews.start(REP, deal_name="other").review_id, "101")


def test_save_before_completion_or_without_a_pick(store: Any, hubspot: HubSpotStandIn) -> None:
    crm = CrmService(store, crm_settings(store.url, hubspot.url))
    assert crm.save(REP, ReviewService(store).start(REP).review_id).reason in {
        "not_connected", "no_deal"
    }
    crm.connect("slack", "T1", "hubspot", {"token": hubspot.token})
    reviews = ReviewService(store)
    review = reviews.start(REP, deal_name="typed deal")
    assert crm.save(REP, review.review_id).reason == "no_deal"
    crm.pick(REP, review.review_id, "102")
    assert crm.save(REP, review.review_id).reason == "draft"


def test_missing_key_is_refused_once_a_crm_is_connected(
    store: Any, hubspot: HubSpotStandIn
) -> None:
    keyless = CrmService(store, crm_settings(store.url, hubspot.url, dealcoach_secret_key=None))
    keyless.require_key()  # nothing connected: fine
    with pytest.raises(ConfigError, match="DEALCOACH_SECRET_KEY"):
        keyless.connect("slack", "T1", "hubspot", {"token": hubspot.token})
    CrmService(store, crm_settings(store.url, hubspot.url)).connect(
        "slack", "T1", "hubspot", {"token": hubspot.token}
    )
    with pytest.raises(ConfigError, match="DEALCOACH_SECRET_KEY is not set"):
        keyless.require_key()
    other = CrmService(
        store, crm_settings(store.url, hubspot.url, dealcoach_secret_key="another-key-0123456789")
    )
    with pytest.raises(ConfigError, match="does not open"):
        other.client_for("slack", "T1")
    assert crm_disconnect(store, hubspot)


def crm_disconnect(store: Any, hubspot: HubSpotStandIn) -> bool:
    crm = CrmService(store, crm_settings(store.url, hubspot.url))
    return crm.disconnect("slack", "T1") and crm.provider_for("slack", "T1") is None


def test_stage_map_setting() -> None:
    assert parse_stage_map("custom1=closing, Demo Booked=proposal") == {
        "custom1": "closing", "demo booked": "proposal"
    }
    assert parse_stage_map('{"x": "discovery"}') == {"x": "discovery"}
    with pytest.raises(ConfigError):
        parse_stage_map("x=won")


def test_every_crm_wording_key_used_is_in_both_languages() -> None:
    import re
    from pathlib import Path

    from dealcoach.ui_text import ui_strings

    root = Path(__file__).resolve().parents[2] / "bot" / "dealcoach"
    files = [root / "services" / "crm.py", root / "crm_terminal.py", root / "teams" / "crm.py",
             root / "slack" / "crm_blocks.py", root / "slack" / "listeners" / "crm.py"]
    used: set[str] = set()
    pattern = re.compile(r"\b(?:ct|t)\(\s*[\w.]+,\s*\"([a-z_]+\.[a-z_]+)\"")
    for path in files:
        used |= set(pattern.findall(path.read_text()))
    assert len(used) > 15
    for locale, table in ui_strings("crm").items():
        assert used <= set(table), (locale, sorted(used - set(table)))


def test_salesforce_signs_in_once_for_many_searches(
    store: Any, salesforce: SalesforceStandIn
) -> None:
    crm = CrmService(store, crm_settings(store.url))
    crm.connect("slack", "T1", "salesforce", salesforce.credentials())
    for query in ("i", "in", "ini", "init"):
        assert crm.search(REP, query)
    tokens = [r for r in salesforce.requests if r.path == "/services/oauth2/token"]
    assert len(tokens) == 2  # one to check the credentials at connect, one for the searches


def test_two_clicks_at_once_make_one_note(store: Any, hubspot: HubSpotStandIn) -> None:
    import threading

    crm = CrmService(store, crm_settings(store.url, hubspot.url), sleep=lambda s: None)
    crm.connect("slack", "T1", "hubspot", {"token": hubspot.token})
    reviews = ReviewService(store)
    review = reviews.start(REP)
    _complete(reviews, review.review_id, crm.pick(REP, review.review_id, "101").prefill)
    hubspot.note_delay = 0.5
    results: list[Any] = []
    threads = [threading.Thread(target=lambda: results.append(crm.save(REP, review.review_id)))
               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.ok for r in results) == [False, True]
    assert next(r for r in results if not r.ok).reason == "busy"
    assert len(hubspot.notes_on("101")) == 1


def test_an_updated_review_updates_the_same_note(store: Any, hubspot: HubSpotStandIn) -> None:
    crm = CrmService(store, crm_settings(store.url, hubspot.url), sleep=lambda s: None)
    crm.connect("slack", "T1", "hubspot", {"token": hubspot.token})
    reviews = ReviewService(store)
    review = reviews.start(REP)
    _complete(reviews, review.review_id, crm.pick(REP, review.review_id, "101").prefill)
    first = crm.save(REP, review.review_id)
    updated = reviews.reopen(REP, review.review_id)
    reviews.save_answers(REP, updated.review_id, {"fit.requirements_met": "partly"})
    reviews.complete(REP, updated.review_id, "k-updated")
    again = crm.save(REP, updated.review_id)
    assert again.ok and not again.created and again.note_ref == first.note_ref
    assert len(hubspot.notes_on("101")) == 1
    assert "strengthen" in hubspot.notes_on("101")[0]["properties"]["hs_note_body"]
