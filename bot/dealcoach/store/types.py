"""Column types shared by the models.

`UTCDateTime` stores time-zone aware datetimes and always hands back aware UTC values, on
PostgreSQL (`timestamptz`) and on SQLite (which keeps no zone: values are normalised to UTC
on the way in and marked UTC on the way out). Naive datetimes are refused, so a local
wall-clock time can never slip into the log.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator, TypeEngine


class UTCDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r} refused: store UTC-aware datetimes")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            # SQLite keeps text; store it without an offset so comparisons stay lexical.
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


# JSON: JSONB on PostgreSQL (indexable, compact), JSON text elsewhere.
JSONType: TypeEngine[Any] = JSON().with_variant(JSONB(), "postgresql")

# Surrogate keys: 64-bit on PostgreSQL, INTEGER on SQLite (so it is the rowid alias and
# autoincrements).
IdType: TypeEngine[int] = BigInteger().with_variant(Integer(), "sqlite")


def insert_for(session: Session, model: type[Any]) -> Any:
    """INSERT with `ON CONFLICT` for the session's dialect (PostgreSQL and SQLite share that
    API): get-or-create and once-only claims without a savepoint."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)
