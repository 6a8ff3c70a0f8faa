"""Mutual close plans (issue 15): the SQL of plan steps, their history, plan progress for many
deals at once, overdue reminders claimed exactly once, forget and export.

Plain functions on a session (like `store/digests.py` and `store/notes.py`); services call
them inside a unit of work and decide who may do what. Every step change writes a
`plan_step_event` row in the same transaction, so a step keeps its history.

Dates: `due_on` is a calendar date (the rep's). "Overdue as of D" means open with
`due_on < D`. SQL takes D from the caller (the rep's local today); for reminders across time
zones the caller passes the latest "today" anywhere and filters per person afterwards.

Reminders: one per (step, due date), claimed by inserting the unique `plan_reminder` row
(`INSERT … ON CONFLICT DO NOTHING RETURNING`) and committed before sending. A failed send is
`released` (claimable again, `attempts` + 1, up to `MAX_ATTEMPTS`); a claim whose sender died
is taken over after `stale_after`. Finishing is conditional on the claim's `attempts`, so a
slow sender never overwrites a newer attempt. Moving the step's date makes a new reminder
possible (a new due date, a new row).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from dealcoach.store.models import (
    Deal,
    Person,
    PlanReminder,
    PlanStep,
    PlanStepEvent,
    Review,
    Workspace,
)
from dealcoach.store.types import insert_for as _insert
from dealcoach.store.types import utcnow

MAX_ATTEMPTS = 5
STALE_AFTER = timedelta(minutes=30)


# --- rows -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepRow:
    id: int
    deal_id: int
    person_id: int
    created_from_review_id: int | None
    text: str
    owner_kind: str
    owner_name: str | None
    due_on: date
    status: str
    rule: str | None
    created_at: datetime
    updated_at: datetime
    done_at: datetime | None


@dataclass(frozen=True)
class EventRow:
    step_id: int
    at: datetime
    kind: str
    old_due_on: date | None
    new_due_on: date | None


@dataclass(frozen=True)
class ProgressRow:
    """A deal's plan as of a date; dropped steps are not part of it (`dropped` counts them)."""

    deal_id: int
    total: int
    done: int
    open: int
    overdue: int
    customer_overdue: int
    dropped: int
    next_due: date | None


@dataclass(frozen=True)
class DealPlanRow:
    """A rep's open deal with a plan (App Home): the deal and its progress."""

    deal_id: int
    deal_name: str
    stage: str | None
    progress: ProgressRow


@dataclass(frozen=True)
class DealRow:
    deal_id: int
    deal_name: str
    stage: str | None


@dataclass(frozen=True)
class ReminderCandidateRow:
    step_id: int
    due_on: date
    text: str
    owner_kind: str
    owner_name: str | None
    deal_id: int
    deal_name: str
    person_id: int
    platform: str
    workspace_external_id: str
    user_id: str
    display_name: str | None
    locale: str | None
    timezone: str | None
    workspace_timezone: str
    workspace_locale: str
    attempts: int  # of an earlier, released claim (0: never tried)


@dataclass(frozen=True)
class ReminderClaim:
    reminder_id: int
    step_id: int
    due_on: date
    attempts: int


_STEP_COLUMNS = (
    PlanStep.id,
    PlanStep.deal_id,
    PlanStep.person_id,
    PlanStep.created_from_review_id,
    PlanStep.text,
    PlanStep.owner_kind,
    PlanStep.owner_name,
    PlanStep.due_on,
    PlanStep.status,
    PlanStep.rule,
    PlanStep.created_at,
    PlanStep.updated_at,
    PlanStep.done_at,
)


def _step_row(step: PlanStep) -> StepRow:
    values = [getattr(step, c.key) for c in _STEP_COLUMNS]
    return StepRow(*values)


# --- steps and their history --------------------------------------------------------------------


