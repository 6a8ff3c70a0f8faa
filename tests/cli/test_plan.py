"""`dealcoach plan` as a rep runs it (issue 15): the plans listed, one deal's steps (id,
status, owner, due date, overdue marked, progress), steps added by hand, done / move / drop /
reopen, and every kind of bad input as one line on stderr with exit status 2 — English and
Dutch. The real command in a subprocess, on a SQLite file of the test's own."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from dealcoach.coach.plan_text import format_date
from dealcoach.coach.plan_text import text as plan_text
from dealcoach.coach.plans import PlanStatus, default_due, progress_line
from dealcoach.ui_text import translate

DEALCOACH = str(Path(sys.executable).with_name("dealcoach"))

ANSWERS = {
    "deal.name": "Acme CRM",
    "deal.stage": "proposal",
    "fit.requirements_met": "yes",
    "fit.price_market_conform": "yes",
    "agenda.1.who": "Anna de Vries",
    "agenda.1.role": "economic_buyer",
    "agenda.1.certainty": "confirmed",
    "agenda.1.translation": "scores with the board",
    "benefit.customer_wins": "less churn",
    "benefit.customer_ready": "yes",
    "benefit.margin": "healthy",
    "benefit.pros_cons_explained": "yes",
}


def dealcoach(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'dealcoach.db'}"
    for name in ("DEALCOACH_LANG", "SLACK_BOT_TOKEN", "DEALCOACH_DEFAULT_TIMEZONE"):
        env.pop(name, None)
    result = subprocess.run(
        [DEALCOACH, *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def reviewed(tmp_path: Path, user: str = "ruth", name: str = "Acme CRM") -> None:
    path = tmp_path / f"{user}.yaml"
    path.write_text(yaml.safe_dump({**ANSWERS, "deal.name": name}), encoding="utf-8")
    result = dealcoach(tmp_path, "chat", "--answers", str(path), "--user", user)
    assert result.returncode == 0, result.stderr


def one_line_exit_2(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert len(lines[0]) < 300
    assert result.stdout == ""
    return lines[0]


@pytest.fixture
def with_step(tmp_path: Path) -> int:
    """Ruth's reviewed deal with one step added by hand; its id."""
    reviewed(tmp_path)
    added = dealcoach(
        tmp_path, "plan", "add", "--deal", "acme crm", "--user", "ruth", "Send", "the", "terms"
    )
    assert added.returncode == 0, added.stderr
    return int(re.findall(r"#(\d+)", added.stdout)[0])


def test_nothing_planned_yet_says_how_to_start(tmp_path: Path) -> None:
    result = dealcoach(tmp_path, "plan", "--user", "nobody")
    assert result.returncode == 0, result.stderr
    assert "No close plans yet" in result.stdout
    dutch = dealcoach(tmp_path, "plan", "--user", "nobody", "--lang", "nl")
    assert "Nog geen afsluitplannen" in dutch.stdout


def test_add_list_show_done_move_drop_reopen(tmp_path: Path, with_step: int) -> None:
    today = datetime.now(UTC).date()
    me = ("--user", "ruth")
    # A customer-owned step: --owner matches a named decision-maker by the start of the name.
    due = (today + timedelta(days=20)).isoformat()
    added = dealcoach(
        tmp_path,
        "plan",
        "add",
        "--deal",
        "Acme CRM",
        "--owner",
        "anna",
        "--due",
        due,
        *me,
        "Sign the order form",
    )
    assert added.returncode == 0, added.stderr
    assert "Added to the plan of Acme CRM" in added.stdout
    second = int(re.findall(r"#(\d+)", added.stdout)[0])
    assert "Sign the order form — Anna de Vries, by" in added.stdout

    listed = dealcoach(tmp_path, "plan", *me)
    assert "Acme CRM: " + progress_line(PlanStatus(total=2), "en") in listed.stdout

    shown = dealcoach(tmp_path, "plan", "--deal", "ACME crm", *me).stdout
    assert "Close plan · Acme CRM" in shown
    assert "0 of 2 steps done" in shown
    first_due = format_date(default_due(today), "en")
    assert re.search(rf"#{with_step}\s+open\s+Send the terms — us, by {first_due}", shown), shown

    done = dealcoach(tmp_path, "plan", "done", str(with_step), *me)
    assert done.returncode == 0, done.stderr
    assert "Marked done. 1 of 2 steps done." in done.stdout

    moved_to = (today + timedelta(days=30)).isoformat()
    moved = dealcoach(tmp_path, "plan", "move", str(second), moved_to, "--lang", "nl", *me)
    assert moved.returncode == 0, moved.stderr
    assert "Verplaatst naar" in moved.stdout

    dropped = dealcoach(tmp_path, "plan", "--user", "ruth", "drop", str(second))  # group options
    assert dropped.returncode == 0, dropped.stderr
    assert "Dropped. 1 of 1 step done." in dropped.stdout
    hidden = dealcoach(tmp_path, "plan", "--deal", "Acme CRM", *me).stdout
    assert f"#{second}" not in hidden
    everything = dealcoach(tmp_path, "plan", "--deal", "Acme CRM", "--all", *me).stdout
    assert re.search(rf"#{second}\s+dropped", everything), everything

    reopened = dealcoach(tmp_path, "plan", "reopen", str(second), *me)
    assert reopened.returncode == 0, reopened.stderr
    assert re.search(rf"#{second}\s+open", reopened.stdout)


