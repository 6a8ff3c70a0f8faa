"""Engines, migrations and database error translation.

- `make_engine(url)`: SQLite gets WAL, foreign keys on, a busy timeout and `BEGIN IMMEDIATE`
  transactions (a writer takes the write lock up front, so two writers queue on the busy
  timeout instead of failing with a stale snapshot). PostgreSQL gets a pool with pre-ping.
- `make_async_engine(url)`: the same settings on aiosqlite / psycopg 3 async, except that the
  server's PostgreSQL pool does not pre-ping (a `SELECT 1` round trip per checkout): a pooled
  connection whose socket has something to read while idle (the server said goodbye: a
  restart, `pg_terminate_backend`) or is closed is replaced at checkout, without a round trip;
  connections are recycled after 30 minutes.
- `migrate(url, "head")`, `downgrade(url, rev)`, `current_revision(url)`, `head_revision()`:
  Alembic from `dealcoach.resources.migrations_dir()` (works from an installed wheel).
- `store_errors()`: turns lost connections and a missing schema into `StoreUnavailable`.
"""

from __future__ import annotations

import re
import select
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from dealcoach.errors import ConfigError, StoreUnavailable

SQLITE_BUSY_TIMEOUT_MS = 30_000

UNAVAILABLE = "the database is unavailable right now; please try again in a moment"
NOT_MIGRATED = "the database has no dealcoach tables yet; run `dealcoach db upgrade`"


def normalize_url(url: str) -> URL:
    """Parse a DATABASE_URL; `postgres://` and `postgresql://` mean psycopg 3."""
    try:
        parsed = make_url(url)
    except exc.ArgumentError as err:
        raise ConfigError(f"DATABASE_URL is not a database URL: {url!r}") from err
    backend = parsed.get_backend_name()
    if backend in ("postgres", "postgresql"):
        driver = parsed.get_driver_name()
        if backend == "postgres" or driver in ("psycopg2", "psycopg", "psycopg_async", ""):
            parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend == "sqlite":
        parsed = parsed.set(drivername="sqlite")
    else:
        raise ConfigError(
            f"DATABASE_URL must be sqlite:/// or postgresql+psycopg://, not {backend}"
        )
    return parsed


def is_sqlite(url: str | URL) -> bool:
    return (url if isinstance(url, URL) else normalize_url(url)).get_backend_name() == "sqlite"


def is_sqlite_file(url: str | URL) -> bool:
    """A SQLite database in a file (not in memory): one that two engines can share."""
    parsed = url if isinstance(url, URL) else normalize_url(url)
    return parsed.get_backend_name() == "sqlite" and _sqlite_file(parsed) is not None


def _sqlite_file(url: URL) -> Path | None:
    db = url.database
    if not db or db == ":memory:" or db.startswith("file:"):
        return None
    return Path(db)


def _configure_sqlite(sync_engine: Engine, *, foreign_keys: bool) -> None:
    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Own the transaction boundaries (pysqlite's implicit BEGIN is deferred and
        # skips DDL); see the "begin" hook below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        finally:
            cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Straight to the driver: the statement needs none of SQLAlchemy's execution
        # machinery (events, result handling), and every transaction pays for it.
        # (SQLAlchemy does not wrap what a begin hook raises: wrap a driver error, e.g.
        # "database is locked", as it would, so callers see one kind of error.)
        try:
            conn.connection.dbapi_connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as err:
            raise exc.OperationalError("BEGIN IMMEDIATE", None, err) from err


def make_engine(url: str, *, foreign_keys: bool = True, **kwargs: Any) -> Engine:
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = _sqlite_file(parsed)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs
        )
        _configure_sqlite(engine, foreign_keys=foreign_keys)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return create_engine(parsed, pool_pre_ping=True, pool_recycle=1800, **kwargs)


def make_async_engine(url: str, **kwargs: Any) -> AsyncEngine:
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = _sqlite_file(parsed)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            parsed.set(drivername="sqlite+aiosqlite"),
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            **kwargs,
        )
        _configure_sqlite(engine.sync_engine, foreign_keys=True)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    # "postgresql+psycopg" resolves to psycopg 3's async dialect under create_async_engine.
    engine = create_async_engine(parsed, pool_recycle=1800, **kwargs)
    event.listen(engine.sync_engine, "checkout", _drop_dead_connection)
    return engine


def connection_is_dead(driver_connection: Any) -> bool:
    """An idle psycopg connection that is closed, broken, or whose socket is readable: the
    server sent something while nobody asked (its goodbye before closing) — no round trip."""
    if getattr(driver_connection, "closed", False) or getattr(driver_connection, "broken", False):
        return True
    try:
        fd = driver_connection.fileno()
    except Exception:  # a connection we cannot inspect is not trusted
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


def _drop_dead_connection(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    if connection_is_dead(record.driver_connection):
        # The pool discards this one and checks out (or opens) another.
        raise exc.DisconnectionError("the server closed this pooled connection")


# --- errors ---------------------------------------------------------------------------------

_MISSING_TABLE = re.compile(r"no such table|relation .* does not exist|UndefinedTable", re.I)


def translate_error(err: BaseException) -> StoreUnavailable | None:
    """The user-facing error for a database failure that is not a bug, else None."""
    if isinstance(err, exc.DBAPIError) and _MISSING_TABLE.search(str(err.orig)):
        return StoreUnavailable(NOT_MIGRATED)
    if isinstance(err, exc.OperationalError | exc.DisconnectionError | exc.TimeoutError):
        return StoreUnavailable(UNAVAILABLE)
    if isinstance(err, exc.DBAPIError) and err.connection_invalidated:
        return StoreUnavailable(UNAVAILABLE)
    return None


@contextmanager
def store_errors() -> Iterator[None]:
    try:
        yield
    except exc.SQLAlchemyError as err:
        mapped = translate_error(err)
        if mapped is None:
            raise
        raise mapped from err


# --- migrations -----------------------------------------------------------------------------


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    from dealcoach.resources import migrations_dir

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    # configparser interpolation: a literal % must be doubled (quoted URL options have them).
    rendered = normalize_url(url).render_as_string(hide_password=False)
    cfg.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return cfg


def migrate(url: str, revision: str = "head") -> None:
    from alembic import command

    with store_errors():
        command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    from alembic import command

    with store_errors():
        command.downgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        with store_errors(), engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
