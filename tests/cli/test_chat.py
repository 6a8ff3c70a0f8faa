"""`dealcoach chat` as a user runs it: answers files, --json, --lang, bad input, and the
interactive review fed through stdin."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from dealcoach.coach import load_bank

DEALCOACH = str(Path(sys.executable).with_name("dealcoach"))
MAX_PEOPLE = load_bank("en").max_people  # 6 since issue 15

GOOD: dict[str, Any] = {
    "deal.name": "Acme CRM",
    "deal.value": "12,000",
    "deal.stage": "proposal",
    "fit.requirements_met": "yes",
    "fit.price_market_conform": "yes",
    "agenda.1.who": "Anna",
    "agenda.1.role": "economic_buyer",
    "agenda.1.certainty": "confirmed",
    "agenda.1.translation": "scores with the board",
    "benefit.customer_wins": "less churn",
    "benefit.customer_ready": "yes",
    "benefit.margin": "healthy",
    "benefit.pros_cons_explained": "yes",
}


def chat(
    tmp_path: Path, *args: str, stdin: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'dealcoach.db'}"
    env.pop("DEALCOACH_LANG", None)
    return subprocess.run(
        [DEALCOACH, "chat", *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=timeout,
    )


def write(tmp_path: Path, name: str, content: str | dict[str, Any]) -> Path:
    path = tmp_path / name
    if isinstance(content, dict):
        content = yaml.safe_dump(content, allow_unicode=True)
    path.write_text(content, encoding="utf-8")
    return path


def test_an_answers_file_prints_the_advice(tmp_path: Path) -> None:
    result = chat(tmp_path, "--answers", str(write(tmp_path, "a.yaml", GOOD)))
    assert result.returncode == 0, result.stderr
    assert "Deal review: Acme CRM" in result.stdout
    assert "Win-win → Pursue" in result.stdout
    assert "Your next three moves" in result.stdout


def test_json_output_has_assessment_and_advice(tmp_path: Path) -> None:
    below_cost = {**GOOD, "benefit.margin": "below_cost", "benefit.renegotiable": "no"}
    path = write(tmp_path, "a.json", json.dumps(below_cost))
    result = chat(tmp_path, "--answers", str(path), "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert set(payload) == {"assessment", "advice"}
    assessment = payload["assessment"]
    assert assessment["quadrant"] == "win_lose"
    assert assessment["recommendation"] == "walk_away"
    assert "below_cost_no_reason" in assessment["flags"]
    assert isinstance(assessment["next_steps"], list) and assessment["next_steps"]
    assert 1 <= len(assessment["actions"]) <= 3 and len(assessment["later"]) <= 3
    assert all(a["rule"] and a["text"] and a["why"] for a in assessment["actions"])
    assert payload["advice"].startswith("Deal review: Acme CRM")


def test_dutch_advice_with_lang_nl(tmp_path: Path) -> None:
    result = chat(tmp_path, "--answers", str(write(tmp_path, "a.yaml", GOOD)), "--lang", "nl")
    assert result.returncode == 0, result.stderr
    assert "Dealreview: Acme CRM" in result.stdout
    assert "Win-win → Doorgaan" in result.stdout


def test_nested_yaml_with_bare_yes_and_an_agenda_list(tmp_path: Path) -> None:
    nested = """
deal: {name: Nested deal, stage: closing}
fit: {requirements_met: yes, price_market_conform: yes, offers_compared: no}
agenda:
  - {who: Anna, role: champion, certainty: assumed, translation: a promotion}
  - {who: Bert, role: economic_buyer, certainty: unknown, interests: [mood, values]}
