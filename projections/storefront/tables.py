"""The publishable keys table, which the storefront projector writes
(projections/storefront/projector.py)."""

from __future__ import annotations

import sqlalchemy as sa

from projections.schema import Id, Timestamp, metadata

# A marketplace's publishable keys as its admins list them: never the key or its digest (those
# stay on the write side, where guests' keys are checked).
publishable_keys = sa.Table(
    "publishable_keys",
    metadata,
    sa.Column("key_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("hint", sa.String(8), nullable=False),  # the key's last characters
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False),
    sa.Column("deleted_at", Timestamp, nullable=True),
    sa.Index("ix_publishable_keys_tenant", "tenant_id", "created_position"),
)
