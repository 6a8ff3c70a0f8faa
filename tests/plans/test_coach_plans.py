"""The coach side of issue 15 (pure): the committee coverage line (en + nl), the plan rules in
the assessment (a slipping customer step, no plan late in the deal) and that without a plan
status — or with a plan on track — every casebook deal gets exactly the advice it got before;
the wording file is complete in both languages and the Dutch follows GLOSSARY.md."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import pytest
from tests.coach.casebook import load_cases
from tests.coach.test_dutch import _check

from dealcoach.coach import assess, load_bank, validate_answers
from dealcoach.coach.coverage import coverage, coverage_line
from dealcoach.coach.plan_text import format_date, plan_strings
from dealcoach.coach.plans import (
    PlanStatus,
    SlippingStep,
    default_due,
    on_workday,
    progress_line,
)
from dealcoach.errors import ContentError
from dealcoach.resources import prompts_dir
from dealcoach.ui_text import ui_strings

from .conftest import CLOSING

FIVE = {
    "agenda.1.who": "Dana (CFO)",
    "agenda.1.role": "user",
    "agenda.1.certainty": "confirmed",
    "agenda.2.who": "Gerard, IT",
    "agenda.2.role": "technical",
    "agenda.2.certainty": "confirmed",
    "agenda.2.stance": "against",
    "agenda.3.who": "Ans <script>",
    "agenda.3.role": "champion",
    "agenda.3.certainty": "assumed",
    "agenda.3.stance": "against",
}


@pytest.mark.parametrize(
    ("locale", "answers", "expected"),
    [
        ("en", {}, "no decision-makers named yet"),
        (
            "en",
            FIVE,
            "2 of 3 agendas confirmed · no economic buyer named · 2 against (Gerard and "
            "Ans <script>)",
        ),
        (
            "nl",
            FIVE,
            "2 van 3 agenda's bevestigd · geen economische beslisser in beeld · 2 tegen "
            "(Gerard en Ans <script>)",
        ),
        (
            "en",
            {"agenda.1.who": "Dana", "agenda.1.role": "economic_buyer"},
            "0 of 1 agenda confirmed · no champion, user or technical buyer yet",
        ),
        (
            "nl",
            {"agenda.1.who": "Dana", "agenda.1.role": "economic_buyer"},
            "0 van 1 agenda bevestigd · nog geen champion, gebruiker of technische beoordelaar",
        ),
    ],
)
def test_the_coverage_line(locale: str, answers: dict[str, object], expected: str) -> None:
    bank = load_bank(locale)
    cov = coverage(validate_answers(bank, answers), bank)
    assert coverage_line(cov, locale) == expected


def test_coverage_counts_and_escapes_names() -> None:
    bank = load_bank("en")
    cov = coverage(validate_answers(bank, FIVE), bank)
    assert cov.named == 3 and cov.confirmed == 2
    assert cov.roles_covered == frozenset({"user", "technical", "champion"})
    assert cov.missing == ("economic_buyer",)
    assert cov.against == ("Gerard", "Ans <script>")
    assert "Ans &lt;script&gt;" in coverage_line(cov, "en", "slack")
    assert "Ans \\<script\\>" not in coverage_line(cov, "en", "slack")


def test_progress_lines_and_dates() -> None:
    status = PlanStatus(total=5, done=2, overdue=1, customer_overdue=1)
    assert (
        progress_line(status, "en")
        == "2 of 5 steps done, 1 overdue, 1 of them on the customer's side"
    )
    assert (
        progress_line(status, "nl") == "2 van 5 stappen gedaan, 1 te laat, waarvan 1 bij de klant"
    )
    assert progress_line(PlanStatus(total=1, done=1), "en") == "1 of 1 step done"
    assert progress_line(None, "nl") == "nog geen afsluitplan"
    assert format_date(date(2026, 5, 12), "en") == "Tue 12 May"
    assert format_date(date(2026, 5, 12), "nl") == "di 12 mei"
    assert on_workday(date(2026, 6, 6)) == date(2026, 6, 8)  # Saturday → Monday
    assert on_workday(date(2026, 6, 7)) == date(2026, 6, 8)  # Sunday → Monday
    assert default_due(date(2026, 6, 1)) == date(2026, 6, 8)
    assert default_due(date(2026, 5, 30)) == date(2026, 6, 8)  # Sat + 7 = Sat → Monday


SLIPPING = PlanStatus(
    total=3,
    done=1,
    overdue=2,
    customer_overdue=2,
    slipping=(SlippingStep("Sign the order form", "Dana (CFO)", date(2026, 6, 2)),),
)
ON_TRACK = PlanStatus(total=3, done=1)


@pytest.mark.parametrize("locale", ["en", "nl"])
def test_without_a_plan_status_or_on_track_every_casebook_deal_is_unchanged(locale: str) -> None:
    bank = load_bank(locale)
    for case in load_cases():
        answers = validate_answers(bank, case.answers[locale])
        before = assess(answers, locale, bank=bank)
        assert assess(answers, locale, bank=bank, plan_status=None) == before, case.id
        assert assess(answers, locale, bank=bank, plan_status=ON_TRACK) == before, case.id


@pytest.mark.parametrize("locale", ["en", "nl"])
def test_plan_rules_never_change_the_verdict_and_agree_with_it(locale: str) -> None:
    bank = load_bank(locale)
    for case in load_cases():
        answers = validate_answers(bank, case.answers[locale])
        before = assess(answers, locale, bank=bank)
        for status in (PlanStatus(), SLIPPING):
            after = assess(answers, locale, bank=bank, plan_status=status)
            assert (after.recommendation, after.quadrant) == (
                before.recommendation,
                before.quadrant,
            ), case.id
            assert set(after.flags) - set(before.flags) <= {"plan_slipping"}, case.id
            rules = {a.rule for a in after.actions + after.later}
            if after.recommendation == "walk_away":
                assert not rules & {"plan.slipping", "plan.missing_late_stage"}, case.id
            if status is SLIPPING:
                assert "plan_slipping" in after.flags, case.id


def test_a_slipping_customer_step_is_a_flag_and_a_concrete_move() -> None:
    for locale, start in (
        ("en", "Call Dana this week about “Sign the order form”, due Tue 2 Jun (and 1 more"),
        ("nl", "Bel Dana deze week over de stap ‘Sign the order form’, die voor di 2 jun"),
    ):
        bank = load_bank(locale)
        answers = validate_answers(bank, {**CLOSING, "deal.name": "Acme"})
        result = assess(answers, locale, bank=bank, plan_status=SLIPPING)
        assert "plan_slipping" in result.flags
        finding = next(f for f in result.findings if f.flag == "plan_slipping")
        assert "Sign the order form" in finding.reason
        move = next(a for a in result.actions if a.rule == "plan.slipping")
        assert move.text.startswith(start), move.text


PURSUE = {
    **CLOSING,
    "deal.name": "Acme",
    "agenda.1.translation": "A board dashboard",
    "agenda.2.certainty": "confirmed",
    "agenda.2.translation": "A promotion",
    "agenda.2.champion_access": "yes",
    "agenda.2.champion_sells": "yes",
    "agenda.3.stance": "for",
    "agenda.3.certainty": "confirmed",
    "agenda.3.translation": "Less on-call",
}


def test_no_plan_late_in_the_deal_is_a_move_to_agree_one_with_the_buyer() -> None:
    for locale, words in (
        ("en", "Agree a mutual close plan with Dana"),
        ("nl", "Spreek met Dana een gezamenlijk afsluitplan af"),
    ):
        bank = load_bank(locale)
        for answers_in, verdict in (
            (PURSUE, "pursue"),
            ({**PURSUE, "benefit.pros_cons_explained": "partly"}, "strengthen"),
        ):
            answers = validate_answers(bank, answers_in)
            plain = assess(answers, locale, bank=bank)
            result = assess(answers, locale, bank=bank, plan_status=PlanStatus())
            assert plain.recommendation == result.recommendation == verdict
            rules = [a.rule for a in result.actions + result.later]
            agree = [
                a for a in result.actions + result.later if a.rule == "plan.missing_late_stage"
            ]
            assert len(agree) == 1 and agree[0].text.startswith(words), rules
            # With pursue the close plan replaces the bare decision date.
            assert "verdict.pursue" not in rules
            if verdict == "pursue":
                assert "verdict.pursue" in {a.rule for a in plain.actions + plain.later}
        # Not before negotiation: no plan is fine in discovery.
        early = validate_answers(bank, {**PURSUE, "deal.stage": "discovery"})
        moves = assess(early, locale, bank=bank, plan_status=PlanStatus())
        assert all(a.rule != "plan.missing_late_stage" for a in moves.actions + moves.later)


def test_the_wording_file_has_the_same_keys_in_both_languages(tmp_path: Path) -> None:
    tables = plan_strings()
    assert set(tables["en"]) == set(tables["nl"])
    assert ui_strings("plan") == tables  # the adapters read the same file as a surface
    copy = tmp_path / "prompts"
    shutil.copytree(prompts_dir(), copy)
    nl = copy / "nl" / "plan.yaml"
    nl.write_text(re.sub(r"(?m)^reminder\.drop:.*\n", "", nl.read_text("utf-8")), "utf-8")
    with pytest.raises(ContentError) as err:
        plan_strings(copy)
    assert "nl/plan.yaml" in str(err.value) and "reminder.drop" in str(err.value)


def test_the_dutch_plan_wording_follows_the_glossary() -> None:
    path = prompts_dir() / "nl" / "plan.yaml"
    text = "\n".join(
        line for line in path.read_text("utf-8").splitlines() if not line.lstrip().startswith("#")
    )
    assert _check(text, "plan.yaml") == []
    bank = load_bank("nl")
    answers = validate_answers(bank, {**CLOSING, "deal.name": "Acme"})
    for status in (PlanStatus(), SLIPPING):
        result = assess(answers, "nl", bank=bank, plan_status=status)
        rendered = "\n".join([a.text + " " + a.why for a in result.actions + result.later])
        assert _check(rendered, "nl advice") == []


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"not": {"plan": ["none"]}}, "cannot be negated"),
        ({"plan": ["late"]}, "unknown plan state"),
        ({"plan": "none"}, "list of plan states"),
    ],
)
def test_plan_conditions_are_checked_at_load(
    tmp_path: Path, rule: dict[str, object], message: str
) -> None:
    import yaml

    copy = tmp_path / "prompts"
    shutil.copytree(prompts_dir(), copy)
    path = copy / "rules.yaml"
    raw = yaml.safe_load(path.read_text("utf-8"))
    for item in raw["rules"]:
        if item["id"] == "plan.missing_late_stage":
            item["when"] = rule
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), "utf-8")
    with pytest.raises(ContentError) as err:
        load_bank("en", copy)
    assert message in str(err.value)
