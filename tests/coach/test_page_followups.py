"""Follow-ups settled on the page itself (the Slack modal's `dispatch_action`): which inputs of
a page decide a follow-up of it (`followup_triggers`), how the page looks for the values on
screen (`settle_followups` / the service's `settle_page`), and what a submitted page saves
(`page_answers`) — pure, no database."""

from __future__ import annotations

from pathlib import Path

import pytest

from dealcoach.coach import QuestionBank, load_bank, next_step, step_for_round
from dealcoach.coach.machine import followup_triggers, settle_followups
from dealcoach.services.reviews import page_answers, settle_page

MARGIN = "benefit.margin"
REASON = "benefit.strategic_reason"
ROOM = "benefit.renegotiable"


def _page(bank: QuestionBank, round_id: str, people: int | None = None) -> list[str]:
    """The page as first shown: its questions without the follow-ups (nothing answered)."""
    return step_for_round(bank, {}, round_id, people).question_ids


def test_the_inputs_that_decide_a_follow_up_of_their_page(bank_en: QuestionBank) -> None:
    assert followup_triggers(bank_en, _page(bank_en, "fit")) == frozenset()
    assert followup_triggers(bank_en, _page(bank_en, "benefit")) == {MARGIN}
    assert followup_triggers(bank_en, _page(bank_en, "agenda", 2)) == {
        "agenda.1.role",
        "agenda.1.certainty",
        "agenda.2.role",
        "agenda.2.certainty",
    }
    # The machine's follow-up step (the trigger was on the page before): nothing decides.
    assert followup_triggers(bank_en, [REASON, ROOM]) == frozenset()


def test_below_cost_then_thin_then_healthy(bank_en: QuestionBank) -> None:
    page = _page(bank_en, "benefit")
    below = settle_followups(bank_en, page, {MARGIN: "below_cost"})
    at = below.question_ids.index(MARGIN)
    assert below.question_ids[at + 1 : at + 3] == (REASON, ROOM)  # right under the trigger
    assert below.added == (REASON, ROOM) and below.removed == () and below.changed
    thin = settle_followups(bank_en, below.question_ids, {MARGIN: "thin", REASON: "x"})
    assert thin.removed == (ROOM,) and thin.added == () and thin.not_applying == (ROOM,)
    assert thin.question_ids[at + 1] == REASON
    back = settle_followups(bank_en, thin.question_ids, {MARGIN: "below_cost"})
    assert back.question_ids == below.question_ids  # the room goes back after the reason
    healthy = settle_followups(bank_en, back.question_ids, {MARGIN: "healthy"})
    assert healthy.question_ids == tuple(page) and healthy.not_applying == (REASON, ROOM)
    same = settle_followups(bank_en, page, {MARGIN: None})
    assert not same.changed and same.question_ids == tuple(page)


def test_a_whole_page_keeps_its_follow_ups_where_they_are(bank_en: QuestionBank) -> None:
    """Update review shows a page whole, follow-ups in the bank's places; a pick adds a
    follow-up after the ones of its trigger already there, and moves nothing."""
    whole = step_for_round(bank_en, {MARGIN: "thin"}, "benefit").question_ids
    below = settle_followups(bank_en, whole, {MARGIN: "below_cost"})
    assert below.added == (ROOM,)
    assert below.question_ids[below.question_ids.index(REASON) + 1] == ROOM
    assert [q for q in below.question_ids if q != ROOM] == whole


def test_champion_and_discovery_follow_ups_go_under_their_person(bank_en: QuestionBank) -> None:
    page = _page(bank_en, "agenda", 2)
    values = {"agenda.2.role": "champion", "agenda.1.certainty": "unknown"}
    settled = settle_followups(bank_en, page, values)
    ids = list(settled.question_ids)
    assert ids[ids.index("agenda.2.role") + 1 :][:2] == [
        "agenda.2.champion_access",
        "agenda.2.champion_sells",
    ]
    assert ids[ids.index("agenda.1.certainty") + 1] == "agenda.1.discovery_plan"
    assert "agenda.1.champion_access" not in ids and "agenda.2.discovery_plan" not in ids
    assert set(settled.not_applying) == {
        "agenda.1.champion_access",
        "agenda.1.champion_sells",
        "agenda.2.discovery_plan",
    }


