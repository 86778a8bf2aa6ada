"""Reconciliation with the payment provider (issue 30): the links between Velora's ids and the
provider's that its projector keeps, and each recorded reconciliation that
`GET /v1/reconciliation` reads. The projector is new, so it starts from the beginning of the log
and learns the links of everything recorded before.

Revision ID: 0043
Revises: 0042
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0043"
down_revision = "0042"
branch_labels = None
depends_on = None

Id = sa.String(36)
Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "reconciliation_links",
        sa.Column("subject", sa.String(255), primary_key=True),
        sa.Column("ref", sa.String(255), primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("created_position", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "reconciliations",
        sa.Column("reconciliation_id", Id, primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("matched_count", sa.Integer, nullable=False),
        sa.Column("unmatched_count", sa.Integer, nullable=False),
        sa.Column("processor_fees_amount", sa.BigInteger, nullable=False),
        sa.Column("result", sa.JSON, nullable=False),
        sa.Column("completed_at", Timestamp, nullable=False),
        sa.Column("created_position", sa.BigInteger, nullable=False),
    )
    op.create_index(
        "ix_reconciliations_day",
        "reconciliations",
        ["tenant_id", "day", "currency"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("ix_reconciliations_day", table_name="reconciliations")
    op.drop_table("reconciliations")
    op.drop_table("reconciliation_links")
