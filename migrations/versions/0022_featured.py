"""Featured listings (issue 18, point 6): until when a product is featured.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.add_column(sa.Column("featured_until", Timestamp, nullable=True))
    op.create_index("ix_products_featured", "products", ["featured_until"])


def downgrade() -> None:
    op.drop_index("ix_products_featured", table_name="products")
    with op.batch_alter_table("products") as batch:
        batch.drop_column("featured_until")
