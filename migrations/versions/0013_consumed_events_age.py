"""An index on when each consumed event id was recorded, so the scheduler's housekeeping can
delete the ones older than the retention without reading the whole table.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-21
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_consumed_events_age", "consumed_events", ["consumed_at"])


def downgrade() -> None:
    op.drop_index("ix_consumed_events_age", table_name="consumed_events")
