"""The assessment rules: every core rule of DESIGN.md and every flag, with reasons."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from dealcoach.coach import Assessment, QuestionBank, assess, validate_answers

Make = Callable[..., dict[str, Any]]


def run(bank: QuestionBank, answers: dict[str, Any]) -> Assessment:
    return assess(validate_answers(bank, answers), bank.locale, bank=bank)


def test_a_healthy_deal_is_win_win_and_pursued(bank_en: QuestionBank, win_win: Make) -> None:
    result = run(bank_en, win_win())
    assert (result.quadrant, result.recommendation) == ("win_win", "pursue")
    assert result.flags == []
    assert "verdict.pursue" in result.rules
    assert "Anna Peeters" in result.recommendation_reason
    assert "Anna Peeters, CFO" not in result.recommendation_reason  # the short name
    assert result.next_steps and "Anna Peeters" in result.next_steps[0]
    # the rep's own words become a move, and the decision date comes with pursue
    assert [a.rule for a in result.actions][:2] == ["agenda.win_spelled_out", "verdict.pursue"]
    assert "she can show the board a cost cut" in result.actions[0].text
    assert all(a.why for a in result.actions)
    assert result.next_steps == [a.text for a in result.actions + result.later]


# --- rule 1: business first ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "rule"),
    [
        ("fit__requirements_met", "fit.requirements_not_met"),
        ("fit__price_market_conform", "fit.price_not_market_conform"),
    ],
)
def test_rule1_not_market_conform_is_never_pursued(
    bank_en: QuestionBank, win_win: Make, field: str, rule: str
) -> None:
    result = run(bank_en, win_win(**{field: "no"}))
    assert "not_market_conform" in result.flags
    assert rule in result.rules
    assert result.recommendation != "pursue"
    finding = next(f for f in result.findings if f.flag == "not_market_conform")
    assert "business round" in finding.reason


def test_rule1_requirements_not_met_advises_fix_fit_or_qualify_out(
    bank_en: QuestionBank, win_win: Make
) -> None:
    result = run(bank_en, win_win(fit__requirements_met="no"))
    assert result.recommendation == "strengthen"
    assert "qualify out" in result.recommendation_reason
    assert any("qualify out" in step for step in result.next_steps)


@pytest.mark.parametrize("value", ["unknown", None])
def test_rule1_unknown_fit_is_flagged_unverified(
    bank_en: QuestionBank, win_win: Make, value: str | None
) -> None:
    result = run(bank_en, win_win(fit__price_market_conform=value))
    assert "fit_unverified" in result.flags
    assert result.recommendation == "strengthen"


# --- rule 2: the customer must be served ------------------------------------------------------


def test_rule2_customer_not_ready_means_walk_away(bank_en: QuestionBank, win_win: Make) -> None:
    result = run(bank_en, win_win(benefit__customer_ready="no"))
    assert result.customer_side == "lose"
    assert result.quadrant == "lose_win"
    assert result.recommendation == "walk_away"
    assert "customer_not_ready" in result.flags
    assert any("lighter package" in step for step in result.next_steps)
    assert {a.rule for a in result.actions} == {"benefit.customer_not_served"}


def test_rule2_doubtful_readiness_is_flagged_but_not_lost(
    bank_en: QuestionBank, win_win: Make
) -> None:
    result = run(bank_en, win_win(benefit__customer_ready="doubtful"))
    assert "customer_not_ready" in result.flags
    assert (result.quadrant, result.recommendation) == ("win_win", "strengthen")


# --- rule 3: we must be served too -----------------------------------------------------------


def test_rule3_below_cost_without_reason_walks_away(bank_en: QuestionBank, win_win: Make) -> None:
    result = run(bank_en, win_win(benefit__margin="below_cost", benefit__renegotiable="no"))
    assert "below_cost_no_reason" in result.flags
    assert result.our_side == "lose"
    assert result.quadrant == "win_lose"
    assert result.recommendation == "walk_away"
    # win-lose: the customer wins, so saying no protects us, not "the customer"
    assert "below our cost" in result.actions[0].text


@pytest.mark.parametrize("renegotiable", ["unknown", None])
def test_rule3_below_cost_with_unknown_room_finds_out_first(
    bank_en: QuestionBank, win_win: Make, renegotiable: str | None
) -> None:
    result = run(bank_en, win_win(benefit__margin="below_cost", benefit__renegotiable=renegotiable))
    assert "below_cost_no_reason" in result.flags
    assert result.recommendation == "renegotiate"
    assert "no room" not in result.recommendation_reason
    assert result.actions[0].rule == "benefit.below_cost_terms_unknown"
    assert "Find out by Friday" in result.actions[0].text


def test_rule3_below_cost_but_renegotiable_renegotiates(
    bank_en: QuestionBank, win_win: Make
) -> None:
    result = run(bank_en, win_win(benefit__margin="below_cost", benefit__renegotiable="yes"))
    assert "below_cost_no_reason" in result.flags
    assert result.recommendation == "renegotiate"


def test_rule3_below_cost_with_a_strategic_reason_can_win(
    bank_en: QuestionBank, win_win: Make
) -> None:
    result = run(
        bank_en,
        win_win(benefit__margin="below_cost", benefit__strategic_reason="lighthouse customer"),
    )
    assert "below_cost_no_reason" not in result.flags
    assert (result.quadrant, result.recommendation) == ("win_win", "pursue")


def test_both_sides_losing_is_lose_lose_and_walk_away(bank_en: QuestionBank, win_win: Make) -> None:
    result = run(bank_en, win_win(benefit__margin="below_cost", benefit__customer_ready="no"))
    assert (result.quadrant, result.recommendation) == ("lose_lose", "walk_away")


# --- rule 4: the personal round --------------------------------------------------------------


def test_rule4_every_agenda_unknown_is_at_best_strengthen(
    bank_en: QuestionBank, win_win: Make
) -> None:
    result = run(bank_en, win_win(agenda__1__certainty="unknown"))
    assert "agenda_unknown" in result.flags
    assert result.recommendation == "strengthen"


def test_rule4_nobody_named_is_agenda_unknown(bank_en: QuestionBank, win_win: Make) -> None:
    answers = {k: v for k, v in win_win().items() if not k.startswith("agenda.")}
    result = run(bank_en, answers)
    assert "agenda_unknown" in result.flags
    assert result.recommendation == "strengthen"


def test_key_person_unknown_says_their_win_weighs_most(
    bank_en: QuestionBank, win_win: Make
) -> None:
    result = run(
        bank_en,
        win_win(
            agenda__2__who="Bram",
            agenda__2__role="champion",
            agenda__2__certainty="unknown",
            agenda__2__interests=["easier_life"],
        ),
    )
    assert "key_person_unknown" in result.flags
    assert "agenda_unknown" not in result.flags  # Anna's agenda is confirmed
    finding = next(f for f in result.findings if f.flag == "key_person_unknown")
    assert "Bram" in finding.reason and "weigh the most" in finding.reason
    assert any(
        a.rule == "agenda.person_unknown" and "Bram" in a.text and "weighs the most" in a.why
        for a in result.actions
    )


def test_no_economic_buyer_is_flagged(bank_en: QuestionBank, win_win: Make) -> None:
    result = run(bank_en, win_win(agenda__1__role="user"))
    assert "economic_buyer_missing" in result.flags


def test_a_known_agenda_without_a_translation_is_flagged(
    bank_en: QuestionBank, win_win: Make
) -> None:
    result = run(bank_en, win_win(agenda__1__translation=None))
    assert "translation_missing" in result.flags


# --- rule 5: pursue only when everything holds --------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"fit__requirements_met": "partly"},
        {"agenda__1__certainty": "unknown"},
        {"benefit__customer_wins": None},
        {"benefit__margin": None},
    ],
)
def test_rule5_pursue_needs_both_wins_fit_and_a_known_agenda(
    bank_en: QuestionBank, win_win: Make, change: dict[str, Any]
) -> None:
    assert run(bank_en, win_win(**change)).recommendation != "pursue"


def test_an_assumed_agenda_is_enough_to_pursue(bank_en: QuestionBank, win_win: Make) -> None:
    assert run(bank_en, win_win(agenda__1__certainty="assumed")).recommendation == "pursue"


def test_not_enough_known_is_unclear(bank_en: QuestionBank) -> None:
    result = run(bank_en, {"deal.name": "Empty"})
    assert result.quadrant == "unclear"
    assert result.recommendation == "strengthen"


# --- signals and the other flags ------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "flag"),
    [
        ({"agenda__1__competitor_relationship": "yes"}, "competitor_relationship"),
        ({"agenda__1__new_in_role": "yes"}, "new_decision_maker"),
        ({"signals__silent_after_invite": "yes"}, "silent_after_invite"),
        ({"benefit__pros_cons_explained": "no"}, "cons_not_explained"),
        ({"benefit__pros_cons_explained": "partly"}, "cons_not_explained"),
        ({"fit__offers_compared": "no", "deal__stage": "closing"}, "decision_before_comparison"),
        ({"benefit__margin": "thin"}, "thin_margin_no_reason"),
    ],
)
def test_each_signal_raises_its_flag_with_a_reason(
    bank_en: QuestionBank, win_win: Make, change: dict[str, Any], flag: str
) -> None:
    result = run(bank_en, win_win(**change))
    assert flag in result.flags
    finding = next(f for f in result.findings if f.flag == flag)
    assert finding.reason and finding.label
    if flag != "thin_margin_no_reason":
        assert result.recommendation == "strengthen"


def test_a_named_signal_names_the_person(bank_en: QuestionBank, win_win: Make) -> None:
    result = run(bank_en, win_win(agenda__1__new_in_role="yes"))
    finding = next(f for f in result.findings if f.flag == "new_decision_maker")
    assert finding.reason.startswith("Anna Peeters is new in the role")


def test_the_dutch_assessment_is_worded_in_dutch(bank_nl: QuestionBank, win_win: Make) -> None:
    result = run(bank_nl, win_win(fit__price_market_conform="no"))
    assert result.locale == "nl"
    finding = next(f for f in result.findings if f.flag == "not_market_conform")
    assert "marktconform" in finding.reason
    assert "laat ons op prijs vallen" in result.recommendation_reason


def test_every_contract_flag_can_be_raised(bank_en: QuestionBank, win_win: Make) -> None:
    raised: set[str] = set()
    for change in [
        {"fit__requirements_met": "no", "fit__price_market_conform": "unknown"},
        {"agenda__1__certainty": "unknown", "agenda__1__competitor_relationship": "yes"},
        {"agenda__1__new_in_role": "yes", "benefit__margin": "below_cost"},
        {"benefit__customer_ready": "no", "benefit__pros_cons_explained": "no"},
        {"signals__silent_after_invite": "yes"},
    ]:
        raised |= set(run(bank_en, win_win(**change)).flags)
    assert {
        "not_market_conform",
        "fit_unverified",
        "agenda_unknown",
        "competitor_relationship",
        "new_decision_maker",
        "below_cost_no_reason",
        "customer_not_ready",
        "cons_not_explained",
        "silent_after_invite",
    } <= raised


# --- coaching hints beyond the contract flags ----------------------------------------------


def test_an_assumed_agenda_is_flagged_and_a_confirmation_step_is_advised(
    bank_en: QuestionBank, win_win: Make
) -> None:
    result = run(bank_en, win_win(agenda__1__certainty="assumed"))
    # Rule 5 still allows pursue on an assumed agenda; the advice asks to confirm it.
    assert result.recommendation == "pursue"
    assert "agenda_assumed" in result.flags
    rules = [a.rule for a in result.actions]
    assert "agenda.assumed_not_confirmed" in rules
    # the assumption is tested before anyone is asked for a date
    assert rules.index("agenda.assumed_not_confirmed") < rules.index("verdict.pursue")


def test_no_champion_among_named_people_adds_a_step_but_no_flag(
    bank_en: QuestionBank, win_win: Make
) -> None:
    with_champion = run(bank_en, win_win(agenda__2__who="Piet", agenda__2__role="champion"))
    without = run(bank_en, win_win())
    assert not any("Find a champion" in s for s in with_champion.next_steps)
    assert any("Find a champion" in s for s in without.next_steps)
    assert "agenda.no_champion" in without.rules
    assert without.flags == []


# --- the group: stance and conflicts between decision-makers -------------------------------


@pytest.mark.parametrize(
    ("second", "rule"),
    [
        ({"agenda__1__stance": "against", "agenda__2__stance": "for"}, "agenda.stance_split"),
        (
            {"agenda__2__role": "champion", "agenda__1__competitor_relationship": "yes"},
            "agenda.champion_beside_competitor",
        ),
        (
            {"agenda__1__stance": "unknown", "agenda__2__role": "user", "agenda__2__stance": "for"},
            "agenda.buyer_stance_unknown",
        ),
    ],
)
def test_decision_makers_in_conflict_are_named_with_one_bridging_move(
    bank_en: QuestionBank, win_win: Make, second: dict[str, Any], rule: str
) -> None:
    base = {
        "agenda__2__who": "Bram de Vries (IT lead)",
        "agenda__2__role": "user",
        "agenda__2__certainty": "confirmed",
        "agenda__2__translation": "fewer tickets",
    }
    answers = win_win(**{**base, **second})
    result = run(bank_en, answers)
    assert "interests_conflict" in result.flags
    assert rule in result.rules
    assert result.recommendation == "strengthen"
    finding = next(f for f in result.findings if f.flag == "interests_conflict")
    assert "Anna Peeters" in finding.reason and "Bram de Vries" in finding.reason
    bridging = [a for a in result.actions if a.rule == rule]
    assert len(bridging) == 1 and result.actions[0] == bridging[0]


def test_an_untested_champion_gets_a_concrete_test(bank_en: QuestionBank, win_win: Make) -> None:
    result = run(
        bank_en,
        win_win(
            agenda__2__who="Piet",
            agenda__2__role="champion",
            agenda__2__certainty="confirmed",
            agenda__2__champion_access="no",
            agenda__2__champion_sells="yes",
        ),
    )
    assert "champion_untested" in result.flags
    move = next(a for a in result.actions if a.rule == "agenda.champion_untested")
    assert "meeting with Anna Peeters" in move.text
    assert "forward our proposal" not in move.text  # Piet already sells for us
    tested = run(
        bank_en,
        win_win(
            agenda__2__who="Piet",
            agenda__2__role="champion",
            agenda__2__champion_access="yes",
            agenda__2__champion_sells="yes",
        ),
    )
    assert "champion_untested" not in tested.flags


def test_the_new_questions_are_in_both_languages(
    bank_en: QuestionBank, bank_nl: QuestionBank
) -> None:
    for bank in (bank_en, bank_nl):
        stance = bank.question("agenda.1.stance")
        assert stance.option_values == ("for", "neutral", "against", "unknown")
        for qid in ("agenda.1.champion_access", "agenda.1.champion_sells"):
            assert bank.question(qid).ask_when is not None
