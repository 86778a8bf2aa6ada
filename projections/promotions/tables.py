"""The promotions table, which the promotions projector (projections/promotions/projector.py)
writes."""

from __future__ import annotations

import sqlalchemy as sa

from projections.schema import Id, Timestamp, metadata

promotions = sa.Table(
    "promotions",
    metadata,
    sa.Column("promotion_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("code", sa.String(40), nullable=True),
    sa.Column("seller_id", Id, nullable=True),
    sa.Column("funded_by", sa.String(8), nullable=False),
    # domain/promotions.py `Terms.as_record`
    sa.Column("terms", sa.JSON, nullable=False),
    sa.Column("uses", sa.Integer, nullable=False, server_default="0"),
    sa.Column("ended_at", Timestamp, nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False),
    sa.Index("ix_promotions_tenant", "tenant_id", "created_position"),
)