def _event(
    session: Session,
    step_id: int,
    kind: str,
    at: datetime,
    old: date | None = None,
    new: date | None = None,
) -> None:
    session.add(PlanStepEvent(step_id=step_id, at=at, kind=kind, old_due_on=old, new_due_on=new))


def add_step(
    session: Session,
    *,
    deal_id: int,
    person_id: int,
    text: str,
    due_on: date,
    owner_kind: str = "us",
    owner_name: str | None = None,
    rule: str | None = None,
    review_id: int | None = None,
) -> tuple[StepRow, bool]:
    """Add a step (and its `created` event). From a review (`review_id`), the same text twice
    is one step: `INSERT … ON CONFLICT DO NOTHING`, then the existing step with False."""
    now = utcnow()
    values = {
        "deal_id": deal_id,
        "person_id": person_id,
        "created_from_review_id": review_id,
        "text": text,
        "owner_kind": owner_kind,
        "owner_name": owner_name,
        "due_on": due_on,
        "status": "open",
        "rule": rule,
        "created_at": now,
        "updated_at": now,
    }
    statement = (
        _insert(session, PlanStep)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["created_from_review_id", "text"])
        .returning(PlanStep.id)
    )
    made = session.execute(statement).scalar_one_or_none()
    if made is None:
        existing = session.scalars(
            select(PlanStep).where(
                PlanStep.created_from_review_id == review_id, PlanStep.text == text
            )
        ).one()
        return _step_row(existing), False
    _event(session, made, "created", now, new=due_on)
    session.flush()
    step = session.get(PlanStep, made)
    assert step is not None
    return _step_row(step), True


def get_step(session: Session, step_id: int, *, lock: bool = False) -> PlanStep | None:
    query = select(PlanStep).where(PlanStep.id == step_id)
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def steps_of_deal(
    session: Session, deal_id: int, *, include_dropped: bool = False
) -> list[StepRow]:
    """A deal's steps: open first by due date, then done, then (optionally) dropped."""
    order = case({"open": 0, "done": 1, "dropped": 2}, value=PlanStep.status, else_=3)
    query = select(*_STEP_COLUMNS).where(PlanStep.deal_id == deal_id)
    if not include_dropped:
        query = query.where(PlanStep.status != "dropped")
    query = query.order_by(order, PlanStep.due_on, PlanStep.id)
    return [StepRow(*list(row)) for row in session.execute(query).all()]


def overdue_of_person(
    session: Session, person_id: int, as_of: date, *, limit: int = 5
) -> list[tuple[str, StepRow]]:
    """A rep's open steps past their date on open deals, oldest first, with the deal's name
    (the manager's 1:1 prep): one query."""
    query = (
        select(Deal.name, *_STEP_COLUMNS)
        .join(Deal, Deal.id == PlanStep.deal_id)
        .where(
            PlanStep.person_id == person_id,
            PlanStep.status == "open",
            PlanStep.due_on < as_of,
            Deal.outcome == "open",
        )
        .order_by(PlanStep.due_on, PlanStep.id)
        .limit(limit)
    )
    return [(str(row[0]), StepRow(*list(row)[1:])) for row in session.execute(query).all()]


def same_step(
    session: Session, deal_id: int, text: str, statuses: Sequence[str] = ("open",)
) -> StepRow | None:
    """The deal's oldest step with exactly this text in one of `statuses` (the same step
    added again by hand, or from another review of the deal)."""
    row = session.execute(
        select(*_STEP_COLUMNS)
        .where(
            PlanStep.deal_id == deal_id,
            PlanStep.text == text,
            PlanStep.status.in_(list(statuses)),
        )
        .order_by(PlanStep.id)
        .limit(1)
    ).first()
    return StepRow(*list(row)) if row is not None else None


