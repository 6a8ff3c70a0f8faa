"""`dealcoach crm connect|disconnect|status`: a workspace's CRM from the command line.

Secrets are never arguments (they would land in shell history and `ps`): the HubSpot token,
the Salesforce password, security token and consumer secret come from the environment
(`DEALCOACH_CRM_TOKEN`, `DEALCOACH_CRM_PASSWORD`, `DEALCOACH_CRM_SECURITY_TOKEN`,
`DEALCOACH_CRM_CONSUMER_SECRET`) or a hidden prompt; a JWT private key from a file.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from dealcoach.cli.services import command_services
from dealcoach.services.crm import CrmService, crm_sync, resolve_platform

_PLATFORM = click.option(
    "--platform",
    type=click.Choice(["slack", "teams", "cli"]),
    help="Where the workspace lives (default: where it is known, else slack); "
    "`dealcoach chat` reviews: --platform cli --workspace local.",
)
_WORKSPACE = click.option(
    "--workspace", required=True, metavar="ID", help="Slack team id / Teams tenant id."
)


@contextmanager
def _service() -> Iterator[CrmService]:
    """The CRM service on the command's own services (closed when the command is done)."""
    with command_services() as services:
        yield crm_sync(services)


def _secret(value: str | None, label: str) -> str:
    return value or str(click.prompt(label, hide_input=True))


@click.group("crm")
def crm_group() -> None:
    """Link a workspace to HubSpot or Salesforce (needs DEALCOACH_SECRET_KEY)."""


@crm_group.command("connect")
@click.argument("provider", type=click.Choice(["hubspot", "salesforce"]))
@_WORKSPACE
@_PLATFORM
@click.option("--token", envvar="DEALCOACH_CRM_TOKEN", hidden=True)
@click.option("--username", help="Salesforce: the user the app acts as.")
@click.option("--consumer-key", help="Salesforce: the connected app's consumer key.")
@click.option(
    "--private-key",
    "private_key_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Salesforce JWT bearer flow: the connected app's private key (PEM). "
    "Without it: the username-password flow.",
)
@click.option(
    "--login-url",
    default="https://login.salesforce.com",
    show_default=True,
    help="Salesforce: https://test.salesforce.com for a sandbox, or your My Domain URL.",
)
@click.option("--password", envvar="DEALCOACH_CRM_PASSWORD", hidden=True)
@click.option("--security-token", envvar="DEALCOACH_CRM_SECURITY_TOKEN", hidden=True)
@click.option("--consumer-secret", envvar="DEALCOACH_CRM_CONSUMER_SECRET", hidden=True)
def connect_command(
    provider: str,
    workspace: str,
    platform: str | None,
    token: str | None,
    username: str | None,
    consumer_key: str | None,
    private_key_file: str | None,
    login_url: str,
    password: str | None,
    security_token: str | None,
    consumer_secret: str | None,
) -> None:
    """Connect a workspace's CRM; the credentials are checked, then stored encrypted.

    \b
    hubspot: a private app's access token (DEALCOACH_CRM_TOKEN or a hidden prompt); scopes
      crm.objects.deals.read, crm.objects.companies.read, crm.objects.contacts.read and
      crm.objects.contacts.write (HubSpot's scope for notes).
    salesforce: a connected app, --username and --consumer-key, then --private-key (JWT
      bearer) or password + security token + consumer secret (DEALCOACH_CRM_PASSWORD,
      DEALCOACH_CRM_SECURITY_TOKEN, DEALCOACH_CRM_CONSUMER_SECRET or hidden prompts).
    """
    creds: dict[str, str]
    if provider == "hubspot":
        creds = {"token": _secret(token, "HubSpot token")}
    else:
        if not username or not consumer_key:
            raise click.UsageError("salesforce needs --username and --consumer-key")
        creds = {"login_url": login_url, "username": username, "consumer_key": consumer_key}
        if private_key_file:
            creds["private_key"] = Path(private_key_file).read_text("utf-8")
        else:
            creds["password"] = _secret(password, "Salesforce password")
            creds["security_token"] = security_token if security_token is not None else str(
                click.prompt("Security token", hide_input=True, default="", show_default=False)
            )
            creds["consumer_secret"] = _secret(consumer_secret, "Consumer secret")
    with _service() as service:
        where = resolve_platform(service.store, workspace, platform)
        service.connect(where, workspace, provider, creds, connected_by="cli")
    name = "HubSpot" if provider == "hubspot" else "Salesforce"
    click.echo(f"{name} connected for {where} workspace {workspace}.")


@crm_group.command("disconnect")
@_WORKSPACE
@_PLATFORM
def disconnect_command(workspace: str, platform: str | None) -> None:
    """Disconnect the workspace's CRM and delete its stored credentials."""
    with _service() as service:
        where = resolve_platform(service.store, workspace, platform)
        disconnected = service.disconnect(where, workspace)
    if disconnected:
        click.echo(f"CRM disconnected for {where} workspace {workspace}; credentials deleted.")
    else:
        click.echo(f"No CRM was connected for {where} workspace {workspace}.")


@crm_group.command("status")
@_WORKSPACE
@_PLATFORM
def status_command(workspace: str, platform: str | None) -> None:
    """Which CRM the workspace uses (never the credentials)."""
    with _service() as service:
        where = resolve_platform(service.store, workspace, platform)
        provider = service.provider_for(where, workspace)
    click.echo(provider or "none")
