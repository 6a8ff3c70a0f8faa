"""CI proves what a newcomer types: `.ci/run` runs the README's test command verbatim."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST_COMMAND = "python3 -m venv .venv && .venv/bin/pip install -e '.[dev]' && .venv/bin/pytest"


def test_readme_quick_start_has_the_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert TEST_COMMAND in readme.splitlines()


def test_ci_runs_the_readme_test_command_and_no_other_install() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    # CI extracts the command from the README (so the two cannot drift) and installs nothing
    # else: no `pip install` of its own with other extras.
    assert "grep -m1" in ci and "README.md" in ci
    installs = [line for line in ci.splitlines() if "pip install" in line and "grep" not in line]
    assert installs == [], installs


def test_dev_extra_brings_the_teams_adapter() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    dev = pyproject.split("dev = [", 1)[1].split("]\n", 1)[0]
    assert '"dealcoach[teams]"' in dev
