"""Growth per user, in the service both adapters use (issue #11 item 11): repeated starts of
one deal reuse its open draft, a person keeps at most MAX_OPEN_DRAFTS drafts, a review is
shared once (Slack and Teams), and `prune_drafts` also removes expired Slack OAuth states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

from dealcoach.errors import AlreadyShared, Conflict
from dealcoach.services.actors import Actor
from dealcoach.services.people import resolve_person
from dealcoach.services.privacy import prune_drafts
from dealcoach.services.reviews import MAX_OPEN_DRAFTS, ReviewService
from dealcoach.store import Store
from dealcoach.store.models import Deal, Review, slack_oauth_states

from .conftest import ANN, BOB, answer_all

RITA = Actor(platform="teams", workspace_id="tenant", user_id="aad-rita")
BOSS = Actor(platform="teams", workspace_id="tenant", user_id="aad-boss")


def _count(store: Store, model: type, **where: object) -> int:
    def run(uow: object) -> int:
        query = select(func.count()).select_from(model)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        return int(uow.session.scalar(query) or 0)  # type: ignore[attr-defined]

    return store.run(run)


def _assign(store: Store, manager: Actor, member: Actor) -> None:
    with store.unit_of_work() as uow:
        uow.reporting.assign(resolve_person(uow, manager), resolve_person(uow, member))
        uow.commit()


def test_starting_the_same_deal_again_returns_its_open_draft(
    service: ReviewService, store: Store
) -> None:
    first = service.start(RITA, "Acme rollout")  # Teams: `review Acme rollout`, 150 times
    service.save_answers(RITA, first.review_id, {"deal.account": "Acme"})
    again = [service.start(RITA, name) for name in ["Acme rollout", " acme ROLLOUT "] * 75]
    assert {v.review_id for v in again} == {first.review_id}
    assert again[-1].answers["deal.account"] == "Acme"  # nothing typed was lost
    assert _count(store, Review, status="draft") == 1
    assert _count(store, Deal) == 1
    # without a deal name: the open draft that has none yet
    bare = {service.start(ANN).review_id for _ in range(20)}
    assert len(bare) == 1


def test_a_person_keeps_at_most_a_handful_of_drafts_and_their_deals(
    service: ReviewService, store: Store
) -> None:
    ids = [service.start(ANN, f"Deal {i:03d}").review_id for i in range(30)]
    assert _count(store, Review, status="draft") == MAX_OPEN_DRAFTS
    assert _count(store, Deal) == MAX_OPEN_DRAFTS
    kept = {v.review_id for v in service.history(ANN, limit=50, status="draft")}
    assert kept == set(ids[-MAX_OPEN_DRAFTS:])  # the least recently touched went
    service.start(BOB, "Bob's deal")  # someone else's drafts are not counted against Ann
    assert _count(store, Review, status="draft") == MAX_OPEN_DRAFTS + 1


def test_expiring_a_draft_keeps_deals_that_are_still_referred_to_or_have_an_outcome(
    service: ReviewService, store: Store
) -> None:
    done = service.start(ANN)
    answer_all(service, ANN, done.review_id)
    service.complete(ANN, done.review_id, "k1")  # "Acme rollout", completed
    old = service.start(ANN, "Acme rollout")  # a draft of the same deal
    # An outcome is recorded on a completed review only (#11 item 13); then a new draft of
    # that won deal expires: the deal, its outcome and its completed review stay.
    closed = service.start(ANN)
    answer_all(service, ANN, closed.review_id)
    service.save_answers(ANN, closed.review_id, {"deal.name": "Won deal"})
    service.complete(ANN, closed.review_id, "k2")
    service.record_outcome(ANN, closed.review_id, "won")
    won = service.start(ANN, "Won deal")
    for i in range(MAX_OPEN_DRAFTS + 2):
        service.start(ANN, f"Filler {i}")
    drafts = {v.review_id for v in service.history(ANN, limit=50, status="draft")}
    assert old.review_id not in drafts and won.review_id not in drafts
    names = set(store.run(lambda uow: list(uow.session.scalars(select(Deal.name)))))
    assert {"Acme rollout", "Won deal"} <= names
    assert service.get(ANN, done.review_id).status == "completed"
    assert [h.outcome for h in service.history(ANN, status="completed")].count("won") == 1


def test_reopening_respects_the_cap_too(service: ReviewService, store: Store) -> None:
    completed = []
    for i in range(MAX_OPEN_DRAFTS + 3):
        view = service.start(ANN)
        answer_all(service, ANN, view.review_id)
        service.save_answers(ANN, view.review_id, {"deal.name": f"Deal {i}"})
        service.complete(ANN, view.review_id, f"k{i}")
        completed.append(view.review_id)
    for review_id in completed:
        service.reopen(ANN, review_id)
    assert _count(store, Review, status="draft") == MAX_OPEN_DRAFTS


def _completed(service: ReviewService, actor: Actor) -> int:
    view = service.start(actor)
    answer_all(service, actor, view.review_id)
    service.complete(actor, view.review_id, f"k-{actor.user_id}")
    return view.review_id


def test_a_review_is_shared_once_and_again_after_a_failed_delivery(
    service: ReviewService, store: Store
) -> None:
    review_id = _completed(service, ANN)
    assert service.share(ANN, review_id).manager is None  # no manager: nothing recorded
    assert service.share(ANN, review_id).manager is None
    _assign(store, Actor(platform="slack", workspace_id="T1", user_id="U_MARK"), ANN)
    assert service.share(ANN, review_id).manager_user_id == "U_MARK"
    with pytest.raises(AlreadyShared, match=f"already shared review {review_id}") as err:
        service.share(ANN, review_id)
    assert isinstance(err.value, Conflict) and err.value.key == "share.already"
    service.release_share(ANN, review_id)  # the adapter could not deliver it
    assert service.share(ANN, review_id).manager_user_id == "U_MARK"
    with pytest.raises(AlreadyShared):
        service.share(ANN, review_id)


def test_teams_share_is_recorded_only_when_the_manager_can_be_reached(
    service: ReviewService, store: Store
) -> None:
    from dealcoach.services.people import PeopleService

    service.set_locale(RITA, "nl")
    review_id = _completed(service, RITA)
    _assign(store, BOSS, RITA)
    shared = service.share(RITA, review_id)
    assert shared.manager is not None and shared.manager.conversation_ref is None
    assert service.share(RITA, review_id).manager is not None  # unreachable: not recorded
    PeopleService(store).remember_conversation(BOSS, {"conversation": {"id": "a:1"}})
    assert service.share(RITA, review_id).manager is not None
    with pytest.raises(AlreadyShared, match="al met je manager gedeeld"):
        service.share(RITA, review_id)


def test_prune_also_removes_expired_oauth_states(store: Store) -> None:
    now = datetime.now(tz=UTC).replace(tzinfo=None)  # slack_sdk stores naive UTC

    def seed(uow: object) -> None:
        old = [{"state": f"old-{i}", "expire_at": now - timedelta(minutes=1 + i)} for i in range(7)]
        live = [{"state": f"live-{i}", "expire_at": now + timedelta(minutes=9)} for i in range(3)]
        rows = old + live
        uow.session.execute(insert(slack_oauth_states), rows)  # type: ignore[attr-defined]

    store.run(seed)
    result = prune_drafts(store, 30)
    assert result.oauth_states == 7
    left = store.run(
        lambda uow: sorted(uow.session.scalars(select(slack_oauth_states.c.state)))
    )
    assert left == ["live-0", "live-1", "live-2"]
    assert prune_drafts(store, 30).oauth_states == 0
