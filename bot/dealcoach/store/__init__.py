"""The review log: SQLAlchemy 2 models, engine factory, unit of work and repositories.

The only package with SQL. Public API: `Store`, `AsyncStore`, `UnitOfWork` (store.uow),
`make_engine`, `make_async_engine`, `migrate`, `downgrade` (store.engine), the models
(store.models) and the repositories reached through a unit of work.
"""

from dealcoach.store.engine import downgrade, make_async_engine, make_engine, migrate
from dealcoach.store.uow import AsyncStore, Store, UnitOfWork

__all__ = [
    "AsyncStore",
    "Store",
    "UnitOfWork",
    "downgrade",
    "make_async_engine",
    "make_engine",
    "migrate",
]
