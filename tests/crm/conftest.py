"""CRM link fixtures: the stand-ins, a store with both CRMs' workspaces, the service."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.crm.standins import HubSpotStandIn, SalesforceStandIn

# The Teams fixtures (Connector stand-in that checks every card, migrated database).
from tests.teams.conftest import connector, migrated_url  # noqa: F401

MISSING = [m for m in ("hubspot", "simple_salesforce", "cryptography", "jwt")
           if importlib.util.find_spec(m) is None]
SKIP_REASON = (
    f"the crm extra is not installed ({', '.join(MISSING)} missing): "
    "pip install -e '.[dev]' brings it in (dealcoach[crm])"
)

SECRET_KEY = "test-secret-key-for-crm-credentials-0123"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if not MISSING:
        return
    for item in items:
        if "tests/crm/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


@pytest.fixture
def hubspot() -> Iterator[HubSpotStandIn]:
    standin = HubSpotStandIn().seed().start()
    yield standin
    standin.close()


@pytest.fixture
def salesforce(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SalesforceStandIn]:
    standin = SalesforceStandIn().seed().start(tmp_path)
    # simple-salesforce always speaks https: trust the stand-in's own certificate.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", standin.cert)
    yield standin
    standin.close()


@pytest.fixture
def store(database_url: str, migrate_head: Callable[[str], None]) -> Iterator[Any]:
    from dealcoach.store import Store

    migrate_head(database_url)  # = migrate(database_url, "head"), from the session's template
    s = Store(database_url)
    try:
        yield s
    finally:
        s.dispose()


def crm_settings(database_url: str, hubspot_url: str = "http://127.0.0.1:9", **extra: Any) -> Any:
    from dealcoach.config import Settings

    values = {"dealcoach_secret_key": SECRET_KEY, "dealcoach_hubspot_url": hubspot_url, **extra}
    return Settings(_env_file=None, database_url=database_url, **values)
