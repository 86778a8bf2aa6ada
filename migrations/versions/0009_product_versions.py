"""Product row versions: the position of the last event that changed each product, which the
search index uses as the document's external version.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "products",
        sa.Column("updated_position", sa.BigInteger, nullable=False, server_default="0"),
    )
    # Rows written before this revision were last changed no earlier than they were created.
    op.execute("UPDATE products SET updated_position = created_position")


def downgrade() -> None:
    op.drop_column("products", "updated_position")
