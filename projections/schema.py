"""The one MetaData every read-model table is defined on (SQLAlchemy Core), the column types and
marks they share, and the tables the read store keeps for itself: each projector's tracking row
and quarantined tenants, and the API's durable records.

Each read model's tables are defined beside the projector that writes them; projections/tables.py
names them all. Alembic migrations in migrations/ create them, and a test checks that the
migrations and these definitions agree. Every read-model row carries tenant_id."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

metadata = sa.MetaData()

# Microsecond timestamps on MySQL/MariaDB too (their DATETIME defaults to whole seconds).
Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
Id = sa.String(36)

# Column info read by a rebuild's checksums: money columns are summed per account, per seller,
# or per tenant and currency; a grouping column splits those sums further.
MONEY = {"money": True}
GROUPING = {"grouping": True}

# What the names of a rebuild's shadow tables and tracking rows end with (projections/rebuild.py).
SHADOW_SUFFIX = "__rebuild"

projection_tracking = sa.Table(
    "projection_tracking",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    # Set when the projector stopped on an event it could not apply; cleared when it gets past.
    sa.Column("failed_position", sa.BigInteger, nullable=True),
    sa.Column("failure", sa.Text, nullable=True),
    # Set while a rebuild swaps this projector's tables: the live runner must not move meanwhile.
    sa.Column("paused_by", sa.String(100), nullable=True),
)

# A tenant whose events one projector could not apply: that projector passes over the tenant's
# events from `position` on, so every other tenant's rows keep moving, until an operator replays
# them after a fix (`velora projections replay`). Projectors that read this one's model
# quarantine the same tenant too, each under its own row.
projection_quarantine = sa.Table(
    "projection_quarantine",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("tenant_id", Id, primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),  # the first event passed over
    sa.Column("topic", sa.String(255), nullable=False),
    sa.Column("originator_id", Id, nullable=False),
    sa.Column("failure", sa.Text, nullable=False),
    sa.Column("quarantined_at", Timestamp, nullable=False),
)

# Not a read model: the API's durable record of idempotent requests (kept at least 24 hours).
idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("scope", sa.String(100), primary_key=True),
    sa.Column("idem_key", sa.String(255), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("response_headers", sa.JSON, nullable=True),
    sa.Column("response_body", sa.LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("expires_at", Timestamp, nullable=False),
    # The API process (api_processes) running the request while the key is in flight.
    sa.Column("owner", sa.String(32), nullable=True),
    sa.Index("ix_idempotency_expires", "expires_at"),
)

# Every running API process beats here every few seconds: a process that stopped beating
# crashed, and the requests it was running can no longer finish.
api_processes = sa.Table(
    "api_processes",
    metadata,
    sa.Column("process_id", sa.String(32), primary_key=True),
    sa.Column("seen_at", Timestamp, nullable=False),
)
