"""The `dealcoach` command.

Thin: each command parses its options, asks `bootstrap` for the services it needs and prints
the result. Every `DealcoachError` becomes one line on stderr and an exit status (2 for bad
input); anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from dealcoach import __version__
from dealcoach.errors import DealcoachError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dealcoach")
def cli() -> None:
    """dealcoach: structured deal reviews and coaching advice, in the terminal, Slack and Teams."""


# --- commands are registered below, one block per area -------------------------------------


# --- coach: `chat` (the terminal review) -----------------------------------------------------


@cli.command("chat")
@click.option(
    "--answers",
    "answers_file",
    type=click.Path(dir_okay=True, path_type=Path),
    metavar="FILE",
    help="Run without prompts from a YAML or JSON file keyed by question id.",
)
@click.option(
    "--json", "as_json", is_flag=True, help='Print {"assessment": {...}, "advice": "..."}.'
)
@click.option(
    "--lang",
    type=click.Choice(["en", "nl"]),
    default=None,
    help="Language of questions and advice (default: DEALCOACH_LANG, else en).",
)
@click.option("--user", "user_id", metavar="ID", help="Who is reviewing (default: you).")
@click.option(
    "--resume", is_flag=True, help="Continue your latest unfinished review (saved at every step)."
)
def chat_command(
    answers_file: Path | None,
    as_json: bool,
    lang: str | None,
    user_id: str | None,
    resume: bool,
) -> None:
    """Hold a deal review in the terminal and print the coaching advice."""
    import json

    from dealcoach.coach import load_bank, validate_answers
    from dealcoach.crm_terminal import chat_offer_save, chat_pick
    from dealcoach.errors import InputError, InvalidAnswer, InvalidAnswers
    from dealcoach.services.terminal_review import TerminalReview
    from dealcoach.terminal import (
        ConsoleIO,
        ReviewInterrupted,
        message,
        read_answers_file,
        run_review,
    )

    locale = lang or _chat_default_lang()
    bank = load_bank(locale)
    answers = None
    if answers_file is not None:
        raw = read_answers_file(answers_file)
        try:
            answers = validate_answers(bank, raw, require_complete=True)
        except InvalidAnswers as exc:
            raise InputError(f"{answers_file}: {_answer_errors(exc.errors)}") from None
        except InvalidAnswer as exc:
            raise InputError(
                f"{answers_file}: {_answer_errors({exc.question_id: exc.reason})}"
            ) from None
        except InputError as exc:
            raise InputError(f"{answers_file}: {exc}") from None
    # The review log (store block): a draft saved at every answer, completed at the end.
    review = TerminalReview.open(
        _store_settings(), user_id=user_id, locale=None if resume else locale, resume=resume
    )
    try:
        if answers is not None:
            review.save(answers)
        else:
            bank = load_bank(review.locale)
            # With --json the prompts go to stderr, so stdout holds only the JSON.
            io = ConsoleIO(out=sys.stderr if as_json else sys.stdout)
            if resume:
                click.echo(message(review.locale, "resuming", id=review.review_id), err=True)
            # With a CRM: pick the deal first; its values become the defaults (issue 17).
            crm_defaults = {} if resume else chat_pick(review, io)
            try:
                run_review(
                    bank, review.answers, io=io, on_answer=review.save, defaults=crm_defaults
                )
            except ReviewInterrupted as exc:
                if not exc.answers and isinstance(exc.__context__, EOFError):
                    # Input ended before the first answer: there is nothing to pause or resume.
                    click.echo(message(review.locale, "not_started"), err=True)
                    return
                review.save(exc.answers)
                click.echo(message(review.locale, "paused"), err=True)
                sys.exit(130)
        done = review.complete()
    finally:
        review.close()
    assessment, advice = done.assessment, done.advice_text
    if as_json:
        payload = {"assessment": assessment.model_dump(mode="json"), "advice": advice}
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        click.echo("\n" + advice, nl=False)
        if answers is None:  # interactive: Save to CRM? (a review picked from the CRM only)
            chat_offer_save(_store_settings(), user_id, done.review_id, review.locale)


_SHOWN_ANSWER_ERRORS = 3


def _answer_errors(errors: dict[str, str]) -> str:
    """An answers file's problems in one short line: the first few offending keys (cut to 60
    characters) and why, never the values (a foreign file's text stays out of the error)."""
    import re

    shown = []
    for qid, message in list(errors.items())[:_SHOWN_ANSWER_ERRORS]:
        key = qid if len(qid) <= 60 else qid[:59] + "…"
        reason = re.sub(r"""(['"]).*?\1""", "…", message)
        shown.append(f"{key}: {reason}")
    more = len(errors) - len(shown)
    return "; ".join(shown) + (f" (and {more} more)" if more > 0 else "")


def _chat_default_lang() -> str:
    """DEALCOACH_LANG when set and valid; `en` otherwise (chat needs no other setting)."""
    from pydantic import ValidationError

    from dealcoach.config import get_settings

    try:
        return get_settings().dealcoach_lang
    except ValidationError:
        return "en"


# --- end of coach block ----------------------------------------------------------------------


# --- deploy: `manifest` (Slack app manifest) -------------------------------------------------


@cli.command("manifest")
@click.option(
    "--url",
    "public_url",
    metavar="URL",
    help="The app's public https:// base URL (default: DEALCOACH_PUBLIC_URL).",
)
@click.option("--socket", "socket_mode", is_flag=True, help="Socket Mode: no request URLs.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of YAML.")
def manifest_command(public_url: str | None, socket_mode: bool, as_json: bool) -> None:
    """Print the Slack app manifest for the configured public URL."""
    import json

    from dealcoach.slack.manifest import build_manifest, render_manifest

    if public_url is None:
        public_url = _deploy_setting("dealcoach_public_url")
    if as_json:
        manifest = build_manifest(public_url, socket_mode=socket_mode)
        click.echo(json.dumps(manifest, indent=2, ensure_ascii=False))
    else:
        click.echo(render_manifest(public_url, socket_mode=socket_mode), nl=False)


@cli.command("teams-package")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, writable=True),
    default="dealcoach-teams.zip",
    show_default=True,
    help="Where to write the Teams app package (zip).",
)
@click.option(
    "--url",
    "public_url",
    metavar="URL",
    help="Public https:// base URL for the app's links (default: DEALCOACH_PUBLIC_URL).",
)
def teams_package_command(out: str, public_url: str | None) -> None:
    """Write the Teams app package (manifest + icons) for the configured TEAMS_CLIENT_ID."""
    from pathlib import Path

    from dealcoach.errors import InputError
    from dealcoach.teams.manifest import build_teams_package

    if public_url is None:
        public_url = _deploy_setting("dealcoach_public_url")
    package = build_teams_package(_deploy_setting("teams_client_id"), public_url)
    try:
        Path(out).write_bytes(package)
    except OSError as exc:
        raise InputError(f"cannot write {out}: {exc.strerror}") from None
    click.echo(f"wrote {out} ({len(package)} bytes): upload it in Teams → Apps → Manage your apps")


