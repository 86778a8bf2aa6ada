"""The categories table, which the categories projector writes
(projections/categories/projector.py)."""

from __future__ import annotations

import sqlalchemy as sa

from projections.schema import Id, Timestamp, metadata

categories = sa.Table(
    "categories",
    metadata,
    sa.Column("category_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("parent_id", Id, nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False),
    sa.Index("ix_categories_tenant", "tenant_id", "created_position"),
)
