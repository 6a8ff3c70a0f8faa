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
