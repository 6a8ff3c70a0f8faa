"""The question bank: every contract id and option is there, in both languages; a broken
prompts file fails loudly, naming the file and the id."""

from __future__ import annotations

from pathlib import Path

import pytest

from dealcoach.coach import QuestionBank, load_bank
from dealcoach.coach.bank import content_version
from dealcoach.errors import ContentError, InputError

CONTRACT: dict[str, tuple[str, list[str]]] = {
    "deal.name": ("text", []),
    "deal.account": ("text", []),
    "deal.value": ("number", []),
    "deal.stage": ("choice", ["discovery", "proposal", "negotiation", "closing"]),
    "fit.need": ("text", []),
    "fit.requirements_met": ("choice", ["yes", "partly", "no", "unknown"]),
    "fit.price_market_conform": ("choice", ["yes", "no", "unknown"]),
    "fit.offers_compared": ("choice", ["yes", "no", "unknown"]),
    "benefit.customer_wins": ("text", []),
    "benefit.customer_ready": ("choice", ["yes", "doubtful", "no"]),
    "benefit.we_win": ("text", []),
    "benefit.margin": ("choice", ["healthy", "thin", "below_cost"]),
    "benefit.strategic_reason": ("text", []),
    "benefit.pros_cons_explained": ("choice", ["yes", "partly", "no"]),
    "signals.silent_after_invite": ("choice", ["yes", "no"]),
}
PERSON: dict[str, tuple[str, list[str]]] = {
    "who": ("text", []),
    "role": ("choice", ["economic_buyer", "user", "technical", "champion", "other"]),
    "certainty": ("choice", ["confirmed", "assumed", "unknown"]),
    "translation": ("text", []),
    "new_in_role": ("choice", ["yes", "no", "unknown"]),
    "competitor_relationship": ("choice", ["yes", "no", "unknown"]),
}
INTERESTS = [
    "relationship",
    "power_position",
    "easier_life",
    "personal_agenda",
    "emotional_preference",
    "mood",
    "challenge_risk",
    "values",
    "home_stories",
]


@pytest.mark.parametrize("locale", ["en", "nl"])
def test_every_contract_id_and_option_value_is_in_the_bank(locale: str) -> None:
    bank = load_bank(locale)
    expected = dict(CONTRACT)
    for n in (1, 2, 3):
        for field, spec in PERSON.items():
            expected[f"agenda.{n}.{field}"] = spec
        expected[f"agenda.{n}.interests"] = ("multi_choice", INTERESTS)
    for qid, (qtype, values) in expected.items():
        question = bank.question(qid)
        assert question.type == qtype, qid
        assert list(question.option_values) == values, qid
        assert question.label.strip(), qid
        assert all(o.label.strip() for o in question.options), qid
    assert bank.question("deal.name").required
    assert list(bank.interests) == INTERESTS
    assert "agenda.6.who" in bank.questions and "agenda.7.who" not in bank.questions


def test_users_can_add_their_own_interests(bank_en: QuestionBank) -> None:
    assert bank_en.question("agenda.2.other_interest").type == "text"


def test_dutch_wording_differs_from_english(bank_en: QuestionBank, bank_nl: QuestionBank) -> None:
    same = [q for q in bank_en.questions if bank_en.question(q).label == bank_nl.question(q).label]
    assert same == []
    assert bank_nl.question("fit.price_market_conform").label == "Is onze prijs marktconform?"


def test_follow_up_rules_are_data(bank_en: QuestionBank) -> None:
    assert bank_en.question("benefit.strategic_reason").ask_when is not None
    assert bank_en.question("agenda.2.discovery_plan").ask_when is not None
    assert bank_en.question("deal.name").ask_when is None


