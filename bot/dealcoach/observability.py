"""Logs and metrics: structured JSON logs with a request id, no secrets, Prometheus metrics.

Mount it in the ASGI app (web.py) like this::

    from dealcoach.observability import configure_logging, create_metrics, instrument

    configure_logging(settings)          # once, at start-up (before uvicorn logs anything)
    metrics = create_metrics()           # one registry per app, nothing global
    instrument(app, metrics)             # X-Request-Id, HTTP metrics, GET /metrics

and run uvicorn with ``log_config=None`` (so its loggers propagate to ours) and
``access_log=False`` (``instrument`` writes one access line per request itself, with the
request id and the route template rather than the raw path).

Logging rules (issue 6): every record leaves as one JSON object; a `RedactingFilter` on the
handler scrubs Slack tokens (``xox?-…``, ``xapp-…``), the configured secrets, database
passwords, OAuth ``code``/``state`` query values and the free-text fields of Slack payload
dumps (``'text': …``, ``'value': …``) from every record, whichever library logged it. Our
own code logs ids and counts only, never answer text; keys such as ``answers`` or
``advice`` passed through ``extra=`` are replaced by their size.

Metrics live in a `CollectorRegistry` made by `create_metrics()`, not in
prometheus_client's default registry: importing this module registers nothing, tests
build as many apps as they like, and each replica exports its own process's numbers
(one uvicorn worker per container/pod; scale with replicas, not workers).
"""

from __future__ import annotations

import errno
import json
import logging
import re
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    Info,
    generate_latest,
)

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response

    from dealcoach.config import Settings