def test_values_on_screen_are_read_as_they_would_be_saved(bank_en: QuestionBank) -> None:
    page = _page(bank_en, "benefit")
    # an option's label or another case is the option; a number still being typed is fine
    for typed in ("Below cost", "BELOW_COST", "below-cost"):
        assert settle_page(bank_en, page, {MARGIN: typed}).added == (REASON, ROOM)
    agenda = _page(bank_en, "fit") + _page(bank_en, "agenda")
    settled = settle_page(bank_en, agenda, {"deal.value": "about a lot", "agenda.1.role": "x"})
    assert not settled.changed


@pytest.mark.parametrize("locale", ["en", "nl"])
def test_a_follow_up_that_does_not_apply_is_saved_blank(locale: str) -> None:
    bank = load_bank(locale)
    shown = [*_page(bank, "benefit"), REASON, ROOM]  # an outdated view: still on screen
    raw = {q: None for q in shown} | {MARGIN: "healthy", REASON: "door opener", ROOM: "no"}
    saved = page_answers(bank, shown, raw)
    assert saved[MARGIN] == "healthy" and saved[REASON] is None and saved[ROOM] is None
    # Not on screen and not applying: saved blank too (clears a reopened review's answer).
    raw = {q: None for q in _page(bank, "benefit")} | {MARGIN: "thin"}
    saved = page_answers(bank, _page(bank, "benefit"), raw)
    assert saved[ROOM] is None and REASON not in saved
    # Applying but not on the page (no dispatch): left out, so the machine asks it next.
    raw = {q: None for q in _page(bank, "benefit")} | {MARGIN: "below_cost"}
    saved = page_answers(bank, _page(bank, "benefit"), raw)
    assert REASON not in saved and ROOM not in saved
    answers = {**step_answers(bank), **saved}
    step = next_step(bank, answers)
    assert step is not None and step.is_followup and step.question_ids == [REASON, ROOM]


def step_answers(bank: QuestionBank) -> dict[str, object]:
    """The fit and agenda pages answered (blank), so the benefit page is what is left."""
    return {q: None for q in _page(bank, "fit") + _page(bank, "agenda")} | {"deal.name": "Acme"}


def test_a_follow_up_of_a_follow_up_is_settled_on_the_page_too(prompts_copy: Path) -> None:
    """A follow-up reading another follow-up of the page (here: who owns the strategic
    reason, asked once there is one) comes right after it, and goes when it goes."""
    rule = "    ask_when: {answer: benefit.margin, in: [below_cost]}\n"
    owner = (
        "\n  - id: benefit.reason_owner\n    round: benefit\n    type: text\n"
        "    ask_when: {answer: benefit.strategic_reason, empty: false}\n"
    )
    structure = prompts_copy / "questions.yaml"
    text = structure.read_text(encoding="utf-8")
    structure.write_text(text.replace(rule, rule + owner, 1), encoding="utf-8")
    for locale in ("en", "nl"):
        words = prompts_copy / locale / "questions.yaml"
        text = words.read_text(encoding="utf-8")
        entry = '  benefit.reason_owner:\n    label: "Owner"\n  benefit.margin:\n'
        words.write_text(text.replace("  benefit.margin:\n", entry, 1), encoding="utf-8")
    bank = load_bank("en", prompts_copy)
    page = _page(bank, "benefit")
    assert followup_triggers(bank, page) == {MARGIN}
    below = settle_followups(bank, page, {MARGIN: "below_cost"})
    assert below.added == (REASON, ROOM)  # the reason is empty: no owner yet
    assert followup_triggers(bank, below.question_ids) == {MARGIN, REASON}
    given = settle_followups(bank, below.question_ids, {MARGIN: "below_cost", REASON: "x"})
    ids = given.question_ids
    assert given.added == ("benefit.reason_owner",)
    assert ids[ids.index(REASON) + 1] == "benefit.reason_owner"
    # the margin back to healthy: the reason goes, and with it its owner (blank above)
    healthy = settle_followups(bank, ids, {MARGIN: "healthy", REASON: "x"})
    assert healthy.question_ids == tuple(page)
    assert set(healthy.not_applying) == {REASON, ROOM, "benefit.reason_owner"}
