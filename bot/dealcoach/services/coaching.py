"""Managers coach (issue 16): open a rep's review, coaching notes with replies and *done*, and
the 1:1 prep page.

Who may do what, once for every adapter:
- *Open review*: the rep's own manager (the `team_membership` row) or the rep themselves.
- *Add a note*: only the rep's own manager, on a completed review.
- *Reply*: the rep whose review it is, or the manager who wrote the note.
- *Mark as done*: the rep, or the note's author.
- *Prep*: only the rep's own manager.
Everyone else gets `CoachingRefused` (a `Forbidden` with a wording key: the adapters say it
in the asker's language from `prompts/<locale>/coaching.yaml`). Unknown ids are `NotFound`.

Each use case is a function `fn(uow, …)` run in one transaction by `CoachingService` (sync:
CLI, tests) or `AsyncCoachingService` (the server). Results are frozen dataclasses, never ORM
objects. Note text is validated here (trimmed, 1..`MAX_NOTE` characters, no NUL) and stored
as typed; the adapters escape it for their markup.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dealcoach.coach.advice import AdviceModel
from dealcoach.coach.bank import LOCALES, load_bank
from dealcoach.coach.plans import step_line
from dealcoach.errors import Forbidden, InputError, NotFound
from dealcoach.services.actors import Actor
from dealcoach.services.people import locale_for, resolve_person
from dealcoach.services.plans import local_today
from dealcoach.store import notes as q
from dealcoach.store import plans as plan_q
from dealcoach.store.models import CoachingNote, Person, Review
from dealcoach.store.types import utcnow
from dealcoach.store.uow import AsyncStore, Store, UnitOfWork
from dealcoach.ui_text import translate

MAX_NOTE = 1000
MAX_ACTION = 500
PREP_DEALS = 3
PREP_WEEKS = 8
THEME_MIN_REVIEWS = 2

_RISK = {"walk_away": 4, "renegotiate": 3, "strengthen": 2, "pursue": 0}
_LATE_STAGES = ("negotiation", "closing")
# Which flag's coaching question a deal gets, most telling first.
QUESTION_FLAGS = (
    "silent_after_invite",
    "not_market_conform",
    "below_cost_no_reason",
    "customer_not_ready",
    "competitor_relationship",
    "new_decision_maker",
    "agenda_unknown",
    "interests_conflict",
    "champion_untested",
    "fit_unverified",
    "cons_not_explained",
    "plan_slipping",
)


def ct(locale: str | None, key: str, **values: object) -> str:
    """Coaching wording from `prompts/<locale>/coaching.yaml`."""
    return translate("coaching", locale, key, **values)


class CoachingRefused(Forbidden):
    """A refusal with a wording key (`coaching.yaml`: `refused.<key>`)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


class NoteInvalid(InputError):
    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Contact:
    """Someone to tell, in the adapter's terms."""

    person_id: int
    platform: str
    workspace_id: str
    user_id: str
    name: str
    locale: str
    conversation_ref: dict[str, Any] | None = None


@dataclass(frozen=True)
class ReplyView:
    reply_id: int
    author_user_id: str
    author_name: str
    body: str
    created_at: datetime


@dataclass(frozen=True)
class NoteView:
    note_id: int
    review_id: int
    author_user_id: str
    author_name: str
    body: str
    action: str | None
    status: str
    created_at: datetime
    done_at: datetime | None
    replies: tuple[ReplyView, ...] = ()

    @property
    def open(self) -> bool:
        return self.status == "open"


@dataclass(frozen=True)
class ManagedReview:
    """A completed review as its rep's manager (or the rep) opens it."""

    review_id: int
    locale: str  # the viewer's language (interface wording)
    review_locale: str
    deal_name: str | None
    rep: Contact
    completed_at: datetime | None
    advice: AdviceModel
    answers: dict[str, Any]
    actions: tuple[str, ...]  # the review's actions (a note may be about one)
    notes: tuple[NoteView, ...]
    earlier_notes: tuple[NoteView, ...]  # on the deal's earlier reviews
    viewer_is_manager: bool
    recommendation: str | None = None


