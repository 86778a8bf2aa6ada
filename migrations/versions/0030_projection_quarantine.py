"""Quarantine of one tenant's events in one projector (issue 27): a projector that cannot apply
a tenant's event passes over that tenant's events instead of stopping for every tenant. And the
analytics counters (orders, units, buyers) become 64-bit, as every money column already is, so
that every count the domain can reach fits its column.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

Id = sa.String(36)
Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


# The analytics counters that were 32-bit, by table.
COUNTERS = {
    "seller_daily": ("orders", "units", "placed"),
    "seller_running": ("orders", "units", "placed"),
    "product_daily": ("units",),
    "product_running": ("units",),
    "buyer_day_counts": ("buyers",),
    "marketplace_daily": ("orders",),
}


def _retype(to: sa.types.TypeEngine[int], was: sa.types.TypeEngine[int]) -> None:
    for table, columns in COUNTERS.items():
        with op.batch_alter_table(table) as batch:  # SQLite copies the table, MySQL alters it
            for column in columns:
                batch.alter_column(column, type_=to, existing_type=was, existing_nullable=False)


def upgrade() -> None:
    _retype(sa.BigInteger(), sa.Integer())
    op.create_table(
        "projection_quarantine",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("tenant_id", Id, primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("topic", sa.String(255), nullable=False),
        sa.Column("originator_id", Id, nullable=False),
        sa.Column("failure", sa.Text, nullable=False),
        sa.Column("quarantined_at", Timestamp, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("projection_quarantine")
    _retype(sa.Integer(), sa.BigInteger())
