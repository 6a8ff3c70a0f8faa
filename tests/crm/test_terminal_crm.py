"""`dealcoach chat` with a CRM: a numbered list with search, the pick's values as the
defaults of the review's questions, Save to CRM offered after the advice (once per review)."""

from __future__ import annotations

from typing import Any

from tests.crm.conftest import crm_settings
from tests.crm.standins import HubSpotStandIn
from tests.services.conftest import FULL_ANSWERS

from dealcoach.cli.chat import ChatReview as TerminalReview
from dealcoach.crm_terminal import offer_save, pick_deal
from dealcoach.services.actors import Actor
from dealcoach.services.crm import CrmService


class ScriptIO:
    def __init__(self, *lines: str) -> None:
        self.lines = list(lines)
        self.out: list[str] = []

    def read(self, prompt: str) -> str:
        self.out.append(prompt)
        if not self.lines:
            raise EOFError
        return self.lines.pop(0)

    def write(self, text: str = "") -> None:
        self.out.append(text)


def test_pick_from_a_numbered_list_then_save_twice(store: Any, hubspot: HubSpotStandIn) -> None:
    settings = crm_settings(store.url, hubspot.url)
    crm = CrmService(store, settings, sleep=lambda s: None)
    crm.connect("cli", "local", "hubspot", {"token": hubspot.token})
    review = TerminalReview.open(settings, user_id="rita", locale="en")
    actor = Actor.local("rita")
    try:
        io = ScriptIO("globex", "", )  # search, then Enter: no pick
        assert pick_deal(crm, actor, review.review_id, "en", io) == {}
        assert any("1. Globex pilot" in line for line in io.out)

        io = ScriptIO("acme", "1")
        defaults = pick_deal(crm, actor, review.review_id, "en", io)
        assert defaults == {
            "deal.name": "Acme renewal", "deal.account": "Acme Corp", "deal.value": 48000,
            "deal.stage": "proposal", "agenda.1.who": "Ann Buyer (CFO)",
            "agenda.2.who": "Tom Tech (CTO)",
        }
        # The rep confirms the defaults (run_review's Enter) and answers the rest.
        answers = {**FULL_ANSWERS, **defaults}
        answers.update({k.replace("agenda.1.", "agenda.2."): v for k, v in FULL_ANSWERS.items()
                        if k.startswith("agenda.1.") and k != "agenda.1.who"})
        review.save(answers)
        review.complete()
    finally:
        review.close()
    io = ScriptIO("y")
    offer_save(crm, actor, review.review_id, "en", io)
    assert "Saved to HubSpot as a note on Acme renewal." in io.out[-1]
    io = ScriptIO("y")
    offer_save(crm, actor, review.review_id, "en", io)
    assert "Updated the note" in io.out[-1]
    assert len(hubspot.notes_on("101")) == 1


def test_a_failing_crm_is_one_line_and_no_pick(store: Any, hubspot: HubSpotStandIn) -> None:
    settings = crm_settings(store.url, hubspot.url)
    crm = CrmService(store, settings)
    crm.connect("cli", "local", "hubspot", {"token": hubspot.token})
    hubspot.faults.status, hubspot.faults.times = 503, 1
    io = ScriptIO()
    assert pick_deal(crm, Actor.local("rita"), 1, "en", io) == {}
    assert io.out == ["HubSpot could not be read (not reachable); the review goes on without it."]