__all__ = [
    "LEVEL_FLOORS",
    "REQUEST_ID_HEADER",
    "HttpMetricsMiddleware",
    "JsonFormatter",
    "Metrics",
    "RedactingFilter",
    "RefusalFilter",
    "RequestIdMiddleware",
    "configure_logging",
    "create_metrics",
    "get_request_id",
    "install",
    "instrument",
    "metrics_endpoint",
    "redact",
    "request_id_var",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

REQUEST_ID_HEADER = "x-request-id"
# The id of the request being handled, for log records (and for error replies that quote it).
request_id_var: ContextVar[str | None] = ContextVar("dealcoach_request_id", default=None)

# An incoming X-Request-Id is kept only if it looks like an id (a proxy's or a load
# balancer's); anything else is replaced, so a caller cannot inject text into our logs.
_REQUEST_ID_OK = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def get_request_id() -> str | None:
    return request_id_var.get()


# --- redaction ------------------------------------------------------------------------------

REDACTED = "[REDACTED]"
OMITTED = "[omitted]"

_TOKEN_PATTERNS = [
    # Slack bot/user/app-config/refresh/legacy tokens (xoxb-, xoxp-, xoxa-, xoxr-, xoxe-, …)
    re.compile(r"xox[a-z](?:\.[a-z]+)?-[A-Za-z0-9-]+"),
    # Slack app-level tokens (Socket Mode)
    re.compile(r"xapp-[A-Za-z0-9-]+"),
    # Authorization headers, whatever the scheme
    re.compile(r"(?i)(?<=bearer )[A-Za-z0-9._~+/=-]{8,}"),
]
# user:password@ in a database URL → user:[REDACTED]@
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]+:)(?P<pw>[^@\s]+)(?=@)")
# OAuth redirect query values (`/slack/oauth_redirect?code=…&state=…`)
_OAUTH_QUERY = re.compile(r"(?P<head>[?&](?:code|state|client_secret)=)[^&\s\"']+")
# Free text inside dumped Slack payloads (what a user typed): 'text': '…', "value": "…"
_PAYLOAD_TEXT = re.compile(
    r"""(?P<head>(?P<q>['"])(?:text|value|initial_value|user_text)(?P=q)\s*:\s*)"""
    r"""(?P<sq>['"])(?:\\.|(?!(?P=sq)).)*(?P=sq)""",
    re.DOTALL,
)
# extra= keys that would carry what someone typed; logged as their size only.
_TEXT_KEYS = frozenset({"answers", "answer", "advice", "text", "values", "payload", "body"})
# Shorter "secrets" would redact ordinary words.
_MIN_SECRET_LENGTH = 8


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Return `text` with tokens, the given secret values and payload free text removed."""
    for secret in secrets:
        if len(secret) >= _MIN_SECRET_LENGTH and secret in text:
            text = text.replace(secret, REDACTED)
    for pattern in _TOKEN_PATTERNS:
        text = pattern.sub(REDACTED, text)
    text = _URL_PASSWORD.sub(lambda m: m.group("head") + REDACTED, text)
    text = _OAUTH_QUERY.sub(lambda m: m.group("head") + REDACTED, text)
    return _PAYLOAD_TEXT.sub(lambda m: m.group("head") + f"'{OMITTED}'", text)


def _size(value: object) -> str:
    if isinstance(value, Mapping | list | tuple | set | frozenset):
        return f"{OMITTED} {len(value)} items"
    return OMITTED


# Attributes every LogRecord has; anything else came in through `extra=`.
_RECORD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()
    | {"message", "asctime", "taskName"}
)


class RedactingFilter(logging.Filter):
    """Scrub secrets from a record in place: message, arguments, extras, exception text.

    Attach it to *handlers* (as `configure_logging` does): handler filters see records from
    every logger, while a logger's filters only see records logged on that very logger.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s and len(s) >= _MIN_SECRET_LENGTH)

    def _clean(self, value: object, depth: int = 0) -> object:
        if isinstance(value, str):
            return redact(value, self.secrets)
        if isinstance(value, int | float | bool) or value is None:
            return value
        if depth < 4 and isinstance(value, list | tuple):
            return [self._clean(item, depth + 1) for item in value]
        if depth < 4 and isinstance(value, Mapping):
            return {
                str(k): _size(v) if k in _TEXT_KEYS else self._clean(v, depth + 1)
                for k, v in value.items()
            }
        return redact(str(value), self.secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < _floor(record.name):
            return False  # a library's body/SQL-parameter dump (see LEVEL_FLOORS)
        try:
            message = record.getMessage()
        except Exception:  # a bad %-format must not lose the record
            message = f"{record.msg!r} {record.args!r}"
        record.msg = redact(message, self.secrets)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        for key, value in list(record.__dict__.items()):
            if key in _RECORD_ATTRS:
                continue
            if key in _TEXT_KEYS:
                record.__dict__[key] = _size(value)
            else:
                record.__dict__[key] = self._clean(value)
        return True


# Lines written once per refused connection or request under a flood: uvicorn's 503 past
# `limit_concurrency`, asyncio's accept() failing with "Too many open files", our 408 for a
# body that does not arrive in time (web.read_body_within) and the connections closed for
# headers that do not (web.header_deadline_protocol). Logged once per interval per kind.
REFUSAL_KINDS: tuple[tuple[str, str], ...] = (
    ("uvicorn", "Exceeded concurrency limit"),
    ("asyncio", "socket.accept() out of system resource"),
    ("dealcoach.web", "request body not received within"),
    ("dealcoach.web", "request headers not received within"),
)
REFUSAL_LOG_INTERVAL_SECONDS = 60.0


class RefusalFilter(logging.Filter):
    """Let the first record of each refusal kind through per `interval`; drop (and count)
    the rest, and say on the next one let through how many were dropped.

    1,100 slow clients made 58,880 "Too many open files" lines: writing them is itself load.
    Any record whose exception is EMFILE/ENFILE counts as one kind too, whoever logged it.
    """

    def __init__(
        self,
        interval: float = REFUSAL_LOG_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.interval = interval
        self.clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}  # kind → (window start, dropped)

    @staticmethod
    def kind(record: logging.LogRecord) -> str | None:
        message = str(record.msg)
        for logger_name, prefix in REFUSAL_KINDS:
            if record.name.startswith(logger_name) and message.startswith(prefix):
                return prefix
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, OSError) and error.errno in (errno.EMFILE, errno.ENFILE):
            return "too many open files"
        return None

    def filter(self, record: logging.LogRecord) -> bool:
        kind = self.kind(record)
        if kind is None:
            return True
        with self._lock:
            now = self.clock()
            start, dropped = self._windows.get(kind, (None, 0))
            if start is not None and now - start < self.interval:
                self._windows[kind] = (start, dropped + 1)
                return False
            self._windows[kind] = (now, 0)
        if dropped:
            record.msg = f"{record.msg} ({dropped} more like this not logged)"
            record.__dict__["refusals_not_logged"] = dropped
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request_id, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        if request_id:
            out["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRS and key != "request_id" and not key.startswith("_"):
                out[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            out["exc_info"] = record.exc_text
        if record.stack_info:
            out["stack_info"] = record.stack_info
        return json.dumps(out, default=str, ensure_ascii=False)


class _PlainFormatter(logging.Formatter):
    """For a terminal (DEALCOACH_LOG_JSON=false): human-readable, request id included."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if not getattr(record, "request_id", None):
            record.request_id = request_id_var.get() or "-"
        return super().format(record)


def _settings_secrets(settings: Settings) -> list[str]:
    from sqlalchemy.engine import make_url

    secrets: list[str] = []
    for value in (
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.slack_app_token,
        settings.slack_client_secret,
        settings.teams_client_secret,
        settings.dealcoach_secret_key,
    ):
        if value is not None:
            secrets.append(value.get_secret_value())
    try:
        password = make_url(settings.database_url).password
    except Exception:  # an unparsable URL fails elsewhere, with a better message
        password = None
    if password:
        secrets.append(str(password))
    return secrets


# Third-party loggers that print what users typed below a certain level: HTTP clients and
# the Slack/Teams SDKs dump request and response bodies at DEBUG, database drivers and
# SQLAlchemy's engine log SQL *parameters* (answers) at DEBUG/INFO. Whatever level is
# configured, records from them below their floor are dropped by the handler's filter
# (a logger level is not enough: Bolt copies the root level onto its own loggers).
LEVEL_FLOORS: dict[str, int] = {
    "slack_bolt": logging.INFO,
    "slack_sdk": logging.INFO,
    "slack": logging.INFO,
    "aiohttp": logging.INFO,
    "httpx": logging.INFO,
    "httpcore": logging.INFO,
    "urllib3": logging.INFO,
    "microsoft_agents": logging.INFO,
    "msal": logging.INFO,
    "sqlalchemy.engine": logging.WARNING,
    "aiosqlite": logging.WARNING,
    "psycopg": logging.WARNING,
    "asyncpg": logging.WARNING,
}


def _floor(logger_name: str) -> int:
    name = logger_name
    while name:
        if name in LEVEL_FLOORS:
            return LEVEL_FLOORS[name]
        name = name.rpartition(".")[0]
    return logging.NOTSET


# Loggers that install their own handlers; ours replace them so every line is JSON.
_OWN_HANDLER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "alembic")
_HANDLER_NAME = "dealcoach"


def configure_logging(
    settings: Settings | None = None,
    *,
    level: str | None = None,
    json_format: bool | None = None,
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> logging.Handler:
    """Send every log record through one redacting handler on the root logger.

    Level and format come from `settings` (`DEALCOACH_LOG_LEVEL`, `DEALCOACH_LOG_JSON`)
    unless given; the secrets to scrub are the settings' tokens, signing/client secrets
    and database password, plus `secrets`. Idempotent: calling it again replaces the
    handler. Returns the handler (tests read from `stream`).
    """
    all_secrets = list(secrets)
    if settings is not None:
        all_secrets += _settings_secrets(settings)
        level = level or settings.dealcoach_log_level
        json_format = settings.dealcoach_log_json if json_format is None else json_format
    level_name = (level or "INFO").upper()
    numeric = logging.getLevelName(level_name)
    if not isinstance(numeric, int):
        from dealcoach.errors import ConfigError

        raise ConfigError(
            f"DEALCOACH_LOG_LEVEL {level!r} is not a log level (DEBUG, INFO, WARNING, ERROR)"
        )

    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(RefusalFilter())
    handler.addFilter(RedactingFilter(all_secrets))
    handler.setFormatter(JsonFormatter() if json_format is not False else _PlainFormatter())

    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    # Our own loggers follow the configured level (a Bolt app named "dealcoach" copies the
    # root level onto the "dealcoach" logger when it is built; undo a stale copy).
    logging.getLogger("dealcoach").setLevel(logging.NOTSET)
    for name in _OWN_HANDLER_LOGGERS:
        lg = logging.getLogger(name)
        lg.handlers.clear()
        lg.propagate = True
    for name, floor in LEVEL_FLOORS.items():
        logging.getLogger(name).setLevel(max(numeric, floor))
    return handler


# --- metrics --------------------------------------------------------------------------------

# Slack wants an ack within 3 s; the buckets are dense below that.
_ACK_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 3.0, 5.0)
_HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True)
class Metrics:
    """The app's Prometheus metrics, all in `registry`.

    Label values must stay few: route templates (not raw paths), Slack method names, error
    codes, recommendation ids — never user or workspace ids.
    """

    registry: CollectorRegistry
    http_requests: Counter  # labels: method, route, status
    http_request_seconds: Histogram  # labels: method, route
    slack_ack_seconds: Histogram  # labels: mode (http | socket)
    reviews_completed: Counter  # labels: platform, recommendation
    digests_sent: Counter  # labels: platform
    digests_failed: Counter  # labels: platform
    web_api_errors: Counter  # labels: platform, method, error
    build_info: Info

    def observe_ack(self, seconds: float, *, mode: str = "socket") -> None:
        """Socket Mode acks are timed by the Slack adapter; HTTP acks by the middleware."""
        self.slack_ack_seconds.labels(mode=mode).observe(seconds)

    def review_completed(self, recommendation: str, *, platform: str = "slack") -> None:
        self.reviews_completed.labels(platform=platform, recommendation=recommendation).inc()

    def digest_sent(self, *, platform: str = "slack") -> None:
        self.digests_sent.labels(platform=platform).inc()

    def digest_failed(self, *, platform: str = "slack") -> None:
        self.digests_failed.labels(platform=platform).inc()

    def web_api_error(self, method: str, error: str, *, platform: str = "slack") -> None:
        """Count a failed Web API call: ``web_api_error("chat.postMessage", "ratelimited")``."""
        self.web_api_errors.labels(platform=platform, method=method, error=error).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


def create_metrics(registry: CollectorRegistry | None = None) -> Metrics:
    """Build the metric set in a fresh registry (or `registry`). Call once per app."""
    from dealcoach import __version__

    reg = registry if registry is not None else CollectorRegistry(auto_describe=True)
    metrics = Metrics(
        registry=reg,
        http_requests=Counter(
            "dealcoach_http_requests",
            "HTTP requests handled, by method, route template and status code.",
            ["method", "route", "status"],
            registry=reg,
        ),
        http_request_seconds=Histogram(
            "dealcoach_http_request_duration_seconds",
            "Time to the end of the HTTP response, by method and route template.",
            ["method", "route"],
            buckets=_HTTP_BUCKETS,
            registry=reg,
        ),
        slack_ack_seconds=Histogram(
            "dealcoach_slack_ack_seconds",
            "Time from receiving a Slack request to acknowledging it (Slack allows 3 s).",
            ["mode"],
            buckets=_ACK_BUCKETS,
            registry=reg,
        ),
        reviews_completed=Counter(
            "dealcoach_reviews_completed",
            "Deal reviews completed, by platform and recommendation.",
            ["platform", "recommendation"],
            registry=reg,
        ),
        digests_sent=Counter(
            "dealcoach_digests_sent", "Weekly digests delivered.", ["platform"], registry=reg
        ),
        digests_failed=Counter(
            "dealcoach_digests_failed",
            "Weekly digests that could not be delivered after retries.",
            ["platform"],
            registry=reg,
        ),
        web_api_errors=Counter(
            "dealcoach_web_api_errors",
            "Chat platform Web API calls that failed, by API method and error code.",
            ["platform", "method", "error"],
            registry=reg,
        ),
        build_info=Info("dealcoach_build", "The running dealcoach version.", registry=reg),
    )
    metrics.build_info.info({"version": __version__})
    return metrics


# --- ASGI middleware ------------------------------------------------------------------------


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            try:
                return bytes(value).decode("latin-1")
            except Exception:
                return None
    return None


class RequestIdMiddleware:
    """Give every HTTP request an id: the caller's valid ``X-Request-Id`` or a new one.

    The id is set in `request_id_var` for the request's duration (so every log record
    carries it), stored in ``scope["state"]["request_id"]`` and echoed in the response's
    ``X-Request-Id`` header.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, REQUEST_ID_HEADER.encode())
        request_id = incoming if incoming and _REQUEST_ID_OK.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if bytes(k).lower() != REQUEST_ID_HEADER.encode()
                ]
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)


