"""Migration 0006_close_plan on SQLite and PostgreSQL: upgrade from 0005 keeps every review,
adds the plan tables and the outcome reason (with its CHECK), and downgrades back cleanly.
(The whole history's round trip and models-vs-migrations diff: tests/store/test_migrations.py.)"""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from dealcoach.store.engine import current_revision, downgrade, make_engine, migrate

PLAN_TABLES = {"plan_step", "plan_step_event", "plan_reminder"}


def _seed_0005(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            now = "2026-06-01 08:00:00+00:00"
            conn.execute(
                text(
                    "INSERT INTO workspace (id, platform, external_id, default_locale, timezone,"
                    " created_at) VALUES (1, 'slack', 'T1', 'en', 'UTC', :now)"
                ),
                {"now": now},
            )
            conn.execute(
                text(
                    "INSERT INTO person (id, workspace_id, user_id, role, nudges_paused,"
                    " created_at, updated_at) VALUES (1, 1, 'U1', 'rep', false, :now, :now)"
                ),
                {"now": now},
            )
            conn.execute(
                text(
                    "INSERT INTO deal (id, workspace_id, owner_id, name, name_key, outcome,"
                    " created_at, updated_at) VALUES (1, 1, 1, 'Acme', 'acme', 'lost', :now, :now)"
                ),
                {"now": now},
            )
            conn.execute(
                text(
                    "INSERT INTO review (id, workspace_id, person_id, deal_id, platform, status,"
                    " locale, started_at, updated_at, completed_at) VALUES (1, 1, 1, 1, 'slack',"
                    " 'completed', 'en', :now, :now, :now)"
                ),
                {"now": now},
            )
    finally:
        engine.dispose()


def test_0006_upgrades_with_data_and_downgrades(database_url: str) -> None:
    migrate(database_url, "0005_crm_link")
    _seed_0005(database_url)
    migrate(database_url, "0006_close_plan")
    assert current_revision(database_url) == "0006_close_plan"
    engine = make_engine(database_url)
    try:
        names = set(inspect(engine).get_table_names())
        assert names >= PLAN_TABLES
        columns = {c["name"] for c in inspect(engine).get_columns("review")}
        assert {"outcome_reason", "outcome_reason_text"} <= columns
        with engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM review")).scalar() == 1
            conn.execute(text("UPDATE review SET outcome_reason = 'price' WHERE id = 1"))
            conn.execute(
                text(
                    "INSERT INTO plan_step (deal_id, person_id, text, owner_kind, due_on, status,"
                    " created_at, updated_at) VALUES (1, 1, 'Call', 'us', '2026-06-08', 'open',"
                    " '2026-06-01 08:00:00+00:00', '2026-06-01 08:00:00+00:00')"
                )
            )
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(text("UPDATE review SET outcome_reason = 'bad luck' WHERE id = 1"))
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(text("UPDATE plan_step SET status = 'later'"))
    finally:
        engine.dispose()

    downgrade(database_url, "0005_crm_link")
    engine = make_engine(database_url)
    try:
        assert not set(inspect(engine).get_table_names()) & PLAN_TABLES
        columns = {c["name"] for c in inspect(engine).get_columns("review")}
        assert "outcome_reason" not in columns
        with engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM review")).scalar() == 1
            assert conn.execute(text("SELECT count(*) FROM deal")).scalar() == 1
    finally:
        engine.dispose()
    migrate(database_url, "0006_close_plan")
    assert current_revision(database_url) == "0006_close_plan"
