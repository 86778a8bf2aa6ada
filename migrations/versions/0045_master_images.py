"""A Seller Pro master product's images (issue 33), in the order its listings show them.

Nullable, as a product's: no event before this revision adds one.

Revision ID: 0045
Revises: 0044
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0045"
down_revision = "0044"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("master_products") as table:
        table.add_column(sa.Column("images", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("master_products") as table:
        table.drop_column("images")
