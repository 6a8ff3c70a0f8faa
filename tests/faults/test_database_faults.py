"""PostgreSQL faults in the middle of a review: a restart, and the app's connections killed.

The machine's PostgreSQL is shared, so it is never restarted for real: the app connects
through `PgProxy` (a loopback TCP proxy) whose `down()` cuts every connection and refuses new
ones, which is what a restart looks like from the app; or its backends are terminated with
`pg_terminate_backend`, found by the `application_name` the test gives its connections.
In every case: the user gets one short line, the next step succeeds, the answers are there.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from tests.conftest import _libpq_url
from tests.faults.pgproxy import PgProxy
from tests.load.cluster import unique_answers
from tests.slack.conftest import make_services, make_settings
from tests.slack.driver import ReviewDriver, advice_messages
from tests.slack.harness import LiveServer, SlackSender
from tests.slack.mock_web_api import MockSlackWebApi
from tests.slack.signing import SIGNING_SECRET

from dealcoach.config import Settings
from dealcoach.services.actors import Actor

pytestmark = pytest.mark.postgres

UNAVAILABLE = "the database is unavailable right now"


class App:
    def __init__(self, settings: Settings, api: MockSlackWebApi) -> None:
        from dealcoach.web import create_app

        self.settings = settings
        self.server = LiveServer(lambda: create_app(settings, make_services(settings))).start()
        self.slack = SlackSender(self.server, secret=SIGNING_SECRET, response_url=api.response_url)
        self.driver = ReviewDriver(self.slack, api)

    def close(self) -> None:
        self.slack.close()
        self.server.stop()


def stored_answers(url: str, review_id: str) -> tuple[str, dict[str, Any]]:
    services = make_services(make_settings(url, MockSlackWebApi()))
    try:
        actor = Actor(platform="slack", workspace_id="T0ACME", user_id="U2147483697")
        view = services.reviews.get(actor, int(review_id))
        return view.status, dict(view.answers)
    finally:
        services.close()


def assert_all_kept(url: str, review_id: str, answers: dict[str, Any]) -> None:
    status, stored = stored_answers(url, review_id)
    assert status == "completed"
    for key in ("deal.account", "fit.need", "agenda.1.who", "benefit.we_win"):
        assert stored[key] == answers[key], key


def first_error(resp: Any) -> str:
    body = resp.json()
    assert body["response_action"] == "errors", body
    (message,) = body["errors"].values()
    return str(message)


@pytest.fixture
def migrated(postgres_url: str) -> str:
    from dealcoach.store.engine import migrate

    migrate(postgres_url, "head")
    return postgres_url


@pytest.fixture
def proxy(migrated: str) -> Iterator[PgProxy]:
    p = PgProxy.for_url(migrated).start()
    yield p
    p.close()


def test_postgres_restart_between_steps_gets_a_short_apology_then_the_step_succeeds(
    migrated: str, proxy: PgProxy, slack_api: MockSlackWebApi
) -> None:
    app = App(make_settings(proxy.url(migrated), slack_api), slack_api)
    try:
        driver = app.driver
        driver.start("Acme renewal")
        answers = unique_answers("pursue", "U2147483697", 1)
        assert driver.follow(driver.submit_step(answers)) == "update"  # round 1 saved
        proxy.down()  # PostgreSQL goes away: every pooled connection is cut
        started = time.monotonic()
        message = first_error(driver.submit_step(answers))
        assert time.monotonic() - started < 3.0  # answered inside Slack's 3 s
        assert UNAVAILABLE in message and len(message) <= 150  # one short line, in the modal
        proxy.up()  # back again: the same step, submitted again, goes through
        driver.run(answers)
    finally:
        app.close()
    (advice,) = advice_messages(slack_api)
    assert advice.json_param("metadata")["event_payload"]["recommendation"] == "pursue"
    assert_all_kept(migrated, driver.review_id, answers)


def test_killed_idle_connections_are_replaced_without_the_user_noticing(
    migrated: str, slack_api: MockSlackWebApi
) -> None:
    name = f"dealcoach_fault_{uuid.uuid4().hex[:8]}"
    app = App(make_settings(f"{migrated}&application_name={name}", slack_api), slack_api)
    try:
        driver = app.driver
        driver.start("Acme renewal")
        answers = unique_answers("strengthen", "U2147483697", 2)
        assert driver.follow(driver.submit_step(answers)) == "update"
        assert terminate(migrated, name) >= 1  # every pooled connection of the app is gone
        driver.run(answers)  # pre-ping notices, reconnects; no error reaches the user
    finally:
        app.close()
    assert len(advice_messages(slack_api)) == 1
    assert_all_kept(migrated, driver.review_id, answers)


def terminate(url: str, application_name: str, *, waiting_only: bool = False) -> int:
    sql = (
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid() "
        "AND application_name = %s"
    )
    if waiting_only:
        sql += " AND wait_event_type = 'Lock'"
    with psycopg.connect(_libpq_url(url), autocommit=True) as conn:
        return len(conn.execute(sql, (application_name,)).fetchall())


def test_connection_killed_inside_a_request_apologises_and_the_next_step_succeeds(
    migrated: str, slack_api: MockSlackWebApi
) -> None:
    """The app's backend is terminated while it waits inside a step's transaction (held
    there by a row lock another session keeps on the review): the connection dies mid-query."""
    name = f"dealcoach_fault_{uuid.uuid4().hex[:8]}"
    app = App(make_settings(f"{migrated}&application_name={name}", slack_api), slack_api)
    try:
        driver = app.driver
        driver.start("Acme renewal")
        answers = unique_answers("renegotiate", "U2147483697", 3)
        assert driver.follow(driver.submit_step(answers)) == "update"
        result: dict[str, Any] = {}
        with psycopg.connect(_libpq_url(migrated)) as locker:
            locker.execute("SELECT id FROM review WHERE id = %s FOR UPDATE", (driver.review_id,))
            step = threading.Thread(
                target=lambda: result.update(resp=driver.submit_step(answers)), daemon=True
            )
            step.start()
            deadline = time.monotonic() + 5
            killed = 0
            while not killed and time.monotonic() < deadline:
                time.sleep(0.05)
                killed = terminate(migrated, name, waiting_only=True)
            assert killed == 1, "the step never waited on the lock"
            step.join(timeout=5)
            locker.rollback()
        message = first_error(result["resp"])
        assert UNAVAILABLE in message
        driver.run(answers)  # the same step again: saved, and on to the end
    finally:
        app.close()
    assert len(advice_messages(slack_api)) == 1
    assert_all_kept(migrated, driver.review_id, answers)
