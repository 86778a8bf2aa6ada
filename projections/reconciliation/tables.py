"""Reconciliation's tables, which its projector writes (projections/reconciliation/projector.py):
the links between Velora's ids and the provider's, and each recorded reconciliation."""

from __future__ import annotations

import sqlalchemy as sa

from projections.schema import Id, Timestamp, metadata

# A subject (Velora's id, or the provider's) and a reference it leads to, both `kind:id`
# (domain/reconciliation.py: Links). Provider ids are unique at the provider, Velora's are UUIDs,
# so a subject names one tenant's record; the row says which.
reconciliation_links = sa.Table(
    "reconciliation_links",
    metadata,
    sa.Column("subject", sa.String(255), primary_key=True),
    sa.Column("ref", sa.String(255), primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False),
)

reconciliations = sa.Table(
    "reconciliations",
    metadata,
    sa.Column("reconciliation_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("matched_count", sa.Integer, nullable=False),
    sa.Column("unmatched_count", sa.Integer, nullable=False),
    sa.Column("processor_fees_amount", sa.BigInteger, nullable=False),
    sa.Column("result", sa.JSON, nullable=False),
    sa.Column("completed_at", Timestamp, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False),
    sa.Index("ix_reconciliations_day", "tenant_id", "day", "currency", unique=True),
)
