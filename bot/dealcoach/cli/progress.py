"""What a long command shows while it works: a progress bar on stderr (only on a terminal,
never in a pipe, a log file or CI), counts and the time it took."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click


def stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed
        return False


@contextmanager
def progress(length: int, label: str) -> Iterator[Callable[[], None]]:
    """A progress bar on stderr while the block runs, only when stderr is a terminal;
    yields `tick()`, called once per item done."""
    if not stderr_is_terminal() or length <= 0:
        yield lambda: None
        return
    with click.progressbar(length=length, label=label, file=sys.stderr) as bar:
        yield lambda: bar.update(1)


def plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def took(started: float) -> str:
    """The time since `started` (a `time.monotonic()` reading), e.g. `1.3 s` or `42 s`."""
    seconds = time.monotonic() - started
    return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:,.0f} s"
