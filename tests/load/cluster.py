"""Real `dealcoach serve` processes on loopback, and simulated salespeople driving them.

Used by the load test (tests/load/), the fault tests (tests/faults/) and the load benchmark
(benchmarks/load.py). Everything here is loopback only and bounded in time.

- `ServerProcess`: one `dealcoach serve --host 127.0.0.1 --port P` subprocess with its own
  environment (DATABASE_URL, SLACK_API_URL → the Web API stand-in, signing secret, no
  scheduler); started and waited for on `/healthz`; `kill()` is SIGKILL.
- `ApiWatch`: follows the Web API stand-in's call log (`tests/slack/mock_web_api.py`) in one
  background task, so many simulated users can wait for "my modal" without each re-reading
  the whole log: `await watch.opened(trigger_id)` → view id, `await watch.updated(view_id, n)`.
- `Salesperson`: one simulated user completing reviews through signed HTTP requests (the
  payload fixtures and `state_values` of tests/slack/harness.py), sending each request to a
  server picked at random, recording every HTTP status and latency and every answer it typed.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import os
import random
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from tests.slack.driver import SCENARIOS, validate_view
from tests.slack.harness import load_payload, state_values
from tests.slack.mock_web_api import Call, MockSlackWebApi
from tests.slack.signing import SIGNING_SECRET, form_body, interactive_body, signed_headers

ROOT = Path(__file__).resolve().parents[2]
BOT_TOKEN = "xoxb-1234-5678-dealcoachload"
TEAM_ID = "T0ACME"  # the payload fixtures' workspace
ACK_LIMIT_SECONDS = 3.0
# Seconds a simulated salesperson waits between two requests: a person who clicks through
# the modal about ten times faster than anyone can type. (With 0.05–0.25 s, 50 users offer
# more than two cores serving, proxying and generating the load can answer: acks pass 3 s,
# Bolt answers those 404 while the review still completes — see TESTING.md.)
THINK = (0.5, 1.5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dealcoach_command() -> list[str]:
    """The installed `dealcoach` console script (the one users run), else the module."""
    script = Path(sys.executable).with_name("dealcoach")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from dealcoach.cli import main; main()"]


def server_env(database_url: str, api_url: str, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "DEALCOACH_", "TEAMS_")) and k != "DATABASE_URL"
    }
    env.update(
        DATABASE_URL=database_url,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=api_url,
        DEALCOACH_SCHEDULER="false",
        DEALCOACH_LOG_LEVEL="WARNING",
        PYTHONPATH=os.pathsep.join([str(ROOT / "bot"), str(ROOT)]),
    )
    env.update(extra)
    return env


class ServerProcess:
    """`dealcoach serve` in a subprocess on a free loopback port (or a given one)."""

    def __init__(
        self, env: dict[str, str], log_path: Path, *, name: str = "server", port: int = 0
    ) -> None:
        self.env = env
        self.log_path = log_path
        self.name = name
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> ServerProcess:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [*dealcoach_command(), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=self.log_path.parent,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.name} did not start:\n{self.log()[-3000:]}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flushing; what a crashed node looks like."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - a hung shutdown
            self.proc.kill()
            self.proc.wait(timeout=10)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        return self.log_path.read_text("utf-8", errors="replace") if self.log_path.exists() else ""


@contextlib.contextmanager
def servers(
    count: int, database_url: str, api: MockSlackWebApi, workdir: Path, **extra: str
) -> Any:
    """`count` server processes on one database and one Web API stand-in."""
    started: list[ServerProcess] = []
    try:
        for i in range(count):
            env = server_env(database_url, api.url, **extra)
            started.append(
                ServerProcess(env, workdir / f"server{i}.log", name=f"server{i}").start()
            )
        yield started
    finally:
        for server in started:
            server.stop()


# --- following the Web API stand-in -----------------------------------------------------------


def opened_view_id(index: int) -> str:
    """The id the stand-in gives the view of the call at position `index` of its log (its
    sequence number, from 1) — see `_answer` in tests/slack/mock_web_api.py."""
    return f"V{index + 1:06d}"


class ApiWatch:
    """One task reading the stand-in's call log as it grows; users await what they need."""

    def __init__(self, api: MockSlackWebApi, poll: float = 0.01) -> None:
        self.api = api
        self.poll = poll
        self.seen = 0
        self.trigger_to_view: dict[str, str] = {}
        self.updates: dict[str, list[Call]] = {}
        self.posts: list[Call] = []
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    async def __aenter__(self) -> ApiWatch:
        if self.api.calls:
            raise AssertionError("ApiWatch needs a fresh stand-in (view ids follow the log)")
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _scan(self) -> None:
        calls = self.api.calls
        for index in range(self.seen, len(calls)):
            call = calls[index]
            if call.method == "views.open" and call.status == 200:
                self.trigger_to_view[str(call.params.get("trigger_id"))] = opened_view_id(index)
            elif call.method == "views.update":
                self.updates.setdefault(str(call.params.get("view_id")), []).append(call)
            elif call.method == "chat.postMessage":
                self.posts.append(call)
        if len(calls) > self.seen:
            self.seen = len(calls)
            self._changed.set()
            self._changed = asyncio.Event()

    async def _run(self) -> None:
        while True:
            self._scan()
            await asyncio.sleep(self.poll)

    async def _until(self, check: Callable[[], Any], timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            found = check()
            if found:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.5))

    async def opened(self, trigger_id: str, timeout: float = 15.0) -> str:
        view_id: str = await self._until(
            lambda: self.trigger_to_view.get(trigger_id), timeout, f"views.open {trigger_id}"
        )
        return view_id

    async def updated(self, view_id: str, count: int, timeout: float = 15.0) -> Call:
        calls: list[Call] = await self._until(
            lambda: (self.updates.get(view_id) or [])[count - 1 :], timeout, f"update {view_id}"
        )
        return calls[0]


