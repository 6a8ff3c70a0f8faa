"""plan_step, plan_step_event, plan_reminder: a deal's mutual close plan with its history and
the once-only overdue reminders; review.outcome_reason(_text): why a deal was lost (issue 15)

Revision ID: 0006_close_plan
Revises: 0005_crm_link
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_TS = sa.DateTime(timezone=True)

revision: str = "0006_close_plan"
down_revision: str | None = "0005_crm_link"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OUTCOME_REASONS = (
    "outcome_reason IN ('price', 'no_decision', 'competitor', 'timing', 'fit', 'other')"
)


def upgrade() -> None:
    # On SQLite the CHECK makes this a table copy (batch mode, foreign keys off while
    # migrating, see env.py); on PostgreSQL it is ADD COLUMN + ADD CONSTRAINT.
    with op.batch_alter_table("review", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outcome_reason", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("outcome_reason_text", sa.String(length=300), nullable=True))
        batch_op.create_check_constraint(op.f("ck_review_outcome_reason"), OUTCOME_REASONS)

    op.create_table(
        "plan_step",
        sa.Column("id", ID, nullable=False),
        sa.Column("deal_id", ID, nullable=False),
        sa.Column("created_from_review_id", ID, nullable=True),
        sa.Column("person_id", ID, nullable=False),
        sa.Column("text", sa.String(length=300), nullable=False),
        sa.Column("owner_kind", sa.String(length=16), nullable=False),
        sa.Column("owner_name", sa.String(length=200), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.Column("updated_at", UTC_TS, nullable=False),
        sa.Column("done_at", UTC_TS, nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'done', 'dropped')", name=op.f("ck_plan_step_status")
        ),
        sa.CheckConstraint(
            "owner_kind IN ('us', 'customer')", name=op.f("ck_plan_step_owner_kind")
        ),
        sa.ForeignKeyConstraint(
            ["created_from_review_id"],
            ["review.id"],
            name=op.f("fk_plan_step_created_from_review_id_review"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["deal_id"], ["deal.id"], name=op.f("fk_plan_step_deal_id_deal"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_plan_step_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_step")),
        sa.UniqueConstraint(
            "created_from_review_id", "text", name=op.f("uq_plan_step_created_from_review_id_text")
        ),
    )
    with op.batch_alter_table("plan_step", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_step_deal_id_status"), ["deal_id", "status"])
        batch_op.create_index(batch_op.f("ix_plan_step_status_due_on"), ["status", "due_on"])
        batch_op.create_index(batch_op.f("ix_plan_step_person_id"), ["person_id"])

    op.create_table(
        "plan_step_event",
        sa.Column("id", ID, nullable=False),
        sa.Column("step_id", ID, nullable=False),
        sa.Column("at", UTC_TS, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("old_due_on", sa.Date(), nullable=True),
        sa.Column("new_due_on", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('created', 'done', 'moved', 'dropped', 'reopened')",
            name=op.f("ck_plan_step_event_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["step_id"],
            ["plan_step.id"],
            name=op.f("fk_plan_step_event_step_id_plan_step"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_step_event")),
    )
    with op.batch_alter_table("plan_step_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_step_event_step_id_at"), ["step_id", "at"])

    op.create_table(
        "plan_reminder",
        sa.Column("id", ID, nullable=False),
        sa.Column("step_id", ID, nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_at", UTC_TS, nullable=False),
        sa.Column("sent_at", UTC_TS, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('claimed', 'sent', 'released')", name=op.f("ck_plan_reminder_status")
        ),
        sa.ForeignKeyConstraint(
            ["step_id"],
            ["plan_step.id"],
            name=op.f("fk_plan_reminder_step_id_plan_step"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_reminder")),
        sa.UniqueConstraint("step_id", "due_on", name=op.f("uq_plan_reminder_step_id_due_on")),
    )


def downgrade() -> None:
    op.drop_table("plan_reminder")
    with op.batch_alter_table("plan_step_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_step_event_step_id_at"))
    op.drop_table("plan_step_event")
    with op.batch_alter_table("plan_step", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_step_person_id"))
        batch_op.drop_index(batch_op.f("ix_plan_step_status_due_on"))
        batch_op.drop_index(batch_op.f("ix_plan_step_deal_id_status"))
    op.drop_table("plan_step")
    with op.batch_alter_table("review", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_review_outcome_reason"), type_="check")
        batch_op.drop_column("outcome_reason_text")
        batch_op.drop_column("outcome_reason")
