"""Unit of work: one session, one transaction, the repositories on top.

Sync::

    store = Store(url)
    with store.unit_of_work() as uow:
        person = uow.people.get_or_create(workspace, "U1")
        uow.commit()              # explicit; leaving the block without it rolls back

    result = store.run(fn, *args)  # fn(uow, *args) in one transaction, committed on success

Async (the Slack/Teams server): the *same* sync function runs, so query logic is written
once::

    astore = AsyncStore(url)
    result = await astore.run(fn, *args)

On PostgreSQL it runs in `AsyncSession.run_sync` (async psycopg). On a SQLite file it runs
whole in one worker thread on a synchronous pysqlite engine: one thread hop per transaction
instead of one per driver call through aiosqlite (SQLite has one writer at a time anyway, so
one thread serves every transaction, in arrival order).

Functions given to `run` must return plain data (not ORM objects that lazy-load later).
Database outages and a missing schema surface as `dealcoach.errors.StoreUnavailable`.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy import Engine, exc, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, sessionmaker

from dealcoach.store.engine import (
    is_sqlite,
    is_sqlite_file,
    make_async_engine,
    make_engine,
    migrate,
    store_errors,
    translate_error,
)
from dealcoach.store.repositories import (
    DealRepo,
    PersonRepo,
    ReportingRepo,
    ReviewRepo,
    WorkspaceRepo,
)

P = ParamSpec("P")
T = TypeVar("T")


class UnitOfWork:
    """One transaction and the repositories bound to it."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.workspaces = WorkspaceRepo(session)
        self.people = PersonRepo(session)
        self.reporting = ReportingRepo(session)
        self.deals = DealRepo(session)
        self.reviews = ReviewRepo(session)

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()

    def flush(self) -> None:
        self.session.flush()


class Store:
    """The synchronous store: an engine and units of work on it."""

    def __init__(self, url: str, *, engine: Engine | None = None) -> None:
        self.url = url
        self.engine = engine if engine is not None else make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.url)

    @contextmanager
    def unit_of_work(self) -> Iterator[UnitOfWork]:
        with store_errors(), self._sessions() as session:
            uow = UnitOfWork(session)
            try:
                yield uow
            finally:
                # Anything not committed explicitly is rolled back.
                session.rollback()

    def run(
        self, fn: Callable[Concatenate[UnitOfWork, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """`fn(uow, *args, **kwargs)` in one transaction, committed when it returns."""
        with self.unit_of_work() as uow:
            result = fn(uow, *args, **kwargs)
            uow.commit()
            return result

    def migrate(self, revision: str = "head") -> None:
        migrate(self.url, revision)

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except exc.SQLAlchemyError:
            return False

    def dispose(self) -> None:
        self.engine.dispose()


class AsyncStore:
    """The asyncio store: runs the same sync unit-of-work functions (see the module doc)."""

    def __init__(self, url: str, *, engine: AsyncEngine | None = None) -> None:
        self.url = url
        self.engine = engine if engine is not None else make_async_engine(url)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # SQLite file: a synchronous engine on the same file and one worker thread that runs
        # each transaction whole. Its queue is first come, first served, like the lock below.
        self._worker: ThreadPoolExecutor | None = None
        self._sync_engine: Engine | None = None
        self._sync_sessions: sessionmaker[Session] | None = None
        if engine is None and is_sqlite_file(url):
            self._sync_engine = make_engine(url)
            self._sync_sessions = sessionmaker(self._sync_engine, expire_on_commit=False)
            self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dealcoach-sqlite")
        # SQLite has one writer at a time and every transaction here is BEGIN IMMEDIATE.
        # Left to SQLite, waiting transactions poll its busy handler with growing sleeps and
        # the unlucky ones starve past Slack's 3 s; queueing them on a FIFO lock in the
        # process serves them in arrival order without sleeping. (Other processes on the
        # same file still meet the busy timeout.)
        self._serial: asyncio.Lock | None = (
            asyncio.Lock()
            if self.engine.dialect.name == "sqlite" and self._worker is None
            else None
        )

    @property
    def sync_engine(self) -> Engine:
        """The engine the unit-of-work functions run on (for event listeners)."""
        return self._sync_engine if self._sync_engine is not None else self.engine.sync_engine

    @asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        if self._serial is None:
            yield
            return
        async with self._serial:
            yield

    def _run_here(
        self, fn: Callable[Concatenate[UnitOfWork, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """In the worker thread: `fn` in one transaction on the synchronous engine."""
        assert self._sync_sessions is not None
        with self._sync_sessions() as session:
            try:
                uow = UnitOfWork(session)
                result = fn(uow, *args, **kwargs)
                uow.commit()
                return result
            finally:
                session.rollback()

    async def run(
        self, fn: Callable[Concatenate[UnitOfWork, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """`fn(uow, *args, **kwargs)` in one transaction, committed when it returns (rolled
        back if it raises)."""

        def call(session: Session) -> T:
            uow = UnitOfWork(session)
            result = fn(uow, *args, **kwargs)
            uow.commit()
            return result

        session: AsyncSession
        try:
            if self._worker is not None:
                loop = asyncio.get_running_loop()
                return await loop.run_in_executor(
                    self._worker, functools.partial(self._run_here, fn, *args, **kwargs)
                )
            async with self._turn(), self._sessions() as session:
                try:
                    return await session.run_sync(call)
                finally:
                    await session.rollback()
        except exc.SQLAlchemyError as err:
            mapped = translate_error(err)
            if mapped is None:
                raise
            raise mapped from err

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except exc.SQLAlchemyError:
            return False

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self._worker is not None and self._sync_engine is not None:
            # Its connections belong to the worker thread: close them there.
            await asyncio.get_running_loop().run_in_executor(
                self._worker, self._sync_engine.dispose
            )