# --- a simulated salesperson -------------------------------------------------------------------


@dataclass
class Sample:
    kind: str  # "command" | "submit"
    server: int
    status: int
    seconds: float


@dataclass
class Completed:
    user: str
    review_id: int
    scenario: str
    answers: dict[str, Any]  # every answer this user typed or picked, by question id


@dataclass
class Tally:
    samples: list[Sample] = field(default_factory=list)
    completed: list[Completed] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # protocol surprises, with the user
    saving: int = 0  # steps answered late with "saving…" and then replaced (not a failure)

    def statuses(self) -> dict[int, int]:
        out: dict[int, int] = {}
        for s in self.samples:
            out[s.status] = out.get(s.status, 0) + 1
        return out

    def latencies(self, kind: str | None = None) -> list[float]:
        return sorted(s.seconds for s in self.samples if kind is None or s.kind == kind)


def pct(data: Sequence[float], q: float) -> float:
    if not data:
        return float("nan")
    ordered = sorted(data)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def unique_answers(scenario: str, user: str, n: int) -> dict[str, Any]:
    """The scenario's answers with this review's own text in every free-text field, so a
    mixed-up or lost answer is visible in the database afterwards."""
    base = dict(SCENARIOS[scenario])
    tag = f"{user}/{n}"
    for key in (
        "deal.account",
        "fit.need",
        "agenda.1.who",
        "agenda.1.translation",
        "benefit.customer_wins",
        "benefit.we_win",
    ):
        base[key] = f"{base[key]} [{tag}]"
    base["deal.value"] = str(1000 + n)
    return base


