"""Product revisions (issue 27, point 5): where the tenant moderates, an edit of an active
product's title, description or category waits for approval while the approved version stays
live; the columns hold the waiting (or last rejected) revision, for its seller and moderators.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.add_column(sa.Column("revision_status", sa.String(20), nullable=True))
        batch.add_column(sa.Column("revision_title", sa.String(200), nullable=True))
        batch.add_column(sa.Column("revision_description", sa.Text, nullable=True))
        batch.add_column(sa.Column("revision_category", sa.String(100), nullable=True))
        batch.add_column(sa.Column("revision_reason", sa.String(500), nullable=True))
    op.create_index("ix_products_revision", "products", ["tenant_id", "revision_status"])


def downgrade() -> None:
    op.drop_index("ix_products_revision", table_name="products")
    with op.batch_alter_table("products") as batch:
        for column in (
            "revision_reason",
            "revision_category",
            "revision_description",
            "revision_title",
            "revision_status",
        ):
            batch.drop_column(column)
