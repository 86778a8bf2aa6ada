"""The ledger's tables, which the ledger projector writes (projections/ledger/projector.py):
accounts, transfers, each account's posted entries, and payouts."""

from __future__ import annotations

import sqlalchemy as sa

from projections.schema import GROUPING, MONEY, Id, Timestamp, metadata

ledger_accounts = sa.Table(
    "ledger_accounts",
    metadata,
    sa.Column("account_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("code", sa.String(120), nullable=False),
    sa.Column("shard", sa.Integer, nullable=False),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("limit_kind", sa.String(40), nullable=False),
    sa.Column("debits_pending", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("debits_posted", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("credits_pending", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("credits_posted", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("created_position", sa.BigInteger, nullable=False),
    sa.Index("ix_ledger_accounts_code", "tenant_id", "currency", "code"),
)

ledger_transfers = sa.Table(
    "ledger_transfers",
    metadata,
    sa.Column("transfer_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("transfer_key", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("posted_amount", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("debit_account_id", Id, nullable=False),
    sa.Column("credit_account_id", Id, nullable=False),
    sa.Column("reverses", Id, nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False),
)

# Posted movements only: a pending transfer appears here when (and as far as) it is posted.
ledger_entries = sa.Table(
    "ledger_entries",
    metadata,
    sa.Column("account_id", Id, primary_key=True),
    sa.Column("created_position", sa.BigInteger, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("code", sa.String(120), nullable=False),
    sa.Column("transfer_id", Id, nullable=False),
    sa.Column("side", sa.String(6), nullable=False, info=GROUPING),
    sa.Column("amount", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Index("ix_ledger_entries_code", "tenant_id", "currency", "code", "created_position"),
    # The journal's order, and (covering) the sums of its opening balances.
    sa.Index(
        "ix_ledger_entries_journal",
        *("tenant_id", "created_at", "created_position", "currency", "code", "side", "amount"),
    ),
)

payouts = sa.Table(
    "payouts",
    metadata,
    sa.Column("payout_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("seller_id", Id, nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("receivable_netted", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False),
    sa.Column("failure_reason", sa.String(500), nullable=True),
    sa.Index("ix_payouts_seller", "tenant_id", "seller_id", "created_position"),
)