class Salesperson:
    """Completes reviews back to back until `deadline`, on servers picked at random."""

    def __init__(
        self,
        user: str,
        servers: Sequence[str],
        http: httpx.AsyncClient,
        watch: ApiWatch,
        tally: Tally,
        *,
        rng: random.Random,
        think: tuple[float, float] = THINK,
        api_base: str = "",
    ) -> None:
        self.user = user
        self.servers = list(servers)
        self.http = http
        self.watch = watch
        self.tally = tally
        self.rng = rng
        self.think = think
        self.api_base = api_base
        self.reviews = 0

    async def _post(self, kind: str, body: str) -> httpx.Response | None:
        index = self.rng.randrange(len(self.servers))
        headers = signed_headers(body)
        started = time.perf_counter()
        try:
            resp = await self.http.post(
                f"{self.servers[index]}/slack/events", content=body, headers=headers
            )
        except httpx.HTTPError as exc:
            elapsed = time.perf_counter() - started
            self.tally.samples.append(Sample(kind, index, 0, elapsed))
            self.tally.failures.append(f"{self.user}: {kind} {type(exc).__name__}")
            return None
        self.tally.samples.append(
            Sample(kind, index, resp.status_code, time.perf_counter() - started)
        )
        if resp.status_code != 200:
            self.tally.failures.append(f"{self.user}: {kind} HTTP {resp.status_code}")
            return None
        return resp

    async def _pause(self) -> None:
        await asyncio.sleep(self.rng.uniform(*self.think))

    async def review(self) -> Completed | None:
        """One review from `/dealcoach <deal>` to the cleared modal."""
        n = self.reviews = self.reviews + 1
        scenario = self.rng.choice(sorted(SCENARIOS))
        answers = unique_answers(scenario, self.user, n)
        fields = load_payload("slash_command")
        trigger = f"{int(time.time())}.{uuid.uuid4().hex}"
        fields.update(
            user_id=self.user,
            user_name=self.user.lower(),
            text=f"Deal {self.user}-{n}",
            trigger_id=trigger,
            response_url=f"{self.api_base}/response_url/{self.user}",
        )
        resp = await self._post("command", form_body(fields))
        if resp is None:
            return None
        view_id = await self.watch.opened(trigger)
        update = await self.watch.updated(view_id, 1)
        view: dict[str, Any] = {**update.json_param("view"), "id": view_id}
        validate_view(view)
        if view.get("callback_id") != "dealcoach_review":
            self.tally.failures.append(f"{self.user}: got {view.get('callback_id')} not a review")
            return None
        review_id = int(view["private_metadata"])
        for _ in range(12):
            await self._pause()
            payload = load_payload("view_submission")
            payload["user"].update(id=self.user, username=self.user.lower(), name=self.user)
            submitted = payload["view"]
            submitted.update(copy.deepcopy(view))
            values = {
                b["block_id"]: answers[b["block_id"]]
                for b in view["blocks"]
                if b["type"] == "input" and b["block_id"] in answers
            }
            submitted["state"] = {"values": state_values(view, values)}
            updates_before = len(self.watch.updates.get(view_id) or [])
            resp = await self._post("submit", interactive_body(payload))
            if resp is None:
                return None
            body = resp.json() if resp.content else {}
            action = body.get("response_action")
            if action == "clear":
                done = Completed(self.user, review_id, scenario, answers)
                self.tally.completed.append(done)
                return done
            if action != "update":
                self.tally.failures.append(f"{self.user}: response {json.dumps(body)[:300]}")
                return None
            validate_view(body["view"])
            if body["view"].get("callback_id") == "dealcoach_loading":
                # "saving…": the step was slow (a loaded machine); the user's screen shows
                # what the app puts in its place with views.update.
                self.tally.saving += 1
                replaced = await self.watch.updated(view_id, updates_before + 1, timeout=30.0)
                later: dict[str, Any] = replaced.json_param("view")
                validate_view(later)
                if later.get("callback_id") == "dealcoach_loading":
                    text = str(later["blocks"][0]["text"]["text"])
                    if not text.startswith("\u2705"):
                        self.tally.failures.append(f"{self.user}: saving… → {text[:200]}")
                        return None
                    done = Completed(self.user, review_id, scenario, answers)
                    self.tally.completed.append(done)
                    return done
                view = {**later, "id": view_id}
                continue
            view = {**body["view"], "id": view_id}
        self.tally.failures.append(f"{self.user}: review {review_id} did not finish")
        return None

    async def run(self, deadline: float) -> None:
        """Reviews back to back; a review started before the deadline is finished."""
        while time.monotonic() < deadline:
            try:
                await self.review()
            except AssertionError as exc:
                self.tally.failures.append(f"{self.user}: {exc}")
            await self._pause()


async def run_salespeople(
    server_urls: Sequence[str],
    api: MockSlackWebApi,
    *,
    users: int,
    seconds: float,
    seed: int = 8,
    think: tuple[float, float] = THINK,
) -> Tally:
    """`users` salespeople for `seconds` (bounded: each finishes the review it is in)."""
    tally = Tally()
    limits = httpx.Limits(max_connections=users * 2, max_keepalive_connections=users * 2)
    rng = random.Random(seed)
    async with ApiWatch(api) as watch, httpx.AsyncClient(timeout=15, limits=limits) as http:
        people = [
            Salesperson(
                f"U{i:05d}LOAD",
                server_urls,
                http,
                watch,
                tally,
                rng=random.Random(rng.random()),
                think=think,
                api_base=api.base,
            )
            for i in range(users)
        ]
        deadline = time.monotonic() + seconds
        await asyncio.gather(*(p.run(deadline) for p in people))
    return tally


# --- nothing lost, nothing doubled --------------------------------------------------------------


