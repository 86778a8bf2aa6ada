"""Password hashes leave the read models: sign-in reads them from the event log, where they are
written, so the read database (less guarded, and behind the log) keeps no credential at all.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("password_hash")


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("password_hash", sa.String(255), nullable=False, server_default="")
        )
