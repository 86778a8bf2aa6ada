"""The profiles tables, which the profiles projector writes (projections/profiles/projector.py):
each person's profile and their saved addresses."""

from __future__ import annotations

import sqlalchemy as sa

from projections.schema import Id, Timestamp, metadata

profiles = sa.Table(
    "profiles",
    metadata,
    sa.Column("user_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    # Personal: redacted to a marker naming the person once they are erased.
    sa.Column("display_name", sa.String(100), nullable=True),
    sa.Column("phone", sa.String(64), nullable=True),
    sa.Column("locale", sa.String(64), nullable=True),
    sa.Column("marketing_opt_in", sa.Boolean, nullable=False),
    # When the person last gave or withdrew their consent (the proof GDPR asks for).
    sa.Column("marketing_changed_at", Timestamp, nullable=True),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False),
)

addresses = sa.Table(
    "addresses",
    metadata,
    sa.Column("address_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("user_id", Id, nullable=False),
    # Personal: name, line1, line2, city, region, postal_code, country; redacted on erasure.
    sa.Column("address", sa.JSON, nullable=False),
    sa.Column("is_default", sa.Boolean, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False),
    sa.Index("ix_addresses_user", "tenant_id", "user_id", "created_position"),
)


# What a profile reads as before its person has changed anything.
BLANK = {"display_name": None, "phone": None, "locale": None, "marketing_opt_in": False}
