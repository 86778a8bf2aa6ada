"""The notifications consumer's tables (projections/notifications/consumer.py), which no
projector writes: the notifications it made, and the ids of the published events each consumer
applied."""

from __future__ import annotations

import sqlalchemy as sa

from projections.schema import Id, Timestamp, metadata

notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("notification_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("event_id", Id, nullable=False),
    sa.Column("event_type", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    # "buyer" (a user id) or "seller" (a seller id): the email port finds where to write.
    sa.Column("recipient_role", sa.String(16), nullable=False),
    sa.Column("recipient_id", Id, nullable=False),
    # What it is about: an order (and one seller's part of it), or a product.
    sa.Column("order_id", Id, nullable=True),
    sa.Column("seller_order_id", Id, nullable=True),
    sa.Column("product_id", Id, nullable=True),
    sa.Column("amount_minor", sa.BigInteger, nullable=True),
    sa.Column("currency", sa.String(3), nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    # Set once the email port took the message; unset ones are sent again after a crash.
    sa.Column("emailed_at", Timestamp, nullable=True),
    sa.Index("ix_notifications_recipient", "tenant_id", "recipient_id", "created_at"),
    sa.Index("ix_notifications_unsent", "emailed_at", "created_at"),
)

# Not a read model: what consumers of the published events made of them. Each consumer
# records the CloudEvents ids it has applied, in the same transaction as its effects, so an event
# delivered twice has one effect.
consumed_events = sa.Table(
    "consumed_events",
    metadata,
    sa.Column("consumer", sa.String(100), primary_key=True),
    sa.Column("event_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("event_type", sa.String(64), nullable=False),
    sa.Column("consumed_at", Timestamp, nullable=False),
    sa.Index("ix_consumed_events_age", "consumed_at"),
)
