"""Ledger accounts, transfers and entries; delivery and escrow due times on seller orders.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
Id = sa.String(36)


def upgrade() -> None:
    op.add_column("seller_orders", sa.Column("delivered_at", Timestamp, nullable=True))
    op.add_column("seller_orders", sa.Column("escrow_release_due_at", Timestamp, nullable=True))
    op.create_table(
        "ledger_accounts",
        sa.Column("account_id", Id, primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("code", sa.String(120), nullable=False),
        sa.Column("shard", sa.Integer, nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("limit_kind", sa.String(40), nullable=False),
        sa.Column("debits_pending", sa.BigInteger, nullable=False),
        sa.Column("debits_posted", sa.BigInteger, nullable=False),
        sa.Column("credits_pending", sa.BigInteger, nullable=False),
        sa.Column("credits_posted", sa.BigInteger, nullable=False),
        sa.Column("created_position", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_ledger_accounts_code", "ledger_accounts", ["tenant_id", "currency", "code"])
    op.create_table(
        "ledger_transfers",
        sa.Column("transfer_id", Id, primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("transfer_key", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("posted_amount", sa.BigInteger, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("debit_account_id", Id, nullable=False),
        sa.Column("credit_account_id", Id, nullable=False),
        sa.Column("reverses", Id, nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("created_position", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "ledger_entries",
        sa.Column("account_id", Id, primary_key=True),
        sa.Column("created_position", sa.BigInteger, primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("code", sa.String(120), nullable=False),
        sa.Column("transfer_id", Id, nullable=False),
        sa.Column("side", sa.String(6), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
    )
    op.create_index(
        "ix_ledger_entries_code",
        "ledger_entries",
        ["tenant_id", "currency", "code", "created_position"],
    )


def downgrade() -> None:
    op.drop_table("ledger_entries")
    op.drop_table("ledger_transfers")
    op.drop_index("ix_ledger_accounts_code", table_name="ledger_accounts")
    op.drop_table("ledger_accounts")
    with op.batch_alter_table("seller_orders") as batch:
        batch.drop_column("escrow_release_due_at")
        batch.drop_column("delivered_at")
