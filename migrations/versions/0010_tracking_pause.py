"""A pause on a projector's tracking row: set by a rebuild between proving its shadow tables
equal to the live ones and swapping them in, while the live projector must not move.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("projection_tracking", sa.Column("paused_by", sa.String(100), nullable=True))


def downgrade() -> None:
    op.drop_column("projection_tracking", "paused_by")