def test_overdue_steps_are_marked_on_the_day(tmp_path: Path, with_step: int) -> None:
    due = default_due(datetime.now(UTC).date())
    later = datetime.combine(due + timedelta(days=3), datetime.min.time(), UTC)
    shown = dealcoach(
        tmp_path,
        "plan",
        "--deal",
        "Acme CRM",
        "--user",
        "ruth",
        "--now",
        later.isoformat(),
        "--lang",
        "nl",
    ).stdout
    line = next(ln for ln in shown.splitlines() if f"#{with_step}" in ln)
    assert f"te laat sinds {format_date(due, 'nl')}" in line
    assert "0 van 1 stap gedaan, 1 te laat" in shown


def test_remind_with_nothing_due_prints_nothing(tmp_path: Path, with_step: int) -> None:
    result = dealcoach(tmp_path, "plan", "remind")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "0 sent" in result.stderr


BAD = [
    ("unknown_id", ["done", "999"], "there is no plan step 999", "er is geen planstap 999"),
    ("not_a_number", ["done", "abc"], "“abc” is not a step id", "“abc” is geen stapnummer"),
    ("bad_date", ["move", "{id}", "next tuesday"], "Pick a date (YYYY-MM-DD).", "Kies een datum"),
    ("past_date", ["move", "{id}", "2001-01-01"], "Pick today or a later date.", "Kies vandaag"),
    (
        "someone_elses_step",
        ["done", "{id}", "--user", "mallory"],
        "Only the rep who owns this deal can change its plan.",
        "Alleen de verkoper van deze deal",
    ),
    (
        "huge_text",
        ["add", "--deal", "Acme CRM", "x" * 100_000],
        "Keep a step under 300 characters.",
        "Houd een stap onder de 300 tekens.",
    ),
    (
        "control_characters",
        ["add", "--deal", "Acme CRM", "a\x07b"],
        "That text contains characters that cannot be stored.",
        "Die tekst bevat tekens",
    ),
    ("empty_text", ["add", "--deal", "Acme CRM", "  "], "Write what the step is.", "Schrijf op"),
    ("unknown_deal", ["add", "--deal", "Globex", "x"], "no deal named “Globex”", "geen deal met"),
    ("unknown_deal_shown", ["--deal", "Globex"], "no deal named “Globex”", "geen deal met"),
    (
        "bad_now",
        ["--now", "yesterday-ish", "--user", "ruth", "remind"],
        "--now: expected",
        "--now: verwacht",
    ),
]


@pytest.mark.parametrize(("case", "args", "english", "dutch"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, with_step: int, case: str, args: list[str], english: str, dutch: str
) -> None:
    argv = [a.replace("{id}", str(with_step)) for a in args]
    if "--user" not in argv:
        argv += ["--user", "ruth"]
    for locale, expected in (("en", english), ("nl", dutch)):
        line = one_line_exit_2(dealcoach(tmp_path, "plan", *argv, "--lang", locale))
        assert line.startswith("dealcoach: ")
        assert expected in line
    # Nothing changed: the plan still has its one open step.
    shown = dealcoach(tmp_path, "plan", "--deal", "Acme CRM", "--user", "ruth").stdout
    assert len(re.findall(r"#\d+", shown)) == 1
    assert "0 of 1 step done" in shown


def test_the_wording_has_both_languages() -> None:
    for key in ("plan_none", "plan_no_step", "offer_plan_title", "plan_remind_sent"):
        assert translate("terminal", "en", key) != translate("terminal", "nl", key)
    assert plan_text("nl", "status.done") == "gedaan"
