"""Migrated databases in milliseconds: the real Alembic migration runs once per test session
(per pytest-xdist worker) into a template, and each test's empty database is made a copy of it.

- SQLite: the template is a file migrated by `dealcoach.store.migrate`; a test's database
  file (which does not exist yet) becomes a byte-for-byte copy of it.
- PostgreSQL: the template is a schema migrated by `migrate`, with every statement that
  migration sent recorded (SQLAlchemy's `before_cursor_execute`). A test's empty schema gets
  the same statements, with the same parameters, in one transaction — what `migrate` would
  have sent, without Alembic loading and inspecting. Once per session a probe copy is made
  and its catalog (columns with types and defaults, constraints, indexes, relations, types,
  alembic_version) compared with the template's; if they differ in any way, or a statement
  names the template's schema, copying is switched off (with a warning) and every test runs
  the real migration.

Anything that is not a fresh, empty test database (a file that exists, a schema with tables,
a URL without a per-test `search_path`) gets the real `migrate(url, "head")`. Tests about
migrations call `migrate`/`downgrade` themselves on `database_url` and never come here.
"""

from __future__ import annotations

import shutil
import threading
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url

Statement = tuple[str, Any, bool]

_SIGNATURE_SQL = (
    # columns, with types, nullability and defaults
    """
    SELECT 'column', c.relname, a.attname,
           format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' NOT NULL'
           ELSE '' END || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE n.nspname = %(schema)s AND a.attnum > 0 AND NOT a.attisdropped
      AND c.relkind IN ('r', 'p', 'v', 'm')
    """,
    # constraints (primary, unique, foreign keys, checks)
    """
    SELECT 'constraint', c.relname, k.conname, pg_get_constraintdef(k.oid)
    FROM pg_constraint k
    JOIN pg_class c ON c.oid = k.conrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = %(schema)s
    """,
    # indexes
    """
    SELECT 'index', tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = %(schema)s
    """,
    # every relation (tables, sequences, views, indexes) and type
    """
    SELECT 'relation', c.relkind::text, c.relname, '' FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %(schema)s
    UNION ALL
    SELECT 'type', t.typtype::text, t.typname, '' FROM pg_type t
    JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = %(schema)s
    """,
)


def _libpq_url(sqlalchemy_url: str) -> str:
    return sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1)


def _sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    db = parsed.database
    if not db or db == ":memory:" or db.startswith("file:"):
        return None
    return Path(db)


def _has_search_path(url: str) -> bool:
    options = make_url(url).query.get("options")
    values = [options] if isinstance(options, str) else list(options or ())
    return any("search_path" in value for value in values)


