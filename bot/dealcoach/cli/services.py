"""The services a command works on, built through `bootstrap`.

Built on the settings (`cli.settings.load_settings`) when the command runs — an embedded
SQLite database is brought to the latest schema first — and closed when it is done.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Concatenate, ParamSpec, TypeVar

from dealcoach.bootstrap import Services, build_services
from dealcoach.cli.settings import load_settings
from dealcoach.config import Settings
from dealcoach.store.uow import UnitOfWork

P = ParamSpec("P")
T = TypeVar("T")


def open_services(settings: Settings | None = None) -> Services:
    """The services for a command on `settings` (default: the environment's); the caller
    closes them."""
    return build_services(settings if settings is not None else load_settings())


@contextmanager
def command_services(settings: Settings | None = None) -> Iterator[Services]:
    """`open_services` for the length of a `with` block."""
    services = open_services(settings)
    try:
        yield services
    finally:
        services.close()


def store_run(
    fn: Callable[Concatenate[UnitOfWork, P], T], *args: P.args, **kwargs: P.kwargs
) -> T:
    """`fn(uow, *args, **kwargs)` in one transaction on a command's own services."""
    with command_services() as services:
        return services.store.run(fn, *args, **kwargs)
