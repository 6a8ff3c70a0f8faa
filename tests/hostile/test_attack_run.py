"""The attack run of issue #11, small, against a real `dealcoach serve` (SQLite and PostgreSQL).

`python -m tests.hostile.attack --requests 15000` is the full run (numbers in TESTING.md); here
about 1,200 hostile requests and a few slow bodies, enough to hit every kind several times.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.hostile.attack import run

pytestmark = pytest.mark.slow


def test_attack_run_gets_no_5xx_leaks_nothing_and_logs_no_traceback(
    database_url: str, tmp_path: Path
) -> None:
    if database_url.startswith("postgresql"):
        from dealcoach.store.engine import migrate

        migrate(database_url, "head")
    report = run(database_url, requests=1200, trickle=8, trickle_seconds=14.0, workdir=tmp_path)
    print(report.summary())
    assert report.five_xx == 0, report.server_errors[:10]
    assert report.canary_hits == 0, "the app called an address taken from an unverified body"
    assert report.web_api_calls == 0, "the app posted as the bot for an unverified request"
    assert report.tracebacks == 0, "a hostile request wrote a traceback to the log"
    assert not report.secret_in_log, "text from a refused body reached the log"
    assert report.metrics_bytes < 256 * 1024, "made-up methods grew /metrics"
    assert report.healthz_during_trickle_ms is not None
    assert report.healthz_during_trickle_ms < 1000
    assert report.trickle_outcomes.get("held", 0) == 0, dict(report.trickle_outcomes)
