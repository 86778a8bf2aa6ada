"""Ratings and moderation (issue 18, point 5): hidden reviews with their reason, a seller's
reply, and each seller's rating with its distribution per star.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
Id = sa.String(36)


def upgrade() -> None:
    with op.batch_alter_table("reviews") as batch:
        batch.add_column(sa.Column("hidden", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("hidden_reason", sa.String(500), nullable=True))
        batch.add_column(sa.Column("reply", sa.Text, nullable=True))
        batch.add_column(sa.Column("replied_at", Timestamp, nullable=True))
    op.create_table(
        "seller_ratings",
        sa.Column("seller_id", Id, primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("rating_count", sa.Integer, nullable=False),
        sa.Column("rating_sum", sa.Integer, nullable=False),
        *(sa.Column(f"stars_{n}", sa.Integer, nullable=False) for n in range(1, 6)),
        sa.Column("created_position", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("seller_ratings")
    with op.batch_alter_table("reviews") as batch:
        for column in ("replied_at", "reply", "hidden_reason", "hidden"):
            batch.drop_column(column)
