"""The composition root: nothing at import time, SQLite migrates itself, PostgreSQL does not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dealcoach.bootstrap import build_services, ensure_schema
from dealcoach.config import Settings
from dealcoach.errors import StoreUnavailable
from dealcoach.services.actors import Actor
from dealcoach.store.engine import current_revision, head_revision


def test_importing_bootstrap_creates_no_engine_and_no_file(tmp_path: Path) -> None:
    code = "import dealcoach.bootstrap, dealcoach.cli; import os; print(os.listdir('.'))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_the_embedded_sqlite_default_is_migrated_on_first_use(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/fresh.db"
    services = build_services(Settings(database_url=url))
    try:
        assert current_revision(url) == head_revision()
        view = services.reviews.start(Actor.local("me"))
        assert view.status == "draft"
    finally:
        services.close()
    assert ensure_schema(url) is False  # already at head: nothing to do


async def test_the_async_services_share_the_database(tmp_path: Path) -> None:
    services = build_services(Settings(database_url=f"sqlite:///{tmp_path}/a.db"))
    try:
        started = services.reviews.start(Actor.local("me"), deal_name="Shared")
        found = await services.async_reviews.find_draft(Actor.local("me"))
        assert found is not None and found.review_id == started.review_id
    finally:
        await services.aclose()


def test_postgresql_is_never_migrated_implicitly(postgres_url: str) -> None:
    services = build_services(Settings(database_url=postgres_url))
    try:
        assert current_revision(postgres_url) is None
        with pytest.raises(StoreUnavailable, match="dealcoach db upgrade"):
            services.reviews.start(Actor.local("me"))
    finally:
        services.close()