def _deploy_setting(name: str) -> str | None:
    """One setting for the deploy commands; a bad value is one line, not a traceback."""
    from pydantic import ValidationError

    from dealcoach.config import get_settings
    from dealcoach.errors import ConfigError

    try:
        value = getattr(get_settings(), name)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]).upper()
        raise ConfigError(f"{where}: {first['msg']}") from None
    return str(value) if value is not None else None


# --- end of deploy block ---------------------------------------------------------------------


# --- store: `db`, `export`, `forget`, `prune` ------------------------------------------------

import time  # noqa: E402 (kept inside this block: see HELPERS.md)
from collections.abc import Callable, Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from typing import TYPE_CHECKING  # noqa: E402

if TYPE_CHECKING:
    from typing import TextIO

    from dealcoach.config import Settings


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed
        return False


@contextmanager
def _progress(length: int, label: str) -> Iterator[Callable[[], None]]:
    """A progress bar on stderr while the block runs, only when stderr is a terminal (never
    in a pipe, a log file or CI); yields `tick()`, called once per item done."""
    if not _stderr_is_terminal() or length <= 0:
        yield lambda: None
        return
    with click.progressbar(length=length, label=label, file=sys.stderr) as bar:
        yield lambda: bar.update(1)


def _plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _took(started: float) -> str:
    seconds = time.monotonic() - started
    return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:,.0f} s"


def _store_settings() -> Settings:
    """The settings, with a bad environment value as one ConfigError line."""
    from pydantic import ValidationError

    from dealcoach.config import get_settings
    from dealcoach.errors import ConfigError

    try:
        return get_settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]).upper()
        raise ConfigError(f"{where}: {first['msg']}") from None


def _alembic_errors(action: Callable[[], None]) -> None:
    from alembic.util.exc import CommandError

    from dealcoach.errors import InputError

    try:
        action()
    except CommandError as exc:
        raise InputError(str(exc).splitlines()[0]) from None


