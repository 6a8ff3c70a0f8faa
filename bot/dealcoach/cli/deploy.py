"""`dealcoach manifest` and `dealcoach teams-package`: what to paste into Slack and to upload
to Teams, for the configured public URL (DEALCOACH_PUBLIC_URL) and TEAMS_CLIENT_ID."""

from __future__ import annotations

import json
from pathlib import Path

import click

from dealcoach.cli.settings import setting
from dealcoach.errors import InputError
from dealcoach.slack.manifest import build_manifest, render_manifest
from dealcoach.teams.manifest import build_teams_package


@click.command("manifest")
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
    if public_url is None:
        public_url = setting("dealcoach_public_url")
    if as_json:
        manifest = build_manifest(public_url, socket_mode=socket_mode)
        click.echo(json.dumps(manifest, indent=2, ensure_ascii=False))
    else:
        click.echo(render_manifest(public_url, socket_mode=socket_mode), nl=False)


@click.command("teams-package")
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
    if public_url is None:
        public_url = setting("dealcoach_public_url")
    package = build_teams_package(setting("teams_client_id"), public_url)
    try:
        Path(out).write_bytes(package)
    except OSError as exc:
        raise InputError(f"cannot write {out}: {exc.strerror}") from None
    click.echo(f"wrote {out} ({len(package)} bytes): upload it in Teams → Apps → Manage your apps")
