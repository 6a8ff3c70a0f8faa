"""Mutual close plans (issue 15): the use cases every adapter calls.

Who may do what, once for every adapter:
- *Add a step*, *Done*, *Move date*, *Drop*, *Reopen*: only the rep who owns the deal
  (`PlanRefused("not_owner")` for anyone else; `NotFound` for unknown ids).
- *See a deal's plan*: the rep who owns it, and that rep's own manager (read-only).
- *Add to plan* from the advice: the rep whose completed review it is; the step's text is the
  action's text (clipped to 300 characters), its rule the action's rule, owner `us` and a date
  a week away on a workday unless given. The same action twice is one step (a double click, a
  retry); a dropped one comes back open.

History: every change writes a `plan_step_event` (store/plans.py). Dates are the rep's own
(their time zone, else the workspace's, else UTC).

Reminders: `due_reminders` lists the overdue steps to remind about *now* (a workday between
`WORK_START` and `WORK_END` in the rep's zone, at most `REMINDERS_PER_PERSON` a person, not
for reps who paused reminders with `/dealcoach pause`); `send_plan_reminders` claims each one
exactly once across replicas (the unique `plan_reminder` row, committed before sending),
sends it through the platform's notifier and records it sent, or releases it when delivery
failed so a later run retries.

Each use case is a function `fn(uow, …)` run in one transaction by `PlanService` (sync: CLI,
tests) or `AsyncPlanService` (the server). Results are frozen dataclasses, never ORM objects.
Refusals are `PlanRefused(key)` (a `Forbidden`), bad input `PlanInvalid(key)` (an
`InputError`); adapters say `refused.<key>` / `invalid.<key>` from `prompts/<locale>/plan.yaml`
(`plan_text`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dealcoach.coach.assessment import Assessment
from dealcoach.coach.bank import LOCALES
from dealcoach.coach.machine import named_people
from dealcoach.coach.markup import Flavor
from dealcoach.coach.plan_text import escape, format_date
from dealcoach.coach.plan_text import text as plan_text
from dealcoach.coach.planner import short_name
from dealcoach.coach.plans import (
    PlanStatus,
    SlippingStep,
    default_due,
    owner_label,
    progress_line,
)
from dealcoach.errors import Forbidden, InputError, NotFound
from dealcoach.services.actors import Actor
from dealcoach.store import plans as q
from dealcoach.store.models import MAX_STEP_TEXT, PLAN_OWNERS, Deal, Person, PlanStep
from dealcoach.store.types import utcnow
from dealcoach.store.uow import AsyncStore, Store, UnitOfWork

log = logging.getLogger("dealcoach.plans")

MAX_OWNER_NAME = 200
WORK_START = 9
WORK_END = 17
REMINDERS_PER_PERSON = 5
MAX_PEOPLE = 9  # owner choices: as many decision-makers as any bank can hold
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def pt(locale: str | None, key: str, **values: object) -> str:
    """Plan wording from `prompts/<locale>/plan.yaml`."""
    return plan_text(locale, key, **values)


class PlanRefused(Forbidden):
    """A refusal with a wording key (`plan.yaml`: `refused.<key>`)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


