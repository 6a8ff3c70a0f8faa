"""The action planner: property tests over random answer sets (the invariants of issue 12),
and the planner's gating and ordering on small examples."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from tests.coach.test_casebook import check_invariants, run
from tests.coach.test_properties import answer_sets

from dealcoach.coach import load_bank, validate_answers
from dealcoach.coach.planner import allowed

BANK = load_bank("en")


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=answer_sets())
def test_every_answer_set_gets_a_consistent_prioritised_plan(raw: dict[str, Any]) -> None:
    answers = dict(validate_answers(BANK, raw, require_complete=True))
    for locale in ("en", "nl"):
        assessment, plan, text = run(answers, locale)
        check_invariants(answers, locale, assessment, plan, text)


def test_the_kinds_agree_with_the_verdict() -> None:
    assert allowed("exit", "walk_away", False)
    assert not allowed("signal", "walk_away", False)
    assert not allowed("exit", "strengthen", False)
    assert not allowed("close", "strengthen", False)
    assert allowed("close", "pursue", False)
    assert not allowed("personal", "strengthen", True)
    assert allowed("signal", "renegotiate", True)
    assert allowed("business", "strengthen", True)
