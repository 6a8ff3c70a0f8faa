"""The seams adapters used to build themselves: the language to answer someone in before a
review exists, sharing a completed review with the manager, and a Teams chat's reference."""

from __future__ import annotations

import pytest

from dealcoach.errors import Conflict, Forbidden, NotFound
from dealcoach.services.actors import Actor
from dealcoach.services.people import AsyncPeopleService, PeopleService, resolve_person
from dealcoach.services.reviews import AsyncReviewService, ReviewService
from dealcoach.store import AsyncStore, Store

from .conftest import ANN, BOB, answer_all

MARK = Actor(platform="slack", workspace_id="T1", user_id="U_MARK", display_name="Mark")


def _assign(store: Store, manager: Actor, member: Actor) -> None:
    with store.unit_of_work() as uow:
        boss = resolve_person(uow, manager)
        rep = resolve_person(uow, member)
        uow.reporting.assign(boss, rep)
        uow.commit()


def _completed(service: ReviewService, actor: Actor = ANN) -> int:
    view = service.start(actor)
    answer_all(service, actor, view.review_id)
    service.complete(actor, view.review_id, f"k{view.review_id}")
    return view.review_id


def test_locale_is_the_persons_choice_else_the_platforms_else_the_default(
    store: Store,
) -> None:
    dutch_default = ReviewService(store, default_locale="nl")
    assert dutch_default.locale_for(ANN) == "nl"  # nothing known: DEALCOACH_LANG
    # (the workspace's default, set on first sight, sits between the platform and this)
    slack_en = Actor(platform="slack", workspace_id="T2", user_id="U_EN", locale="en-GB")
    assert dutch_default.locale_for(slack_en) == "en"  # the Slack user locale, mapped
    dutch_default.set_locale(slack_en, "nl")
    assert dutch_default.locale_for(slack_en) == "nl"  # their own choice wins
    service = ReviewService(store)
    unknown = Actor(platform="slack", workspace_id="T3", user_id="U_FR", locale="fr-FR")
    assert service.locale_for(unknown) == "en"  # a language we do not speak: the default


def test_share_names_the_manager_with_their_locale_and_the_advice(
    service: ReviewService, store: Store
) -> None:
    review_id = _completed(service)
    _assign(store, MARK, ANN)
    service.set_locale(MARK, "nl")
    shared = service.share(ANN, review_id)
    assert shared.review_id == review_id and shared.locale == "en"
    assert shared.deal_name == "Acme rollout" and shared.advice.deal_name == "Acme rollout"
    assert shared.assessment.recommendation == "pursue"
    assert shared.manager is not None
    assert (shared.manager.platform, shared.manager.workspace_id) == ("slack", "T1")
    assert (shared.manager.user_id, shared.manager.locale) == ("U_MARK", "nl")
    assert shared.manager_user_id == "U_MARK"
    assert shared.manager.conversation_ref is None


def test_share_without_a_manager_says_so(service: ReviewService) -> None:
    review_id = _completed(service)
    shared = service.share(ANN, review_id)
    assert shared.manager is None and shared.manager_user_id is None
    assert shared.advice.deal_name == "Acme rollout"  # the advice is still there to show


def test_share_refuses_drafts_strangers_and_unknown_ids(service: ReviewService) -> None:
    draft = service.start(ANN)
    with pytest.raises(Conflict, match="finish the review first"):
        service.share(ANN, draft.review_id)
    assert service.get(ANN, draft.review_id).status == "draft"  # sharing did not complete it
    review_id = _completed(service)
    with pytest.raises(Forbidden):
        service.share(BOB, review_id)
    with pytest.raises(NotFound):
        service.share(ANN, review_id + 1000)


def test_a_teams_chat_reference_is_remembered_and_reaches_the_share(
    service: ReviewService, store: Store
) -> None:
    rita = Actor(platform="teams", workspace_id="tenant", user_id="aad-rita", locale="nl")
    boss = Actor(platform="teams", workspace_id="tenant", user_id="aad-boss")
    people = PeopleService(store)
    ref = {"conversation": {"id": "a:1"}, "serviceUrl": "http://127.0.0.1:1/"}
    assert people.remember_conversation(boss, ref) == "en"
    assert people.remember_conversation(boss, None) == "en"  # None keeps the stored one
    assert people.remember_conversation(rita, None) == "nl"
    _assign(store, boss, rita)
    review_id = _completed(service, rita)
    shared = service.share(rita, review_id)
    assert shared.locale == "nl"
    assert shared.manager is not None and shared.manager.conversation_ref == ref


async def test_the_async_twins_answer_the_same(database_url: str, store: Store) -> None:
    review_id = _completed(ReviewService(store))
    _assign(store, MARK, ANN)
    astore = AsyncStore(database_url)
    try:
        service = AsyncReviewService(astore, default_locale="nl")
        newcomer = Actor(platform="slack", workspace_id="T_NEW", user_id="U_NEW")
        assert await service.locale_for(newcomer) == "nl"
        assert (await service.share(ANN, review_id)).manager_user_id == "U_MARK"
        ref = {"conversation": {"id": "a:2"}}
        assert await AsyncPeopleService(astore).remember_conversation(MARK, ref) == "en"
    finally:
        await astore.dispose()
