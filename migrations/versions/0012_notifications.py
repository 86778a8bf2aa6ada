"""What the notifications consumer made of the published events: notification records, and the
event ids each consumer has applied (so a redelivered event has one effect).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

Id = sa.String(36)


def upgrade() -> None:
    timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
    op.create_table(
        "consumed_events",
        sa.Column("consumer", sa.String(100), primary_key=True),
        sa.Column("event_id", Id, primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("consumed_at", timestamp, nullable=False),
    )
    op.create_table(
        "notifications",
        sa.Column("notification_id", Id, primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("event_id", Id, nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("recipient_role", sa.String(16), nullable=False),
        sa.Column("recipient_id", Id, nullable=False),
        sa.Column("order_id", Id, nullable=False),
        sa.Column("seller_order_id", Id, nullable=True),
        sa.Column("amount_minor", sa.BigInteger, nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("created_at", timestamp, nullable=False),
        sa.Column("emailed_at", timestamp, nullable=True),
    )
    op.create_index(
        "ix_notifications_recipient",
        "notifications",
        ["tenant_id", "recipient_id", "created_at"],
    )
    op.create_index("ix_notifications_unsent", "notifications", ["emailed_at", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_notifications_unsent", table_name="notifications")
    op.drop_index("ix_notifications_recipient", table_name="notifications")
    op.drop_table("notifications")
    op.drop_table("consumed_events")