@dataclass(frozen=True)
class NoteDelivery:
    """What an adapter sends after a note, a reply or *done*: who to tell and what."""

    kind: str  # note | reply | done
    note: NoteView
    deal_name: str | None
    sender: Contact
    recipient: Contact | None  # None: nobody to tell (e.g. done by the author)
    changed: bool = True  # False: nothing changed (done twice, the same note or reply again)


@dataclass(frozen=True)
class PrepDeal:
    review_id: int
    deal_name: str
    stage: str | None
    value: float | None
    recommendation: str | None
    quadrant: str | None
    flags: tuple[str, ...]
    score: int
    question: str


@dataclass(frozen=True)
class PrepTheme:
    flag: str
    reviews: int
    total: int


@dataclass(frozen=True)
class PrepNote:
    note_id: int
    review_id: int
    deal_name: str | None
    body: str
    action: str | None
    days_open: int


@dataclass(frozen=True)
class Prep:
    locale: str
    manager_name: str
    rep: Contact
    deals: tuple[PrepDeal, ...]
    themes: tuple[PrepTheme, ...]
    open_notes: tuple[PrepNote, ...]
    overdue_steps: tuple[str, ...]  # the rep's close-plan steps past their date
    weeks: int = PREP_WEEKS


# The same text by the same author on the same review (thread) within this window is one
# note: a double click, a resubmitted card, a retried request — stored and sent once.
SAME_NOTE_WINDOW = timedelta(minutes=10)


# --- helpers ----------------------------------------------------------------------------------


def _short(value: str) -> str:
    """The part before the first comma or parenthesis (DESIGN: agenda.N.who)."""
    return re.split(r"[,(]", value, maxsplit=1)[0].strip() or value.strip()


def _locale_of(person: Person, default: str = "en", spoken: str | None = None) -> str:
    """Their own choice, else the language they reviewed in (`spoken`), else the
    workspace's, else the default."""
    for value in (person.locale, spoken, person.workspace.default_locale, default):
        short = (value or "").replace("_", "-").split("-")[0].lower()
        if short in LOCALES:
            return short
    return "en"


def _contact(person: Person, default_locale: str = "en", spoken: str | None = None) -> Contact:
    ws = person.workspace
    return Contact(
        person_id=person.id,
        platform=ws.platform,
        workspace_id=ws.external_id,
        user_id=person.user_id,
        name=person.display_name or person.user_id,
        locale=_locale_of(person, default_locale, spoken),
        conversation_ref=person.teams_conversation_ref,
    )


def _me(uow: UnitOfWork, actor: Actor) -> Person | None:
    workspace = uow.workspaces.find(actor.platform, actor.workspace_id)
    return uow.people.find(workspace.id, actor.user_id) if workspace is not None else None


def _review(uow: UnitOfWork, review_id: int) -> Review:
    review = uow.reviews.get(review_id)
    if review is None:
        raise NotFound(f"review {review_id} does not exist")
    return review


def _is_manager_of(uow: UnitOfWork, me: Person | None, member_id: int) -> bool:
    if me is None:
        return False
    manager = uow.reporting.manager_of(member_id)
    return manager is not None and manager.id == me.id


def clean_text(raw: object, limit: int = MAX_NOTE) -> str:
    if not isinstance(raw, str):
        raise NoteInvalid("empty", "write a note first")
    text = raw.replace("\r\n", "\n").strip()
    if "\x00" in text:
        raise NoteInvalid("bad_text", "the note holds a character that cannot be stored")
    if not text:
        raise NoteInvalid("empty", "write a note first")
    if len(text) > limit:
        raise NoteInvalid("too_long", f"a note holds at most {limit} characters")
    return text


