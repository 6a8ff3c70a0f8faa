"""The Dutch content reads as Netherlands Dutch written by a Dutch coach (issue 12, item 13).

Fails on the constructions listed in prompts/nl/GLOSSARY.md, in the Dutch source files and in
the advice rendered for every casebook deal.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tests.coach.casebook import load_cases

from dealcoach.coach import assess, build_advice, load_bank, render_text, validate_answers
from dealcoach.resources import prompts_dir

NL = prompts_dir() / "nl"
SOURCES = [NL / "rules.yaml", NL / "questions.yaml", *sorted((NL / "advice").glob("*.j2"))]

BAD: list[tuple[str, str]] = [
    (r"\baangenomen\b", "'aangenomen' reads as 'hired': use ingeschat/vermoed"),
    (r"niemand heeft het al bevestigd", "'nog niemand heeft het bevestigd'"),
    (r"eerste doelwit", "calque: 'Zoek eerst uit wat X drijft'"),
    (r"\btot drie\b", "'maximaal drie'"),
    (r"terugkent", "Flemish: 'herkent'"),
    (r"\bherwerk", "Flemish: 'pas aan'"),
    (r"nog maar pas", "Flemish: 'pas kort'"),
    (r"[\"']Andere[\"']", "Flemish option label: 'Overig'"),
    (r"\bAfhaken\b", "label: 'Nee zeggen'"),
    (r"[\"']Versterken[\"']", "label: 'Eerst versterken'"),
    (r"wat hen drijft", "one person: 'wat deze persoon drijft'"),
    (r"in hun eerste jaar", "one person: 'in je eerste jaar' or the name"),
    (r"werkten ze\b", "one person: the name or direct speech"),
    (r"\bhén\b", "one person: the name"),
    (r"\blaat\b[^.!?\n]*\blaat\b", "a double 'laat' in one sentence"),
    (r"\b[A-Z][a-z]+ en [A-Z][a-z]+ (drijft|heeft|wil|is)\b", "two names take a plural verb"),
]


def _check(text: str, where: str) -> list[str]:
    problems = []
    for pattern, hint in BAD:
        for match in re.finditer(pattern, text):
            problems.append(f"{where}: {match.group(0)!r} — {hint}")
    return problems


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(Path(p).relative_to(NL)))
def test_the_dutch_sources_avoid_the_listed_constructions(path: Path) -> None:
    text = "\n".join(
        line
        for line in path.read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("#")
    )
    assert _check(text, path.name) == []


def test_the_dutch_labels_and_terms() -> None:
    bank = load_bank("nl")
    assert bank.labels.recommendations["strengthen"] == "Eerst versterken"
    assert bank.labels.recommendations["walk_away"] == "Nee zeggen"
    assert bank.option_label("agenda.1.certainty", "assumed") == "Ingeschat"
    corpus = "\n".join(p.read_text(encoding="utf-8") for p in SOURCES).lower()
    for term in ("beslisser", "economische beslisser", "dmu", "marktconform", "win-win"):
        assert term in corpus, term
    assert (NL / "GLOSSARY.md").is_file()


def test_the_dutch_advice_of_every_casebook_deal_avoids_the_listed_constructions() -> None:
    bank = load_bank("nl")
    problems: list[str] = []
    for case in load_cases():
        answers = validate_answers(bank, case.answers["nl"])
        text = render_text(build_advice(bank, answers, assess(answers, "nl", bank=bank)), bank=bank)
        problems.extend(_check(text, case.id))
    assert problems == []


def test_the_bad_constructions_are_caught() -> None:
    for sample in (
        "je weet wat Anna en Bram drijft",
        "niemand heeft het al bevestigd",
        "agenda: aangenomen",
        "Breng tot drie beslissers in kaart",
        "met welke leveranciers werkten ze vroeger",
        "laat ze weten dat je het laat zitten",
    ):
        assert _check(sample, "sample"), sample