benefit: {customer_wins: speed, customer_ready: yes, margin: healthy}
signals: {silent_after_invite: no}
"""
    result = chat(tmp_path, "--answers", str(write(tmp_path, "n.yaml", nested)), "--json")
    assert result.returncode == 0, result.stderr
    flags = json.loads(result.stdout)["assessment"]["flags"]
    assert "decision_before_comparison" in flags
    assert "key_person_unknown" in flags


BAD_CASES = [
    ("unknown_id", {**GOOD, "deal.nmae": "x"}, ["deal.nmae", "unknown question id"]),
    (
        "bad_option",
        {**GOOD, "benefit.margin": "huge"},
        ["benefit.margin", "healthy, thin, below_cost"],
    ),
    ("text_for_number", {**GOOD, "deal.value": "quite a lot"}, ["deal.value", "number"]),
    (
        "missing_name",
        {k: v for k, v in GOOD.items() if k != "deal.name"},
        ["deal.name", "required"],
    ),
    ("huge_field", {**GOOD, "fit.need": "x" * 100_000}, ["fit.need", "at most 2000"]),
    ("nul_byte", {**GOOD, "fit.need": "a\x00b"}, ["fit.need", "NUL"]),
    (
        "one_person_too_many",
        {**GOOD, f"agenda.{MAX_PEOPLE + 1}.who": "Zoe"},
        [f"agenda.{MAX_PEOPLE + 1}.who", f"agenda.1 to agenda.{MAX_PEOPLE}"],
    ),
]


@pytest.mark.parametrize(("case", "answers", "expected"), BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_bad_answers_get_one_line_and_exit_2(
    tmp_path: Path, case: str, answers: dict[str, Any], expected: list[str]
) -> None:
    path = write(tmp_path, "bad.json", json.dumps(answers))
    result = chat(tmp_path, "--answers", str(path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert len(lines[0]) < 300
    for part in [*expected, "bad.json"]:
        assert part in lines[0]
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("broken.yaml", "deal.name: [unclosed\nfit.need: x\n", "not valid YAML (line"),
        ("broken.json", '{"deal.name": ', "not valid JSON (line"),
        ("empty.yaml", "", "the file is empty"),
        ("list.yaml", "- deal.name\n", "expected a mapping"),
    ],
)
def test_malformed_files_get_one_line_naming_the_file(
    tmp_path: Path, name: str, content: str, expected: str
) -> None:
    result = chat(tmp_path, "--answers", str(write(tmp_path, name, content)))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and name in lines[0] and expected in lines[0], result.stderr


def test_a_missing_answers_file_is_one_line(tmp_path: Path) -> None:
    result = chat(tmp_path, "--answers", "nope.yaml")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["dealcoach: nope.yaml: no such file"]


# --- interactive --------------------------------------------------------------------------

INTERACTIVE = [
    "Acme interactive",  # deal.name
    "",  # account: skipped
    "12.5k",  # value
    "9",  # stage: out of range, asked again
    "2",  # stage: proposal
    "?",  # help for fit.need
    "they need one customer view",
    "1",  # requirements met: yes
    "1",  # price market-conform: yes
    "3",  # comparing offers: don't know
    "Anna",  # who
    "1",  # economic buyer
    "2,5",  # interests: power_position, emotional_preference
    "golf",  # own interest
    "3",  # certainty: unknown
    "lunch with her assistant",  # discovery plan (follow-up, right after the certainty)
    "",  # translation
    "2",  # new in role: no
    "2",  # competitor relationship: no
    "",  # stance (for/neutral/against): skipped
    "n",  # no more decision-makers
    "less churn",  # customer wins
    "1",  # ready: yes
    "revenue",  # we win
    "2",  # margin thin
    "a lighthouse customer",  # strategic reason (follow-up, right after the margin)
    "1",  # pros/cons: yes
    "2",  # silent after invite: no
    "",  # the summary of the answers: Enter goes on to the advice
]


def test_an_interactive_review_by_numbers(tmp_path: Path) -> None:
    result = chat(tmp_path, stdin="\n".join(INTERACTIVE) + "\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "There is no 9 in the list. Pick a number from 1 to 4 (1 Discovery, 2 Proposal" in out
    assert "The business problem in the customer's words" in out  # the ? help
    assert "How will you find out what drives them?" in out
    assert "Why is this deal worth it for us anyway?" in out
    assert "Deal review: Acme interactive" in out
    assert "Power and position, Gut preference, golf" in out
    assert "Your plan: lunch with her assistant" in out
    assert "Strategic reason: a lighthouse customer" in out


def test_an_interactive_review_in_dutch_with_json(tmp_path: Path) -> None:
    result = chat(tmp_path, "--lang", "nl", "--json", stdin="\n".join(INTERACTIVE) + "\n")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)  # prompts went to stderr
    assert payload["assessment"]["quadrant"] == "win_win"
    assert "Ronde 1 · Zakelijke fit" in result.stderr
    assert payload["advice"].startswith("Dealreview: Acme interactive")


def test_end_of_input_leaves_cleanly_with_one_line(tmp_path: Path) -> None:
    result = chat(tmp_path, stdin="Acme\n\n")
    assert result.returncode == 130
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_ctrl_c_leaves_cleanly_with_one_line(tmp_path: Path) -> None:
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'dealcoach.db'}")
    proc = subprocess.Popen(
        [DEALCOACH, "chat"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=env,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(b"Acme\n")
    proc.stdin.flush()
    seen = b""
    deadline = time.monotonic() + 30
    while b"Customer (account)" not in seen and time.monotonic() < deadline:
        chunk = os.read(proc.stdout.fileno(), 4096)
        if not chunk:
            break
        seen += chunk
    assert b"Customer (account)" in seen
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    text = err.decode()
    assert "Traceback" not in text
    assert len(text.strip().splitlines()) == 1, text
