"""Ledger kinds renamed when "hold" was kept for stock (issue 29, one word per idea): escrow's
pending transfers are `escrow_pending` (were `escrow_hold`), a dispute's share moved into the
seller's dispute reserve is `dispute_reserve` (was `dispute_hold`), and given back after a won
dispute `dispute_reserve_returned` (was `dispute_release`). The log keeps the old names in the
transfers it stored, which load renamed (domain/ledger.py `Transfer.Made.upcast_v1_v2`); this
renames them in the transfers read model, so it agrees with a rebuild.

Revision ID: 0040
Revises: 0039
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0040"
down_revision = "0039"
branch_labels = None
depends_on = None

# Written out, not imported: a migration says what it did on the day it was written.
RENAMED = {
    "escrow_hold": "escrow_pending",
    "dispute_hold": "dispute_reserve",
    "dispute_release": "dispute_reserve_returned",
}

transfers = sa.table("ledger_transfers", sa.column("kind", sa.String))


def _rename(names: dict[str, str]) -> None:
    for old, new in names.items():
        op.execute(transfers.update().where(transfers.c.kind == old).values(kind=new))


def upgrade() -> None:
    _rename(RENAMED)


def downgrade() -> None:
    _rename({new: old for old, new in RENAMED.items()})
