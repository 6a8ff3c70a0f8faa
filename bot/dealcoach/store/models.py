"""SQLAlchemy 2 models: the review log.

One `MetaData` (`metadata`) with a naming convention, so constraint names are stable across
SQLite and PostgreSQL and Alembic can drop them by name. slack_sdk's OAuth installation and
state tables are built on the same metadata (`slack_tables`), so the one Alembic history owns
every table the app uses.

Entities:
- `Workspace`: a Slack team, a Teams tenant, or the local `cli` workspace.
- `Person`: a user in a workspace (role rep/manager/admin, locale, time zone).
- `TeamMembership`: manager → member, per workspace; a member has at most one manager.
- `Deal`: a rep's deal, matched across reviews by owner and case-folded name (`name_key`).
- `Review`: one review, `draft` → `completed` (or `abandoned`); completion is idempotent on
  `idempotency_key` (unique). `quadrant`/`recommendation` are copied from the assessment so
  digest queries need no join.
- `Answer`: one row per answered question (`value` JSON; JSON null = asked, left blank).
- `Assessment`: the assessment of a completed review and the advice text given.
- `ReviewFlag`: one row per flag of a completed review, for SQL counting per flag.
- `DigestRun`: the claim of one manager's digest for one ISO week (unique) and its outcome.
- `NudgeLog`: one nudge per person, deal and ISO week (unique), so nothing nags twice.
- `ConversationGreeting`: one welcome per chat, however many install events arrive.
- `PlanStep` / `PlanStepEvent` / `PlanReminder` (issue 15): a deal's mutual close plan, each
  step's history, and the claim of one overdue reminder per step and due date.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from dealcoach.store.types import IdType, JSONType, UTCDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

PLATFORMS = ("slack", "teams", "cli")
ROLES = ("rep", "manager", "admin")
REVIEW_STATUSES = ("draft", "completed", "abandoned")
OUTCOMES = ("open", "won", "lost", "walked_away")
# Why a deal was lost or walked away from (issue 15), stored on its last completed review.
OUTCOME_REASONS = ("price", "no_decision", "competitor", "timing", "fit", "other")
DIGEST_STATUSES = ("claimed", "sent", "failed")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def deal_key(name: str) -> str:
    """How deals are matched across reviews: case-folded, whitespace collapsed."""
    return re.sub(r"\s+", " ", name).strip().casefold()


class Base(DeclarativeBase):
    metadata = metadata


class Workspace(Base):
    __tablename__ = "workspace"
    __table_args__ = (
        UniqueConstraint("platform", "external_id"),
        CheckConstraint(_one_of("platform", PLATFORMS), name="platform"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(200))
    default_locale: Mapped[str] = mapped_column(String(8), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Person(Base):
    __tablename__ = "person"
    __table_args__ = (
        UniqueConstraint("workspace_id", "user_id"),
        CheckConstraint(_one_of("role", ROLES), name="role"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str | None] = mapped_column(String(200))
    locale: Mapped[str | None] = mapped_column(String(8))
    timezone: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16), default="rep")
    nudges_paused: Mapped[bool] = mapped_column(Boolean, default=False)
    # Teams: the conversation reference needed to message this person proactively.
    teams_conversation_ref: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    workspace: Mapped[Workspace] = relationship(lazy="joined")


class TeamMembership(Base):
    __tablename__ = "team_membership"
    # A member has at most one manager per workspace.
    __table_args__ = (UniqueConstraint("workspace_id", "member_id"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    manager_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    manager: Mapped[Person] = relationship(foreign_keys=[manager_id])
    member: Mapped[Person] = relationship(foreign_keys=[member_id])


class Deal(Base):
    __tablename__ = "deal"
    __table_args__ = (
        UniqueConstraint("owner_id", "name_key"),
        CheckConstraint(_one_of("outcome", OUTCOMES), name="outcome"),
        Index(None, "workspace_id", "stage"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200))
    account: Mapped[str | None] = mapped_column(String(200))
    value: Mapped[float | None] = mapped_column(Float)
    stage: Mapped[str | None] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(16), default="open")
    last_reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    owner: Mapped[Person] = relationship()


class Review(Base):
    __tablename__ = "review"
    __table_args__ = (
        CheckConstraint(_one_of("status", REVIEW_STATUSES), name="status"),
        CheckConstraint(_one_of("platform", PLATFORMS), name="platform"),
        # Resume: a person's latest draft; history: a person's reviews, newest first.
        Index(None, "person_id", "status", "updated_at"),
        # Digests: a team's completed reviews in a week.
        Index(None, "person_id", "completed_at"),
        # Deal history and digests by week.
        Index(None, "deal_id", "completed_at"),
        Index(None, "status", "completed_at"),
        # NULL passes a CHECK: no reason recorded.
        CheckConstraint(_one_of("outcome_reason", OUTCOME_REASONS), name="outcome_reason"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    # Unknown until `deal.name` is answered.
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deal.id", ondelete="SET NULL"))
    platform: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    locale: Mapped[str] = mapped_column(String(8), default="en")
    content_version: Mapped[str | None] = mapped_column(String(32))
    # Set on completion; a second completion with the same key finds this review.
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    # The completed review this one was reopened from ("Update review").
    reopened_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("review.id", ondelete="SET NULL")
    )
    # Copied from the assessment for digest aggregates.
    quadrant: Mapped[str | None] = mapped_column(String(16))
    recommendation: Mapped[str | None] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When "Share with my manager" was claimed: a review is shared once.
    shared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Why the deal was lost / walked away from (issue 15): set on the deal's last completed
    # review when the outcome is recorded, so "what predicts a win" reads one row per deal.
    outcome_reason: Mapped[str | None] = mapped_column(String(16))
    outcome_reason_text: Mapped[str | None] = mapped_column(String(300))

    person: Mapped[Person] = relationship()
    deal: Mapped[Deal | None] = relationship()


class Answer(Base):
    __tablename__ = "answer"
    __table_args__ = (UniqueConstraint("review_id", "question_id"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(64), index=True)
    value: Mapped[Any] = mapped_column(JSONType, nullable=True)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Assessment(Base):
    __tablename__ = "assessment"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    review_id: Mapped[int] = mapped_column(
        ForeignKey("review.id", ondelete="CASCADE"), unique=True
    )
    quadrant: Mapped[str] = mapped_column(String(16))
    recommendation: Mapped[str] = mapped_column(String(16))
    flags: Mapped[list[str]] = mapped_column(JSONType)
    # The whole assessment (next steps, findings, rules) as produced by coach.assess.
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # The advice as given: the intermediate model and the plain-text rendering.
    advice: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    advice_text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReviewFlag(Base):
    __tablename__ = "review_flag"

    review_id: Mapped[int] = mapped_column(
        ForeignKey("review.id", ondelete="CASCADE"), primary_key=True
    )
    flag: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class DigestRun(Base):
    __tablename__ = "digest_run"
    __table_args__ = (
        UniqueConstraint("manager_id", "iso_week"),
        CheckConstraint(_one_of("status", DIGEST_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    manager_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    iso_week: Mapped[str] = mapped_column(String(8))  # 'YYYY-Www'
    status: Mapped[str] = mapped_column(String(16), default="claimed")
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)


class NudgeLog(Base):
    __tablename__ = "nudge_log"
    __table_args__ = (UniqueConstraint("person_id", "deal_id", "iso_week"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    deal_id: Mapped[int] = mapped_column(ForeignKey("deal.id", ondelete="CASCADE"), index=True)
    iso_week: Mapped[str] = mapped_column(String(8))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ConversationGreeting(Base):
    """A chat the bot has greeted (Teams sends both installationUpdate and conversationUpdate
    on a personal install): the primary key claims the one welcome per conversation."""

    __tablename__ = "conversation_greeting"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    greeted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# slack_sdk's OAuth stores, on our metadata (default table names), so Alembic owns them.
# The Slack adapter builds SQLAlchemyInstallationStore / SQLAlchemyOAuthStateStore with the
# same table names; `slack_tables` is here so nothing else re-creates them.
slack_installations: Table = SQLAlchemyInstallationStore.build_installations_table(
    metadata, SQLAlchemyInstallationStore.default_installations_table_name
)
slack_bots: Table = SQLAlchemyInstallationStore.build_bots_table(
    metadata, SQLAlchemyInstallationStore.default_bots_table_name
)
slack_oauth_states: Table = SQLAlchemyOAuthStateStore.build_oauth_states_table(
    metadata, SQLAlchemyOAuthStateStore.default_table_name
)
slack_tables: tuple[Table, ...] = (slack_installations, slack_bots, slack_oauth_states)


# --- coaching notes (issue 16) ----------------------------------------------------------------

NOTE_STATUSES = ("open", "done")


class CoachingNote(Base):
    """A manager's coaching note on a completed review (`parent_id` None, `status` open/done)
    or a reply in its thread (`parent_id` = the note, `status` None). `deal_id` is copied from
    the review so the next review of the deal and the digest find notes without a join;
    `followed_up_week` is the ISO week of the digest that listed the note as still open (it is
    listed in that week's digest only, so never twice)."""

    __tablename__ = "coaching_note"
    __table_args__ = (
        CheckConstraint(_one_of("status", NOTE_STATUSES), name="status"),
        Index(None, "review_id"),
        Index(None, "parent_id"),
        Index(None, "deal_id", "created_at"),
        Index(None, "author_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id", ondelete="CASCADE"))
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deal.id", ondelete="SET NULL"))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("coaching_note.id", ondelete="CASCADE")
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    action: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    followed_up_week: Mapped[str | None] = mapped_column(String(8))


# --- CRM link (issue 17) ----------------------------------------------------------------------

CRM_PROVIDERS = ("hubspot", "salesforce")


class CrmConnection(Base):
    """A workspace's CRM: one per workspace. `credentials` is a Fernet token (never the plain
    values) under DEALCOACH_SECRET_KEY; removed by `crm disconnect` and with the workspace."""

    __tablename__ = "crm_connection"
    __table_args__ = (CheckConstraint(_one_of("provider", CRM_PROVIDERS), name="provider"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), unique=True
    )
    provider: Mapped[str] = mapped_column(String(16))
    credentials: Mapped[str] = mapped_column(Text)
    connected_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class CrmReviewLink(Base):
    """The CRM deal a review was picked from, and the note saved back (once per review:
    `note_ref` is updated on a second save). `save_started_at` claims a save in progress, so
    two clicks never create two notes."""

    __tablename__ = "crm_review_link"

    review_id: Mapped[int] = mapped_column(
        ForeignKey("review.id", ondelete="CASCADE"), primary_key=True
    )
    provider: Mapped[str] = mapped_column(String(16))
    deal_ref: Mapped[str] = mapped_column(String(64))
    # Contacts offered as decision-makers: [{"name": ..., "title": ...}].
    contacts: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    note_ref: Mapped[str | None] = mapped_column(String(64))
    saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    save_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# --- mutual close plan (issue 15) -------------------------------------------------------------

PLAN_STATUSES = ("open", "done", "dropped")
PLAN_OWNERS = ("us", "customer")
PLAN_EVENTS = ("created", "done", "moved", "dropped", "reopened")
REMINDER_STATUSES = ("claimed", "sent", "released")
MAX_STEP_TEXT = 300


class PlanStep(Base):
    """One step of a deal's mutual close plan: what, who (`us`, or a customer-side
    decision-maker by name), by when, and its status. `person_id` is the rep whose plan it is
    (the deal's owner). A step added from a review's action keeps the review
    (`created_from_review_id`) and the action's rule; the same action added twice is one step
    (unique on review and text)."""

    __tablename__ = "plan_step"
    __table_args__ = (
        CheckConstraint(_one_of("status", PLAN_STATUSES), name="status"),
        CheckConstraint(_one_of("owner_kind", PLAN_OWNERS), name="owner_kind"),
        UniqueConstraint("created_from_review_id", "text"),
        Index(None, "deal_id", "status"),
        # Reminders: open steps by due date.
        Index(None, "status", "due_on"),
        Index(None, "person_id"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deal.id", ondelete="CASCADE"))
    created_from_review_id: Mapped[int | None] = mapped_column(
        ForeignKey("review.id", ondelete="SET NULL")
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(String(MAX_STEP_TEXT))
    owner_kind: Mapped[str] = mapped_column(String(16), default="us")
    owner_name: Mapped[str | None] = mapped_column(String(200))
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")
    rule: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PlanStepEvent(Base):
    """A plan step's history: created, done, moved (old → new due date), dropped, reopened."""

    __tablename__ = "plan_step_event"
    __table_args__ = (
        CheckConstraint(_one_of("kind", PLAN_EVENTS), name="kind"),
        Index(None, "step_id", "at"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("plan_step.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    kind: Mapped[str] = mapped_column(String(16))
    old_due_on: Mapped[date | None] = mapped_column(Date)
    new_due_on: Mapped[date | None] = mapped_column(Date)


class PlanReminder(Base):
    """The claim of the one overdue reminder of a step for one due date (unique), exactly
    once across replicas: claimed → sent, or released when delivery failed (claimed again by
    a later run, `attempts` + 1). Moving the date makes a new reminder possible."""

    __tablename__ = "plan_reminder"
    __table_args__ = (
        UniqueConstraint("step_id", "due_on"),
        CheckConstraint(_one_of("status", REMINDER_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("plan_step.id", ondelete="CASCADE"))
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="claimed")
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)
