"""The terminal walks the same pages as Slack and Teams: the warning signals close the
mutual-benefit step under their own heading (three steps in all), and `dealcoach chat
--answers` still reads and assesses the signals answer."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_chat import GOOD, chat, write
from tests.cli.test_terminal_ux import EN, NL, Screen, run

from dealcoach.coach.answers import Answers
from dealcoach.coach.bank import QuestionBank


def _walk(bank: QuestionBank, answers: Answers | None = None) -> tuple[Screen, list[Answers]]:
    """A review on a scripted screen, Enter for everything but the deal name."""
    steps: list[Answers] = []
    screen = Screen({bank.question("deal.name").label: ["Acme"]})
    run(bank, screen, answers, on_step=steps.append)
    return screen, steps


def test_the_terminal_review_is_three_steps_with_the_signals_last_on_the_third() -> None:
    _, steps = _walk(EN)
    assert len(steps) == 3
    signals = "signals.silent_after_invite"
    assert [signals in s for s in steps] == [False, False, True]
    assert all(q.id in steps[2] for q in EN.questions_in("benefit") if q.ask_when is None)


def test_warning_signals_get_their_heading_inside_the_benefit_step() -> None:
    for bank in (EN, NL):
        screen, _ = _walk(bank)
        lines = screen.lines
        benefit, signals = bank.round_info("benefit"), bank.round_info("signals")
        at = lines.index(signals.title)
        assert lines.index(benefit.title) < at
        assert lines[at + 1].startswith("─") and lines[at + 2] == signals.intro
        question = bank.question("signals.silent_after_invite").label
        assert lines.index(question) > at
        assert lines[:at].count(question) == 0


def test_chat_with_an_answers_file_still_reads_the_signals(tmp_path: Path) -> None:
    silent = {**GOOD, "signals.silent_after_invite": "yes"}
    result = chat(tmp_path, "--json", "--answers", str(write(tmp_path, "a.yaml", silent)))
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert "silent_after_invite" in payload["assessment"]["flags"]
    quiet = chat(tmp_path, "--json", "--answers", str(write(tmp_path, "b.yaml", GOOD)))
    assert quiet.returncode == 0, quiet.stderr
    assert "silent_after_invite" not in json.loads(quiet.stdout)["assessment"]["flags"]
