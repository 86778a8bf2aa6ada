"""Seller plans (issue 18, point 7): the tenant's plans, each seller's plan, and what plans
charged and credited (lines of the earnings statement).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
Id = sa.String(36)


def upgrade() -> None:
    with op.batch_alter_table("sellers") as batch:
        batch.add_column(sa.Column("plan_id", Id, nullable=True))
        batch.add_column(sa.Column("plan_name", sa.String(60), nullable=True))
        batch.add_column(sa.Column("plan_since", Timestamp, nullable=True))
        batch.add_column(sa.Column("plan_period", sa.String(7), nullable=True))
    op.create_index("ix_sellers_plan", "sellers", ["plan_id"])
    op.create_table(
        "plans",
        sa.Column("plan_id", Id, primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("monthly_fee", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("product_limit", sa.Integer, nullable=True),
        sa.Column("commission_discount_bps", sa.Integer, nullable=False),
        sa.Column("subscribers", sa.Integer, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("created_position", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_plans_tenant_position", "plans", ["tenant_id", "created_position"])
    op.create_table(
        "plan_charges",
        sa.Column("charge_id", Id, primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("seller_id", Id, nullable=False),
        sa.Column("plan_id", Id, nullable=False),
        sa.Column("plan_name", sa.String(60), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("charged", sa.BigInteger, nullable=False),
        sa.Column("credited", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("charged_at", Timestamp, nullable=False),
        sa.Column("created_position", sa.BigInteger, nullable=False),
    )
    op.create_index(
        "ix_plan_charges_seller", "plan_charges", ["tenant_id", "seller_id", "created_position"]
    )


def downgrade() -> None:
    op.drop_index("ix_plan_charges_seller", table_name="plan_charges")
    op.drop_table("plan_charges")
    op.drop_index("ix_plans_tenant_position", table_name="plans")
    op.drop_table("plans")
    op.drop_index("ix_sellers_plan", table_name="sellers")
    with op.batch_alter_table("sellers") as batch:
        batch.drop_column("plan_period")
        batch.drop_column("plan_since")
        batch.drop_column("plan_name")
        batch.drop_column("plan_id")
