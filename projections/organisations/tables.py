"""The organisations tables, which the organisations projector writes
(projections/organisations/projector.py). An organisation's row belongs to the platform (tenant
zero), as the organisation does; each marketplace it joined is a row of that marketplace's tenant,
so a tenant's scope reaches only its own."""

from __future__ import annotations

import sqlalchemy as sa

from projections.schema import Id, Timestamp, metadata

organisations = sa.Table(
    "organisations",
    metadata,
    sa.Column("organisation_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("owner_id", Id, nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False),
)

organisation_marketplaces = sa.Table(
    "organisation_marketplaces",
    metadata,
    sa.Column("organisation_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, primary_key=True),
    sa.Column("seller_id", Id, nullable=False),
    sa.Column("joined_at", Timestamp, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False),
    sa.Index("ix_organisation_marketplaces_seller", "seller_id"),
)

# Its master catalog (domain/master_catalog.py): each master product, on the platform, and each
# marketplace it is listed on, as which product there.
master_products = sa.Table(
    "master_products",
    metadata,
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
    # As a product's images (projections/catalog/tables.py), in the order listings show them.
    sa.Column("images", sa.JSON, nullable=True),
    sa.Index("ix_master_products_organisation", "organisation_id", "created_position"),
)

master_listings = sa.Table(
    "master_listings",
    metadata,
    sa.Column("master_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, primary_key=True),
    sa.Column("product_id", Id, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False),
)
