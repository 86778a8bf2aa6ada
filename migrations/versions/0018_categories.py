"""Categories (issue 18, point 3): each tenant's category tree; products counted by category.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
Id = sa.String(36)


def upgrade() -> None:
    op.create_table(
        "categories",
        sa.Column("category_id", Id, primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("parent_id", Id, nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.Column("created_position", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_categories_tenant", "categories", ["tenant_id", "created_position"])
    op.create_index("ix_products_category", "products", ["tenant_id", "category"])


def downgrade() -> None:
    op.drop_index("ix_products_category", table_name="products")
    op.drop_table("categories")
