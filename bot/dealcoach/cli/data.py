"""The stored data: the schema (`db upgrade|downgrade|current`), `export`, and privacy —
`forget` (a person's erasure request) and `prune` (drafts past DEALCOACH_RETENTION_DAYS)."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import TextIO

import click
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError

from dealcoach.cli.progress import plural, progress, stderr_is_terminal, took
from dealcoach.cli.services import command_services
from dealcoach.cli.settings import load_settings
from dealcoach.errors import InputError
from dealcoach.services.export import ExportFormat, parse_since, write_export
from dealcoach.services.privacy import forget_user, prune_drafts
from dealcoach.store.engine import (
    alembic_config,
    current_revision,
    downgrade,
    head_revision,
    migrate,
    normalize_url,
)


def _alembic_errors(action: Callable[[], None]) -> None:
    """Run a migration step; alembic's own error (an unknown revision, …) is one line."""
    try:
        action()
    except CommandError as exc:
        raise InputError(str(exc).splitlines()[0]) from None


@click.group("db")
def db_group() -> None:
    """Database schema: apply or roll back migrations (DATABASE_URL)."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade_command(revision: str) -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    url = load_settings().database_url
    started = time.monotonic()
    before = current_revision(url)
    steps = _pending_revisions(url, before, revision) if stderr_is_terminal() else None
    if steps:  # one revision at a time, so the bar moves
        with progress(len(steps), "migrating") as tick:
            for step in steps:
                _alembic_errors(partial(migrate, url, step))
                tick()
    else:
        _alembic_errors(lambda: migrate(url, revision))
    after = current_revision(url)
    shown = normalize_url(url).render_as_string(hide_password=True)
    click.echo(f"database {shown} is at revision {after or 'base'}")
    applied = len(_pending_revisions(url, before, after or "base") or [])
    click.echo(f"applied {plural(applied, 'migration')} in {took(started)}", err=True)


def _pending_revisions(url: str, current: str | None, target: str) -> list[str] | None:
    """The revisions an upgrade from `current` to `target` applies, oldest first (None when
    alembic cannot tell: an unknown target is left to `migrate` to report)."""
    try:
        script = ScriptDirectory.from_config(alembic_config(url))
        revisions = script.iterate_revisions(target, current or "base")
        return [r.revision for r in reversed(list(revisions)) if r is not None]
    except Exception:  # alembic's own errors, for `migrate` to report in one line
        return None


@db_group.command("downgrade")
@click.argument("revision")
def db_downgrade_command(revision: str) -> None:
    """Roll migrations back to REVISION (`base` removes every table)."""
    url = load_settings().database_url
    _alembic_errors(lambda: downgrade(url, revision))
    click.echo(f"database is at revision {current_revision(url) or 'base'}")


@db_group.command("current")
def db_current_command() -> None:
    """Print the database's revision and the latest one."""
    url = load_settings().database_url
    current, head = current_revision(url), head_revision()
    state = "up to date" if current == head else "needs `dealcoach db upgrade`"
    click.echo(f"current: {current or 'base'}  head: {head}  ({state})")


@click.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True
)
@click.option("--since", metavar="DATE", help="Only reviews completed on/after this date.")
@click.option(
    "--output", "-o", type=click.File("w", encoding="utf-8"), default="-", help="Default: stdout."
)
def export_command(fmt: ExportFormat, since: str | None, output: TextIO) -> None:
    """Stream every completed review with its answers and assessment."""
    since_at = parse_since(since)
    started = time.monotonic()
    with command_services() as services:
        total = (
            services.store.run(lambda uow: uow.reviews.count(status="completed"))
            if stderr_is_terminal()
            else 0
        )
        with progress(total, "exporting") as tick:
            count = write_export(services.store, output, fmt, since_at, on_row=tick)
    click.echo(f"exported {plural(count, 'review')} in {took(started)}", err=True)


@click.command("forget")
@click.option("--user", "user_id", required=True, help="The platform user id to forget.")
@click.option("--workspace", help="Only in this workspace (Slack team / Teams tenant id).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def forget_command(user_id: str, workspace: str | None, yes: bool) -> None:
    """Delete a person with all their reviews and answers (a privacy request)."""
    if not yes and not click.confirm(
        f"Delete user {user_id} and all their reviews? This cannot be undone", err=True
    ):
        raise click.exceptions.Abort()
    with command_services() as services:
        done = forget_user(services.store, user_id, workspace)
    click.echo(
        f"forgot {done.user_id} in {', '.join(done.workspaces)}: "
        f"{done.reviews} review(s), {done.answers} answer(s), {done.notes} coaching note(s), "
        f"{done.plan_steps} plan step(s) deleted"
    )


@click.command("prune")
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=None,
    help="Delete drafts untouched for this many days (default: DEALCOACH_RETENTION_DAYS).",
)
def prune_command(days: int | None) -> None:
    """Delete old unfinished drafts (completed reviews are kept)."""
    settings = load_settings()
    keep = days or settings.dealcoach_retention_days
    with command_services(settings) as services:
        result = prune_drafts(services.store, keep)
    click.echo(
        f"pruned {result.drafts} draft(s) ({result.answers} answer(s)) older than {keep} days"
    )