def _views(rows: Sequence[q.NoteRow]) -> tuple[NoteView, ...]:
    replies: dict[int, list[ReplyView]] = {}
    for r in rows:
        if r.parent_id is not None:
            replies.setdefault(r.parent_id, []).append(
                ReplyView(
                    r.id, r.author_user_id, r.author_name or r.author_user_id, r.body, r.created_at
                )
            )
    return tuple(
        NoteView(
            note_id=r.id,
            review_id=r.review_id,
            author_user_id=r.author_user_id,
            author_name=r.author_name or r.author_user_id,
            body=r.body,
            action=r.action,
            status=r.status or "open",
            created_at=r.created_at,
            done_at=r.done_at,
            replies=tuple(replies.get(r.id, ())),
        )
        for r in rows
        if r.parent_id is None
    )


def _note_view(uow: UnitOfWork, note_id: int) -> NoteView:
    views = _views(q.thread_of(uow.session, note_id))
    return views[0]


def _actions(data: dict[str, Any]) -> tuple[str, ...]:
    found: list[str] = []
    for item in data.get("actions") or []:
        text = item.get("text") if isinstance(item, dict) else None
        if isinstance(text, str) and text.strip():
            found.append(text.strip())
    if not found:
        found = [s for s in data.get("next_steps") or [] if isinstance(s, str) and s.strip()]
    return tuple(found[:6])


# --- use cases --------------------------------------------------------------------------------


def open_review(
    uow: UnitOfWork, actor: Actor, review_id: int, default_locale: str = "en"
) -> ManagedReview:
    """A completed review with its advice, answers, notes and the deal's earlier notes."""
    review = _review(uow, review_id)
    me = _me(uow, actor)
    is_manager = _is_manager_of(uow, me, review.person_id)
    if not is_manager and (me is None or me.id != review.person_id):
        raise CoachingRefused("not_your_rep", "only the rep's own manager can open this review")
    if review.status != "completed":
        raise CoachingRefused("not_completed", "this review is not finished yet")
    stored = uow.reviews.assessment(review.id)
    if stored is None or stored.advice is None:
        raise NotFound(f"review {review_id} has no advice")
    assert me is not None
    earlier = (
        _views(q.on_deal_before(uow.session, review.deal_id, review.id))
        if review.deal_id is not None
        else ()
    )
    return ManagedReview(
        review_id=review.id,
        locale=locale_for(me, actor, default_locale),
        review_locale=review.locale,
        deal_name=review.deal.name if review.deal is not None else None,
        rep=_contact(review.person, default_locale, review.locale),
        completed_at=review.completed_at,
        advice=AdviceModel.model_validate(stored.advice),
        answers=uow.reviews.answers(review.id),
        actions=_actions(stored.data or {}),
        notes=_views(q.on_review(uow.session, review.id)),
        earlier_notes=earlier,
        viewer_is_manager=is_manager,
        recommendation=review.recommendation,
    )


def earlier_notes(uow: UnitOfWork, actor: Actor, review_id: int) -> tuple[NoteView, ...]:
    """The coaching notes (with their replies) on the deal's *earlier* reviews, for the rep's
    next review of it: shown with its advice, so the coaching follows the deal. Only the
    review's own rep gets them here (managers open the review)."""
    review = _review(uow, review_id)
    me = _me(uow, actor)
    if me is None or me.id != review.person_id:
        return ()
    return notes_before(uow, review)


def notes_before(uow: UnitOfWork, review: Review) -> tuple[NoteView, ...]:
    """`earlier_notes` of a review its rep was already checked for (in that transaction: a
    review completing hands them to the adapter with its advice)."""
    if review.deal_id is None:
        return ()
    return _views(q.on_deal_before(uow.session, review.deal_id, review.id))


def add_note(
    uow: UnitOfWork,
    actor: Actor,
    review_id: int,
    body: object,
    action: object = None,
    default_locale: str = "en",
) -> NoteDelivery:
    review = _review(uow, review_id)
    me = _me(uow, actor)
    if not _is_manager_of(uow, me, review.person_id):
        raise CoachingRefused("not_your_rep", "only the rep's own manager can add a note")
    assert me is not None
    if review.status != "completed":
        raise CoachingRefused("not_completed", "this review is not finished yet")
    text = clean_text(body)
    about: str | None = None
    if isinstance(action, str) and action.strip():
        about = clean_text(action, MAX_ACTION)
    uow.people.lock(me)  # one author's concurrent submits queue here, then see the note
    same = q.recent_same(uow.session, review.id, me.id, text, None, utcnow() - SAME_NOTE_WINDOW)
    note = same or q.add(uow.session, review, me, text, action=about)
    return NoteDelivery(
        kind="note",
        note=_note_view(uow, note.id),
        deal_name=review.deal.name if review.deal is not None else None,
        sender=_contact(me, default_locale),
        recipient=_contact(review.person, default_locale, review.locale),
        changed=same is None,
    )


