"""Wishlists (issue 18, point 4), and notifications about a product rather than an order (a
wished product's price drop, a stock alert).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
Id = sa.String(36)


def upgrade() -> None:
    op.create_table(
        "wishlist_items",
        sa.Column("buyer_id", Id, primary_key=True),
        sa.Column("product_id", Id, primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("added_at", Timestamp, nullable=False),
        sa.Column("created_position", sa.BigInteger, nullable=False),
    )
    op.create_index(
        "ix_wishlist_items_buyer", "wishlist_items", ["tenant_id", "buyer_id", "created_position"]
    )
    op.create_index("ix_wishlist_items_product", "wishlist_items", ["tenant_id", "product_id"])
    with op.batch_alter_table("notifications") as batch:
        batch.alter_column("order_id", existing_type=Id, nullable=True)
        batch.add_column(sa.Column("product_id", Id, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("product_id")
        batch.alter_column("order_id", existing_type=Id, nullable=False)
    op.drop_table("wishlist_items")