def open_deals(session: Session, person_id: int, *, limit: int = 20) -> list[DealRow]:
    """A rep's open deals, with or without a plan (the picker of `/dealcoach plan`): the most
    recently reviewed first (last completed review), then the most recently touched."""
    reviewed = func.max(Review.completed_at)
    query = (
        select(Deal.id, Deal.name, Deal.stage, reviewed.label("reviewed_at"))
        .outerjoin(Review, and_(Review.deal_id == Deal.id, Review.status == "completed"))
        .where(Deal.owner_id == person_id, Deal.outcome == "open")
        .group_by(Deal.id, Deal.name, Deal.stage, Deal.updated_at)
        .order_by(
            case((reviewed.is_(None), 1), else_=0),
            reviewed.desc(),
            Deal.updated_at.desc(),
            Deal.id.desc(),
        )
        .limit(limit)
    )
    return [DealRow(row[0], row[1], row[2]) for row in session.execute(query).all()]


def set_status(session: Session, step_id: int, status: str) -> bool:
    """open → done / dropped, or done / dropped → open (`reopened`); with its event. False
    when the step already has that status (a second click changes nothing)."""
    now = utcnow()
    result = session.execute(
        update(PlanStep)
        .where(PlanStep.id == step_id, PlanStep.status != status)
        .values(
            status=status,
            updated_at=now,
            done_at=now if status == "done" else None,
        )
        .execution_options(synchronize_session=False)
    )
    if not getattr(result, "rowcount", 0):
        return False
    _event(session, step_id, "reopened" if status == "open" else status, now)
    session.flush()
    return True


