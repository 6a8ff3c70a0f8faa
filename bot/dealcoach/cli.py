"""The `dealcoach` command.

Thin: each command parses its options, asks `bootstrap` for the services it needs and prints
the result. Every `DealcoachError` becomes one line on stderr and an exit status (2 for bad
input); anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys

import click

from dealcoach import __version__
from dealcoach.errors import DealcoachError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dealcoach")
def cli() -> None:
    """dealcoach: structured deal reviews and coaching advice, in the terminal, Slack and Teams."""


# --- commands are registered below, one block per area -------------------------------------


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
        click.echo(f"dealcoach: {exc}", err=True)
        sys.exit(exc.exit_code)
    except SystemExit:
        raise
    else:
        sys.exit(0)


if __name__ == "__main__":  # pragma: no cover
    main()