@cli.group("db")
def db_group() -> None:
    """Database schema: apply or roll back migrations (DATABASE_URL)."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade_command(revision: str) -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    from functools import partial

    from dealcoach.store.engine import current_revision, migrate, normalize_url

    url = _store_settings().database_url
    started = time.monotonic()
    before = current_revision(url)
    steps = _pending_revisions(url, before, revision) if _stderr_is_terminal() else None
    if steps:  # one revision at a time, so the bar moves
        with _progress(len(steps), "migrating") as tick:
            for step in steps:
                _alembic_errors(partial(migrate, url, step))
                tick()
    else:
        _alembic_errors(lambda: migrate(url, revision))
    after = current_revision(url)
    shown = normalize_url(url).render_as_string(hide_password=True)
    click.echo(f"database {shown} is at revision {after or 'base'}")
    applied = len(_pending_revisions(url, before, after or "base") or [])
    click.echo(f"applied {_plural(applied, 'migration')} in {_took(started)}", err=True)


def _pending_revisions(url: str, current: str | None, target: str) -> list[str] | None:
    """The revisions an upgrade from `current` to `target` applies, oldest first (None when
    alembic cannot tell: an unknown target is left to `migrate` to report)."""
    from alembic.script import ScriptDirectory

    from dealcoach.store.engine import alembic_config

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
    from dealcoach.store.engine import current_revision, downgrade

    url = _store_settings().database_url
    _alembic_errors(lambda: downgrade(url, revision))
    click.echo(f"database is at revision {current_revision(url) or 'base'}")


@db_group.command("current")
def db_current_command() -> None:
    """Print the database's revision and the latest one."""
    from dealcoach.store.engine import current_revision, head_revision

    url = _store_settings().database_url
    current, head = current_revision(url), head_revision()
    state = "up to date" if current == head else "needs `dealcoach db upgrade`"
    click.echo(f"current: {current or 'base'}  head: {head}  ({state})")


@cli.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True
)
@click.option("--since", metavar="DATE", help="Only reviews completed on/after this date.")
@click.option(
    "--output", "-o", type=click.File("w", encoding="utf-8"), default="-", help="Default: stdout."
)
def export_command(fmt: str, since: str | None, output: TextIO) -> None:
    """Stream every completed review with its answers and assessment."""
    from dealcoach.bootstrap import build_services
    from dealcoach.services.export import parse_since, write_export

    since_at = parse_since(since)
    started = time.monotonic()
    services = build_services(_store_settings())
    try:
        total = (
            services.store.run(lambda uow: uow.reviews.count(status="completed"))
            if _stderr_is_terminal()
            else 0
        )
        with _progress(total, "exporting") as tick:
            count = write_export(
                services.store,
                output,
                fmt,  # type: ignore[arg-type]
                since_at,
                on_row=tick,
            )
    finally:
        services.close()
    click.echo(f"exported {_plural(count, 'review')} in {_took(started)}", err=True)


@cli.command("forget")
@click.option("--user", "user_id", required=True, help="The platform user id to forget.")
@click.option("--workspace", help="Only in this workspace (Slack team / Teams tenant id).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def forget_command(user_id: str, workspace: str | None, yes: bool) -> None:
    """Delete a person with all their reviews and answers (a privacy request)."""
    from dealcoach.bootstrap import build_services
    from dealcoach.services.privacy import forget_user

    if not yes and not click.confirm(
        f"Delete user {user_id} and all their reviews? This cannot be undone", err=True
    ):
        raise click.exceptions.Abort()
    services = build_services(_store_settings())
    try:
        done = forget_user(services.store, user_id, workspace)
    finally:
        services.close()
    click.echo(
        f"forgot {done.user_id} in {', '.join(done.workspaces)}: "
        f"{done.reviews} review(s), {done.answers} answer(s) deleted"
    )


@cli.command("prune")
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=None,
    help="Delete drafts untouched for this many days (default: DEALCOACH_RETENTION_DAYS).",
)
def prune_command(days: int | None) -> None:
    """Delete old unfinished drafts (completed reviews are kept)."""
    from dealcoach.bootstrap import build_services
    from dealcoach.services.privacy import prune_drafts

    settings = _store_settings()
    keep = days or settings.dealcoach_retention_days
    services = build_services(settings)
    try:
        result = prune_drafts(services.store, keep)
    finally:
        services.close()
    click.echo(
        f"pruned {result.drafts} draft(s) ({result.answers} answer(s)) older than {keep} days"
    )


# --- end of store block ----------------------------------------------------------------------


# --- slack: `serve` (the ASGI app: Slack, health, readiness, metrics) ------------------------