class PlanInvalid(InputError):
    """Bad input with a wording key (`plan.yaml`: `invalid.<key>`)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepView:
    step_id: int
    deal_id: int
    text: str
    owner_kind: str  # us | customer
    owner_name: str | None
    due_on: date
    status: str  # open | done | dropped
    rule: str | None
    from_review_id: int | None
    created_at: datetime
    done_at: datetime | None
    overdue: bool  # open and past its date (the rep's today)

    def owner(self, locale: str | None) -> str:
        return owner_label(self.owner_kind, self.owner_name, locale)

    def line(self, locale: str | None, flavor: Flavor = "text") -> str:
        """`Send the security answers — us, by Tue 12 May` (user text escaped)."""
        return pt(
            locale,
            "step.line",
            text=escape(self.text, flavor),
            owner=escape(self.owner(locale), flavor),
            due=format_date(self.due_on, locale),
        )


@dataclass(frozen=True)
class PlanProgress:
    total: int = 0  # open + done
    done: int = 0
    open: int = 0
    overdue: int = 0
    customer_overdue: int = 0
    next_due: date | None = None

    def status(self, slipping: tuple[SlippingStep, ...] = ()) -> PlanStatus:
        return PlanStatus(
            total=self.total,
            done=self.done,
            overdue=self.overdue,
            customer_overdue=self.customer_overdue,
            slipping=slipping,
        )

    def text(self, locale: str | None) -> str:
        """`2 of 5 steps done, 1 overdue`."""
        return progress_line(self.status(), locale)


@dataclass(frozen=True)
class DealPlan:
    deal_id: int
    deal_name: str
    locale: str  # the viewer's language
    today: date  # the owner's today (what "overdue" is measured against)
    steps: tuple[StepView, ...]
    progress: PlanProgress
    owner_options: tuple[str, ...]  # the decision-makers named in the deal's last review
    viewer_is_owner: bool

    @property
    def progress_text(self) -> str:
        return self.progress.text(self.locale)


@dataclass(frozen=True)
class DealPlanSummary:
    """A deal with a plan, for App Home: name and progress."""

    deal_id: int
    deal_name: str
    stage: str | None
    progress: PlanProgress


@dataclass(frozen=True)
class PlanCandidate:
    """A move of a review's advice that *Add to plan* can put in the deal's close plan.

    `index` is what `add_from_action(actor, review_id, index)` takes (0-based over the
    advice's `actions`, then its `later`); `text` the move's words (user text inside: escape
    it for your markup); `in_plan`: already in the plan — a step from this review with this
    text (open or done), or an open step of the deal with this text; adding it again
    changes nothing."""

    index: int
    text: str
    rule: str
    later: bool = False  # one of the "Later" moves
    in_plan: bool = False


@dataclass(frozen=True)
class ReviewCandidates:
    """What the *Add to plan* form of a completed review needs (`review_candidates`)."""

    review_id: int
    deal_id: int | None  # None: the review has no deal (nothing can be added)
    deal_name: str | None
    locale: str  # the rep's language
    candidates: tuple[PlanCandidate, ...]
    owner_options: tuple[str, ...]  # the review's named decision-makers (short names)
    default_due: date  # a week from the rep's today, on a workday


@dataclass(frozen=True)
class StepChange:
    """A step after add / done / move / drop / reopen; `changed` False when nothing changed
    (a second click). `message` says it in the rep's language."""

    step: StepView
    changed: bool
    deal_name: str
    locale: str
    progress: PlanProgress
    message: str


@dataclass(frozen=True)
class Recipient:
    person_id: int
    platform: str
    workspace_id: str  # the platform's workspace / tenant id
    user_id: str
    display_name: str | None
    locale: str
    timezone: str


@dataclass(frozen=True)
class PlanReminder:
    """One overdue step to remind its rep about."""

    recipient: Recipient
    step_id: int
    due_on: date
    deal_id: int
    deal_name: str
    text: str
    owner_kind: str
    owner_name: str | None


@dataclass(frozen=True)
class RenderedReminder:
    title: str
    text: str  # escaped for the flavor it was rendered for
    done: str  # button labels (plain text)
    move: str
    drop: str


@dataclass
class ReminderReport:
    sent: list[int] = field(default_factory=list)  # step ids
    skipped: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)


class PlanReminderNotifier(Protocol):
    """What a platform adapter implements to deliver a reminder (raise on failure)."""

    async def send_plan_reminder(
        self, reminder: PlanReminder, rendered: Mapping[str, RenderedReminder]
    ) -> None: ...


# --- helpers (inside a unit of work) --------------------------------------------------------


def zone(name: str | None) -> ZoneInfo:
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass  # a zone name this machine does not know: UTC below, never a failed reminder
    return ZoneInfo("UTC")


def _known_locale(value: str | None) -> str | None:
    if not value:
        return None
    short = value.replace("_", "-").split("-")[0].lower()
    return short if short in LOCALES else None


def _locale(person: Person, actor: Actor | None = None, default: str = "en") -> str:
    return (
        _known_locale(person.locale)
        or _known_locale(actor.locale if actor else None)
        or _known_locale(person.workspace.default_locale)
        or default
    )


def _tz(person: Person, actor: Actor | None = None) -> str:
    return person.timezone or (actor.timezone if actor else None) or person.workspace.timezone


def local_today(person: Person, now: datetime | None = None, actor: Actor | None = None) -> date:
    """The person's date right now (their zone, else the workspace's, else UTC)."""
    return (now or utcnow()).astimezone(zone(_tz(person, actor))).date()


def _person(uow: UnitOfWork, actor: Actor) -> Person | None:
    return uow.people.find_by_platform(actor.platform, actor.workspace_id, actor.user_id)


def _not_owner() -> PlanRefused:
    return PlanRefused("not_owner", "only the rep who owns this deal can change its plan")


def _owned_deal(uow: UnitOfWork, actor: Actor, deal_id: int) -> tuple[Person, Deal]:
    deal = uow.deals.get(deal_id)
    if deal is None:
        raise NotFound(f"deal {deal_id} does not exist")
    person = _person(uow, actor)
    if person is None or deal.owner_id != person.id:
        raise _not_owner()
    return person, deal


def _owned_step(uow: UnitOfWork, actor: Actor, step_id: int) -> tuple[Person, Deal, PlanStep]:
    step = q.get_step(uow.session, step_id, lock=True)
    if step is None:
        raise NotFound(f"plan step {step_id} does not exist")
    person, deal = _owned_deal(uow, actor, step.deal_id)
    return person, deal, step


