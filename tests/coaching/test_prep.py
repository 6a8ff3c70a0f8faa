"""1:1 prep (`/dealcoach prep`, `prep` in Teams, `dealcoach prep`) through the service and the
CLI: the rep's riskiest open deals with a coaching question each, recurring themes, open
notes; only for the rep's own manager. SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from dealcoach.config import get_settings
from dealcoach.digest.coaching import render_prep
from dealcoach.services.coaching import CoachingRefused, CoachingService
from dealcoach.store import Store

from .seed import MANAGER, OTHER_MANAGER, OTHER_REP, REP, actor, seed_team


def test_prep_lists_risky_deals_themes_open_notes_and_a_question(store: Store) -> None:
    seeded = seed_team(store.url)
    service = CoachingService(store)
    mia = actor(MANAGER)
    service.add_note(mia, seeded.review_id, "Walk away well: offer the starter package")
    prep = service.prep(mia, REP)
    assert [d.deal_name for d in prep.deals] == ["Acme renewal"]
    assert prep.deals[0].recommendation == "walk_away"
    assert "Acme renewal" in prep.deals[0].question or "Dana" in prep.deals[0].question
    assert [n.body for n in prep.open_notes] == ["Walk away well: offer the starter package"]
    text = render_prep(prep, "text").text
    assert "Riskiest open deals" in text and "starter package" in text
    for who, member in ((actor(OTHER_MANAGER), REP), (actor(REP), REP), (mia, OTHER_REP)):
        with pytest.raises(CoachingRefused):
            service.prep(who, member)
    dutch = render_prep(CoachingService(store).prep(actor(MANAGER, locale="nl"), REP), "text")
    assert "Meest riskante open deals" in dutch.text


def _cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str, *argv: str) -> int:
    from dealcoach.cli import main

    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as done:
            main(list(argv))
    finally:
        get_settings.cache_clear()
    return int(done.value.code or 0)


def test_cli_prep_only_for_the_reps_own_manager(
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    seeded = seed_team(store.url)
    CoachingService(store).add_note(actor(MANAGER), seeded.review_id, "Ask for the budget")
    assert (
        _cli(monkeypatch, tmp_path, store.url, "prep", "--manager", MANAGER, "--member", REP) == 0
    )
    out = capsys.readouterr().out
    assert "1:1 prep" in out and "Acme renewal" in out and "Ask for the budget" in out
    assert (
        _cli(monkeypatch, tmp_path, store.url, "prep", "--manager", OTHER_MANAGER, "--member", REP)
        != 0
    )
    assert "does not report to" in capsys.readouterr().err
