"""Coaching notes (issue 16): the SQL of notes, replies, their counts in the digest, the
follow-up of notes left open, forgetting them, and the reads of a manager's 1:1 prep.

Plain functions on a session (like `store/digests.py`); services call them inside a unit of
work. Rows handed out are ORM objects valid inside that unit of work, or frozen dataclasses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, delete, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from dealcoach.store.models import CoachingNote, Deal, Person, Review, ReviewFlag
from dealcoach.store.types import utcnow

# A note still open this long after it was written is listed in the manager's next digest.
FOLLOW_UP_AFTER = timedelta(days=7)

# --- notes and replies ------------------------------------------------------------------------


def add(
    session: Session,
    review: Review,
    author: Person,
    body: str,
    *,
    action: str | None = None,
    parent: CoachingNote | None = None,
) -> CoachingNote:
    note = CoachingNote(
        review_id=review.id,
        deal_id=review.deal_id,
        parent_id=parent.id if parent is not None else None,
        author_id=author.id,
        body=body,
        action=action,
        status=None if parent is not None else "open",
        created_at=utcnow(),
    )
    session.add(note)
    session.flush()
    return note


def recent_same(
    session: Session,
    review_id: int,
    author_id: int,
    body: str,
    parent_id: int | None,
    since: datetime,
) -> CoachingNote | None:
    """The same note or reply by the same author on the same review (and thread) written
    since `since`: a double click, a resubmitted card or a retry, not a second note."""
    parent = (
        CoachingNote.parent_id.is_(None)
        if parent_id is None
        else CoachingNote.parent_id == parent_id
    )
    return session.scalars(
        select(CoachingNote)
        .where(
            CoachingNote.review_id == review_id,
            CoachingNote.author_id == author_id,
            CoachingNote.body == body,
            parent,
            CoachingNote.created_at >= since,
        )
        .order_by(CoachingNote.id)
        .limit(1)
    ).one_or_none()


def get(session: Session, note_id: int, *, lock: bool = False) -> CoachingNote | None:
    query = select(CoachingNote).where(CoachingNote.id == note_id)
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def mark_done(session: Session, note: CoachingNote) -> bool:
    """Open → done; False when it was done already (a second click changes nothing)."""
    result = session.execute(
        update(CoachingNote)
        .where(CoachingNote.id == note.id, CoachingNote.status == "open")
        .values(status="done", done_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.expire(note)
    return bool(getattr(result, "rowcount", 0))


@dataclass(frozen=True)
class NoteRow:
    id: int
    review_id: int
    deal_id: int | None
    parent_id: int | None
    author_id: int
    author_user_id: str
    author_name: str | None
    body: str
    action: str | None
    status: str | None
    created_at: datetime
    done_at: datetime | None


# Made once: building an alias costs more than the query it serves (it adapts every column).
_AUTHOR = aliased(Person, name="author")


def _rows(session: Session, where: object) -> list[NoteRow]:
    author = _AUTHOR
    result = session.execute(
        select(
            CoachingNote.id,
            CoachingNote.review_id,
            CoachingNote.deal_id,
            CoachingNote.parent_id,
            CoachingNote.author_id,
            author.user_id,
            author.display_name,
            CoachingNote.body,
            CoachingNote.action,
            CoachingNote.status,
            CoachingNote.created_at,
            CoachingNote.done_at,
        )
        .join(author, author.id == CoachingNote.author_id)
        .where(where)  # type: ignore[arg-type]
        .order_by(CoachingNote.created_at, CoachingNote.id)
    )
    return [NoteRow(*tuple(row)) for row in result.all()]


def on_review(session: Session, review_id: int) -> list[NoteRow]:
    """Every note and reply on one review, oldest first."""
    return _rows(session, CoachingNote.review_id == review_id)


def on_deal_before(session: Session, deal_id: int, review_id: int) -> list[NoteRow]:
    """Notes and replies on the deal's *earlier* reviews (shown with its next review)."""
    return _rows(session, and_(CoachingNote.deal_id == deal_id, CoachingNote.review_id < review_id))


def thread_of(session: Session, note_id: int) -> list[NoteRow]:
    return _rows(session, or_(CoachingNote.id == note_id, CoachingNote.parent_id == note_id))


