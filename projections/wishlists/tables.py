"""The wishlists table, which the wishlists projector writes
(projections/wishlists/projector.py)."""

from __future__ import annotations

import sqlalchemy as sa

from projections.schema import Id, Timestamp, metadata

wishlist_items = sa.Table(
    "wishlist_items",
    metadata,
    sa.Column("buyer_id", Id, primary_key=True),
    sa.Column("product_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("added_at", Timestamp, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False),
    sa.Index("ix_wishlist_items_buyer", "tenant_id", "buyer_id", "created_position"),
    sa.Index("ix_wishlist_items_product", "tenant_id", "product_id"),
)
