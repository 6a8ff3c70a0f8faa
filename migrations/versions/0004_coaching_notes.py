"""coaching_note: managers' coaching notes on reviews and the replies in their threads

Revision ID: 0004_coaching_notes
Revises: 0003_conversation_greeting
Create Date: 2026-12-01 22:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_TS = sa.DateTime(timezone=True)

revision: str = "0004_coaching_notes"
down_revision: str | None = "0003_conversation_greeting"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "coaching_note",
        sa.Column("id", ID, nullable=False),
        sa.Column("review_id", ID, nullable=False),
        sa.Column("deal_id", ID, nullable=True),
        sa.Column("parent_id", ID, nullable=True),
        sa.Column("author_id", ID, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("action", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.Column("done_at", UTC_TS, nullable=True),
        sa.Column("followed_up_week", sa.String(length=8), nullable=True),
        sa.CheckConstraint("status IN ('open', 'done')", name=op.f("ck_coaching_note_status")),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["person.id"],
            name=op.f("fk_coaching_note_author_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["deal_id"],
            ["deal.id"],
            name=op.f("fk_coaching_note_deal_id_deal"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["coaching_note.id"],
            name=op.f("fk_coaching_note_parent_id_coaching_note"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["review.id"],
            name=op.f("fk_coaching_note_review_id_review"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coaching_note")),
    )
    with op.batch_alter_table("coaching_note", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_coaching_note_review_id"), ["review_id"])
        batch_op.create_index(batch_op.f("ix_coaching_note_parent_id"), ["parent_id"])
        batch_op.create_index(
            batch_op.f("ix_coaching_note_deal_id_created_at"), ["deal_id", "created_at"]
        )
        batch_op.create_index(
            batch_op.f("ix_coaching_note_author_id_created_at"), ["author_id", "created_at"]
        )


def downgrade() -> None:
    with op.batch_alter_table("coaching_note", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coaching_note_author_id_created_at"))
        batch_op.drop_index(batch_op.f("ix_coaching_note_deal_id_created_at"))
        batch_op.drop_index(batch_op.f("ix_coaching_note_parent_id"))
        batch_op.drop_index(batch_op.f("ix_coaching_note_review_id"))
    op.drop_table("coaching_note")
