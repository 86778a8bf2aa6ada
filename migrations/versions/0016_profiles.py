"""Profiles and saved addresses (issue 18): the read models of the Profile aggregate.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
Id = sa.String(36)


def upgrade() -> None:
    op.create_table(
        "profiles",
        sa.Column("user_id", Id, primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("display_name", sa.String(100), nullable=True),
        sa.Column("phone", sa.String(64), nullable=True),
        sa.Column("locale", sa.String(64), nullable=True),
        sa.Column("marketing_opt_in", sa.Boolean, nullable=False),
        sa.Column("marketing_changed_at", Timestamp, nullable=True),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.Column("created_position", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "addresses",
        sa.Column("address_id", Id, primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("address", sa.JSON, nullable=False),
        sa.Column("is_default", sa.Boolean, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.Column("created_position", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_addresses_user", "addresses", ["tenant_id", "user_id", "created_position"])


def downgrade() -> None:
    op.drop_table("addresses")
    op.drop_table("profiles")
