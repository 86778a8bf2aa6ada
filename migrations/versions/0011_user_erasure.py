"""When a user was erased (GDPR): their row keeps its id, loses its email, and their tokens stop
working.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
    op.add_column("users", sa.Column("erased_at", timestamp, nullable=True))


def downgrade() -> None:
    op.drop_column("users", "erased_at")
