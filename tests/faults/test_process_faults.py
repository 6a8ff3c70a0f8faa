"""Process-level faults on two real `dealcoach serve` processes sharing one database:
a process SIGKILLed between two modal steps, a double-clicked submit landing on both
processes at once, Slack retrying a slow request, two digest senders firing together."""

from __future__ import annotations

import concurrent.futures
import json
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from tests.conftest import _libpq_url
from tests.load.cluster import (
    ServerProcess,
    dealcoach_command,
    server_env,
    servers,
    unique_answers,
)
from tests.slack.driver import ReviewDriver, advice_messages
from tests.slack.harness import SlackSender
from tests.slack.mock_web_api import MockSlackWebApi
from tests.slack.signing import SIGNING_SECRET

from dealcoach.services.actors import Actor
from dealcoach.slack.strings import t
from dealcoach.store import Store, migrate

USER = "U2147483697"


@pytest.fixture
def migrated(database_url: str) -> str:
    migrate(database_url, "head")
    return database_url


@pytest.fixture
def pair(
    migrated: str, slack_api: MockSlackWebApi, tmp_path: Path
) -> Iterator[list[ServerProcess]]:
    with servers(2, migrated, slack_api, tmp_path) as procs:
        yield procs


def sender(server: ServerProcess, api: MockSlackWebApi) -> SlackSender:
    return SlackSender(server, secret=SIGNING_SECRET, response_url=api.response_url)  # type: ignore[arg-type]


def review_rows(url: str) -> Counter[str]:
    store = Store(url)
    try:
        return Counter(
            {
                status: store.run(lambda uow, s=status: uow.reviews.count(status=s))
                for status in ("draft", "completed")
            }
        )
    finally:
        store.dispose()


def stored(url: str, review_id: str) -> dict[str, Any]:
    from dealcoach.services.reviews import ReviewService

    store = Store(url)
    try:
        actor = Actor(platform="slack", workspace_id="T0ACME", user_id=USER)
        return dict(ReviewService(store).get(actor, int(review_id)).answers)
    finally:
        store.dispose()


def test_a_server_killed_between_two_steps_leaves_the_review_to_the_other(
    pair: list[ServerProcess], slack_api: MockSlackWebApi, migrated: str
) -> None:
    first, second = pair
    to_first, to_second = sender(first, slack_api), sender(second, slack_api)
    try:
        driver = ReviewDriver(to_first, slack_api)
        driver.start("Acme renewal")
        answers = unique_answers("walk_away", USER, 1)
        assert driver.follow(driver.submit_step(answers)) == "update"  # step 1 on process 1
        first.kill()  # SIGKILL: no shutdown, no flush
        assert not first.alive()
        driver.slack = to_second  # the load balancer sends the next step elsewhere
        driver.run(answers)
    finally:
        to_first.close()
        to_second.close()
    slack_api.wait_for("chat.postMessage", 1, timeout=30)  # the DM goes out after the ack
    (advice,) = advice_messages(slack_api)
    assert advice.json_param("metadata")["event_payload"]["recommendation"] == "walk_away"
    kept = stored(migrated, driver.review_id)
    assert kept["deal.account"] == answers["deal.account"]  # typed before the kill
    assert kept["benefit.we_win"] == answers["benefit.we_win"]  # typed after it
    assert review_rows(migrated) == Counter(completed=1, draft=0)


def test_a_double_clicked_submit_on_both_processes_at_once_counts_once(
    pair: list[ServerProcess], slack_api: MockSlackWebApi, migrated: str
) -> None:
    senders = [sender(p, slack_api) for p in pair]
    try:
        driver = ReviewDriver(senders[0], slack_api)
        driver.start("Acme renewal")
        answers = unique_answers("pursue", USER, 2)
        assert driver.view is not None
        for _ in range(12):
            view = driver.view
            values = {b: answers[b] for b in driver.block_ids() if b in answers}
            gate = threading.Barrier(2)

            def click(
                s: SlackSender,
                view: dict[str, Any] = view,
                values: Any = values,
                gate: threading.Barrier = gate,
            ) -> Any:
                gate.wait()
                return s.submit(view, values, user=USER)

            with concurrent.futures.ThreadPoolExecutor(2) as pool:
                both = list(pool.map(click, senders))
            assert [r.status_code for r in both] == [200, 200]
            actions = [r.json().get("response_action") for r in both]
            assert actions[0] == actions[1], [r.text[:300] for r in both]
            if driver.follow(both[0]) == "clear":
                break
    finally:
        for s in senders:
            s.close()
    time.sleep(1.0)  # any second advice would have been sent by now
    assert len(advice_messages(slack_api)) == 1
    assert review_rows(migrated) == Counter(completed=1, draft=0)