class MigrationTemplates:
    """One per test session: `migrate_head(url)` migrates a test's database to head."""

    def __init__(self, folder: Path, postgres_base: str | None) -> None:
        self._folder = folder
        self._postgres_base = postgres_base
        self._lock = threading.Lock()
        self._sqlite: Path | None = None
        self._pg_schema: str | None = None
        self._pg_statements: list[Statement] | None = None

    # --- the one entry point ----------------------------------------------------------

    def migrate_head(self, url: str) -> None:
        """What `dealcoach.store.migrate(url, "head")` does, from the session's template
        when `url` is a fresh, empty test database."""
        path = _sqlite_path(url)
        if path is not None:
            if self._copy_sqlite(path):
                return
        elif url.startswith("postgresql") and _has_search_path(url) and self._copy_pg(url):
            return
        from dealcoach.store import migrate

        migrate(url, "head")

    def close(self) -> None:
        if self._pg_schema is not None and self._postgres_base is not None:
            from tests.conftest import drop_pg_schema

            drop_pg_schema(self._postgres_base, self._pg_schema)
            self._pg_schema = None

    # --- SQLite -----------------------------------------------------------------------

    def _sqlite_template(self) -> Path:
        with self._lock:
            if self._sqlite is None:
                from dealcoach.store import migrate

                template = self._folder / "template.db"
                migrate(f"sqlite:///{template}", "head")
                if Path(f"{template}-wal").exists():
                    # WAL mode: fold the log into the file, so the file alone is the database.
                    import sqlite3

                    conn = sqlite3.connect(template)
                    try:
                        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    finally:
                        conn.close()
                self._sqlite = template
            return self._sqlite

    def _copy_sqlite(self, path: Path) -> bool:
        if any(p.exists() for p in (path, Path(f"{path}-wal"), Path(f"{path}-journal"))):
            return False  # not a fresh database: the real migration decides
        template = self._sqlite_template()
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template, path)
        return True

    # --- PostgreSQL -------------------------------------------------------------------

    def _pg_template(self) -> list[Statement] | None:
        """The statements `migrate` sent to migrate the template schema (reads left out),
        or None when copying is off."""
        with self._lock:
            if self._pg_statements is None and self._pg_schema is None:
                self._record_pg_template()
            return self._pg_statements

    def _record_pg_template(self) -> None:
        from tests.conftest import create_pg_schema, drop_pg_schema

        from dealcoach.store import migrate

        base = self._postgres_base
        assert base is not None
        schema, url = create_pg_schema(base)
        self._pg_schema = schema
        target = make_url(url)
        sent: list[Statement] = []

        def record(conn: Any, _cursor: Any, statement: str, parameters: Any,
                   _context: Any, executemany: bool) -> None:
            if conn.engine.url == target:
                sent.append((statement, parameters, executemany))

        event.listen(Engine, "before_cursor_execute", record)
        try:
            migrate(url, "head")
        finally:
            event.remove(Engine, "before_cursor_execute", record)
        writes = [s for s in sent if not s[0].lstrip().upper().startswith(("SELECT", "SHOW"))]
        if not writes or any(schema in s[0] or schema in repr(s[1]) for s in writes):
            _off("the recorded migration is empty or names its schema")
            return
        # Proof, once per session: a copy made this way has the template's catalog.
        probe, probe_url = create_pg_schema(base)
        try:
            import psycopg

            with psycopg.connect(_libpq_url(probe_url)) as conn:
                _replay(conn, writes)
                conn.commit()
                # Names print schema-qualified alike only outside both schemas.
                conn.execute("SET search_path TO pg_catalog")
                copy, template = _signature(conn, probe), _signature(conn, schema)
        finally:
            drop_pg_schema(base, probe)
        if copy != template:
            diff = sorted(set(map(str, copy)) ^ set(map(str, template)))
            _off("a copy differs from the migrated template:\n" + "\n".join(diff[:20]))
            return
        self._pg_statements = writes

    def _copy_pg(self, url: str) -> bool:
        if self._postgres_base is None:
            return False
        statements = self._pg_template()
        if statements is None:
            return False
        import psycopg

        with psycopg.connect(_libpq_url(url)) as conn:
            schema, relations = conn.execute(
                "SELECT current_schema(), (SELECT count(*) FROM pg_class c JOIN pg_namespace n"
                " ON n.oid = c.relnamespace WHERE n.nspname = current_schema())"
            ).fetchone() or (None, 1)
            if schema in (None, "public", self._pg_schema) or relations:
                return False  # not a fresh per-test schema: the real migration decides
            _replay(conn, statements)
            conn.commit()
        return True


def _off(why: str) -> None:
    warnings.warn(
        f"tests/dbtemplate.py: {why}; every test runs the real migration", stacklevel=3
    )


def _replay(conn: Any, statements: list[Statement]) -> None:
    """The recorded statements, as SQLAlchemy handed them to psycopg, in one transaction."""
    with conn.cursor() as cur:
        for statement, parameters, executemany in statements:
            if executemany:
                cur.executemany(statement, parameters)
            else:
                cur.execute(statement, _params(parameters))


def _params(parameters: Any) -> Any:
    if isinstance(parameters, Mapping):
        return dict(parameters)
    if isinstance(parameters, Sequence) and not isinstance(parameters, str):
        return list(parameters)
    return parameters


def _signature(conn: Any, schema: str) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for sql in _SIGNATURE_SQL:
        for row in conn.execute(sql, {"schema": schema}).fetchall():
            rows.append(tuple(str(v).replace(f"{schema}.", "<schema>.") for v in row))
    rows.append(tuple(r[0] for r in conn.execute(
        f'SELECT version_num FROM "{schema}".alembic_version').fetchall()))
    return sorted(rows)
