"""The composition root: settings → store → services → notifiers (→ adapters, which build
on these).

Nothing is created at import time: `build_services(settings)` makes the engines and
services when a command or the server starts. The async store (the asyncio server's path)
is made on first use, so CLI commands never open an async engine. The digest notifiers —
how a digest or a reminder reaches a person on each platform — are built here too, for the
server (`server_notifiers`, on the adapters `web.create_app` mounted) and for
`dealcoach digest send` (`command_notifiers`, with clients of its own).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from dealcoach.config import Settings, get_settings
from dealcoach.digest.delivery import DbRunner
from dealcoach.digest.notifier import Notifier, PrintNotifier
from dealcoach.services.container import Services
from dealcoach.services.reviews import ReviewService
from dealcoach.store.engine import current_revision, head_revision, is_sqlite, migrate
from dealcoach.store.uow import Store

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient

    from dealcoach.teams.runtime import TeamsRuntime

__all__ = [
    "Services",
    "build_services",
    "command_notifiers",
    "ensure_schema",
    "server_notifiers",
]

# Platform name → its notifier, as digest delivery and the scheduler take them.
Notifiers = dict[str, Notifier]
# OAuth mode: a Slack workspace's own Web API client, by team id (slack.oauth).
SlackClientFor = Callable[[str], Awaitable["AsyncWebClient"]]


def ensure_schema(url: str) -> bool:
    """Bring an embedded SQLite database to the latest revision (so the one-command quick
    start works); returns True if it migrated. PostgreSQL is never migrated implicitly:
    ops run `dealcoach db upgrade` (a deploy step / init container)."""
    if not is_sqlite(url):
        return False
    if current_revision(url) == head_revision():
        return False
    migrate(url, "head")
    return True


def build_services(settings: Settings | None = None, *, migrate_sqlite: bool = True) -> Services:
    settings = settings or get_settings()
    if migrate_sqlite:
        ensure_schema(settings.database_url)
    store = Store(settings.database_url)
    return Services(
        settings=settings,
        store=store,
        reviews=ReviewService(store, default_locale=settings.dealcoach_lang),
    )


# The notifier builders import the platform modules inside the function: Slack's notifier
# pulls in slack_sdk and the chart code (about a second) and teams/ FastAPI, which every
# command importing bootstrap would otherwise pay at start-up; Teams' runtime needs the
# optional `dealcoach[teams]` extra.


def server_notifiers(
    slack_client: AsyncWebClient,
    *,
    slack_client_for: SlackClientFor | None = None,
    teams_runtime: TeamsRuntime | None = None,
) -> Notifiers:
    """How the server reaches people — the digest scheduler, and coaching notes for someone
    on another platform than the adapter that took the click (`services.notify.NoteRelay`,
    issue 16): Slack through the Bolt app's client (or each workspace's own in OAuth mode,
    `slack_client_for`), Teams through the runtime the server mounted (none when Teams is
    off)."""
    from dealcoach.slack.notifier import SlackNotifier

    notifiers: Notifiers = {
        "slack": SlackNotifier(client_for=slack_client_for)
        if slack_client_for is not None
        else SlackNotifier(slack_client)
    }
    if teams_runtime is not None:
        from dealcoach.teams.notifier import TeamsNotifier

        notifiers["teams"] = TeamsNotifier(teams_runtime)
    return notifiers


def command_notifiers(settings: Settings, services: Services, runner: DbRunner) -> Notifiers:
    """`dealcoach digest send`'s notifiers, with no server running: the terminal workspace's
    people get theirs printed, Slack's go through a client on SLACK_BOT_TOKEN (when set),
    Teams' as proactive cards through the Bot Connector (when configured and the extra is
    installed; incomplete Teams settings raise `ConfigError`). Teams contacts are read with
    `runner` (the sync store in a thread: a command opens no async engine)."""
    notifiers: Notifiers = {"cli": PrintNotifier()}
    if settings.slack_bot_token is not None:
        from dealcoach.slack.app import make_client
        from dealcoach.slack.notifier import SlackNotifier

        notifiers["slack"] = SlackNotifier(make_client(settings))
    if settings.teams_enabled:
        from dealcoach.teams import sdk_available

        if sdk_available():
            from dealcoach.services.people import AsyncContacts
            from dealcoach.teams.notifier import TeamsNotifier
            from dealcoach.teams.runtime import TeamsRuntime

            settings.require_teams()
            runtime = TeamsRuntime.create(settings, services)
            notifiers["teams"] = TeamsNotifier(runtime, AsyncContacts(runner))
    return notifiers
