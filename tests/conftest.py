"""Shared test fixtures and the suite's run plumbing.

`database_url` gives each test an empty database of its own, on SQLite and — when
`DEALCOACH_TEST_POSTGRES_URL` is set (`.ci/run` sets it) — on PostgreSQL too. PostgreSQL
isolation is a fresh schema per test (selected through libpq's `search_path` option in the
URL), dropped afterwards, so tests (and the processes they start) never see each other's rows.

`migrate_head(url)` (session fixture) brings such a fresh database to the head revision from
a template migrated once per session (tests/dbtemplate.py): the `store` / `migrated_url` /
`settings` fixtures use it. Tests about migrations call `migrate` themselves.

The suite runs on two pytest-xdist workers (pyproject's addopts; `-n0` runs it in one
process). Tests marked `exclusive` (timing bounds, several server processes, load) run with
no other test at the same time: see `EXCLUSIVE` and `_RunLock` below.

The stand-in HTTP servers (socketserver's `serve_forever`) look for a shutdown request every
0.05 s instead of 0.5 s, so stopping one after each test does not wait ~0.25 s.
"""

from __future__ import annotations

import os
import shutil
import socketserver
import tempfile
import uuid
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import pytest
from tests.dbtemplate import MigrationTemplates

PG_ENV = "DEALCOACH_TEST_POSTGRES_URL"
PG_SKIP_REASON = (
    f"{PG_ENV} is not set, so the PostgreSQL variant is skipped "
    "(.ci/run sets it to postgresql+psycopg://postgres@127.0.0.1:5432/test)"
)


def postgres_base_url() -> str | None:
    return os.environ.get(PG_ENV) or None


def _libpq_url(sqlalchemy_url: str) -> str:
    # psycopg.connect() wants a plain libpq URL, without SQLAlchemy's "+driver".
    return sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1)


