"""Managers from the command line: who reports to whom (`team add|remove|list`), the weekly
digests (`digest send|preview`) and the 1:1 prep page (`prep`)."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable
from datetime import timedelta

import click

from dealcoach.bootstrap import command_notifiers
from dealcoach.cli.progress import plural, progress, stderr_is_terminal, took
from dealcoach.cli.services import open_services, store_run
from dealcoach.cli.settings import load_settings
from dealcoach.digest.coaching import render_prep
from dealcoach.digest.compose import DigestModel, PersonRef
from dealcoach.digest.delivery import DbRunner, send_digests
from dealcoach.digest.notifier import FollowUp, Notifier
from dealcoach.digest.render import RenderedDigest
from dealcoach.digest.weeks import IsoWeek, WeekWord
from dealcoach.services.coaching import CoachingRefused, cli_prep
from dealcoach.services.digests import preview
from dealcoach.services.reporting import cli_add, cli_list, cli_remove
from dealcoach.slack.digest_blocks import digest_blocks
from dealcoach.store import digests as q
from dealcoach.store.types import utcnow
from dealcoach.store.uow import UnitOfWork

_WORKSPACE_HELP = "Slack team / Teams tenant id (default: the only workspace known)."
_WEEK_METAVAR = "last|this|YYYY-Www"


@click.group("team")
def team_group() -> None:
    """Who reports to whom (a rep has at most one manager; a manager may have many reps)."""


@team_group.command("add")
@click.option("--manager", "manager_id", required=True, metavar="ID", help="The manager's id.")
@click.option(
    "--member", "member_ids", required=True, multiple=True, metavar="ID", help="Repeatable."
)
@click.option("--workspace", metavar="ID", help=_WORKSPACE_HELP)
def team_add_command(manager_id: str, member_ids: tuple[str, ...], workspace: str | None) -> None:
    """Make MEMBER(s) report to MANAGER (moving them from an earlier manager)."""
    change = store_run(cli_add, workspace, manager_id, list(member_ids))
    manager = change.manager.user_id if change.manager else manager_id
    for member in change.added:
        click.echo(f"{member.user_id} now reports to {manager}")
    for member, previous in change.moved:
        click.echo(f"{member.user_id} moved from {previous.user_id} to {manager}")


@team_group.command("remove")
@click.option(
    "--member", "member_ids", required=True, multiple=True, metavar="ID", help="Repeatable."
)
@click.option("--workspace", metavar="ID", help=_WORKSPACE_HELP)
def team_remove_command(member_ids: tuple[str, ...], workspace: str | None) -> None:
    """Take MEMBER(s) out of their team."""
    change = store_run(cli_remove, workspace, list(member_ids))
    for member in change.removed:
        click.echo(f"{member.user_id} is no longer in a team")
    for member in change.not_member:
        click.echo(f"{member.user_id} was not in a team", err=True)


@team_group.command("list")
@click.option("--workspace", metavar="ID", help=_WORKSPACE_HELP)
def team_list_command(workspace: str | None) -> None:
    """Print each manager and their members."""
    ws, teams = store_run(cli_list, workspace)
    if not teams:
        click.echo(f"no teams in workspace {ws}")
    for team in teams:
        members = ", ".join(m.user_id for m in team.members)
        click.echo(f"{team.manager.user_id}: {members}")


def _week_option(value: str | None) -> IsoWeek | WeekWord | None:
    """`--week`: the same words as Slack and Teams (`last`, `this`, `vorige`, `deze`) or
    `YYYY-Www`, through the one parser (`IsoWeek.choice`); None when not given."""
    return IsoWeek.choice(value) if value else None


@click.group("digest")
def digest_group() -> None:
    """Managers' weekly digests of their team's reviews."""


@digest_group.command("send")
@click.option("--week", metavar=_WEEK_METAVAR, help="Default: last (the last full ISO week).")
def digest_send_command(week: str | None) -> None:
    """Send each manager their digest of WEEK, exactly once per manager and week."""
    chosen = _week_option(week)
    now = utcnow()
    if chosen == "this":
        # Each manager's current week in their own time zone: the last full week as seen a
        # week from now (send_digests resolves the default per manager).
        now += timedelta(weeks=1)
    target = chosen if isinstance(chosen, IsoWeek) else None
    settings = load_settings()
    services = open_services(settings)
    try:
        runner = DbRunner(services.store)
        notifiers = command_notifiers(settings, services, runner)
        started = time.monotonic()
        total = services.store.run(_count_managers) if stderr_is_terminal() else 0
        with progress(total, "sending digests") as tick:
            report = asyncio.run(
                send_digests(
                    runner,
                    {name: _TickingNotifier(n, tick) for name, n in notifiers.items()},
                    week=target,
                    now=now,
                    default_locale=settings.dealcoach_lang,
                    default_tz=settings.dealcoach_default_timezone,
                )
            )
    finally:
        services.close()
    summary = f"sent {plural(len(report.sent), 'digest')}, {len(report.failed):,} failed"
    if report.skipped:
        summary += f", {len(report.skipped):,} already sent"
    if report.no_notifier:
        summary += f", {len(report.no_notifier):,} with no way to deliver"
    click.echo(f"{summary} in {took(started)}", err=True)
    for user, error in report.failed:
        click.echo(f"  {user}: {error}", err=True)
    if report.no_notifier:
        click.echo(
            f"  no notifier for {', '.join(report.no_notifier)} "
            "(SLACK_BOT_TOKEN unset, or Teams not configured / dealcoach[teams] not installed)",
            err=True,
        )
    if report.failed:
        sys.exit(3)


def _count_managers(uow: UnitOfWork) -> int:
    return len(q.managers(uow.session))


class _TickingNotifier:
    """A notifier that moves the progress bar after each digest it delivers (or fails)."""

    def __init__(self, inner: Notifier, tick: Callable[[], None]) -> None:
        self._inner = inner
        self._tick = tick

    async def send_digest(
        self, manager: PersonRef, digest: DigestModel, rendered: RenderedDigest
    ) -> FollowUp | None:
        try:
            return await self._inner.send_digest(manager, digest, rendered)
        finally:
            self._tick()

    def __getattr__(self, name: str) -> object:
        # Anything else (send_nudge, platform, …) is the wrapped notifier's.
        return getattr(self._inner, name)


@digest_group.command("preview")
@click.option("--manager", "manager_id", required=True, metavar="ID", help="The manager's id.")
@click.option("--week", metavar=_WEEK_METAVAR, help="Default: last (the last full ISO week).")
@click.option("--workspace", metavar="ID", help=_WORKSPACE_HELP)
@click.option("--blocks", is_flag=True, help="Print the Slack Block Kit JSON instead of text.")
def digest_preview_command(
    manager_id: str, week: str | None, workspace: str | None, blocks: bool
) -> None:
    """Print a manager's digest (nothing is sent or recorded)."""
    settings = load_settings()
    chosen = str(_week_option(week)) if week else None  # a word is resolved in the manager's zone
    result = store_run(
        preview,
        workspace,
        manager_id,
        chosen,
        utcnow(),
        settings.dealcoach_lang,
        settings.dealcoach_default_timezone,
    )
    if blocks:
        click.echo(json.dumps(digest_blocks(result.rendered), indent=2, ensure_ascii=False))
    else:
        click.echo(result.rendered.text, nl=False)


@click.command("prep")
@click.option("--manager", "manager_id", required=True, metavar="ID", help="The manager's id.")
@click.option("--member", "member_id", required=True, metavar="ID", help="The rep's id.")
@click.option("--workspace", metavar="ID", help=_WORKSPACE_HELP)
def prep_command(manager_id: str, member_id: str, workspace: str | None) -> None:
    """Print a manager's 1:1 prep page for one of their reps (issue 16)."""
    settings = load_settings()
    try:
        prep = store_run(
            cli_prep, workspace, manager_id, member_id, utcnow(), settings.dealcoach_lang
        )
    except CoachingRefused as exc:
        raise click.ClickException(f"{member_id} does not report to {manager_id}") from exc
    click.echo(render_prep(prep, "text").text)
