"""crm_connection and crm_review_link: a workspace's CRM (encrypted credentials) and the CRM
deal a review was picked from, with the note saved back (issue 17)

Revision ID: 0005_crm_link
Revises: 0004_coaching_notes
Create Date: 2026-12-01 22:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_TS = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0005_crm_link"
down_revision: str | None = "0004_coaching_notes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crm_connection",
        sa.Column("id", ID, nullable=False),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("credentials", sa.Text(), nullable=False),
        sa.Column("connected_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.Column("updated_at", UTC_TS, nullable=False),
        sa.CheckConstraint(
            "provider IN ('hubspot', 'salesforce')", name=op.f("ck_crm_connection_provider")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_crm_connection_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_connection")),
        sa.UniqueConstraint("workspace_id", name=op.f("uq_crm_connection_workspace_id")),
    )
    op.create_table(
        "crm_review_link",
        sa.Column("review_id", ID, nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("deal_ref", sa.String(length=64), nullable=False),
        sa.Column("contacts", JSON, nullable=True),
        sa.Column("note_ref", sa.String(length=64), nullable=True),
        sa.Column("saved_at", UTC_TS, nullable=True),
        sa.Column("save_started_at", UTC_TS, nullable=True),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["review.id"],
            name=op.f("fk_crm_review_link_review_id_review"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("review_id", name=op.f("pk_crm_review_link")),
    )


def downgrade() -> None:
    op.drop_table("crm_review_link")
    op.drop_table("crm_connection")
