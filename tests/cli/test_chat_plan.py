"""`dealcoach chat` and the close plan (issue 15): *Add to plan* after the advice in an
interactive review (numbers, owner, date, with bad input asked again), `--add-to-plan N,N`
without prompts, an answers file that never prompts, and six decision-makers in one review.
The real command in a subprocess, English and Dutch."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.cli.test_chat import GOOD, INTERACTIVE, chat, write
from tests.cli.test_plan import dealcoach

from dealcoach.coach import load_bank
from dealcoach.coach.plan_text import format_date

MAX_PEOPLE = load_bank("en").max_people


def six_people() -> dict[str, Any]:
    answers = dict(GOOD)
    roles = ["economic_buyer", "champion", "champion", "technical", "user", "other"]
    for n, role in enumerate(roles, 1):
        answers[f"agenda.{n}.who"] = f"Person {n}"
        answers[f"agenda.{n}.role"] = role
        answers[f"agenda.{n}.certainty"] = "confirmed" if n % 2 else "assumed"
    answers["agenda.2.champion_access"] = "no"
    answers["agenda.2.champion_sells"] = "yes"
    answers["agenda.3.champion_access"] = "yes"
    answers["agenda.3.champion_sells"] = "no"
    return answers


def test_the_bank_holds_six_decision_makers() -> None:
    assert MAX_PEOPLE == 6


def test_six_decision_makers_in_an_answers_file(tmp_path: Path) -> None:
    result = chat(tmp_path, "--answers", str(write(tmp_path, "six.yaml", six_people())), "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    for n in range(1, 7):
        assert f"Person {n}" in payload["advice"]
    assert "champion_untested" in payload["assessment"]["flags"]


def test_an_answers_file_never_prompts_or_plans(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yaml", GOOD)
    result = chat(tmp_path, "--answers", str(path), "--user", "ruth", stdin="1,2\n\n\n")
    assert result.returncode == 0, result.stderr
    assert "Add to plan" not in result.stdout
    assert "Numbers to add" not in result.stdout
    shown = dealcoach(tmp_path, "plan", "--deal", "Acme CRM", "--user", "ruth")
    assert "No steps in this plan yet" in shown.stdout, shown.stderr


def test_add_to_plan_without_prompts(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yaml", GOOD)
    result = chat(tmp_path, "--answers", str(path), "--user", "ruth", "--add-to-plan", "2,1,2")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("Added to the plan of Acme CRM, due") == 2
    again = chat(tmp_path, "--answers", str(path), "--user", "ruth", "--add-to-plan", "1")
    # A new review of the same deal: its move 1 is the same text, but from another review.
    assert again.returncode == 0, again.stderr
    shown = dealcoach(tmp_path, "plan", "--deal", "Acme CRM", "--user", "ruth").stdout
    assert len(re.findall(r"#\d+", shown)) >= 2


def test_add_to_plan_in_dutch_with_json_keeps_stdout_json(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yaml", GOOD)
    result = chat(tmp_path, "--answers", str(path), "--json", "--lang", "nl", "--add-to-plan", "1")
    assert result.returncode == 0, result.stderr
    assert set(json.loads(result.stdout)) == {"assessment", "advice"}
    assert "Toegevoegd aan het plan van Acme CRM, uiterlijk" in result.stderr


@pytest.mark.parametrize(
    ("value", "expected", "advice_printed"),
    [
        ("one,two", "--add-to-plan: expected the numbers of moves", False),
        ("0", "--add-to-plan: expected the numbers of moves", False),
        ("9", "--add-to-plan: there is no move 9 in this advice", True),
    ],
)
def test_bad_add_to_plan_is_one_line_and_exit_2(
    tmp_path: Path, value: str, expected: str, advice_printed: bool
) -> None:
    path = write(tmp_path, "a.yaml", GOOD)
    result = chat(tmp_path, "--answers", str(path), "--add-to-plan", value)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], result.stderr
    assert ("Deal review: Acme CRM" in result.stdout) is advice_printed


def interactive_plan(tmp_path: Path, lang: str, plan_lines: list[str]) -> str:
    stdin = "\n".join(INTERACTIVE + plan_lines) + "\n"
    result = chat(tmp_path, "--user", "ruth", "--lang", lang, stdin=stdin)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_add_to_plan_after_an_interactive_review(tmp_path: Path, lang: str) -> None:
    today = datetime.now(UTC).date()
    due = today + timedelta(days=12)
    out = interactive_plan(
        tmp_path,
        lang,
        [
            "9",  # not a move on the list: asked again
            "1,2",
            "Zoe",  # owner of move 1: not one of the names: asked again
            "an",  # … the start of Anna's name
            "",  # due: a week from now
            "",  # owner of move 2: us
            "someday",  # due: not a date, asked again
            "2001-01-01",  # in the past, asked again
            due.isoformat(),
        ],
    )
    title = {"en": "Add to plan — the close plan of Acme interactive:", "nl": "Zet in het plan"}
    assert title[lang] in out
    assert out.index(title[lang]) > out.index(
        {"en": "Deal review: Acme interactive", "nl": "Dealreview: Acme interactive"}[lang]
    )
    bad_number = {"en": "Type numbers from 1 to", "nl": "Typ nummers van 1 tot en met"}
    assert bad_number[lang] in out
    assert {"en": "Pick a number from 1 to", "nl": "Kies een nummer van 1 tot en met"}[lang] in out
    assert {"en": "Pick a date (YYYY-MM-DD).", "nl": "Kies een datum"}[lang] in out
    assert {"en": "Pick today or a later date.", "nl": "Kies vandaag"}[lang] in out
    added = {"en": "Added to the plan of Acme interactive", "nl": "Toegevoegd aan het plan"}
    assert out.count(added[lang]) == 2

    shown = dealcoach(tmp_path, "plan", "--deal", "Acme interactive", "--user", "ruth").stdout
    steps = [ln for ln in shown.splitlines() if re.match(r"\s+#\d+", ln)]
    assert len(steps) == 2, shown
    assert any("— Anna, by" in ln for ln in steps), shown
    assert any(f"— us, by {format_date(due, 'en')}" in ln for ln in steps), shown


def test_enter_at_the_offer_adds_nothing(tmp_path: Path) -> None:
    out = interactive_plan(tmp_path, "en", [""])
    assert "Add to plan — the close plan of Acme interactive:" in out
    shown = dealcoach(tmp_path, "plan", "--user", "ruth").stdout
    assert "No close plans yet" in shown
    assert "Open deals without a plan yet: Acme interactive" in shown