@pytest.mark.postgres
def test_slacks_retry_of_a_slow_last_step_completes_the_review_once(
    pair: list[ServerProcess], slack_api: MockSlackWebApi, migrated: str
) -> None:
    """The last step is held up > 3 s (another session holds the review's row lock), so
    Slack sends it again (`X-Slack-Retry-Num: 1`) — to the other process."""
    if not migrated.startswith("postgresql"):
        pytest.skip("row locks held from outside: PostgreSQL only")
    senders = [sender(p, slack_api) for p in pair]
    try:
        driver = ReviewDriver(senders[0], slack_api)
        driver.start("Acme renewal")
        answers = unique_answers("strengthen", USER, 3)
        while True:  # up to the last step
            view = driver.view
            resp = driver.submit_step(answers)
            if resp.json().get("response_action") == "clear":
                raise AssertionError("expected to stop before the last step")
            driver.follow(resp)
            assert driver.view is not None
            if driver.view.get("submit", {}).get("text") == t("en", "modal.finish"):
                break
            assert view is not driver.view
        last = driver.view
        values = {b: answers[b] for b in driver.block_ids() if b in answers}
        results: dict[str, Any] = {}
        with psycopg.connect(_libpq_url(migrated)) as locker:
            locker.execute("SELECT id FROM review WHERE id = %s FOR UPDATE", (driver.review_id,))
            slow = threading.Thread(
                target=lambda: results.update(first=senders[0].submit(last, values, user=USER))
            )
            slow.start()
            time.sleep(3.0)  # Slack gives up waiting and retries
            retry = threading.Thread(
                target=lambda: results.update(
                    retry=senders[1].submit(last, values, user=USER, retry_num=1)
                )
            )
            retry.start()
            time.sleep(0.5)
            locker.rollback()  # the slow dependency recovers
            slow.join(timeout=10)
            retry.join(timeout=10)
        # The slow step is acknowledged in time with a "saving…" view (no Bolt 404 after
        # Slack's 3 s), and the listener runs on and completes the review; the modal then
        # says it is done (views.update). The retry finds it completed and closes the modal.
        first = results["first"]
        assert first.status_code == 200
        saving = first.json()
        assert saving["response_action"] == "update"
        assert saving["view"]["callback_id"] == "dealcoach_loading"
        assert "submit" not in saving["view"]
        assert results["retry"].status_code == 200
        assert results["retry"].json() == {"response_action": "clear"}
        done = slack_api.wait_for(
            "views.update", 1, where=lambda c: c.params.get("view_id") == last["id"]
        )[-1]
        assert str(driver.review_id) in json.dumps(done.json_param("view"))
    finally:
        for s in senders:
            s.close()
    time.sleep(1.0)
    assert len(advice_messages(slack_api)) == 1
    assert review_rows(migrated) == Counter(completed=1, draft=0)


def test_two_digest_senders_started_together_send_each_manager_one_digest(
    migrated: str, slack_api: MockSlackWebApi, tmp_path: Path
) -> None:
    """`dealcoach digest send --week` in two processes at the same moment (two replicas'
    schedulers firing): every manager gets exactly one digest."""
    from tests.digest.seed import WEEK, two_teams

    store = Store(migrated)
    try:
        ids = two_teams(store)
    finally:
        store.dispose()
    managers = {"UM1", "UM2"}
    assert managers <= set(ids)
    env = server_env(migrated, slack_api.url)
    cmd = [*dealcoach_command(), "digest", "send", "--week", str(WEEK)]
    procs = [
        subprocess.Popen(cmd, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=60)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    posted = Counter(
        c.params["channel"]
        for c in slack_api.calls_to("chat.postMessage")
        if c.status == 200 and c.params.get("channel") in managers
    )
    assert posted == Counter(dict.fromkeys(managers, 1)), (posted, outputs)
    # and a third run, later, sends nothing more
    again = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stderr
    assert "sent 0" in again.stderr