def test_content_version_is_a_short_hash_of_the_prompts_files(prompts_copy: Path) -> None:
    before = load_bank("en", prompts_copy).content_version
    assert len(before) == 12
    assert content_version(prompts_copy) == before  # stable: same files, same hash
    words = prompts_copy / "nl" / "questions.yaml"
    words.write_text(words.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert content_version(prompts_copy) != before


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(InputError, match="allowed: en, nl"):
        load_bank("fr")


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("file", "old", "new", "names"),
    [
        (
            "questions.yaml",
            "options: [discovery, proposal",
            "options: [discovery, proposal, [oops",
            ["questions.yaml", "not valid YAML"],
        ),
        (
            "questions.yaml",
            "{id: fit.need, round: fit, type: text}",
            "{id: fit.need, round: fit, type: txt}",
            ["questions.yaml", "fit.need"],
        ),
        (
            "questions.yaml",
            "ask_when: {answer: benefit.margin, in: [thin, below_cost]}",
            "ask_when: {answer: benefit.margin, in: [thin, very_thin]}",
            ["questions.yaml", "benefit.strategic_reason", "very_thin"],
        ),
        (
            "nl/questions.yaml",
            '      below_cost: "Onder de kostprijs"\n',
            "",
            ["nl/questions.yaml", "benefit.margin", "below_cost"],
        ),
        (
            "nl/questions.yaml",
            '    label: "Wat wint de klant?"\n',
            "",
            ["nl/questions.yaml", "benefit.customer_wins"],
        ),
        (
            "rules.yaml",
            'when: {answer: fit.requirements_met, in: ["no"]}',
            'when: {answer: fit.requirement_met, in: ["no"]}',
            ["rules.yaml", "fit.requirements_not_met", "fit.requirement_met"],
        ),
        (
            "nl/rules.yaml",
            '    reason: "De klant wint."\n',
            "",
            ["nl/rules.yaml", "benefit.customer_wins"],
        ),
        (
            "nl/rules.yaml",
            "Je weet nog niet wat {{ names }} persoonlijk",
            "Je weet nog niet wat {{ names } persoonlijk",
            ["nl/rules.yaml", "agenda.key_person_unknown", "template error"],
        ),
        (
            "nl/advice/agenda.j2",
            "{% for p in people %}",
            "{% for p in people %}{% if %}",
            ["nl/advice/agenda.j2", "line"],
        ),
    ],
)
def test_a_broken_prompts_file_names_the_file_and_the_id(
    prompts_copy: Path, file: str, old: str, new: str, names: list[str]
) -> None:
    _replace(prompts_copy / file, old, new)
    with pytest.raises(ContentError) as caught:
        load_bank("nl", prompts_copy)
    message = str(caught.value)
    assert "\n" not in message
    for name in names:
        assert name in message


def test_a_missing_template_is_named(prompts_copy: Path) -> None:
    (prompts_copy / "en" / "advice" / "signals.j2").unlink()
    with pytest.raises(ContentError, match=r"signals\.j2: advice template is missing"):
        load_bank("en", prompts_copy)


# --- pages: which rounds a review shows together ------------------------------------------


@pytest.mark.parametrize("locale", ["en", "nl"])
def test_warning_signals_share_the_benefit_page(locale: str) -> None:
    bank = load_bank(locale)
    assert [r.id for r in bank.rounds] == ["fit", "agenda", "benefit", "signals"]  # kept
    assert bank.pages == (("fit",), ("agenda",), ("benefit", "signals"))
    assert bank.page_index("signals") == bank.page_index("benefit") == 2
    assert bank.page_of("signals") == ("benefit", "signals")
    assert bank.question("signals.silent_after_invite").round == "signals"
    with pytest.raises(ValueError, match="unknown round 'pricing'"):
        bank.page_index("pricing")


PAGES = "pages: [[fit], [agenda], [benefit, signals]]"


@pytest.mark.parametrize(
    ("pages", "message"),
    [
        ("pages: [[fit], [agenda], [benefit]]", "round 'signals' is on no page"),
        (
            "pages: [[fit], [agenda], [benefit, signals], [signals]]",
            "round 'signals' is on more than one page",
        ),
        ("pages: [[fit], [agenda], [signals, benefit]]", "pages must keep the order of `rounds:`"),
        ("pages: [[agenda], [fit], [benefit, signals]]", "pages must keep the order of `rounds:`"),
        ("pages: [[fit], [agenda], [benefit, pricing]]", "round 'pricing' is not listed"),
        ("pages: [[fit], [], [agenda], [benefit, signals]]", "pages[1]: a page needs at least"),
        ("pages: []", "list at least one page"),
        ("pages: [[fit, agenda], [benefit, signals]]", "the agenda round needs a page of its own"),
        ("pages: [fit, agenda, benefit, signals]", "pages.0: Input should be a valid list"),
    ],
)
def test_pages_must_list_every_round_once(prompts_copy: Path, pages: str, message: str) -> None:
    _replace(prompts_copy / "questions.yaml", PAGES, pages)
    with pytest.raises(ContentError) as caught:
        load_bank("en", prompts_copy)
    text = str(caught.value)
    assert "questions.yaml" in text and message in text
    assert "\n" not in text


def test_without_pages_each_round_is_its_own_page(prompts_copy: Path) -> None:
    _replace(prompts_copy / "questions.yaml", PAGES, "")
    bank = load_bank("en", prompts_copy)
    assert bank.pages == (("fit",), ("agenda",), ("benefit",), ("signals",))
    assert bank.page_index("signals") == 3


def test_other_pages_are_data_too(prompts_copy: Path) -> None:
    _replace(prompts_copy / "questions.yaml", PAGES, "pages: [[fit], [agenda, benefit, signals]]")
    with pytest.raises(ContentError, match="agenda round needs a page of its own"):
        load_bank("en", prompts_copy)
    _replace(
        prompts_copy / "questions.yaml",
        "pages: [[fit], [agenda, benefit, signals]]",
        "pages: [[fit], [agenda], [benefit], [signals]]",
    )
    four = load_bank("en", prompts_copy)
    assert four.pages == (("fit",), ("agenda",), ("benefit",), ("signals",))
