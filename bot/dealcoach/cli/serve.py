"""`dealcoach serve`: the one ASGI app (Slack, Teams, health, readiness, metrics) on uvicorn,
over HTTP or, with `--socket`, with Slack over Socket Mode."""

from __future__ import annotations

import logging

import click
import uvicorn

from dealcoach.cli.services import open_services
from dealcoach.cli.settings import load_settings
from dealcoach.observability import configure_logging
from dealcoach.services.crm import crm_sync
from dealcoach.web import create_app, header_deadline_protocol

log = logging.getLogger("dealcoach.serve")

# File descriptors kept free besides client connections: the database pool, the Slack/Teams
# HTTP clients, log files, the listening socket.
_RESERVED_FDS = 64


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--port", default=3000, show_default=True, type=click.IntRange(1, 65535), help="TCP port."
)
@click.option(
    "--socket",
    "socket_mode",
    is_flag=True,
    help="Slack over Socket Mode (needs SLACK_APP_TOKEN); HTTP still serves health and metrics.",
)
def serve_command(host: str, port: int, socket_mode: bool) -> None:
    """Run the web server: POST /slack/events, GET /healthz, /readyz, /metrics."""
    settings = load_settings()
    # A missing or placeholder token/secret is one line and exit status 2, before anything runs.
    settings.require_slack(socket_mode=socket_mode)
    configure_logging(settings)
    limit = _open_file_headroom(settings.dealcoach_limit_concurrency)
    services = open_services(settings)
    # A connected CRM needs DEALCOACH_SECRET_KEY (issue 17): refuse to start without it.
    crm_sync(services).require_key()
    app = create_app(settings, services, socket_mode=socket_mode)
    # log_config=None: uvicorn's loggers go through our JSON handler; access lines come from
    # the observability middleware (with request ids), so uvicorn's own are off.
    # limit_concurrency: past it uvicorn answers 503 at once instead of taking connections
    # until the process runs out of file descriptors; timeout_keep_alive closes idle ones.
    # Headers that never complete are cut after DEALCOACH_BODY_TIMEOUT (the h11 protocol with
    # a header deadline), a body that trickles in by web.read_body_within's deadline (408).
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        limit_concurrency=limit,
        timeout_keep_alive=settings.dealcoach_keep_alive_timeout,
        http=header_deadline_protocol(settings.dealcoach_body_timeout),
    )


def _open_file_headroom(limit_concurrency: int) -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit (the usual soft 1,024 is what 1,100 slow
    clients exhausted), and keep DEALCOACH_LIMIT_CONCURRENCY below what it allows, so uvicorn
    answers 503 before accept() fails with "Too many open files". Returns the limit to use."""
    try:
        import resource  # POSIX only: imported here so the command still loads without it
    except ImportError:  # not on this platform (Windows)
        return limit_concurrency
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):
            log.warning("could not raise the open file limit from %s", soft)
    if soft != resource.RLIM_INFINITY and limit_concurrency > soft - _RESERVED_FDS:
        allowed = max(1, soft - _RESERVED_FDS)
        log.warning(
            "DEALCOACH_LIMIT_CONCURRENCY %s is above what %s open files allow; using %s",
            limit_concurrency,
            soft,
            allowed,
        )
        return allowed
    return limit_concurrency
