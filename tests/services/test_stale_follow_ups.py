"""A follow-up its page no longer calls for is not kept, on every platform (the service
decides, not only Slack's modal): "Update review" that moves the margin from below cost to
healthy drops the strategic reason and the renegotiation answer, and moving it back asks
them again."""

from __future__ import annotations

from tests.services.conftest import ANN, FULL_ANSWERS

from dealcoach.services.reviews import ReviewService

MARGIN, REASON, ROOM = "benefit.margin", "benefit.strategic_reason", "benefit.renegotiable"
BELOW_COST = {**FULL_ANSWERS, MARGIN: "below_cost", REASON: "A door opener", ROOM: "no"}


def _walk(service: ReviewService, review_id: int, answers: dict[str, object], key: str) -> None:
    view = service.get(ANN, review_id)
    while view.show is not None:
        qids = view.show.question_ids
        saved = service.save_step(ANN, review_id, {q: answers.get(q) for q in qids}, key, qids)
        view = saved.review


def _benefit_page(service: ReviewService, review_id: int) -> list[str]:
    view = service.get(ANN, review_id)
    while view.show is not None and view.show.round != "benefit":
        qids = view.show.question_ids
        values = {q: view.answers.get(q) for q in qids}
        view = service.save_step(ANN, review_id, values, "x", qids).review
    assert view.show is not None
    return view.show.question_ids


def test_update_review_drops_follow_ups_the_new_margin_does_not_ask(
    service: ReviewService,
) -> None:
    first = service.start(ANN, "Acme rollout")
    _walk(service, first.review_id, BELOW_COST, "k1")
    done = service.get(ANN, first.review_id)
    assert done.status == "completed" and done.answers[REASON] == "A door opener"

    again = service.reopen(ANN, first.review_id)
    shown = _benefit_page(service, again.review_id)
    assert {REASON, ROOM} <= set(shown)  # the page as it was, follow-ups included
    healthy = {q: again.answers.get(q) for q in shown} | {MARGIN: "healthy"}
    saved = service.save_step(ANN, again.review_id, healthy, "k2", shown)
    stored = saved.review.answers
    assert stored[MARGIN] == "healthy" and REASON not in stored and ROOM not in stored
    assert service.get(ANN, again.review_id).answers.keys() == stored.keys()  # as in the db

    # Back to below cost on a page without its follow-ups: the machine asks them again.
    third = service.reopen(ANN, again.review_id) if saved.completed else again
    shown = _benefit_page(service, third.review_id)
    plain = [q for q in shown if q not in (REASON, ROOM)]
    back = {q: service.get(ANN, third.review_id).answers.get(q) for q in plain}
    back[MARGIN] = "below_cost"
    view = service.save_step(ANN, third.review_id, back, "k3", plain).review
    assert view.show is not None and {REASON, ROOM} <= set(view.show.question_ids)
