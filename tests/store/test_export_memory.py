"""Export streams: peak memory does not grow with the number of reviews."""

from __future__ import annotations

import io
import tracemalloc
from typing import Any

from sqlalchemy import insert

from dealcoach.services.export import write_export
from dealcoach.store import Store
from dealcoach.store.models import Answer, Assessment, Review
from dealcoach.store.types import utcnow

from .conftest import make_person


class _CountingSink(io.TextIOBase):
    def __init__(self) -> None:
        self.chars = 0

    def write(self, s: str) -> int:
        self.chars += len(s)
        return len(s)


def _seed(store: Store, start: int, count: int) -> None:
    now = utcnow()
    with store.unit_of_work() as uow:
        person = make_person(uow, "U1")
        uow.flush()
        reviews: list[dict[str, Any]] = [
            {
                "id": start + i,
                "workspace_id": person.workspace_id,
                "person_id": person.id,
                "platform": "slack",
                "status": "completed",
                "locale": "en",
                "quadrant": "win_win",
                "recommendation": "pursue",
                "started_at": now,
                "updated_at": now,
                "completed_at": now,
            }
            for i in range(count)
        ]
        uow.session.execute(insert(Review), reviews)
        uow.session.execute(
            insert(Answer),
            [
                {"review_id": r["id"], "question_id": q, "value": f"answer {q}", "answered_at": now}
                for r in reviews
                for q in ("deal.name", "fit.need", "benefit.we_win")
            ],
        )
        uow.session.execute(
            insert(Assessment),
            [
                {
                    "review_id": r["id"],
                    "quadrant": "win_win",
                    "recommendation": "pursue",
                    "flags": [],
                    "data": {"next_steps": ["call Carla"] * 3},
                    "advice_text": "Go for it. " * 40,
                    "created_at": now,
                }
                for r in reviews
            ],
        )
        uow.commit()


def _peak(store: Store) -> tuple[int, int]:
    sink = _CountingSink()
    tracemalloc.start()
    try:
        count = write_export(store, sink, "jsonl")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return count, peak


def test_export_peak_memory_stays_flat_as_the_log_grows(store: Store) -> None:
    # Start past two batches (a batch of 500 and the one being fetched can overlap), so
    # both measurements are in the steady state: then four times the rows must not grow
    # the peak (a list of all rows would quadruple it).
    _seed(store, 1, 2000)
    small_count, small_peak = _peak(store)
    _seed(store, 10_001, 6000)
    big_count, big_peak = _peak(store)
    assert (small_count, big_count) == (2000, 8000)
    assert big_peak < small_peak * 1.25, (small_peak, big_peak)