def create_pg_schema(base_url: str) -> tuple[str, str]:
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(_libpq_url(base_url), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in base_url else "?"
    return schema, f"{base_url}{sep}options={quote(f'-csearch_path={schema}')}"


def drop_pg_schema(base_url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(_libpq_url(base_url), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An empty database for this test: SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "dealcoach.db"
        yield f"sqlite:///{path}"
        return
    base = postgres_base_url()
    if base is None:
        pytest.skip(PG_SKIP_REASON)
    schema, url = create_pg_schema(base)
    try:
        yield url
    finally:
        drop_pg_schema(base, schema)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL schema only (for tests that are about PostgreSQL behaviour)."""
    base = postgres_base_url()
    if base is None:
        pytest.skip(PG_SKIP_REASON)
    schema, url = create_pg_schema(base)
    try:
        yield url
    finally:
        drop_pg_schema(base, schema)


@pytest.fixture(scope="session")
def migrate_head(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], None]]:
    """`migrate_head(url)`: `migrate(url, "head")` for a test's fresh database, copied from a
    template migrated once per session (tests/dbtemplate.py)."""
    templates = MigrationTemplates(tmp_path_factory.mktemp("template"), postgres_base_url())
    try:
        yield templates.migrate_head
    finally:
        templates.close()


# --- stand-in servers stop promptly --------------------------------------------------------

SERVE_POLL_SECONDS = 0.05


@pytest.fixture(scope="session", autouse=True)
def _prompt_serve_forever() -> Iterator[None]:
    """socketserver's `serve_forever()` checks for `shutdown()` once per `poll_interval`
    (0.5 s by default): every stand-in (Slack Web API, Bot Connector, CRMs) made its test's
    teardown wait for that. Same loop, polled every 0.05 s."""
    original = socketserver.BaseServer.serve_forever

    def serve_forever(
        self: socketserver.BaseServer, poll_interval: float = SERVE_POLL_SECONDS
    ) -> None:
        original(self, poll_interval)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socketserver.BaseServer, "serve_forever", serve_forever)
        yield


# --- exclusive tests under pytest-xdist ------------------------------------------------------

# Tests that must not share the machine with another test (they have wall-clock bounds, run
# several server processes, or load the machine on purpose). Under pytest-xdist each of them
# waits for the other worker's current test to end, and the other worker waits for it.
# A test file can also mark a test `@pytest.mark.exclusive` itself.
EXCLUSIVE: dict[str, str] = {
    "tests/load/": "50 salespeople on two server processes; every ack < 3 s",
    "tests/perf/": "perf budgets: twice the capacity, ack and ratio bounds",
    "tests/hostile/test_attack_run.py": "an attack run against a server process",
    "tests/faults/test_process_faults.py": "two server processes; a step held past 3 s",
    "tests/faults/test_web_api_faults.py": "acks < 1 s while the Web API hangs",
    "tests/faults/test_database_faults.py": "answered < 3 s across a PostgreSQL restart",
    "tests/test_serve_limits.py": "deadlines; healthz < 1 s behind slow clients",
    "tests/structure/": "records the files touched within a settle time",
    "tests/slack/test_platform_rules.py::test_rate_limited_views_open_is_retried_and_still_opens"
    "_within_the_trigger_window": "ack < 1 s, views.open < 3 s",
    "tests/slack/test_platform_rules.py::test_a_hanging_web_api_does_not_delay_the_ack": (
        "ack < 1 s"
    ),
    "tests/slack/test_review_flow.py::test_modal_is_opened_with_the_command_trigger_before_any"
    "_other_web_api_call": "ack < 1 s",
    "tests/slack/test_growth_per_user.py::test_a_refusal_right_after_the_ack_is_still_answered"
    "_200_at_once": "answered < 2 s",
    "tests/crm/test_slack_crm.py::test_hubspot_connect_pick_prefill_review_save_twice_then"
    "_revoke": "picker < 3 s",
    "tests/crm/test_slack_crm.py::test_a_slow_or_rate_limited_crm_still_answers_the_picker"
    "_within_3_seconds": "picker < 3 s",
}

LOCKS_ENV = "DEALCOACH_TEST_LOCKS"


def pytest_configure(config: pytest.Config) -> None:
    # (The `exclusive` marker is declared in pyproject.toml.)
    if _is_xdist_controller(config):
        # The workers (started after this) inherit the folder of the run's lock files.
        folder = tempfile.mkdtemp(prefix="dealcoach-test-locks-")
        os.environ[LOCKS_ENV] = folder
        config.stash[_LOCKS_KEY] = folder


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = config.stash.get(_LOCKS_KEY, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
        os.environ.pop(LOCKS_ENV, None)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        nodeid = item.nodeid
        if any(nodeid.startswith(prefix) for prefix in EXCLUSIVE):
            item.add_marker(pytest.mark.exclusive)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[Any, Any, Any]:
    lock = _run_lock(item.config)
    if lock is None:
        return (yield)
    exclusive = _is_exclusive(item)
    lock.enter(exclusive=exclusive)
    try:
        return (yield)
    finally:
        # A run of exclusive tests on this worker keeps the machine to itself throughout.
        lock.leave(keep_exclusive=exclusive and nextitem is not None and _is_exclusive(nextitem))


def _is_exclusive(item: pytest.Item) -> bool:
    return item.get_closest_marker("exclusive") is not None


_LOCKS_KEY = pytest.StashKey[str]()
_RUN_LOCK_KEY = pytest.StashKey["_RunLock | None"]()


def _is_xdist_controller(config: pytest.Config) -> bool:
    if hasattr(config, "workerinput"):
        return False
    # What pytest-xdist itself checks (its option parsing has run by now).
    return getattr(config.option, "dist", "no") != "no" and bool(getattr(config.option, "tx", None))


def _run_lock(config: pytest.Config) -> _RunLock | None:
    if _RUN_LOCK_KEY not in config.stash:
        folder = os.environ.get(LOCKS_ENV)
        worker = hasattr(config, "workerinput")
        config.stash[_RUN_LOCK_KEY] = _RunLock(Path(folder)) if worker and folder else None
    return config.stash[_RUN_LOCK_KEY]


class _RunLock:
    """A readers-writer lock across the xdist workers (flock on two files in the run's lock
    folder): a test holds `room` shared, an exclusive test holds it exclusively. `gate` gives
    the exclusive test priority: while it waits for the room to empty, no other test enters
    (and the other worker's next test waits at the gate until the exclusive one is done)."""

    def __init__(self, folder: Path) -> None:
        self._gate: IO[bytes] = open(folder / "gate", "ab")  # noqa: SIM115 - kept open
        self._room: IO[bytes] = open(folder / "room", "ab")  # noqa: SIM115 - kept open
        self._exclusive = False  # this worker holds gate and room exclusively

    def enter(self, *, exclusive: bool) -> None:
        import fcntl

        if self._exclusive:
            if exclusive:
                return  # still ours, from the exclusive test before
            self._release()
        fcntl.flock(self._gate, fcntl.LOCK_EX)
        try:
            fcntl.flock(self._room, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        except BaseException:
            fcntl.flock(self._gate, fcntl.LOCK_UN)
            raise
        if exclusive:
            self._exclusive = True
        else:
            fcntl.flock(self._gate, fcntl.LOCK_UN)  # let the next one in

    def leave(self, *, keep_exclusive: bool = False) -> None:
        if self._exclusive and keep_exclusive:
            return
        self._release()

    def _release(self) -> None:
        import fcntl

        fcntl.flock(self._room, fcntl.LOCK_UN)
        if self._exclusive:
            fcntl.flock(self._gate, fcntl.LOCK_UN)
            self._exclusive = False
