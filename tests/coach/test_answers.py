"""Answer validation: one clear message naming the id and what is allowed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from dealcoach.coach import QuestionBank, parse_number, validate_answers
from dealcoach.errors import InputError, InvalidAnswer, InvalidAnswers


def test_valid_answers_are_normalised(bank_en: QuestionBank) -> None:
    answers = validate_answers(
        bank_en,
        {
            "deal.name": "  Acme  ",
            "deal.value": "12,000",
            "deal.stage": "Proposal",
            "fit.requirements_met": True,  # YAML reads a bare yes as true
            "signals.silent_after_invite": False,
            "agenda.1.interests": "mood, values, mood",
            "benefit.margin": "Below cost",  # the label works too
            "fit.need": "",
        },
    )
    assert answers == {
        "deal.name": "Acme",
        "deal.value": 12000.0,
        "deal.stage": "proposal",
        "fit.requirements_met": "yes",
        "signals.silent_after_invite": "no",
        "agenda.1.interests": ["mood", "values"],
        "benefit.margin": "below_cost",
        "fit.need": None,
    }


def test_an_unknown_id_is_named_with_a_suggestion(bank_en: QuestionBank) -> None:
    with pytest.raises(InvalidAnswer) as caught:
        validate_answers(bank_en, {"deal.nam": "x"})
    assert caught.value.question_id == "deal.nam"
    assert "unknown question id" in str(caught.value)
    assert "deal.name" in str(caught.value)


def test_a_seventh_decision_maker_is_unknown(bank_en: QuestionBank) -> None:
    assert bank_en.max_people == 6
    assert validate_answers(bank_en, {"agenda.6.who": "Zoe"}) == {"agenda.6.who": "Zoe"}
    with pytest.raises(InvalidAnswer, match=r"agenda\.7\.who: unknown question id"):
        validate_answers(bank_en, {"agenda.7.who": "Zoe"})


def test_an_option_outside_the_allowed_values_lists_them(bank_en: QuestionBank) -> None:
    with pytest.raises(InvalidAnswer) as caught:
        validate_answers(bank_en, {"benefit.margin": "huge"})
    assert str(caught.value) == (
        "benefit.margin: 'huge' is not allowed; choose one of healthy, thin, below_cost"
    )


def test_a_multi_choice_outside_the_interests_is_refused(bank_en: QuestionBank) -> None:
    with pytest.raises(InvalidAnswer, match=r"agenda\.1\.interests: 'golf' is not allowed"):
        validate_answers(bank_en, {"agenda.1.interests": ["mood", "golf"]})


def test_text_where_a_number_belongs(bank_en: QuestionBank) -> None:
    with pytest.raises(InvalidAnswer, match=r"deal\.value: expected a number like 12000"):
        validate_answers(bank_en, {"deal.value": "a lot"})


def test_a_missing_deal_name_is_refused_when_complete(bank_en: QuestionBank) -> None:
    validate_answers(bank_en, {"fit.need": "x"})  # a draft may lack it
    with pytest.raises(InvalidAnswer, match=r"deal\.name: is required but missing"):
        validate_answers(bank_en, {"fit.need": "x"}, require_complete=True)
    with pytest.raises(InvalidAnswer, match=r"deal\.name: is required and cannot be blank"):
        validate_answers(bank_en, {"deal.name": "   "})


def test_a_100_kb_field_is_refused_with_the_limit(bank_en: QuestionBank) -> None:
    with pytest.raises(InvalidAnswer) as caught:
        validate_answers(bank_en, {"fit.need": "x" * 100_000})
    assert str(caught.value) == ("fit.need: is 100000 characters long; at most 2000 are allowed")


def test_a_nul_byte_is_refused(bank_en: QuestionBank) -> None:
    with pytest.raises(InvalidAnswer, match="NUL byte"):
        validate_answers(bank_en, {"deal.name": "Acme\x00"})


def test_several_bad_fields_come_together_for_forms(bank_en: QuestionBank) -> None:
    with pytest.raises(InvalidAnswers) as caught:
        validate_answers(bank_en, {"deal.value": "x", "deal.stage": "won"})
    assert set(caught.value.errors) == {"deal.value", "deal.stage"}


def test_answers_must_be_a_mapping(bank_en: QuestionBank) -> None:
    with pytest.raises(InputError):
        validate_answers(bank_en, ["deal.name"])  # type: ignore[arg-type]


def test_a_mapping_is_not_text(bank_en: QuestionBank) -> None:
    with pytest.raises(InvalidAnswer, match="expected text, got a mapping"):
        validate_answers(bank_en, {"fit.need": {"a": 1}})


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("12000", 12000),
        ("12,000", 12000),
        ("12.000", 12000),
        ("1,234,567", 1234567),
        ("12.5k", 12500),
        ("12,5k", 12500),
        ("12K", 12000),
        ("€ 1.2m", 1_200_000),
        ("3 500", 3500),
        ("12,000.50", 12000.5),
        ("12.000,50", 12000.5),
        ("99.5", 99.5),
    ],
)
def test_numbers_are_read_the_way_people_type_them(text: str, number: float) -> None:
    assert parse_number(text) == pytest.approx(number)


@pytest.mark.parametrize("text", ["-5", "abc", "12..5", "k", "1e309"])
def test_non_numbers_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_number(text)


def test_a_win_win_fixture_is_valid(
    bank_en: QuestionBank, win_win: Callable[..., dict[str, Any]]
) -> None:
    assert validate_answers(bank_en, win_win(), require_complete=True)["deal.value"] == 48000.0
