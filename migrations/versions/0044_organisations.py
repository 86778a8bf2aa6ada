"""Seller Pro organisations (issue 33): each organisation and the marketplaces it applied to,
which the organisations projector writes (new, so it starts from the beginning of the log); and
their master catalogs, with the marketplaces each master is listed on; and in the catalog
model, the organisations' one stock of each master variant and the listing
variants that sell from it (no event before this revision makes any).

Revision ID: 0044
Revises: 0043
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0044"
down_revision = "0043"
branch_labels = None
depends_on = None

Id = sa.String(36)
Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("organisation_id", Id, primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("owner_id", Id, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("created_position", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "organisation_marketplaces",
        sa.Column("organisation_id", Id, primary_key=True),
        sa.Column("tenant_id", Id, primary_key=True),
        sa.Column("seller_id", Id, nullable=False),
        sa.Column("joined_at", Timestamp, nullable=False),
        sa.Column("created_position", sa.BigInteger, nullable=False),
    )
    op.create_index(
        "ix_organisation_marketplaces_seller", "organisation_marketplaces", ["seller_id"]
    )

    op.create_table(
        "master_products",
        sa.Column("product_id", Id, primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("organisation_id", Id, nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("category", sa.String(100), nullable=False),
        sa.Column("attributes", sa.JSON, nullable=False),
        sa.Column("options", sa.JSON, nullable=False),
        sa.Column("variants", sa.JSON, nullable=False),
        sa.Column("created_position", sa.BigInteger, nullable=False),
    )
    op.create_index(
        "ix_master_products_organisation",
        "master_products",
        ["organisation_id", "created_position"],
    )
    op.create_table(
        "master_listings",
        sa.Column("master_id", Id, primary_key=True),
        sa.Column("tenant_id", Id, primary_key=True),
        sa.Column("product_id", Id, nullable=False),
        sa.Column("created_position", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "organisation_stocks",
        sa.Column("variant_id", Id, primary_key=True),
        sa.Column("product_id", Id, nullable=False),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("on_hand", sa.BigInteger, nullable=False),
        sa.Column("held", sa.BigInteger, nullable=False),
        sa.Column("sold", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "stock_shares",
        sa.Column("variant_id", Id, primary_key=True),
        sa.Column("product_id", Id, nullable=False),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("stock_variant_id", Id, nullable=False),
        sa.Column("master_id", Id, nullable=False),
    )
    op.create_index("ix_stock_shares_stock", "stock_shares", ["stock_variant_id"])
    op.create_index("ix_stock_shares_master", "stock_shares", ["master_id"])


def downgrade() -> None:
    op.drop_index("ix_stock_shares_master", table_name="stock_shares")
    op.drop_index("ix_stock_shares_stock", table_name="stock_shares")
    op.drop_table("stock_shares")
    op.drop_table("organisation_stocks")
    op.drop_table("master_listings")
    op.drop_index("ix_master_products_organisation", table_name="master_products")
    op.drop_table("master_products")
    op.drop_index("ix_organisation_marketplaces_seller", table_name="organisation_marketplaces")
    op.drop_table("organisation_marketplaces")
    op.drop_table("organisations")
