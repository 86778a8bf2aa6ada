"""Each in-flight Idempotency-Key names the API process running its request, and each API process
keeps a heartbeat: a key whose process stopped beating (it crashed) lapses within seconds, not
after two minutes.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "api_processes",
        sa.Column("process_id", sa.String(32), primary_key=True),
        sa.Column("seen_at", Timestamp, nullable=False),
    )
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.add_column(sa.Column("owner", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.drop_column("owner")
    op.drop_table("api_processes")
