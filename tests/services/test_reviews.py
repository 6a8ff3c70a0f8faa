"""ReviewService on SQLite and PostgreSQL: the review lifecycle every adapter relies on."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from dealcoach.errors import Conflict, Forbidden, InputError, InvalidAnswer, NotFound
from dealcoach.services.actors import Actor
from dealcoach.services.reviews import AsyncReviewService, ReviewService
from dealcoach.store import AsyncStore, Store
from dealcoach.store.models import Assessment, Review

from .conftest import ANN, BOB, FULL_ANSWERS, answer_all


def test_a_review_is_answered_step_by_step_and_completed(service: ReviewService) -> None:
    view = service.start(ANN)
    assert (view.status, view.locale, view.deal_name) == ("draft", "en", None)
    assert view.next_step is not None and view.next_step.round == "fit"
    rounds = []
    while view.next_step is not None:
        rounds.append(view.next_step.round)
        step = {qid: FULL_ANSWERS.get(qid) for qid in view.next_step.question_ids}
        view = service.save_answers(ANN, view.review_id, step)
    assert rounds == ["fit", "agenda", "benefit"]  # the warning signals close the last page
    assert view.ready and view.deal_name == "Acme rollout"
    assert view.answers["deal.value"] == 120000.0  # validated and normalised by the coach

    done = service.complete(ANN, view.review_id, "slack:V1")
    assert done.created is True
    assert (done.assessment.quadrant, done.assessment.recommendation) == ("win_win", "pursue")
    assert "Acme rollout" in done.advice_text and done.advice.deal_name == "Acme rollout"
    again = service.complete(ANN, view.review_id, "slack:V1")
    assert again.created is False
    assert again.assessment == done.assessment and again.advice_text == done.advice_text
    assert service.get(ANN, view.review_id).status == "completed"


def test_twenty_parallel_completions_create_one_review(
    service: ReviewService, store: Store
) -> None:
    view = service.start(ANN)
    answer_all(service, ANN, view.review_id)
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(
            pool.map(lambda _: service.complete(ANN, view.review_id, "retry-key"), range(20))
        )
    assert [r.created for r in results].count(True) == 1
    assert {r.assessment.recommendation for r in results} == {"pursue"}
    with store.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Assessment)) == 1
        assert uow.reviews.count(status="completed") == 1


def test_answers_are_kept_when_a_later_step_is_saved(service: ReviewService) -> None:
    view = service.start(ANN, deal_name="Globex")
    service.save_answers(ANN, view.review_id, {"deal.stage": "proposal"})
    service.save_answers(ANN, view.review_id, {"fit.need": "speed"})
    got = service.find_draft(ANN)
    assert got is not None and got.review_id == view.review_id
    assert got.answers == {"deal.name": "Globex", "deal.stage": "proposal", "fit.need": "speed"}


def test_invalid_answers_are_refused_and_nothing_is_stored(service: ReviewService) -> None:
    view = service.start(ANN)
    with pytest.raises(InvalidAnswer, match=r"deal\.stage"):
        service.save_answers(ANN, view.review_id, {"deal.name": "X", "deal.stage": "maybe"})
    assert service.get(ANN, view.review_id).answers == {}


def test_someone_elses_review_is_forbidden_and_unknown_ids_not_found(
    service: ReviewService,
) -> None:
    view = service.start(ANN)
    service.start(BOB)  # Bob exists in the same workspace
    outsider = Actor(platform="teams", workspace_id="T1", user_id="U_ANN")  # other platform
    for actor in (BOB, outsider):
        with pytest.raises(Forbidden):
            service.get(actor, view.review_id)
        with pytest.raises(Forbidden):
            service.save_answers(actor, view.review_id, {"fit.need": "x"})
        with pytest.raises(Forbidden):
            service.complete(actor, view.review_id)
        with pytest.raises(Forbidden):
            service.reopen(actor, view.review_id)
        with pytest.raises(Forbidden):
            service.record_outcome(actor, view.review_id, "won")
    with pytest.raises(NotFound):
        service.get(ANN, 999_999)
    assert service.find_draft(outsider) is None
    assert [r.review_id for r in service.history(BOB)] != [view.review_id]


def test_completing_without_a_deal_name_is_refused(service: ReviewService) -> None:
    view = service.start(ANN)
    with pytest.raises(InvalidAnswer, match=r"deal\.name"):
        service.complete(ANN, view.review_id)
    assert service.get(ANN, view.review_id).status == "draft"


def test_completed_reviews_are_updated_through_reopen(service: ReviewService) -> None:
    first = service.start(ANN)
    answer_all(service, ANN, first.review_id)
    service.complete(ANN, first.review_id)
    with pytest.raises(Conflict):
        service.save_answers(ANN, first.review_id, {"fit.need": "changed"})

    draft = service.reopen(ANN, first.review_id)
    assert draft.review_id != first.review_id and draft.status == "draft"
    assert draft.reopened_from == first.review_id
    assert draft.answers["deal.name"] == "Acme rollout" and draft.ready
    assert service.reopen(ANN, first.review_id).review_id == draft.review_id  # no duplicate

    service.save_answers(ANN, draft.review_id, {"benefit.customer_ready": "no"})
    second = service.complete(ANN, draft.review_id)
    assert second.assessment.recommendation == "walk_away"
    # Deal history: the advice says what changed since the first review of this deal.
    assert second.advice.changes is not None
    assert second.advice.changes.recommendation_before == "pursue"
    assert second.advice.changes.verdict_changed is True


def test_history_outcome_and_locale(service: ReviewService) -> None:
    one = service.start(ANN, deal_name="One")
    two = service.start(ANN, deal_name="Two")
    answer_all(service, ANN, one.review_id)
    service.complete(ANN, one.review_id)
    history = service.history(ANN)
    assert [h.review_id for h in history] == [one.review_id, two.review_id]
    assert [h.review_id for h in service.history(ANN, status="completed")] == [one.review_id]
    assert service.history(BOB) == []

    summary = service.record_outcome(ANN, one.review_id, "won")
    assert summary.outcome == "won" and summary.deal_name == "One"
    with pytest.raises(InputError):
        service.record_outcome(ANN, one.review_id, "maybe")


def test_an_outcome_is_refused_on_a_draft_which_stays_a_draft(service: ReviewService) -> None:
    draft = service.start(ANN, deal_name="Draft deal")
    with pytest.raises(Conflict):
        service.record_outcome(ANN, draft.review_id, "won")
    assert service.get(ANN, draft.review_id).status == "draft"
    assert [h.outcome for h in service.history(ANN)] in (["open"], [None])

    assert service.set_locale(ANN, "nl-NL") == "nl"
    assert service.start(ANN).locale == "nl"
    with pytest.raises(InputError):
        service.set_locale(ANN, "fr")


def test_the_platform_locale_is_used_until_the_person_chooses(service: ReviewService) -> None:
    dutch = Actor(platform="teams", workspace_id="tenant", user_id="aad-1", locale="nl-BE")
    assert service.start(dutch).locale == "nl"
    service.set_locale(dutch, "en")
    assert service.start(dutch).locale == "en"


def test_a_changed_deal_name_moves_the_draft_to_that_deal(
    service: ReviewService, store: Store
) -> None:
    view = service.start(ANN, deal_name="Typo Corp")
    view = service.save_answers(ANN, view.review_id, {"deal.name": "Tipo Corp"})
    assert view.deal_name == "Tipo Corp"
    with store.unit_of_work() as uow:
        review = uow.session.get(Review, view.review_id)
        assert review is not None and review.deal is not None
        assert review.deal.name == "Tipo Corp"


async def test_the_async_service_runs_the_same_use_cases(database_url: str, store: Store) -> None:
    astore = AsyncStore(database_url)
    service = AsyncReviewService(astore)
    try:
        view = await service.start(ANN, deal_name="Async deal")
        while view.next_step is not None:
            step = {qid: FULL_ANSWERS.get(qid) for qid in view.next_step.question_ids}
            step.pop("deal.name", None)
            view = await service.save_answers(ANN, view.review_id, step)
        done = await service.complete(ANN, view.review_id, "k")
        assert done.created and done.deal_name == "Async deal"
        assert (await service.complete(ANN, view.review_id, "k")).created is False
        with pytest.raises(Forbidden):
            await service.get(BOB, view.review_id)
        assert [h.review_id for h in await service.history(ANN)] == [view.review_id]
    finally:
        await astore.dispose()
    # The sync path sees what the async path wrote.
    assert ReviewService(store).get(ANN, view.review_id).status == "completed"
