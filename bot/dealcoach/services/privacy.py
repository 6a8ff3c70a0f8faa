"""Privacy requests and retention: forget a person, prune old drafts and expired Slack OAuth
states."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from dealcoach.errors import InputError, NotFound
from dealcoach.services.plans import forget_plans
from dealcoach.store.notes import forget as forget_notes
from dealcoach.store.repositories import ForgetResult, PruneResult, prune_oauth_states
from dealcoach.store.types import utcnow
from dealcoach.store.uow import Store, UnitOfWork


@dataclass(frozen=True)
class Forgotten:
    user_id: str
    workspaces: list[str]  # "platform:external id" of each workspace they were in
    people: int
    reviews: int
    answers: int
    notes: int = 0  # coaching notes and replies deleted
    plan_steps: int = 0  # close-plan steps deleted (with their history and reminders)


def _forget(uow: UnitOfWork, user_id: str, workspace: str | None) -> Forgotten:
    people = uow.people.find_everywhere(user_id)
    if workspace is not None:
        people = [p for p in people if p.workspace.external_id == workspace]
    if not people:
        where = f" in workspace {workspace}" if workspace else ""
        raise NotFound(f"no user {user_id!r} is known{where}")
    workspaces = [f"{p.workspace.platform}:{p.workspace.external_id}" for p in people]
    # Coaching notes they wrote or that were written on their reviews, with their replies
    # (issue 16): deleted explicitly, not left to ON DELETE CASCADE alone.
    notes = forget_notes(uow.session, [p.id for p in people])
    # Their close plans (issue 15): steps with history and reminders, before their deals go.
    steps = forget_plans(uow, [p.id for p in people])
    result: ForgetResult = uow.people.forget(people)
    return Forgotten(
        user_id, workspaces, result.people, result.reviews, result.answers, notes, steps
    )


def forget_user(store: Store, user_id: str, workspace: str | None = None) -> Forgotten:
    """Delete a person (in every workspace, or one) with all their reviews and answers, the
    coaching notes they wrote or that were written on their reviews, and their close plans
    (steps, history, reminders) — in one transaction."""
    user_id = user_id.strip()
    if not user_id:
        raise InputError("--user must name a user id")
    return store.run(_forget, user_id, workspace)


def prune_drafts(store: Store, retention_days: int) -> PruneResult:
    """Delete drafts untouched for more than `retention_days` days (completed reviews stay),
    and expired Slack OAuth states (install links opened and never finished)."""
    if retention_days < 1:
        raise InputError("retention must be at least 1 day")
    cutoff = utcnow() - timedelta(days=retention_days)

    def prune(uow: UnitOfWork) -> PruneResult:
        drafts = uow.reviews.prune_drafts(cutoff)
        states = prune_oauth_states(uow.session)
        return PruneResult(drafts=drafts.drafts, answers=drafts.answers, oauth_states=states)

    return store.run(prune)
