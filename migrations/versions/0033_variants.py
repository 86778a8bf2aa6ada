"""Variants (issue 28, point 2): each product's variants, with their price and stock; on hand
per variant and warehouse; the product's own price beside the lowest of its variants', and what
buyers can take of it; the variants a review's author bought. Every product listed before gets
its one variant, under its own id, with its price and stock. And emails compared exactly on
MySQL (its default collation takes "cafe" and "café" for one, so a second account failed to
project).

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None

Id = sa.String(36)


def upgrade() -> None:
    op.create_table(
        "product_variants",
        sa.Column("variant_id", Id, primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("product_id", Id, nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("options", sa.JSON, nullable=False),
        sa.Column("own_price_amount", sa.BigInteger, nullable=True),
        sa.Column("price_amount", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("retired", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("on_hand", sa.BigInteger, nullable=False),
        sa.Column("held", sa.BigInteger, nullable=False),
        sa.Column("sold", sa.BigInteger, nullable=False),
        sa.Column("created_position", sa.BigInteger, nullable=False),
    )
    op.create_index(
        "ix_product_variants_product", "product_variants", ["product_id", "created_position"]
    )
    op.add_column(
        "products",
        sa.Column("base_price_amount", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.add_column(
        "products", sa.Column("available", sa.BigInteger, nullable=False, server_default="0")
    )
    op.add_column("products", sa.Column("options", sa.JSON, nullable=True))
    op.execute(
        "UPDATE products SET base_price_amount = price_amount, available = "
        "CASE WHEN on_hand - held - sold > 0 THEN on_hand - held - sold ELSE 0 END"
    )
    op.execute(
        "INSERT INTO product_variants (variant_id, tenant_id, product_id, sku, options, "
        "own_price_amount, price_amount, currency, retired, on_hand, held, sold, "
        "created_position) SELECT product_id, tenant_id, product_id, sku, '{}', NULL, "
        "price_amount, currency, FALSE, on_hand, held, sold, created_position FROM products"
    )
    _stock_levels(
        [
            sa.Column("variant_id", Id, primary_key=True),
            sa.Column("warehouse", sa.String(64), primary_key=True),
            sa.Column("product_id", Id, nullable=False),
            sa.Column("tenant_id", Id, nullable=False),
            sa.Column("on_hand", sa.BigInteger, nullable=False),
        ],
        "variant_id, warehouse, product_id, tenant_id, on_hand",
        "product_id, warehouse, product_id, tenant_id, on_hand",
    )
    op.add_column("reviews", sa.Column("variants", sa.JSON, nullable=True))
    if op.get_bind().dialect.name == "mysql":
        op.execute("ALTER TABLE users MODIFY email VARCHAR(254) COLLATE utf8mb4_bin NOT NULL")


def downgrade() -> None:
    if op.get_bind().dialect.name == "mysql":
        op.execute(
            "ALTER TABLE users MODIFY email VARCHAR(254) COLLATE utf8mb4_general_ci NOT NULL"
        )
    op.drop_column("reviews", "variants")
    # Stock of variants of their own has no place in a product-only table: it goes.
    op.execute("DELETE FROM stock_levels WHERE variant_id <> product_id")
    _stock_levels(
        [
            sa.Column("product_id", Id, primary_key=True),
            sa.Column("warehouse", sa.String(64), primary_key=True),
            sa.Column("tenant_id", Id, nullable=False),
            sa.Column("on_hand", sa.BigInteger, nullable=False),
        ],
        "product_id, warehouse, tenant_id, on_hand",
        "product_id, warehouse, tenant_id, on_hand",
    )
    op.execute("UPDATE products SET price_amount = base_price_amount")
    with op.batch_alter_table("products") as batch:
        batch.drop_column("available")
        batch.drop_column("base_price_amount")
        batch.drop_column("options")
    op.drop_index("ix_product_variants_product", "product_variants")
    op.drop_table("product_variants")


def _stock_levels(columns: list[sa.Column[object]], into: str, select: str) -> None:
    """Remakes stock_levels with another key, copying its rows (a primary key cannot be
    changed in place on SQLite)."""
    op.create_table("stock_levels_next", *columns)
    op.execute(f"INSERT INTO stock_levels_next ({into}) SELECT {select} FROM stock_levels")  # noqa: S608
    op.drop_table("stock_levels")
    op.rename_table("stock_levels_next", "stock_levels")
