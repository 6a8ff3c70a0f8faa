"""Count what one engine sends to the database: statements, transactions, savepoints,
connection checkouts — with SQLAlchemy's event hooks, so nothing in the app changes."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event

_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK")


@dataclass
class Tally:
    statements: list[str] = field(default_factory=list)
    begins: int = 0
    commits: int = 0
    rollbacks: int = 0
    savepoints: int = 0
    checkouts: int = 0

    def summary(self) -> str:
        kinds = Counter(_kind(s) for s in self.statements)
        top = ", ".join(f"{k} ×{n}" for k, n in kinds.most_common(12))
        return (
            f"{len(self.statements)} statements in {self.begins} transactions "
            f"({self.commits} commits, {self.rollbacks} rollbacks, {self.savepoints} "
            f"savepoints, {self.checkouts} checkouts): {top}"
        )


def _kind(sql: str) -> str:
    words = sql.split()
    if not words:
        return "?"
    verb = words[0].upper()
    table = ""
    upper = [w.upper() for w in words]
    for marker in ("FROM", "INTO", "UPDATE"):
        if marker in upper[: 60 if marker == "FROM" else 4]:
            idx = upper.index(marker)
            if idx + 1 < len(words):
                table = words[idx + 1].strip('"(').split("(")[0]
                break
    return f"{verb} {table}".strip()


class SqlCounter:
    """Listens on a (sync) Engine — for an AsyncEngine pass `engine.sync_engine`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self.tally = Tally()
        self.last_event = time.monotonic()
        self._hooks: list[tuple[Any, str, Any]] = []
        self._on(engine, "before_cursor_execute", self._execute)
        self._on(engine, "begin", self._begin)
        self._on(engine, "commit", self._commit)
        self._on(engine, "rollback", self._rollback)
        self._on(engine, "savepoint", self._savepoint)
        self._on(engine.pool, "checkout", self._checkout)

    def _on(self, target: Any, name: str, fn: Any) -> None:
        event.listen(target, name, fn)
        self._hooks.append((target, name, fn))

    def close(self) -> None:
        for target, name, fn in self._hooks:
            event.remove(target, name, fn)
        self._hooks.clear()

    def _touch(self) -> None:
        self.last_event = time.monotonic()

    def _execute(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        text = " ".join(statement.split())
        with self._lock:
            self._touch()
            # The transaction's own BEGIN (SQLite: BEGIN IMMEDIATE from the begin hook) is
            # counted as a transaction, not a statement.
            if text.upper().startswith(_CONTROL):
                return
            self.tally.statements.append(text)

    def _begin(self, _conn: Any) -> None:
        with self._lock:
            self._touch()
            self.tally.begins += 1

    def _commit(self, _conn: Any) -> None:
        with self._lock:
            self._touch()
            self.tally.commits += 1

    def _rollback(self, _conn: Any) -> None:
        with self._lock:
            self._touch()
            self.tally.rollbacks += 1

    def _savepoint(self, _conn: Any, _name: Any) -> None:
        with self._lock:
            self._touch()
            self.tally.savepoints += 1

    def _checkout(self, *_args: Any) -> None:
        with self._lock:
            self.tally.checkouts += 1

    def take(self) -> Tally:
        """What was counted since the last take (and start counting afresh)."""
        with self._lock:
            out, self.tally = self.tally, Tally()
            return out

    def wait_quiet(self, seconds: float = 0.4, timeout: float = 10.0) -> None:
        """Until nothing was sent for `seconds` (work after the ack: advice DM, App Home)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if time.monotonic() - self.last_event >= seconds:
                return
            time.sleep(0.05)