@dataclass
class Audit:
    """What the database and the Web API stand-in hold after a run, against what was typed."""

    completed_in_db: int
    drafts_in_db: int
    advice_posts: int
    problems: list[str]


def advice_review_ids(posts: Sequence[Call]) -> list[str]:
    ids: list[str] = []
    for call in posts:
        meta = call.json_param("metadata") or {}
        if meta.get("event_type") == "deal_review_completed":
            ids.append(str(meta["event_payload"]["review_id"]))
    return ids


def _same(question_type: str, typed: Any, stored: Any) -> bool:
    if question_type == "number":
        return stored is not None and float(stored) == float(str(typed).replace(",", ""))
    if question_type == "multi_choice":
        return sorted(stored or []) == sorted(typed or [])
    if isinstance(typed, str):
        return stored == (typed.strip() or None)
    return bool(stored == typed)


def audit(database_url: str, tally: Tally, posts: Sequence[Call]) -> Audit:
    """Every completed review in the database exactly once with every answer as typed, one
    advice DM each, no stray rows."""
    from dealcoach.coach.bank import load_bank
    from dealcoach.services.actors import Actor
    from dealcoach.services.reviews import ReviewService
    from dealcoach.store import Store

    problems: list[str] = []
    bank = load_bank("en")
    store = Store(database_url)
    try:
        reviews = ReviewService(store)
        completed_in_db = int(store.run(lambda uow: uow.reviews.count(status="completed")))
        drafts_in_db = int(store.run(lambda uow: uow.reviews.count(status="draft")))
        ids = [c.review_id for c in tally.completed]
        if len(set(ids)) != len(ids):
            problems.append(f"one review id cleared twice: {len(ids) - len(set(ids))} repeats")
        if completed_in_db != len(ids):
            problems.append(f"{completed_in_db} completed reviews in the database, {len(ids)} seen")
        for done in tally.completed:
            actor = Actor(platform="slack", workspace_id=TEAM_ID, user_id=done.user)
            view = reviews.get(actor, done.review_id)
            if view.status != "completed":
                problems.append(f"review {done.review_id} is {view.status}")
            expected_deal = f"Deal {done.user}-"
            if not (view.deal_name or "").startswith(expected_deal):
                problems.append(f"review {done.review_id} has deal {view.deal_name!r}")
            for qid, typed in done.answers.items():
                question = bank.questions.get(qid)
                if question is None or qid not in view.answers:
                    if "[" in str(typed):  # tagged free text is always asked
                        problems.append(f"review {done.review_id}: {qid} lost")
                    continue
                if not _same(question.type, typed, view.answers[qid]):
                    problems.append(
                        f"review {done.review_id}: {qid} = {view.answers[qid]!r}, typed {typed!r}"
                    )
        posted = advice_review_ids(posts)
        if sorted(posted) != sorted(str(i) for i in ids):
            extra = len(posted) - len(set(posted))
            problems.append(
                f"{len(posted)} advice DMs ({extra} duplicates) for {len(ids)} completed reviews"
            )
    finally:
        store.dispose()
    return Audit(completed_in_db, drafts_in_db, len(advice_review_ids(posts)), problems)


async def drain_advice(watch_or_api: MockSlackWebApi, expected: int, timeout: float = 30) -> None:
    """Wait until `expected` advice DMs were posted (they are sent after the ack)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        posts = watch_or_api.calls_to("chat.postMessage")
        if len(advice_review_ids(posts)) >= expected:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)  # and anything that would come after (a duplicate)


def summary(tally: Tally, result: Audit, *, users: int, seconds: float) -> dict[str, Any]:
    acks = tally.latencies()
    return {
        "users": users,
        "seconds": seconds,
        "servers": 2,
        "requests": len(tally.samples),
        "statuses": {str(k): v for k, v in sorted(tally.statuses().items())},
        "reviews_completed": len(tally.completed),
        "reviews_per_second": round(len(tally.completed) / seconds, 2) if seconds else 0.0,
        "completed_in_db": result.completed_in_db,
        "drafts_in_db": result.drafts_in_db,
        "advice_posts": result.advice_posts,
        "ack_p50_ms": round(pct(acks, 0.5) * 1000, 1),
        "ack_p99_ms": round(pct(acks, 0.99) * 1000, 1),
        "ack_max_ms": round(max(acks, default=0.0) * 1000, 1),
        "failures": tally.failures[:20],
        "problems": result.problems[:20],
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
    }
