"""The composition root: settings → store → services (→ adapters, which build on these).

Nothing is created at import time: `build_services(settings)` makes the engines and
services when a command or the server starts. The async store (the asyncio server's path)
is made on first use, so CLI commands never open an async engine.
"""

from __future__ import annotations

from dealcoach.config import Settings, get_settings
from dealcoach.services.container import Services
from dealcoach.services.reviews import ReviewService
from dealcoach.store.engine import current_revision, head_revision, is_sqlite, migrate
from dealcoach.store.uow import Store

__all__ = ["Services", "build_services", "ensure_schema"]


def ensure_schema(url: str) -> bool:
    """Bring an embedded SQLite database to the latest revision (so the one-command quick
    start works); returns True if it migrated. PostgreSQL is never migrated implicitly:
    ops run `dealcoach db upgrade` (a deploy step / init container)."""
    if not is_sqlite(url):
        return False
    if current_revision(url) == head_revision():
        return False
    migrate(url, "head")
    return True


def build_services(settings: Settings | None = None, *, migrate_sqlite: bool = True) -> Services:
    settings = settings or get_settings()
    if migrate_sqlite:
        ensure_schema(settings.database_url)
    store = Store(settings.database_url)
    return Services(
        settings=settings,
        store=store,
        reviews=ReviewService(store, default_locale=settings.dealcoach_lang),
    )
