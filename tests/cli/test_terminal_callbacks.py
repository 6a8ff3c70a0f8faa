"""`run_review`'s persistence hooks: `on_answer` fires after every single answer (so a
process killed mid-step loses nothing typed), `on_step` after each step."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dealcoach.coach import load_bank
from dealcoach.coach.answers import Answers
from dealcoach.terminal import ReviewInterrupted, run_review


class ScriptIO:
    def __init__(self, lines: list[str]) -> None:
        self._lines: Iterator[str] = iter(lines)

    def read(self, prompt: str) -> str:
        try:
            return next(self._lines)
        except StopIteration:
            raise EOFError from None

    def write(self, text: str = "") -> None:
        pass


def test_on_answer_sees_every_answer_as_it_is_given() -> None:
    bank = load_bank("en")
    per_answer: list[Answers] = []
    per_step: list[Answers] = []
    with pytest.raises(ReviewInterrupted) as stopped:
        run_review(
            bank,
            io=ScriptIO(["Acme rollout", "Acme", "120k"]),  # then the input ends
            on_answer=per_answer.append,
            on_step=per_step.append,
        )
    assert [list(a) for a in per_answer] == [
        ["deal.name"],
        ["deal.name", "deal.account"],
        ["deal.name", "deal.account", "deal.value"],
    ]
    assert per_answer[-1]["deal.value"] == 120000.0
    assert per_step == []  # the step was never finished
    assert stopped.value.answers == per_answer[-1]
