"""`dealcoach insights [--team MANAGER] [--since DATE] [--lang en|nl]` (issue 15) over the
seeded history of closed deals of tests/insights: every number the command prints — closed
deals and wins, per feature won/deals with and without, the rates and the 90 % Wilson
intervals, the loss reasons — is computed here independently, with plain arithmetic over the
seed, in English and Dutch, on SQLite and PostgreSQL. Lines only when at least 20 closed
deals back them (and the output says so when none does); bad input is one line, exit 2."""

from __future__ import annotations

import math
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.insights.test_insights import FLAGS, START, Spec, _expect, _history, _seed

from dealcoach.config import get_settings
from dealcoach.store import Store, migrate

FEATURES = ("economic_buyer_confirmed", "champion_tested", "customer_ready", *FLAGS)
LABELS = {
    "en": {
        "economic_buyer_confirmed": (
            "Deals whose economic buyer's agenda was confirmed",
            "not confirmed",
        ),
        "champion_tested": ("Deals whose champion passed both tests", "no tested champion"),
        "customer_ready": ("Deals where the customer was ready", "not ready or doubtful"),
        "champion_untested": ("Deals flagged “Champion not tested”", "not flagged"),
        "agenda_assumed": (
            "Deals flagged “Personal agenda assumed, not confirmed”",
            "not flagged",
        ),
        "cons_not_explained": ("Deals flagged “Cons not explained”", "not flagged"),
    },
    "nl": {
        "economic_buyer_confirmed": (
            "Deals waarbij de agenda van de economische beslisser bevestigd was",
            "niet bevestigd",
        ),
        "champion_tested": (
            "Deals met een champion die beide tests doorstond",
            "zonder geteste champion",
        ),
        "customer_ready": (
            "Deals waarbij de klant er klaar voor was",
            "niet klaar of twijfelachtig",
        ),
        "champion_untested": ("Deals met de vlag ‘Champion nog niet getest’", "zonder die vlag"),
        "agenda_assumed": (
            "Deals met de vlag ‘Persoonlijke agenda ingeschat, niet bevestigd’",
            "zonder die vlag",
        ),
        "cons_not_explained": ("Deals met de vlag ‘Nadelen niet uitgelegd’", "zonder die vlag"),
    },
}
REASONS = {
    "en": {
        "price": "Price",
        "no_decision": "No decision",
        "competitor": "Competitor",
        "timing": "Timing",
        "fit": "Fit",
        "other": "Other",
        None: "No reason recorded",
    },
    "nl": {
        "price": "Prijs",
        "no_decision": "Geen besluit",
        "competitor": "Concurrent",
        "timing": "Timing",
        "fit": "Fit",
        "other": "Overig",
        None: "Geen reden vastgelegd",
    },
}
PCT = {"en": "{} %", "nl": "{}%"}


# --- the arithmetic, independent of dealcoach ----------------------------------------------------


def wilson90(won: int, deals: int) -> tuple[float, float]:
    z = 1.6449
    p = won / deals
    centre = p + z * z / (2 * deals)
    spread = z * math.sqrt(p * (1 - p) / deals + z * z / (4 * deals * deals))
    scale = 1 + z * z / deals
    return max(0.0, (centre - spread) / scale), min(1.0, (centre + spread) / scale)


def whole(share: float) -> int:
    return math.floor(share * 100 + 0.5)


def cell(won: int, deals: int, locale: str) -> str:
    """`21/34 62 % (48–74 %)` (nl: `62% (48–74%)`)."""
    low, high = wilson90(won, deals)
    pct = PCT[locale]
    rng = pct.format(f"{whole(low)}–{whole(high)}")
    return f"{won}/{deals} {pct.format(whole(won / deals))} ({rng})"


# --- running the command --------------------------------------------------------------------------


@pytest.fixture
def seeded(database_url: str) -> tuple[str, list[Spec]]:
    migrate(database_url, "head")
    store = Store(database_url)
    specs = _history()
    try:
        _seed(store, specs)
    finally:
        store.dispose()
    return database_url, specs


def run(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    url: str,
    *argv: str,
) -> tuple[int, str, str]:
    from dealcoach.cli import main

    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("DEALCOACH_LANG", raising=False)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as done:
            main(["insights", *argv])
    finally:
        get_settings.cache_clear()
    out, err = capsys.readouterr()
    return int(done.value.code or 0), out, err


def rows(output: str) -> dict[str, list[str]]:
    """Table rows by their first cell."""
    out: dict[str, list[str]] = {}
    for line in output.splitlines():
        cells = [c.strip() for c in line.split(" | ")]
        if len(cells) == 3:
            out[cells[0]] = cells[1:]
    return out


