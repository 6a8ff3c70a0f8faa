"""Exactly-once delivery through the Slack Web API stand-in: repeated runs, concurrent
schedulers (PostgreSQL), 429s and 5xx, failed sends retried on the next run, stale claims."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update
from tests.slack.mock_web_api import MockSlackWebApi

from dealcoach.config import Settings, get_settings
from dealcoach.digest.delivery import DbRunner, DeliveryReport, send_digests
from dealcoach.slack.app import make_client
from dealcoach.slack.notifier import SlackNotifier
from dealcoach.store import Store, migrate
from dealcoach.store import digests as digests_q
from dealcoach.store.models import DigestRun
from dealcoach.store.types import utcnow

from .seed import WEEK, two_teams

TOKEN = "xoxb-1234-5678-digesttest"


@pytest.fixture
def slack_api() -> Iterator[MockSlackWebApi]:
    with MockSlackWebApi() as api:
        yield api


def _settings(url: str, api: MockSlackWebApi) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=url,
        slack_bot_token=TOKEN,
        slack_api_url=api.url,
        dealcoach_scheduler=False,
    )


def _send(url: str, api: MockSlackWebApi, interval: float = 0.0) -> DeliveryReport:
    store = Store(url)
    try:
        notifier = SlackNotifier(make_client(_settings(url, api)), interval=interval)
        return asyncio.run(send_digests(DbRunner(store), {"slack": notifier}, week=WEEK))
    finally:
        store.dispose()


def _posted(api: MockSlackWebApi) -> Counter[str]:
    return Counter(c.params["channel"] for c in api.calls_to("chat.postMessage") if c.status == 200)


def _statuses(store: Store) -> dict[int, tuple[str, int]]:
    with store.unit_of_work() as uow:
        rows = uow.session.execute(
            select(DigestRun.manager_id, DigestRun.status, DigestRun.attempts)
        )
        return {r[0]: (r[1], r[2]) for r in rows}


def test_two_digest_send_runs_send_one_digest_per_manager(
    store: Store, slack_api: MockSlackWebApi, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from dealcoach.cli import main

    ids = two_teams(store)
    monkeypatch.setenv("DATABASE_URL", store.url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SLACK_API_URL", slack_api.url)
    monkeypatch.chdir(tmp_path)  # no stray .env
    get_settings.cache_clear()
    try:
        for _ in range(2):
            with pytest.raises(SystemExit) as done:
                main(["digest", "send", "--week", str(WEEK)])
            assert done.value.code == 0
    finally:
        get_settings.cache_clear()
    assert _posted(slack_api) == {"UM1": 1, "UM2": 1}
    assert _statuses(store) == {ids["UM1"]: ("sent", 1), ids["UM2"]: ("sent", 1)}
    sent = {c.params["channel"]: c for c in slack_api.calls_to("chat.postMessage")}
    assert "Acme" in sent["UM1"].params["text"] and "Gamma" not in sent["UM1"].params["text"]
    assert "Teamoverzicht" in sent["UM2"].params["text"]  # UM2 reads Dutch


def test_a_429_on_the_first_post_message_still_delivers(
    store: Store, slack_api: MockSlackWebApi
) -> None:
    two_teams(store)
    slack_api.fail("chat.postMessage", status=429, retry_after=1)
    report = _send(store.url, slack_api)
    assert sorted(report.sent) == ["UM1", "UM2"] and report.failed == []
    calls = slack_api.calls_to("chat.postMessage")
    assert [c.status for c in calls] == [429, 200, 200]
    assert calls[1].at - calls[0].at >= 1.0  # Retry-After honoured
    assert _posted(slack_api) == {"UM1": 1, "UM2": 1}


def test_a_failed_send_is_recorded_and_sent_on_the_next_run(
    store: Store, slack_api: MockSlackWebApi
) -> None:
    ids = two_teams(store)
    slack_api.fail("chat.postMessage", status=500, times=100)
    first = _send(store.url, slack_api)
    assert first.sent == [] and sorted(u for u, _ in first.failed) == ["UM1", "UM2"]
    assert _statuses(store) == {ids["UM1"]: ("failed", 1), ids["UM2"]: ("failed", 1)}
    assert _posted(slack_api) == {}

    slack_api.reset()
    second = _send(store.url, slack_api)
    assert sorted(second.sent) == ["UM1", "UM2"]
    assert _statuses(store) == {ids["UM1"]: ("sent", 2), ids["UM2"]: ("sent", 2)}
    third = _send(store.url, slack_api)
    assert third.sent == [] and sorted(third.skipped) == ["UM1", "UM2"]
    assert _posted(slack_api) == {"UM1": 1, "UM2": 1}


def test_a_stale_claim_is_taken_over_and_a_fresh_one_is_left_alone(
    store: Store, slack_api: MockSlackWebApi
) -> None:
    ids = two_teams(store)
    with store.unit_of_work() as uow:
        digests_q.claim_run(uow.session, ids["UM1"], str(WEEK))  # a sender that died long ago
        digests_q.claim_run(uow.session, ids["UM2"], str(WEEK))  # a sender busy right now
        uow.session.execute(
            update(DigestRun)
            .where(DigestRun.manager_id == ids["UM1"])
            .values(claimed_at=utcnow().replace(year=2025))
        )
        uow.commit()
    report = _send(store.url, slack_api)
    assert report.sent == ["UM1"] and report.skipped == ["UM2"]
    assert _statuses(store)[ids["UM1"]] == ("sent", 2)
    assert _posted(slack_api) == {"UM1": 1}


def test_posts_are_paced_per_workspace(store: Store, slack_api: MockSlackWebApi) -> None:
    two_teams(store)
    report = _send(store.url, slack_api, interval=0.6)
    assert len(report.sent) == 2
    first, second = slack_api.calls_to("chat.postMessage")
    assert second.at - first.at >= 0.55


@pytest.mark.postgres
def test_four_schedulers_firing_at_once_send_one_digest_per_manager(
    postgres_url: str, slack_api: MockSlackWebApi
) -> None:
    migrate(postgres_url, "head")
    store = Store(postgres_url)
    try:
        two_teams(store)
    finally:
        store.dispose()
    slack_api.hang("chat.postMessage", 0.3, times=8)  # a slow Slack widens the race
    barrier = threading.Barrier(4)
    reports: list[DeliveryReport] = []

    def fire() -> None:
        barrier.wait()
        reports.append(_send(postgres_url, slack_api))

    threads = [threading.Thread(target=fire) for _ in range(4)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert time.monotonic() - started < 60
    assert len(reports) == 4
    assert sorted(u for r in reports for u in r.sent) == ["UM1", "UM2"]
    assert _posted(slack_api) == {"UM1": 1, "UM2": 1}


class _RecordingNotifier:
    """A notifier whose follow-up (like Slack's chart upload) notes what the log said then."""

    def __init__(self, store: Store, fail_follow_up: bool = False) -> None:
        self.store = store
        self.fail_follow_up = fail_follow_up
        self.seen_at_follow_up: list[dict[int, tuple[str, int]]] = []

    async def send_digest(self, manager: object, digest: object, rendered: object) -> object:
        async def follow_up() -> None:
            self.seen_at_follow_up.append(_statuses(self.store))
            if self.fail_follow_up:
                raise RuntimeError("chart upload crashed")

        return follow_up


def test_extras_follow_only_after_the_digest_is_recorded_sent(store: Store) -> None:
    two_teams(store)
    notifier = _RecordingNotifier(store)
    report = asyncio.run(send_digests(DbRunner(store), {"slack": notifier}, week=WEEK))
    assert len(report.sent) == 2
    # By the time the first extra goes out, its digest is already "sent" in the log.
    first = notifier.seen_at_follow_up[0]
    assert ("sent", 1) in first.values()


def test_a_crashing_extra_neither_fails_nor_repeats_the_digest(store: Store) -> None:
    two_teams(store)
    notifier = _RecordingNotifier(store, fail_follow_up=True)
    report = asyncio.run(send_digests(DbRunner(store), {"slack": notifier}, week=WEEK))
    assert len(report.sent) == 2 and report.failed == []  # the crash stopped nobody
    assert sorted(_statuses(store).values()) == [("sent", 1), ("sent", 1)]
    again = _RecordingNotifier(store)
    report = asyncio.run(send_digests(DbRunner(store), {"slack": again}, week=WEEK))
    assert report.sent == [] and again.seen_at_follow_up == []  # nothing sent twice
