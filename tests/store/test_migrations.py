"""The Alembic history and the models agree, and migrations round-trip, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from dealcoach.store.engine import (
    current_revision,
    downgrade,
    head_revision,
    make_engine,
    migrate,
)
from dealcoach.store.models import metadata


def _diff(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(ctx, metadata))
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_latest_revision_matches_the_models(database_url: str) -> None:
    migrate(database_url, "head")
    assert _diff(database_url) == []


def test_upgrade_downgrade_upgrade_round_trips(database_url: str) -> None:
    expected = set(metadata.tables)
    migrate(database_url, "head")
    assert _tables(database_url) == expected
    assert current_revision(database_url) == head_revision()

    downgrade(database_url, "base")
    assert _tables(database_url) == set()
    assert current_revision(database_url) is None

    migrate(database_url, "head")
    assert _tables(database_url) == expected
    assert _diff(database_url) == []


def test_slack_oauth_tables_are_part_of_the_history(database_url: str) -> None:
    migrate(database_url, "head")
    assert {"slack_installations", "slack_bots", "slack_oauth_states"} <= _tables(database_url)