_access_log = logging.getLogger("dealcoach.access")
# Probes and scrapes are frequent and boring; counted in metrics, not logged at INFO.
_QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
SLACK_EVENTS_PATH = "/slack/events"


# Label values come from closed sets (issue #11 item 4): the HTTP method is whatever token
# the client sent (`FOO123 / HTTP/1.1` is valid HTTP), so anything outside the methods a web
# server knows is counted as `other`; routes are the app's own templates (or `unmatched`),
# status codes are 100..599 (else `other`). Otherwise every made-up token is a new series.
KNOWN_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"}
)
OTHER = "other"


def method_label(scope: Scope) -> str:
    method = scope.get("method")
    return method if isinstance(method, str) and method in KNOWN_METHODS else OTHER


def status_label(status: int) -> str:
    return str(status) if 100 <= status <= 599 else OTHER


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else "unmatched"


class HttpMetricsMiddleware:
    """Count and time every HTTP request by route template; write one access log line.

    For ``POST /slack/events`` the response *is* Slack's acknowledgement, so its duration
    also goes into ``dealcoach_slack_ack_seconds{mode="http"}``. Place it inside
    `RequestIdMiddleware` so the access line carries the request id.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_and_watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_watch)
        finally:
            elapsed = time.perf_counter() - start
            method = method_label(scope)
            route = _route_template(scope)
            self.metrics.http_requests.labels(
                method=method, route=route, status=status_label(status)
            ).inc()
            self.metrics.http_request_seconds.labels(method=method, route=route).observe(elapsed)
            if route == SLACK_EVENTS_PATH and method == "POST":
                self.metrics.observe_ack(elapsed, mode="http")
            level = logging.DEBUG if route in _QUIET_ROUTES and status < 400 else logging.INFO
            _access_log.log(
                level,
                "%s %s %s",
                method,
                route,
                status,
                extra={
                    "http_method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 1),
                },
            )


async def metrics_endpoint(request: Request) -> Response:
    """Starlette/FastAPI handler for ``GET /metrics``; reads ``app.state.metrics``."""
    from starlette.responses import Response

    metrics: Metrics = request.app.state.metrics
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)


def instrument(app: Starlette, metrics: Metrics) -> None:
    """Add request ids, HTTP metrics and ``GET /metrics`` to a Starlette/FastAPI app.

    Call before the app starts serving (middleware cannot be added afterwards).
    """
    app.state.metrics = metrics
    app.add_route("/metrics", metrics_endpoint, methods=["GET"], include_in_schema=False)
    # add_middleware wraps: the last added is outermost, so the request id is set first.
    app.add_middleware(HttpMetricsMiddleware, metrics=metrics)
    app.add_middleware(RequestIdMiddleware)


def install(app: Starlette, metrics: Metrics | None = None) -> Metrics:
    """`instrument` with a fresh `create_metrics()` unless given one; returns the metrics.

    The hook `web.py` looks for, so adapters reach the metrics as ``app.state.metrics``.
    """
    metrics = metrics if metrics is not None else create_metrics()
    instrument(app, metrics)
    return metrics
