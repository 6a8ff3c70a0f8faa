"""`dealcoach plan`: a deal's mutual close plan in the terminal (issue 15).

    dealcoach plan                          your deals with a plan, and their progress
    dealcoach plan --deal NAME [--all]      one deal's steps: id, status, owner, due date,
                                            overdue marked; "2 of 5 steps done, 1 overdue"
    dealcoach plan add --deal NAME TEXT [--owner us|NAME] [--due YYYY-MM-DD]
    dealcoach plan done ID · move ID YYYY-MM-DD · drop ID · reopen ID
    dealcoach plan remind                   send the overdue reminders due now, once each

Every subcommand takes `--user ID` (who you are, as in `dealcoach chat`; default the local
user) and `--lang en|nl` (default DEALCOACH_LANG, else en), before or after its name. The
plan's rules are the service's (`services.plans`): only the deal's rep changes it, dates are
today or later, a step's text at most 300 characters. A refusal or bad input is one line on
stderr in the chosen language, exit status 2.

`remind` is `send_plan_reminders` once, through the command notifiers (`bootstrap`), like
`dealcoach digest send`: terminal users' reminders are printed, Slack's and Teams' go out
when those are configured; each (step, date) is reminded exactly once, whichever process
runs it. Reminders go out on a workday between 9:00 and 17:00 in the rep's time zone.

`--now` (hidden; for tests and demos) sets the clock: ISO date and time, UTC unless it names
a zone, e.g. `dealcoach plan --now 2026-06-10T10:00 remind`.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import click
from pydantic import ValidationError

from dealcoach.bootstrap import command_notifiers
from dealcoach.cli import one_line
from dealcoach.cli.services import open_services
from dealcoach.cli.settings import load_settings
from dealcoach.coach.plan_text import format_date
from dealcoach.coach.plan_text import text as plan_text
from dealcoach.config import get_settings
from dealcoach.digest.delivery import DbRunner
from dealcoach.errors import NotFound
from dealcoach.services.actors import Actor
from dealcoach.services.container import Services
from dealcoach.services.plans import (
    DealPlan,
    PlanInvalid,
    PlanRefused,
    StepChange,
    StepView,
    send_plan_reminders,
)
from dealcoach.terminal import message
from dealcoach.terminal_review import PlanError, change_message, owner_choice, plan_error

T = TypeVar("T")


@dataclass(frozen=True)
class _Options:
    user_id: str | None = None
    lang: str | None = None
    now: str | None = None

    def merged(self, user_id: str | None, lang: str | None, now: str | None) -> _Options:
        """A subcommand's own options over the group's."""
        return _Options(user_id or self.user_id, lang or self.lang, now or self.now)


def _common(fn: Callable[..., Any], *, user: bool = True) -> Callable[..., Any]:
    """`--user`, `--lang` and the hidden `--now`, on the group and on every subcommand
    (`remind`, which sends everyone's, takes no `--user`)."""
    fn = click.option(
        "--now",
        "now",
        metavar="DATETIME",
        hidden=True,
        help="Pretend it is this moment (ISO, UTC unless a zone is given); for tests.",
    )(fn)
    fn = click.option(
        "--lang",
        type=click.Choice(["en", "nl"]),
        default=None,
        help="Language of the output (default: DEALCOACH_LANG, else en).",
    )(fn)
    if user:
        fn = click.option(
            "--user", "user_id", metavar="ID", help="Whose plans (default: you, as in chat)."
        )(fn)
    return fn


def _clock_and_lang(fn: Callable[..., Any]) -> Callable[..., Any]:
    return _common(fn, user=False)


@dataclass
class _Session:
    services: Services
    actor: Actor
    locale: str
    now: datetime | None

    def call(self, fn: Callable[..., T], *args: Any, step_id: int | None = None, **kw: Any) -> T:
        """A plan service call; its refusals and bad input as one line in our language."""
        try:
            return fn(*args, **kw)
        except NotFound as exc:
            if step_id is not None:
                raise PlanError(message(self.locale, "plan_no_step", id=step_id)) from None
            raise PlanError(plan_error(exc, self.locale)) from None
        except (PlanInvalid, PlanRefused) as exc:
            raise PlanError(plan_error(exc, self.locale)) from None


def _default_lang() -> str:
    """DEALCOACH_LANG when set and valid, else en (as `dealcoach chat`)."""
    try:
        return get_settings().dealcoach_lang
    except ValidationError:
        return "en"


def _locale(options: _Options) -> str:
    return options.lang or _default_lang()


def _parse_now(raw: str | None, locale: str) -> datetime | None:
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise PlanError(message(locale, "plan_bad_now")) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _step_id(raw: str, locale: str) -> int:
    text = raw.strip()
    if not text.isdigit() or len(text) > 18:
        shown = one_line(text if len(text) <= 20 else text[:19] + "…")
        raise PlanError(message(locale, "plan_bad_id", id=shown))
    return int(text)


@contextmanager
def _session(options: _Options) -> Iterator[_Session]:
    locale = _locale(options)
    now = _parse_now(options.now, locale)
    services = open_services(load_settings())
    try:
        yield _Session(services, Actor.local(options.user_id, locale=locale), locale, now)
    finally:
        services.close()


def _deal_id(session: _Session, name: str) -> int:
    deal_id = session.services.plans.find_deal(session.actor, name)
    if deal_id is None:
        shown = one_line(name if len(name) <= 60 else name[:59] + "…")
        raise PlanError(message(session.locale, "plan_no_deal", deal=shown))
    return deal_id


# --- showing plans ----------------------------------------------------------------------------


def _step_text(step: StepView, locale: str, width: int) -> str:
    status = plan_text(locale, f"status.{step.status}")
    line = f"  #{step.step_id:<{width}}  {status:<{_status_width(locale)}}  "
    line += one_line(step.line(locale))
    if step.overdue:
        line += "  ! " + plan_text(locale, "step.overdue", due=format_date(step.due_on, locale))
    return line


def _status_width(locale: str) -> int:
    return max(len(plan_text(locale, f"status.{s}")) for s in ("open", "done", "dropped"))


def _print_plan(plan: DealPlan, locale: str) -> None:
    title = plan_text(locale, "plan.title", deal=one_line(plan.deal_name))
    click.echo(title)
    click.echo("─" * min(len(title), 72))
    click.echo(plan.progress.text(locale))
    if not plan.steps:
        click.echo(message(locale, "plan_empty_deal"))
        return
    click.echo("")
    width = max(len(str(s.step_id)) for s in plan.steps)
    for step in plan.steps:
        click.echo(_step_text(step, locale, width))
    click.echo("")
    click.echo(message(locale, "plan_next"))


def _print_all(session: _Session) -> None:
    """The rep's deals with a plan and their progress; then their open deals without one."""
    locale = session.locale
    plans = session.services.plans.my_plans(session.actor, now=session.now)
    planned = {p.deal_id for p in plans}
    deals = session.services.plans.plan_deals(session.actor, now=session.now)
    unplanned = [one_line(d.deal_name) for d in deals if d.deal_id not in planned]
    if not plans:
        click.echo(message(locale, "plan_none"))
    else:
        title = message(locale, "plan_title_all")
        click.echo(title)
        click.echo("─" * min(len(title), 72))
        for summary in plans:
            click.echo(f"  {one_line(summary.deal_name)}: {summary.progress.text(locale)}")
    if unplanned:
        click.echo(message(locale, "plan_without", deals=", ".join(unplanned)))
    if plans or unplanned:
        click.echo("")
        click.echo(message(locale, "plan_hint_deal"))


@click.group("plan", invoke_without_command=True)
@click.option("--deal", "deal_name", metavar="NAME", help="Show this deal's plan, step by step.")
@click.option("--all", "show_dropped", is_flag=True, help="With --deal: dropped steps too.")
@_common
@click.pass_context
def plan_group(
    ctx: click.Context,
    deal_name: str | None,
    show_dropped: bool,
    user_id: str | None,
    lang: str | None,
    now: str | None,
) -> None:
    """Your deals' mutual close plans: list them, add steps, mark them done, move or drop
    them, and send the overdue reminders."""
    options = _Options(user_id, lang, now)
    ctx.obj = options
    if ctx.invoked_subcommand is not None:
        return
    with _session(options) as session:
        if deal_name is None:
            _print_all(session)
            return
        deal_id = _deal_id(session, deal_name)
        plan = session.call(
            session.services.plans.deal_plan,
            session.actor,
            deal_id,
            include_dropped=show_dropped,
            now=session.now,
        )
        _print_plan(plan, session.locale)


def _options(user_id: str | None, lang: str | None, now: str | None) -> _Options:
    parent = click.get_current_context().find_object(_Options) or _Options()
    return parent.merged(user_id, lang, now)


# --- changing plans -----------------------------------------------------------------------------


@plan_group.command("add")
@click.option("--deal", "deal_name", required=True, metavar="NAME", help="The deal (its name).")
@click.option(
    "--owner", metavar="us|NAME", help="Who does it: us (default) or a decision-maker's name."
)
@click.option("--due", metavar="YYYY-MM-DD", help="Due date (default: a week from now).")
@click.argument("text", nargs=-1, required=True)
@_common
def plan_add_command(
    deal_name: str,
    owner: str | None,
    due: str | None,
    text: tuple[str, ...],
    user_id: str | None,
    lang: str | None,
    now: str | None,
) -> None:
    """Add a step (TEXT) to a deal's plan by hand."""
    with _session(_options(user_id, lang, now)) as session:
        deal_id = _deal_id(session, deal_name)
        plans = session.services.plans
        names = session.call(plans.deal_plan, session.actor, deal_id).owner_options
        owner_kind, owner_name = owner_choice(owner, names, session.locale)
        change = session.call(
            plans.add_step,
            session.actor,
            deal_id,
            " ".join(text),
            owner_kind=owner_kind,
            owner_name=owner_name,
            due_on=due,
            now=session.now,
        )
        _print_change(change, change_message(change, session.locale), session.locale)


def _print_change(change: StepChange, said: str, locale: str) -> None:
    click.echo(said)
    click.echo(_step_text(change.step, locale, len(str(change.step.step_id))))


def _status_command(name: str, method: str, key: str, doc: str) -> None:
    @plan_group.command(name, help=doc)
    @click.argument("step_id", metavar="ID")
    @_common
    def command(step_id: str, user_id: str | None, lang: str | None, now: str | None) -> None:
        with _session(_options(user_id, lang, now)) as session:
            number = _step_id(step_id, session.locale)
            change = session.call(
                getattr(session.services.plans, method),
                session.actor,
                number,
                step_id=number,
                now=session.now,
            )
            locale = session.locale
            if key == "added":
                said = change_message(change, locale)
            else:
                said = plan_text(locale, key, progress=change.progress.text(locale))
            _print_change(change, said, locale)


_status_command("done", "mark_done", "reminder.marked_done", "Mark step ID done.")
_status_command("drop", "drop", "reminder.dropped", "Drop step ID from the plan (history kept).")
_status_command("reopen", "reopen", "added", "Open a done or dropped step ID again.")


@plan_group.command("move")
@click.argument("step_id", metavar="ID")
@click.argument("due", metavar="YYYY-MM-DD")
@_common
def plan_move_command(
    step_id: str, due: str, user_id: str | None, lang: str | None, now: str | None
) -> None:
    """Give step ID a new due date (today or later)."""
    with _session(_options(user_id, lang, now)) as session:
        number = _step_id(step_id, session.locale)
        change = session.call(
            session.services.plans.move,
            session.actor,
            number,
            due,
            step_id=number,
            now=session.now,
        )
        locale = session.locale
        said = plan_text(locale, "reminder.moved", due=format_date(change.step.due_on, locale))
        _print_change(change, said, locale)


# --- reminders ------------------------------------------------------------------------------------


@plan_group.command("remind")
@_clock_and_lang
def plan_remind_command(lang: str | None, now: str | None) -> None:
    """Send every overdue-step reminder due now (everyone's), exactly once each: terminal
    users' are printed; Slack's and Teams' are sent when configured."""
    options = _options(None, lang, now)
    locale = _locale(options)
    moment = _parse_now(options.now, locale)
    settings = load_settings()
    services = open_services(settings)
    try:
        runner = DbRunner(services.store)
        notifiers = command_notifiers(settings, services, runner)
        report = asyncio.run(
            send_plan_reminders(
                runner,
                notifiers,
                now=moment,
                default_locale=settings.dealcoach_lang,
                default_tz=settings.dealcoach_default_timezone,
            )
        )
    finally:
        services.close()
    summary = message(
        locale,
        "plan_remind_sent",
        sent=len(report.sent),
        failed=len(report.failed),
        skipped=len(report.skipped),
    )
    click.echo(summary, err=True)
    for step, error in report.failed:
        click.echo(message(locale, "plan_remind_failed", id=step, error=one_line(error)), err=True)
    if report.failed:
        sys.exit(3)
