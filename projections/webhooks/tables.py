"""The webhooks tables: the endpoints (a read model, which the endpoints projector writes and a
rebuild may swap) and the deliveries (not a read model: the outbox projector makes them and the
dispatcher records each attempt on them, so no rebuild touches them)."""

from __future__ import annotations

import sqlalchemy as sa

from projections.schema import Id, Timestamp, metadata

webhook_endpoints = sa.Table(
    "webhook_endpoints",
    metadata,
    sa.Column("endpoint_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("url", sa.String(2000), nullable=False),
    sa.Column("events", sa.JSON, nullable=False),
    sa.Column("description", sa.String(500), nullable=False),
    # Sealed (eventstore/sealing.py): only the deployment's signing key opens it.
    sa.Column("sealed_secret", sa.String(200), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False),
    sa.Column("deleted_at", Timestamp, nullable=True),
    sa.Column("deleted_position", sa.BigInteger, nullable=True),
    sa.Index("ix_webhook_endpoints_tenant", "tenant_id", "created_position"),
)

webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    # uuid5 of the endpoint and the CloudEvent's id: making it again makes nothing.
    sa.Column("delivery_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("endpoint_id", Id, nullable=False),
    sa.Column("event_id", Id, nullable=False),
    sa.Column("event_type", sa.String(64), nullable=False),
    # The aggregate the event is about (the CloudEvent's subject): its deliveries go in order.
    sa.Column("subject", Id, nullable=False),
    # The order of the endpoint's deliveries: the event's log position times 64 + its index among
    # the CloudEvents that one log event gives.
    sa.Column("created_position", sa.BigInteger, nullable=False),
    sa.Column("body", sa.Text, nullable=False),  # the CloudEvent's JSON, the same on every attempt
    sa.Column("status", sa.String(16), nullable=False),  # pending | delivered | failing | dead
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_status_code", sa.Integer, nullable=True),
    sa.Column("last_error", sa.String(300), nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("first_attempt_at", Timestamp, nullable=True),
    sa.Column("next_attempt_at", Timestamp, nullable=True),  # none once delivered or dead
    sa.Column("delivered_at", Timestamp, nullable=True),
    # Which dispatcher is sending it, and until when it may: a dispatcher that died mid-batch
    # leaves its lease to run out, and the delivery is sent again.
    sa.Column("leased_by", sa.String(64), nullable=True),
    sa.Column("lease_until", Timestamp, nullable=True),
    sa.Index("ix_webhook_deliveries_endpoint", "endpoint_id", "created_position"),
    sa.Index("ix_webhook_deliveries_subject", "endpoint_id", "subject", "created_position"),
    sa.Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
)