def _note_and_review(uow: UnitOfWork, note_id: int) -> tuple[CoachingNote, Review]:
    note = q.get(uow.session, note_id, lock=True)
    if note is None or note.parent_id is not None:
        raise NotFound(f"note {note_id} does not exist")
    return note, _review(uow, note.review_id)


def reply(
    uow: UnitOfWork, actor: Actor, note_id: int, body: object, default_locale: str = "en"
) -> NoteDelivery:
    note, review = _note_and_review(uow, note_id)
    me = _me(uow, actor)
    if me is None or me.id not in (review.person_id, note.author_id):
        raise CoachingRefused("not_your_note", "only the rep and their manager can reply")
    text = clean_text(body)
    uow.people.lock(me)
    since = utcnow() - SAME_NOTE_WINDOW
    same = q.recent_same(uow.session, review.id, me.id, text, note.id, since)
    if same is None:
        q.add(uow.session, review, me, text, parent=note)
    to_rep = me.id != review.person_id
    other = uow.people.get(review.person_id if to_rep else note.author_id)
    spoken = review.locale if to_rep else None
    return NoteDelivery(
        kind="reply",
        note=_note_view(uow, note.id),
        deal_name=review.deal.name if review.deal is not None else None,
        sender=_contact(me, default_locale),
        recipient=_contact(other, default_locale, spoken) if other is not None else None,
        changed=same is None,
    )


def mark_done(
    uow: UnitOfWork, actor: Actor, note_id: int, default_locale: str = "en"
) -> NoteDelivery:
    note, review = _note_and_review(uow, note_id)
    me = _me(uow, actor)
    if me is None or me.id not in (review.person_id, note.author_id):
        raise CoachingRefused("not_your_note", "only the rep and their manager can close a note")
    changed = q.mark_done(uow.session, note)
    author = uow.people.get(note.author_id)
    tell = author if author is not None and author.id != me.id else None
    return NoteDelivery(
        kind="done",
        note=_note_view(uow, note_id),
        deal_name=review.deal.name if review.deal is not None else None,
        sender=_contact(me, default_locale),
        recipient=_contact(tell, default_locale) if tell is not None and changed else None,
        changed=changed,
    )


