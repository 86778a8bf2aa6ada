"""Sales facts for the sales report.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

Id = sa.String(36)


def upgrade() -> None:
    op.create_table(
        "sales_facts",
        sa.Column("created_position", sa.BigInteger, primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("seller_id", Id, nullable=False),
        sa.Column("seller_order_id", Id, nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("gmv", sa.BigInteger, nullable=False),
        sa.Column("commission", sa.BigInteger, nullable=False),
        sa.Column("refunds", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_sales_facts_day", "sales_facts", ["tenant_id", "day"])
    op.create_index("ix_sales_facts_order", "sales_facts", ["seller_order_id"])


def downgrade() -> None:
    op.drop_index("ix_sales_facts_order", table_name="sales_facts")
    op.drop_index("ix_sales_facts_day", table_name="sales_facts")
    op.drop_table("sales_facts")
