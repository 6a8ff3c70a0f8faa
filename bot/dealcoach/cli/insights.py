"""`dealcoach insights [--team MANAGER] [--since DATE] [--lang en|nl] [--workspace ID]`:
what predicts a win (issue 15).

Prints, for everyone or one manager's team, the win rate of closed deals with and without
each key answer and flag (won/deals, the rate and its 90 % Wilson interval), only for the
lines at least 20 closed deals back (and says so when none qualifies), then why deals were
lost, with counts. The counting is the insights service's (SQL aggregates); this module
parses the options and prints. Bad input (an unknown manager, a bad date or language) is one
line on stderr and exit status 2.
"""

from __future__ import annotations

import click

from dealcoach.cli.services import store_run
from dealcoach.cli.settings import load_settings
from dealcoach.coach.bank import LOCALES
from dealcoach.errors import InputError
from dealcoach.services.export import parse_since
from dealcoach.services.insights import cli_insights

_WORKSPACE_HELP = "Slack team / Teams tenant id for a bare MANAGER id (default: the only one)."


def _locale(value: str | None, default: str) -> str:
    if value is None:
        return default if default in LOCALES else "en"
    chosen = value.strip().lower()
    if chosen not in LOCALES:
        raise InputError(f"--lang: {value!r} is not one of {', '.join(LOCALES)}")
    return chosen


@click.command("insights")
@click.option(
    "--team",
    "manager",
    metavar="MANAGER",
    help="Only this manager's team (UMIA, slack:UMIA, slack:T1:UMIA). Default: everyone.",
)
@click.option(
    "--since",
    metavar="DATE",
    help="Only deals whose last review was completed on/after DATE (YYYY-MM-DD).",
)
@click.option("--lang", metavar="en|nl", help="Language (default: DEALCOACH_LANG, else en).")
@click.option("--workspace", metavar="ID", help=_WORKSPACE_HELP)
def insights_command(
    manager: str | None, since: str | None, lang: str | None, workspace: str | None
) -> None:
    """What predicts a win: win rates of closed deals with and without each key answer and
    flag, with 90 % intervals, and why deals were lost."""
    settings = load_settings()
    locale = _locale(lang, str(settings.dealcoach_lang))
    since_at = parse_since(since)
    report = store_run(cli_insights, workspace, manager, since_at, locale)
    click.echo(report.table())
