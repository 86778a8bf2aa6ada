"""Publishable keys (issue 28, point 1, guests): the list a marketplace admin reads of its
storefronts' keys, with each key's name, hint and when it was made and deleted. The keys' digests
stay in the event log; nothing here opens anything.

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-09
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None

Id = sa.String(36)
Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "publishable_keys",
        sa.Column("key_id", Id, primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("hint", sa.String(8), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("created_position", sa.BigInteger, nullable=False),
        sa.Column("deleted_at", Timestamp, nullable=True),
    )
    op.create_index(
        "ix_publishable_keys_tenant", "publishable_keys", ["tenant_id", "created_position"]
    )


def downgrade() -> None:
    op.drop_index("ix_publishable_keys_tenant", "publishable_keys")
    op.drop_table("publishable_keys")
