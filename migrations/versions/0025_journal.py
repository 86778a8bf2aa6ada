"""The accounting journal (issue 19, point 3): ledger entries in the order they were posted per
tenant (covering the sums of opening balances), and orders by payment intent.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_ledger_entries_journal",
        "ledger_entries",
        ["tenant_id", "created_at", "created_position", "currency", "code", "side", "amount"],
    )
    op.create_index("ix_orders_intent", "orders", ["payment_intent_id"])


def downgrade() -> None:
    op.drop_index("ix_orders_intent", table_name="orders")
    op.drop_index("ix_ledger_entries_journal", table_name="ledger_entries")
