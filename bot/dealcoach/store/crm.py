"""CRM link (issue 17): the SQL of CRM connections and review links.

Plain functions on a session (like `store/notes.py`); services call them inside a unit of
work. Credentials arrive here already encrypted and leave encrypted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from dealcoach.store.models import CrmConnection, CrmReviewLink, Workspace
from dealcoach.store.types import utcnow

# A save claimed longer ago than this is taken to have died with its process.
SAVE_CLAIM_TTL = timedelta(minutes=2)


@dataclass(frozen=True)
class ConnectionRow:
    workspace_id: int
    provider: str
    credentials: str  # the Fernet token


@dataclass(frozen=True)
class LinkRow:
    review_id: int
    provider: str
    deal_ref: str
    contacts: list[dict[str, Any]]
    note_ref: str | None
    saved_at: datetime | None


def _row(c: CrmConnection) -> ConnectionRow:
    return ConnectionRow(c.workspace_id, c.provider, c.credentials)


def _link(link: CrmReviewLink) -> LinkRow:
    return LinkRow(
        link.review_id,
        link.provider,
        link.deal_ref,
        list(link.contacts or []),
        link.note_ref,
        link.saved_at,
    )


def workspace_id(session: Session, platform: str, external_id: str) -> int | None:
    return session.scalar(
        select(Workspace.id).where(
            Workspace.platform == platform, Workspace.external_id == external_id
        )
    )


def platforms_of(session: Session, external_id: str) -> list[str]:
    return list(
        session.scalars(select(Workspace.platform).where(Workspace.external_id == external_id))
    )


def connection_for(session: Session, platform: str, external_id: str) -> ConnectionRow | None:
    """A workspace's CRM connection by the platform's workspace id, in one statement."""
    row = session.scalar(
        select(CrmConnection)
        .join(Workspace, Workspace.id == CrmConnection.workspace_id)
        .where(Workspace.platform == platform, Workspace.external_id == external_id)
    )
    return _row(row) if row is not None else None


def get_connection(session: Session, workspace_id: int) -> ConnectionRow | None:
    row = session.scalar(select(CrmConnection).where(CrmConnection.workspace_id == workspace_id))
    return _row(row) if row is not None else None


def set_connection(
    session: Session, workspace_id: int, provider: str, credentials: str, connected_by: str | None
) -> None:
    row = session.scalar(
        select(CrmConnection).where(CrmConnection.workspace_id == workspace_id)
    )
    if row is None:
        session.add(
            CrmConnection(
                workspace_id=workspace_id,
                provider=provider,
                credentials=credentials,
                connected_by=connected_by,
            )
        )
    else:
        row.provider = provider
        row.credentials = credentials
        row.connected_by = connected_by
        row.updated_at = utcnow()
    session.flush()


def delete_connection(session: Session, workspace_id: int) -> bool:
    result = session.execute(
        delete(CrmConnection).where(CrmConnection.workspace_id == workspace_id)
    )
    return bool(getattr(result, "rowcount", 0))


def any_connection(session: Session) -> bool:
    return session.scalar(select(CrmConnection.id).limit(1)) is not None


def get_link(session: Session, review_id: int) -> LinkRow | None:
    row = session.get(CrmReviewLink, review_id)
    return _link(row) if row is not None else None


def get_link_or_inherited(session: Session, review_id: int) -> LinkRow | None:
    """The review's link; for a review made by *Update review* without a pick of its own,
    the link of the review it was reopened from (copied, with its note: the updated review
    updates the same note)."""
    from dealcoach.store.models import Review

    own = session.get(CrmReviewLink, review_id)
    if own is not None:
        return _link(own)
    review = session.get(Review, review_id)
    source = None
    for _ in range(20):  # a chain of updates, newest first
        if review is None or review.reopened_from_id is None:
            return None
        source = session.get(CrmReviewLink, review.reopened_from_id)
        if source is not None:
            break
        review = session.get(Review, review.reopened_from_id)
    if source is None:
        return None
    copy = CrmReviewLink(
        review_id=review_id,
        provider=source.provider,
        deal_ref=source.deal_ref,
        contacts=list(source.contacts or []),
        note_ref=source.note_ref,
    )
    session.add(copy)
    session.flush()
    return _link(copy)


def set_link(
    session: Session,
    review_id: int,
    provider: str,
    deal_ref: str,
    contacts: list[dict[str, Any]],
) -> None:
    row = session.get(CrmReviewLink, review_id)
    if row is None:
        session.add(
            CrmReviewLink(
                review_id=review_id, provider=provider, deal_ref=deal_ref, contacts=contacts
            )
        )
    else:
        if row.deal_ref != deal_ref or row.provider != provider:
            row.note_ref = None  # another deal: its note is a new one
            row.saved_at = None
        row.provider = provider
        row.deal_ref = deal_ref
        row.contacts = contacts
    session.flush()


def claim_save(session: Session, review_id: int) -> bool:
    """Claim the one save in progress of a review (False: another is running)."""
    now = utcnow()
    result = session.execute(
        update(CrmReviewLink)
        .where(
            CrmReviewLink.review_id == review_id,
            or_(
                CrmReviewLink.save_started_at.is_(None),
                CrmReviewLink.save_started_at < now - SAVE_CLAIM_TTL,
            ),
        )
        .values(save_started_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def finish_save(session: Session, review_id: int, note_ref: str | None) -> None:
    values: dict[str, Any] = {"save_started_at": None}
    if note_ref is not None:
        values.update(note_ref=note_ref, saved_at=utcnow())
    session.execute(
        update(CrmReviewLink)
        .where(CrmReviewLink.review_id == review_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class NoteSource:
    review_id: int
    status: str
    locale: str
    deal_name: str | None
    quadrant: str | None
    recommendation: str | None
    flags: list[str]
    data: dict[str, Any]


def note_source(session: Session, review_id: int) -> NoteSource | None:
    """What the CRM note says about a review: its assessment (None for an unknown review)."""
    from dealcoach.store.models import Assessment, Deal, Review

    row = session.execute(
        select(Review, Assessment, Deal.name)
        .outerjoin(Assessment, Assessment.review_id == Review.id)
        .outerjoin(Deal, Deal.id == Review.deal_id)
        .where(Review.id == review_id)
    ).first()
    if row is None:
        return None
    review, assessment, deal_name = row
    return NoteSource(
        review_id=review.id,
        status=review.status,
        locale=review.locale,
        deal_name=deal_name,
        quadrant=assessment.quadrant if assessment is not None else None,
        recommendation=assessment.recommendation if assessment is not None else None,
        flags=list(assessment.flags or []) if assessment is not None else [],
        data=dict(assessment.data or {}) if assessment is not None else {},
    )


def latest_linked_review(session: Session, person_id: int) -> int | None:
    """The person's most recently completed review that was picked from the CRM (or updated
    from one that was)."""
    from dealcoach.store.models import Review

    recent = session.scalars(
        select(Review.id)
        .where(Review.person_id == person_id, Review.status == "completed")
        .order_by(Review.completed_at.desc(), Review.id.desc())
        .limit(20)
    ).all()
    for review_id in recent:
        if get_link_or_inherited(session, review_id) is not None:
            return int(review_id)
    return None
