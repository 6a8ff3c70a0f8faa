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
