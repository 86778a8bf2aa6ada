"""Stock alerts (issue 18, point 8): each alert a seller's stock raised.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
Id = sa.String(36)


def upgrade() -> None:
    op.create_table(
        "stock_alerts",
        sa.Column("alert_id", Id, primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("seller_id", Id, nullable=False),
        sa.Column("product_id", Id, nullable=False),
        sa.Column("warehouse", sa.String(64), nullable=False),
        sa.Column("threshold", sa.BigInteger, nullable=False),
        sa.Column("available", sa.BigInteger, nullable=False),
        sa.Column("raised_at", Timestamp, nullable=False),
        sa.Column("created_position", sa.BigInteger, nullable=False),
    )
    op.create_index(
        "ix_stock_alerts_seller", "stock_alerts", ["tenant_id", "seller_id", "created_position"]
    )


def downgrade() -> None:
    op.drop_table("stock_alerts")
