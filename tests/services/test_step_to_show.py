"""The service decides which step an adapter shows (issue 13): `ReviewView.show`, with its
page number and whether it is the first / the last; a resubmitted completed review comes
back as its advice; answers that need fixing come back with the step to show again. A page
may hold more than one round: the warning signals close the mutual-benefit page (3 pages)."""

from __future__ import annotations

import pytest
from tests.services.conftest import ANN, BOB, FULL_ANSWERS

from dealcoach.errors import Conflict, Forbidden, InvalidAnswers
from dealcoach.services.reviews import InvalidStep, ReviewService


def _submit(service: ReviewService, review_id: int, key: str = "k") -> list[str]:
    """Submit every step shown until nothing is left; the rounds shown (each page's first
    round), in order; each page numbered by its place."""
    rounds: list[str] = []
    first = 1
    view = service.get(ANN, review_id)
    while view.show is not None:
        show = view.show
        rounds.append(show.round)
        first = first if rounds[1:] else show.number  # the page it started on
        assert show.number == first + len(rounds) - 1 and show.is_first == (show.number == 1)
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
    assert _submit(service, view.review_id) == ["fit", "agenda", "benefit"]
    assert service.get(ANN, view.review_id).status == "completed"


def test_update_review_walks_every_page_again_from_the_first(service: ReviewService) -> None:
    view = service.start(ANN, "Acme rollout")
    _submit(service, view.review_id)
    draft = service.reopen(ANN, view.review_id)
    assert draft.next_step is None  # every answer kept
    assert draft.show is not None and draft.show.round == "fit" and draft.show.is_first
    assert _submit(service, draft.review_id, "k2") == ["fit", "agenda", "benefit"]


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


def test_warning_signals_share_the_benefit_page(service: ReviewService) -> None:
    view = service.start(ANN, "Acme rollout")
    for _ in range(2):  # fit, agenda
        assert view.show is not None
        qids = view.show.question_ids
        view = service.save_step(
            ANN, view.review_id, {q: FULL_ANSWERS.get(q) for q in qids}, "k", qids
        ).review
    show = view.show
    assert show is not None and show.round == "benefit"
    assert (show.number, show.is_first, show.is_last) == (3, False, True)
    assert show.question_ids[-1] == "signals.silent_after_invite"
    assert show.step.rounds == ("benefit", "signals")


def test_revisit_does_not_show_signals_as_their_own_page(service: ReviewService) -> None:
    view = service.start(ANN, "Acme rollout")
    _submit(service, view.review_id)
    draft = service.reopen(ANN, view.review_id)
    shows = []
    while draft.show is not None:
        show = draft.show
        shows.append((show.number, show.step.rounds, show.is_last))
        qids = show.question_ids
        # the page submitted as shown: one save per page, the last one completes
        saved = service.save_step(
            ANN, draft.review_id, {q: draft.answers.get(q) for q in qids}, "k2", qids
        )
        assert (saved.completed is not None) == show.is_last
        draft = saved.review
    assert shows == [
        (1, ("fit",), False),
        (2, ("agenda",), False),
        (3, ("benefit", "signals"), True),
    ]


def test_a_page_submitted_by_its_signals_alone_goes_on_after_the_page(
    service: ReviewService,
) -> None:
    """An adapter naming only the signals question as shown (an older card, a Teams page of
    one field) still goes on after the whole page: never back to the benefit round."""
    view = service.start(ANN, "Acme rollout")
    _submit(service, view.review_id)
    draft = service.reopen(ANN, view.review_id)
    qid = "signals.silent_after_invite"
    saved = service.save_step(ANN, draft.review_id, {qid: "yes"}, "k3", [qid])
    assert saved.completed is not None and saved.review.show is None
    assert service.get(ANN, draft.review_id).answers[qid] == "yes"
