"""The one-transaction forms of the review flow (issue 14) keep the review contract."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.services.conftest import ANN, answer_all

from dealcoach.errors import Conflict
from dealcoach.services import reviews as r
from dealcoach.services.reviews import ReviewService
from dealcoach.store import Store, migrate


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    migrate(database_url, "head")
    s = Store(database_url)
    try:
        yield s
    finally:
        s.dispose()


def _last_step(store: Store, review_id: int, key: str) -> r.SavedStep:
    """Every question answered, then the last round's answer submitted as a modal step with
    `key` (nothing left to show after it)."""
    answer_all(ReviewService(store), ANN, review_id)
    return store.run(
        r.save_step,
        ANN,
        review_id,
        {"signals.silent_after_invite": "no"},
        key,
        ["signals.silent_after_invite"],
    )


def test_the_last_step_saves_and_completes_in_one_go(store: Store) -> None:
    opened = store.run(r.open_or_start, ANN, "Acme rollout")
    assert opened.draft is None and opened.review is not None
    saved = _last_step(store, opened.review.review_id, "k-1")
    assert saved.completed is not None and saved.completed.created
    # /dealcoach again: nothing open to resume, a new review
    again = store.run(r.open_or_start, ANN, "Other deal")
    assert again.draft is None and again.review is not None
    # and with that one open, it is offered instead of a third
    third = store.run(r.open_or_start, ANN, "Third deal")
    assert third.review is None and third.draft is not None
    assert third.draft.review_id == again.review.review_id


def test_a_completion_key_of_another_review_keeps_the_step_and_is_a_conflict(
    store: Store,
) -> None:
    service = ReviewService(store)
    first = store.run(r.open_or_start, ANN, "Acme rollout").review
    assert first is not None
    assert _last_step(store, first.review_id, "k-same").completed is not None
    second = service.start(ANN, "Globex")
    saved = _last_step(store, second.review_id, "k-same")
    # not completed with the step, but the step is saved
    assert saved.completed is None
    assert service.get(ANN, second.review_id).answers["signals.silent_after_invite"] == "no"
    with pytest.raises(Conflict, match="already used"):
        service.complete(ANN, second.review_id, "k-same")
    assert service.get(ANN, second.review_id).status == "draft"
