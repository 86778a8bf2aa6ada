"""Projection tracking, tenants, users and idempotency keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
Id = sa.String(36)


def upgrade() -> None:
    op.create_table(
        "projection_tracking",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.Column("failed_position", sa.BigInteger, nullable=True),
        sa.Column("failure", sa.Text, nullable=True),
    )
    op.create_table(
        "tenants",
        sa.Column("tenant_id", Id, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("commission_bps", sa.Integer, nullable=False),
        sa.Column("escrow_hold_days", sa.Integer, nullable=False),
        sa.Column("product_moderation", sa.String(16), nullable=False),
        sa.Column("hold_timeout_s", sa.Integer, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("created_position", sa.BigInteger, nullable=False, unique=True),
    )
    op.create_table(
        "users",
        sa.Column("user_id", Id, primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("roles", sa.JSON, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("created_position", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("tenant_id", "email", name="uq_users_tenant_email"),
    )
    op.create_index("ix_users_tenant_position", "users", ["tenant_id", "created_position"])
    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.String(100), primary_key=True),
        sa.Column("idem_key", sa.String(255), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("response_headers", sa.JSON, nullable=True),
        sa.Column(
            "response_body", sa.LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")
        ),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("expires_at", Timestamp, nullable=False),
    )
    op.create_index("ix_idempotency_expires", "idempotency_keys", ["expires_at"])


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_index("ix_users_tenant_position", table_name="users")
    op.drop_table("users")
    op.drop_table("tenants")
    op.drop_table("projection_tracking")
