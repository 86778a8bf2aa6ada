"""Returns (issue 19, point 2): the returns read model, and each tenant's return window.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

Id = sa.String(36)
Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.add_column(
        "tenants",
        sa.Column("return_window_days", sa.Integer, nullable=False, server_default="30"),
    )
    op.create_table(
        "returns",
        sa.Column("return_id", Id, primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("seller_order_id", Id, nullable=False),
        sa.Column("order_id", Id, nullable=False),
        sa.Column("buyer_id", Id, nullable=False),
        sa.Column("seller_id", Id, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("lines", sa.JSON, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("instructions", sa.Text, nullable=True),
        sa.Column("rejection_reason", sa.Text, nullable=True),
        sa.Column("carrier", sa.String(100), nullable=True),
        sa.Column("tracking_number", sa.String(100), nullable=True),
        sa.Column("received_lines", sa.JSON, nullable=True),
        sa.Column("refund_id", Id, nullable=True),
        sa.Column("refund_amount", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.Column("created_position", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_returns_buyer", "returns", ["tenant_id", "buyer_id", "created_position"])
    op.create_index("ix_returns_seller", "returns", ["tenant_id", "seller_id", "created_position"])
    op.create_index("ix_returns_status", "returns", ["tenant_id", "status", "created_position"])


def downgrade() -> None:
    op.drop_index("ix_returns_status", table_name="returns")
    op.drop_index("ix_returns_seller", table_name="returns")
    op.drop_index("ix_returns_buyer", table_name="returns")
    op.drop_table("returns")
    op.drop_column("tenants", "return_window_days")
