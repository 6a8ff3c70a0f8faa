"""`dealcoach chat` on the review log, through real processes: a review killed halfway
through a step (SIGKILL, no chance to clean up) resumes with every answer typed; `export`
shows a review made with `chat --answers`; the embedded SQLite default migrates itself."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from dealcoach.store import Store, migrate
from dealcoach.store.models import Review

CLI = [sys.executable, "-c", "from dealcoach.cli import main; main()"]

FIT_STEP = [
    "Acme rollout",  # deal.name
    "Acme",  # deal.account
    "120k",  # deal.value
    "negotiation",  # deal.stage (a value typed out)
    "faster invoicing",  # fit.need
    "1",  # fit.requirements_met → yes (by number)
    "yes",  # fit.price_market_conform
    "unknown",  # fit.offers_compared
]


def _env(url: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEALCOACH_", "SLACK_"))}
    env["DATABASE_URL"] = url
    env["HOME"] = str(tmp_path)
    return env


def _run(
    args: list[str], url: str, tmp_path: Path, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        CLI + args,
        input=stdin,
        capture_output=True,
        text=True,
        env=_env(url, tmp_path),
        cwd=tmp_path,
        timeout=120,
    )


def _drafts(url: str, user_id: str) -> list[dict[str, Any]]:
    store = Store(url)
    try:
        if not store.run(lambda uow: uow.dialect) or not _migrated(store):
            return []  # the chat process has not created the tables yet
        with store.unit_of_work() as uow:
            people = uow.people.find_everywhere(user_id)
            if not people:
                return []
            return [
                {"id": r.id, "status": r.status, "answers": uow.reviews.answers(r.id)}
                for r in uow.reviews.for_person(people[0].id)
            ]
    finally:
        store.dispose()


def _migrated(store: Store) -> bool:
    from sqlalchemy import inspect

    return "review" in inspect(store.engine).get_table_names()


@pytest.fixture
def url(database_url: str) -> str:
    if not database_url.startswith("sqlite"):
        migrate(database_url, "head")  # PostgreSQL is migrated by ops; SQLite by `chat` itself
    return database_url


def test_a_killed_review_resumes_with_every_saved_answer(url: str, tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [*CLI, "chat", "--user", "U_KILL"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(url, tmp_path),
        cwd=tmp_path,
    )
    assert proc.stdin is not None
    try:
        proc.stdin.write("\n".join(FIT_STEP) + "\n")
        # The agenda step is under way when it dies: two of its questions answered, the
        # third (agenda.1.interests) waiting for input.
        proc.stdin.write("Carla\n")  # agenda.1.who
        proc.stdin.write("1\n")  # agenda.1.role → economic_buyer (by number)
        proc.stdin.flush()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            drafts = _drafts(url, "U_KILL") if proc.poll() is None else []
            if drafts and "agenda.1.role" in drafts[0]["answers"]:
                break
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.1)
        else:
            pytest.fail("the answers typed mid-step were never saved")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL

    (draft,) = _drafts(url, "U_KILL")
    assert draft["status"] == "draft"
    assert draft["answers"]["deal.name"] == "Acme rollout"
    assert draft["answers"]["deal.value"] == 120000.0
    assert draft["answers"]["fit.requirements_met"] == "yes"
    assert draft["answers"]["fit.offers_compared"] == "unknown"
    # Saved per answer, not per step: the half-answered agenda step kept what was typed.
    assert draft["answers"]["agenda.1.who"] == "Carla"
    assert draft["answers"]["agenda.1.role"] == "economic_buyer"
    assert "agenda.1.interests" not in draft["answers"]  # not answered yet: asked on resume

    # Resume: neither the fit questions nor the two agenda answers are asked again; leave
    # the rest blank (Enter), declining an extra decision-maker.
    result = _run(["chat", "--resume", "--user", "U_KILL", "--json"], url, tmp_path,
                  stdin="\n" * 80)
    assert result.returncode == 0, result.stderr
    assert f"Resuming review {draft['id']}" in result.stderr
    # Not asked again: each appears once, in the summary of the answers before the advice.
    assert result.stderr.count("Deal name") == 1
    assert result.stderr.count("Who is this decision-maker?") == 1
    assert result.stderr.count("Their buying influence") == 1
    payload = json.loads(result.stdout)
    assert payload["assessment"]["recommendation"] in {"strengthen", "renegotiate", "walk_away"}
    assert "Acme rollout" in payload["advice"]

    (done,) = _drafts(url, "U_KILL")
    assert done["id"] == draft["id"] and done["status"] == "completed"
    for qid, value in draft["answers"].items():
        assert done["answers"][qid] == value  # every answer kept
    assert done["answers"]["agenda.1.who"] == "Carla"


def test_ctrl_d_pauses_and_resume_finds_nothing_once_completed(url: str, tmp_path: Path) -> None:
    paused = _run(["chat", "--user", "U2"], url, tmp_path, stdin="Globex\nGlobex Inc\n")
    assert paused.returncode == 130
    assert "your answers are saved" in paused.stderr
    (draft,) = _drafts(url, "U2")
    assert draft["answers"] == {"deal.name": "Globex", "deal.account": "Globex Inc"}

    finished = _run(["chat", "--resume", "--user", "U2"], url, tmp_path, stdin="\n" * 80)
    assert finished.returncode == 0, finished.stderr
    again = _run(["chat", "--resume", "--user", "U2"], url, tmp_path)
    assert again.returncode == 2
    assert again.stderr.strip().splitlines() == [
        "dealcoach: no unfinished review to resume for U2; start one with `dealcoach chat`"
    ]


def test_export_shows_a_review_made_with_chat_answers(url: str, tmp_path: Path) -> None:
    answers = tmp_path / "answers.json"
    answers.write_text(
        json.dumps(
            {
                "deal.name": "Initech",
                "deal.stage": "closing",
                "fit.requirements_met": "no",
                "agenda.1.who": "Bill",
                "agenda.1.certainty": "confirmed",
                "benefit.margin": "below_cost",
            }
        )
    )
    made = _run(["chat", "--answers", str(answers), "--json", "--user", "U3"], url, tmp_path)
    assert made.returncode == 0, made.stderr
    assessment = json.loads(made.stdout)["assessment"]

    jsonl = _run(["export"], url, tmp_path)
    assert jsonl.returncode == 0, jsonl.stderr
    (line,) = jsonl.stdout.splitlines()
    row = json.loads(line)
    assert row["user"]["id"] == "U3" and row["deal"]["name"] == "Initech"
    assert row["answers"]["fit.requirements_met"] == "no"
    assert row["answers"]["agenda.1.who"] == "Bill"
    assert row["assessment"]["recommendation"] == assessment["recommendation"]
    assert "not_market_conform" in row["assessment"]["flags"]
    assert "Initech" in row["advice"]

    table = _run(["export", "--format", "csv", "--since", "2026-01-01"], url, tmp_path)
    assert table.returncode == 0, table.stderr
    (record,) = list(csv.DictReader(io.StringIO(table.stdout)))
    assert record["deal_name"] == "Initech" and record["answer:benefit.margin"] == "below_cost"
    assert "not_market_conform" in record["flags"].split(";")

    later = _run(["export", "--since", "2999-01-01"], url, tmp_path)
    assert later.returncode == 0 and later.stdout == ""


def test_forget_and_prune_commands(url: str, tmp_path: Path) -> None:
    answers = tmp_path / "answers.yaml"
    answers.write_text("deal.name: Umbrella\n")
    assert _run(["chat", "--answers", str(answers), "--user", "U4"], url, tmp_path).returncode == 0
    assert _run(["chat", "--user", "U4"], url, tmp_path, stdin="Draft deal\n").returncode == 130

    store = Store(url)
    try:
        with store.unit_of_work() as uow:
            for review in uow.session.query(Review).filter(Review.status == "draft"):
                review.updated_at = review.updated_at.replace(year=2020)
            uow.commit()
    finally:
        store.dispose()
    pruned = _run(["prune", "--days", "30"], url, tmp_path)
    assert pruned.returncode == 0, pruned.stderr
    assert pruned.stdout.startswith("pruned 1 draft(s) (1 answer(s))")
    assert [r["status"] for r in _drafts(url, "U4")] == ["completed"]

    forgot = _run(["forget", "--user", "U4", "--yes"], url, tmp_path)
    assert forgot.returncode == 0, forgot.stderr
    assert "1 review(s)" in forgot.stdout
    assert _drafts(url, "U4") == []
    missing = _run(["forget", "--user", "U4", "--yes"], url, tmp_path)
    assert missing.returncode == 2
    assert missing.stderr == "dealcoach: no user 'U4' is known\n"