def clean_text(raw: object, *, limit: int = MAX_STEP_TEXT, clip: bool = False) -> str:
    """A step's text: trimmed, whitespace collapsed, 1..limit characters, no control
    characters. `clip`: shorten an over-long text (an action's) instead of refusing it."""
    if raw is None or not isinstance(raw, str) or not raw.strip():
        raise PlanInvalid("empty", "write what the step is")
    if _CONTROL.search(raw):
        raise PlanInvalid("bad_text", "the text contains characters that cannot be stored")
    value = re.sub(r"\s+", " ", raw).strip()
    if len(value) > limit:
        if not clip:
            raise PlanInvalid("too_long", f"keep a step under {limit} characters")
        cut = value[: limit - 1]
        space = cut.rfind(" ")
        value = (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:—-") + "…"
    return value


def _owner(owner_kind: str, owner_name: object) -> tuple[str, str | None]:
    if owner_kind not in PLAN_OWNERS:
        raise PlanInvalid("owner", f"owner must be one of {', '.join(PLAN_OWNERS)}")
    if owner_kind == "us":
        return "us", None
    if not isinstance(owner_name, str) or not owner_name.strip():
        raise PlanInvalid("owner_name", "name the decision-maker who owns this step")
    try:
        return "customer", clean_text(owner_name, limit=MAX_OWNER_NAME)
    except PlanInvalid as err:
        raise PlanInvalid("owner_name", str(err)) from None


def parse_due(value: date | str | None, today: date, *, required: bool = False) -> date | None:
    """A due date (a date or YYYY-MM-DD); never before the rep's today."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise PlanInvalid("date", "pick a date (YYYY-MM-DD)")
        return None
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise PlanInvalid("date", "pick a date (YYYY-MM-DD)") from None
    if value < today:
        raise PlanInvalid("date_past", "pick today or a later date")
    return value


def _view(row: q.StepRow, today: date) -> StepView:
    return StepView(
        step_id=row.id,
        deal_id=row.deal_id,
        text=row.text,
        owner_kind=row.owner_kind,
        owner_name=row.owner_name,
        due_on=row.due_on,
        status=row.status,
        rule=row.rule,
        from_review_id=row.created_from_review_id,
        created_at=row.created_at,
        done_at=row.done_at,
        overdue=row.status == "open" and row.due_on < today,
    )


def _progress(row: q.ProgressRow) -> PlanProgress:
    return PlanProgress(
        total=row.total,
        done=row.done,
        open=row.open,
        overdue=row.overdue,
        customer_overdue=row.customer_overdue,
        next_due=row.next_due,
    )


def _step_row(uow: UnitOfWork, step_id: int) -> q.StepRow:
    step = q.get_step(uow.session, step_id)
    if step is None:  # pragma: no cover - checked by the caller in the same transaction
        raise NotFound(f"plan step {step_id} does not exist")
    uow.session.refresh(step)
    return q.StepRow(
        step.id,
        step.deal_id,
        step.person_id,
        step.created_from_review_id,
        step.text,
        step.owner_kind,
        step.owner_name,
        step.due_on,
        step.status,
        step.rule,
        step.created_at,
        step.updated_at,
        step.done_at,
    )


def _change(
    uow: UnitOfWork,
    person: Person,
    deal: Deal,
    step_id: int,
    changed: bool,
    message_key: str,
    actor: Actor | None,
    now: datetime | None,
) -> StepChange:
    today = local_today(person, now, actor)
    locale = _locale(person, actor)
    progress = _progress(q.progress(uow.session, [deal.id], today)[deal.id])
    step = _view(_step_row(uow, step_id), today)
    message = pt(
        locale,
        message_key,
        deal=escape(deal.name),
        due=format_date(step.due_on, locale),
        progress=progress.text(locale),
    )
    return StepChange(step, changed, deal.name, locale, progress, message)


def owner_options(uow: UnitOfWork, deal_id: int) -> tuple[str, ...]:
    """The decision-makers named in the deal's last completed review (short names)."""
    last = uow.reviews.deal_history(deal_id, limit=1)
    if not last:
        return ()
    return names_in(uow.reviews.answers(last[0].id))


def names_in(answers: Mapping[str, object]) -> tuple[str, ...]:
    """The short names of the decision-makers named in a review's answers, in order, each
    once: who can own a customer step."""
    names: list[str] = []
    for n in named_people(answers, MAX_PEOPLE):
        who = answers.get(f"agenda.{n}.who")
        if isinstance(who, str) and who.strip() and short_name(who) not in names:
            names.append(short_name(who))
    return tuple(names)


# --- use cases: fn(uow, …) ------------------------------------------------------------------


def add_step(
    uow: UnitOfWork,
    actor: Actor,
    deal_id: int,
    text: object,
    *,
    owner_kind: str = "us",
    owner_name: object = None,
    due_on: date | str | None = None,
    now: datetime | None = None,
) -> StepChange:
    """A step added by hand (`/dealcoach plan`, `plan` in Teams, `dealcoach plan`). An open
    step of the deal with the same text is the same step (a resubmitted form, a retried
    invoke, a double click): it comes back with `changed=False` and `plan.already`."""
    person, deal = _owned_deal(uow, actor, deal_id)
    today = local_today(person, now, actor)
    value = clean_text(text)
    kind, name = _owner(owner_kind, owner_name)
    due = parse_due(due_on, today) or default_due(today)
    uow.people.lock(person)  # concurrent submits of one rep queue here, then see the step
    same = q.same_step(uow.session, deal.id, value)
    if same is not None:
        return _change(uow, person, deal, same.id, False, "plan.already", actor, now)
    row, created = q.add_step(
        uow.session,
        deal_id=deal.id,
        person_id=person.id,
        text=value,
        due_on=due,
        owner_kind=kind,
        owner_name=name,
    )
    return _change(uow, person, deal, row.id, created, "plan.added", actor, now)


def add_from_action(
    uow: UnitOfWork,
    actor: Actor,
    review_id: int,
    index: int,
    *,
    owner_kind: str = "us",
    owner_name: object = None,
    due_on: date | str | None = None,
    text: object = None,
    now: datetime | None = None,
) -> StepChange:
    """*Add to plan* on the advice: the review's move number `index` (0-based over
    `actions` then `later`, the order of `Assessment.next_steps`). `text`: the rep's edit
    of the move's words (checked like a step by hand; the move's rule is kept); without it
    the move's text, clipped to a step's length. The same move twice is one step, and so
    is a step the deal's plan already has open or done with that text (from another
    review, or by hand): `changed=False`, `plan.already`."""
    review = uow.reviews.get(review_id)
    if review is None:
        raise NotFound(f"review {review_id} does not exist")
    person = _person(uow, actor)
    if person is None or review.person_id != person.id:
        raise _not_owner()
    if review.deal_id is None:
        raise PlanInvalid("no_deal", "this review has no deal yet")
    person, deal = _owned_deal(uow, actor, review.deal_id)
    stored = uow.reviews.assessment(review.id) if review.status == "completed" else None
    if stored is None:
        raise PlanInvalid("no_action", "that move is not in this review's advice")
    assessment = Assessment.model_validate(stored.data)
    moves = [*assessment.actions, *assessment.later]
    if not 0 <= index < len(moves):
        raise PlanInvalid("no_action", "that move is not in this review's advice")
    move = moves[index]
    today = local_today(person, now, actor)
    value = clean_text(move.text, clip=True) if text is None else clean_text(text)
    kind, name = _owner(owner_kind, owner_name)
    due = parse_due(due_on, today) or default_due(today)
    uow.people.lock(person)
    same = q.same_step(uow.session, deal.id, value, ("open", "done"))
    if same is not None:
        return _change(uow, person, deal, same.id, False, "plan.already", actor, now)
    row, created = q.add_step(
        uow.session,
        deal_id=deal.id,
        person_id=person.id,
        text=value,
        due_on=due,
        owner_kind=kind,
        owner_name=name,
        rule=move.rule,
        review_id=review.id,
    )
    if not created and row.status == "dropped":
        q.set_status(uow.session, row.id, "open")
        created = True
    key = "plan.added" if created else "plan.already"
    return _change(uow, person, deal, row.id, created, key, actor, now)


def candidates_of(
    uow: UnitOfWork,
    review_id: int,
    deal_id: int | None,
    assessment: Assessment,
    steps: list[q.StepRow] | None = None,
) -> tuple[PlanCandidate, ...]:
    """A completed review's moves as *Add to plan* candidates (see `PlanCandidate`).
    `steps`: the deal's `deal_steps`, when already read in this transaction."""
    if deal_id is None:
        return ()
    read = q.steps_of_deal(uow.session, deal_id) if steps is None else steps
    steps = [r for r in read if r.status != "dropped"]
    from_review = {r.text for r in steps if r.created_from_review_id == review_id}
    open_texts = {r.text for r in steps if r.status == "open"}
    moves = [(a, False) for a in assessment.actions] + [(a, True) for a in assessment.later]
    out: list[PlanCandidate] = []
    for index, (action, later) in enumerate(moves):
        try:
            stored = clean_text(action.text, clip=True)
        except PlanInvalid:  # pragma: no cover - the coach writes no empty moves
            stored = action.text
        out.append(
            PlanCandidate(
                index=index,
                text=action.text,
                rule=action.rule,
                later=later,
                in_plan=stored in from_review or stored in open_texts,
            )
        )
    return tuple(out)


def review_candidates(
    uow: UnitOfWork, actor: Actor, review_id: int, *, now: datetime | None = None
) -> ReviewCandidates:
    """A review's *Add to plan* form, read only: its moves, who can own a step, the default
    date (the rep whose review it is; `NotFound` / `PlanRefused` as everywhere). A review
    that is not completed has no moves yet (empty `candidates`)."""
    review = uow.reviews.get(review_id)
    if review is None:
        raise NotFound(f"review {review_id} does not exist")
    person = _person(uow, actor)
    if person is None or review.person_id != person.id:
        raise _not_owner()
    stored = uow.reviews.assessment(review.id) if review.status == "completed" else None
    candidates: tuple[PlanCandidate, ...] = ()
    if stored is not None:
        assessment = Assessment.model_validate(stored.data)
        candidates = candidates_of(uow, review.id, review.deal_id, assessment)
    return ReviewCandidates(
        review_id=review.id,
        deal_id=review.deal_id,
        deal_name=review.deal.name if review.deal is not None else None,
        locale=_locale(person, actor),
        candidates=candidates,
        owner_options=names_in(uow.reviews.answers(review.id)),
        default_due=default_due(local_today(person, now, actor)),
    )


def plan_deals(
    uow: UnitOfWork, actor: Actor, *, limit: int = 20, now: datetime | None = None
) -> list[DealPlanSummary]:
    """The rep's open deals, with or without a plan (the deal picker of `/dealcoach plan`):
    the most recently reviewed first, each with its plan's progress (two queries)."""
    person = _person(uow, actor)
    if person is None:
        return []
    deals = q.open_deals(uow.session, person.id, limit=limit)
    today = local_today(person, now, actor)
    progress = q.progress(uow.session, [d.deal_id for d in deals], today)
    return [
        DealPlanSummary(d.deal_id, d.deal_name, d.stage, _progress(progress[d.deal_id]))
        for d in deals
    ]


def deal_plan(
    uow: UnitOfWork,
    actor: Actor,
    deal_id: int,
    *,
    include_dropped: bool = False,
    now: datetime | None = None,
) -> DealPlan:
    """A deal's plan for its rep, or (read-only) for the rep's own manager."""
    deal = uow.deals.get(deal_id)
    if deal is None:
        raise NotFound(f"deal {deal_id} does not exist")
    viewer = _person(uow, actor)
    if viewer is None:
        raise _not_owner()
    is_owner = deal.owner_id == viewer.id
    if not is_owner:
        manager = uow.reporting.manager_of(deal.owner_id)
        if manager is None or manager.id != viewer.id:
            raise _not_owner()
    owner = deal.owner if not is_owner else viewer
    today = local_today(owner, now)
    rows = q.steps_of_deal(uow.session, deal.id, include_dropped=include_dropped)
    progress = _progress(q.progress(uow.session, [deal.id], today)[deal.id])
    return DealPlan(
        deal_id=deal.id,
        deal_name=deal.name,
        locale=_locale(viewer, actor),
        today=today,
        steps=tuple(_view(r, today) for r in rows),
        progress=progress,
        owner_options=owner_options(uow, deal.id),
        viewer_is_owner=is_owner,
    )


def find_deal(uow: UnitOfWork, actor: Actor, name: str) -> int | None:
    """The actor's own deal of this name (`/dealcoach plan Acme`), matched like reviews."""
    person = _person(uow, actor)
    if person is None or not name.strip():
        return None
    deal = uow.deals.find(person.id, name)
    return deal.id if deal is not None else None


def my_plans(
    uow: UnitOfWork, actor: Actor, *, now: datetime | None = None, limit: int = 20
) -> list[DealPlanSummary]:
    """The actor's open deals with a plan and their progress (App Home), one query."""
    person = _person(uow, actor)
    if person is None:
        return []
    today = local_today(person, now, actor)
    return [
        DealPlanSummary(r.deal_id, r.deal_name, r.stage, _progress(r.progress))
        for r in q.plans_of_owner(uow.session, person.id, today, limit=limit)
    ]


def progress_of(uow: UnitOfWork, deal_ids: list[int], today: date) -> dict[int, PlanProgress]:
    """Plan progress of many deals at once (the digest): one GROUP BY."""
    return {d: _progress(r) for d, r in q.progress(uow.session, deal_ids, today).items()}


def _set_status(
    uow: UnitOfWork,
    actor: Actor,
    step_id: int,
    status: str,
    message_key: str,
    now: datetime | None,
) -> StepChange:
    person, deal, step = _owned_step(uow, actor, step_id)
    if status != "open" and step.status not in ("open", status):
        # done → dropped (or back): reopen first, so the history reads as it happened.
        raise PlanInvalid("not_open", "that step is done or dropped; reopen it first")
    changed = q.set_status(uow.session, step_id, status)
    return _change(uow, person, deal, step_id, changed, message_key, actor, now)


def mark_done(
    uow: UnitOfWork, actor: Actor, step_id: int, *, now: datetime | None = None
) -> StepChange:
    return _set_status(uow, actor, step_id, "done", "reminder.marked_done", now)


def drop_step(
    uow: UnitOfWork, actor: Actor, step_id: int, *, now: datetime | None = None
) -> StepChange:
    return _set_status(uow, actor, step_id, "dropped", "reminder.dropped", now)


def reopen_step(
    uow: UnitOfWork, actor: Actor, step_id: int, *, now: datetime | None = None
) -> StepChange:
    return _set_status(uow, actor, step_id, "open", "plan.added", now)


def move_step(
    uow: UnitOfWork,
    actor: Actor,
    step_id: int,
    due_on: date | str | None,
    *,
    now: datetime | None = None,
) -> StepChange:
    """*Move date*: an open step to a new date (today or later); history keeps both."""
    person, deal, step = _owned_step(uow, actor, step_id)
    if step.status != "open":
        raise PlanInvalid("not_open", "that step is done or dropped; reopen it first")
    new = parse_due(due_on, local_today(person, now, actor), required=True)
    assert new is not None
    changed = q.move(uow.session, step_id, new) is not None
    return _change(uow, person, deal, step_id, changed, "reminder.moved", actor, now)


def step_history(uow: UnitOfWork, actor: Actor, step_id: int) -> list[q.EventRow]:
    """A step's events, oldest first (the rep who owns the deal)."""
    _owned_step(uow, actor, step_id)
    return q.history(uow.session, [step_id])[step_id]


def plan_status(
    uow: UnitOfWork, deal_id: int | None, today: date, steps: list[q.StepRow] | None = None
) -> PlanStatus:
    """What the coach needs to know of a deal's plan (`assess(..., plan_status=…)`): the
    counts and the customer's slipping steps, oldest first. For the review's own deal,
    inside the review's transaction (no actor check: the caller already did it). `steps`:
    the deal's `deal_steps`, when already read in this transaction."""
    if deal_id is None:
        return PlanStatus()
    rows = deal_steps(uow, deal_id) if steps is None else steps
    slipping = tuple(
        SlippingStep(r.text, r.owner_name or "", r.due_on)
        for r in sorted(rows, key=lambda r: (r.due_on, r.id))
        if r.status == "open" and r.owner_kind == "customer" and r.due_on < today
    )
    return _progress(q.progress_of_rows(deal_id, rows, today)).status(slipping)


def deal_steps(uow: UnitOfWork, deal_id: int | None) -> list[q.StepRow]:
    """Every step of a deal, dropped ones included, in one query: what `plan_status` and
    `candidates_of` both read when a review completes (given to them, read once)."""
    if deal_id is None:
        return []
    return q.steps_of_deal(uow.session, deal_id, include_dropped=True)


# --- reminders --------------------------------------------------------------------------------


def _recipient(row: q.ReminderCandidateRow, default_locale: str, default_tz: str) -> Recipient:
    tz = row.timezone or row.workspace_timezone or default_tz
    return Recipient(
        person_id=row.person_id,
        platform=row.platform,
        workspace_id=row.workspace_external_id,
        user_id=row.user_id,
        display_name=row.display_name,
        locale=_known_locale(row.locale) or _known_locale(row.workspace_locale) or default_locale,
        timezone=tz,
    )


def due_reminders(
    uow: UnitOfWork,
    now: datetime | None = None,
    default_locale: str = "en",
    default_tz: str = "UTC",
    per_person: int = REMINDERS_PER_PERSON,
) -> list[PlanReminder]:
    """The reminders due right now: steps past their date in the rep's zone, on a workday
    during working hours there, not reminded for this date yet, reps not paused."""
    moment = now or utcnow()
    # The latest "today" anywhere (UTC+14): SQL keeps a superset, each rep's zone decides.
    before = (moment + timedelta(hours=14)).date()
    rows = q.reminder_candidates(uow.session, before=before, per_person=per_person)
    out: list[PlanReminder] = []
    for row in rows:
        person = _recipient(row, default_locale, default_tz)
        local = moment.astimezone(zone(person.timezone))
        if local.weekday() >= 5 or not (WORK_START <= local.hour < WORK_END):
            continue
        if row.due_on >= local.date():
            continue
        out.append(
            PlanReminder(
                recipient=person,
                step_id=row.step_id,
                due_on=row.due_on,
                deal_id=row.deal_id,
                deal_name=row.deal_name,
                text=row.text,
                owner_kind=row.owner_kind,
                owner_name=row.owner_name,
            )
        )
    return out


def claim_reminder(uow: UnitOfWork, step_id: int, due_on: date) -> q.ReminderClaim | None:
    """Claim one reminder (commit before sending); None: sent or being sent elsewhere."""
    return q.claim_reminder(uow.session, step_id, due_on)


def finish_reminder(uow: UnitOfWork, claim: q.ReminderClaim, error: str | None = None) -> bool:
    """Sent (error None), or released for a retry by a later run."""
    return q.finish_reminder(uow.session, claim, error=error)


def render_reminder(reminder: PlanReminder, flavor: Flavor = "text") -> RenderedReminder:
    """The reminder's words in the rep's language; user text escaped for `flavor`."""
    locale = reminder.recipient.locale
    due = format_date(reminder.due_on, locale)
    if reminder.owner_kind == "customer" and reminder.owner_name:
        body = pt(
            locale,
            "reminder.text_customer",
            step=escape(reminder.text, flavor),
            name=escape(short_name(reminder.owner_name), flavor),
            due=due,
        )
    else:
        body = pt(locale, "reminder.text", step=escape(reminder.text, flavor), due=due)
    return RenderedReminder(
        title=pt(locale, "reminder.title", deal=escape(reminder.deal_name, flavor)),
        text=body,
        done=pt(locale, "reminder.done"),
        move=pt(locale, "reminder.move"),
        drop=pt(locale, "reminder.drop"),
    )


Runner = Callable[..., Awaitable[Any]]


async def send_plan_reminders(
    run: Runner,
    notifiers: Mapping[str, Any],
    *,
    now: datetime | None = None,
    default_locale: str = "en",
    default_tz: str = "UTC",
) -> ReminderReport:
    """Send every reminder due now, each exactly once across replicas. `run(fn, *args)` runs
    `fn(uow, *args)` in one committed transaction (`AsyncStore.run`); `notifiers` maps a
    platform to its `PlanReminderNotifier`."""
    moment = now or utcnow()
    report = ReminderReport()
    due = await run(due_reminders, moment, default_locale, default_tz)
    for reminder in due:
        notifier = notifiers.get(reminder.recipient.platform)
        if notifier is None or not hasattr(notifier, "send_plan_reminder"):
            report.skipped.append(reminder.step_id)
            continue
        claim = await run(claim_reminder, reminder.step_id, reminder.due_on)
        if claim is None:
            report.skipped.append(reminder.step_id)
            continue
        rendered = {f: render_reminder(reminder, f) for f in ("text", "slack", "teams")}
        try:
            await notifier.send_plan_reminder(reminder, rendered)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            log.warning("plan reminder failed", extra={"step": reminder.step_id, "error": error})
            await run(finish_reminder, claim, error)
            report.failed.append((reminder.step_id, error))
            continue
        await run(finish_reminder, claim, None)
        report.sent.append(reminder.step_id)
    return report


# --- forget and export ----------------------------------------------------------------------------


def forget_plans(uow: UnitOfWork, person_ids: list[int]) -> int:
    """For `dealcoach forget`: delete these people's plans with history and reminders
    (call before their deals are deleted); returns the steps deleted."""
    return q.forget(uow.session, person_ids)


def export_plans(
    uow: UnitOfWork,
    *,
    deal_ids: list[int] | None = None,
    after_id: int = 0,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """For `dealcoach export`: one batch of plan steps as JSON-ready records (keyset on the
    step id: pass the last `step_id` as `after_id` for the next batch)."""
    out: list[dict[str, Any]] = []
    for item in q.export_rows(uow.session, deal_ids=deal_ids, after_id=after_id, limit=limit):
        s = item.step
        out.append(
            {
                "step_id": s.id,
                "deal_id": s.deal_id,
                "deal_name": item.deal_name,
                "user_id": item.user_id,
                "review_id": s.created_from_review_id,
                "text": s.text,
                "owner": s.owner_kind,
                "owner_name": s.owner_name,
                "due_on": s.due_on.isoformat(),
                "status": s.status,
                "rule": s.rule,
                "created_at": s.created_at.isoformat(),
                "done_at": s.done_at.isoformat() if s.done_at else None,
                "history": [
                    {
                        "at": e.at.isoformat(),
                        "kind": e.kind,
                        "old_due_on": e.old_due_on.isoformat() if e.old_due_on else None,
                        "new_due_on": e.new_due_on.isoformat() if e.new_due_on else None,
                    }
                    for e in item.events
                ],
            }
        )
    return out


def plans_of_deals(uow: UnitOfWork, deal_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """For `dealcoach export`: the steps of these deals (every status, with history), as
    `export_plans` records without the deal and rep fields, in keyset pages."""
    out: dict[int, list[dict[str, Any]]] = {d: [] for d in deal_ids}
    if not deal_ids:
        return out
    after, page = 0, 1000
    while True:
        batch = export_plans(uow, deal_ids=deal_ids, after_id=after, limit=page)
        for record in batch:
            step = {k: v for k, v in record.items() if k not in ("deal_name", "user_id")}
            out.setdefault(record["deal_id"], []).append(step)
        if len(batch) < page:
            return out
        after = batch[-1]["step_id"]


# --- services ----------------------------------------------------------------------------------


class PlanService:
    """Synchronous (CLI, tests): each call one transaction through `Store.run`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add_step(self, actor: Actor, deal_id: int, text: object, **kw: Any) -> StepChange:
        return self.store.run(add_step, actor, deal_id, text, **kw)

    def add_from_action(self, actor: Actor, review_id: int, index: int, **kw: Any) -> StepChange:
        return self.store.run(add_from_action, actor, review_id, index, **kw)

    def deal_plan(self, actor: Actor, deal_id: int, **kw: Any) -> DealPlan:
        return self.store.run(deal_plan, actor, deal_id, **kw)

    def review_candidates(self, actor: Actor, review_id: int, **kw: Any) -> ReviewCandidates:
        return self.store.run(review_candidates, actor, review_id, **kw)

    def plan_deals(self, actor: Actor, **kw: Any) -> list[DealPlanSummary]:
        return self.store.run(plan_deals, actor, **kw)

    def find_deal(self, actor: Actor, name: str) -> int | None:
        return self.store.run(find_deal, actor, name)

    def my_plans(self, actor: Actor, **kw: Any) -> list[DealPlanSummary]:
        return self.store.run(my_plans, actor, **kw)

    def mark_done(self, actor: Actor, step_id: int, **kw: Any) -> StepChange:
        return self.store.run(mark_done, actor, step_id, **kw)

    def drop(self, actor: Actor, step_id: int, **kw: Any) -> StepChange:
        return self.store.run(drop_step, actor, step_id, **kw)

    def reopen(self, actor: Actor, step_id: int, **kw: Any) -> StepChange:
        return self.store.run(reopen_step, actor, step_id, **kw)

    def move(self, actor: Actor, step_id: int, due_on: date | str | None, **kw: Any) -> StepChange:
        return self.store.run(move_step, actor, step_id, due_on, **kw)

    def history(self, actor: Actor, step_id: int) -> list[q.EventRow]:
        return self.store.run(step_history, actor, step_id)

    def plan_status(self, deal_id: int | None, today: date) -> PlanStatus:
        return self.store.run(plan_status, deal_id, today)

    def progress(self, deal_ids: list[int], today: date) -> dict[int, PlanProgress]:
        return self.store.run(progress_of, deal_ids, today)

    def due_reminders(self, now: datetime | None = None, **kw: Any) -> list[PlanReminder]:
        return self.store.run(due_reminders, now, **kw)

    def claim_reminder(self, step_id: int, due_on: date) -> q.ReminderClaim | None:
        return self.store.run(claim_reminder, step_id, due_on)

    def finish_reminder(self, claim: q.ReminderClaim, error: str | None = None) -> bool:
        return self.store.run(finish_reminder, claim, error)

    def forget(self, person_ids: list[int]) -> int:
        return self.store.run(forget_plans, person_ids)

    def export(self, **kw: Any) -> list[dict[str, Any]]:
        return self.store.run(export_plans, **kw)


class AsyncPlanService:
    """The server's: the same functions through `AsyncStore.run`."""

    def __init__(self, store: AsyncStore) -> None:
        self.store = store

    async def add_step(self, actor: Actor, deal_id: int, text: object, **kw: Any) -> StepChange:
        return await self.store.run(add_step, actor, deal_id, text, **kw)

    async def add_from_action(
        self, actor: Actor, review_id: int, index: int, **kw: Any
    ) -> StepChange:
        return await self.store.run(add_from_action, actor, review_id, index, **kw)

    async def deal_plan(self, actor: Actor, deal_id: int, **kw: Any) -> DealPlan:
        return await self.store.run(deal_plan, actor, deal_id, **kw)

    async def review_candidates(self, actor: Actor, review_id: int, **kw: Any) -> ReviewCandidates:
        return await self.store.run(review_candidates, actor, review_id, **kw)

    async def plan_deals(self, actor: Actor, **kw: Any) -> list[DealPlanSummary]:
        return await self.store.run(plan_deals, actor, **kw)

    async def history(self, actor: Actor, step_id: int) -> list[q.EventRow]:
        return await self.store.run(step_history, actor, step_id)

    async def progress(self, deal_ids: list[int], today: date) -> dict[int, PlanProgress]:
        return await self.store.run(progress_of, deal_ids, today)

    async def find_deal(self, actor: Actor, name: str) -> int | None:
        return await self.store.run(find_deal, actor, name)

    async def my_plans(self, actor: Actor, **kw: Any) -> list[DealPlanSummary]:
        return await self.store.run(my_plans, actor, **kw)

    async def mark_done(self, actor: Actor, step_id: int, **kw: Any) -> StepChange:
        return await self.store.run(mark_done, actor, step_id, **kw)

    async def drop(self, actor: Actor, step_id: int, **kw: Any) -> StepChange:
        return await self.store.run(drop_step, actor, step_id, **kw)

    async def reopen(self, actor: Actor, step_id: int, **kw: Any) -> StepChange:
        return await self.store.run(reopen_step, actor, step_id, **kw)

    async def move(
        self, actor: Actor, step_id: int, due_on: date | str | None, **kw: Any
    ) -> StepChange:
        return await self.store.run(move_step, actor, step_id, due_on, **kw)

    async def plan_status(self, deal_id: int | None, today: date) -> PlanStatus:
        return await self.store.run(plan_status, deal_id, today)

    async def send_reminders(
        self, notifiers: Mapping[str, Any], *, now: datetime | None = None, **kw: Any
    ) -> ReminderReport:
        return await send_plan_reminders(self.store.run, notifiers, now=now, **kw)
