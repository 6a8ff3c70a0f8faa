"""Fixtures for the coaching core: the real banks and a healthy win-win answer set."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dealcoach.coach import QuestionBank, load_bank
from dealcoach.resources import prompts_dir

WIN_WIN: dict[str, Any] = {
    "deal.name": "Acme CRM rollout",
    "deal.account": "Acme",
    "deal.value": 48000,
    "deal.stage": "proposal",
    "fit.need": "one view of every customer",
    "fit.requirements_met": "yes",
    "fit.price_market_conform": "yes",
    "fit.offers_compared": "yes",
    "agenda.1.who": "Anna Peeters, CFO",
    "agenda.1.role": "economic_buyer",
    "agenda.1.interests": ["power_position", "home_stories"],
    "agenda.1.other_interest": None,
    "agenda.1.certainty": "confirmed",
    "agenda.1.translation": "she can show the board a cost cut in her first year",
    "agenda.1.new_in_role": "no",
    "agenda.1.competitor_relationship": "no",
    "agenda.1.stance": "for",
    "benefit.customer_wins": "fewer lost renewals",
    "benefit.customer_ready": "yes",
    "benefit.we_win": "a reference in retail",
    "benefit.margin": "healthy",
    "benefit.pros_cons_explained": "yes",
    "signals.silent_after_invite": "no",
}


@pytest.fixture(scope="session")
def bank_en() -> QuestionBank:
    return load_bank("en")


@pytest.fixture(scope="session")
def bank_nl() -> QuestionBank:
    return load_bank("nl")


@pytest.fixture
def win_win() -> Callable[..., dict[str, Any]]:
    """A healthy win-win deal; keyword arguments (with __ for dots) override answers."""

    def make(**changes: Any) -> dict[str, Any]:
        answers = dict(WIN_WIN)
        for key, value in changes.items():
            answers[key.replace("__", ".")] = value
        return answers

    return make


@pytest.fixture
def prompts_copy(tmp_path: Path) -> Path:
    """A private copy of prompts/ to break."""
    target = tmp_path / "prompts"
    shutil.copytree(prompts_dir(), target)
    return target
