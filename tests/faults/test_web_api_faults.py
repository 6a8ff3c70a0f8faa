"""Faults on the Slack Web API side: rate limits, server errors, a hung API.

Each test completes a whole review through signed HTTP requests while the stand-in
misbehaves at the moment that matters most — sending the advice — and checks that the review
is in the database once, the user heard about it once, and every ack stayed fast.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from tests.slack.conftest import make_services
from tests.slack.driver import SCENARIOS, USER, ReviewDriver, advice_messages
from tests.slack.harness import LiveServer, SlackSender
from tests.slack.mock_web_api import MockSlackWebApi
from tests.slack.signing import SIGNING_SECRET

from dealcoach.config import Settings


def completed_reviews(settings: Settings) -> int:
    services = make_services(settings)
    try:
        return int(services.store.run(lambda uow: uow.reviews.count(status="completed")))
    finally:
        services.close()


def timed_run(driver: ReviewDriver, answers: dict[str, Any]) -> float:
    """Run the review; the slowest step's HTTP answer time (the ack)."""
    slowest = 0.0
    for _ in range(12):
        started = time.monotonic()
        resp = driver.submit_step(answers)
        slowest = max(slowest, time.monotonic() - started)
        if driver.follow(resp) == "clear":
            return slowest
    raise AssertionError("review did not finish")


def test_rate_limited_advice_is_sent_once_after_retry_after(
    slack: SlackSender, slack_api: MockSlackWebApi, settings: Settings
) -> None:
    driver = ReviewDriver(slack, slack_api)
    driver.start("Acme renewal")
    slack_api.fail("chat.postMessage", status=429, retry_after=1)
    assert timed_run(driver, SCENARIOS["pursue"]) < 1.0  # the ack never waits for Slack
    posts = slack_api.wait_for("chat.postMessage", 2, timeout=6)
    assert [p.status for p in posts] == [429, 200]
    assert posts[1].at - posts[0].at >= 1.0  # Retry-After honoured
    assert len(advice_messages(slack_api)) == 2  # the refused attempt and the delivered one
    time.sleep(0.5)
    assert len(slack_api.calls_to("chat.postMessage")) == 2  # nothing more
    assert completed_reviews(settings) == 1


def test_three_server_errors_on_the_advice_give_one_apology_naming_the_review(
    slack: SlackSender, slack_api: MockSlackWebApi, settings: Settings
) -> None:
    driver = ReviewDriver(slack, slack_api)
    driver.start("Acme renewal")
    slack_api.fail("chat.postMessage", status=500, times=3)  # first try + both retries
    assert timed_run(driver, SCENARIOS["strengthen"]) < 1.0
    posts = slack_api.wait_for("chat.postMessage", 4, timeout=8)
    assert [p.status for p in posts] == [500, 500, 500, 200]
    apology = posts[3]
    assert apology.params["channel"] == USER
    assert driver.review_id in apology.params["text"]
    assert "Sorry" in apology.params["text"]
    assert completed_reviews(settings) == 1
    # the advice itself is not lost: /dealcoach history lists the completed review
    slack.command("history")
    listing = slack_api.wait_for("response_url", 1, timeout=5)[-1]
    assert f"`{driver.review_id}`" in listing.params["text"]


@pytest.fixture
def impatient_live(settings: Settings) -> Iterator[LiveServer]:
    """The real app, with its real Web API client (retry handlers included) given a 1 s
    timeout instead of 10 s, so 'hangs past the client timeout' fits in a test."""
    from dealcoach.slack.app import make_client
    from dealcoach.web import create_app

    def factory() -> Any:
        client = make_client(settings)
        client.timeout = 1
        return create_app(settings, make_services(settings), slack_client=client)

    server = LiveServer(factory).start()
    yield server
    server.stop()


def test_a_web_api_hanging_past_the_client_timeout_is_retried_and_acks_stay_fast(
    impatient_live: LiveServer, slack_api: MockSlackWebApi, settings: Settings
) -> None:
    slack = SlackSender(impatient_live, secret=SIGNING_SECRET, response_url=slack_api.response_url)
    try:
        driver = ReviewDriver(slack, slack_api)
        driver.start("Acme renewal")
        slack_api.hang("chat.postMessage", 3.0)  # past the 1 s client timeout, once
        assert timed_run(driver, SCENARIOS["pursue"]) < 1.0
        posts = slack_api.wait_for("chat.postMessage", 2, timeout=10)
        # the hung call timed out on our side after 1 s (a timeout is not retried: Slack may
        # have posted it, and a DM has no idempotency key); the user is told, by DM, naming
        # the review, which is completed and listed by /dealcoach history
        assert posts[1].at - posts[0].at >= 1.0
        assert posts[1].at - posts[0].at < 3.0  # did not wait for the hung call
        assert posts[1].params["channel"] == USER
        assert "Sorry" in posts[1].params["text"]
        assert driver.review_id in posts[1].params["text"]
        time.sleep(3)
        assert completed_reviews(settings) == 1
        # the process is fine afterwards: the next command is answered at once
        started = time.monotonic()
        assert slack.command("help").status_code == 200
        assert time.monotonic() - started < 1.0
    finally:
        slack.close()


def test_views_open_rate_limited_then_ok_still_gets_the_user_a_review(
    slack: SlackSender, slack_api: MockSlackWebApi, settings: Settings, live: LiveServer
) -> None:
    slack_api.fail("views.open", status=429, retry_after=1)
    driver = ReviewDriver(slack, slack_api)
    driver.start("Acme renewal")  # waits for the views.update that fills the modal
    driver.run(SCENARIOS["renegotiate"])
    assert len(advice_messages(slack_api)) == 1
    assert completed_reviews(settings) == 1