@cli.command("serve")
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
    import uvicorn
    from pydantic import ValidationError

    from dealcoach.bootstrap import build_services
    from dealcoach.config import get_settings
    from dealcoach.crm_cli import check_crm_key
    from dealcoach.errors import ConfigError
    from dealcoach.observability import configure_logging
    from dealcoach.web import create_app, header_deadline_protocol

    try:
        settings = get_settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]).upper()
        raise ConfigError(f"{where}: {first['msg']}") from None
    # A missing or placeholder token/secret is one line and exit status 2, before anything runs.
    settings.require_slack(socket_mode=socket_mode)
    configure_logging(settings)
    limit = _open_file_headroom(settings.dealcoach_limit_concurrency)
    services = build_services(settings)
    check_crm_key(services)  # a connected CRM needs DEALCOACH_SECRET_KEY (issue 17)
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


# File descriptors kept free besides client connections: the database pool, the Slack/Teams
# HTTP clients, log files, the listening socket.
_RESERVED_FDS = 64


def _open_file_headroom(limit_concurrency: int) -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit (the usual soft 1,024 is what 1,100 slow
    clients exhausted), and keep DEALCOACH_LIMIT_CONCURRENCY below what it allows, so uvicorn
    answers 503 before accept() fails with "Too many open files". Returns the limit to use."""
    import logging

    log = logging.getLogger("dealcoach.serve")
    try:
        import resource
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


# --- end of slack block ----------------------------------------------------------------------


# --- digest: `team`, `digest` (managers' teams and weekly digests) ---------------------------

from typing import Any  # noqa: E402 (kept inside this block: see HELPERS.md)


@cli.group("team")
def team_group() -> None:
    """Who reports to whom (a rep has at most one manager; a manager may have many reps)."""


_WORKSPACE_HELP = "Slack team / Teams tenant id (default: the only workspace known)."


@team_group.command("add")
@click.option("--manager", "manager_id", required=True, metavar="ID", help="The manager's id.")
@click.option(
    "--member", "member_ids", required=True, multiple=True, metavar="ID", help="Repeatable."
)
@click.option("--workspace", metavar="ID", help=_WORKSPACE_HELP)
def team_add_command(manager_id: str, member_ids: tuple[str, ...], workspace: str | None) -> None:
    """Make MEMBER(s) report to MANAGER (moving them from an earlier manager)."""
    from dealcoach.services.reporting import cli_add

    change = _digest_store_run(cli_add, workspace, manager_id, list(member_ids))
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
    from dealcoach.services.reporting import cli_remove

    change = _digest_store_run(cli_remove, workspace, list(member_ids))
    for member in change.removed:
        click.echo(f"{member.user_id} is no longer in a team")
    for member in change.not_member:
        click.echo(f"{member.user_id} was not in a team", err=True)


@team_group.command("list")
@click.option("--workspace", metavar="ID", help=_WORKSPACE_HELP)
def team_list_command(workspace: str | None) -> None:
    """Print each manager and their members."""
    from dealcoach.services.reporting import cli_list

    ws, teams = _digest_store_run(cli_list, workspace)
    if not teams:
        click.echo(f"no teams in workspace {ws}")
    for team in teams:
        members = ", ".join(m.user_id for m in team.members)
        click.echo(f"{team.manager.user_id}: {members}")


def _digest_store_run(fn: Callable[..., Any], *args: Any) -> Any:
    from dealcoach.bootstrap import build_services

    services = build_services(_store_settings())
    try:
        return services.store.run(fn, *args)
    finally:
        services.close()


def _week_option(value: str | None) -> Any:
    """`--week`: the same words as Slack and Teams (`last`, `this`, `vorige`, `deze`) or
    `YYYY-Www`, through the one parser (`IsoWeek.choice`); None when not given."""
    from dealcoach.digest.weeks import IsoWeek

    return IsoWeek.choice(value) if value else None


_WEEK_METAVAR = "last|this|YYYY-Www"


@cli.group("digest")
def digest_group() -> None:
    """Managers' weekly digests of their team's reviews."""


@digest_group.command("send")
@click.option("--week", metavar=_WEEK_METAVAR, help="Default: last (the last full ISO week).")
def digest_send_command(week: str | None) -> None:
    """Send each manager their digest of WEEK, exactly once per manager and week."""
    import asyncio
    from datetime import timedelta

    from dealcoach.bootstrap import build_services
    from dealcoach.digest.delivery import DbRunner, send_digests
    from dealcoach.digest.notifier import PrintNotifier
    from dealcoach.store.types import utcnow

    chosen = _week_option(week)
    now = utcnow()
    if chosen == "this":
        # Each manager's current week in their own time zone: the last full week as seen a
        # week from now (send_digests resolves the default per manager).
        now += timedelta(weeks=1)
    if chosen in ("this", "last"):
        chosen = None
    settings = _store_settings()
    notifiers: dict[str, Any] = {"cli": PrintNotifier()}
    if settings.slack_bot_token is not None:
        from dealcoach.slack.app import make_client
        from dealcoach.slack.notifier import SlackNotifier

        notifiers["slack"] = SlackNotifier(make_client(settings))
    services = build_services(settings)
    runner = DbRunner(services.store)
    if settings.teams_enabled:  # proactive cards through the Bot Connector
        from dealcoach.teams import sdk_available

        if sdk_available():
            from dealcoach.services.people import AsyncContacts
            from dealcoach.teams.notifier import TeamsNotifier
            from dealcoach.teams.runtime import TeamsRuntime

            settings.require_teams()
            runtime = TeamsRuntime.create(settings, services)
            notifiers["teams"] = TeamsNotifier(runtime, AsyncContacts(runner))
    started = time.monotonic()
    try:
        total = services.store.run(_count_managers) if _stderr_is_terminal() else 0
        with _progress(total, "sending digests") as tick:
            report = asyncio.run(
                send_digests(
                    runner,
                    {name: _TickingNotifier(n, tick) for name, n in notifiers.items()},
                    week=chosen,
                    now=now,
                    default_locale=settings.dealcoach_lang,
                    default_tz=settings.dealcoach_default_timezone,
                )
            )
    finally:
        services.close()
    summary = f"sent {_plural(len(report.sent), 'digest')}, {len(report.failed):,} failed"
    if report.skipped:
        summary += f", {len(report.skipped):,} already sent"
    if report.no_notifier:
        summary += f", {len(report.no_notifier):,} with no way to deliver"
    click.echo(f"{summary} in {_took(started)}", err=True)
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


def _count_managers(uow: Any) -> int:
    from dealcoach.store import digests as q

    return len(q.managers(uow.session))


class _TickingNotifier:
    """A notifier that moves the progress bar after each digest it delivers (or fails)."""

    def __init__(self, inner: Any, tick: Callable[[], None]) -> None:
        self._inner = inner
        self._tick = tick

    async def send_digest(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await self._inner.send_digest(*args, **kwargs)
        finally:
            self._tick()

    def __getattr__(self, name: str) -> Any:
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
    import json

    from dealcoach.services.digests import preview
    from dealcoach.store.types import utcnow

    settings = _store_settings()
    chosen = str(_week_option(week)) if week else None  # a word is resolved in the manager's zone
    result = _digest_store_run(
        preview,
        workspace,
        manager_id,
        chosen,
        utcnow(),
        settings.dealcoach_lang,
        settings.dealcoach_default_timezone,
    )
    if blocks:
        from dealcoach.slack.digest_blocks import digest_blocks

        click.echo(json.dumps(digest_blocks(result.rendered), indent=2, ensure_ascii=False))
    else:
        click.echo(result.rendered.text, nl=False)


# --- end of digest block ---------------------------------------------------------------------


@cli.command("prep")
@click.option("--manager", "manager_id", required=True, metavar="ID", help="The manager's id.")
@click.option("--member", "member_id", required=True, metavar="ID", help="The rep's id.")
@click.option("--workspace", metavar="ID", help=_WORKSPACE_HELP)
def prep_command(manager_id: str, member_id: str, workspace: str | None) -> None:
    """Print a manager's 1:1 prep page for one of their reps (issue 16)."""
    from dealcoach.digest.coaching import render_prep
    from dealcoach.services.coaching import CoachingRefused, cli_prep
    from dealcoach.store.types import utcnow

    settings = _store_settings()
    try:
        prep = _digest_store_run(
            cli_prep, workspace, manager_id, member_id, utcnow(), settings.dealcoach_lang
        )
    except CoachingRefused as exc:
        raise click.ClickException(f"{member_id} does not report to {manager_id}") from exc
    click.echo(render_prep(prep, "text").text)


# `dealcoach crm connect|disconnect|status|save` (issue 17): bot/dealcoach/crm_cli.py
from dealcoach.crm_cli import crm_group  # noqa: E402

cli.add_command(crm_group)


def one_line(text: str) -> str:
    """`text` with every non-printable character (line breaks included) backslash-escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="dealcoach", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except DealcoachError as exc:
        # One line, whatever the input echoed in the message held (a key with a newline,
        # NEL or other control characters in an answers file): those are shown escaped.
        click.echo(f"dealcoach: {one_line(str(exc))}", err=True)
        sys.exit(exc.exit_code)
    except SystemExit:
        raise
    else:
        sys.exit(0)


if __name__ == "__main__":  # pragma: no cover
    main()
