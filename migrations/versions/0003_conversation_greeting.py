"""conversation_greeting: one welcome per chat (Teams sends two install events)

Revision ID: 0003_conversation_greeting
Revises: 0002_review_shared_at
Create Date: 2026-12-01 22:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_conversation_greeting"
down_revision: str | None = "0002_review_shared_at"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversation_greeting",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("greeted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "conversation_id", name="pk_conversation_greeting"),
    )


def downgrade() -> None:
    op.drop_table("conversation_greeting")