def move(session: Session, step_id: int, new_due_on: date) -> date | None:
    """Move an open step to `new_due_on` (its `moved` event keeps both dates). Returns the
    old date, or None when nothing changed (not open, or already that date)."""
    old = session.scalar(
        select(PlanStep.due_on).where(PlanStep.id == step_id, PlanStep.status == "open")
    )
    if old is None or old == new_due_on:
        return None
    now = utcnow()
    result = session.execute(
        update(PlanStep)
        .where(PlanStep.id == step_id, PlanStep.status == "open", PlanStep.due_on == old)
        .values(due_on=new_due_on, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if not getattr(result, "rowcount", 0):
        return None
    _event(session, step_id, "moved", now, old=old, new=new_due_on)
    session.flush()
    return old


def history(session: Session, step_ids: Sequence[int]) -> dict[int, list[EventRow]]:
    """The events of these steps, oldest first."""
    out: dict[int, list[EventRow]] = {sid: [] for sid in step_ids}
    if not step_ids:
        return out
    rows = session.execute(
        select(
            PlanStepEvent.step_id,
            PlanStepEvent.at,
            PlanStepEvent.kind,
            PlanStepEvent.old_due_on,
            PlanStepEvent.new_due_on,
        )
        .where(PlanStepEvent.step_id.in_(list(step_ids)))
        .order_by(PlanStepEvent.step_id, PlanStepEvent.at, PlanStepEvent.id)
    ).all()
    for row in rows:
        out[row[0]].append(EventRow(*row))
    return out


# --- progress -------------------------------------------------------------------------------------


def _progress_columns(as_of: date) -> tuple[Any, ...]:
    is_open = PlanStep.status == "open"
    late = and_(is_open, PlanStep.due_on < as_of)
    live = PlanStep.status != "dropped"
    return (
        func.coalesce(func.sum(case((live, 1), else_=0)), 0).label("total"),
        func.coalesce(func.sum(case((PlanStep.status == "done", 1), else_=0)), 0).label("done"),
        func.coalesce(func.sum(case((is_open, 1), else_=0)), 0).label("open"),
        func.coalesce(func.sum(case((late, 1), else_=0)), 0).label("overdue"),
        func.coalesce(
            func.sum(case((and_(late, PlanStep.owner_kind == "customer"), 1), else_=0)), 0
        ).label("customer_overdue"),
        func.coalesce(func.sum(case((PlanStep.status == "dropped", 1), else_=0)), 0).label(
            "dropped"
        ),
        func.min(case((is_open, PlanStep.due_on), else_=None)).label("next_due"),
    )


def _progress(deal_id: int, row: Sequence[Any]) -> ProgressRow:
    total, done, open_, overdue, customer, dropped, next_due = row
    return ProgressRow(
        deal_id=deal_id,
        total=int(total),
        done=int(done),
        open=int(open_),
        overdue=int(overdue),
        customer_overdue=int(customer),
        dropped=int(dropped),
        next_due=_as_date(next_due),
    )


def _as_date(value: object) -> date | None:
    """A MIN() over a DATE column: a date on PostgreSQL, ISO text on SQLite."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        return date.fromisoformat(value[:10])
    return None


def empty_progress(deal_id: int) -> ProgressRow:
    return ProgressRow(deal_id, 0, 0, 0, 0, 0, 0, None)


def progress_of_rows(deal_id: int, rows: Iterable[StepRow], as_of: date) -> ProgressRow:
    """`progress` of one deal counted from its steps already read (`steps_of_deal` with
    `include_dropped=True`): the same numbers as the GROUP BY, without a second query."""
    steps = [r for r in rows if r.deal_id == deal_id]
    open_steps = [r for r in steps if r.status == "open"]
    late = [r for r in open_steps if r.due_on < as_of]
    return ProgressRow(
        deal_id=deal_id,
        total=sum(1 for r in steps if r.status != "dropped"),
        done=sum(1 for r in steps if r.status == "done"),
        open=len(open_steps),
        overdue=len(late),
        customer_overdue=sum(1 for r in late if r.owner_kind == "customer"),
        dropped=sum(1 for r in steps if r.status == "dropped"),
        next_due=min((r.due_on for r in open_steps), default=None),
    )


def progress(session: Session, deal_ids: Iterable[int], as_of: date) -> dict[int, ProgressRow]:
    """Plan progress of many deals in one GROUP BY; deals without steps get zeros."""
    ids = list(dict.fromkeys(deal_ids))
    out = {d: empty_progress(d) for d in ids}
    if not ids:
        return out
    rows = session.execute(
        select(PlanStep.deal_id, *_progress_columns(as_of))
        .where(PlanStep.deal_id.in_(ids))
        .group_by(PlanStep.deal_id)
    ).all()
    for row in rows:
        out[row[0]] = _progress(row[0], tuple(row)[1:])
    return out


def plans_of_owner(
    session: Session, person_id: int, as_of: date, *, limit: int = 20
) -> list[DealPlanRow]:
    """A rep's open deals that have a plan, with its progress (one query): overdue first,
    then by the next due date."""
    cols = _progress_columns(as_of)
    inner = (
        select(Deal.id.label("deal_id"), Deal.name, Deal.stage, *cols)
        .join(PlanStep, PlanStep.deal_id == Deal.id)
        .where(Deal.owner_id == person_id, Deal.outcome == "open")
        .group_by(Deal.id, Deal.name, Deal.stage)
        .subquery("p")
    )
    query = (
        select(inner)
        .where(inner.c.total > 0)
        .order_by(inner.c.overdue.desc(), inner.c.next_due, inner.c.deal_id)
        .limit(limit)
    )
    out: list[DealPlanRow] = []
    for row in session.execute(query).all():
        values = tuple(row)
        out.append(DealPlanRow(values[0], values[1], values[2], _progress(values[0], values[3:])))
    return out


# --- reminders ------------------------------------------------------------------------------------


def _settled(now: datetime, stale_after: timedelta) -> ColumnElement[bool]:
    """A reminder row that says: do not send (sent, claimed right now, or given up)."""
    return or_(
        PlanReminder.status == "sent",
        and_(PlanReminder.status == "claimed", PlanReminder.claimed_at >= now - stale_after),
        PlanReminder.attempts >= MAX_ATTEMPTS,
    )


def reminder_candidates(
    session: Session,
    *,
    before: date,
    per_person: int = 5,
    stale_after: timedelta = STALE_AFTER,
) -> list[ReminderCandidateRow]:
    """Open steps due before `before` on open deals, whose rep has not paused reminders and
    that were not reminded (or are being reminded) for this due date: the `per_person`
    oldest of each person (ROW_NUMBER), with what is needed to reach them in their zone."""
    now = utcnow()
    reminded = exists().where(
        PlanReminder.step_id == PlanStep.id,
        PlanReminder.due_on == PlanStep.due_on,
        _settled(now, stale_after),
    )
    tried = (
        select(PlanReminder.attempts)
        .where(PlanReminder.step_id == PlanStep.id, PlanReminder.due_on == PlanStep.due_on)
        .correlate(PlanStep)
        .scalar_subquery()
    )
    inner = (
        select(
            PlanStep.id.label("step_id"),
            PlanStep.due_on,
            PlanStep.text,
            PlanStep.owner_kind,
            PlanStep.owner_name,
            Deal.id.label("deal_id"),
            Deal.name.label("deal_name"),
            Person.id.label("person_id"),
            Workspace.platform,
            Workspace.external_id.label("workspace_external_id"),
            Person.user_id,
            Person.display_name,
            Person.locale,
            Person.timezone,
            Workspace.timezone.label("workspace_timezone"),
            Workspace.default_locale.label("workspace_locale"),
            func.coalesce(tried, 0).label("attempts"),
            func.row_number()
            .over(partition_by=Person.id, order_by=(PlanStep.due_on, PlanStep.id))
            .label("rk"),
        )
        .join(Deal, Deal.id == PlanStep.deal_id)
        .join(Person, Person.id == PlanStep.person_id)
        .join(Workspace, Workspace.id == Person.workspace_id)
        .where(
            PlanStep.status == "open",
            PlanStep.due_on < before,
            Deal.outcome == "open",
            Person.nudges_paused.is_(False),
            ~reminded,
        )
        .subquery("c")
    )
    query = (
        select(*(c for c in inner.c if c.key != "rk"))
        .where(inner.c.rk <= per_person)
        .order_by(inner.c.person_id, inner.c.rk)
    )
    return [ReminderCandidateRow(*row) for row in session.execute(query).all()]


def claim_reminder(
    session: Session, step_id: int, due_on: date, *, stale_after: timedelta = STALE_AFTER
) -> ReminderClaim | None:
    """Claim the reminder of this step for this due date, or None if it was sent, is being
    sent elsewhere, or was given up. Commit right after claiming, before sending."""
    now = utcnow()
    made = session.execute(
        _insert(session, PlanReminder)
        .values(step_id=step_id, due_on=due_on, status="claimed", attempts=1, claimed_at=now)
        .on_conflict_do_nothing(index_elements=["step_id", "due_on"])
        .returning(PlanReminder.id)
    ).scalar_one_or_none()
    if made is not None:
        return ReminderClaim(made, step_id, due_on, 1)
    retaken = session.execute(
        update(PlanReminder)
        .where(
            PlanReminder.step_id == step_id,
            PlanReminder.due_on == due_on,
            PlanReminder.attempts < MAX_ATTEMPTS,
            or_(
                PlanReminder.status == "released",
                and_(
                    PlanReminder.status == "claimed",
                    PlanReminder.claimed_at < now - stale_after,
                ),
            ),
        )
        .values(status="claimed", attempts=PlanReminder.attempts + 1, claimed_at=now)
        .returning(PlanReminder.id, PlanReminder.attempts)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    if retaken is None:
        return None
    return ReminderClaim(int(retaken[0]), step_id, due_on, int(retaken[1]))


def finish_reminder(session: Session, claim: ReminderClaim, *, error: str | None = None) -> bool:
    """Record the outcome of *our* claim: sent, or released with `error` (a later run claims
    it again). False if the claim was taken over meanwhile."""
    values: dict[str, object] = (
        {"status": "sent", "sent_at": utcnow(), "error": None}
        if error is None
        else {"status": "released", "error": error[:2000]}
    )
    result = session.execute(
        update(PlanReminder)
        .where(
            PlanReminder.id == claim.reminder_id,
            PlanReminder.attempts == claim.attempts,
            PlanReminder.status == "claimed",
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def release_reminder(session: Session, claim: ReminderClaim, error: str) -> bool:
    """Undo a claim whose message could not be delivered, so the next run tries again."""
    return finish_reminder(session, claim, error=error or "delivery failed")


# --- forget and export ----------------------------------------------------------------------------


def forget(session: Session, person_ids: Sequence[int]) -> int:
    """Delete the plans of these people (steps they own or on deals they own) with their
    history and reminders; returns the number of steps deleted. Explicit deletes, so nothing
    depends on ON DELETE CASCADE alone."""
    ids = list(person_ids)
    if not ids:
        return 0
    steps = select(PlanStep.id).where(
        or_(
            PlanStep.person_id.in_(ids),
            PlanStep.deal_id.in_(select(Deal.id).where(Deal.owner_id.in_(ids))),
        )
    )
    step_ids = [int(s) for s in session.scalars(steps).all()]
    if not step_ids:
        return 0
    for model in (PlanReminder, PlanStepEvent):
        session.execute(
            delete(model)
            .where(model.step_id.in_(step_ids))
            .execution_options(synchronize_session=False)
        )
    deleted = session.execute(
        delete(PlanStep)
        .where(PlanStep.id.in_(step_ids))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(deleted, "rowcount", 0) or 0)


def last_completed_reviews(session: Session, deal_ids: Sequence[int]) -> dict[int, int]:
    """Each deal's last completed review (latest `completed_at`, then highest id: the review
    a loss reason is stored on), for `dealcoach export`: `{deal_id: review_id}`."""
    ids = list(deal_ids)
    if not ids:
        return {}
    rank = (
        func.row_number()
        .over(
            partition_by=Review.deal_id,
            order_by=(Review.completed_at.desc(), Review.id.desc()),
        )
        .label("rank")
    )
    inner = (
        select(Review.deal_id, Review.id, rank)
        .where(Review.deal_id.in_(ids), Review.status == "completed")
        .subquery("r")
    )
    rows = session.execute(select(inner.c.deal_id, inner.c.id).where(inner.c.rank == 1)).all()
    return {int(deal): int(review) for deal, review in rows}


@dataclass(frozen=True)
class ExportStepRow:
    step: StepRow
    deal_name: str
    user_id: str
    events: tuple[EventRow, ...]


def export_rows(
    session: Session,
    *,
    deal_ids: Sequence[int] | None = None,
    after_id: int = 0,
    limit: int = 1000,
) -> list[ExportStepRow]:
    """A batch of plan steps (id > `after_id`, keyset order) with their deal, rep and history
    (two queries a batch), for `dealcoach export`; `deal_ids` narrows it to some deals."""
    query = (
        select(*_STEP_COLUMNS, Deal.name, Person.user_id)
        .join(Deal, Deal.id == PlanStep.deal_id)
        .join(Person, Person.id == PlanStep.person_id)
        .where(PlanStep.id > after_id)
        .order_by(PlanStep.id)
        .limit(limit)
    )
    if deal_ids is not None:
        query = query.where(PlanStep.deal_id.in_(list(deal_ids)))
    rows = session.execute(query).all()
    events = history(session, [int(r[0]) for r in rows])
    out: list[ExportStepRow] = []
    width = len(_STEP_COLUMNS)
    for row in rows:
        values = tuple(row)
        step = StepRow(*values[:width])
        out.append(ExportStepRow(step, values[width], values[width + 1], tuple(events[step.id])))
    return out
