"""Issue 15's "Done when", in the terminal, as a rep runs it — the real `dealcoach` command in
a subprocess, on SQLite and PostgreSQL, in English and Dutch:

a rep maps five people (two champions failing a test) with `dealcoach chat --answers`, adds
two of the advice's moves to the deal's close plan (`--add-to-plan 1,2`), gets one overdue
reminder from `dealcoach plan remind` (printed by the terminal's notifier, exactly once: a
second run prints none), marks it done with `dealcoach plan done ID`, and the next review of
the deal shows the plan's progress.

The clock: a step is due a week from today (on a workday); `plan remind --now` (hidden, for
tests) runs the reminders at 10:00 UTC on the first workday after that, when one step is
overdue and the other (moved a month out) is not.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from dealcoach.coach import load_bank
from dealcoach.coach.plan_text import text as plan_text
from dealcoach.coach.plans import PlanStatus, default_due, progress_line

DEALCOACH = str(Path(sys.executable).with_name("dealcoach"))

DEAL = "Northwind rollout"

# Five people: the economic buyer, two champions who each fail one test, a technical buyer
# against us, a user. Choice answers are option values (the same in every language).
FIVE_PEOPLE: dict[str, Any] = {
    "deal": {"name": DEAL, "value": 48000, "stage": "proposal"},
    "fit": {"requirements_met": "yes", "price_market_conform": "yes"},
    "agenda": [
        {
            "who": "Dana Visser",
            "role": "economic_buyer",
            "certainty": "confirmed",
            "translation": "a board seat",
        },
        {
            "who": "Chris Bakker",
            "role": "champion",
            "certainty": "assumed",
            "champion_access": "no",
            "champion_sells": "yes",
        },
        {
            "who": "Eva de Wit",
            "role": "champion",
            "certainty": "assumed",
            "champion_access": "yes",
            "champion_sells": "no",
        },
        {"who": "Gerard Smit", "role": "technical", "certainty": "confirmed", "stance": "against"},
        {"who": "Uma Peters", "role": "user", "certainty": "confirmed"},
    ],
    "benefit": {
        "customer_wins": "fewer missed deliveries",
        "customer_ready": "yes",
        "margin": "healthy",
        "pros_cons_explained": "yes",
    },
}


def run(tmp_path: Path, url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = url
    for name in ("DEALCOACH_LANG", "SLACK_BOT_TOKEN", "TEAMS_APP_ID", "DEALCOACH_DEFAULT_TIMEZONE"):
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


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, (result.stdout, result.stderr)
    return result


def next_workday(day: date) -> date:
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


@pytest.mark.parametrize("locale", ["en", "nl"])
def test_five_people_a_plan_one_reminder_done_and_the_next_review_shows_progress(
    tmp_path: Path, database_url: str, locale: str
) -> None:
    if load_bank(locale).max_people < 5:
        pytest.fail("the question bank must hold at least five decision-makers (issue 15: 6)")
    lang = ("--lang", locale)
    me = ("--user", "rep.ruth")
    answers = tmp_path / "northwind.yaml"
    answers.write_text(yaml.safe_dump(FIVE_PEOPLE, allow_unicode=True), encoding="utf-8")
    ok(run(tmp_path, database_url, "db", "upgrade"))

    # 1. The review: five people mapped, the untested champions flagged, two moves planned.
    today = datetime.now(UTC).date()
    first = ok(
        run(
            tmp_path,
            database_url,
            "chat",
            "--answers",
            str(answers),
            "--json",
            "--add-to-plan",
            "1,2",
            *lang,
            *me,
        )
    )
    payload = json.loads(first.stdout)
    assert "champion_untested" in payload["assessment"]["flags"]
    for name in ("Dana", "Chris", "Eva", "Gerard", "Uma"):
        assert name in payload["advice"]
    actions = payload["assessment"]["actions"]
    assert len(actions) >= 2
    added = plan_text(locale, "plan.added", deal=DEAL, due="").split(DEAL)[0]
    assert first.stderr.count(added) == 2, first.stderr  # "Added to the plan of …" twice

    # 2. The plan: both moves as steps, open, due a week from today.
    shown = ok(run(tmp_path, database_url, "plan", "--deal", DEAL, *lang, *me)).stdout
    assert plan_text(locale, "plan.title", deal=DEAL) in shown
    assert progress_line(PlanStatus(total=2, done=0), locale) in shown
    ids = [int(n) for n in re.findall(r"#(\d+)", shown)]
    assert len(ids) == 2, shown
    for action in actions[:2]:
        assert action["text"] in shown
    first_id, second_id = ids
    due = default_due(today)

    # The second step moves a month out: only the first one will be overdue.
    later = (today + timedelta(days=35)).isoformat()
    ok(run(tmp_path, database_url, "plan", "move", str(second_id), later, *lang, *me))

    # 3. One reminder, exactly once (10:00 UTC on the first workday after the due date).
    moment = datetime.combine(next_workday(due), datetime.min.time(), UTC) + timedelta(hours=10)
    now = ("--now", moment.isoformat())
    title = plan_text(locale, "reminder.title", deal=DEAL)
    reminded = ok(run(tmp_path, database_url, "plan", "remind", *now, *lang))
    assert reminded.stdout.count(title) == 1, reminded.stdout
    assert actions[0]["text"] in reminded.stdout
    assert actions[1]["text"] not in reminded.stdout
    again = ok(run(tmp_path, database_url, "plan", "remind", *now, *lang))
    assert title not in again.stdout, again.stdout

    # The plan on that day: the first step marked overdue.
    on_the_day = ok(run(tmp_path, database_url, "plan", "--deal", DEAL, *now, *lang, *me))
    overdue_line = next(ln for ln in on_the_day.stdout.splitlines() if f"#{first_id}" in ln)
    assert plan_text(locale, "step.overdue", due="").strip() in overdue_line
    assert progress_line(PlanStatus(total=2, done=0, overdue=1), locale) in on_the_day.stdout

    # 4. Done.
    done = ok(run(tmp_path, database_url, "plan", "done", str(first_id), *lang, *me))
    one_of_two = progress_line(PlanStatus(total=2, done=1), locale)
    assert one_of_two in done.stdout
    assert plan_text(locale, "status.done") in done.stdout

    # 5. The next review of the deal shows the plan's progress.
    nxt = ok(run(tmp_path, database_url, "chat", "--answers", str(answers), *lang, *me))
    assert one_of_two in nxt.stdout, nxt.stdout
    # …and nothing was added to the plan without being asked (--answers never prompts).
    after = ok(run(tmp_path, database_url, "plan", "--deal", DEAL, *lang, *me)).stdout
    assert len(re.findall(r"#(\d+)", after)) == 2
