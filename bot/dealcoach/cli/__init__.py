"""The `dealcoach` command.

Thin: each command parses its options, takes its settings from `cli.settings` (the one
settings-error path) and its services from `cli.services` (built through `bootstrap`), and
prints the result. Every `DealcoachError` becomes one line on stderr and an exit status (2
for bad input); anything else is a bug and keeps its traceback.

One module per area: `chat` (the terminal review), `deploy` (`manifest`, `teams-package`),
`data` (`db`, `export`, `forget`, `prune`), `serve`, `managers` (`team`, `digest`, `prep`),
`crm`. A command's module is imported only when that command runs (`_LazyGroup`): the
services, SQLAlchemy, the Slack SDK and the web server take a second or more to import,
which `dealcoach manifest` or a mistyped command should not pay. `--help` lists every
command, so it imports them all.
"""

from __future__ import annotations

import importlib
import sys

import click

from dealcoach import __version__
from dealcoach.errors import DealcoachError

# Command name → "module:attribute" in this package.
_COMMANDS = {
    "chat": "chat:chat_command",
    "crm": "crm:crm_group",
    "db": "data:db_group",
    "digest": "managers:digest_group",
    "export": "data:export_command",
    "forget": "data:forget_command",
    "insights": "insights:insights_command",
    "manifest": "deploy:manifest_command",
    "plan": "plan:plan_group",
    "prep": "managers:prep_command",
    "prune": "data:prune_command",
    "serve": "serve:serve_command",
    "team": "managers:team_group",
    "teams-package": "deploy:teams_package_command",
}


class _LazyGroup(click.Group):
    """A group whose commands (`_COMMANDS`) are imported when they are looked up."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in _COMMANDS:
            return super().get_command(ctx, cmd_name)
        module, attribute = _COMMANDS[cmd_name].split(":")
        command = getattr(importlib.import_module(f"{__name__}.{module}"), attribute)
        assert isinstance(command, click.Command), _COMMANDS[cmd_name]
        return command


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dealcoach")
def cli() -> None:
    """dealcoach: structured deal reviews and coaching advice, in the terminal, Slack and Teams."""


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
