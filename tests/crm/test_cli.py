"""`dealcoach crm connect|disconnect|status` (the click group, on both databases): secrets
from the environment or a hidden prompt, never echoed; stored encrypted."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from tests.crm.conftest import SECRET_KEY
from tests.crm.standins import HubSpotStandIn, SalesforceStandIn

from dealcoach.cli.crm import crm_group
from dealcoach.config import get_settings


@pytest.fixture
def env(store: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    values = {"DATABASE_URL": store.url, "DEALCOACH_SECRET_KEY": SECRET_KEY}
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    get_settings.cache_clear()
    yield values
    get_settings.cache_clear()


def _stored(store: Any) -> list[tuple[str, str]]:
    return store.run(lambda uow: [tuple(r) for r in uow.session.execute(
        text("SELECT provider, credentials FROM crm_connection")).all()])


def test_connect_status_disconnect_hubspot(
    env: dict[str, str], store: Any, hubspot: HubSpotStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEALCOACH_HUBSPOT_URL", hubspot.url)
    get_settings.cache_clear()
    runner = CliRunner()
    result = runner.invoke(
        crm_group, ["connect", "--workspace", "T1", "hubspot"], input=hubspot.token + "\n"
    )
    assert result.exit_code == 0, result.output
    assert hubspot.token not in result.output
    assert "HubSpot connected for slack workspace T1" in result.output
    [(provider, creds)] = _stored(store)
    assert provider == "hubspot" and hubspot.token not in creds
    assert runner.invoke(crm_group, ["status", "--workspace", "T1"]).output.strip() == "hubspot"
    result = runner.invoke(crm_group, ["disconnect", "--workspace", "T1"])
    assert "credentials deleted" in result.output
    assert _stored(store) == []


def test_connect_salesforce_from_the_environment(
    env: dict[str, str], store: Any, salesforce: SalesforceStandIn,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DEALCOACH_CRM_PASSWORD", salesforce.password)
    monkeypatch.setenv("DEALCOACH_CRM_SECURITY_TOKEN", salesforce.security_token)
    monkeypatch.setenv("DEALCOACH_CRM_CONSUMER_SECRET", salesforce.consumer_secret)
    result = CliRunner().invoke(crm_group, [
        "connect", "salesforce", "--workspace", "tenant-9", "--platform", "teams",
        "--username", salesforce.username, "--consumer-key", salesforce.consumer_key,
        "--login-url", salesforce.url,
    ])
    assert result.exit_code == 0, result.output
    [(provider, creds)] = _stored(store)
    assert provider == "salesforce"
    assert salesforce.password not in creds and salesforce.consumer_secret not in creds


def test_refused_credentials_and_missing_key(
    env: dict[str, str], store: Any, hubspot: HubSpotStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dealcoach.crm import CrmAuthError
    from dealcoach.errors import ConfigError

    monkeypatch.setenv("DEALCOACH_HUBSPOT_URL", hubspot.url)
    monkeypatch.setenv("DEALCOACH_CRM_TOKEN", "pat-na1-not-the-token")
    get_settings.cache_clear()
    result = CliRunner().invoke(crm_group, ["connect", "hubspot", "--workspace", "T1"])
    assert isinstance(result.exception, CrmAuthError)
    assert _stored(store) == []
    monkeypatch.delenv("DEALCOACH_SECRET_KEY")
    get_settings.cache_clear()
    result = CliRunner().invoke(crm_group, ["connect", "hubspot", "--workspace", "T1"])
    assert isinstance(result.exception, ConfigError)
    assert "DEALCOACH_SECRET_KEY" in str(result.exception)
