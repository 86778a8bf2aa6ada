"""What each variant sold per day (issue 28: analytics name the variant): the best products'
breakdown by variant. Filled as seller orders are paid from now on; `velora projections
rebuild orders` fills it for the history before.

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0036"
down_revision = "0035"
branch_labels = None
depends_on = None

Id = sa.String(36)


def upgrade() -> None:
    op.create_table(
        "variant_daily",
        sa.Column("tenant_id", Id, primary_key=True),
        sa.Column("variant_id", Id, primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("product_id", Id, nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("units", sa.BigInteger, nullable=False),
        sa.Column("gmv", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_variant_daily_product", "variant_daily", ["tenant_id", "product_id", "day"])


def downgrade() -> None:
    op.drop_index("ix_variant_daily_product", "variant_daily")
    op.drop_table("variant_daily")
