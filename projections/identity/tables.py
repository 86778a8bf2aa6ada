"""The identity tables, which the identity projector writes (projections/identity/projector.py):
tenants and users."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from projections.schema import MONEY, Id, Timestamp, metadata

tenants = sa.Table(
    "tenants",
    metadata,
    sa.Column("tenant_id", Id, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("commission_bps", sa.Integer, nullable=False),
    sa.Column("escrow_hold_days", sa.Integer, nullable=False),
    sa.Column("product_moderation", sa.String(16), nullable=False),
    sa.Column("hold_timeout_s", sa.Integer, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False, unique=True),
    sa.Column("min_payout_amount", sa.BigInteger, nullable=False, server_default="0", info=MONEY),
    sa.Column("payout_interval", sa.String(8), nullable=True),
    sa.Column("payout_day", sa.Integer, nullable=True),
    sa.Column("payouts_ran_period", sa.String(10), nullable=True),
    sa.Column("dispute_fee_payer", sa.String(8), nullable=False, server_default="seller"),
    sa.Column("return_window_days", sa.Integer, nullable=False, server_default="30"),
    # Whether commission is taken on shipping too (API.md: free of commission unless set).
    sa.Column("commission_on_shipping", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("seller_signup", sa.Boolean, nullable=False, server_default=sa.true()),
    # The tax table (domain/tax.py `TaxTable.as_record`); null: no rates, prices without tax.
    sa.Column("tax", sa.JSON, nullable=True),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("user_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    # Compared exactly (emails are kept in NFC, lower case): MySQL's default collation would
    # take "cafe" and "café" for one email.
    sa.Column(
        "email",
        sa.String(254).with_variant(mysql.VARCHAR(254, collation="utf8mb4_bin"), "mysql"),
        nullable=False,
    ),
    sa.Column("roles", sa.JSON, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False),
    # Set when the person was erased: their email is gone and their tokens open nothing.
    sa.Column("erased_at", Timestamp, nullable=True),
    # Set when the person showed they read mail sent to the email (User.EmailVerified).
    sa.Column("email_verified_at", Timestamp, nullable=True),
    sa.UniqueConstraint("tenant_id", "email", name="uq_users_tenant_email"),
    sa.Index("ix_users_tenant_position", "tenant_id", "created_position"),
)
