"""The service decides which step an adapter shows (issue 13): `ReviewView.show`, with its
round number and whether it is the first / the last; a resubmitted completed review comes
back as its advice; answers that need fixing come back with the step to show again."""

from __future__ import annotations

import pytest
from tests.services.conftest import ANN, BOB, FULL_ANSWERS

from dealcoach.errors import Conflict, Forbidden, InvalidAnswers
from dealcoach.services.reviews import InvalidStep, ReviewService


def _submit(service: ReviewService, review_id: int, key: str = "k") -> list[str]:
    """Submit every step shown until nothing is left; the rounds shown, in order."""
    rounds: list[str] = []
    view = service.get(ANN, review_id)
    while view.show is not None:
        show = view.show
        rounds.append(show.round)
        qids = show.question_ids
        saved = service.save_step(ANN, review_id, {q: FULL_ANSWERS.get(q) for q in qids}, key, qids)
        assert (saved.completed is not None) == show.is_last
        view = saved.review
    return rounds


def test_a_new_review_shows_the_machines_steps_numbered_and_the_last_one_finishes(
    service: ReviewService,
) -> None:
    view = service.start(ANN, "Acme rollout")
    assert view.show is not None and view.next_step is not None
    assert view.show.step == view.next_step
    assert view.show.number == 1 and view.show.is_first and not view.show.is_last
    assert _submit(service, view.review_id) == ["fit", "agenda", "benefit", "signals"]
    assert service.get(ANN, view.review_id).status == "completed"


def test_update_review_walks_every_round_again_from_the_first(service: ReviewService) -> None:
    view = service.start(ANN, "Acme rollout")
    _submit(service, view.review_id)
    draft = service.reopen(ANN, view.review_id)
    assert draft.next_step is None  # every answer kept
    assert draft.show is not None and draft.show.round == "fit" and draft.show.is_first
    assert _submit(service, draft.review_id, "k2") == ["fit", "agenda", "benefit", "signals"]


def test_a_resubmitted_completed_review_is_its_advice_again_not_a_conflict(
    service: ReviewService,
) -> None:
    view = service.start(ANN, "Acme rollout")
    _submit(service, view.review_id)
    again = service.save_step(ANN, view.review_id, {"signals.silent_after_invite": "yes"}, "k")
    assert again.completed is not None and not again.completed.created
    assert again.review.status == "completed" and again.review.show is None
    assert service.get(ANN, view.review_id).answers["signals.silent_after_invite"] == "no"
    with pytest.raises(Forbidden):
        service.save_step(BOB, view.review_id, {}, "k")


def test_invalid_answers_carry_the_locale_and_the_step_to_show_again(
    service: ReviewService,
) -> None:
    view = service.start(ANN, "Acme rollout")
    assert view.show is not None
    qids = view.show.question_ids
    with pytest.raises(InvalidStep) as caught:
        service.save_step(ANN, view.review_id, {"deal.value": "about a lot"}, "k", qids)
    err = caught.value
    assert isinstance(err, InvalidAnswers) and set(err.errors) == {"deal.value"}
    assert err.locale == "en"
    assert err.show is not None and err.show.question_ids == qids and not err.show.is_last
    assert "deal.value" not in service.get(ANN, view.review_id).answers


def test_add_person_shows_the_agenda_with_one_more_and_saves_nothing(
    service: ReviewService,
) -> None:
    view = service.start(ANN, "Acme rollout")
    assert view.show is not None
    qids = view.show.question_ids
    saved = service.save_step(
        ANN, view.review_id, {q: FULL_ANSWERS.get(q) for q in qids}, "k", qids
    )
    assert saved.review.show is not None and saved.review.show.round == "agenda"
    assert saved.review.show.step.people == 1 and saved.review.show.step.can_add_person
    before = service.get(ANN, view.review_id).answers
    added = service.add_person(ANN, view.review_id, 2)
    assert added.show is not None and added.show.round == "agenda"
    assert added.show.step.people == 2 and added.show.number == 2
    assert "agenda.2.who" in added.show.question_ids
    assert service.get(ANN, view.review_id).answers == before
    most = service.add_person(ANN, view.review_id, 9)
    assert most.show is not None and most.show.step.people == 6
    assert not most.show.step.can_add_person
    with pytest.raises(Forbidden):
        service.add_person(BOB, view.review_id, 2)
    _submit(service, view.review_id)
    with pytest.raises(Conflict):
        service.add_person(ANN, view.review_id, 2)
