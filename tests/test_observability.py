"""Structured logs without secrets or answer text; request ids; Prometheus metrics."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from dealcoach.config import Settings
from dealcoach.errors import ConfigError
from dealcoach.observability import (
    configure_logging,
    create_metrics,
    get_request_id,
    instrument,
    redact,
    request_id_var,
)

BOT_TOKEN = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"
APP_TOKEN = "xapp-1-A0123456789-1234567890123-0a1b2c3d4e5f"
USER_TOKEN = "xoxp-1111-2222-3333-abcdefabcdef"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
CLIENT_SECRET = "3c1f0e9d8b7a65432100fedcba987654"
DB_PASSWORD = "s3cr3t-db-pass"


@pytest.fixture
def settings() -> Settings:
    return Settings(
        _env_file=None,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_client_secret=CLIENT_SECRET,
        database_url=f"postgresql+psycopg://dealcoach:{DB_PASSWORD}@db:5432/dealcoach",
    )


@pytest.fixture
def log_stream(settings: Settings) -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root, ours = logging.getLogger(), logging.getLogger("dealcoach")
    saved_level, saved_handlers, saved_ours = root.level, list(root.handlers), ours.level
    configure_logging(settings, level="DEBUG", json_format=True, stream=stream)
    try:
        yield stream
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        ours.setLevel(saved_ours)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_every_record_is_one_json_object_with_time_level_logger_message(
    log_stream: io.StringIO,
) -> None:
    logging.getLogger("dealcoach.test").info(
        "review %s completed", "R123", extra={"review_id": "R123", "flags": ["fit_unverified"]}
    )
    [record] = lines(log_stream)
    assert record["message"] == "review R123 completed"
    assert record["level"] == "info"
    assert record["logger"] == "dealcoach.test"
    assert record["time"].endswith("+00:00")
    assert record["review_id"] == "R123"
    assert record["flags"] == ["fit_unverified"]


def test_records_carry_the_request_id_of_the_current_request(log_stream: io.StringIO) -> None:
    token = request_id_var.set("req-42")
    try:
        logging.getLogger("dealcoach.test").info("inside")
    finally:
        request_id_var.reset(token)
    logging.getLogger("dealcoach.test").info("outside")
    inside, outside = lines(log_stream)
    assert inside["request_id"] == "req-42"
    assert "request_id" not in outside


def test_exceptions_are_logged_as_text_inside_the_json_object(log_stream: io.StringIO) -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("dealcoach.test").exception("handler failed")
    [record] = lines(log_stream)
    assert "ValueError: boom" in record["exc_info"]


@pytest.mark.parametrize(
    "secret", [BOT_TOKEN, APP_TOKEN, USER_TOKEN, SIGNING_SECRET, CLIENT_SECRET, DB_PASSWORD]
)
def test_tokens_and_configured_secrets_never_reach_the_log(
    log_stream: io.StringIO, secret: str
) -> None:
    log = logging.getLogger("slack_sdk.web.async_base_client")  # a third-party logger
    log.info("Sending a request - headers: {'Authorization': '(redacted)'} %s", secret)
    log.info(f"inline {secret} in an f-string")
    log.warning("in an extra", extra={"header": f"Bearer {secret}", "nested": {"t": [secret]}})
    try:
        raise RuntimeError(f"failed with {secret}")
    except RuntimeError:
        log.exception("in a traceback")
    output = log_stream.getvalue()
    assert len(lines(log_stream)) == 4
    assert secret not in output
    assert "[REDACTED]" in output


def test_unconfigured_slack_tokens_are_recognised_by_their_shape() -> None:
    text = f"bot={BOT_TOKEN} app={APP_TOKEN} refresh=xoxe-1-abcdefghijkl legacy=xoxs-12-34"
    cleaned = redact(text)
    for token in ("xoxb-", "xapp-", "xoxe-", "xoxs-"):
        assert token not in cleaned


def test_database_url_passwords_and_oauth_codes_are_redacted() -> None:
    cleaned = redact(
        "connect postgresql+psycopg://app:hunter2hunter2@db/x; "
        "GET /slack/oauth_redirect?code=1234.5678.abcd&state=st-9f8e7d"
    )
    assert "hunter2" not in cleaned
    assert "1234.5678" not in cleaned
    assert "st-9f8e7d" not in cleaned
    assert "postgresql+psycopg://app:[REDACTED]@db/x" in cleaned


def test_answer_text_in_a_dumped_slack_payload_is_omitted(log_stream: io.StringIO) -> None:
    payload = {
        "type": "view_submission",
        "view": {
            "callback_id": "review",
            "state": {
                "values": {
                    "fit.need": {"v": {"type": "plain_text_input", "value": "Secret merger plan"}}
                }
            },
        },
        "text": "Acme renewal worth 2M",
    }
    logging.getLogger("slack_bolt.App").warning("Unhandled request (%s)", payload)
    logging.getLogger("slack_bolt.App").warning("as json %s", json.dumps(payload))
    output = log_stream.getvalue()
    assert "Secret merger plan" not in output
    assert "Acme renewal" not in output
    assert "view_submission" in output  # the shape survives for debugging


def test_answers_passed_as_extra_are_logged_as_a_count_only(log_stream: io.StringIO) -> None:
    answers = {"deal.name": "Project Falcon", "fit.need": "They need X"}
    logging.getLogger("dealcoach.test").info("saved step", extra={"answers": answers})
    [record] = lines(log_stream)
    assert "Project Falcon" not in json.dumps(record)
    assert record["answers"] == "[omitted] 2 items"


def test_debug_level_does_not_open_the_slack_sdk_body_logs(settings: Settings) -> None:
    root = logging.getLogger()
    saved = root.level, list(root.handlers)
    try:
        configure_logging(settings, level="DEBUG", stream=io.StringIO())
        assert logging.getLogger("slack_sdk").level == logging.INFO
        assert logging.getLogger("dealcoach").getEffectiveLevel() == logging.DEBUG
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]


def test_configure_logging_twice_keeps_one_handler(settings: Settings) -> None:
    root = logging.getLogger()
    saved = root.level, list(root.handlers)
    try:
        first = configure_logging(settings, stream=io.StringIO())
        second = configure_logging(settings, stream=io.StringIO())
        assert first not in root.handlers
        assert [h for h in root.handlers if h.get_name() == "dealcoach"] == [second]
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]


def test_an_unknown_log_level_is_one_clear_config_error() -> None:
    with pytest.raises(ConfigError, match="DEALCOACH_LOG_LEVEL 'LOUD' is not a log level"):
        configure_logging(level="LOUD", stream=io.StringIO())


def test_plain_format_for_terminals_is_not_json(settings: Settings) -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.level, list(root.handlers)
    try:
        configure_logging(settings, json_format=False, stream=stream)
        logging.getLogger("dealcoach.test").warning("token %s", BOT_TOKEN)
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
    text = stream.getvalue()
    assert "WARNING" in text and "dealcoach.test" in text
    assert BOT_TOKEN not in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


# --- HTTP: request ids and metrics ----------------------------------------------------------


def make_app() -> Starlette:
    async def item(request: Request) -> JSONResponse:
        logging.getLogger("dealcoach.web").info("item", extra={"item": request.path_params["id"]})
        return JSONResponse({"id": request.path_params["id"], "request_id": get_request_id()})

    async def slack_events(request: Request) -> PlainTextResponse:
        return PlainTextResponse("")

    async def crash(request: Request) -> PlainTextResponse:
        raise RuntimeError("bug")

    app = Starlette(
        routes=[
            Route("/items/{id}", item),
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/crash", crash),
        ]
    )
    instrument(app, create_metrics())
    return app


def client(app: Starlette) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


async def test_a_valid_incoming_request_id_is_kept_and_echoed(log_stream: io.StringIO) -> None:
    async with client(make_app()) as c:
        response = await c.get("/items/7", headers={"X-Request-Id": "lb-abc-123"})
    assert response.headers["x-request-id"] == "lb-abc-123"
    assert response.json()["request_id"] == "lb-abc-123"
    handler_line = next(r for r in lines(log_stream) if r["logger"] == "dealcoach.web")
    assert handler_line["request_id"] == "lb-abc-123"
    access = next(r for r in lines(log_stream) if r["logger"] == "dealcoach.access")
    assert access["request_id"] == "lb-abc-123"
    assert access["route"] == "/items/{id}"
    assert access["status"] == 200


async def test_a_missing_or_malformed_request_id_is_replaced_by_a_fresh_one() -> None:
    async with client(make_app()) as c:
        fresh = await c.get("/items/1")
        forged = await c.get("/items/1", headers={"X-Request-Id": 'x" injected {json}'})
    assert len(fresh.headers["x-request-id"]) == 32
    assert forged.headers["x-request-id"] != 'x" injected {json}'
    assert len(forged.headers["x-request-id"]) == 32
    assert fresh.headers["x-request-id"] != forged.headers["x-request-id"]


async def test_metrics_count_requests_by_route_template_not_raw_path() -> None:
    async with client(make_app()) as c:
        for i in range(3):
            await c.get(f"/items/{i}")
        await c.get("/no/such/page")
        await c.get("/crash")
        body = (await c.get("/metrics")).text
    found = samples(body)
    key = (("method", "GET"), ("route", "/items/{id}"), ("status", "200"))
    assert found[("dealcoach_http_requests_total", key)] == 3
    unmatched = (("method", "GET"), ("route", "unmatched"), ("status", "404"))
    assert found[("dealcoach_http_requests_total", unmatched)] == 1
    crashed = (("method", "GET"), ("route", "/crash"), ("status", "500"))
    assert found[("dealcoach_http_requests_total", crashed)] == 1
    assert "/items/0" not in body


async def test_slack_event_responses_are_timed_as_acks() -> None:
    async with client(make_app()) as c:
        await c.post("/slack/events", content=b"{}")
        await c.post("/slack/events", content=b"{}")
        body = (await c.get("/metrics")).text
    found = samples(body)
    assert found[("dealcoach_slack_ack_seconds_count", (("mode", "http"),))] == 2
    assert found[("dealcoach_slack_ack_seconds_bucket", (("le", "3.0"), ("mode", "http")))] == 2


async def test_metrics_endpoint_serves_the_prometheus_text_format() -> None:
    app = make_app()
    metrics = app.state.metrics
    metrics.review_completed("walk_away")
    metrics.digest_sent()
    metrics.digest_failed()
    metrics.web_api_error("chat.postMessage", "ratelimited")
    metrics.observe_ack(0.12)
    async with client(app) as c:
        response = await c.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    found = samples(response.text)
    assert (
        found[
            (
                "dealcoach_reviews_completed_total",
                (("platform", "slack"), ("recommendation", "walk_away")),
            )
        ]
        == 1
    )
    assert found[("dealcoach_digests_sent_total", (("platform", "slack"),))] == 1
    assert found[("dealcoach_digests_failed_total", (("platform", "slack"),))] == 1
    assert (
        found[
            (
                "dealcoach_web_api_errors_total",
                (("error", "ratelimited"), ("method", "chat.postMessage"), ("platform", "slack")),
            )
        ]
        == 1
    )
    assert found[("dealcoach_slack_ack_seconds_count", (("mode", "socket"),))] == 1
    assert any(name == "dealcoach_build_info" for name, _ in found)


def test_each_app_gets_its_own_registry_so_apps_can_be_built_twice() -> None:
    first, second = create_metrics(), create_metrics()
    first.review_completed("pursue")
    assert b'recommendation="pursue"' in first.render()
    assert b'recommendation="pursue"' not in second.render()


async def test_install_adds_metrics_to_a_fastapi_app_and_returns_them() -> None:
    from fastapi import FastAPI

    from dealcoach.observability import install

    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    metrics = install(app)
    assert app.state.metrics is metrics
    async with client(app) as c:
        await c.get("/healthz")
        response = await c.get("/metrics")
    key = (("method", "GET"), ("route", "/healthz"), ("status", "200"))
    assert samples(response.text)[("dealcoach_http_requests_total", key)] == 1
    assert "x-request-id" in response.headers


def test_sql_parameters_and_sdk_body_dumps_stay_out_even_at_debug(log_stream: io.StringIO) -> None:
    # Bolt copies the root level onto its own loggers; the handler's floor still applies.
    bolt = logging.getLogger("slack_bolt.AsyncApp")
    bolt.setLevel(logging.DEBUG)
    bolt.debug('Responding with status: 200 body: "Project Falcon"')
    logging.getLogger("sqlalchemy.engine.Engine").info("[cached] ('Project Falcon',)")
    logging.getLogger("aiosqlite").debug("executing ('Project Falcon',)")
    logging.getLogger("sqlalchemy.engine.Engine").warning("pool overflow")
    logging.getLogger("dealcoach.store").debug("saved step")
    output = log_stream.getvalue()
    assert "Project Falcon" not in output
    assert [r["message"] for r in lines(log_stream)] == ["pool overflow", "saved step"]


async def test_made_up_methods_and_paths_do_not_grow_the_metrics() -> None:
    # Issue #11 item 4: 10,000 made-up method tokens made 170,000 series (15.5 MiB /metrics).
    async with client(make_app()) as c:
        baseline = len((await c.get("/metrics")).content)
        for i in range(300):
            await c.request(f"X{i}ATTACK", f"/items/{i}")
            await c.request(f"Y{i}", f"/nowhere/{i}")
        body = (await c.get("/metrics")).text
    methods = set()
    series = 0
    for family in text_string_to_metric_families(body):
        if family.name.startswith("dealcoach_http_request"):
            for s in family.samples:
                series += 1
                methods.add(s.labels.get("method"))
    assert methods <= {"GET", "other", None}, sorted(m for m in methods if m)[:5]
    assert "ATTACK" not in body and "/nowhere" not in body
    assert series < 120  # a handful of (method, route, status) combinations, with buckets
    assert len(body) < baseline + 30_000
    counted = sum(
        value
        for (name, labels), value in samples(body).items()
        if name == "dealcoach_http_requests_total" and ("method", "other") in labels
    )
    assert counted == 600


def test_refusals_are_logged_once_per_interval_with_a_count() -> None:
    from dealcoach.observability import RefusalFilter

    now = [0.0]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RefusalFilter(interval=60, clock=lambda: now[0]))
    logger = logging.getLogger("uvicorn.error.refusal-test")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        for _ in range(1000):
            logger.warning("Exceeded concurrency limit.")
        emfile = OSError(24, "Too many open files")
        for _ in range(500):
            logger.error("accept failed", exc_info=(OSError, emfile, None))
        logger.warning("something else")
        logger.warning("something else")
        now[0] = 61.0
        logger.warning("Exceeded concurrency limit.")
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    refused = [line for line in lines if line.startswith("Exceeded concurrency limit")]
    assert refused == [
        "Exceeded concurrency limit.",
        "Exceeded concurrency limit. (999 more like this not logged)",
    ]
    assert sum(line.startswith("accept failed") for line in lines) == 1
    assert lines.count("something else") == 2  # other records are never dropped