def counts_by_review(session: Session, review_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """review id → (notes, open notes), replies not counted."""
    if not review_ids:
        return {}
    rows = session.execute(
        select(
            CoachingNote.review_id,
            func.count(),
            func.sum(case((CoachingNote.status == "open", 1), else_=0)),
        )
        .where(CoachingNote.review_id.in_(list(review_ids)), CoachingNote.parent_id.is_(None))
        .group_by(CoachingNote.review_id)
    ).all()
    return {int(r[0]): (int(r[1]), int(r[2] or 0)) for r in rows}


# --- open notes of a rep (prep) ---------------------------------------------------------------


@dataclass(frozen=True)
class OpenNoteRow:
    note_id: int
    review_id: int
    deal_name: str | None
    body: str
    action: str | None
    created_at: datetime
    author_id: int


def open_notes_of_member(session: Session, member_id: int) -> list[OpenNoteRow]:
    rows = session.execute(
        select(
            CoachingNote.id,
            CoachingNote.review_id,
            Deal.name,
            CoachingNote.body,
            CoachingNote.action,
            CoachingNote.created_at,
            CoachingNote.author_id,
        )
        .join(Review, Review.id == CoachingNote.review_id)
        .outerjoin(Deal, Deal.id == Review.deal_id)
        .where(
            Review.person_id == member_id,
            CoachingNote.parent_id.is_(None),
            CoachingNote.status == "open",
        )
        .order_by(CoachingNote.created_at, CoachingNote.id)
    ).all()
    return [OpenNoteRow(*row) for row in rows]


# --- the digest: coaching given, follow-up ------------------------------------------------------


@dataclass(frozen=True)
class CoachingCount:
    author_id: int
    notes: int
    deals: int
    open: int


def given_between(
    session: Session, author_ids: Sequence[int], start: datetime, end: datetime
) -> dict[int, CoachingCount]:
    """Per author: notes written in [start, end), on how many deals, how many still open."""
    if not author_ids:
        return {}
    rows = session.execute(
        select(
            CoachingNote.author_id,
            func.count(),
            func.count(func.distinct(func.coalesce(CoachingNote.deal_id, -CoachingNote.review_id))),
            func.sum(case((CoachingNote.status == "open", 1), else_=0)),
        )
        .where(
            CoachingNote.author_id.in_(list(author_ids)),
            CoachingNote.parent_id.is_(None),
            CoachingNote.created_at >= start,
            CoachingNote.created_at < end,
        )
        .group_by(CoachingNote.author_id)
    ).all()
    return {int(r[0]): CoachingCount(int(r[0]), int(r[1]), int(r[2]), int(r[3] or 0)) for r in rows}


@dataclass(frozen=True)
class FollowUpRow:
    note_id: int
    author_id: int
    review_id: int
    deal_name: str | None
    rep_user_id: str
    rep_name: str | None
    body: str
    created_at: datetime


def followups(
    session: Session, author_ids: Sequence[int], older_than: datetime, week: str
) -> list[FollowUpRow]:
    """Open notes written before `older_than` that no digest listed yet, or that this same
    week's digest listed (a retried digest shows them again; the next week's never does)."""
    if not author_ids:
        return []
    rep = aliased(Person)
    rows = session.execute(
        select(
            CoachingNote.id,
            CoachingNote.author_id,
            CoachingNote.review_id,
            Deal.name,
            rep.user_id,
            rep.display_name,
            CoachingNote.body,
            CoachingNote.created_at,
        )
        .join(Review, Review.id == CoachingNote.review_id)
        .join(rep, rep.id == Review.person_id)
        .outerjoin(Deal, Deal.id == Review.deal_id)
        .where(
            CoachingNote.author_id.in_(list(author_ids)),
            CoachingNote.parent_id.is_(None),
            CoachingNote.status == "open",
            CoachingNote.created_at < older_than,
            or_(CoachingNote.followed_up_week.is_(None), CoachingNote.followed_up_week == week),
        )
        .order_by(CoachingNote.created_at, CoachingNote.id)
    ).all()
    return [FollowUpRow(*row) for row in rows]


def mark_followed_up(session: Session, note_ids: Sequence[int], week: str) -> int:
    """Record that `week`'s digest listed these notes (only those no digest listed yet)."""
    if not note_ids:
        return 0
    result = session.execute(
        update(CoachingNote)
        .where(CoachingNote.id.in_(list(note_ids)), CoachingNote.followed_up_week.is_(None))
        .values(followed_up_week=week)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


# --- forgetting -------------------------------------------------------------------------------


def forget(session: Session, person_ids: Sequence[int]) -> int:
    """Delete every note and reply written by these people or on their reviews (before the
    people and their reviews are deleted); the number of rows deleted."""
    ids = list(person_ids)
    if not ids:
        return 0
    their_reviews = select(Review.id).where(Review.person_id.in_(ids))
    doomed = select(CoachingNote.id).where(
        or_(CoachingNote.author_id.in_(ids), CoachingNote.review_id.in_(their_reviews))
    )
    # Replies first (also replies by others under a doomed note), then the notes.
    replies = session.execute(
        delete(CoachingNote)
        .where(CoachingNote.parent_id.in_(doomed.scalar_subquery()))
        .execution_options(synchronize_session=False)
    )
    notes = session.execute(
        delete(CoachingNote)
        .where(or_(CoachingNote.author_id.in_(ids), CoachingNote.review_id.in_(their_reviews)))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(replies, "rowcount", 0) or 0) + int(getattr(notes, "rowcount", 0) or 0)


# --- 1:1 prep ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LatestReviewRow:
    review_id: int
    deal_id: int
    deal_name: str
    stage: str | None
    value: float | None
    recommendation: str | None
    quadrant: str | None
    completed_at: datetime


def latest_open_deal_reviews(session: Session, member_id: int) -> list[LatestReviewRow]:
    """The latest completed review of each of the rep's open deals (ROW_NUMBER per deal)."""
    ranked = (
        select(
            Review.id.label("review_id"),
            Review.deal_id.label("deal_id"),
            Review.recommendation.label("recommendation"),
            Review.quadrant.label("quadrant"),
            Review.completed_at.label("completed_at"),
            func.row_number()
            .over(
                partition_by=Review.deal_id, order_by=(Review.completed_at.desc(), Review.id.desc())
            )
            .label("rank"),
        )
        .where(
            Review.person_id == member_id,
            Review.status == "completed",
            Review.deal_id.is_not(None),
        )
        .subquery()
    )
    rows = session.execute(
        select(
            ranked.c.review_id,
            Deal.id,
            Deal.name,
            Deal.stage,
            Deal.value,
            ranked.c.recommendation,
            ranked.c.quadrant,
            ranked.c.completed_at,
        )
        .join(Deal, Deal.id == ranked.c.deal_id)
        .where(ranked.c.rank == 1, Deal.outcome == "open")
        .order_by(ranked.c.completed_at.desc())
    ).all()
    return [LatestReviewRow(*row) for row in rows]


def flags_of(session: Session, review_ids: Sequence[int]) -> dict[int, list[str]]:
    if not review_ids:
        return {}
    out: dict[int, list[str]] = {}
    for review_id, flag in session.execute(
        select(ReviewFlag.review_id, ReviewFlag.flag)
        .where(ReviewFlag.review_id.in_(list(review_ids)))
        .order_by(ReviewFlag.review_id, ReviewFlag.flag)
    ).all():
        out.setdefault(int(review_id), []).append(str(flag))
    return out


def flag_counts_since(
    session: Session, member_id: int, since: datetime
) -> tuple[int, list[tuple[str, int]]]:
    """(completed reviews since `since`, [(flag, reviews it fired in)], most frequent first)."""
    total = session.scalar(
        select(func.count())
        .select_from(Review)
        .where(
            Review.person_id == member_id,
            Review.status == "completed",
            Review.completed_at >= since,
        )
    )
    rows = session.execute(
        select(ReviewFlag.flag, func.count())
        .join(Review, Review.id == ReviewFlag.review_id)
        .where(
            Review.person_id == member_id,
            Review.status == "completed",
            Review.completed_at >= since,
        )
        .group_by(ReviewFlag.flag)
        .order_by(func.count().desc(), ReviewFlag.flag)
    ).all()
    return int(total or 0), [(str(f), int(n)) for f, n in rows]


def on_reviews(session: Session, review_ids: Sequence[int]) -> list[NoteRow]:
    """Every note and reply on these reviews (export: one query per batch of reviews)."""
    if not review_ids:
        return []
    return _rows(session, CoachingNote.review_id.in_(list(review_ids)))


def deal_noted_before(session: Session, review_ids: Sequence[int]) -> set[int]:
    """Of these reviews, those whose deal has coaching notes on an earlier review."""
    if not review_ids:
        return set()
    rows = session.execute(
        select(Review.id)
        .join(
            CoachingNote,
            and_(CoachingNote.deal_id == Review.deal_id, CoachingNote.review_id < Review.id),
        )
        .where(Review.id.in_(list(review_ids)))
        .distinct()
    ).all()
    return {int(r[0]) for r in rows}