def check_report(output: str, expected: dict[str, Any], locale: str) -> None:
    deals, won = expected["deals"], expected["won"]
    summary = {
        "en": f"{deals} closed deals, {won} won ({PCT['en'].format(whole(won / deals))}).",
        "nl": f"{deals} afgesloten deals, {won} gewonnen ({PCT['nl'].format(whole(won / deals))}).",
    }[locale]
    assert summary in output.splitlines()
    table = rows(output)
    shown = 0
    for feature in FEATURES:
        (k, n), (k_without, n_without) = expected[feature]
        label, without_label = LABELS[locale][feature]
        qualifies = deals >= 20 and n > 0 and n_without > 0
        assert (label in table) == qualifies, feature
        if qualifies:
            shown += 1
            assert table[label] == [
                cell(k, n, locale),
                f"{without_label}: {cell(k_without, n_without, locale)}",
            ], feature
    assert shown > 0
    reasons = [
        f"  {REASONS[locale][r]}: {count}" for r, count in expected["reasons"].items() if count
    ]
    lines = output.splitlines()
    for line in reasons:
        assert line in lines
    assert sum(c for c in expected["reasons"].values()) == sum(
        int(line.rsplit(": ", 1)[1]) for line in lines if line.startswith("  ")
    )


def test_the_table_equals_win_rates_and_wilson_intervals_computed_here(
    seeded: tuple[str, list[Spec]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    url, specs = seeded
    mia = _expect(specs, {"UREP1", "UREP2"})
    code, out, err = run(monkeypatch, capsys, tmp_path, url, "--team", "UMIA")
    assert (code, err) == (0, "")
    assert out.startswith("What predicts a win — Team of Mia\n")
    check_report(out, mia, "en")
    assert "Shown when at least 20 closed deals back a line; 90 % Wilson interval." in out
    assert "Why deals were lost" in out

    # Dutch, the platform's id forms, everyone, and --since.
    code, out, err = run(
        monkeypatch, capsys, tmp_path, url, "--team", "slack:T1:UMIA", "--lang", "nl"
    )
    assert code == 0, err
    assert out.startswith("Wat voorspelt winst — Team van Mia\n")
    check_report(out, mia, "nl")
    assert "Waarom deals verloren gingen" in out

    code, out, _ = run(monkeypatch, capsys, tmp_path, url)
    assert code == 0 and out.startswith("What predicts a win — All teams\n")
    check_report(out, _expect(specs, {"UREP1", "UREP2", "UREP3"}), "en")

    since = START + timedelta(days=60)
    code, out, _ = run(
        monkeypatch, capsys, tmp_path, url, "--since", since.date().isoformat(), "--lang", "NL"
    )
    assert code == 0
    assert out.startswith("Wat voorspelt winst — Alle teams, sinds 2026-03-06\n")
    check_report(out, _expect(specs, {"UREP1", "UREP2", "UREP3"}, since), "nl")


def test_too_few_closed_deals_is_said_and_no_line_shown(
    seeded: tuple[str, list[Spec]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    url, specs = seeded
    code, out, _ = run(monkeypatch, capsys, tmp_path, url, "--team", "UOLAF")
    assert code == 0
    olaf = _expect(specs, {"UREP3"})
    assert (olaf["deals"], olaf["won"]) == (6, 3)
    assert "6 closed deals, 3 won (50 %)." in out
    assert "Too few closed deals to say what predicts a win: 6 so far, at least 20 needed." in out
    assert rows(out) == {}
    code, out, _ = run(monkeypatch, capsys, tmp_path, url, "--team", "UOLAF", "--lang", "nl")
    assert "Te weinig afgesloten deals om te zeggen wat winst voorspelt: 6 tot nu toe" in out


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--team", "UNOBODY"], "no user 'UNOBODY' is known"),
        (["--team", "UREP1"], "UREP1 manages nobody"),
        (["--team", "teams:UMIA"], "no teams workspace is known yet"),
        (["--since", "2026-13-01"], "--since: '2026-13-01' is not a date"),
        (["--since", "yesterday"], "--since: 'yesterday' is not a date"),
        (["--lang", "de"], "--lang: 'de' is not one of en, nl"),
        (["--team", "UMIA", "--workspace", "TNOPE"], "workspace TNOPE is not known"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    seeded: tuple[str, list[Spec]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    argv: list[str],
    says: str,
) -> None:
    url, _ = seeded
    code, out, err = run(monkeypatch, capsys, tmp_path, url, *argv)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and says in err, err
    assert "Traceback" not in err


def test_the_real_command_prints_the_table_and_fails_in_one_line(
    seeded: tuple[str, list[Spec]], tmp_path: Path
) -> None:
    url, specs = seeded
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DATABASE_URL": url}
    cli = [sys.executable, "-c", "from dealcoach.cli import main; main()", "insights"]
    done = subprocess.run(
        [*cli, "--team", "UMIA"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    check_report(done.stdout, _expect(specs, {"UREP1", "UREP2"}), "en")
    bad = subprocess.run(
        [*cli, "--team", "UMIA", "--since", "2026-02-30"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.strip().splitlines() == [
        "dealcoach: --since: '2026-02-30' is not a date like 2026-11-01"
    ]