def note_counts(uow: UnitOfWork, review_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """review id → (notes, open notes), for history lines."""
    return q.counts_by_review(uow.session, review_ids)


def history_notes(
    uow: UnitOfWork, review_ids: Sequence[int]
) -> tuple[dict[int, tuple[int, int]], set[int]]:
    """For a history list: each review's (notes, open notes), and the reviews worth opening
    for their notes — their own, or notes on earlier reviews of the same deal."""
    counts = q.counts_by_review(uow.session, review_ids)
    return counts, set(counts) | q.deal_noted_before(uow.session, review_ids)


# --- 1:1 prep -----------------------------------------------------------------------------------


def _who(answers: dict[str, Any], locale: str) -> str:
    first: str | None = None
    for n in range(1, 7):
        who = answers.get(f"agenda.{n}.who")
        if not isinstance(who, str) or not who.strip():
            continue
        if first is None:
            first = who
        if answers.get(f"agenda.{n}.role") == "economic_buyer":
            return _short(who)
    return _short(first) if first else ct(locale, "prep.someone")


def coaching_question(
    locale: str, flags: Sequence[str], recommendation: str | None, who: str, deal: str
) -> str:
    for flag in QUESTION_FLAGS:
        if flag in flags:
            return ct(locale, f"question.{flag}", who=who, deal=deal)
    key = f"question.rec_{recommendation or 'pursue'}"
    return ct(locale, key, who=who, deal=deal)


def _score(row: q.LatestReviewRow, flags: Sequence[str]) -> int:
    score = _RISK.get(row.recommendation or "", 1) + len(flags)
    return score + (2 if row.stage in _LATE_STAGES else 0)


def _prep(uow: UnitOfWork, manager: Person, member: Person, locale: str, now: datetime) -> Prep:
    if not _is_manager_of(uow, manager, member.id):
        raise CoachingRefused("not_your_rep", "prep is only for the rep's own manager")
    session = uow.session
    latest = q.latest_open_deal_reviews(session, member.id)
    flags = q.flags_of(session, [r.review_id for r in latest])
    ranked = sorted(
        latest,
        key=lambda r: (-_score(r, flags.get(r.review_id, [])), -r.completed_at.timestamp()),
    )[:PREP_DEALS]
    deals: list[PrepDeal] = []
    for row in ranked:
        row_flags = tuple(flags.get(row.review_id, ()))
        who = _who(uow.reviews.answers(row.review_id), locale)
        deals.append(
            PrepDeal(
                review_id=row.review_id,
                deal_name=row.deal_name,
                stage=row.stage,
                value=row.value,
                recommendation=row.recommendation,
                quadrant=row.quadrant,
                flags=row_flags,
                score=_score(row, row_flags),
                question=coaching_question(
                    locale, row_flags, row.recommendation, who, row.deal_name
                ),
            )
        )
    total, counts = q.flag_counts_since(session, member.id, now - timedelta(weeks=PREP_WEEKS))
    themes = tuple(
        PrepTheme(flag=f, reviews=n, total=total) for f, n in counts if n >= THEME_MIN_REVIEWS
    )[:3]
    open_notes = tuple(
        PrepNote(
            note_id=n.note_id,
            review_id=n.review_id,
            deal_name=n.deal_name,
            body=n.body,
            action=n.action,
            days_open=max(0, (now - n.created_at).days),
        )
        for n in q.open_notes_of_member(session, member.id)
    )
    return Prep(
        locale=locale,
        manager_name=manager.display_name or manager.user_id,
        rep=_contact(member),
        deals=tuple(deals),
        themes=themes,
        open_notes=open_notes,
        overdue_steps=_overdue_steps(uow, member, locale, now),
    )


def _overdue_steps(uow: UnitOfWork, member: Person, locale: str, now: datetime) -> tuple[str, ...]:
    """The rep's close-plan steps past their date (issue 15), as plain lines — the prep
    template escapes them for its flavour."""
    today = local_today(member, now)
    return tuple(
        f"{deal_name}: "
        + step_line(step.text, step.owner_kind, step.owner_name, step.due_on, locale, "text")
        for deal_name, step in plan_q.overdue_of_person(uow.session, member.id, today)
    )


def prep(
    uow: UnitOfWork, actor: Actor, member_user_id: str, now: datetime, default_locale: str = "en"
) -> Prep:
    """`/dealcoach prep @rep` (Slack), `prep @rep` (Teams): the member is named by their id
    in the asker's workspace, or platform-qualified (`teams:<id>`, `slack:U123`)."""
    from dealcoach.services.reporting import resolver

    me = resolve_person(uow, actor, default_locale)
    locale = locale_for(me, actor, default_locale)
    if not member_user_id.strip():
        raise NoteInvalid("prep_usage", "name the rep: prep @rep")
    try:
        workspace, user_id = resolver(uow, lambda: me.workspace)(member_user_id)
    except (InputError, NotFound) as err:
        raise CoachingRefused("not_your_rep", str(err)) from err
    member = uow.people.find(workspace.id, user_id)
    if member is None:
        raise CoachingRefused("not_your_rep", "prep is only for the rep's own manager")
    return _prep(uow, me, member, locale, now)


def cli_prep(
    uow: UnitOfWork,
    workspace: str | None,
    manager_id: str,
    member_id: str,
    now: datetime,
    default_locale: str = "en",
) -> Prep:
    """`dealcoach prep --manager ID --member ID [--workspace ID]` (ops)."""
    from dealcoach.services.reporting import find_workspace, resolver

    resolve = resolver(uow, lambda: find_workspace(uow, workspace))
    people: list[Person] = []
    for raw in (manager_id, member_id):
        ws, user_id = resolve(raw)
        found = uow.people.find(ws.id, user_id)
        if found is None:
            raise NotFound(f"no user {raw!r} is known")
        people.append(found)
    manager, member = people
    return _prep(uow, manager, member, _locale_of(manager, default_locale), now)


# --- the services -------------------------------------------------------------------------------


class CoachingService:
    """Sync (CLI, tests)."""

    def __init__(self, store: Store, *, default_locale: str = "en") -> None:
        self.store = store
        self.default_locale = default_locale

    def earlier_notes(self, actor: Actor, review_id: int) -> tuple[NoteView, ...]:
        return self.store.run(earlier_notes, actor, review_id)

    def open_review(self, actor: Actor, review_id: int) -> ManagedReview:
        return self.store.run(open_review, actor, review_id, self.default_locale)

    def add_note(
        self, actor: Actor, review_id: int, body: object, action: object = None
    ) -> NoteDelivery:
        return self.store.run(add_note, actor, review_id, body, action, self.default_locale)

    def reply(self, actor: Actor, note_id: int, body: object) -> NoteDelivery:
        return self.store.run(reply, actor, note_id, body, self.default_locale)

    def mark_done(self, actor: Actor, note_id: int) -> NoteDelivery:
        return self.store.run(mark_done, actor, note_id, self.default_locale)

    def note_counts(self, review_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        return self.store.run(note_counts, review_ids)

    def history_notes(
        self, review_ids: Sequence[int]
    ) -> tuple[dict[int, tuple[int, int]], set[int]]:
        return self.store.run(history_notes, review_ids)

    def prep(self, actor: Actor, member_user_id: str, *, now: datetime | None = None) -> Prep:
        return self.store.run(prep, actor, member_user_id, now or utcnow(), self.default_locale)

    def cli_prep(
        self,
        manager_id: str,
        member_id: str,
        *,
        workspace: str | None = None,
        now: datetime | None = None,
    ) -> Prep:
        return self.store.run(
            cli_prep, workspace, manager_id, member_id, now or utcnow(), self.default_locale
        )


class AsyncCoachingService:
    """The same use cases on the asyncio server."""

    def __init__(self, store: AsyncStore, *, default_locale: str = "en") -> None:
        self.store = store
        self.default_locale = default_locale

    async def open_review(self, actor: Actor, review_id: int) -> ManagedReview:
        return await self.store.run(open_review, actor, review_id, self.default_locale)

    async def earlier_notes(self, actor: Actor, review_id: int) -> tuple[NoteView, ...]:
        found: tuple[NoteView, ...] = await self.store.run(earlier_notes, actor, review_id)
        return found

    async def add_note(
        self, actor: Actor, review_id: int, body: object, action: object = None
    ) -> NoteDelivery:
        return await self.store.run(add_note, actor, review_id, body, action, self.default_locale)

    async def reply(self, actor: Actor, note_id: int, body: object) -> NoteDelivery:
        return await self.store.run(reply, actor, note_id, body, self.default_locale)

    async def mark_done(self, actor: Actor, note_id: int) -> NoteDelivery:
        return await self.store.run(mark_done, actor, note_id, self.default_locale)

    async def note_counts(self, review_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        return await self.store.run(note_counts, review_ids)

    async def history_notes(
        self, review_ids: Sequence[int]
    ) -> tuple[dict[int, tuple[int, int]], set[int]]:
        return await self.store.run(history_notes, review_ids)

    async def prep(self, actor: Actor, member_user_id: str, *, now: datetime | None = None) -> Prep:
        return await self.store.run(
            prep, actor, member_user_id, now or utcnow(), self.default_locale
        )


def bank_flag_label(locale: str, flag: str) -> str:
    return load_bank(locale).labels.flags.get(flag, flag)
