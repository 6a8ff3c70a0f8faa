"""How many of our source files one user action runs through on its way to the database.

A profiler (installed in every thread the live server starts) records each `bot/dealcoach`
file whose code runs while one Slack step answer, and one Teams card submit, is handled over
real HTTP. The count is a budget: a change that spreads one decision over more files fails
here and has to say why. `pytest tests/structure -s` prints the files.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import pytest
from tests.slack.conftest import SIGNING_SECRET
from tests.slack.driver import BASE as SLACK_ANSWERS
from tests.slack.driver import ReviewDriver
from tests.slack.harness import LiveServer, SlackSender
from tests.slack.mock_web_api import MockSlackWebApi

PACKAGE = "/bot/dealcoach/"

# Measured when the budget was set (issue 13): files one action runs through.
SLACK_ANSWER_BUDGET = 60
TEAMS_SUBMIT_BUDGET = 60


class FileRecorder:
    """A profile function recording the package files that run while `recording` is set."""

    def __init__(self) -> None:
        self.recording = False
        self.files: set[str] = set()

    def __call__(self, frame: FrameType, event: str, arg: Any) -> None:
        if self.recording and event == "call":
            name = frame.f_code.co_filename
            if PACKAGE in name:
                self.files.add(name.split(PACKAGE, 1)[1])

    @contextmanager
    def installed(self) -> Iterator[FileRecorder]:
        threading.setprofile(self)  # threads started from now on (uvicorn, the store's pool)
        sys.setprofile(self)
        try:
            yield self
        finally:
            threading.setprofile(None)  # type: ignore[arg-type]
            sys.setprofile(None)

    def during(self, action: Callable[[], Any], settle: float = 0.3) -> set[str]:
        self.files = set()
        self.recording = True
        try:
            action()
            time.sleep(settle)  # the work Slack's ack leaves behind (views.update, commit)
        finally:
            self.recording = False
        return set(self.files)


def _report(name: str, files: set[str]) -> None:
    print(f"\n{name}: {len(files)} files")
    for f in sorted(files):
        print(f"  {f}")


def test_one_slack_answer_crosses_few_files(
    app_factory: Callable[[], Any], slack_api: MockSlackWebApi
) -> None:
    recorder = FileRecorder()
    with recorder.installed():
        server = LiveServer(app_factory).start()
        sender = SlackSender(server, secret=SIGNING_SECRET, response_url=slack_api.response_url)
        try:
            driver = ReviewDriver(sender, slack_api)
            driver.start()
            files = recorder.during(lambda: driver.follow(driver.submit_step(SLACK_ANSWERS)))
        finally:
            sender.close()
            server.stop()
    _report("one Slack step answer", files)
    assert any(f.startswith("store/") for f in files), "the answer never reached the store"
    assert len(files) <= SLACK_ANSWER_BUDGET, sorted(files)


def test_one_teams_submit_crosses_few_files(migrated_url: str) -> None:
    pytest.importorskip(
        "microsoft_agents.hosting.fastapi", reason="needs the dealcoach[teams] extra"
    )
    from tests.teams.conftest import make_settings
    from tests.teams.connector_stub import ConnectorStub
    from tests.teams.harness import TeamsUser
    from tests.teams.test_review_http import BASE as TEAMS_ANSWERS
    from tests.teams.test_review_http import answer_card

    from dealcoach.bootstrap import build_services
    from dealcoach.web import create_app

    recorder = FileRecorder()
    connector = ConnectorStub().start()
    with recorder.installed():
        settings = make_settings(migrated_url)
        services = build_services(settings, migrate_sqlite=False)
        server = LiveServer(lambda: create_app(settings, services)).start()
        try:
            user = TeamsUser(server.url, connector)
            user.say("review Acme renewal")
            card = user.last_card()
            files = recorder.during(lambda: answer_card(user, card, TEAMS_ANSWERS))
        finally:
            server.stop()
            services.close()
            connector.stop()
    _report("one Teams card submit", files)
    assert any(f.startswith("store/") for f in files), "the submit never reached the store"
    assert len(files) <= TEAMS_SUBMIT_BUDGET, sorted(files)
