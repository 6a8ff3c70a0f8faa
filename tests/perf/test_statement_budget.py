"""The database budget of one full review, driven the way Slack drives the app.

Signed `/dealcoach <deal>`, the modal filled by views.update, every step submitted until the
modal clears, the advice DM (and whatever runs after it, e.g. App Home) — against the live
ASGI app on SQLite and PostgreSQL, with SQLAlchemy event listeners on the app's own engine.
Issue 14's goal: at most 30 statements and 4 transactions per review.

The first review of a user (first sight: workspace and person created) is a warm-up; the
budget holds for each of the four recommendation scenarios after it. A review is the command
and three page submits (the warning signals share the mutual-benefit page); walk_away's
below-cost follow-ups appear on that page as the margin is picked (a `block_actions` that
touches no database), so it needs no fourth page.

Measured 2026-12-07: 20–21 statements on SQLite, 22–23 on PostgreSQL, 4 transactions each
(2026-12-01: 29–37 in 5–6; before issue 14: 68–79 in 8–9).
"""

from __future__ import annotations

import os

from tests.perf.sqlcount import SqlCounter, Tally
from tests.slack.driver import SCENARIOS, ReviewDriver, advice_messages
from tests.slack.harness import LiveServer, SlackSender
from tests.slack.mock_web_api import MockSlackWebApi

MAX_STATEMENTS = 30
MAX_TRANSACTIONS = 4


def _one_review(
    counter: SqlCounter, slack: SlackSender, api: MockSlackWebApi, scenario: str, n: int
) -> Tally:
    counter.wait_quiet()
    counter.take()
    driver = ReviewDriver(slack, api)
    driver.start(f"Budget deal {n}")
    driver.run(SCENARIOS[scenario])
    deadline_count = n + 1
    api.wait_for("chat.postMessage", deadline_count, where=lambda c: True)
    assert len(advice_messages(api)) == deadline_count
    counter.wait_quiet()
    return counter.take()


def measure(live: LiveServer, slack: SlackSender, api: MockSlackWebApi) -> dict[str, Tally]:
    engine = live.app.state.services.async_store.sync_engine
    counter = SqlCounter(engine)
    try:
        _one_review(counter, slack, api, "pursue", 0)  # first sight of the user
        return {
            scenario: _one_review(counter, slack, api, scenario, n)
            for n, scenario in enumerate(sorted(SCENARIOS), start=1)
        }
    finally:
        counter.close()


def test_a_full_review_stays_within_the_statement_and_transaction_budget(
    live: LiveServer, slack: SlackSender, slack_api: MockSlackWebApi
) -> None:
    tallies = measure(live, slack, slack_api)
    report = "\n".join(f"{name}: {t.summary()}" for name, t in tallies.items())
    print(report)
    if os.environ.get("DEALCOACH_SQL_DUMP"):  # every statement of the longest review
        for statement in tallies["walk_away"].statements:
            print("   ", statement[:300])
    for name, tally in tallies.items():
        assert len(tally.statements) <= MAX_STATEMENTS, f"{name}: {tally.summary()}\n{report}"
        assert tally.begins <= MAX_TRANSACTIONS, f"{name}: {tally.summary()}\n{report}"
